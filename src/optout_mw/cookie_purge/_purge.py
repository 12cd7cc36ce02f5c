"""Deleting tracker cookies already in the browser: the ``Set-Cookie`` lines that do it.

A request says only a cookie's name and value, never the ``Domain`` or ``Path`` it was set
with, and a deletion replaces a cookie only when name, domain and path all match (RFC 6265
§5.3 step 11; Chrome keeps a host-only cookie and a ``Domain=`` cookie of the same host
apart). So each tracker cookie gets one line per place it may live:

* every ``Domain`` from the host's registrable parent down to the host itself, broadest
  first (tags such as Google Analytics and the Meta Pixel write to the highest domain they
  can), then the host-only form (no ``Domain``). Never the top-level label alone, and no
  ``Domain`` at all for an IP host, which can hold only host-only cookies;
* for each, ``Path=/`` and then each configured path;
* ``Secure`` on https. A ``__Secure-`` cookie can only be replaced with ``Secure``, and a
  ``__Host-`` cookie only by exactly ``Path=/; Secure`` without ``Domain`` (RFC 6265bis
  §4.1.3), so over plain http neither can be deleted and none is sent.

Browsers ignore a line whose ``Domain`` is a public suffix (``co.uk``); optout-mw ships no
public suffix list, so such a line costs its bytes and nothing else. Pass
``is_public_suffix`` to leave them out.

Lines are capped per response in number and bytes (a reverse proxy answers 502 when the
response header outgrows its buffer), in a deterministic order: cookies by name, whole
cookies per response. The next page's request no longer carries the cookies this page
deleted, so it continues with the rest.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Final, NamedTuple

from optout_mw.tracker_cookies import TrackerCookieSet

from ._hosts import is_ip_address

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_LINES",
    "CookieFinding",
    "PurgePage",
    "PurgeSettings",
    "cookie_names",
    "deletion_lines",
    "line_bytes",
    "purge_page",
]

#: Bytes of ``Set-Cookie`` lines per response, counted as sent over HTTP/1.1 (name, colon,
#: space, value, CRLF). nginx reads the whole upstream response header into one buffer of
#: ``proxy_buffer_size`` (default one memory page: 4 KB on x86-64, 8 KB elsewhere) and
#: answers 502 when it overflows; 2 KB leaves the other half to the application's headers.
DEFAULT_MAX_BYTES: Final = 2048
#: Lines per response: 24 lines hold 8 cookies on a ``www.shop.example`` host (three lines
#: each), more than an opted-out visitor usually carries.
DEFAULT_MAX_LINES: Final = 24
_MIN_BYTES: Final = 256

# RFC 6265 §4.1.1: a cookie-name is a token. A name the request carries that is not one is
# never written back into a header.
_TOKEN: Final = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# A cookie path as a URL path may spell it, without ";" or whitespace (RFC 6265 path-value).
_PATH: Final = re.compile(r"/[A-Za-z0-9\-._~!$&'()*+,=:@%/]*")
_HEADER_OVERHEAD: Final = len("Set-Cookie: ") + len("\r\n")


class CookieFinding(NamedTuple):
    """A tracker cookie acted on: the rule that names it and the cookie's name."""

    rule: str
    cookie: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PurgeSettings:
    """How deletion lines are built and capped.

    :param protected: names never deleted, whatever a rule says: the site's choice cookie
        and the signal cookies the middleware writes back (``usprivacy``, the GPP cookies).
        Required, so that no caller can forget the choice cookie.
    :param paths: paths besides ``/`` that tracker cookies may have been set on.
    :param max_lines: ``Set-Cookie`` lines per response at most.
    :param max_bytes: their bytes at most (see :data:`DEFAULT_MAX_BYTES`).
    :param is_public_suffix: when given, ``Domain`` values for which it returns ``True``
        are left out (browsers ignore them).
    :raises ValueError: naming the setting that is out of range.
    """

    protected: frozenset[str]
    paths: tuple[str, ...] = ()
    max_lines: int = DEFAULT_MAX_LINES
    max_bytes: int = DEFAULT_MAX_BYTES
    is_public_suffix: Callable[[str], bool] | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "protected", frozenset(self.protected))
        object.__setattr__(self, "paths", tuple(dict.fromkeys(("/", *self.paths))))
        # Settings may come from untyped configuration: check the values, not the hints.
        paths: tuple[object, ...] = self.paths
        for path in paths:
            if not isinstance(path, str) or not _PATH.fullmatch(path):
                raise ValueError(f"paths: expected a path starting with '/', got {path!r}")
        if not _is_int_at_least(self.max_lines, 1):
            raise ValueError(f"max_lines: expected at least 1, got {self.max_lines!r}")
        if not _is_int_at_least(self.max_bytes, _MIN_BYTES):
            raise ValueError(f"max_bytes: expected at least {_MIN_BYTES}, got {self.max_bytes!r}")


