"""Violation reports: total parsing, classification, the bounded tally, the rate limit, the
endpoint's logic and the allowlist suggestion.

Chromium's own reports (both formats) and the guard's beacon as Chromium sends it are
checked end to end in tests/e2e/test_guard_csp.py; here the formats are those of CSP3 §5.3
(Reporting API bodies) and CSP2 §4.4 (``report-uri``), with values of the shapes browsers
send.
"""

from __future__ import annotations

import json
import logging

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optout_mw.csp import CspSettings
from optout_mw.metrics import REPORTS, RUNTIME_BLOCKED, Counters
from optout_mw.reports import (
    MAX_REPORTS,
    Classification,
    Kind,
    Layer,
    RateLimiter,
    RejectReason,
    ReportAggregator,
    ReportEndpoint,
    Violation,
    classify,
    parse_body,
    parse_document,
    suggest_allowlist,
    tally,
)
from optout_mw.rules import Rule, RuleSet

RULES = RuleSet([
    Rule(name="gtm", hosts=("googletagmanager.com",)),
    Rule(name="meta", hosts=("connect.facebook.net",), host_paths=("facebook.com/tr",)),
])


def reporting_api(*bodies: dict[str, object]) -> bytes:
    return json.dumps([
        {"type": "csp-violation", "age": 10, "url": "https://shop.example/p?id=1",
         "user_agent": "Mozilla/5.0", "body": body}
        for body in bodies
    ]).encode()


def csp3_body(blocked: str, directive: str = "script-src-elem",
              disposition: str = "enforce") -> dict[str, object]:
    return {
        "documentURL": "https://shop.example/cart?session=secret#top",
        "blockedURL": blocked, "effectiveDirective": directive,
        "originalPolicy": "script-src-elem 'self'", "disposition": disposition,
        "statusCode": 200, "sample": "", "referrer": "",
    }


def csp2(blocked: str, directive: str = "connect-src", disposition: str = "report") -> bytes:
    return json.dumps({"csp-report": {
        "document-uri": "https://shop.example/checkout?card=1", "referrer": "",
        "violated-directive": directive, "effective-directive": directive,
        "original-policy": "connect-src 'self'", "disposition": disposition,
        "blocked-uri": blocked, "status-code": 200, "script-sample": "",
    }}).encode()


def beacon(*blocked: tuple[str, str], total: int | None = None) -> bytes:
    return json.dumps({
        "type": "optout-guard", "page": "/product/1?ref=mail", "total": total or len(blocked),
        "vectors": {}, "blocked": [{"url": url, "vector": vector} for url, vector in blocked],
    }).encode()


# --- parsing ------------------------------------------------------------------------------


def test_reporting_api_body() -> None:
    parsed = parse_body("application/reports+json", reporting_api(
        csp3_body("https://www.googletagmanager.com/gtm.js?id=GTM-1#x"),
        csp3_body("https://api.partner.example/v1", "connect-src", "report"),
    ), 65536)
    assert parsed.reason is None
    assert parsed.violations == (
        Violation(Layer.CSP, True, "https://www.googletagmanager.com/gtm.js",
                  "script-src-elem", "", "/cart"),
        Violation(Layer.CSP, False, "https://api.partner.example/v1", "connect-src", "",
                  "/cart"),
    )


def test_report_uri_body_keeps_no_query_string() -> None:
    parsed = parse_body("application/csp-report", csp2("https://u:p@x.example/a?b=c"), 65536)
    (violation,) = parsed.violations
    assert violation == Violation(Layer.CSP, False, "https://x.example/a", "connect-src", "",
                                  "/checkout")


def test_csp2_violated_directive_is_cut_to_its_name() -> None:
    body = json.dumps({"csp-report": {"blocked-uri": "inline",
                                      "violated-directive": "script-src-elem 'self' a.example"}})
    (violation,) = parse_document(json.loads(body)).violations
    assert violation.directive == "script-src-elem" and violation.blocked == "inline"


def test_guard_beacon() -> None:
    parsed = parse_body("text/plain;charset=UTF-8", beacon(
        ("https://connect.facebook.net/en_US/fbevents.js", "appendChild"),
        ("https://www.facebook.com/tr", "sendBeacon"), ("", "insertBefore"),
        ("https://x.example/", "bogus-vector"), total=7), 65536)
    assert [(v.layer, v.blocked, v.vector, v.page) for v in parsed.violations] == [
        (Layer.GUARD, "https://connect.facebook.net/en_US/fbevents.js", "appendChild",
         "/product/1"),
        (Layer.GUARD, "https://www.facebook.com/tr", "sendBeacon", "/product/1"),
        (Layer.GUARD, "", "insertBefore", "/product/1"),
        (Layer.GUARD, "https://x.example/", "other", "/product/1"),
    ]
    assert parsed.dropped == 3  # attempts counted by the guard but not listed


