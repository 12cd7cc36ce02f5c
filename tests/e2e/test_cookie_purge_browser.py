"""Chromium is the judge of the cookie purge: the deletion lines remove tracker cookies a
script set on the parent domain, and the site's own cookies survive.

A first-party host, ``www.shop.test``, resolves to 127.0.0.1 (``--host-resolver-rules``) and
is served over TLS with a throwaway certificate (trustme), so that scripts can set cookies
on the parent domain ``shop.test``, ``Secure`` cookies exist and a ``__Host-`` cookie can be
set at all. A tiny WSGI app stands in for the middleware: ``/setup`` plants the cookies the
way vendor tags and the site do, ``/page`` is an opted-out visitor's next HTML load carrying
:func:`optout_mw.cookie_purge.purge_page`'s lines, and ``/collect`` is a same-origin tagging
endpoint whose ``Set-Cookie`` values pass through :func:`strip_set_cookies`. Every other
host resolves nowhere.
"""

from __future__ import annotations

import ssl
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import trustme
from playwright.sync_api import BrowserContext, Playwright, Response
from werkzeug.serving import WSGIRequestHandler, make_server

from optout_mw.cookie_purge import (
    PurgeSettings,
    cookie_names,
    purge_page,
    strip_set_cookies,
    validated_host,
)
from optout_mw.tracker_cookies import CookiePattern, TrackerCookieSet, preset_cookie_patterns

from .conftest import CHROMIUM, WAIT

HOST = "www.shop.test"
ALLOWED = [".shop.test"]
CHOICE = "optout_choice"

COOKIES = TrackerCookieSet(
    [
        ("google-tag-manager", preset_cookie_patterns("google-tag-manager")),
        ("google-analytics", preset_cookie_patterns("google-analytics")),
        ("meta-pixel", preset_cookie_patterns("meta-pixel")),
        # A site rule naming a __Host- tracker, and one broad enough to name the site's own
        # choice cookie, which the purge must still leave alone.
        ("site", (CookiePattern.parse("__Host-vendor_id"), CookiePattern.parse("optout_*"))),
    ]
)

# What vendor tags do: _ga and _fbp on the highest domain they can (shop.test), _gid
# host-only, _gcl_au with Domain set to the host itself (Chromium keeps that apart from a
# host-only cookie of the same name), a __Host- identifier; and the site's own cookie.
SETUP_SCRIPT = """
document.cookie = "_ga=GA1.1.111.222; domain=shop.test; path=/; max-age=86400; secure";
document.cookie = "_fbp=fb.1.222.333; domain=shop.test; path=/; max-age=86400";
document.cookie = "_gid=GA1.1.444.555; path=/; max-age=86400";
document.cookie = "_gcl_au=1.1.666; domain=www.shop.test; path=/; max-age=86400";
document.cookie = "__Host-vendor_id=abc; path=/; secure";
document.cookie = "theme=dark; path=/; max-age=86400";
"""
# What the site and a server-side tagging container set with HttpOnly: the session, the
# signed choice, and FPID on the parent domain, out of every script's reach.
SETUP_HEADERS = [
    ("Set-Cookie", "session=s1; Path=/; HttpOnly; Secure; SameSite=Lax"),
    ("Set-Cookie", f"{CHOICE}=signed-choice; Path=/; Secure; SameSite=Lax; Max-Age=86400"),
    ("Set-Cookie", "FPID=FPID2.2.xyz; Domain=shop.test; Path=/; HttpOnly; Secure; Max-Age=86400"),
]
TRACKERS = {"_ga", "_fbp", "_gid", "_gcl_au", "__Host-vendor_id", "FPID"}
SITE_OWN = {"session", CHOICE, "theme"}

StartResponse = Callable[[str, list[tuple[str, str]]], object]


WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def _html(body: str) -> bytes:
    return f"<!doctype html><title>shop</title><body>{body}</body>".encode()


def cookie_app(settings: PurgeSettings) -> WSGIApp:
    """The stand-in site: the purge applied as the response enforcer will apply it."""

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "/")
        headers = [("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-store")]
        if path == "/setup":
            start_response("200 OK", headers + SETUP_HEADERS)
            return [_html(f"<script>{SETUP_SCRIPT}</script>")]
        if path == "/page":
            host = validated_host(environ.get("HTTP_HOST"), ALLOWED)
            assert host == HOST
            page = purge_page(
                cookie_names(environ.get("HTTP_COOKIE", "")),
                COOKIES,
                host,
                environ["wsgi.url_scheme"],
                settings,
            )
            start_response("200 OK", headers + [("Set-Cookie", line) for line in page.lines])
            return [_html("<p>opted-out page</p>")]
        if path == "/collect":
            # A same-origin tagging endpoint upstream sets identifiers beside a cookie of
            # its own; only the latter reaches the browser.
            upstream = [
                "FPID=FPID2.2.new; Domain=shop.test; Path=/; HttpOnly; Secure",
                "_fbp=fb.1.999.999; Domain=shop.test; Path=/; Secure",
                "collect_ok=1; Path=/; Secure",
            ]
            kept = strip_set_cookies(upstream, COOKIES, protected=settings.protected).kept
            start_response(
                "204 No Content", [("Cache-Control", "no-store")]
                + [("Set-Cookie", value) for value in kept]
            )
            return [b""]
        start_response("404 Not Found", headers)
        return [_html("not found")]

    return app


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