def _is_int_at_least(value: object, least: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= least


class PurgePage(NamedTuple):
    """What one response does towards deleting the request's tracker cookies.

    :param lines: the ``Set-Cookie`` values to add to the response.
    :param purged: cookies whose deletion lines are in ``lines``.
    :param deferred: cookies left for a later response by the cap.
    :param unreachable: cookies no response on this scheme can delete (``__Host-`` and
        ``__Secure-`` over http), or whose name alone outgrows the cap.
    """

    lines: tuple[str, ...]
    purged: tuple[CookieFinding, ...]
    deferred: tuple[CookieFinding, ...]
    unreachable: tuple[CookieFinding, ...]


def cookie_names(header: str | bytes | None) -> tuple[str, ...]:
    """The names in a ``Cookie`` header, in order, each once. Never raises.

    Pairs without ``=`` (a cookie set with an empty name) have no name to delete by and are
    skipped; bytes are read as Latin-1.
    """
    if not header:
        return ()
    if isinstance(header, bytes):
        header = header.decode("latin-1")
    names: dict[str, None] = {}
    for chunk in header.split(";"):
        name, equals, _ = chunk.partition("=")
        name = name.strip(" \t")
        if equals and name:
            names[name] = None
    return tuple(names)


def _domains(host: str, is_public_suffix: Callable[[str], bool] | None) -> list[str | None]:
    """``Domain`` values from the broadest parent to the host, then ``None`` (host-only)."""
    if is_ip_address(host):
        return [None]
    labels = host.split(".")
    parents: list[str | None] = [".".join(labels[i:]) for i in range(len(labels) - 2, -1, -1)]
    if is_public_suffix is not None:
        parents = [d for d in parents if d is None or not is_public_suffix(d)]
    return [*parents, None]


def deletion_lines(
    name: str,
    host: str,
    scheme: str,
    paths: Iterable[str] = ("/",),
    is_public_suffix: Callable[[str], bool] | None = None,
) -> tuple[str, ...]:
    """The ``Set-Cookie`` values that delete cookie ``name`` wherever it may live.

    :param host: a host returned by :func:`~optout_mw.cookie_purge.validated_host`.
    :param scheme: the request's scheme; ``Secure`` is added on ``https``.
    """
    return _lines(name, _domains(host, is_public_suffix), scheme, paths)


def _lines(
    name: str, domains: list[str | None], scheme: str, paths: Iterable[str]
) -> tuple[str, ...]:
    secure = scheme == "https"
    # Browsers match the prefixes case-insensitively (RFC 6265bis §5.7, the storage model).
    folded = name[:9].lower()
    if folded.startswith("__host-"):
        return (f"{name}=; Max-Age=0; Path=/; Secure",) if secure else ()
    if folded.startswith("__secure-") and not secure:
        return ()
    tail = "; Secure" if secure else ""
    return tuple(
        f"{name}=; Max-Age=0; Path={path}"
        + (f"; Domain={domain}" if domain is not None else "")
        + tail
        for path in paths
        for domain in domains
    )


def line_bytes(value: str) -> int:
    """The bytes one ``Set-Cookie`` header with this value takes on an HTTP/1.1 response."""
    return len(value) + _HEADER_OVERHEAD


def purge_page(
    names: Iterable[str],
    cookies: TrackerCookieSet,
    host: str,
    scheme: str,
    settings: PurgeSettings,
) -> PurgePage:
    """The deletion lines this response carries for the request's tracker cookies.

    :param names: the request's cookie names (:func:`cookie_names`).
    :param cookies: the enabled rules' cookie patterns.
    :param host: a host returned by :func:`~optout_mw.cookie_purge.validated_host`.
    :param scheme: the request's scheme (``http`` or ``https``).

    Cookies are taken in name order, each with all its lines or not at all, until the next
    would pass ``max_lines`` or ``max_bytes``; the rest are ``deferred``. A cookie whose
    lines alone pass the cap is sent as far as the cap allows when it comes first, so a
    page always makes progress.
    """
    targets: list[CookieFinding] = []
    for name in set(names):
        rule = cookies.match(name)
        if rule is not None and name not in settings.protected and _TOKEN.fullmatch(name):
            targets.append(CookieFinding(rule, name))
    targets.sort(key=lambda target: target.cookie)
    domains = _domains(host, settings.is_public_suffix)
    lines: list[str] = []
    purged: list[CookieFinding] = []
    deferred: list[CookieFinding] = []
    unreachable: list[CookieFinding] = []
    used = 0
    for target in targets:
        if deferred:
            deferred.append(target)
            continue
        group = _lines(target.cookie, domains, scheme, settings.paths)
        if not group:
            unreachable.append(target)
            continue
        size = sum(map(len, group)) + _HEADER_OVERHEAD * len(group)
        if len(lines) + len(group) <= settings.max_lines and used + size <= settings.max_bytes:
            lines.extend(group)
            used += size
            purged.append(target)
        elif lines:
            deferred.append(target)  # the next page starts with it
        else:
            # Alone over the cap: as many of its lines as fit, broadest domains first.
            for line in group[: settings.max_lines]:
                if used + line_bytes(line) > settings.max_bytes:
                    break
                lines.append(line)
                used += line_bytes(line)
            (purged if lines else unreachable).append(target)
    return PurgePage(tuple(lines), tuple(purged), tuple(deferred), tuple(unreachable))