@pytest.mark.parametrize(
    ("content_type", "body", "reason"),
    [
        pytest.param("text/html", b"{}", RejectReason.UNSUPPORTED_TYPE, id="html"),
        pytest.param(None, b"{}", RejectReason.UNSUPPORTED_TYPE, id="no type"),
        pytest.param("application/json", b"x" * 70_000, RejectReason.TOO_LARGE, id="too large"),
        pytest.param("application/json", b"\xff\xfe{}", RejectReason.MALFORMED, id="not utf-8"),
        pytest.param("application/json", b"{", RejectReason.MALFORMED, id="not json"),
        pytest.param("application/json", b"[" * 60_000, RejectReason.MALFORMED,
                     id="deep nesting"),
        pytest.param("application/json", b"1" * 5000, RejectReason.MALFORMED,
                     id="huge integer"),
        pytest.param("application/json", b'{"a": 1}', RejectReason.MALFORMED, id="no report"),
        pytest.param("application/reports+json", b'[{"type": "deprecation"}]',
                     RejectReason.MALFORMED, id="other report type"),
        pytest.param("application/csp-report", b'{"csp-report": {"blocked-uri": 1}}',
                     RejectReason.MALFORMED, id="wrong field type"),
    ],
)
def test_unusable_bodies_have_a_reason(content_type: str | None, body: bytes,
                                       reason: RejectReason) -> None:
    parsed = parse_body(content_type, body, 65536)
    assert parsed.reason is reason and parsed.violations == ()


def test_reports_per_body_are_bounded() -> None:
    body = reporting_api(*[csp3_body(f"https://h{i}.example/") for i in range(MAX_REPORTS + 9)])
    parsed = parse_body("application/reports+json", body, 1 << 20)
    assert len(parsed.violations) == MAX_REPORTS and parsed.dropped == 9


def test_fields_are_cleaned_and_bounded() -> None:
    parsed = parse_document({"csp-report": {
        "blocked-uri": "https://x.example/" + "a\n\x00b" * 200, "violated-directive": "x\ny",
        "document-uri": "https://shop.example/\r\nforged: header"}})
    (violation,) = parsed.violations
    assert len(violation.blocked) <= 256 and "\n" not in violation.blocked
    assert violation.directive == "" and "\n" not in violation.page


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=5)
    | st.dictionaries(st.sampled_from(["type", "body", "csp-report", "blocked", "url",
                                       "blockedURL", "blocked-uri", "effectiveDirective",
                                       "violated-directive", "vector", "total", "page"]),
                      children, max_size=6),
    max_leaves=30,
)


@settings(max_examples=300)
@given(JSON)
def test_any_json_document_parses_without_raising(document: object) -> None:
    parsed = parse_document(document)
    for violation in parsed.violations:
        assert len(violation.blocked) <= 256
        classify(violation.blocked, RULES)


@given(st.binary(max_size=300), st.sampled_from(["application/json", "text/plain",
                                                 "application/reports+json", "x/y"]))
def test_any_bytes_parse_without_raising(body: bytes, content_type: str) -> None:
    parse_body(content_type, body, 256)


# --- classification and tally --------------------------------------------------------------


@pytest.mark.parametrize(
    ("blocked", "label"),
    [
        pytest.param("https://www.googletagmanager.com/gtm.js", "tracker:gtm", id="tracker"),
        pytest.param("https://www.facebook.com/tr", "tracker:meta", id="tracker path"),
        pytest.param("https://www.facebook.com/", "unknown:www.facebook.com",
                     id="tracker host outside its path"),
        pytest.param("wss://live.partner.example:8443/s", "unknown:live.partner.example",
                     id="unknown host"),
        pytest.param("https://XN--BCHER-KVA.example./x", "unknown:xn--bcher-kva.example",
                     id="host normalised"),
        pytest.param("inline", "other:inline", id="inline keyword"),
        pytest.param("eval", "other:eval", id="eval"),
        pytest.param("", "other:inline", id="guard inline script"),
        pytest.param("data:image/png;base64,AAAA", "other:data", id="data url"),
        pytest.param("blob:https://shop.example/1", "other:blob", id="blob url"),
        pytest.param("/relative", "other:unparsable", id="relative"),
    ],
)
def test_classify(blocked: str, label: str) -> None:
    assert classify(blocked, RULES).label == label


def test_tally_counts_and_is_bounded() -> None:
    aggregator = ReportAggregator(max_entries=3)
    seen = [Violation(Layer.CSP, True, f"https://h{i % 4}.example/", "connect-src")
            for i in range(10)]
    tally(seen, RULES, aggregator)
    entries = aggregator.entries()
    assert [(e.name, e.count) for e in entries] == [
        ("h0.example", 3), ("h1.example", 3), ("h2.example", 2)]
    assert aggregator.dropped == 2


