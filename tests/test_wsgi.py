"""PEP 3333 behaviour of the WSGI adapter, checked by wsgiref.validate and LintMiddleware."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any

import pytest

from optout_mw import DECISION_KEY, OptOutWSGIMiddleware, Rule, development_config
from optout_mw._types import StartResponse, WSGIApp, WSGIEnviron

from .wsgi_harness import ClosingBody, generator_app, list_app, make_environ, run

HTML = [("Content-Type", "text/html; charset=utf-8")]
GPC = [("Sec-GPC", "1")]


def middleware(app: WSGIApp, **config: Any) -> OptOutWSGIMiddleware:
    return OptOutWSGIMiddleware(app, config=development_config(**config))


@pytest.mark.parametrize("headers", [[], GPC], ids=["no signal", "gpc"])
def test_decision_in_environ(headers: list[tuple[str, str]]) -> None:
    seen: list[WSGIEnviron] = []

    def app(environ: WSGIEnviron, start_response: StartResponse) -> Iterable[bytes]:
        seen.append(environ)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    result = run(middleware(app), make_environ(headers=headers))
    assert result.body == b"ok"
    assert seen[0][DECISION_KEY].sale_permitted is (not headers)


def test_vary_merged_for_html() -> None:
    app = list_app("200 OK", [*HTML, ("Vary", "Accept-Encoding")], [b"x"])
    result = run(middleware(app), make_environ())
    assert result.header("vary") == "Accept-Encoding, Sec-GPC, Cookie"


def test_wsgi_joined_gpc_header() -> None:
    seen: list[WSGIEnviron] = []

    def app(environ: WSGIEnviron, start_response: StartResponse) -> Iterable[bytes]:
        seen.append(environ)
        start_response("200 OK", HTML)
        return [b"x"]

    environ = make_environ()
    environ["HTTP_SEC_GPC"] = "0, 1"
    run(middleware(app), environ)
    assert seen[0][DECISION_KEY].gpc


@pytest.mark.parametrize("headers", [[], GPC], ids=["no signal", "gpc"])
def test_generator_app_lazy_start_response(headers: list[tuple[str, str]]) -> None:
    app = generator_app("200 OK", HTML, [b"<p>1</p>", b"<p>2</p>"])
    result = run(middleware(app), make_environ(headers=headers))
    assert result.body == b"<p>1</p><p>2</p>"
    assert result.header("vary") == "Sec-GPC, Cookie"


@pytest.mark.parametrize("headers", [[], GPC], ids=["no signal", "gpc"])
def test_write_callable(headers: list[tuple[str, str]]) -> None:
    def app(environ: WSGIEnviron, start_response: StartResponse) -> Iterable[bytes]:
        write = start_response("200 OK", HTML)
        write(b"<p>written</p>")
        return [b"<p>returned</p>"]

    result = run(middleware(app), make_environ(headers=headers))
    assert result.body == b"<p>written</p><p>returned</p>"


@pytest.mark.parametrize("headers", [[], GPC], ids=["no signal", "gpc"])
def test_exc_info_before_body_replaces_response(headers: list[tuple[str, str]]) -> None:
    def app(environ: WSGIEnviron, start_response: StartResponse) -> Iterable[bytes]:
        start_response("200 OK", HTML)
        try:
            raise ValueError("late failure")
        except ValueError:
            start_response("500 Internal Server Error", HTML, sys.exc_info())
        return [b"<p>error</p>"]

    result = run(middleware(app), make_environ(headers=headers))
    assert result.status_code == 500
    assert result.body == b"<p>error</p>"


def test_exc_info_replacing_a_plain_response_with_a_page_is_enforced() -> None:
    # The first start passes straight to the server (text/plain); its replacement is an HTML
    # error page, which an opted-out visitor gets rewritten like any page.
    tracker = b'<script src="https://cdn.tracker.test/t.js"></script>'

    def app(environ: WSGIEnviron, start_response: StartResponse) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        try:
            raise ValueError("late failure")
        except ValueError:
            start_response("500 Internal Server Error", HTML, sys.exc_info())
        return [b"<p>error</p>" + tracker]

    rules = (Rule(name="tracker", hosts=("tracker.test",)),)
    result = run(middleware(app, rules=rules), make_environ(headers=GPC))
    assert result.status_code == 500
    assert result.body == b"<p>error</p>"
    assert result.header("vary") == "Sec-GPC, Cookie"


@pytest.mark.parametrize("headers", [[], GPC], ids=["no signal", "gpc"])
def test_exc_info_after_body_sent_reraises(headers: list[tuple[str, str]]) -> None:
    def app(environ: WSGIEnviron, start_response: StartResponse) -> Iterable[bytes]:
        start_response("200 OK", HTML)
        yield b"<p>partial</p>"
        try:
            raise ValueError("mid-stream failure")
        except ValueError:
            start_response("500 Internal Server Error", HTML, sys.exc_info())
        yield b"never"

    with pytest.raises(ValueError, match="mid-stream failure"):
        run(middleware(app), make_environ(headers=headers), lint=False)


@pytest.mark.parametrize("headers", [[], GPC], ids=["no signal", "gpc"])
def test_close_called_once(headers: list[tuple[str, str]]) -> None:
    body = ClosingBody([b"<p>a</p>", b"<p>b</p>"])

    def app(environ: WSGIEnviron, start_response: StartResponse) -> Iterable[bytes]:
        start_response("200 OK", HTML)
        return body

    result = run(middleware(app), make_environ(headers=headers))
    assert result.body == b"<p>a</p><p>b</p>"
    assert body.close_calls == 1


@pytest.mark.parametrize("headers", [[], GPC], ids=["no signal", "gpc"])
def test_close_called_once_when_iteration_fails(headers: list[tuple[str, str]]) -> None:
    body = ClosingBody([b"<p>a</p>", b"<p>b</p>"], fail_at=1)

    def app(environ: WSGIEnviron, start_response: StartResponse) -> Iterable[bytes]:
        start_response("200 OK", HTML)
        return body

    with pytest.raises(RuntimeError, match="body failed"):
        run(middleware(app), make_environ(headers=headers), lint=False)
    assert body.close_calls == 1


@pytest.mark.parametrize("headers", [[], GPC], ids=["no signal", "gpc"])
def test_early_client_close(headers: list[tuple[str, str]]) -> None:
    body = ClosingBody([b"<p>a</p>", b"<p>b</p>", b"<p>c</p>"])

    def app(environ: WSGIEnviron, start_response: StartResponse) -> Iterable[bytes]:
        start_response("200 OK", HTML)
        return body

    captured: list[Any] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        captured.append(status)
        return lambda data: None

    app_iter = middleware(app)(make_environ(headers=headers), start_response)
    iterator = iter(app_iter)
    assert next(iterator) == b"<p>a</p>"
    app_iter.close()  # type: ignore[attr-defined]
    assert body.close_calls == 1
    assert captured == ["200 OK"]


def test_non_html_iterable_returned_unchanged_for_opted_out_visitor() -> None:
    """Keeps wsgi.file_wrapper and server optimisations for responses never rewritten."""
    body = ClosingBody([b"{}"])

    def app(environ: WSGIEnviron, start_response: StartResponse) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", "application/json")])
        return body

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        return lambda data: None

    assert middleware(app)(make_environ(headers=GPC), start_response) is body


def test_signal_free_iterable_returned_unchanged() -> None:
    body = ClosingBody([b"<p>x</p>"])

    def app(environ: WSGIEnviron, start_response: StartResponse) -> Iterable[bytes]:
        start_response("200 OK", HTML)
        return body

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        return lambda data: None

    assert middleware(app)(make_environ(), start_response) is body


@pytest.mark.parametrize("content_type", ["text/plain", "text/html"])
def test_a_server_whose_start_response_returns_none(content_type: str) -> None:
    # PEP 3333 says start_response returns write(); hand-written servers and harnesses often
    # return None. Nothing may depend on that value being truthy.
    page = b"<p>a</p><script src='https://cdn.tracker.test/t.js'></script>"
    starts: list[tuple[str, list[tuple[str, str]]]] = []

    def app(environ: WSGIEnviron, start_response: StartResponse) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", content_type)])
        return [page]

    def server_start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        starts.append((status, headers))
        return None

    rules = (Rule(name="tracker", hosts=("tracker.test",)),)
    body = b"".join(middleware(app, rules=rules)(make_environ(headers=GPC), server_start))
    assert len(starts) == 1
    assert body == (page if content_type == "text/plain" else b"<p>a</p>")
