"""Counters and rate-limited logging.

optout-mw logs under the ``optout_mw`` logger with structured fields passed as ``extra=``
(every field name starts with ``optout_``, so a JSON formatter can pick them up), and
counts what it does through a tiny :class:`Metrics` hook:

=====================================  ===================================================
counter                                labels
=====================================  ===================================================
``optout_decisions_total``             ``outcome``: ``opted_out`` or ``permitted``
``optout_signals_total``               ``kind`` (``gpc``, ``site_choice``, ``us_privacy``,
                                       ``gpp``), ``verdict`` (``opt_out``, ``no_opt_out``,
                                       ``not_applicable``, ``invalid``)
``optout_elements_total``              ``rule``, ``action`` (``strip``/``block``), ``mode``
                                       (``enforce``, or ``report`` when only detected)
``optout_responses_skipped_total``     ``reason`` (see :class:`~optout_mw.response.SkipReason`)
``optout_choices_total``               ``kind`` (``opt_out``, ``opt_in``)
``optout_reports_total``               ``outcome`` (``accepted``, ``malformed``,
                                       ``too_large``, ``unsupported_type``,
                                       ``rate_limited``, ``method_not_allowed``)
``optout_runtime_blocked_total``       ``layer`` (``guard``, ``csp``), ``mode``
                                       (``enforce``, ``report``), ``kind`` (``tracker``,
                                       ``unknown``, ``other``), ``rule`` (for trackers)
=====================================  ===================================================

:class:`Counters` keeps them in memory and renders the Prometheus text format with no
dependency; :class:`PrometheusMetrics` forwards to ``prometheus_client`` when installed.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Final, Protocol

if TYPE_CHECKING:
    from .decision import Decision
    from .rewrite import Finding

__all__ = [
    "COUNTER_HELP",
    "Counters",
    "Metrics",
    "Observer",
    "PrometheusMetrics",
    "RateLimitedLog",
    "record_choice",
    "record_decision",
    "record_findings",
    "record_skip",
]

logger = logging.getLogger("optout_mw")

DECISIONS: Final = "optout_decisions_total"
SIGNALS: Final = "optout_signals_total"
ELEMENTS: Final = "optout_elements_total"
SKIPPED: Final = "optout_responses_skipped_total"
CHOICES: Final = "optout_choices_total"
REPORTS: Final = "optout_reports_total"
RUNTIME_BLOCKED: Final = "optout_runtime_blocked_total"

#: Help text of every counter optout-mw increments, for exposition.
COUNTER_HELP: Final[Mapping[str, str]] = {
    DECISIONS: "Requests decided, by outcome.",
    SIGNALS: "Opt-out signals seen on requests, by kind and verdict.",
    ELEMENTS: "Tracker elements stripped or blocked (or, in report mode, found).",
    SKIPPED: "HTML responses passed through unchanged although a rewrite was due, by reason.",
    CHOICES: "Choices made on the opt-out page, by kind.",
    REPORTS: "Bodies received by the report endpoint, by outcome.",
    RUNTIME_BLOCKED: "Requests blocked in the browser (or, report-only, that would have been), "
    "by layer, mode, kind and rule.",
}

#: Label names of every counter optout-mw increments (needed up front by prometheus_client).
COUNTER_LABELS: Final[Mapping[str, tuple[str, ...]]] = {
    DECISIONS: ("outcome",),
    SIGNALS: ("kind", "verdict"),
    ELEMENTS: ("action", "mode", "rule"),
    SKIPPED: ("reason",),
    CHOICES: ("kind",),
    REPORTS: ("outcome",),
    RUNTIME_BLOCKED: ("kind", "layer", "mode", "rule"),
}


class Metrics(Protocol):
    """Where optout-mw sends its counts. Implementations must be thread-safe and must not
    raise: they run on the request path.
    """

    def increment(
        self, name: str, labels: Mapping[str, str] | None = None, value: int = 1
    ) -> None: ...


_Series = tuple[str, tuple[tuple[str, str], ...]]


class Counters:
    """Thread-safe in-memory counters.

    >>> counters = Counters()
    >>> counters.increment("optout_decisions_total", {"outcome": "opted_out"})
    >>> counters.snapshot()
    {'optout_decisions_total{outcome="opted_out"}': 1}
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[_Series, int] = {}

    def increment(
        self, name: str, labels: Mapping[str, str] | None = None, value: int = 1
    ) -> None:
        """Add ``value`` to the counter ``name`` with these ``labels``."""
        key = (name, tuple(sorted(labels.items())) if labels else ())
        with self._lock:
            self._values[key] = self._values.get(key, 0) + value

    def value(self, name: str, labels: Mapping[str, str] | None = None) -> int:
        """The current value of one series (0 if never incremented)."""
        key = (name, tuple(sorted(labels.items())) if labels else ())
        with self._lock:
            return self._values.get(key, 0)

    def snapshot(self) -> dict[str, int]:
        """Every series as ``{'name{label="value",...}': count}``, sorted."""
        with self._lock:
            items = sorted(self._values.items())
        return {_series_text(name, labels): count for (name, labels), count in items}

    def reset(self) -> None:
        """Forget every count."""
        with self._lock:
            self._values.clear()

    def render_prometheus(self) -> str:
        """The counters in the Prometheus text exposition format (version 0.0.4)."""
        with self._lock:
            items = sorted(self._values.items())
        lines: list[str] = []
        current = ""
        for (name, labels), count in items:
            if name != current:
                current = name
                help_text = COUNTER_HELP.get(name)
                if help_text:
                    lines.append(f"# HELP {name} {_escape_help(help_text)}")
                lines.append(f"# TYPE {name} counter")
            lines.append(f"{_series_text(name, labels)} {count}")
        return "\n".join(lines) + "\n" if lines else ""