def test_snapshot_round_trip_reclassifies_by_the_rules() -> None:
    aggregator = ReportAggregator()
    aggregator.add(Violation(Layer.CSP, True, "", "script-src-elem"),
                   Classification(Kind.UNKNOWN, "www.googletagmanager.com"), 4)
    aggregator.add(Violation(Layer.GUARD, True, "", vector="fetch"),
                   Classification(Kind.TRACKER, "gtm"), 2)
    snapshot = json.loads(json.dumps(aggregator.snapshot()))
    again = ReportAggregator()
    assert again.merge(snapshot, RULES) == 2
    assert {(e.layer, e.where, e.kind, e.name, e.count) for e in again.entries()} == {
        (Layer.CSP, "script-src-elem", Kind.TRACKER, "gtm", 4),
        (Layer.GUARD, "fetch", Kind.TRACKER, "gtm", 2),
    }
    bad = {"entries": [{"layer": "csp", "mode": "enforce", "where": "x", "kind": "unknown",
                        "name": "h.example", "count": True}, "junk", {"layer": "other"}]}
    assert again.merge(bad, RULES) == 0


# --- rate limit ---------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_rate_limit_per_client_refills() -> None:
    clock = Clock()
    limiter = RateLimiter(rate=1.0, burst=3, total_rate=100, total_burst=100, clock=clock)
    assert [limiter.allow("a") for _ in range(4)] == [True, True, True, False]
    assert limiter.allow("b")
    clock.now += 1.0
    assert limiter.allow("a") and not limiter.allow("a")


def test_rate_limit_in_total() -> None:
    clock = Clock()
    limiter = RateLimiter(rate=10, burst=10, total_rate=1, total_burst=5, clock=clock)
    assert sum(limiter.allow(f"c{i}") for i in range(20)) == 5
    clock.now += 2.0
    assert sum(limiter.allow(f"d{i}") for i in range(20)) == 2


def test_rate_limit_memory_is_bounded() -> None:
    limiter = RateLimiter(max_clients=100, total_burst=1e9, total_rate=1e9)
    for i in range(10_000):
        limiter.allow(f"10.0.{i // 256}.{i % 256}")
    assert len(limiter) == 100


def test_rate_limit_arguments() -> None:
    with pytest.raises(ValueError, match="positive"):
        RateLimiter(rate=0)


# --- the endpoint -------------------------------------------------------------------------


def endpoint(**kwargs: object) -> tuple[ReportEndpoint, Counters]:
    counters = Counters()
    return ReportEndpoint(RULES, metrics=counters, **kwargs), counters  # type: ignore[arg-type]


def test_endpoint_accepts_classifies_counts_and_tallies(caplog: pytest.LogCaptureFixture) -> None:
    ep, counters = endpoint()
    caplog.set_level(logging.DEBUG, logger="optout_mw")
    body = reporting_api(csp3_body("https://www.googletagmanager.com/gtm.js"),
                         csp3_body("https://api.partner.example/x", "connect-src"))
    response = ep.handle("POST", "application/reports+json", body, "203.0.113.9")
    assert (response.status, response.outcome) == (204, "accepted")
    assert counters.value(REPORTS, {"outcome": "accepted"}) == 1
    assert counters.value(RUNTIME_BLOCKED, {"layer": "csp", "mode": "enforce",
                                            "kind": "tracker", "rule": "gtm"}) == 1
    assert counters.value(RUNTIME_BLOCKED, {"layer": "csp", "mode": "enforce",
                                            "kind": "unknown", "rule": ""}) == 1
    labels = {(e.kind, e.name) for e in ep.aggregator.entries()}
    assert labels == {(Kind.TRACKER, "gtm"), (Kind.UNKNOWN, "api.partner.example")}
    messages = [r.getMessage() for r in caplog.records]
    assert "optout_mw: csp blocked tracker:gtm (script-src-elem) on /cart" in messages
    warning = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert [r.getMessage() for r in warning] == [
        "optout_mw: the CSP blocked api.partner.example (connect-src) on /cart, a host no rule "
        "names; if the page needs it, add it to csp.connect_hosts"]
    assert warning[0].optout_label == "unknown:api.partner.example"  # type: ignore[attr-defined]


def test_endpoint_guard_beacon_and_report_only(caplog: pytest.LogCaptureFixture) -> None:
    ep, counters = endpoint()
    caplog.set_level(logging.INFO, logger="optout_mw")
    assert ep.handle("POST", "text/plain", beacon(
        ("https://www.facebook.com/tr", "sendBeacon")), "c").status == 204
    assert ep.handle("post", "application/csp-report",
                     csp2("https://api.partner.example/x"), "c").status == 204
    assert counters.value(RUNTIME_BLOCKED, {"layer": "guard", "mode": "enforce",
                                            "kind": "tracker", "rule": "meta"}) == 1
    assert counters.value(RUNTIME_BLOCKED, {"layer": "csp", "mode": "report",
                                            "kind": "unknown", "rule": ""}) == 1
    # Report-only: nothing was blocked, so nothing is a warning.
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


