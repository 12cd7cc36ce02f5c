"""Build the run-time guard's JavaScript for one rule set.

The matcher in ``guard.js`` restates :class:`~optout_mw.rules.RuleSet`'s semantics (host
suffixes on label boundaries, whole-segment path prefixes after decoding unreserved
escapes, code and host markers, rule hosts named by URLs in script text). What it needs
from the rule set is computed here from the public rule data, in rule order, and handed
over as JSON; the table tests run the same inputs through both and demand the same rule.
"""

from __future__ import annotations

import json
import re
from importlib import resources
from typing import Final, TypedDict

from optout_mw.errors import ConfigError
from optout_mw.rules import RuleSet, is_host_marker
from optout_mw.urls import normalize_host

__all__ = ["DEFAULT_REPORT_PATH", "GuardData", "build_guard", "guard_data", "guard_template"]

#: Where the guard sends its once-per-page report unless told otherwise.
DEFAULT_REPORT_PATH: Final = "/privacy/csp-report"

_PLACEHOLDER: Final = "__DATA__"

# The characters Python's ``\s`` matches in a str pattern (``re`` with Unicode). The rule
# set's marker expressions use ``\s``, and JavaScript's differs (it has U+FEFF, lacks
# U+001C-U+001F and U+0085), so the guard spells the class out: in the data, \x01 stands
# for it and \x02 for the identifier characters (guard.js expands both), which keeps the
# data small. Control characters of a marker itself are written as \xNN escapes, so the
# two placeholders cannot be confused with marker text.
PY_WHITESPACE: Final = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680"
    + "".join(chr(c) for c in range(0x2000, 0x200B))
    + "\u2028\u2029\u202f\u205f\u3000"
)
_WS: Final = "\x01"
_IDENT_CLASS: Final = "\x02"
_JS_SPECIAL: Final = frozenset("\\^$.|?*+()[]{}/")
# The same sets as the rule set's code markers (rules.py).
_CODE_PUNCT: Final = frozenset("().,=:;[]{}")
_QUOTES: Final = frozenset("'\"`")
_PREFIX_FORM: Final = re.compile(r"[a-z][a-z0-9-]*-")
_PATH_FORM: Final = re.compile(r"/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*")


def _compact(source: str) -> str:
    """Drop comment lines and indentation: guard.js is written so that this is safe (no
    line but a comment starts with ``//``, no statement depends on a line break)."""
    lines = (line.strip() for line in source.splitlines())
    return "\n".join(line for line in lines if line and not line.startswith("//"))


def guard_template() -> str:
    """The guard's code with ``__DATA__`` where the rules go (compacted ``guard.js``)."""
    return _TEMPLATE


_TEMPLATE: Final = _compact(
    resources.files(__package__).joinpath("guard.js").read_text(encoding="utf-8")
)


def _js_escape(text: str) -> str:
    return "".join(
        "\\" + ch if ch in _JS_SPECIAL else f"\\x{ord(ch):02x}" if ch < " " else ch
        for ch in text
    )


def _is_ident(ch: str) -> bool:
    return ch.isascii() and (ch.isalnum() or ch in "_$")


def _code_marker_source(marker: str) -> str:
    """The JavaScript expression of a code marker: RuleSet's, with the start boundary as a
    consumed character (JavaScript's lookbehind is not ES5)."""
    pieces: list[tuple[bool, str]] = []
    for ch in marker:
        if ch in _QUOTES:
            pieces.append((False, "['\"`]"))
        elif ch in _CODE_PUNCT:
            pieces.append((False, _WS + "*" + _js_escape(ch) + _WS + "*"))
        elif ch.isspace():
            pieces.append((False, _WS + "*"))
        else:
            pieces.append((True, _js_escape(ch)))
    leading_literal = bool(pieces) and pieces[0][0]
    source = "".join(piece for _, piece in pieces)
    if not leading_literal and marker[0] in _CODE_PUNCT:
        source = source.removeprefix(_WS + "*")
    if leading_literal and _is_ident(marker[0]):
        source = f"(?:^|[^{_IDENT_CLASS}])" + source
    if _is_ident(marker[-1]):
        source += f"(?![{_IDENT_CLASS}])"
    return source