@contextmanager
def serve_tls(settings: PurgeSettings) -> Iterator[str]:
    """The stand-in site over TLS on an ephemeral port: its ``https://www.shop.test:port``."""
    ca = trustme.CA()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert(HOST).configure_cert(context)
    server = make_server(
        "127.0.0.1",
        0,
        cookie_app(settings),
        threaded=True,
        request_handler=_QuietHandler,
        ssl_context=context,
    )
    thread = threading.Thread(target=server.serve_forever, name="cookie-site", daemon=True)
    thread.start()
    try:
        yield f"https://{HOST}:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=WAIT)
        server.server_close()


@pytest.fixture
def shop_browser(playwright: Playwright, tmp_path: Path) -> Iterator[BrowserContext]:
    browser = playwright.chromium.launch(
        executable_path=str(CHROMIUM),
        headless=True,
        args=[
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            # The shop's name reaches the local server; nothing else resolves at all.
            f"--host-resolver-rules=MAP {HOST} 127.0.0.1, MAP * ~NOTFOUND",
        ],
    )
    context = browser.new_context(ignore_https_errors=True)
    context.set_default_timeout(WAIT * 1000)
    try:
        yield context
    finally:
        context.close()
        browser.close()


def settings(**changes: Any) -> PurgeSettings:
    values: dict[str, Any] = {"protected": frozenset({CHOICE})}
    values.update(changes)
    return PurgeSettings(**values)


def jar(context: BrowserContext) -> dict[str, str]:
    """Every cookie the browser holds, HttpOnly ones too: name -> domain."""
    return {c.get("name", ""): c.get("domain", "") for c in context.cookies()}


def visible(context: BrowserContext) -> set[str]:
    page = context.pages[0]
    text: str = page.evaluate("document.cookie")
    return {pair.split("=", 1)[0].strip() for pair in text.split(";") if "=" in pair}


def set_cookie_lines(response: Response | None) -> list[str]:
    assert response is not None and response.ok
    return [h["value"] for h in response.headers_array() if h["name"].lower() == "set-cookie"]


def plant(context: BrowserContext, origin: str) -> None:
    page = context.pages[0] if context.pages else context.new_page()
    page.goto(f"{origin}/setup", wait_until="load")
    held = jar(context)
    # The setup really did what vendors do, or the checks below would prove nothing.
    assert set(held) >= TRACKERS | SITE_OWN
    assert held["_ga"] == held["_fbp"] == held["FPID"] == ".shop.test"
    assert held["_gid"] == held["__Host-vendor_id"] == HOST
    assert held["_gcl_au"] == "." + HOST
    assert TRACKERS - {"FPID"} | {CHOICE, "theme"} <= visible(context)


def test_opted_out_load_deletes_tracker_cookies_and_keeps_the_sites(
    shop_browser: BrowserContext,
) -> None:
    with serve_tls(settings()) as origin:
        plant(shop_browser, origin)
        page = shop_browser.pages[0]
        response = page.goto(f"{origin}/page", wait_until="load")
        sent = set_cookie_lines(response)
        assert "_ga=; Max-Age=0; Path=/; Domain=shop.test; Secure" in sent
        assert "__Host-vendor_id=; Max-Age=0; Path=/; Secure" in sent
        assert not any(line.startswith(f"{CHOICE}=") for line in sent)

        assert visible(shop_browser) == {CHOICE, "theme"}
        assert set(jar(shop_browser)) == SITE_OWN  # FPID (HttpOnly) is gone as well


def test_the_cap_spreads_the_purge_over_several_loads(shop_browser: BrowserContext) -> None:
    # Three lines a page: one cookie of www.shop.test (parent, host, host-only) per load.
    with serve_tls(settings(max_lines=3)) as origin:
        plant(shop_browser, origin)
        page = shop_browser.pages[0]
        left = [len(TRACKERS & set(jar(shop_browser)))]
        while left[-1] and len(left) <= len(TRACKERS) + 1:
            response = page.goto(f"{origin}/page", wait_until="load")
            sent = set_cookie_lines(response)
            assert 1 <= len(sent) <= 3
            left.append(len(TRACKERS & set(jar(shop_browser))))
        assert left == [6, 5, 4, 3, 2, 1, 0]
        assert set(jar(shop_browser)) == SITE_OWN


def test_a_same_origin_tagging_endpoint_cannot_set_its_identifiers(
    shop_browser: BrowserContext,
) -> None:
    with serve_tls(settings()) as origin:
        page = shop_browser.new_page()
        page.goto(f"{origin}/page", wait_until="load")
        status = page.evaluate("fetch('/collect', {credentials: 'include'}).then(r => r.status)")
        assert status == 204
        held = jar(shop_browser)
        assert "collect_ok" in held  # the endpoint's own cookie arrived...
        assert not {"FPID", "_fbp"} & set(held)  # ...its tracker identifiers did not
