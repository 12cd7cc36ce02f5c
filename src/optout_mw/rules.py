"""Tag rules: which third-party URLs and inline scripts count as trackers.

Interface used by the rewriter (keep stable):

* ``Action`` - what to do with a matching element (``strip`` or ``block``).
* ``Rule`` - a named rule: hosts, optional path prefixes, inline markers, action.
* ``RuleSet(rules)`` - compiled matcher with
  ``match_url(url, base_url=None) -> Rule | None`` (``url`` is the attribute value after
  character references were decoded; ``base_url`` is the document's ``<base href>`` if any)
  and ``match_inline(text) -> Rule | None`` (the text of an inline script or of a
  ``<noscript>`` block).

Matching semantics (see ``docs/rules.md``):

* URL hosts are extracted as a browser does (:mod:`optout_mw.urls`). A rule host matches
  itself and every subdomain, on label boundaries only. Trailing dots are ignored.
* Path prefixes match whole path segments (``/tr`` matches ``/tr``, ``/tr/`` and
  ``/tr?id=1``, not ``/track``), after dot segments are resolved and percent-encoded
  unreserved characters (letters, digits, ``-._~``) are decoded; they are case-sensitive.
* When several rules match a URL, the first rule in the set wins.
* Inline markers are searched in one compiled regular expression; the rule whose marker
  occurs earliest in the text wins.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

from optout_mw._cache import MISSING, BoundedCache
from optout_mw.errors import ConfigError
from optout_mw.urls import URLParts, normalize_host, parse_url, resolve_url

__all__ = ["Action", "Rule", "RuleSet", "is_host_marker"]


class Action(StrEnum):
    """What the rewriter does with an element that matches a rule."""

    STRIP = "strip"
    BLOCK = "block"


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    """One tracker rule.

    :param name: stable identifier, shown in findings and logs and written into blocked
        elements.
    :param hosts: hostnames; each matches itself and its subdomains on label boundaries.
    :param path_prefixes: when given, only URLs whose path starts with one of them (on a
        segment boundary) match the ``hosts``.
    :param host_paths: ``host/path`` entries: the host (and its subdomains) matches only
        under that path. For vendors whose tracking endpoint shares a host with content a
        page may legitimately embed (``facebook.com/tr``).
    :param inline_markers: code fragments that identify the vendor's inline snippet.
    :param action: ``strip`` removes the element, ``block`` neutralises it in place.
    :param description: one line for humans.
    """

    name: str
    hosts: tuple[str, ...] = ()
    path_prefixes: tuple[str, ...] = ()
    inline_markers: tuple[str, ...] = ()
    action: Action = Action.STRIP
    description: str = field(default="", compare=False)
    host_paths: tuple[str, ...] = ()


# --- helpers shared by URL and inline matching -----------------------------------------

_UNRESERVED_ESCAPE: Final = re.compile(r"%(2[dDeE]|3[0-9]|[46][1-9a-fA-F]|[57][0-9aA]|5[fF]|7[eE])")
_HOST_MARKER: Final = re.compile(r"[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+(?:/\S*)?")
_IDENT_CHARS: Final = "A-Za-z0-9_$"
# Punctuation in code markers tolerates surrounding whitespace (``fbq ( 'init'`` is the
# same call as ``fbq('init'``); quotes match any JavaScript quote.
_CODE_PUNCT: Final = frozenset("().,=:;[]{}")
_QUOTES: Final = frozenset("'\"`")
_CACHE_MAX: Final = 4096
_CACHEABLE_URL_LEN: Final = 2048
_NEEDS_PATH: Final = -1  # in the host cache: the path decides
# Inline texts remembered, at most _INLINE_CACHE_MAX of at most _CACHEABLE_INLINE_LEN
# characters each (4 MiB of text at worst).
_INLINE_CACHE_MAX: Final = 1024
_CACHEABLE_INLINE_LEN: Final = 4096


def _decode_unreserved(path: str) -> str:
    """Decode ``%XX`` escapes of unreserved characters, which servers treat as equal."""
    if "%" not in path:
        return path
    return _UNRESERVED_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), path)


def _path_matches(path: str, prefixes: tuple[str, ...]) -> bool:
    for prefix in prefixes:
        if path.startswith(prefix) and (
            len(path) == len(prefix) or prefix.endswith("/") or path[len(prefix)] == "/"
        ):
            return True
    return False


def is_host_marker(marker: str) -> bool:
    """Whether an inline marker is matched as a hostname (``a.b[/path]``) rather than code."""
    return _HOST_MARKER.fullmatch(marker) is not None


def _rule_host(raw: str) -> str | None:
    host = raw.strip()
    if host.startswith("*."):
        host = host[2:]  # subdomains always match; the wildcard adds nothing
    normalized = normalize_host(host)
    if normalized is None:
        return None
    normalized = normalized.rstrip(".")
    return normalized or None


def _rule_path(raw: str) -> str:
    path = raw if raw.startswith("/") else "/" + raw
    return _decode_unreserved(path)


# --- inline matching ---------------------------------------------------------------------
#
# Python's regular expressions try every alternative at every position, so one big
# alternation of markers that start with letters costs tens of nanoseconds per character.
# Instead:
#
# * URLs in the text are found with one expression that starts with a literal "/" (the
#   engine jumps between slashes); their hosts go through the same suffix index as
#   match_url, once per distinct host.
# * Each marker gets its own expression that starts with the marker's leading literal
#   (so the engine's fast substring search applies), with the start boundary asserted by
#   a lookbehind placed after that literal. It only runs when the marker's longest literal
#   piece occurs in the text, which ``in`` checks at memory speed.

_URL_IN_TEXT: Final = re.compile(
    r"/\\?/(?:[^/\\\s\"'<>@?#]*@)?([a-z0-9_.-]+)(?::[0-9]*)?((?:\\?/[a-z0-9_.~%!$&()*+,;=:@-]*)*)"
)


# Character references that can hide a URL's slashes, dots or host letters in markup;
# "&amp;" and "&nbsp;" cannot, so ordinary markup skips the second pass.
_URL_CHAR_REFERENCE: Final = re.compile(r"&(?:#|sol;|colon;|period;|bsol;)", re.IGNORECASE)


def _is_ident(ch: str) -> bool:
    return ch.isascii() and (ch.isalnum() or ch in "_$")


def _code_pieces(marker: str) -> list[tuple[bool, str]]:
    """Split a code marker into ``(is_literal, regex)`` pieces."""
    pieces: list[tuple[bool, str]] = []
    for ch in marker:
        if ch in _QUOTES:
            pieces.append((False, "['\"`]"))
        elif ch in _CODE_PUNCT:
            pieces.append((False, r"\s*" + re.escape(ch) + r"\s*"))
        elif ch.isspace():
            pieces.append((False, r"\s*"))
        else:
            pieces.append((True, re.escape(ch)))
    return pieces


def _longest_literal(marker: str) -> str:
    """The longest run of plain characters in a code marker, for the ``in`` prefilter."""
    runs = re.split(r"[\s'\"`" + re.escape("".join(sorted(_CODE_PUNCT))) + "]+", marker)
    return max(runs, key=len)


def _code_marker_regex(marker: str) -> str:
    pieces = _code_pieces(marker)
    literal_len = 0
    while literal_len < len(pieces) and pieces[literal_len][0]:
        literal_len += 1
    pattern = "".join(p for _, p in pieces[:literal_len])
    if literal_len and _is_ident(marker[0]):
        # The boundary check sits after the leading literal so the search can still use
        # its literal prefix: look back over the literal plus one character.
        pattern += f"(?<![{_IDENT_CHARS}].{{{literal_len}}})"
    pattern += "".join(p for _, p in pieces[literal_len:])
    if _is_ident(marker[-1]):
        pattern += f"(?![{_IDENT_CHARS}])"
    if not literal_len and pieces and marker[0] in _CODE_PUNCT:
        pattern = pattern.removeprefix(r"\s*")
    return pattern


_HOST_END: Final = r"(?![a-z0-9_-]|\.[a-z0-9-])"
_PATH_END: Final = r"(?![a-z0-9_~%-]|\.[a-z0-9])"


def _host_marker_regex(marker: str) -> str:
    host, slash, path = marker.lower().partition("/")
    pattern = re.escape(host) + f"(?<![a-z0-9_$-].{{{len(host)}}})"
    if not slash:
        return pattern + _HOST_END
    # Script text often escapes slashes (JSON, "\/"); accept both.
    pattern += "".join(r"\\?/" if ch == "/" else re.escape(ch) for ch in "/" + path)
    return pattern + (_PATH_END if path[-1:].isalnum() else "")


@dataclass(frozen=True, slots=True)
class _Marker:
    rule_index: int
    core: str  # must occur in the text (lowercased text for host markers)
    pattern: re.Pattern[str]
    host: bool


def _compile_markers(rules: Sequence[Rule]) -> tuple[_Marker, ...]:
    compiled: list[_Marker] = []
    for index, rule in enumerate(rules):
        for marker in rule.inline_markers:
            if not marker:
                continue
            if is_host_marker(marker):
                core = marker.lower().partition("/")[0]
                pattern = re.compile(_host_marker_regex(marker))
                compiled.append(_Marker(index, core, pattern, True))
            else:
                core = _longest_literal(marker)
                pattern = re.compile(_code_marker_regex(marker))
                compiled.append(_Marker(index, core, pattern, False))
    return tuple(compiled)


# --- the rule set -----------------------------------------------------------------------


_Entry = tuple[int, Rule, tuple[str, ...]]


class RuleSet:
    """A compiled, immutable set of rules.

    Construction normalises every host (IDNA, lowercase, no trailing dot, a leading
    ``*.`` dropped) and compiles the host index and the inline-marker expressions once;
    matching is then a handful of dictionary lookups per URL and one or two regular
    expression searches per inline text. Raises :class:`~optout_mw.errors.ConfigError`
    for a host that cannot be a hostname.
    """

    __slots__ = (
        "_base_cache",
        "_by_host",
        "_host_cache",
        "_inline_cache",
        "_markers",
        "_max_labels",
        "_url_cache",
        "rules",
    )

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules: tuple[Rule, ...] = tuple(rules)
        by_host: dict[str, list[_Entry]] = {}
        problems: list[tuple[str, str]] = []
        for index, rule in enumerate(self.rules):
            pairs: list[tuple[str, tuple[str, ...]]] = []
            prefixes = tuple(_rule_path(p) for p in rule.path_prefixes)
            for raw in rule.hosts:
                host = _rule_host(raw)
                if host is None:
                    problems.append((f"rule {rule.name!r}.hosts", f"not a hostname: {raw!r}"))
                    continue
                pairs.append((host, prefixes))
            for raw in rule.host_paths:
                raw_host, slash, raw_path = raw.strip().partition("/")
                host = _rule_host(raw_host)
                if host is None or not slash or not raw_path.strip("/"):
                    problems.append(
                        (f"rule {rule.name!r}.host_paths", f"expected 'host/path', got {raw!r}")
                    )
                    continue
                pairs.append((host, (_rule_path(raw_path),)))
            for host, paths in pairs:
                by_host.setdefault(host, []).append((index, rule, paths))
        if problems:
            raise ConfigError(problems)
        self._by_host = by_host
        self._max_labels = max((h.count(".") + 1 for h in by_host), default=0)
        self._markers = _compile_markers(self.rules)
        self._url_cache: BoundedCache[tuple[str, str | None], Rule | None] = BoundedCache(
            _CACHE_MAX
        )
        self._base_cache: BoundedCache[str, URLParts | None] = BoundedCache(64)
        # Hosts named in inline text: the matching rule's index when no path matters for
        # that host (None for no rule), _NEEDS_PATH when a path restriction may apply.
        self._host_cache: BoundedCache[str, int | None] = BoundedCache(_CACHE_MAX)
        # Inline texts (the same snippets come back in every response): rule index or None.
        self._inline_cache: BoundedCache[str, int | None] = BoundedCache(_INLINE_CACHE_MAX)

    def __bool__(self) -> bool:
        return bool(self.rules)

    def __repr__(self) -> str:
        return f"RuleSet({[r.name for r in self.rules]!r})"

    # -- URLs -------------------------------------------------------------------------

    def match_url(self, url: str, base_url: str | None = None) -> Rule | None:
        """Return the first rule matching the host (and path) ``url`` points to.

        ``url`` is resolved against ``base_url`` as a browser would; a relative URL with
        no absolute base is first-party and never matches. Never raises.
        """
        if not self._by_host:
            return None
        key = (url, base_url)
        try:
            found = self._url_cache.get(key, MISSING)
        except TypeError:  # unhashable garbage from a caller: not a URL
            return None
        if found is not MISSING:
            return found
        result = self._match_url(url, base_url)
        if len(url) <= _CACHEABLE_URL_LEN:
            self._url_cache.put(key, result)
        return result

    def _match_url(self, url: str, base_url: str | None) -> Rule | None:
        # A base that is relative or not http(s) leaves relative URLs first-party.
        parts = resolve_url(url, self._parse_base(base_url) if base_url else None)
        if parts is None:
            return None
        return self.match_host(parts.host, parts.path)

    def _parse_base(self, base_url: str) -> URLParts | None:
        found = self._base_cache.get(base_url, MISSING)
        if found is not MISSING:
            return found
        return self._base_cache.put(base_url, parse_url(base_url))

    def match_host(self, host: str, path: str = "/") -> Rule | None:
        """Match an already-normalised host (as :func:`optout_mw.urls.url_host` returns)."""
        index = self._match_index(host, path)
        return self.rules[index] if index is not None else None

    def _match_index(self, host: str, path: str) -> int | None:
        host = host.rstrip(".")
        if not host or host.startswith("["):
            return None
        labels = host.split(".")
        n = len(labels)
        best: int | None = None
        decoded_path: str | None = None
        by_host = self._by_host
        # Walk the host's suffixes, longest first, no longer than the longest rule host:
        # a few dictionary lookups whatever the number of rules.
        for k in range(min(n, self._max_labels), 0, -1):
            entries = by_host.get(host if k == n else ".".join(labels[n - k :]))
            if not entries:
                continue
            for index, _rule, prefixes in entries:
                if best is not None and index >= best:
                    break  # entries are in rule order
                if prefixes:
                    if decoded_path is None:
                        decoded_path = _decode_unreserved(path)
                    if not _path_matches(decoded_path, prefixes):
                        continue
                best = index
                break
        return best

    # -- inline text ----------------------------------------------------------------------

    def match_inline(self, text: str) -> Rule | None:
        """Return the first rule (in rule order) whose marker occurs in ``text``.

        Code markers match on identifier boundaries (``fbq(`` does not match
        ``myfbq(``), with any whitespace around punctuation and any quote style. Host
        markers, and every rule host appearing as the host of a URL in the text (``//host``
        or ``\\/\\/host``, honouring path restrictions), match on label boundaries and
        case-insensitively. Text with numeric character references (or ``&sol;``,
        ``&colon;``, ``&period;``), as a ``<noscript>`` block may have, has its URLs
        checked again after decoding. Never raises.
        """
        if not text or not self.rules:
            return None
        cache = self._inline_cache
        cacheable = type(text) is str and len(text) <= _CACHEABLE_INLINE_LEN
        if cacheable:
            known = cache.get(text, MISSING)
            if known is not MISSING:
                return self.rules[known] if known is not None else None
        index = self._match_inline(text)
        if cacheable:
            cache.put(text, index)
        return self.rules[index] if index is not None else None

    def _match_inline(self, text: str) -> int | None:
        lowered = text.lower()
        best = self._url_hits(lowered)
        if best is None and "&" in text and _URL_CHAR_REFERENCE.search(text) is not None:
            best = self._url_hits(html.unescape(text).lower())
        for marker in self._markers:
            if best is not None and marker.rule_index >= best:
                break  # markers are in rule order
            haystack = lowered if marker.host else text
            if marker.core in haystack and marker.pattern.search(haystack) is not None:
                best = marker.rule_index
                break
        return best

    def _url_hits(self, lowered: str) -> int | None:
        """Index of the first rule whose host (and path) is named by a URL in the text."""
        if not self._by_host or "/" not in lowered:
            return None
        paths_by_host: dict[str, list[str]] = {}
        for host, path in _URL_IN_TEXT.findall(lowered):
            paths_by_host.setdefault(host, []).append(path)
        best: int | None = None
        cache = self._host_cache
        for host, paths in paths_by_host.items():
            # Most hosts match nothing whatever the path: decide that once per host.
            known = cache.get(host, MISSING)
            if known is MISSING:
                known = cache.put(host, _NEEDS_PATH if self._host_needs_path(host)
                                  else self._match_index(host, "/"))
            if known != _NEEDS_PATH:
                if known is not None:
                    best = known if best is None else min(best, known)
                continue
            for path in dict.fromkeys(paths):
                index = self._match_index(host, path.replace("\\/", "/") or "/")
                if index is not None:
                    best = index if best is None else min(best, index)
                    break
        return best

    def _host_needs_path(self, host: str) -> bool:
        labels = host.rstrip(".").split(".")
        n = len(labels)
        for k in range(min(n, self._max_labels), 0, -1):
            entries = self._by_host.get(".".join(labels[n - k :]))
            if entries and any(entry[2] for entry in entries):
                return True
        return False