def _host_marker_source(marker: str) -> str:
    """A host marker (``host[/path]``), matched on lowercased text on label boundaries."""
    host, slash, path = marker.lower().partition("/")
    source = "(?:^|[^a-z0-9_$-])" + _js_escape(host)
    if not slash:
        return source + r"(?![a-z0-9_-]|\.[a-z0-9-])"
    source += "".join(r"\\?\/" if ch == "/" else _js_escape(ch) for ch in "/" + path)
    return source + (r"(?![a-z0-9_~%-]|\.[a-z0-9])" if path[-1:].isalnum() else "")


def _rule_host(raw: str) -> str | None:
    # As RuleSet: a leading "*." adds nothing (subdomains always match), no trailing dot.
    host = raw.strip()
    if host.startswith("*."):
        host = host[2:]
    normalized = normalize_host(host)
    return normalized.rstrip(".") or None if normalized is not None else None


def _rule_path(raw: str) -> str:
    return raw if raw.startswith("/") else "/" + raw


class GuardData(TypedDict):
    """What the guard's matcher needs of a rule set (JSON arrays in the script)."""

    #: (host, path prefixes or ``0`` for any path, rule index), in rule order.
    h: list[tuple[str, list[str] | int, int]]
    #: Rule names, by index.
    r: list[str]
    #: (expression, ``1`` to match lowercased text, rule index) for the inline markers.
    m: list[tuple[str, int, int]]


def guard_data(rules: RuleSet) -> GuardData:
    """What the guard's matcher needs of ``rules``, from their public data."""
    hosts: list[tuple[str, list[str] | int, int]] = []
    markers: list[tuple[str, int, int]] = []
    for index, rule in enumerate(rules.rules):
        prefixes: list[str] | int = [_rule_path(p) for p in rule.path_prefixes] or 0
        for raw in rule.hosts:
            host = _rule_host(raw)
            if host is not None:
                hosts.append((host, prefixes, index))
        for raw in rule.host_paths:
            raw_host, _, raw_path = raw.strip().partition("/")
            host = _rule_host(raw_host)
            if host is not None and raw_path.strip("/"):
                hosts.append((host, [_rule_path(raw_path)], index))
        for marker in rule.inline_markers:
            if not marker:
                continue
            if is_host_marker(marker):
                markers.append((_host_marker_source(marker), 1, index))
            else:
                markers.append((_code_marker_source(marker), 0, index))
    return {"h": hosts, "r": [rule.name for rule in rules.rules], "m": markers}


def _json_for_script(value: object) -> str:
    # No raw "<" (so no "</script" or "<!--") and no raw U+2028/U+2029 in the script text.
    return json.dumps(value, separators=(",", ":"), ensure_ascii=True).replace("<", "\\u003c")


def build_guard(
    rules: RuleSet,
    *,
    report_path: str | None = DEFAULT_REPORT_PATH,
    attr_prefix: str = "data-optout-",
) -> str:
    """The guard's JavaScript (the text of an inline script, no tag) for ``rules``.

    The same rules give the same text, byte for byte, so one CSP hash serves a
    configuration. :param report_path: the same-origin path the once-per-page report is
    beaconed to, ``None`` for no report. :param attr_prefix: the prefix of the attributes a
    blocked element gets (as the server's ``block`` action: ``data-optout-src``).

    :raises ConfigError: for a report path or prefix that cannot be used, naming the key.
    """
    problems: list[tuple[str, str]] = []
    if report_path is not None and (
        not _PATH_FORM.fullmatch(report_path) or report_path.startswith("//")
    ):
        problems.append(("guard.report_path", f"expected an absolute path like "
                         f"{DEFAULT_REPORT_PATH!r}, got {report_path!r}"))
    if not _PREFIX_FORM.fullmatch(attr_prefix):
        problems.append(("block_attr_prefix", f"expected lowercase letters, digits and '-', "
                         f"ending in '-', like 'data-optout-'; got {attr_prefix!r}"))
    if problems:
        raise ConfigError(problems)
    data: dict[str, object] = {**guard_data(rules), "p": attr_prefix, "e": report_path or ""}
    return _TEMPLATE.replace(_PLACEHOLDER, _json_for_script(data))