def _escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _escape_help(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n")


def _series_text(name: str, labels: tuple[tuple[str, str], ...]) -> str:
    if not labels:
        return name
    inner = ",".join(f'{key}="{_escape_label(value)}"' for key, value in labels)
    return f"{name}{{{inner}}}"


class PrometheusMetrics:
    """Forwards counts to ``prometheus_client`` counters (``pip install prometheus-client``).

    Counters are created on first use in ``registry`` (the client's default registry when
    ``None``). Label names of optout-mw's own counters are fixed; for other names the first
    call's label names are used.

    :raises ImportError: with an install hint, when ``prometheus_client`` is missing.
    """

    def __init__(self, registry: Any = None) -> None:
        try:
            self._client: Any = importlib.import_module("prometheus_client")
        except ImportError as error:
            raise ImportError(
                "PrometheusMetrics needs prometheus_client: pip install prometheus-client"
            ) from error
        self._registry = registry
        self._lock = threading.Lock()
        self._counters: dict[str, Any] = {}

    def _counter(self, name: str, label_names: tuple[str, ...]) -> Any:
        counter = self._counters.get(name)
        if counter is None:
            with self._lock:
                counter = self._counters.get(name)
                if counter is None:
                    kwargs: dict[str, Any] = {"labelnames": label_names}
                    if self._registry is not None:
                        kwargs["registry"] = self._registry
                    counter = self._client.Counter(name, COUNTER_HELP.get(name, name), **kwargs)
                    self._counters[name] = counter
        return counter

    def increment(
        self, name: str, labels: Mapping[str, str] | None = None, value: int = 1
    ) -> None:
        """Add ``value`` to the ``prometheus_client`` counter ``name``."""
        label_names = COUNTER_LABELS.get(name) or tuple(sorted(labels or {}))
        counter = self._counter(name, label_names)
        try:
            target = counter.labels(**dict(labels)) if labels else counter
            target.inc(value)
        except ValueError:
            # Mismatched label names: a programming error, but never one that fails a
            # request.
            logger.warning("optout_mw: metric %s: unexpected labels %s", name, sorted(labels or {}))


class RateLimitedLog:
    """Logs a message at most once per key within ``window`` seconds, and at most
    ``per_minute`` messages in any clock minute, so a busy site is not flooded.

    Suppressed messages are counted; the next message logged after a minute with
    suppressions is preceded by a summary line.

    :param logger: defaults to the ``optout_mw`` logger.
    :param window: seconds during which a key is logged once.
    :param per_minute: global cap on messages per minute.
    :param max_keys: keys remembered at most (paths come from clients, so the memory must
        be bounded); the oldest are forgotten first.
    :param clock: monotonic seconds; replaceable in tests.
    """

    def __init__(
        self,
        logger: logging.Logger | None = None,
        *,
        window: float = 300.0,
        per_minute: int = 60,
        max_keys: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.logger = logger or logging.getLogger("optout_mw")
        self.window = window
        self.per_minute = per_minute
        self.max_keys = max_keys
        self._clock = clock
        self._lock = threading.Lock()
        self._seen: dict[Hashable, float] = {}
        self._minute_start = clock()
        self._in_minute = 0
        #: Messages dropped since the last summary.
        self.suppressed = 0

    def allow(self, key: Hashable) -> bool:
        """Whether a message for ``key`` may be logged now; counts it if so."""
        summary = 0
        with self._lock:
            now = self._clock()
            last = self._seen.get(key)
            if last is not None and now - last < self.window:
                return False
            if now - self._minute_start >= 60.0:
                self._minute_start = now
                self._in_minute = 0
                summary, self.suppressed = self.suppressed, 0
            if self._in_minute >= self.per_minute:
                self.suppressed += 1
                return False
            self._in_minute += 1
            self._seen.pop(key, None)  # re-insert at the end: the dict stays oldest-first
            self._seen[key] = now
            if len(self._seen) > self.max_keys:
                self._prune(now)
        if summary:
            self.logger.warning(
                "optout_mw: %d log messages suppressed by rate limiting in the last minute",
                summary,
                extra={"optout_suppressed": summary},
            )
        return True

    def _prune(self, now: float) -> None:
        expired = [key for key, at in self._seen.items() if now - at >= self.window]
        for key in expired:
            del self._seen[key]
        while len(self._seen) > self.max_keys:
            del self._seen[next(iter(self._seen))]

    def log(
        self,
        level: int,
        key: Hashable,
        message: str,
        *args: object,
        extra: Mapping[str, object] | None = None,
    ) -> bool:
        """Log ``message % args`` unless rate-limited; return whether it was logged."""
        if not self.logger.isEnabledFor(level) or not self.allow(key):
            return False
        self.logger.log(level, message, *args, extra=dict(extra) if extra else None)
        return True


# --- functions the adapters and the engine call ------------------------------------------


def record_decision(metrics: Metrics | None, decision: Decision) -> None:
    """Count one request's outcome and every signal it carried."""
    if metrics is None:
        return
    outcome = "permitted" if decision.sale_permitted else "opted_out"
    metrics.increment(DECISIONS, {"outcome": outcome})
    for signal in decision.signals:
        metrics.increment(SIGNALS, {"kind": str(signal.kind), "verdict": str(signal.verdict)})


def record_findings(
    metrics: Metrics | None,
    log: RateLimitedLog | None,
    path: str,
    findings: Iterable[Finding],
    report_only: bool,
) -> None:
    """Count the elements one response had stripped or blocked (or would have, in report
    mode) and log them: each ``(path, rule)`` once per window, at ``INFO`` in report mode
    (the point of report mode is to read these) and ``DEBUG`` when enforcing.
    """
    mode = "report" if report_only else "enforce"
    level = logging.INFO if report_only else logging.DEBUG
    verb = "would" if report_only else "did"
    # Enforcing, findings are logged at DEBUG, usually off: then build no message at all.
    logging_on = log is not None and log.logger.isEnabledFor(level)
    if metrics is None and not logging_on:
        return
    for finding in findings:
        action = str(finding.action)
        if metrics is not None:
            metrics.increment(ELEMENTS, {"rule": finding.rule, "action": action, "mode": mode})
        if logging_on and log is not None:
            log.log(
                level,
                ("finding", path, finding.rule),
                "optout_mw: %s %s %s <%s> %s at %s on %s",
                verb,
                action,
                finding.rule,
                finding.element,
                finding.url or "(inline)",
                _position(finding),
                path,
                extra={
                    "optout_path": path,
                    "optout_rule": finding.rule,
                    "optout_action": action,
                    "optout_mode": mode,
                    "optout_element": finding.element,
                    "optout_url": finding.url,
                    "optout_line": finding.line,
                    "optout_column": finding.column,
                    "optout_offset": finding.offset,
                },
            )


def _position(finding: Finding) -> str:
    """``line:column``, or the byte offset when lines were not counted."""
    if finding.line is None:
        return f"byte {finding.offset}"
    return f"{finding.line}:{finding.column}"


def record_skip(
    metrics: Metrics | None,
    reason: str,
    *,
    log: RateLimitedLog | None = None,
    path: str = "",
) -> None:
    """Count an HTML response passed through unchanged, and log it once per reason per
    window when ``log`` is given.
    """
    if metrics is not None:
        metrics.increment(SKIPPED, {"reason": str(reason)})
    if log is not None:
        log.log(
            logging.WARNING,
            ("skip", str(reason)),
            "optout_mw: HTML response passed through unchanged (%s) on %s",
            str(reason),
            path,
            extra={"optout_reason": str(reason), "optout_path": path},
        )


def record_choice(metrics: Metrics | None, kind: str) -> None:
    """Count a choice made on the opt-out page (``opt_out`` or ``opt_in``)."""
    if metrics is not None:
        metrics.increment(CHOICES, {"kind": str(kind)})


def record_report_summary(log: RateLimitedLog, path: str, counts: Mapping[str, int]) -> None:
    """Report mode's one line per page at ``WARNING``, so a rollout is visible with default
    logging: what enforcing would have removed from this page (each path once per window)."""
    total = sum(counts.values())
    rules = ", ".join(f"{rule} x{count}" for rule, count in sorted(counts.items()))
    log.log(
        logging.WARNING,
        ("report", path),
        "optout_mw: report mode: enforcing would remove %d tracker element(s) from %s (%s); "
        "nothing was changed",
        total,
        path,
        rules,
        extra={"optout_path": path, "optout_mode": "report", "optout_would_remove": total,
               "optout_rules": dict(counts)},
    )


class Observer:
    """The counters and rate-limited log of one middleware instance; survives reloads.

    :param metrics: where counts go (:class:`Counters`, :class:`PrometheusMetrics`, or your
        own); ``None`` counts nothing.
    """

    __slots__ = ("log", "metrics")

    def __init__(self, metrics: Metrics | None = None) -> None:
        self.metrics = metrics
        self.log = RateLimitedLog(logger)

    def decision(self, decision: Decision) -> None:
        record_decision(self.metrics, decision)

    def skipped(self, reason: str, path: str) -> None:
        record_skip(self.metrics, reason, log=self.log, path=path)

    def choice(self, kind: str) -> None:
        record_choice(self.metrics, kind)
