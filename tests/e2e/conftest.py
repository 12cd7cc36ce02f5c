"""Fixtures of the browser tests: Chromium through Playwright, the example apps on
ephemeral ports, and a sink standing in for every third-party host.

Chromium is the system one (``/usr/bin/chromium``); browsers are never downloaded. Without
it the tests skip, except under CI (``CI`` set), where a missing browser is a failure.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright.sync_api import BrowserContext, Playwright, sync_playwright
from werkzeug.serving import WSGIRequestHandler, make_server

from examples.flask_app.app import create_app as create_flask_app
from examples.starlette_app.app import create_app as create_starlette_app
from optout_mw import OptOutConfig

from .browser_hosts import resolver_rules
from .sink import TrackerSink

CHROMIUM = Path("/usr/bin/chromium")

#: Every wait in the suite is bounded by this (seconds).
WAIT = 15.0


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    message = f"Chromium not found at {CHROMIUM} (install the Debian package 'chromium')"
    if os.environ.get("CI"):
        pytest.fail(message + "; CI must run the browser tests", pytrace=False)
    pytest.skip(message)


#: A server started for one test: its origin, e.g. ``http://127.0.0.1:54321``.
AppServer = Callable[[OptOutConfig], AbstractContextManager[str]]


class _QuietHandler(WSGIRequestHandler):
    # The dev server's per-request lines would only clutter the test output.
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


@contextmanager
def serve_flask(config: OptOutConfig) -> Iterator[str]:
    """The Flask example on a threaded WSGI server at an ephemeral port."""
    server = make_server(
        "127.0.0.1", 0, create_flask_app(config), threaded=True, request_handler=_QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, name="flask-example", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=WAIT)
        server.server_close()


@contextmanager
def serve_starlette(config: OptOutConfig) -> Iterator[str]:
    """The Starlette example under uvicorn, in a thread, at an ephemeral port."""
    server = uvicorn.Server(
        uvicorn.Config(
            create_starlette_app(config),
            host="127.0.0.1",
            port=0,
            log_level="warning",
            ws="none",  # no websocket library import (and its deprecation warnings)
            lifespan="off",
        )
    )
    thread = threading.Thread(target=server.run, name="starlette-example", daemon=True)
    thread.start()
    try:
        # uvicorn exposes no start event: poll its flag, bounded.
        deadline = time.monotonic() + WAIT
        while not server.started and thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.02)
        if not server.started:
            raise RuntimeError("uvicorn did not start")
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=WAIT)


@pytest.fixture(params=["flask", "starlette"])
def serve(request: pytest.FixtureRequest) -> AppServer:
    """Serves one of the examples with a given configuration (a context manager)."""
    servers: dict[str, AppServer] = {"flask": serve_flask, "starlette": serve_starlette}
    return servers[request.param]


@pytest.fixture(scope="session")
def sink() -> Iterator[TrackerSink]:
    with TrackerSink() as tracker_sink:
        yield tracker_sink


@pytest.fixture
def playwright() -> Iterator[Playwright]:
    # Per test, not per session: while Playwright's sync API is running it leaves its event
    # loop registered as the thread's running loop, which breaks any asyncio test after it.
    _require_chromium()
    with sync_playwright() as pw:
        yield pw


#: Opens a fresh browser profile; keyword arguments go to ``launch_persistent_context``.
Browser = Callable[..., AbstractContextManager[BrowserContext]]


@pytest.fixture
def browser(
    playwright: Playwright, sink: TrackerSink, tmp_path: Path
) -> Iterator[Browser]:
    opened: list[BrowserContext] = []
    count = 0

    @contextmanager
    def launch(**options: Any) -> Iterator[BrowserContext]:
        nonlocal count
        count += 1
        # A persistent profile: Chromium ignores rel=preconnect in incognito contexts.
        context = playwright.chromium.launch_persistent_context(
            tmp_path / f"profile-{count}",
            executable_path=str(CHROMIUM),
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                # Without these Chromium keeps calling Google services on a closed network.
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                # Every host except the first-party origin resolves to the sink (the port
                # is rewritten too, so http and https both arrive there); the browser's
                # own services resolve nowhere, so the sink sees only what pages cause.
                "--host-resolver-rules=" + resolver_rules(sink.port),
            ],
            **options,
        )
        opened.append(context)
        context.set_default_timeout(WAIT * 1000)
        context.set_default_navigation_timeout(WAIT * 1000)
        try:
            yield context
        finally:
            context.close()

    sink.clear()
    try:
        yield launch
    finally:
        for context in opened:
            context.close()  # a no-op when already closed
