"""The lazy request view: the decision is computed only when something reads it, and a read
by the application puts the signals in ``Vary`` whatever the response's content type."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from flask import Flask, request
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from optout_mw import (
    DECISION_KEY,
    Decision,
    OptOutASGIMiddleware,
    OptOutWSGIMiddleware,
    development_config,
    get_decision,
)
from optout_mw._types import Receive, Scope, Send, StartResponse, WSGIEnviron
from optout_mw.decision import Decider
from optout_mw.fastapi import OptOutDecision
from optout_mw.request import PendingDecision

from .asgi_harness import call, http_scope
from .wsgi_harness import make_environ, run

CONFIG = development_config()
VARY = "Sec-GPC, Cookie"
GPC = [("Sec-GPC", "1")]


class CountingDecider(Decider):
    """A real decider that counts how often a decision is computed."""

    calls = 0

    def for_request(
        self, gpc: str | None, cookie_header: str | bytes | None, now: float
    ) -> Decision:
        CountingDecider.calls += 1
        return super().for_request(gpc, cookie_header, now)


@pytest.fixture
def counting(monkeypatch: pytest.MonkeyPatch) -> type[CountingDecider]:
    CountingDecider.calls = 0
    monkeypatch.setattr("optout_mw.engine.Decider", CountingDecider)
    return CountingDecider


# --- raw ASGI and WSGI: how the application reads decides Vary ------------------------


def _asgi_app(read: Callable[[Scope], object] | None, content_type: bytes) -> Any:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        body = b"{}"
        if read is not None:
            body = json.dumps({"ads": bool(read(scope))}).encode()
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", content_type)]})
        await send({"type": "http.response.body", "body": body})

    return app


def _wsgi_app(read: Callable[[WSGIEnviron], object] | None, content_type: str) -> Any:
    def app(environ: WSGIEnviron, start_response: StartResponse) -> list[bytes]:
        body = b"{}"
        if read is not None:
            body = json.dumps({"ads": bool(read(environ))}).encode()
        start_response("200 OK", [("Content-Type", content_type)])
        return [body]

    return app


READS: dict[str, Callable[[Any], object] | None] = {
    "nothing": None,
    "get_decision": lambda carrier: get_decision(carrier).sale_permitted,
    "the key": lambda carrier: carrier[DECISION_KEY].sale_permitted,
    "to_json": lambda carrier: carrier[DECISION_KEY].to_json()["sale_permitted"],
    "signals": lambda carrier: not carrier[DECISION_KEY].signals,
}


@pytest.mark.parametrize("content_type", ["application/json", "text/plain", "image/png"])
@pytest.mark.parametrize("how", list(READS))
def test_asgi_vary_follows_the_read(how: str, content_type: str) -> None:
    app = OptOutASGIMiddleware(_asgi_app(READS[how], content_type.encode()), config=CONFIG)
    recorder = asyncio.run(call(app, http_scope(headers=[(b"sec-gpc", b"1")])))
    vary = [v for k, v in recorder.headers if k == "vary"]
    assert vary == ([] if how == "nothing" else [VARY])


@pytest.mark.parametrize("content_type", ["application/json", "text/plain", "image/png"])
@pytest.mark.parametrize("how", list(READS))
def test_wsgi_vary_follows_the_read(how: str, content_type: str) -> None:
    app = OptOutWSGIMiddleware(_wsgi_app(READS[how], content_type), config=CONFIG)
    result = run(app, make_environ(headers=GPC))
    assert result.header("vary") == (None if how == "nothing" else VARY)


def test_read_merges_into_the_apps_own_vary() -> None:
    def app(environ: WSGIEnviron, start_response: StartResponse) -> list[bytes]:
        get_decision(environ)
        start_response("200 OK", [("Content-Type", "application/json"),
                                  ("Vary", "Accept-Encoding")])
        return [b"{}"]

    result = run(OptOutWSGIMiddleware(app, config=CONFIG), make_environ(headers=GPC))
    assert result.header("vary") == "Accept-Encoding, Sec-GPC, Cookie"


def test_read_with_no_signal_in_use_adds_nothing() -> None:
    config = development_config(read_gpc=False, read_site_cookie=False, read_us_privacy=False,
                                read_gpp=False)
    app = OptOutWSGIMiddleware(_wsgi_app(READS["get_decision"], "application/json"),
                               config=config)
    assert run(app, make_environ(headers=GPC)).header("vary") is None


# --- real frameworks: every documented accessor --------------------------------------


def _flask(read: Callable[[Any], object]) -> Flask:
    app = Flask(__name__)

    @app.get("/api")
    def api() -> dict[str, bool]:
        return {"ads": bool(read(request))}

    app.wsgi_app = OptOutWSGIMiddleware(app.wsgi_app, config=CONFIG)  # type: ignore[method-assign]
    return app


@pytest.mark.parametrize(
    "read",
    [
        lambda r: get_decision(r).sale_permitted,
        lambda r: r.environ[DECISION_KEY].sale_permitted,
    ],
    ids=["get_decision", "environ key"],
)
def test_flask_json_depending_on_the_decision_varies(read: Callable[[Any], object]) -> None:
    response = _flask(read).test_client().get("/api", headers=dict(GPC))
    assert response.json == {"ads": False}
    assert response.headers["Vary"] == VARY


def _starlette(endpoint: Callable[[Request], Any]) -> Starlette:
    app = Starlette(routes=[Route("/api", endpoint)])
    app.add_middleware(OptOutASGIMiddleware, config=CONFIG)
    return app


async def _by_state(request: Request) -> JSONResponse:
    return JSONResponse({"ads": request.state.optout.sale_permitted})


async def _by_get_decision(request: Request) -> JSONResponse:
    return JSONResponse({"ads": get_decision(request).sale_permitted})


async def _by_scope(request: Request) -> JSONResponse:
    return JSONResponse({"ads": request.scope[DECISION_KEY].sale_permitted})


async def _not_reading(request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


@pytest.mark.parametrize(
    ("endpoint", "vary"),
    [(_by_state, VARY), (_by_get_decision, VARY), (_by_scope, VARY), (_not_reading, None)],
    ids=["request.state", "get_decision", "scope key", "not reading"],
)
def test_starlette_accessors(endpoint: Callable[[Request], Any], vary: str | None) -> None:
    with TestClient(_starlette(endpoint)) as client:
        response = client.get("/api", headers=dict(GPC))
    assert response.headers.get("vary") == vary


def test_fastapi_dependency_varies() -> None:
    app = FastAPI()
    app.add_middleware(OptOutASGIMiddleware, config=CONFIG)

    @app.get("/api")
    def api(decision: OptOutDecision) -> dict[str, bool]:
        return {"ads": decision.sale_permitted}

    with TestClient(app) as client:
        response = client.get("/api", headers=dict(GPC))
    assert response.json() == {"ads": False}
    assert response.headers["vary"] == VARY


# --- laziness -------------------------------------------------------------------------


def test_a_request_that_reads_nothing_is_never_decided(counting: type[CountingDecider]) -> None:
    asgi = OptOutASGIMiddleware(_asgi_app(None, b"application/json"), config=CONFIG)
    asyncio.run(call(asgi, http_scope(headers=[(b"sec-gpc", b"1"), (b"cookie", b"a=b")])))
    wsgi = OptOutWSGIMiddleware(_wsgi_app(None, "text/plain"), config=CONFIG)
    run(wsgi, make_environ(headers=[*GPC, ("Cookie", "a=b")]))
    assert counting.calls == 0


def test_an_html_page_is_decided_once(counting: type[CountingDecider]) -> None:
    def app(environ: WSGIEnviron, start_response: StartResponse) -> list[bytes]:
        environ[DECISION_KEY].sale_permitted  # noqa: B018 - the read under test
        environ[DECISION_KEY].signals  # noqa: B018 - and a second one
        start_response("200 OK", [("Content-Type", "text/html")])
        return [b"<p>hi</p>"]

    run(OptOutWSGIMiddleware(app, config=CONFIG), make_environ(headers=GPC))
    assert counting.calls == 1


def test_metrics_count_every_request(counting: type[CountingDecider]) -> None:
    from optout_mw import Counters

    counters = Counters()
    wsgi = OptOutWSGIMiddleware(_wsgi_app(None, "text/plain"), config=CONFIG, metrics=counters)
    for _ in range(3):
        run(wsgi, make_environ(headers=GPC))
    assert counters.value("optout_decisions_total", {"outcome": "opted_out"}) == 3


# --- the stored object is a Decision --------------------------------------------------


def test_the_stored_decision_is_a_decision_equal_to_the_computed_one() -> None:
    seen: list[WSGIEnviron] = []

    def app(environ: WSGIEnviron, start_response: StartResponse) -> list[bytes]:
        seen.append(environ)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    run(OptOutWSGIMiddleware(app, config=CONFIG), make_environ(headers=GPC))
    stored = seen[0][DECISION_KEY]
    assert isinstance(stored, PendingDecision) and isinstance(stored, Decision)
    assert get_decision(seen[0]) is stored
    real = stored.resolve()
    assert type(real) is Decision
    assert stored == real and real == stored and hash(stored) == hash(real)
    assert repr(stored) == repr(real)
    assert stored.to_json() == real.to_json()
    for field in dataclasses.fields(Decision):
        assert getattr(stored, field.name) == getattr(real, field.name)
    assert (stored.opted_out, stored.gpc, stored.opted_out_by) == (True, True, real.opted_out_by)
    with pytest.raises(dataclasses.FrozenInstanceError):
        stored.sale_permitted = True  # type: ignore[misc]
