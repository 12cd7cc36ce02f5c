"""Counters and logs produced by both adapters after a known sequence of requests."""

from __future__ import annotations

import asyncio
import io
import logging

import pytest

from optout_mw import OptOutASGIMiddleware, OptOutWSGIMiddleware, Rule, development_config
from optout_mw.metrics import Counters

from .asgi_harness import call, http_scope, scripted_app
from .wsgi_harness import list_app, make_environ, run

PAGE = b'<p>x</p><script src="https://cdn.tracker.test/t.js"></script>'
RULES = (Rule(name="tracker", hosts=("tracker.test",)),)


def asgi_requests(counters: Counters, **config: object) -> None:
    app = scripted_app(200, [(b"content-type", b"text/html")], [PAGE])
    mw = OptOutASGIMiddleware(app, config=development_config(rules=RULES, **config),
                              metrics=counters)
    for headers in ([], [(b"sec-gpc", b"1")], [(b"cookie", b"usprivacy=1YYN")]):
        asyncio.run(call(mw, http_scope(headers=headers)))
    utf16 = scripted_app(200, [(b"content-type", b"text/html; charset=utf-16")], [PAGE])
    mw16 = OptOutASGIMiddleware(utf16, config=development_config(rules=RULES, **config),
                                metrics=counters)
    asyncio.run(call(mw16, http_scope(headers=[(b"sec-gpc", b"1")])))


def wsgi_requests(counters: Counters, **config: object) -> None:
    app = list_app("200 OK", [("Content-Type", "text/html")], [PAGE])
    mw = OptOutWSGIMiddleware(app, config=development_config(rules=RULES, **config),
                              metrics=counters)
    for headers in ([], [("Sec-GPC", "1")], [("Cookie", "usprivacy=1YYN")]):
        run(mw, make_environ(headers=headers))
    utf16 = list_app("200 OK", [("Content-Type", "text/html; charset=utf-16")], [PAGE])
    mw16 = OptOutWSGIMiddleware(utf16, config=development_config(rules=RULES, **config),
                                metrics=counters)
    run(mw16, make_environ(headers=[("Sec-GPC", "1")]))


@pytest.mark.parametrize("drive", [asgi_requests, wsgi_requests], ids=["asgi", "wsgi"])
@pytest.mark.parametrize("mode", ["enforce", "report"])
def test_counters_after_known_requests(drive: object, mode: str) -> None:
    counters = Counters()
    drive(counters, mode=mode)  # type: ignore[operator]
    assert counters.value("optout_decisions_total", {"outcome": "permitted"}) == 1
    assert counters.value("optout_decisions_total", {"outcome": "opted_out"}) == 3
    assert counters.value("optout_signals_total", {"kind": "gpc", "verdict": "opt_out"}) == 2
    assert counters.value("optout_signals_total",
                          {"kind": "us_privacy", "verdict": "opt_out"}) == 1
    assert counters.value("optout_elements_total",
                          {"rule": "tracker", "action": "strip", "mode": mode}) == 2
    assert counters.value("optout_responses_skipped_total",
                          {"reason": "unsupported_charset"}) == 1


def test_report_mode_logs_each_finding_once_per_page_and_rule(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = list_app("200 OK", [("Content-Type", "text/html")], [PAGE + PAGE])
    mw = OptOutWSGIMiddleware(app, config=development_config(rules=RULES, mode="report"))
    with caplog.at_level(logging.INFO, logger="optout_mw"):
        for _ in range(5):
            assert run(mw, make_environ(headers=[("Sec-GPC", "1")])).body == PAGE + PAGE
    findings = [r for r in caplog.records if getattr(r, "optout_rule", None) == "tracker"]
    assert len(findings) == 1
    assert findings[0].getMessage() == (
        "optout_mw: would strip tracker <script> https://cdn.tracker.test/t.js at 1:9 on /"
    )


def test_enforce_mode_logs_findings_by_offset(caplog: pytest.LogCaptureFixture) -> None:
    app = list_app("200 OK", [("Content-Type", "text/html")], [PAGE])
    mw = OptOutWSGIMiddleware(app, config=development_config(rules=RULES))
    with caplog.at_level(logging.DEBUG, logger="optout_mw"):
        assert run(mw, make_environ(headers=[("Sec-GPC", "1")])).body == b"<p>x</p>"
    (finding,) = [r for r in caplog.records if getattr(r, "optout_rule", None) == "tracker"]
    assert finding.getMessage() == (
        "optout_mw: did strip tracker <script> https://cdn.tracker.test/t.js at byte 8 on /"
    )
    assert finding.__dict__["optout_line"] is None


def test_choices_counted() -> None:
    counters = Counters()
    app = list_app("200 OK", [("Content-Type", "text/html")], [b"x"])
    mw = OptOutWSGIMiddleware(app, config=development_config(), metrics=counters)
    environ = make_environ("/privacy/opt-out", method="POST",
                           headers=[("Content-Type", "application/x-www-form-urlencoded")])
    body = b"action=opt-out"
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    # Werkzeug's linter still insists on absolute Location URLs (RFC 9110 allows relative).
    result = run(mw, environ, lint=False)
    assert result.status_code == 303
    assert counters.value("optout_choices_total", {"kind": "opt-out"}) == 1


@pytest.mark.parametrize("adapter", ["asgi", "wsgi"])
def test_report_mode_is_visible_at_the_default_level(
    adapter: str, caplog: pytest.LogCaptureFixture
) -> None:
    # Python's default level is WARNING: a report-mode rollout must show there without any
    # logging configuration, one summary per page (each path once per window).
    config = development_config(rules=RULES, mode="report")
    app = scripted_app(200, [(b"content-type", b"text/html")], [PAGE, PAGE])
    asgi = OptOutASGIMiddleware(app, config=config)
    wapp = list_app("200 OK", [("Content-Type", "text/html")], [PAGE + PAGE])
    wsgi = OptOutWSGIMiddleware(wapp, config=config)
    with caplog.at_level(logging.WARNING, logger="optout_mw"):
        for path in ("/a", "/a", "/b"):
            if adapter == "asgi":
                asyncio.run(call(asgi, http_scope(path, headers=[(b"sec-gpc", b"1")])))
            else:
                run(wsgi, make_environ(path, headers=[("Sec-GPC", "1")]))
    summaries = [r for r in caplog.records if getattr(r, "optout_would_remove", None)]
    assert [r.optout_path for r in summaries] == ["/a", "/b"]  # type: ignore[attr-defined]
    assert all(r.levelno == logging.WARNING for r in summaries)
    assert summaries[0].getMessage() == (
        "optout_mw: report mode: enforcing would remove 2 tracker element(s) from /a "
        "(tracker x2); nothing was changed"
    )


def test_enforce_mode_writes_no_report_summary(caplog: pytest.LogCaptureFixture) -> None:
    app = list_app("200 OK", [("Content-Type", "text/html")], [PAGE])
    with caplog.at_level(logging.WARNING, logger="optout_mw"):
        run(OptOutWSGIMiddleware(app, config=development_config(rules=RULES)),
            make_environ(headers=[("Sec-GPC", "1")]))
    assert not [r for r in caplog.records if getattr(r, "optout_would_remove", None)]
