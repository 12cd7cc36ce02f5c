"""The browser tests ignore only Chromium's own services, and still see any third party a
page names."""

from __future__ import annotations

import re

import pytest

from examples.shop import AD_SLOT, BODY_TAGS, HEAD_TAGS
from optout_mw.presets import PRESETS

from .browser_hosts import BROWSER_SERVICE_HOSTS, is_browser_service, resolver_rules
from .conftest import WAIT, Browser
from .sink import TrackerSink
from .test_browser import SCRIPT_HOSTS, first_page

#: A third party that no preset and no service list knows about.
UNLISTED = "cdn.unlisted-third-party.test"


def test_no_preset_host_is_a_browser_service() -> None:
    for rule in PRESETS.values():
        for host in (*rule.hosts, *(hp.split("/", 1)[0] for hp in rule.host_paths)):
            for candidate in (host, "www." + host, "a.b." + host):
                assert not is_browser_service(candidate), (rule.name, candidate)


def test_no_demo_vendor_is_a_browser_service() -> None:
    named = set(re.findall(r"//([a-z0-9.-]+)", HEAD_TAGS + BODY_TAGS + AD_SLOT))
    assert not [host for host in named | SCRIPT_HOSTS if is_browser_service(host)]


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("update.googleapis.com", True),
        ("UPDATE.googleapis.com.", True),
        ("r1---sn-abc.gvt1.com", True),
        ("gvt1.com.example", False),
        ("fonts.googleapis.com", False),
        ("www.google-analytics.com", False),
        ("www.googletagmanager.com", False),
    ],
)
def test_is_browser_service(host: str, expected: bool) -> None:
    assert is_browser_service(host) is expected


def test_resolver_rules_send_everything_else_to_the_sink() -> None:
    rules = resolver_rules(4321).split(", ")
    assert rules[-2:] == ["MAP * 127.0.0.1:4321", "EXCLUDE 127.0.0.1"]
    assert rules[:-2] == [f"MAP {host} ~NOTFOUND" for host in BROWSER_SERVICE_HOSTS]


def test_sink_sees_a_third_party_no_rule_knows(browser: Browser, sink: TrackerSink) -> None:
    # The control for every "contacted nothing" assertion: a host outside every list
    # reaches the sink, over https and over plain http.
    body = (
        f'<img src="https://{UNLISTED}/pixel.gif">'
        f'<img src="http://plain.{UNLISTED}/pixel.gif">'
    )
    with browser() as context:
        page = first_page(context)
        page.set_content(body)
        seen = sink.wait_for_hosts({UNLISTED, "plain." + UNLISTED}, timeout=WAIT)
    assert {UNLISTED, "plain." + UNLISTED} <= seen
