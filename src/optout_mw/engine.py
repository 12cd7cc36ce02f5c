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

from ._cache import BoundedCache
from .config import Mode, OptOutConfig, apply_operator_override
from .decision import Decider, Decision
from .endpoints import EndpointRequest, EndpointResponse, Endpoints
from .metrics import Metrics, Observer, record_findings, record_report_summary
from .request import RequestView
from .response import BodyPipeline, ResponseEnforcer, ResponsePlan, SkipReason, is_html
from .rewrite import HTMLRewriter, warm_up
from .stubs import StubInjector
from .writeback import WriteBack

logger = logging.getLogger("optout_mw")
AppT = TypeVar("AppT")

#: Distinct ``Content-Type`` values whose HTML verdict is remembered: an application sends
#: only a handful, and a dict lookup costs a fraction of a regex match.
_CONTENT_TYPES_REMEMBERED = 256


class Engine:
    """Everything one configuration compiles to, built once and shared by every request:
    the decider, the rule set, the endpoints, the write-back cookies, and the factory of
    per-response :class:`~optout_mw.response.ResponseEnforcer` objects."""

    __slots__ = (
        "_exclude", "_include", "_transforms", "all_paths", "config", "decider",
        "endpoint_paths", "endpoints", "enforce", "html_types", "off", "refuses", "ruleset",
        "stubs", "vary", "writeback",
    )

    def __init__(self, config: OptOutConfig) -> None:
        # The operator's OPTOUT_FORCE_MODE beats every source, code included: applied
        # where every configuration becomes an engine (start-up and each reload).
        config = apply_operator_override(config)
        self.config = config
        # Built once and shared: one decider (and its choice-cookie codec), one write-back,
        # one GPP encoder for the write-back cookies and the stub alike.
        self.decider = Decider(config)
        self.writeback = WriteBack(config, self.decider.codec)
        self.stubs = StubInjector(config, self.writeback.gpp)
        self.endpoints = Endpoints(config, decider=self.decider, writeback=self.writeback)
        self.ruleset = config.ruleset
        #: Request headers a page depends on, for ``Vary``.
        self.vary = config.vary
        self.off = config.mode is Mode.OFF
        self.enforce = config.mode is Mode.ENFORCE
        self.refuses = self.enforce and config.refuse_unrewritable
        #: The enabled endpoint paths (membership is all the hot path needs).
        self.endpoint_paths = self.endpoints.paths
        #: ``Content-Type`` value (raw ASGI bytes or WSGI str) -> whether it is HTML.
        self.html_types: BoundedCache[str | bytes, bool] = BoundedCache(
            _CONTENT_TYPES_REMEMBERED
        )
        self._include = config.include_paths
        self._exclude = config.exclude_paths
        #: Whether every path is enforced (no include or exclude list to test).
        self.all_paths = not (self._include or self._exclude)
        self._transforms = bool(self.ruleset) or (config.inject_stubs and self.enforce)
        if self._transforms and not self.off:
            warm_up()  # at start-up rather than on the first opted-out visitor's page
        for warning in config.warnings():
            # Valid but almost certainly not meant (no rules at all, a page that cannot
            # record a choice): said loudly at start-up and on every reload.
            logger.warning("optout_mw: %s", warning, extra={"optout_config_warning": warning})

    def learn_content_type(self, value: str | bytes) -> bool:
        """Whether a ``Content-Type`` value is HTML, remembered in :attr:`html_types`."""
        return self.html_types.put(value, is_html(value))

    def is_html(self, content_type: str | bytes) -> bool:
        """:func:`~optout_mw.response.is_html` through :attr:`html_types`."""
        known = self.html_types.get(content_type)
        return self.learn_content_type(content_type) if known is None else known

    def enforcer(self, view: RequestView, observer: Observer, *, raw: bool) -> ResponseEnforcer:
        """A new enforcer for one response to ``view`` (``raw``: ASGI ``bytes`` headers)."""
        return ResponseEnforcer(self, view, observer, raw=raw)

    def may_rewrite(self, view: RequestView) -> bool:
        """Whether this request's HTML responses would be rewritten or reported (computes
        the decision)."""
        return self.wants_rewrite(view.decision, self.path_applies(view.path))

    def serve(
        self, view: RequestView, body: bytes, body_too_large: bool, observer: Observer
    ) -> EndpointResponse:
        """Answer a request to one of the endpoints (the adapters read the body first)."""
        request = EndpointRequest.from_view(view, body, body_too_large)
        response = self.endpoints.handle(request, view.decision, view.now)
        if response.event is not None:
            observer.choice(response.event.kind)
        return response

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


class _Observed:
    """Wraps the rewriter to count and log what it found or skipped when the body ends."""

    __slots__ = ("_observer", "_path", "_report_only", "_rewriter", "_would_remove")

    def __init__(
        self, rewriter: HTMLRewriter, path: str, observer: Observer, report_only: bool
    ) -> None:
        self._rewriter = rewriter
        self._path = path
        self._observer = observer
        self._report_only = report_only
        #: Report mode: findings per rule, for the page's one summary line.
        self._would_remove: dict[str, int] = {}

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
        if self._report_only:
            counts = self._would_remove
            for finding in findings:
                counts[finding.rule] = counts.get(finding.rule, 0) + 1
        findings.clear()

    def close(self) -> bytes:
        out = self._rewriter.close()
        self._drain()
        observer = self._observer
        if self._would_remove:
            record_report_summary(observer.log, self._path, self._would_remove)
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
        self._source = _engine_source(config, type(self).__name__)
        self._clock = clock


def _engine_source(config: object, adapter: str) -> EngineSource:
    """The engine source for ``config=``; a clear ``TypeError`` at construction for
    anything else (a dict, ``None``), rather than an ``AttributeError`` on every request."""
    if isinstance(config, OptOutConfig):
        return StaticSource(config)
    if callable(getattr(config, "engine", None)):
        return config  # type: ignore[return-value]  # an EngineSource, checked by duck type
    hint = ""
    if isinstance(config, dict):
        hint = (" (a dict: build the configuration with OptOutConfig(**values) or "
                "load_config(mapping=...))")
    elif config is None:
        hint = " (build one with load_config() or OptOutConfig(secret_keys=[...]))"
    raise TypeError(
        f"{adapter}(config=...) expects an OptOutConfig or a ReloadingConfig, got "
        f"{type(config).__name__}{hint}"
    )


class EngineSource(Protocol):
    """Anything that hands out the current engine (a fixed one, or a reloading one)."""

    def engine(self) -> Engine: ...


class StaticSource:
    __slots__ = ("_engine",)

    def __init__(self, config: OptOutConfig) -> None:
        self._engine = Engine(config)

    def engine(self) -> Engine:
        return self._engine
