"""Message-level tests of the ASGI adapter (no test client: it would hide streaming)."""

from __future__ import annotations

from typing import Any

import pytest

from optout_mw import DECISION_KEY, OptOutASGIMiddleware, development_config
from optout_mw._types import Message, Receive, Scope, Send

from .asgi_harness import Recorder, call, empty_receive, http_scope, scripted_app

pytestmark = pytest.mark.anyio

HTML = [(b"content-type", b"text/html; charset=utf-8")]
GPC = [(b"sec-gpc", b"1")]


def middleware(app: Any, **config: Any) -> OptOutASGIMiddleware:
    return OptOutASGIMiddleware(app, config=development_config(**config))


async def test_decision_stored_in_scope_and_state() -> None:
    seen: list[Scope] = []
    request_state = {"db": "pool"}
    scope = http_scope(headers=GPC)
    scope["state"] = request_state
    await call(middleware(scripted_app(200, HTML, [b"x"], seen=seen)), scope)
    decision = seen[0][DECISION_KEY]
    assert decision.sale_permitted is False
    assert seen[0]["state"]["optout"] is decision
    assert seen[0]["state"]["db"] == "pool"
    # The request's own state dict, so middleware outside sees what the app stores there.
    assert seen[0]["state"] is request_state


async def test_vary_added_to_html_and_merged() -> None:
    app = scripted_app(200, [*HTML, (b"vary", b"Accept-Encoding")], [b"<p>hi</p>"])
    rec = await call(middleware(app), http_scope())
    assert rec.header("vary") == "Accept-Encoding, Sec-GPC, Cookie"
    assert rec.body == b"<p>hi</p>"


async def test_vary_not_duplicated() -> None:
    app = scripted_app(200, [*HTML, (b"Vary", b"cookie, sec-gpc")], [b"x"])
    rec = await call(middleware(app), http_scope(headers=GPC))
    assert [v for k, v in rec.headers if k == "vary"] == ["cookie, sec-gpc"]


async def test_vary_star_left_alone() -> None:
    app = scripted_app(200, [*HTML, (b"vary", b"*")], [b"x"])
    rec = await call(middleware(app), http_scope())
    assert rec.header("vary") == "*"


async def test_no_vary_on_json() -> None:
    app = scripted_app(200, [(b"content-type", b"application/json")], [b"{}"])
    rec = await call(middleware(app), http_scope(headers=GPC))
    assert rec.header("vary") is None


async def test_vary_only_gpc_when_no_cookie_signals() -> None:
    app = scripted_app(200, HTML, [b"x"])
    rec = await call(
        middleware(app, read_site_cookie=False, read_us_privacy=False, read_gpp=False),
        http_scope(),
    )
    assert rec.header("vary") == "Sec-GPC"


async def test_off_mode_changes_nothing_but_stores_decision() -> None:
    seen: list[Scope] = []
    app = scripted_app(200, HTML, [b"x"], seen=seen)
    rec = await call(middleware(app, mode="off"), http_scope(headers=GPC))
    assert rec.header("vary") is None
    assert seen[0][DECISION_KEY].sale_permitted is False


async def test_excluded_path_gets_no_vary() -> None:
    app = scripted_app(200, HTML, [b"x"])
    rec = await call(middleware(app, exclude_paths=["/admin"]), http_scope("/admin/x"))
    assert rec.header("vary") is None


@pytest.mark.parametrize("headers", [[], GPC], ids=["no signal", "gpc"])
async def test_streaming_passes_chunk_by_chunk(headers: list[tuple[bytes, bytes]]) -> None:
    """Each chunk reaches the client before the app produces the next one."""
    delivered: list[bytes] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": HTML})
        for index in range(3):
            await send({"type": "http.response.body", "body": b"<p>%d</p>" % index,
                        "more_body": True})
            assert delivered[-1] == b"<p>%d</p>" % index
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def on_message(message: Message) -> None:
        if message["type"] == "http.response.body" and message.get("body"):
            delivered.append(message["body"])

    recorder = Recorder(on_message)
    await middleware(app)(http_scope(headers=headers), empty_receive, recorder)
    assert delivered == [b"<p>0</p>", b"<p>1</p>", b"<p>2</p>"]


async def test_start_not_held_for_signal_free_visitors() -> None:
    """Headers of a streaming response go out before its first body chunk."""
    order: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": HTML})
        order.append("app sent start")
        await send({"type": "http.response.body", "body": b"x", "more_body": False})

    async def on_message(message: Message) -> None:
        order.append(message["type"])

    await middleware(app)(http_scope(), empty_receive, Recorder(on_message))
    assert order[:2] == ["http.response.start", "app sent start"]


async def test_start_message_keys_preserved() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": HTML,
                    "trailers": True})
        await send({"type": "http.response.body", "body": b"x", "more_body": False})
        await send({"type": "http.response.trailers", "headers": [], "more_trailers": False})

    rec = await call(middleware(app), http_scope(headers=GPC))
    assert rec.start["trailers"] is True
    assert rec.types == ["http.response.start", "http.response.body", "http.response.trailers"]


async def test_websocket_and_lifespan_untouched() -> None:
    seen: list[tuple[Scope, Receive, Send]] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append((scope, receive, send))

    async def send(message: Message) -> None:
        raise AssertionError("not used")

    mw = middleware(app)
    for kind in ("websocket", "lifespan"):
        scope: Scope = {"type": kind, "headers": [(b"sec-gpc", b"1")]}
        await mw(scope, empty_receive, send)
        got_scope, got_receive, got_send = seen[-1]
        assert got_scope is scope and DECISION_KEY not in scope
        assert got_receive is empty_receive and got_send is send


async def test_app_exception_propagates() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        await call(middleware(app), http_scope(headers=GPC))


async def test_mixed_case_request_headers_are_read() -> None:
    seen: list[Scope] = []
    app = scripted_app(200, HTML, [b"x"], seen=seen)
    await call(middleware(app), http_scope(headers=[(b"Sec-GPC", b"1")]))
    assert seen[0][DECISION_KEY].gpc


async def test_repeated_cookie_headers_are_joined() -> None:
    seen: list[Scope] = []
    app = scripted_app(200, HTML, [b"x"], seen=seen)
    headers = [(b"cookie", b"a=1"), (b"cookie", b"usprivacy=1YYN")]
    await call(middleware(app), http_scope(headers=headers))
    assert not seen[0][DECISION_KEY].sale_permitted


async def test_malformed_headers_never_raise() -> None:
    seen: list[Scope] = []
    app = scripted_app(200, HTML, [b"x"], seen=seen)
    headers = [(b"cookie", b"\xff\xfe;;==; usprivacy=\x00\x01"), (b"sec-gpc", b"\xff1")]
    await call(middleware(app), http_scope(headers=headers))
    assert seen[0][DECISION_KEY].sale_permitted
