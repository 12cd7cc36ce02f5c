"""Per-configuration compiled state shared by both adapters.

An :class:`Engine` is built once per :class:`~optout_mw.config.OptOutConfig` and never
changes; a reload swaps in a new engine, so a request always sees one consistent config.
Nothing per-request is stored on it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

from .config import Mode, OptOutConfig
from .decision import Decider, Decision
from .endpoints import Endpoints
from .metrics import (
    Metrics,
    RateLimitedLog,
    record_choice,
    record_decision,
    record_findings,
    record_skip,
)
from .response import BodyPipeline, ResponsePlan, SkipReason
from .rewrite import HTMLRewriter, warm_up
from .stubs import StubInjector
from .writeback import WriteBack

logger = logging.getLogger("optout_mw")
AppT = TypeVar("AppT")


class Engine:
    __slots__ = (
        "_exclude", "_include", "_transforms", "all_paths", "config", "decider",
        "endpoint_paths", "endpoints", "enforce", "off", "refuses", "ruleset", "stubs", "vary",
        "vary_value", "writeback",
    )

    def __init__(self, config: OptOutConfig) -> None:
        self.config = config
        # Built once and shared: one decider (and its choice-cookie codec), one write-back,
        # one GPP encoder for the write-back cookies and the stub alike.
        self.decider = Decider(config)
        self.writeback = WriteBack(config, self.decider.codec)
        self.stubs = StubInjector(config, self.writeback.gpp)
        self.endpoints = Endpoints(config, decider=self.decider, writeback=self.writeback)
        self.ruleset = config.ruleset
        self.vary = config.vary
        #: The ``Vary`` value to add when a response has none of its own.
        self.vary_value = ", ".join(config.vary)
        self.off = config.mode is Mode.OFF
        self.enforce = config.mode is Mode.ENFORCE
        self.refuses = self.enforce and config.refuse_unrewritable
        #: The enabled endpoint paths (membership is all the hot path needs).
        self.endpoint_paths = self.endpoints.paths
        self._include = config.include_paths
        self._exclude = config.exclude_paths
        #: Whether every path is enforced (no include or exclude list to test).
        self.all_paths = not (self._include or self._exclude)
        self._transforms = bool(self.ruleset) or (config.inject_stubs and self.enforce)
        if self._transforms and not self.off:
            warm_up()  # at start-up rather than on the first opted-out visitor's page

    def path_applies(self, path: str) -> bool:
        if self.all_paths:
            return True
        if self._exclude and path.startswith(self._exclude):
            return False
        return not self._include or path.startswith(self._include)

    def wants_rewrite(self, decision: Decision, applies: bool) -> bool:
        """Whether this request's HTML responses go through the rewriter (or the reporter)."""
        return (
            not decision.sale_permitted
            and self._transforms
            and self.config.mode is not Mode.OFF
            and applies
        )

    def new_pipeline(
        self,
        plan: ResponsePlan,
        path: str,
        decision: Decision,
        csp: str | None,
        observer: Observer,
    ) -> BodyPipeline:
        inject = self.stubs.script(decision, csp) if self.enforce else None
        rewriter = HTMLRewriter(
            self.ruleset,
            report_only=not self.enforce,
            attr_prefix=self.config.block_attr_prefix,
            max_pending=self.config.max_pending,
            inject=inject,
            # Enforcing, findings are logged at DEBUG: not worth counting lines for.
            line_numbers=not self.enforce,
        )
        return BodyPipeline(
            _Observed(rewriter, path, observer, not self.enforce),
            encoding=plan.encoding,
            passthrough=not self.enforce,
        )


class Observer:
    """The counters and rate-limited log of one middleware instance; survives reloads.

    :param metrics: where counts go (:class:`~optout_mw.metrics.Counters`,
        :class:`~optout_mw.metrics.PrometheusMetrics`, or your own); ``None`` counts nothing.
    """

    __slots__ = ("log", "metrics")

    def __init__(self, metrics: Metrics | None = None) -> None:
        self.metrics = metrics
        self.log = RateLimitedLog(logger)

    def decision(self, decision: Decision) -> None:
        if self.metrics is not None:
            record_decision(self.metrics, decision)

    def skipped(self, reason: SkipReason, path: str) -> None:
        record_skip(self.metrics, reason, log=self.log, path=path)

    def choice(self, kind: str) -> None:
        record_choice(self.metrics, kind)


class _Observed:
    """Wraps the rewriter to count and log what it found or skipped when the body ends."""

    __slots__ = ("_observer", "_path", "_report_only", "_rewriter")

    def __init__(
        self, rewriter: HTMLRewriter, path: str, observer: Observer, report_only: bool
    ) -> None:
        self._rewriter = rewriter
        self._path = path
        self._observer = observer
        self._report_only = report_only

    def feed(self, data: bytes) -> bytes:
        out = self._rewriter.feed(data)
        if self._rewriter.findings:
            self._drain()
        return out

    def _drain(self) -> None:
        # Findings are counted as they come and dropped, so a page with thousands of
        # trackers costs no more memory than one.
        observer = self._observer
        findings = self._rewriter.findings
        record_findings(observer.metrics, observer.log, self._path, findings, self._report_only)
        findings.clear()

    def close(self) -> bytes:
        out = self._rewriter.close()
        self._drain()
        observer = self._observer
        if self._rewriter.overflowed:
            observer.skipped(SkipReason.BUFFER_OVERFLOW, self._path)
        return out


class MiddlewareBase(Generic[AppT]):
    """What both adapters share: the wrapped app, the configuration source, the clock and
    the counters. Nothing per-request is stored here."""

    def __init__(
        self,
        app: AppT,
        *,
        config: OptOutConfig | EngineSource,
        clock: Callable[[], float] = time.time,
        metrics: Metrics | None = None,
    ) -> None:
        self.app = app
        self._observer = Observer(metrics)
        self._source: EngineSource = (
            StaticSource(config) if isinstance(config, OptOutConfig) else config
        )
        self._clock = clock


class EngineSource(Protocol):
    """Anything that hands out the current engine (a fixed one, or a reloading one)."""

    def engine(self) -> Engine: ...


class StaticSource:
    __slots__ = ("_engine",)

    def __init__(self, config: OptOutConfig) -> None:
        self._engine = Engine(config)

    def engine(self) -> Engine:
        return self._engine
