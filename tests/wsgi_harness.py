"""WSGI helpers: run an app under wsgiref's validator and Werkzeug's LintMiddleware."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from wsgiref.validate import validator

from werkzeug.middleware.lint import LintMiddleware
from werkzeug.test import EnvironBuilder

from optout_mw._types import StartResponse, WSGIApp, WSGIEnviron


def make_environ(
    path: str = "/", *, method: str = "GET", headers: Sequence[tuple[str, str]] = ()
) -> WSGIEnviron:
    builder = EnvironBuilder(path=path, method=method, headers=list(headers))
    try:
        environ: WSGIEnviron = builder.get_environ()
    finally:
        builder.close()
    return environ


@dataclass
class WSGIResult:
    status: str
    headers: list[tuple[str, str]]
    chunks: list[bytes] = field(default_factory=list)

    @property
    def status_code(self) -> int:
        return int(self.status[:3])

    @property
    def body(self) -> bytes:
        return b"".join(self.chunks)

    def header(self, name: str) -> str | None:
        values = [v for k, v in self.headers if k.lower() == name]
        return values[0] if values else None


def run(app: WSGIApp, environ: WSGIEnviron, *, lint: bool = True) -> WSGIResult:
    """Run ``app`` as a PEP 3333 server would, checked by both WSGI linters.

    Headers count as sent with the first non-empty chunk, so a later ``start_response``
    with ``exc_info`` replaces them before that and re-raises after it.
    """
    checked: WSGIApp = validator(LintMiddleware(app)) if lint else app
    response: list[Any] = []
    written: list[bytes] = []
    sent = False

    def write(data: bytes) -> None:
        nonlocal sent
        sent = sent or bool(data)
        written.append(data)

    def start_response(
        status: str, headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Callable[[bytes], None]:
        if exc_info:
            try:
                if sent:
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None
        elif response:
            raise AssertionError("start_response called twice without exc_info")
        response[:] = [status, list(headers)]
        return write

    app_iter = checked(environ, start_response)
    try:
        for chunk in app_iter:
            assert response, "body produced before start_response"
            sent = sent or bool(chunk)
            written.append(chunk)
    finally:
        close = getattr(app_iter, "close", None)
        if close is not None:
            close()
    assert response, "start_response never called"
    return WSGIResult(status=response[0], headers=response[1], chunks=written)


def list_app(
    status: str, headers: Sequence[tuple[str, str]], chunks: Sequence[bytes]
) -> WSGIApp:
    def app(environ: WSGIEnviron, start_response: StartResponse) -> Iterable[bytes]:
        start_response(status, list(headers))
        return list(chunks)

    return app


class ClosingBody:
    """An iterable that records how often ``close()`` was called."""

    def __init__(self, chunks: Sequence[bytes], *, fail_at: int | None = None) -> None:
        self.chunks = list(chunks)
        self.fail_at = fail_at
        self.close_calls = 0

    def __iter__(self) -> Iterator[bytes]:
        for index, chunk in enumerate(self.chunks):
            if index == self.fail_at:
                raise RuntimeError("body failed")
            yield chunk

    def close(self) -> None:
        self.close_calls += 1


def generator_app(
    status: str, headers: Sequence[tuple[str, str]], chunks: Sequence[bytes]
) -> WSGIApp:
    """Calls ``start_response`` lazily, on the first ``next()``."""

    def app(environ: WSGIEnviron, start_response: StartResponse) -> Iterable[bytes]:
        start_response(status, list(headers))
        yield from chunks

    return app


def capture_environ(store: list[dict[str, Any]], inner: WSGIApp) -> WSGIApp:
    def app(environ: WSGIEnviron, start_response: StartResponse) -> Iterable[bytes]:
        store.append(environ)
        return inner(environ, start_response)

    return app
