"""The middleware under real frameworks: Flask's test client, Starlette's TestClient."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from fastapi import FastAPI
from flask import Flask, Response, request
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, StreamingResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from optout_mw import (
    Decision,
    MiddlewareNotInstalled,
    OptOutASGIMiddleware,
    OptOutWSGIMiddleware,
    Rule,
    development_config,
    get_decision,
)
from optout_mw.fastapi import OptOutDecision

TRACKER = '<script src="https://www.tracker.test/t.js"></script>'
PAGE = f"<html><head>{TRACKER}</head><body><p>shop</p></body></html>"
CONFIG = development_config(rules=(Rule(name="tracker", hosts=("tracker.test",)),))


def flask_app() -> Flask:
    app = Flask(__name__)

    @app.get("/")
    def home() -> str:
        decision = get_decision(request)
        return PAGE.replace("shop", f"ads={decision.sale_permitted}")

    @app.get("/stream")
    def stream() -> Response:
        def generate() -> Iterator[str]:
            yield "<p>1</p>"
            yield TRACKER
            yield "<p>2</p>"

        return app.response_class(generate(), mimetype="text/html")

    app.wsgi_app = OptOutWSGIMiddleware(app.wsgi_app, config=CONFIG)  # type: ignore[method-assign]
    return app


async def starlette_home(request: Request) -> HTMLResponse:
    decision: Decision = request.state.optout
    assert get_decision(request) is decision
    return HTMLResponse(PAGE.replace("shop", f"ads={decision.sale_permitted}"))


async def starlette_stream(request: Request) -> StreamingResponse:
    async def generate() -> AsyncIterator[str]:
        for part in ("<p>1</p>", TRACKER, "<p>2</p>"):
            yield part

    return StreamingResponse(generate(), media_type="text/html")


async def starlette_json(request: Request) -> JSONResponse:
    return JSONResponse({"ads": get_decision(request).sale_permitted})


def starlette_app() -> Starlette:
    return Starlette(
        routes=[Route("/", starlette_home), Route("/stream", starlette_stream),
                Route("/json", starlette_json)],
        middleware=[Middleware(OptOutASGIMiddleware, config=CONFIG)],
    )


def test_flask_opted_out_visitor() -> None:
    response = flask_app().test_client().get("/", headers={"Sec-GPC": "1"})
    assert response.status_code == 200
    assert response.text == "<html><head></head><body><p>ads=False</p></body></html>"
    assert response.headers["Content-Length"] == str(len(response.data))
    assert response.headers["Vary"] == "Sec-GPC, Cookie"


def test_flask_opted_in_visitor_untouched() -> None:
    response = flask_app().test_client().get("/")
    assert response.text == PAGE.replace("shop", "ads=True")
    assert response.headers["Vary"] == "Sec-GPC, Cookie"


def test_flask_streamed_response() -> None:
    response = flask_app().test_client().get("/stream", headers={"Sec-GPC": "1"})
    assert response.text == "<p>1</p><p>2</p>"
    assert "Content-Length" not in response.headers


def test_flask_usprivacy_cookie() -> None:
    client = flask_app().test_client()
    client.set_cookie("usprivacy", "1YYN")
    assert client.get("/").text.count("tracker.test") == 0


def test_starlette_opted_out_visitor() -> None:
    with TestClient(starlette_app()) as client:
        response = client.get("/", headers={"Sec-GPC": "1"})
    assert response.text == "<html><head></head><body><p>ads=False</p></body></html>"
    assert response.headers["content-length"] == str(len(response.content))
    assert response.headers["vary"] == "Sec-GPC, Cookie"


def test_starlette_streamed_and_json() -> None:
    with TestClient(starlette_app()) as client:
        streamed = client.get("/stream", headers={"Sec-GPC": "1"})
        as_json = client.get("/json", headers={"Sec-GPC": "1"})
    assert streamed.text == "<p>1</p><p>2</p>"
    assert as_json.json() == {"ads": False}
    # The JSON depends on the decision the handler read: a shared cache must key it on
    # the signals too.
    assert as_json.headers["vary"] == "Sec-GPC, Cookie"


def test_starlette_without_middleware_fails_loudly() -> None:
    app = Starlette(routes=[Route("/", starlette_json)])
    with TestClient(app) as client, pytest.raises(MiddlewareNotInstalled):
        client.get("/")


def test_fastapi_dependency() -> None:
    app = FastAPI()
    app.add_middleware(OptOutASGIMiddleware, config=CONFIG)

    @app.get("/")
    def home(decision: OptOutDecision) -> dict[str, object]:
        return {"ads": decision.sale_permitted, "status": decision.status_text}

    with TestClient(app) as client:
        assert client.get("/").json() == {"ads": True, "status": None}
        assert client.get("/", headers={"Sec-GPC": "1"}).json() == {
            "ads": False, "status": "Opt-Out Request Honored"}
