"""Reads the enabled consent tools' cookies out of a ``Cookie`` header into signals.

Every copy of a repeated cookie is read, so an opt-out cannot hide behind a duplicate, and
each yields its own signal; the decision lets any opt-out win. No verdict here is a
"grant": the most a cookie can say is ``NO_OPT_OUT``, which never outweighs GPC or any
other opt-out.
"""

from __future__ import annotations

from collections.abc import Callable

from optout_mw.signals import Signal

from . import cookiebot, didomi, fides, iubenda, ketch, onetrust
from .cookie_rules import parse_cookie_rule
from .settings import CmpSettings
from .transcend import parse_transcend

__all__ = ["CmpReader"]

_Parser = Callable[[str, str], Signal]


class CmpReader:
    """The consent-tool signals of one configuration; built once, used per request."""

    __slots__ = ("_exact", "_iubenda", "_onetrust", "settings")

    def __init__(self, settings: CmpSettings) -> None:
        self.settings = settings
        s = settings
        exact: dict[str, list[_Parser]] = {}

        def add(name: str, parser: _Parser) -> None:
            exact.setdefault(name, []).append(parser)

        if s.reads("cookiebot"):
            add(cookiebot.COOKIE, lambda _n, v: cookiebot.parse_cookiebot(v))
        if s.reads("didomi"):
            add(didomi.COOKIE,
                lambda _n, v: didomi.parse_didomi(v, s.didomi_purposes, s.didomi_vendors))
        if s.reads("ketch"):
            add(ketch.COOKIE,
                lambda _n, v: ketch.parse_ketch(v, s.ketch_purposes, s.ketch_canonical_purposes))
        if s.reads("transcend"):
            add(s.transcend_cookie, lambda _n, v: parse_transcend(v, s.transcend_purposes))
        if s.reads("fides"):
            add(fides.COOKIE,
                lambda _n, v: fides.parse_fides(v, s.fides_notices, s.fides_notice_prefixes))
        for rule in s.rules:
            add(rule.name, lambda _n, v, rule=rule: parse_cookie_rule(rule, v))  # type: ignore[misc]
        self._exact = exact
        # OneTrust needs its banner cookie as context; iubenda's names carry a site id.
        self._onetrust = s.reads("onetrust")
        self._iubenda = s.reads("iubenda")

    @property
    def active(self) -> bool:
        return self.settings.active

    def read(self, cookie_header: str) -> list[Signal]:
        """The signals of every enabled consent-tool cookie in ``cookie_header`` (the joined
        ``Cookie`` fields), in header order. Never raises."""
        signals: list[Signal] = []
        if not self.active or not cookie_header:
            return signals
        exact = self._exact
        onetrust_values: list[str] = []
        alert_closed: str | None = None
        for chunk in cookie_header.split(";"):
            name, sep, value = chunk.partition("=")
            if not sep:
                continue
            name = name.strip()
            value = _unquote(value.strip())
            for parser in exact.get(name, ()):
                signals.append(parser(name, value))
            if self._onetrust and name == onetrust.COOKIE:
                onetrust_values.append(value)
            elif self._onetrust and name == onetrust.ALERT_COOKIE:
                alert_closed = alert_closed or value or None
            elif self._iubenda and iubenda.is_iubenda_cookie(name):
                s = self.settings
                signals.append(iubenda.parse_iubenda(name, value, s.iubenda_purposes,
                                                     s.iubenda_us_keys))
        for value in onetrust_values:
            signals.append(onetrust.parse_onetrust(value, self.settings.onetrust_categories,
                                                   alert_closed))
        return signals


def _unquote(value: str) -> str:
    # RFC 6265 §4.1.1 allows a cookie-value in double quotes.
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value
