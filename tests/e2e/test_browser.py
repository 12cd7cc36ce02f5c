"""The examples in a real browser: what Chromium actually contacts, for opted-in and
opted-out visitors, on the Flask (WSGI) and Starlette (ASGI) shops.

Every host but the first-party origin resolves to a local sink (see ``sink.py``), so a
"contact" is any connection the browser opened, including preconnects that never send a
request. Opted-out loads are checked exactly the way the opted-in loads of
``test_gpc_visitor_contacts_no_vendor`` are, and those do reach every vendor: that is what
makes "contacted nothing" mean something. Each browser gets a fresh profile, so nothing is
served from a cache or remembered from an earlier failure.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page

from examples.shop import demo_config

from .conftest import WAIT, AppServer, Browser
from .sink import Contact, TrackerSink

#: Hosts the demo page's tags reach with JavaScript on (the ``//bat.bing.com`` tag is
#: scheme-relative, so it goes out over plain HTTP from the http test origin).
SCRIPT_HOSTS = {
    "www.googletagmanager.com",
    "connect.facebook.net",
    "analytics.tiktok.com",
    "bat.bing.com",
    "googleads.g.doubleclick.net",
}
#: Hosts reached with JavaScript off: the ``<noscript>`` GTM iframe and Meta pixel, the ad.
NOSCRIPT_HOSTS = {
    "www.googletagmanager.com",
    "www.facebook.com",
    "googleads.g.doubleclick.net",
}
GPC = {"Sec-GPC": "1"}
HONORED = "Opt-Out Request Honored"
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "optout-page.png"


def first_page(context: BrowserContext) -> Page:
    # A persistent context opens with one blank tab; use it rather than a second window.
    return context.pages[0] if context.pages else context.new_page()


def load(page: Page, url: str) -> None:
    """Navigate and wait until the page and everything it started have settled."""
    page.goto(url, wait_until="load")
    page.wait_for_load_state("networkidle")


def contacts_of_load(sink: TrackerSink, page: Page, url: str) -> list[Contact]:
    """Every connection the browser opened to a third party while loading ``url``."""
    sink.clear()
    load(page, url)
    return sink.sync(timeout=WAIT)


def assert_contacts_vendors(sink: TrackerSink, page: Page, url: str, hosts: set[str]) -> None:
    sink.clear()
    load(page, url)
    seen = sink.wait_for_hosts(hosts, timeout=WAIT)
    assert hosts <= seen, f"missing {sorted(hosts - seen)}; the browser contacted {sorted(seen)}"


class RecordCollector(logging.Handler):
    """Keeps the records of a logger; the server logs from its own threads."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self._changed = threading.Condition()

    def emit(self, record: logging.LogRecord) -> None:
        with self._changed:
            self.records.append(record)
            self._changed.notify_all()

    def wait_for(
        self, predicate: Callable[[list[logging.LogRecord]], bool], timeout: float
    ) -> list[logging.LogRecord]:
        with self._changed:
            self._changed.wait_for(lambda: predicate(self.records), timeout=timeout)
            return list(self.records)


@pytest.fixture
def optout_log() -> Iterator[RecordCollector]:
    """The ``optout_mw`` logger's records at ``INFO`` and above, for one test."""
    logger = logging.getLogger("optout_mw")
    collector = RecordCollector()
    previous = logger.level
    logger.addHandler(collector)
    logger.setLevel(logging.INFO)
    try:
        yield collector
    finally:
        logger.removeHandler(collector)
        logger.setLevel(previous)


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_gpc_visitor_contacts_no_vendor(
    serve: AppServer, browser: Browser, sink: TrackerSink, javascript: bool
) -> None:
    hosts = SCRIPT_HOSTS if javascript else NOSCRIPT_HOSTS
    with serve(demo_config()) as origin:
        with browser(java_script_enabled=javascript) as context:
            page = first_page(context)
            assert_contacts_vendors(sink, page, origin + "/", hosts)
            assert "Recommended for you" in page.inner_text("body")
            if javascript:
                # Stubs are for opted-out visitors only.
                assert page.evaluate("typeof window.__uspapi") == "undefined"

        with browser(java_script_enabled=javascript, extra_http_headers=GPC) as context:
            page = first_page(context)
            assert contacts_of_load(sink, page, origin + "/") == []
            text = page.inner_text("body")
            assert "Demo shop" in text
            assert HONORED in text
            assert "not personalised" in text
            if javascript:
                # The first-party inline script survived and ran.
                assert page.evaluate("document.documentElement.dataset.firstParty") == "loaded"


