"""The opt-out surface through both adapters: a real Flask app (WSGI) and a real Starlette
app (ASGI), driven by their own test clients, cookies kept between requests."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import pytest
from flask import Flask
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from optout_mw import HONORED_TEXT, OptOutASGIMiddleware, OptOutConfig, OptOutWSGIMiddleware

from .test_endpoints_support import PAGE, config

APP_PAGE = (
    "<!DOCTYPE html><html><head><title>Shop</title></head>"
    "<body><h1>Shop</h1><script>var shop = 1;</script></body></html>"
)


@dataclass
class Reply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def cookies(self) -> list[str]:
        return [v for k, v in self.headers if k.lower() == "set-cookie"]

    def json(self) -> Any:
        return json.loads(self.body)


class Client(Protocol):
    origin: str

    def get(self, path: str, headers: Mapping[str, str] | None = None) -> Reply: ...

    def head(self, path: str, headers: Mapping[str, str] | None = None) -> Reply: ...

    def post(self, path: str, body: bytes, headers: Mapping[str, str] | None = None) -> Reply: ...


class FlaskClient:
    origin = "http://localhost"

    def __init__(self, cfg: OptOutConfig) -> None:
        app = Flask(__name__)

        @app.get("/")
        def home() -> tuple[str, int, dict[str, str]]:
            return APP_PAGE, 200, {"Content-Type": "text/html; charset=utf-8"}

        app.wsgi_app = OptOutWSGIMiddleware(app.wsgi_app, config=cfg)  # type: ignore[method-assign]
        self._client = app.test_client()

    def _reply(self, response: Any) -> Reply:
        return Reply(response.status_code, list(response.headers.items()), response.get_data())

    def get(self, path: str, headers: Mapping[str, str] | None = None) -> Reply:
        return self._reply(self._client.get(path, headers=dict(headers or {})))

    def head(self, path: str, headers: Mapping[str, str] | None = None) -> Reply:
        return self._reply(self._client.head(path, headers=dict(headers or {})))

    def post(self, path: str, body: bytes, headers: Mapping[str, str] | None = None) -> Reply:
        merged = {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
        return self._reply(self._client.post(path, data=body, headers=merged))


class StarletteClient:
    origin = "http://testserver"

    def __init__(self, cfg: OptOutConfig) -> None:
        async def home(request: Request) -> HTMLResponse:
            return HTMLResponse(APP_PAGE)

        app = Starlette(routes=[Route("/", home)])
        app.add_middleware(OptOutASGIMiddleware, config=cfg)
        self._client = TestClient(app, follow_redirects=False)

    def _reply(self, response: Any) -> Reply:
        return Reply(response.status_code, list(response.headers.multi_items()),
                     response.content)

    def get(self, path: str, headers: Mapping[str, str] | None = None) -> Reply:
        return self._reply(self._client.get(path, headers=dict(headers or {})))

    def head(self, path: str, headers: Mapping[str, str] | None = None) -> Reply:
        return self._reply(self._client.head(path, headers=dict(headers or {})))

    def post(self, path: str, body: bytes, headers: Mapping[str, str] | None = None) -> Reply:
        merged = {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
        return self._reply(self._client.post(path, content=body, headers=merged))


@pytest.fixture(params=["flask", "starlette"])
def make_client(request: pytest.FixtureRequest) -> Iterator[Any]:
    def make(**changes: object) -> Client:
        cfg = config(**changes)
        return FlaskClient(cfg) if request.param == "flask" else StarletteClient(cfg)

    yield make


def test_gpc_json(make_client: Any) -> None:
    client: Client = make_client(gpc_json_last_update="2026-02-01")
    reply = client.get("/.well-known/gpc.json")
    assert reply.status == 200
    assert reply.header("Content-Type") == "application/json"
    assert reply.json() == {"gpc": True, "lastUpdate": "2026-02-01"}
    assert reply.header("Cache-Control") == "no-store"


def test_page_honours_gpc(make_client: Any) -> None:
    client: Client = make_client()
    reply = client.get(PAGE, {"Sec-GPC": "1"})
    assert reply.status == 200
    assert HONORED_TEXT in reply.body.decode()
    assert reply.header("Cache-Control") == "no-store"
    plain = client.get(PAGE)
    assert HONORED_TEXT not in plain.body.decode()


def test_head_page(make_client: Any) -> None:
    client: Client = make_client()
    reply = client.head(PAGE)
    assert reply.status == 200
    assert reply.body == b""
    assert int(reply.header("Content-Length") or 0) > 0


def test_opt_out_round_trip(make_client: Any) -> None:
    client: Client = make_client(write_us_privacy=True)
    reply = client.post(PAGE, b"action=opt-out&next=%2F")
    assert reply.status == 303
    assert reply.header("Location") == "/"
    names = sorted(c.split("=", 1)[0] for c in reply.cookies())
    assert names == ["optout_choice", "usprivacy"]
    status = client.get("/privacy/status.json").json()
    assert status["opted_out"] is True
    assert "site_choice" in status["opted_out_by"]
    assert HONORED_TEXT in client.get(PAGE).body.decode()


def test_opt_in_two_steps_through_the_adapter(make_client: Any) -> None:
    client: Client = make_client()
    client.post(PAGE, b"action=opt-out")
    origin = {"Origin": client.origin}
    step1 = client.post(PAGE, b"action=opt-in", origin)
    assert step1.status == 200
    found = re.search(r'name="token" value="([^"]+)"', step1.body.decode())
    assert found is not None
    cross = client.post(PAGE, f"action=opt-in-confirm&token={found[1]}".encode(),
                        {"Origin": "https://evil.test"})
    assert cross.status == 403
    assert client.get("/privacy/status.json").json()["opted_out"] is True
    step2 = client.post(PAGE, f"action=opt-in-confirm&token={found[1]}".encode(), origin)
    assert step2.status == 303
    assert client.get("/privacy/status.json").json()["opted_out"] is False


def test_body_too_large(make_client: Any) -> None:
    client: Client = make_client(max_form_bytes=256)
    reply = client.post(PAGE, b"action=opt-out&pad=" + b"x" * 1000)
    assert reply.status == 413
    assert reply.cookies() == []


def test_wrong_method(make_client: Any) -> None:
    client: Client = make_client()
    reply = client.post("/.well-known/gpc.json", b"")
    assert reply.status == 405
    assert reply.header("Allow") == "GET, HEAD"


def test_gpc_write_back_on_app_pages(make_client: Any) -> None:
    client: Client = make_client(write_us_privacy=True)
    reply = client.get("/", {"Sec-GPC": "1"})
    assert reply.status == 200
    assert any(c.startswith("usprivacy=1YYN;") for c in reply.cookies())
    assert client.get("/").cookies() == []


def test_stub_injected_for_opted_out_visitors(make_client: Any) -> None:
    client: Client = make_client(inject_stubs=True)
    body = client.get("/", {"Sec-GPC": "1"}).body.decode()
    assert "__uspapi" in body
    assert body.index("__uspapi") < body.index("var shop = 1;")
    assert "__uspapi" not in client.get("/").body.decode()


def test_gpc_only_visitor_is_never_offered_opt_in(make_client: Any) -> None:
    client: Client = make_client(write_us_privacy=True)
    gpc = {"Sec-GPC": "1"}
    assert any(c.startswith("usprivacy=1YYN;") for c in client.get("/", gpc).cookies())
    for _ in range(2):  # the page, with the usprivacy the site wrote back, twice
        body = client.get(PAGE, gpc).body.decode()
        assert HONORED_TEXT in body
        assert "the IAB US Privacy string" in body  # the write-back is read...
        assert 'value="opt-in"' not in body  # ...but GPC is all the visitor sent


def test_unsaved_opt_out_says_so(make_client: Any) -> None:
    client: Client = make_client(read_site_cookie=False)
    reply = client.post(PAGE, b"action=opt-out&next=%2F")
    assert reply.status == 200
    body = reply.body.decode()
    assert "could not be saved" in body
    assert "was saved" not in body
    assert reply.cookies() == []
