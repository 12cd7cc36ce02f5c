"""The per-request decision: read every signal, let any opt-out win.

``decide()`` is pure: it takes the request's relevant header values and a clock reading,
and returns an immutable :class:`Decision`. The adapters store it under
:data:`DECISION_KEY` in the WSGI environ or the ASGI scope.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

from ._cache import BoundedCache
from .config import Mode, OptOutConfig
from .cookies import ChoiceCookieCodec, ChoiceStatus, CookieReader, StoredChoice
from .gpp import GppOutcome, gpp_verdict
from .signals import GPC_ON, Signal, SignalKind, Verdict, parse_gpc, parse_us_privacy

#: Key of the decision in the WSGI environ and the ASGI scope.
DECISION_KEY = "optout_mw.decision"

#: Shown whenever an opt-out is being honoured (11 CCR §7025(c)(6), as amended for 2026).
HONORED_TEXT = "Opt-Out Request Honored"


@dataclass(frozen=True, slots=True)
class Decision:
    """What optout-mw decided for one request."""

    #: ``False`` when any signal opted out: no sale, no sharing, no targeted advertising.
    sale_permitted: bool
    #: Every signal seen, in the order they were read.
    signals: tuple[Signal, ...]
    #: When the visitor's stored opt-out was made, if the site's cookie holds one.
    opted_out_at: datetime | None
    #: Whether the business may ask this visitor to authorise sale or sharing again.
    #: ``False`` while an opt-out is honoured unless a stored opt-out is at least 12 months
    #: old (Cal. Civ. Code §1798.135(c)(4)); opt-outs from signals carry no date, so a
    #: visitor sending GPC is never asked.
    may_request_opt_in: bool
    #: Status to display, ``"Opt-Out Request Honored"`` whenever an opt-out is honoured.
    status_text: str | None
    #: The mode in force when the decision was made.
    mode: Mode
    #: The site's stored choice, when its cookie verified.
    stored_choice: StoredChoice | None = None

    @property
    def opted_out(self) -> bool:
        return not self.sale_permitted

    @property
    def opted_out_by(self) -> tuple[SignalKind, ...]:
        """The kinds of the signals that opted out."""
        return tuple(signal.kind for signal in self.signals if signal.verdict is Verdict.OPT_OUT)

    @property
    def gpc(self) -> bool:
        return SignalKind.GPC in self.opted_out_by

    @property
    def reasons(self) -> tuple[str, ...]:
        return tuple(signal.reason for signal in self.signals)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready summary, safe to show to the visitor: no secrets, no cookie values."""
        return {
            "sale_permitted": self.sale_permitted,
            "opted_out": self.opted_out,
            "opted_out_by": [str(kind) for kind in self.opted_out_by],
            "gpc": self.gpc,
            "signals": [
                {"kind": str(s.kind), "verdict": str(s.verdict), "reason": s.reason}
                for s in self.signals
            ],
            "opted_out_at": self.opted_out_at.isoformat() if self.opted_out_at else None,
            "may_request_opt_in": self.may_request_opt_in,
            "status_text": self.status_text,
            "mode": str(self.mode),
        }


def twelve_months_after(moment: datetime) -> datetime:
    """The same calendar date a year later (29 February maps to 28 February)."""
    try:
        return moment.replace(year=moment.year + 1)
    except ValueError:
        return moment.replace(year=moment.year + 1, day=28)


