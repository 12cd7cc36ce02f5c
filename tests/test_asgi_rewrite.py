"""Message-level tests of the ASGI adapter on the rewriting path."""

from __future__ import annotations

import tracemalloc
from typing import Any

import pytest

from optout_mw import OptOutASGIMiddleware, Rule, development_config
from optout_mw._types import Message, Receive, Scope, Send

from .asgi_harness import Recorder, call, empty_receive, http_scope

pytestmark = pytest.mark.anyio

HTML = [(b"content-type", b"text/html; charset=utf-8")]
GPC = [(b"sec-gpc", b"1")]
TRACKER = b'<script src="https://cdn.tracker.test/t.js"></script>'
CONFIG = development_config(rules=(Rule(name="tracker", hosts=("tracker.test",)),))


def middleware(app: Any, **changes: Any) -> OptOutASGIMiddleware:
    return OptOutASGIMiddleware(app, config=CONFIG.replace(**changes) if changes else CONFIG)


async def test_rewritten_output_reaches_client_before_the_last_chunk() -> None:
    delivered: list[bytes] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": HTML})
        for index in range(3):
            await send({"type": "http.response.body",
                        "body": b"<p>%d</p>" % index + TRACKER, "more_body": True})
            # The client already holds this chunk's rewritten output.
            assert b"".join(delivered).endswith(b"<p>%d</p>" % index)
        await send({"type": "http.response.body", "body": b"<p>end</p>", "more_body": False})

    async def on_message(message: Message) -> None:
        if message["type"] == "http.response.body":
            delivered.append(message.get("body", b""))

    recorder = Recorder(on_message)
    await middleware(app)(http_scope(headers=GPC), empty_receive, recorder)
    assert b"".join(delivered) == b"<p>0</p><p>1</p><p>2</p><p>end</p>"
    assert recorder.header("content-length") is None


async def test_pathsend_removed_from_a_copied_scope() -> None:
    seen: list[Scope] = []
    extensions: dict[str, Any] = {"http.response.pathsend": {}, "http.response.zerocopy": {},
                  "http.response.trailers": {}}

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope)
        await send({"type": "http.response.start", "status": 200, "headers": HTML})
        await send({"type": "http.response.body", "body": b"x", "more_body": False})

    await call(middleware(app), http_scope(headers=GPC, extensions=extensions))
    assert set(seen[0]["extensions"]) == {"http.response.trailers"}
    assert set(extensions) == {"http.response.pathsend", "http.response.zerocopy",
                               "http.response.trailers"}, "the server's dict is untouched"


async def test_pathsend_kept_for_visitors_without_signals() -> None:
    seen: list[Scope] = []
    extensions: dict[str, Any] = {"http.response.pathsend": {}}

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope)
        await send({"type": "http.response.start", "status": 200, "headers": HTML})
        await send({"type": "http.response.pathsend", "path": "/tmp/x.html"})

    rec = await call(middleware(app), http_scope(extensions=extensions))
    assert "http.response.pathsend" in seen[0]["extensions"]
    assert rec.types == ["http.response.start", "http.response.pathsend"]


async def test_other_message_flushes_held_start_first() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": HTML,
                    "trailers": True})
        await send({"type": "http.response.trailers", "headers": [], "more_trailers": False})

    rec = await call(middleware(app), http_scope(headers=GPC))
    assert rec.types == ["http.response.start", "http.response.trailers"]


async def test_repeated_start_is_an_error() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": HTML})
        await send({"type": "http.response.start", "status": 200, "headers": HTML})

    with pytest.raises(RuntimeError, match=r"repeated http\.response\.start"):
        await call(middleware(app), http_scope(headers=GPC))


async def test_app_error_before_body_sends_nothing() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": HTML})
        raise ValueError("boom")

    recorder = Recorder()
    with pytest.raises(ValueError, match="boom"):
        await middleware(app)(http_scope(headers=GPC), empty_receive, recorder)
    assert recorder.messages == [], "the held start must not leak a half response"


async def test_empty_rewritten_chunks_are_not_sent() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": HTML})
        await send({"type": "http.response.body", "body": b"<p>a</p>", "more_body": True})
        await send({"type": "http.response.body", "body": TRACKER, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    rec = await call(middleware(app), http_scope(headers=GPC))
    bodies = [m.get("body", b"") for m in rec.messages if m["type"] == "http.response.body"]
    assert bodies == [b"<p>a</p>", b""]


async def test_large_streamed_page_keeps_memory_bounded() -> None:
    """8 MB streamed through the adapter: memory stays near one chunk, not the page."""
    chunk = (b"<div class='card'><p>first-party text</p>" + TRACKER + b"</div>\n") * 600
    count = (8 * 1024 * 1024) // len(chunk)
    total = 0

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": HTML})
        for _ in range(count):
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def send(message: Message) -> None:
        nonlocal total
        if message["type"] == "http.response.body":
            total += len(message.get("body", b""))

    tracemalloc.start()
    try:
        await middleware(app)(http_scope(headers=GPC), empty_receive, send)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total == count * (len(chunk) - 600 * len(TRACKER))
    assert peak < 3 * 1024 * 1024, peak
