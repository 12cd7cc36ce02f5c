"""Counters, their Prometheus rendering, the recording functions and rate-limited logging."""

from __future__ import annotations

import logging
import sys
import threading
import types
from collections.abc import Mapping
from typing import Any, ClassVar

import pytest

from optout_mw import Rule, RuleSet, development_config
from optout_mw.decision import Decider, Decision
from optout_mw.metrics import (
    Counters,
    Metrics,
    PrometheusMetrics,
    RateLimitedLog,
    record_choice,
    record_decision,
    record_findings,
    record_skip,
)
from optout_mw.rewrite import Finding, HTMLRewriter

NOW = 1_750_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def decide(gpc: bool, cookie: str | None = None) -> Decision:
    decider = Decider(development_config())
    return decider.decide(["1"] if gpc else [], cookie, NOW)


def findings(page: bytes, *, report_only: bool) -> list[Finding]:
    rules = RuleSet([Rule(name="tracker", hosts=("tracker.test",))])
    rewriter = HTMLRewriter(rules, report_only=report_only)
    rewriter.feed(page)
    rewriter.close()
    return rewriter.findings


PAGE = (
    b'<script src="https://tracker.test/a.js"></script>\n'
    b'<img src="https://tracker.test/p.gif"><p>ok</p>'
)


# --- Counters ------------------------------------------------------------------------------


def test_counters_after_a_known_sequence() -> None:
    counters = Counters()
    counters.increment("optout_decisions_total", {"outcome": "opted_out"})
    counters.increment("optout_decisions_total", {"outcome": "opted_out"})
    counters.increment("optout_decisions_total", {"outcome": "permitted"}, value=5)
    counters.increment("optout_signals_total", {"verdict": "opt_out", "kind": "gpc"})
    counters.increment("optout_signals_total", {"kind": "gpc", "verdict": "opt_out"})
    counters.increment("plain_total")
    assert counters.snapshot() == {
        'optout_decisions_total{outcome="opted_out"}': 2,
        'optout_decisions_total{outcome="permitted"}': 5,
        'optout_signals_total{kind="gpc",verdict="opt_out"}': 2,  # label order is irrelevant
        "plain_total": 1,
    }
    assert counters.value("optout_decisions_total", {"outcome": "permitted"}) == 5
    assert counters.value("optout_decisions_total", {"outcome": "other"}) == 0
    counters.reset()
    assert counters.snapshot() == {}


def test_render_prometheus() -> None:
    counters = Counters()
    assert counters.render_prometheus() == ""
    counters.increment("optout_responses_skipped_total", {"reason": "decode_error"})
    counters.increment("optout_elements_total", {"rule": "meta-pixel", "action": "strip",
                                                 "mode": "enforce"}, 3)
    counters.increment("custom_total", {"note": 'a "quoted"\\ value\n'})
    assert counters.render_prometheus() == (
        "# TYPE custom_total counter\n"
        'custom_total{note="a \\"quoted\\"\\\\ value\\n"} 1\n'
        "# HELP optout_elements_total Tracker elements stripped or blocked (or, in report "
        "mode, found).\n"
        "# TYPE optout_elements_total counter\n"
        'optout_elements_total{action="strip",mode="enforce",rule="meta-pixel"} 3\n'
        "# HELP optout_responses_skipped_total HTML responses passed through unchanged "
        "although a rewrite was due, by reason.\n"
        "# TYPE optout_responses_skipped_total counter\n"
        'optout_responses_skipped_total{reason="decode_error"} 1\n'
    )


def test_counters_are_thread_safe() -> None:
    counters = Counters()
    barrier = threading.Barrier(8)

    def work() -> None:
        barrier.wait()
        for _ in range(2000):
            counters.increment("optout_choices_total", {"kind": "opt_out"})

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert counters.value("optout_choices_total", {"kind": "opt_out"}) == 16000


def test_counters_satisfy_the_protocol() -> None:
    metrics: Metrics = Counters()
    metrics.increment("x_total")
    assert isinstance(metrics, Counters) and metrics.value("x_total") == 1


# --- recording functions -----------------------------------------------------------------


