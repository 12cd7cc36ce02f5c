"""Per-configuration compiled state shared by both adapters.

An :class:`Engine` is built once per :class:`~optout_mw.config.OptOutConfig` and never
changes; a reload swaps in a new engine, so a request always sees one consistent config.
Nothing per-request is stored on it.
"""

from __future__ import annotations

import logging
from typing import Protocol

from .config import Mode, OptOutConfig
from .decision import Decider, Decision
from .response import BodyPipeline, ResponsePlan, SkipReason

logger = logging.getLogger("optout_mw")


class Engine:
    __slots__ = ("_exclude", "_include", "config", "decider", "enforce", "ruleset", "vary")

    def __init__(self, config: OptOutConfig) -> None:
        self.config = config
        self.decider = Decider(config)
        self.ruleset = config.ruleset
        self.vary = config.vary
        self.enforce = config.mode is Mode.ENFORCE
        self._include = config.include_paths
        self._exclude = config.exclude_paths

    def path_applies(self, path: str) -> bool:
        if self._exclude and path.startswith(self._exclude):
            return False
        return not self._include or path.startswith(self._include)

    def wants_rewrite(self, decision: Decision, path: str) -> bool:
        """Whether this request's HTML responses go through the rewriter (or the reporter)."""
        return (
            not decision.sale_permitted
            and self.config.mode is not Mode.OFF
            and bool(self.ruleset)
            and self.path_applies(path)
        )

    def new_pipeline(self, plan: ResponsePlan, path: str) -> BodyPipeline:
        from .rewrite import HTMLRewriter

        rewriter = HTMLRewriter(
            self.ruleset,
            report_only=not self.enforce,
            attr_prefix=self.config.block_attr_prefix,
            max_pending=self.config.max_pending,
        )
        return BodyPipeline(
            _Observed(rewriter, path), encoding=plan.encoding, passthrough=not self.enforce
        )

    def skipped(self, reason: SkipReason, path: str) -> None:
        logger.warning(
            "optout_mw: HTML response for an opted-out visitor passed through unchanged",
            extra={"optout_reason": str(reason), "optout_path": path},
        )


class _Rewriter(Protocol):
    findings: list[object]
    overflowed: bool

    def feed(self, data: bytes) -> bytes: ...

    def close(self) -> bytes: ...


class _Observed:
    """Wraps the rewriter to log what it found or skipped when the body ends."""

    __slots__ = ("_path", "_rewriter")

    def __init__(self, rewriter: _Rewriter, path: str) -> None:
        self._rewriter = rewriter
        self._path = path

    def feed(self, data: bytes) -> bytes:
        return self._rewriter.feed(data)

    def close(self) -> bytes:
        out = self._rewriter.close()
        for finding in self._rewriter.findings:
            logger.info("optout_mw: %s", finding, extra={"optout_path": self._path})
        if self._rewriter.overflowed:
            logger.warning(
                "optout_mw: construct larger than max_pending passed through unchanged",
                extra={"optout_reason": str(SkipReason.BUFFER_OVERFLOW), "optout_path": self._path},
            )
        return out


class EngineSource(Protocol):
    """Anything that hands out the current engine (a fixed one, or a reloading one)."""

    def engine(self) -> Engine: ...


class StaticSource:
    __slots__ = ("_engine",)

    def __init__(self, config: OptOutConfig) -> None:
        self._engine = Engine(config)

    def engine(self) -> Engine:
        return self._engine
