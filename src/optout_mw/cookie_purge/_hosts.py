"""Which host a response may name in a cookie's ``Domain`` attribute.

The ``Host`` header is whatever the client sent. A deletion line names the host in its
``Domain`` attribute, so the header is never copied into a response: it is parsed strictly,
compared with the hosts the site configured (or the server's own name), and only a host
that passes both comes back, lowercased, without its port, in a form that contains nothing
but letters, digits, ``-``, ``_``, ``.`` (and ``:`` for IPv6).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from typing import Final

from optout_mw.urls import normalize_host

__all__ = ["AllowedHosts", "allowed_host_problem", "is_ip_address", "validated_host"]

# A DNS label as hosts are written in practice (RFC 1123 letters, digits and hyphens; the
# underscore browsers also accept). Lowercase: the header is lowercased first.
_LABEL: Final = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")
_PORT: Final = re.compile(r"[0-9]{0,5}")
_HEX_NUMBER: Final = re.compile(r"0x[0-9a-f]*")
_MAX_HOST: Final = 253
# "[" + 39 characters of IPv6 + "]:" + 5 digits; longer headers are not worth parsing.
_MAX_HEADER: Final = _MAX_HOST + 7


def is_ip_address(host: str) -> bool:
    """Whether ``host`` (as :func:`validated_host` returns it) is an IPv4 or IPv6 address."""
    if ":" not in host and not host[-1:].isdigit():
        return False  # neither IPv6 nor dotted decimal: skip the costly failed parse
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _dns_name(host: str) -> str | None:
    """``host`` if it is a hostname of valid labels, else ``None``."""
    if host.endswith("."):
        host = host[:-1]  # the root label: "shop.example." names "shop.example"
    if not host or len(host) > _MAX_HOST:
        return None
    labels = host.split(".")
    if not all(_LABEL.fullmatch(label) for label in labels):
        return None
    last = labels[-1]
    if last.isdigit() or _HEX_NUMBER.fullmatch(last):
        # A browser reads a numeric last label as an IPv4 number (WHATWG URL "ends in a
        # number"): such a host is an address or invalid, never a name.
        try:
            return str(ipaddress.IPv4Address(host))
        except ValueError:
            return None
    return host


def _parse_host_header(value: str) -> str | None:
    """The host of a ``Host`` header (RFC 9110 §7.2: ``uri-host [ ":" port ]``), or ``None``."""
    value = value.strip(" \t")
    if not value or len(value) > _MAX_HEADER or not value.isascii() or not value.isprintable():
        return None
    value = value.lower()
    if value.startswith("["):
        end = value.find("]")
        rest = value[end + 1 :] if end > 0 else ""
        if end < 0 or (rest and not (rest[0] == ":" and _PORT.fullmatch(rest[1:]))):
            return None
        literal = value[1:end]
        if "%" in literal:
            return None  # a zone id means nothing to another machine
        try:
            return ipaddress.IPv6Address(literal).compressed
        except ValueError:
            return None
    host, colon, port = value.partition(":")
    if colon and not _PORT.fullmatch(port):
        return None
    return _dns_name(host)


def allowed_host_problem(entry: object) -> str | None:
    """Why ``entry`` cannot be an allowed host, or ``None`` when it can.

    An entry is a hostname (``shop.example``), a leading-dot suffix for the name and every
    subdomain (``.shop.example``), a ``*.`` suffix for subdomains only (``*.shop.example``),
    or an IP address. ``*`` alone is refused: it would make the check meaningless.
    """
    if not isinstance(entry, str):
        return f"expected a hostname, got {type(entry).__name__}"
    if _compile_entry(entry) is None:
        return (
            f"expected a hostname, '.suffix', '*.suffix' or an IP address, got {entry!r}"
        )
    return None


def _compile_entry(entry: str) -> tuple[str, str] | None:
    """``(kind, host)`` with kind ``exact``, ``self_and_subdomains`` or ``subdomains``."""
    text = entry.strip()
    kind = "exact"
    if text.startswith("*."):
        kind, text = "subdomains", text[2:]
    elif text.startswith("."):
        kind, text = "self_and_subdomains", text[1:]
    if not text or "*" in text:
        return None
    if kind == "exact":
        literal = text[1:-1] if text.startswith("[") and text.endswith("]") else text
        if is_ip_address(literal):
            return kind, ipaddress.ip_address(literal).compressed
    normalized = normalize_host(text)  # Unicode names become punycode, as browsers send them
    if normalized is None or normalized.startswith("["):
        return None
    host = _dns_name(normalized)
    if host is None or (kind != "exact" and is_ip_address(host)):
        return None
    return kind, host


class AllowedHosts:
    """The hosts a deletion line may name, compiled once from configuration.

    :param entries: see :func:`allowed_host_problem`.
    :raises ValueError: naming the first entry that is not one.
    """

    __slots__ = ("_exact", "_subdomains_of")

    def __init__(self, entries: Iterable[str]) -> None:
        exact: set[str] = set()
        subdomains_of: set[str] = set()
        for entry in entries:
            raw: object = entry  # configuration may hold anything
            compiled = _compile_entry(entry) if isinstance(raw, str) else None
            if compiled is None:
                raise ValueError(allowed_host_problem(entry))
            kind, host = compiled
            if kind != "subdomains":
                exact.add(host)
            if kind != "exact":
                subdomains_of.add(host)
        self._exact = frozenset(exact)
        self._subdomains_of = frozenset(subdomains_of)

    def __bool__(self) -> bool:
        return bool(self._exact or self._subdomains_of)

    def allows(self, host: str) -> bool:
        """Whether a parsed host (lowercase, no port) is allowed."""
        if host in self._exact:
            return True
        if self._subdomains_of and not is_ip_address(host):
            dot = host.find(".")
            while dot >= 0:
                if host[dot + 1 :] in self._subdomains_of:
                    return True
                dot = host.find(".", dot + 1)
        return False


def validated_host(
    host_header: str | bytes | None, allowed_hosts: AllowedHosts | Iterable[str]
) -> str | None:
    """The request's host, if the ``Host`` header names one the site allows; else ``None``.

    Never raises. The result is lowercase, without port or trailing dot, IPv6 compressed and
    without brackets; it is safe to write into a ``Set-Cookie`` attribute.

    :param host_header: the ``Host`` header (HTTP/2 ``:authority``); bytes are read as
        Latin-1, as ASGI servers pass them.
    :param allowed_hosts: the configured hosts, or the server's own name when none are
        configured (see :class:`AllowedHosts`).
    """
    if host_header is None:
        return None
    if isinstance(host_header, bytes):
        host_header = host_header.decode("latin-1")
    if not isinstance(allowed_hosts, AllowedHosts):
        try:
            allowed_hosts = AllowedHosts(allowed_hosts)
        except ValueError:
            return None
    host = _parse_host_header(host_header)
    if host is None or not allowed_hosts.allows(host):
        return None
    return host