def test_record_decision() -> None:
    counters = Counters()
    record_decision(counters, decide(gpc=True))
    record_decision(counters, decide(gpc=False))
    record_decision(counters, decide(gpc=False, cookie="usprivacy=1YYN"))
    record_decision(counters, decide(gpc=True, cookie="usprivacy=junk"))
    assert counters.snapshot() == {
        'optout_decisions_total{outcome="opted_out"}': 3,
        'optout_decisions_total{outcome="permitted"}': 1,
        'optout_signals_total{kind="gpc",verdict="opt_out"}': 2,
        'optout_signals_total{kind="us_privacy",verdict="invalid"}': 1,
        'optout_signals_total{kind="us_privacy",verdict="opt_out"}': 1,
    }


def test_record_findings_enforce_and_report(caplog: pytest.LogCaptureFixture) -> None:
    counters = Counters()
    log = RateLimitedLog(clock=Clock())
    with caplog.at_level(logging.DEBUG, logger="optout_mw"):
        record_findings(counters, log, "/a", findings(PAGE, report_only=False), False)
        record_findings(counters, log, "/b", findings(PAGE, report_only=True), True)
    assert counters.snapshot() == {
        'optout_elements_total{action="strip",mode="enforce",rule="tracker"}': 2,
        'optout_elements_total{action="strip",mode="report",rule="tracker"}': 2,
    }
    # One message per (path, rule): the second element of each page is not logged.
    records = [r for r in caplog.records if r.name == "optout_mw"]
    assert [(r.levelno, r.getMessage()) for r in records] == [
        (logging.DEBUG,
         "optout_mw: did strip tracker <script> https://tracker.test/a.js at 1:1 on /a"),
        (logging.INFO,
         "optout_mw: would strip tracker <script> https://tracker.test/a.js at 1:1 on /b"),
    ]
    fields = records[1].__dict__
    assert fields["optout_path"] == "/b"
    assert fields["optout_rule"] == "tracker"
    assert fields["optout_mode"] == "report"
    assert (fields["optout_line"], fields["optout_column"]) == (1, 1)


def test_record_findings_without_line_numbers_logs_the_offset(
    caplog: pytest.LogCaptureFixture,
) -> None:
    rewriter = HTMLRewriter(RuleSet([Rule(name="tracker", hosts=("tracker.test",))]),
                            line_numbers=False)
    rewriter.feed(PAGE)
    rewriter.close()
    with caplog.at_level(logging.DEBUG, logger="optout_mw"):
        record_findings(None, RateLimitedLog(clock=Clock()), "/a", rewriter.findings, False)
    (record,) = [r for r in caplog.records if r.name == "optout_mw"]
    assert record.getMessage() == (
        "optout_mw: did strip tracker <script> https://tracker.test/a.js at byte 0 on /a"
    )
    fields = record.__dict__
    assert (fields["optout_line"], fields["optout_column"], fields["optout_offset"]) == (
        None, None, 0)


def test_record_findings_without_metrics_still_logs(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="optout_mw"):
        record_findings(None, RateLimitedLog(clock=Clock()), "/", findings(PAGE, report_only=True),
                        True)
    assert len(caplog.records) == 1


def test_record_skip_and_choice(caplog: pytest.LogCaptureFixture) -> None:
    counters = Counters()
    log = RateLimitedLog(clock=Clock())
    with caplog.at_level(logging.WARNING, logger="optout_mw"):
        record_skip(counters, "decode_error", log=log, path="/x")
        record_skip(counters, "decode_error", log=log, path="/y")  # same reason: not logged
        record_skip(counters, "partial_content")
    record_choice(counters, "opt_out")
    record_choice(counters, "opt_in")
    record_choice(None, "opt_in")
    assert counters.snapshot() == {
        'optout_choices_total{kind="opt_in"}': 1,
        'optout_choices_total{kind="opt_out"}': 1,
        'optout_responses_skipped_total{reason="decode_error"}': 2,
        'optout_responses_skipped_total{reason="partial_content"}': 1,
    }
    assert [r.getMessage() for r in caplog.records] == [
        "optout_mw: HTML response passed through unchanged (decode_error) on /x"
    ]
    assert caplog.records[0].__dict__["optout_reason"] == "decode_error"


# --- RateLimitedLog ------------------------------------------------------------------------


def test_once_per_key_within_window() -> None:
    clock = Clock()
    log = RateLimitedLog(window=300, clock=clock)
    assert log.allow(("/", "r")) is True
    assert log.allow(("/", "r")) is False
    assert log.allow(("/other", "r")) is True
    clock.now = 299.9
    assert log.allow(("/", "r")) is False
    clock.now = 300.0
    assert log.allow(("/", "r")) is True


