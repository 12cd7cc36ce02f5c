"""Every vector, in Chromium: first-party scripts try to reach a tracker through each way
page code has to the network (``guard_site.VECTORS``), on one page per setting.

* No guard, no policy (the control): every vector reaches the tracker, so "no contact"
  below means something.
* The guard: no connection at all, each call fails the way the page expects, and the
  page's own code runs on with no uncaught error; the once-per-page report arrives.
* The policy alone, enforced: what CSP can stop is stopped (the rest is listed as such).
* The policy report-only: nothing is blocked, and the reports arrive, classified.

Each vector has its own host, so a contact names its vector; every other host (and the
first-party origin's own requests) are kept apart by the sink and the resolver rules.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from optout_mw.reports import Kind, Layer, parse_body

from .conftest import WAIT, Browser
from .guard_site import BLOCKS, MISSES, REQUEST, RULES, VECTORS, Site, serve_site
from .sink import Contact, TrackerSink


@dataclass
class Run:
    results: dict[str, str]
    reached: dict[str, int]
    later: str | None
    errors: list[str]
    contacts: list[Contact]
    stats_total: int | None


def first_page(browser_context: object) -> Page:
    pages = browser_context.pages  # type: ignore[attr-defined]
    page: Page = pages[0] if pages else browser_context.new_page()  # type: ignore[attr-defined]
    return page


def run_page(page: Page, sink: TrackerSink, url: str) -> Run:
    """Load the vectors page, wait (bounded) for every vector's result and for the network
    to settle, and collect what happened."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sink.clear()
    page.goto(url, wait_until="load")
    # A missing result fails the assertions below, by the vector's name.
    with contextlib.suppress(PlaywrightTimeoutError):
        page.wait_for_function(f"Object.keys(__results).length >= {len(VECTORS)}",
                               timeout=WAIT * 1000)
    page.wait_for_load_state("networkidle")
    results, reached, later, total = page.evaluate(
        "[__results, __reached, window.__later || null,"
        " window.__optoutGuard ? __optoutGuard.stats.total : null]")
    return Run(results, reached, later, errors, sink.sync(), total)


def assert_page_ran(run: Run) -> None:
    assert run.errors == [], f"uncaught errors: {run.errors}"
    assert run.later == "ran"
    missing = [v.name for v in VECTORS if v.name not in run.reached]
    assert not missing, f"vector scripts that did not run to their end: {missing}"


def hosts(contacts: list[Contact], kind: str | None = None) -> set[str]:
    return {c.host for c in contacts if kind is None or c.kind == kind}


def test_control_every_vector_reaches_the_tracker(browser: Browser, sink: TrackerSink) -> None:
    with serve_site(Site()) as origin, browser() as context:
        run = run_page(first_page(context), sink, origin + "/page")
    assert_page_ran(run)
    expected = {v.host for v in VECTORS if v.contacts}
    missing = sorted(expected - hosts(run.contacts))
    assert not missing, f"never contacted without the guard: {missing}"
    assert run.results["inline-script"] == "ran"


def test_guard_blocks_every_vector(browser: Browser, sink: TrackerSink) -> None:
    site = Site()
    with serve_site(site) as origin, browser() as context:
        page = first_page(context)
        run = run_page(page, sink, origin + "/page?guard=1")
        blocked = page.evaluate("document.querySelectorAll('[data-optout-rule=trk]').length")
        # Leaving the page sends the report (pagehide).
        page.goto("about:blank")
        bodies = site.reports_where(lambda body: b"optout-guard" in body[1])
    assert_page_ran(run)
    assert run.contacts == [], f"contacted: {sorted(hosts(run.contacts))}"
    wrong = {v.name: run.results.get(v.name) for v in VECTORS
             if run.results.get(v.name) != (v.guarded or "done")}
    assert not wrong, f"unexpected results with the guard on: {wrong}"
    # Element vectors leave an inert element, neutralised as the server's block does.
    assert blocked >= 20
    # One report for the page, counting every attempt; each URL classified by the rules.
    (report,) = [parse_body(ctype, body, 65536) for ctype, body in bodies
                 if b"optout-guard" in body]
    assert run.stats_total is not None and run.stats_total >= len(VECTORS)
    assert len(report.violations) + report.dropped == run.stats_total
    assert len(report.violations) == 20  # the guard lists 20 distinct URLs at most
    guard_entries = [e for e in site.endpoint.aggregator.entries() if e.layer is Layer.GUARD]
    assert guard_entries and all(
        (e.kind, e.name) in {(Kind.TRACKER, "trk"), (Kind.OTHER, "inline")}
        for e in guard_entries)


def test_policy_alone_stops_what_csp_governs(browser: Browser, sink: TrackerSink) -> None:
    site = Site()
    with serve_site(site) as origin, browser() as context:
        run = run_page(first_page(context), sink, origin + "/page?csp=enforce")
        expected = {v.host for v in VECTORS if v.csp in (BLOCKS, REQUEST) and v.contacts}
        site.reports_where(lambda _body: _reported_hosts(site) >= expected)
    assert_page_ran(run)
    seen, requested = hosts(run.contacts), hosts(run.contacts, "http")
    leaks = [v.name for v in VECTORS if v.csp == BLOCKS and v.host in seen]
    leaks += [v.name for v in VECTORS if v.csp == REQUEST and v.host in requested]
    assert not leaks, f"reached the tracker despite the policy: {leaks}"
    # What no directive governs still goes through: only the guard stops it.
    missed = {v.host for v in VECTORS if v.csp == MISSES and v.contacts}
    assert missed <= seen
    assert run.results["inline-script"] == "ran"
    # Every refusal was reported and classified as the tracker rule.
    assert expected <= _reported_hosts(site)
    labels = {(e.kind, e.name) for e in site.endpoint.aggregator.entries()}
    assert labels == {(Kind.TRACKER, "trk")}


def test_report_only_blocks_nothing_and_reports_arrive(browser: Browser,
                                                       sink: TrackerSink) -> None:
    site = Site()
    with serve_site(site) as origin, browser() as context:
        run = run_page(first_page(context), sink, origin + "/page?csp=report-only")
        expected = {v.host for v in VECTORS if v.csp in (BLOCKS, REQUEST) and v.contacts}
        site.reports_where(lambda _body: _reported_hosts(site) >= expected)
    assert_page_ran(run)
    missing = sorted({v.host for v in VECTORS if v.contacts} - hosts(run.contacts))
    assert not missing, f"report-only must block nothing; not contacted: {missing}"
    assert expected <= _reported_hosts(site)
    entries = site.endpoint.aggregator.entries()
    assert {(e.layer, e.enforced, e.kind, e.name) for e in entries} == {
        (Layer.CSP, False, Kind.TRACKER, "trk")}


def _reported_hosts(site: Site) -> set[str]:
    found: set[str] = set()
    for content_type, body in list(site.bodies):
        for violation in parse_body(content_type, body, 65536).violations:
            host = violation.blocked.partition("://")[2].split("/", 1)[0].split(":", 1)[0]
            found.add(host)
    return found


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_vector_urls_are_the_rule_hosts(scheme: str) -> None:
    # Sanity of the table itself: every vector URL is a tracker by the page's rules.
    for vector in VECTORS:
        rule = RULES.match_url(vector.url.replace(vector.scheme + "://", scheme + "://"))
        assert rule is not None and rule.name == "trk", vector.name
