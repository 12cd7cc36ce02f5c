"""Dropping the ``Set-Cookie`` headers of a response that would set a tracker cookie.

A server-side tagging endpoint served from the site's own origin (a Tag Manager server
container answering on ``/metrics``, a Meta Conversions API gateway) sets identifiers such
as ``FPID`` or ``_fbp`` with ``HttpOnly``, where no client-side consent tool can reach
them. The middleware sees those responses, so for an opted-out visitor it drops them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import AnyStr, Generic

from optout_mw.tracker_cookies import TrackerCookieSet

from ._purge import CookieFinding

__all__ = ["StripResult", "set_cookie_name", "strip_set_cookies"]


def set_cookie_name(value: str | bytes) -> str | None:
    """The cookie name a ``Set-Cookie`` value sets, or ``None`` when it names none.

    Follows RFC 6265bis §5.6 steps 1-5: the name is what precedes the first ``=`` of the
    text before the first ``;``, without surrounding spaces and tabs; a value without
    ``=`` sets a cookie with an empty name. Never raises; bytes are read as Latin-1.
    """
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    pair = value.split(";", 1)[0]
    name, equals, _ = pair.partition("=")
    name = name.strip(" \t")
    return name if equals and name else None


@dataclass(frozen=True, slots=True)
class StripResult(Generic[AnyStr]):
    """The ``Set-Cookie`` values to send and the tracker cookies among the original ones.

    :param kept: in their original order and type; every value when not enforcing.
    :param findings: one per dropped (or, in report mode, matching) value.
    """

    kept: tuple[AnyStr, ...]
    findings: tuple[CookieFinding, ...]


def strip_set_cookies(
    values: Sequence[AnyStr],
    cookies: TrackerCookieSet,
    *,
    protected: frozenset[str],
    enforce: bool = True,
) -> StripResult[AnyStr]:
    """Which of a response's ``Set-Cookie`` values set a cookie of an enabled rule.

    A value that cannot be parsed names no cookie and is kept; nothing here raises.

    :param values: the response's ``Set-Cookie`` values (``str`` or ASGI ``bytes``).
    :param protected: names never dropped (the site's choice cookie, the signal cookies the
        middleware writes back).
    :param enforce: ``False`` in report mode: every value is kept and the findings say
        what enforcing would have dropped.
    """
    kept: list[AnyStr] = []
    findings: list[CookieFinding] = []
    for value in values:
        name = set_cookie_name(value)
        rule = cookies.match(name) if name is not None and name not in protected else None
        if name is None or rule is None:
            kept.append(value)
            continue
        findings.append(CookieFinding(rule, name))
        if not enforce:
            kept.append(value)
    return StripResult(tuple(kept), tuple(findings))