def test_gpc_visitor_sees_opt_out_honored(
    serve: AppServer, browser: Browser, sink: TrackerSink
) -> None:
    with serve(demo_config()) as origin, browser(extra_http_headers=GPC) as context:
        page = first_page(context)
        assert contacts_of_load(sink, page, origin + "/privacy/opt-out") == []
        assert page.get_by_role("heading", level=1).inner_text() == (
            "Do Not Sell or Share My Personal Information"
        )
        status = page.inner_text("body")
        assert HONORED in status
        assert "Global Privacy Control" in status
        if os.environ.get("OPTOUT_SCREENSHOT"):
            page.set_viewport_size({"width": 900, "height": 900})
            page.screenshot(path=str(SCREENSHOT), full_page=True)


def test_opt_out_button_sets_choice_and_stops_vendors(
    serve: AppServer, browser: Browser, sink: TrackerSink
) -> None:
    with serve(demo_config()) as origin, browser() as context:
        page = first_page(context)
        # The opt-out page itself loads nothing from elsewhere.
        assert contacts_of_load(sink, page, origin + "/privacy/opt-out") == []
        assert HONORED not in page.inner_text("body")
        assert [c["name"] for c in context.cookies()] == []

        button = page.get_by_role("button", name="Do not sell or share my personal information")
        with page.expect_navigation(wait_until="load"):
            button.click()
        assert HONORED in page.inner_text("body")
        cookies = {c["name"]: c for c in context.cookies()}
        assert set(cookies) == {"optout_choice", "usprivacy"}
        assert cookies["optout_choice"]["httpOnly"] is True
        assert cookies["usprivacy"]["value"][2] == "Y"

        for _ in range(2):
            assert contacts_of_load(sink, page, origin + "/") == []
            text = page.inner_text("body")
            assert HONORED in text
            assert "not personalised" in text
            assert page.evaluate("document.documentElement.dataset.firstParty") == "loaded"


def test_stub_answers_opted_out_before_other_scripts(
    serve: AppServer, browser: Browser, sink: TrackerSink
) -> None:
    with serve(demo_config(inject_stubs=True)) as origin, browser(
        extra_http_headers=GPC
    ) as context:
        page = first_page(context)
        assert contacts_of_load(sink, page, origin + "/") == []
        answer: list[Any] = page.evaluate(
            "new Promise(r => __uspapi('getUSPData', 1, (d, ok) => r([d, ok])))"
        )
        data, ok = answer
        assert ok is True
        assert data["version"] == 1
        assert data["uspString"][2] == "Y"
        # The stub is the document's first script, ahead of the page's own scripts, so
        # anything a later script loads finds __uspapi already defined.
        order: dict[str, Any] = page.evaluate(
            """() => {
                const scripts = Array.from(document.scripts);
                const stub = scripts.findIndex(s => s.text.includes('__uspapi'));
                const inHead = scripts[0].parentNode === document.head;
                return {stub, count: scripts.length, inHead};
            }"""
        )
        assert order["stub"] == 0
        assert order["count"] >= 2  # the first-party script follows it
        assert order["inHead"] is True


def test_report_mode_contacts_vendors_and_logs_findings(
    serve: AppServer, browser: Browser, sink: TrackerSink, optout_log: RecordCollector
) -> None:
    expected_rules = {"google-tag-manager", "meta-pixel", "tiktok-pixel", "microsoft-uet"}

    def rules(records: list[logging.LogRecord]) -> set[str]:
        return {
            str(getattr(r, "optout_rule", ""))
            for r in records
            if getattr(r, "optout_mode", None) == "report"
        }

    with serve(demo_config(mode="report")) as origin, browser(
        extra_http_headers=GPC
    ) as context:
        page = first_page(context)
        assert_contacts_vendors(sink, page, origin + "/", SCRIPT_HOSTS)
        assert "Recommended for you" not in page.inner_text("body")  # still opted out
        # Findings are logged once the response has been streamed, possibly after the
        # browser already has the page: wait (bounded) for them.
        records = optout_log.wait_for(lambda rs: expected_rules <= rules(rs), timeout=WAIT)
    found = rules(records)
    assert expected_rules <= found, f"report mode logged {sorted(found)}"
    assert all(r.levelno == logging.INFO for r in records if getattr(r, "optout_rule", None))