class Decider:
    """Precompiled per-configuration state for :func:`decide` (cookie scanner, signer)."""

    __slots__ = (
        "_cache", "_gpc_only", "_no_signal", "_reads_cookies", "_reads_gpc", "codec", "config",
        "reader",
    )

    def __init__(self, config: OptOutConfig) -> None:
        self.config = config
        self._reads_cookies = config.reads_cookies
        self._reads_gpc = config.read_gpc
        names: list[str] = []
        if config.read_site_cookie:
            names.append(config.choice_cookie_name)
        if config.read_us_privacy:
            names.append(config.us_privacy_cookie)
        if config.read_gpp:
            names += [config.gpp_cookie, config.gpp_sid_cookie]
        self.reader = CookieReader(names)
        self.codec = (
            ChoiceCookieCodec(config.secret_keys, max_age=config.choice_cookie_max_age)
            if config.read_site_cookie
            else None
        )
        # Decisions are immutable and these two do not depend on the clock: share them.
        self._no_signal = _conclude([], None, config, 0.0)
        self._gpc_only = _conclude([GPC_ON], None, config, 0.0)
        # A visitor's page load repeats one Cookie header across many requests, so the
        # decision for (GPC, Cookie header) is kept with the span of time it holds for.
        self._cache: BoundedCache[tuple[Verdict | None, str | bytes], _Cached] = BoundedCache(
            _CACHE_ENTRIES
        )

    def for_request(
        self, gpc: str | None, cookie_header: str | bytes | None, now: float
    ) -> Decision:
        """:meth:`decide` for the adapters: the ``Sec-GPC`` values joined with commas (as
        WSGI joins them) and the ``Cookie`` fields joined with ``"; "`` (ASGI's raw bytes
        are decoded only when the decision is not cached). Requests without cookies are
        answered without parsing anything."""
        if not cookie_header or not self._reads_cookies:
            if gpc is None or not self._reads_gpc:
                return self._no_signal
            if gpc == "1":
                return self._gpc_only
            return self.decide((gpc,), None, now)
        gpc_signal = parse_gpc((gpc,)) if gpc is not None and self._reads_gpc else None
        return self._from_cookies(gpc_signal, cookie_header, now)

    def decide(self, gpc_values: Iterable[str], cookie_header: str | None, now: float) -> Decision:
        """Decide from the ``Sec-GPC`` values and the (joined) ``Cookie`` header."""
        config = self.config
        gpc = parse_gpc(gpc_values) if config.read_gpc else None
        if not cookie_header or not config.reads_cookies:
            if gpc is None:
                return self._no_signal
            if gpc is GPC_ON:
                return self._gpc_only
            return _conclude([gpc], None, config, now)
        return self._from_cookies(gpc, cookie_header, now)

    def _from_cookies(self, gpc: Signal | None, header: str | bytes, now: float) -> Decision:
        # Hashing a 4 KB header costs more than the rest of a request's work, so long
        # headers are keyed by a sample of their characters; the entry keeps the whole
        # header, and only an exact match is a hit.
        sample = header if len(header) <= _SAMPLE_ABOVE else header[::_SAMPLE_STRIDE]
        key = (None if gpc is None else gpc.verdict, sample)
        cached = self._cache.get(key)
        if (
            cached is not None
            and cached.header == header
            and cached.valid_from <= now < cached.valid_until
        ):
            return cached.decision
        cookie_header = header.decode("latin-1") if isinstance(header, bytes) else header
        signals: list[Signal] = [] if gpc is None else [gpc]
        cookies = self.reader.read(cookie_header)
        stored = self._read_cookies(cookies, signals, now) if cookies else None
        decision = _conclude(signals, stored, self.config, now)
        if len(header) <= _CACHEABLE_HEADER:
            until = self._valid_until(decision, stored)
            self._cache.put(key, _Cached(header, decision, now, until))
        return decision

    def _valid_until(self, decision: Decision, stored: StoredChoice | None) -> float:
        """When the clock would change ``decision``: the choice cookie's expiry, or the end
        of the 12-month wait. Nothing else in a decision depends on the time."""
        until = float("inf")
        if stored is not None:
            until = stored.signed_at + self.config.choice_cookie_max_age
        if decision.opted_out_at is not None and not decision.may_request_opt_in:
            until = min(until, twelve_months_after(decision.opted_out_at).timestamp())
        return until

    def _read_cookies(
        self, cookies: Mapping[str, list[str]], signals: list[Signal], now: float
    ) -> StoredChoice | None:
        config = self.config
        stored: StoredChoice | None = None
        if self.codec is not None:
            values = cookies.get(config.choice_cookie_name)
            if values:
                stored = self._read_choice(values, signals, now)
        if config.read_us_privacy:
            for value in cookies.get(config.us_privacy_cookie, ()):
                usp = parse_us_privacy(value)
                if usp is not None:
                    signals.append(usp)
        if config.read_gpp:
            gpp_values = cookies.get(config.gpp_cookie)
            if gpp_values:
                sid_values = cookies.get(config.gpp_sid_cookie)
                for value in gpp_values:
                    signals.append(gpp_signal(value, sid_values[0] if sid_values else None))
        return stored

    def _read_choice(
        self, values: list[str], signals: list[Signal], now: float
    ) -> StoredChoice | None:
        assert self.codec is not None
        # With duplicates, a valid opt-out wins over a valid opt-in.
        best: StoredChoice | None = None
        failure: ChoiceStatus | None = None
        for value in values:
            choice, status = self.codec.loads(value, now=now)
            if choice is None:
                failure = status
            elif best is None or (choice.opted_out and not best.opted_out):
                best = choice
        if best is not None:
            if best.opted_out:
                signals.append(Signal(SignalKind.SITE_CHOICE, Verdict.OPT_OUT,
                                      "opted out on this site"))
            else:
                signals.append(Signal(SignalKind.SITE_CHOICE, Verdict.NO_OPT_OUT,
                                      "opted in on this site"))
        elif failure is not None:
            signals.append(Signal(SignalKind.SITE_CHOICE, Verdict.INVALID,
                                  f"choice cookie ignored: {_CHOICE_REASONS[failure]}"))
        return best