def test_global_cap_per_minute_with_summary(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    log = RateLimitedLog(per_minute=3, clock=clock)
    with caplog.at_level(logging.INFO, logger="optout_mw"):
        logged = [log.log(logging.INFO, key, "message %s", key) for key in range(5)]
        assert logged == [True, True, True, False, False]
        assert log.suppressed == 2
        clock.now = 60.0
        assert log.log(logging.INFO, "next", "message %s", "next") is True
    assert [r.getMessage() for r in caplog.records] == [
        "message 0",
        "message 1",
        "message 2",
        "optout_mw: 2 log messages suppressed by rate limiting in the last minute",
        "message next",
    ]
    assert log.suppressed == 0


def test_disabled_level_costs_no_budget(caplog: pytest.LogCaptureFixture) -> None:
    log = RateLimitedLog(per_minute=1, clock=Clock())
    with caplog.at_level(logging.WARNING, logger="optout_mw"):
        assert log.log(logging.INFO, "a", "quiet") is False
        assert log.log(logging.WARNING, "b", "loud") is True
    assert [r.getMessage() for r in caplog.records] == ["loud"]


def test_remembered_keys_are_bounded() -> None:
    clock = Clock()
    log = RateLimitedLog(window=300, per_minute=10_000, max_keys=100, clock=clock)
    for key in range(250):
        assert log.allow(key)
    assert len(log._seen) == 100
    assert log.allow(0) is True  # forgotten: the oldest keys went first
    assert log.allow(249) is False  # still remembered


def test_expired_keys_pruned_first() -> None:
    clock = Clock()
    log = RateLimitedLog(window=10, per_minute=10_000, max_keys=3, clock=clock)
    log.allow("old")
    clock.now = 20.0
    for key in ("a", "b", "c"):
        log.allow(key)
    assert set(log._seen) == {"a", "b", "c"}


# --- PrometheusMetrics ------------------------------------------------------------------------


class FakeCounter:
    created: ClassVar[list[FakeCounter]] = []

    def __init__(self, name: str, documentation: str, labelnames: tuple[str, ...] = (),
                 registry: Any = None) -> None:
        self.name = name
        self.documentation = documentation
        self.labelnames = labelnames
        self.registry = registry
        self.values: dict[tuple[str, ...], float] = {}
        self._key: tuple[str, ...] = ()
        FakeCounter.created.append(self)

    def labels(self, **labels: str) -> FakeCounter:
        if set(labels) != set(self.labelnames):
            raise ValueError("Incorrect label names")
        child = FakeCounter.__new__(FakeCounter)
        child.values = self.values
        child._key = tuple(labels[name] for name in self.labelnames)
        return child

    def inc(self, amount: float = 1) -> None:
        self.values[self._key] = self.values.get(self._key, 0) + amount


@pytest.fixture
def fake_client(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    module = types.ModuleType("prometheus_client")
    module.Counter = FakeCounter  # type: ignore[attr-defined]
    FakeCounter.created = []
    monkeypatch.setitem(sys.modules, "prometheus_client", module)
    return module


@pytest.mark.usefixtures("fake_client")
def test_prometheus_adapter(caplog: pytest.LogCaptureFixture) -> None:
    registry = object()
    metrics = PrometheusMetrics(registry=registry)
    metrics.increment("optout_decisions_total", {"outcome": "opted_out"})
    metrics.increment("optout_decisions_total", {"outcome": "opted_out"}, 2)
    metrics.increment("optout_elements_total", {"rule": "r", "action": "block", "mode": "report"})
    metrics.increment("other_total")
    by_name: Mapping[str, FakeCounter] = {c.name: c for c in FakeCounter.created
                                          if hasattr(c, "name")}
    decisions = by_name["optout_decisions_total"]
    assert decisions.registry is registry
    assert decisions.labelnames == ("outcome",)
    assert decisions.documentation == "Requests decided, by outcome."
    assert decisions.values == {("opted_out",): 3}
    assert by_name["optout_elements_total"].values == {("block", "report", "r"): 1}
    assert by_name["other_total"].values == {(): 1}
    with caplog.at_level(logging.WARNING, logger="optout_mw"):
        metrics.increment("optout_decisions_total", {"wrong": "x"})  # never raises
    assert "unexpected labels" in caplog.records[0].getMessage()


def test_prometheus_adapter_without_client(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "prometheus_client", None)
    with pytest.raises(ImportError, match="pip install prometheus-client"):
        PrometheusMetrics()
