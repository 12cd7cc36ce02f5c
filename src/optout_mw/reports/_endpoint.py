"""The logic behind the report endpoint: request in, status out, no I/O of its own.

The router hands over the method, the ``Content-Type``, the body (read to at most
:attr:`ReportEndpoint.max_bytes` + 1 bytes, so an oversized one is seen as such without
being read whole) and a client key for the rate limit (the peer address). Each accepted
violation is classified by the rule set, counted (``optout_runtime_blocked_total``),
tallied in the :class:`~optout_mw.reports.ReportAggregator` and logged under rate limits.
Nothing here feeds a decision.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Final

from optout_mw.metrics import REPORTS, RUNTIME_BLOCKED, Metrics, RateLimitedLog
from optout_mw.rules import RuleSet

from ._aggregate import Classification, Kind, ReportAggregator, classify
from ._limit import RateLimiter
from ._parse import Layer, Violation, parse_body
from ._suggest import FIELD_OF_DIRECTIVE

__all__ = ["DEFAULT_MAX_BYTES", "ReportEndpoint", "ReportResponse"]

#: A Reporting API batch or a guard beacon is a few kilobytes; this leaves room for both.
DEFAULT_MAX_BYTES: Final = 64 * 1024



@dataclass(frozen=True, slots=True)
class ReportResponse:
    """What to answer: the status (``204`` when accepted), extra headers, and the outcome
    name counted in ``optout_reports_total``."""

    status: int
    outcome: str
    headers: tuple[tuple[str, str], ...] = ()


_ACCEPTED: Final = ReportResponse(204, "accepted")
_REJECTED: Final = {
    "malformed": ReportResponse(400, "malformed"),
    "too_large": ReportResponse(413, "too_large"),
    "unsupported_type": ReportResponse(415, "unsupported_type"),
    "rate_limited": ReportResponse(429, "rate_limited", (("Retry-After", "1"),)),
    "method_not_allowed": ReportResponse(405, "method_not_allowed", (("Allow", "POST"),)),
}


class ReportEndpoint:
    """Receives CSP violation reports and the guard's beacons for one configuration.

    :param rules: the enabled rules, to classify blocked URLs.
    :param metrics: where counts go (``None``: nowhere).
    :param log: the middleware's rate-limited log (``None``: a new one on ``optout_mw``).
    :param aggregator: the tally (``None``: a new one, see :attr:`aggregator`).
    :param limiter: the rate limit (``None``: a new :class:`RateLimiter` with defaults).
    :param max_bytes: the largest body accepted.
    """

    __slots__ = ("aggregator", "limiter", "log", "max_bytes", "metrics", "rules")

    def __init__(
        self,
        rules: RuleSet,
        *,
        metrics: Metrics | None = None,
        log: RateLimitedLog | None = None,
        aggregator: ReportAggregator | None = None,
        limiter: RateLimiter | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        self.rules = rules
        self.metrics = metrics
        self.log = log if log is not None else RateLimitedLog()
        self.aggregator = aggregator if aggregator is not None else ReportAggregator()
        self.limiter = limiter if limiter is not None else RateLimiter()
        self.max_bytes = max_bytes

    def handle(
        self, method: str, content_type: str | None, body: bytes, client: str = ""
    ) -> ReportResponse:
        """Handle one request; never raises."""
        if method.upper() != "POST":
            return self._answer("method_not_allowed")
        if not self.limiter.allow(client):
            return self._answer("rate_limited")
        parsed = parse_body(content_type, body, self.max_bytes)
        if parsed.reason is not None:
            return self._answer(str(parsed.reason))
        for violation in parsed.violations:
            self._record(violation, classify(violation.blocked, self.rules))
        return self._answer("accepted")

    def _answer(self, outcome: str) -> ReportResponse:
        if self.metrics is not None:
            self.metrics.increment(REPORTS, {"outcome": outcome})
        return _ACCEPTED if outcome == "accepted" else _REJECTED[outcome]

    def _record(self, violation: Violation, found: Classification) -> None:
        mode = "enforce" if violation.enforced else "report"
        if self.metrics is not None:
            self.metrics.increment(RUNTIME_BLOCKED, {
                "layer": str(violation.layer), "mode": mode, "kind": str(found.kind),
                "rule": found.name if found.kind is Kind.TRACKER else "",
            })
        self.aggregator.add(violation, found)
        where = violation.directive or violation.vector
        extra = {
            "optout_layer": str(violation.layer), "optout_mode": mode,
            "optout_label": found.label, "optout_where": where, "optout_url": violation.blocked,
            "optout_path": violation.page,
        }
        verb = "blocked" if violation.enforced else "would block"
        if found.kind is Kind.TRACKER:
            # A tracker the page's code requested although the HTML did not show it.
            self.log.log(logging.INFO, ("report", found.label, where),
                         "optout_mw: %s %s %s (%s) on %s", violation.layer, verb, found.label,
                         where, violation.page or "?", extra=extra)
        elif found.kind is Kind.UNKNOWN and violation.layer is Layer.CSP:
            # The allowlist stopped a host no rule names: the page may need it.
            field = FIELD_OF_DIRECTIVE.get(violation.directive, "script_hosts")
            self.log.log(logging.WARNING if violation.enforced else logging.INFO,
                         ("report", found.label, where),
                         "optout_mw: the CSP %s %s (%s) on %s, a host no rule names; if the "
                         "page needs it, add it to csp.%s", verb, found.name, where,
                         violation.page or "?", field, extra=extra)
        else:
            self.log.log(logging.DEBUG, ("report", found.label, where),
                         "optout_mw: %s %s %s (%s) on %s", violation.layer, verb, found.label,
                         where, violation.page or "?", extra=extra)