_CACHE_ENTRIES = 1024
_CACHEABLE_HEADER = 8192
# Headers longer than this are keyed by every 17th character (a 4 KB header by 241).
_SAMPLE_ABOVE = 256
_SAMPLE_STRIDE = 17


class _Cached(NamedTuple):
    header: str | bytes
    decision: Decision
    valid_from: float
    valid_until: float

_CHOICE_REASONS = {
    ChoiceStatus.BAD_SIGNATURE: "bad signature",
    ChoiceStatus.EXPIRED: "signature expired",
    ChoiceStatus.MALFORMED: "malformed",
    ChoiceStatus.VALID: "valid",
}


_GPP_VERDICTS = {
    GppOutcome.OPTED_OUT: Verdict.OPT_OUT,
    GppOutcome.NOT_OPTED_OUT: Verdict.NO_OPT_OUT,
    GppOutcome.NOT_APPLICABLE: Verdict.NOT_APPLICABLE,
}


def gpp_signal(gpp: str, gpp_sid: str | None) -> Signal:
    """The GPP signal, via the codec in :mod:`optout_mw.gpp`."""
    verdict = gpp_verdict(gpp, gpp_sid)
    mapped = _GPP_VERDICTS.get(verdict.outcome, Verdict.INVALID)
    return Signal(SignalKind.GPP, mapped, f"GPP: {verdict.reason}")


def _conclude(
    signals: list[Signal], stored: StoredChoice | None, config: OptOutConfig, now: float
) -> Decision:
    opted_out = False
    for signal in signals:
        if signal.verdict is Verdict.OPT_OUT or (
            config.strict and signal.verdict is Verdict.INVALID
        ):
            opted_out = True
            break
    opted_out_at = (
        datetime.fromtimestamp(stored.made_at, UTC) if stored and stored.opted_out else None
    )
    if not opted_out:
        may_ask = True
    elif opted_out_at is not None and not any(
        s.opted_out and s.kind is not SignalKind.SITE_CHOICE for s in signals
    ):
        may_ask = datetime.fromtimestamp(now, UTC) >= twelve_months_after(opted_out_at)
    else:
        may_ask = False
    return Decision(
        sale_permitted=not opted_out,
        signals=tuple(signals),
        opted_out_at=opted_out_at,
        may_request_opt_in=may_ask,
        status_text=HONORED_TEXT if opted_out else None,
        mode=config.mode,
        stored_choice=stored,
    )