@pytest.mark.parametrize(
    ("method", "content_type", "body", "status", "outcome"),
    [
        pytest.param("GET", "application/json", b"", 405, "method_not_allowed", id="get"),
        pytest.param("POST", "text/html", b"<p>", 415, "unsupported_type", id="html"),
        pytest.param("POST", "application/json", b"{" * 10, 400, "malformed", id="malformed"),
        pytest.param("POST", "application/json", b" " * 65537, 413, "too_large", id="large"),
    ],
)
def test_endpoint_rejections(method: str, content_type: str, body: bytes, status: int,
                             outcome: str) -> None:
    ep, counters = endpoint()
    response = ep.handle(method, content_type, body, "c")
    assert (response.status, response.outcome) == (status, outcome)
    assert counters.value(REPORTS, {"outcome": outcome}) == 1
    assert not ep.aggregator.entries()


def test_endpoint_rate_limit() -> None:
    ep, counters = endpoint(limiter=RateLimiter(rate=0.001, burst=2, clock=Clock()))
    statuses = [ep.handle("POST", "application/csp-report", csp2("https://a.example/"),
                          "198.51.100.1").status for _ in range(3)]
    assert statuses == [204, 204, 429]
    assert ep.handle("POST", "application/csp-report", csp2("https://a.example/"),
                     "198.51.100.1").headers == (("Retry-After", "1"),)
    assert counters.value(REPORTS, {"outcome": "rate_limited"}) == 2


def test_endpoint_logs_each_label_once_per_window(caplog: pytest.LogCaptureFixture) -> None:
    ep, _ = endpoint(limiter=RateLimiter(burst=1000, total_burst=1000))
    caplog.set_level(logging.INFO, logger="optout_mw")
    for _ in range(50):
        ep.handle("POST", "application/csp-report",
                  csp2("https://www.googletagmanager.com/x", "script-src-elem", "enforce"), "c")
    assert len(caplog.records) == 1
    (entry,) = ep.aggregator.entries()
    assert entry.count == 50


# --- the suggestion -----------------------------------------------------------------------


def test_suggestion_proposes_unknown_hosts_per_directive_and_leaves_trackers_out() -> None:
    aggregator = ReportAggregator()
    reports = [
        Violation(Layer.CSP, True, "https://api.partner.example/v1", "connect-src"),
        Violation(Layer.CSP, True, "https://api.partner.example/v2", "connect-src"),
        Violation(Layer.CSP, False, "https://fonts.cdn.example/a.js", "script-src-elem"),
        Violation(Layer.CSP, True, "https://www.googletagmanager.com/gtm.js",
                  "script-src-elem"),
        Violation(Layer.CSP, True, "https://player.video.example/e/1", "frame-src"),
        Violation(Layer.CSP, True, "https://known.example/x", "connect-src"),
        Violation(Layer.CSP, True, "inline", "script-src-elem"),
        Violation(Layer.GUARD, True, "https://not-a-tracker.example/x", vector="fetch"),
    ]
    tally(reports, RULES, aggregator)
    current = CspSettings(connect_hosts=("*.known.example", "known.example"))
    suggestion = suggest_allowlist(aggregator.entries(), RULES, current)
    assert suggestion.add == {
        "connect_hosts": (("api.partner.example", 2),),
        "script_hosts": (("fonts.cdn.example", 1),),
        "frame_hosts": (("player.video.example", 1),),
    }
    assert suggestion.trackers == (("gtm", 1),)
    assert suggestion.toml() == (
        "[csp]\n"
        'script_hosts = ["fonts.cdn.example"]\n'
        'connect_hosts = ["*.known.example", "known.example", "api.partner.example"]\n'
        'frame_hosts = ["player.video.example"]\n'
        "# left out, trackers by the rules: gtm (1)\n"
    )
    assert suggest_allowlist(aggregator.entries(), RULES, current, min_count=2).add == {
        "connect_hosts": (("api.partner.example", 2),)}


def test_suggestion_never_proposes_a_tracker_host_from_an_old_tally() -> None:
    aggregator = ReportAggregator()
    aggregator.add(Violation(Layer.CSP, True, "", "script-src-elem"),
                   Classification(Kind.UNKNOWN, "connect.facebook.net"), 9)
    suggestion = suggest_allowlist(aggregator.entries(), RULES)
    assert suggestion.add == {} and suggestion.trackers == (("meta", 9),)
