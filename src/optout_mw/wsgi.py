"""``OptOutWSGIMiddleware``: the PEP 3333 adapter (Flask, Django's WSGI handler, any app).

Flask: ``app.wsgi_app = OptOutWSGIMiddleware(app.wsgi_app, config=...)``.

Only translates: the environ becomes a :class:`~optout_mw.request.RequestView`; the
response's ``start_response``, ``write()`` and iterable go through a
:class:`~optout_mw.response.ResponseEnforcer`. Correct for everything PEP 3333 allows an
application to do: ``start_response`` called late (generator apps), the ``write()``
callable, a second ``start_response`` with ``exc_info``, and ``close()``, which reaches the
application's iterable exactly once whatever happens.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from http import HTTPStatus
from typing import Any

from ._types import OptExcInfo, StartResponse, Write, WSGIApp, WSGIEnviron
from .decision import DECISION_KEY
from .engine import Engine, MiddlewareBase
from .metrics import Observer
from .request import RequestView, pending_decision
from .response import Refusal, ResponseEnforcer, Start, passes_unchanged

_Headers = list[tuple[str, str]]


class OptOutWSGIMiddleware(MiddlewareBase[WSGIApp]):
    """Reads the opt-out signals of every request, stores the :class:`Decision` under
    ``environ["optout_mw.decision"]``, and enforces it on HTML responses.

    :param app: the WSGI application to wrap (for Flask, ``app.wsgi_app``).
    :param config: an :class:`OptOutConfig`, or a source of reloadable configuration.
    :param clock: seconds since the epoch; replaceable in tests.
    :param metrics: receives counters (see :mod:`optout_mw.metrics`); ``None`` counts nothing.
    """

    def __call__(self, environ: WSGIEnviron, start_response: StartResponse) -> Iterable[bytes]:
        engine = self._source.engine()
        observer = self._observer
        view = WSGIRequest(environ, engine, self._clock, observer, start_response)
        environ[DECISION_KEY] = pending_decision(view)
        if observer.metrics is not None:
            observer.decision(view.decision)  # counters see every request
        if environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "") in engine.endpoint_paths:
            return _serve_endpoint(engine, view, environ, start_response, observer)
        if engine.off:
            return self.app(environ, start_response)
        return view.finish(self.app(environ, view.start_response))


class WSGIRequest(RequestView):
    """The request view of a WSGI environ, and the ``start_response`` the application sees.

    Reads nothing until asked. The usual response (``start_response`` called before the
    application returns, not a page, the decision not read) goes straight to the server
    and the application's own iterable is returned: no wrapper, no enforcer. Anything else
    goes through a :class:`_Response`.
    """

    __slots__ = ("_engine", "_environ", "_observer", "_passed", "_response", "_server_start",
                 "_server_write")

    def __init__(
        self,
        environ: WSGIEnviron,
        engine: Engine,
        clock: Any,
        observer: Observer,
        server_start: StartResponse,
    ) -> None:
        # The base's __init__ inlined: one call less on every request.
        self._decider = engine.decider
        self._clock = clock
        self._decision = None
        self._now = None
        self.read_by_app = False
        self._environ = environ
        self._engine = engine
        self._observer = observer
        self._server_start = server_start
        #: A start went to the server unchanged (and the server's write() it returned).
        self._passed = False
        self._server_write: Write | None = None
        self._response: _Response | None = None

    def start_response(
        self, status: str, headers: _Headers, exc_info: OptExcInfo | None = None
    ) -> Write:
        response = self._response
        if response is None:
            if exc_info is None and not self._passed and passes_unchanged(
                self._engine, self, status.startswith("304"), headers, False
            ):
                self._passed = True
                write = self._server_write = self._server_start(status, headers)
                return write
            response = self._response = _Response(
                self._engine, self, self._observer, self._server_start
            )
            if self._passed:
                # A replacement (exc_info) after a start that went to the server as it was.
                response.adopt(self._server_write)
        return response.start_response(status, headers, exc_info)

    def finish(self, result: Iterable[bytes]) -> Iterable[bytes]:
        """What the server gets: the application's iterable when nothing in the body can
        change, else a :class:`_Response` around it."""
        response = self._response
        if response is None:
            if self._passed:
                return result  # started before returning, and passed unchanged
            # Not started yet (a generator application): judged when it starts.
            response = self._response = _Response(
                self._engine, self, self._observer, self._server_start
            )
        return response.wrap(result)

    @property
    def method(self) -> str:
        return str(self._environ.get("REQUEST_METHOD", "GET")).upper()

    @property
    def path(self) -> str:
        environ = self._environ
        return str(environ.get("SCRIPT_NAME", "")) + str(environ.get("PATH_INFO", ""))

    @property
    def query(self) -> str:
        return str(self._environ.get("QUERY_STRING", ""))

    @property
    def scheme(self) -> str:
        return str(self._environ.get("wsgi.url_scheme", "http"))

    def headers(self) -> Iterator[tuple[str, str]]:
        # PEP 3333: the server has already joined repeated fields (and CGI keeps the two
        # entity headers without the HTTP_ prefix).
        for key, value in self._environ.items():
            if key.startswith("HTTP_"):
                yield key[5:].replace("_", "-").lower(), str(value)
            elif key in ("CONTENT_TYPE", "CONTENT_LENGTH") and value:
                yield key.replace("_", "-").lower(), str(value)

    def header(self, name: str) -> str | None:
        key = name.upper().replace("-", "_")
        if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            key = "HTTP_" + key
        value = self._environ.get(key)
        return None if value is None else str(value)

    def signal_headers(self) -> tuple[str | None, str | None]:
        environ = self._environ
        return environ.get("HTTP_SEC_GPC"), environ.get("HTTP_COOKIE")


def _status_code(status: str) -> int:
    try:
        return int(status[:3])
    except ValueError:
        return 500


class _Response:
    """The iterable returned for every request that is not an endpoint.

    When ``start_response`` is called eagerly and nothing in the body changes, the
    application's own iterable is returned (``wsgi.file_wrapper`` and its ``close()`` kept).
    A held start (a page being rewritten) reaches the server with the first output, so a
    body that arrives whole (its length equals the declared ``Content-Length``) gets its
    new length; a streamed one loses the header.
    """

    __slots__ = (
        "_app_iter",
        "_closed",
        "_done",
        "_drop_rest",
        "_enforcer",
        "_engine",
        "_held_status",
        "_iterator",
        "_observer",
        "_refusal",
        "_server_start",
        "_server_started",
        "_server_write",
        "_started",
        "_view",
    )

    def __init__(
        self, engine: Engine, view: RequestView, observer: Observer, start_response: StartResponse
    ) -> None:
        self._engine = engine
        self._view = view
        self._observer = observer
        self._server_start = start_response
        self._server_write: Write | None = None
        #: The server's start_response was called (it may return None: never rely on it).
        self._server_started = False
        #: The enforcer while the body goes through it (rewritten, reported or held).
        self._enforcer: ResponseEnforcer | None = None
        self._held_status: str | None = None
        self._refusal: Refusal | None = None
        self._started = False
        self._app_iter: Iterable[bytes] = ()
        self._iterator: Iterator[bytes] | None = None
        self._done = False
        self._closed = False
        #: A whole declared body was rewritten at once: bytes the application sends beyond
        #: its own Content-Length are dropped.
        self._drop_rest = False

    def wrap(self, result: Iterable[bytes]) -> Iterable[bytes]:
        if self._started and self._enforcer is None and self._refusal is None:
            return result  # started eagerly, nothing to change in the body
        self._app_iter = result
        return self

    def adopt(self, server_write: Write | None) -> None:
        """Take over a response whose start already went to the server unchanged."""
        self._started = True
        self._server_write = server_write
        self._server_started = True

    # -- start_response / write --------------------------------------------------------

    def start_response(
        self, status: str, headers: _Headers, exc_info: OptExcInfo | None = None
    ) -> Write:
        if exc_info is not None and exc_info[0] is not None:
            try:
                if self._started:
                    return self._restart(status, headers, exc_info)
            finally:
                exc_info = None
        elif self._started:
            raise AssertionError("start_response called a second time without exc_info")
        self._started = True
        enforcer = self._engine.enforcer(self._view, self._observer, raw=False)
        return self._apply(status, headers, enforcer, enforcer.start(_status_code(status), headers))

    def _restart(self, status: str, headers: _Headers, exc_info: OptExcInfo) -> Write:
        enforcer = self._enforcer or self._engine.enforcer(self._view, self._observer, raw=False)
        start = enforcer.restart(_status_code(status), headers)
        self._enforcer = None
        self._refusal = None
        if not self._server_started:
            return self._apply(status, headers, enforcer, start)
        # Headers already went to the server: it raises if they reached the client, or
        # replaces them.
        new_headers = start.headers if start.headers is not None else list(headers)
        if start.hold:
            new_headers = enforcer.take_start()
        if enforcer.rewrites:
            self._enforcer = enforcer
        self._server_started = True
        self._server_write = self._server_start(status, new_headers, exc_info)
        return self.write

    def _apply(
        self, status: str, headers: _Headers, enforcer: ResponseEnforcer, start: Start
    ) -> Write:
        if start.refusal is not None:
            self._refusal = start.refusal
            return self.write
        if start.hold:
            self._enforcer = enforcer
            self._held_status = status
            return self.write
        if enforcer.rewrites:
            self._enforcer = enforcer  # report mode: the body is read, never changed
        self._server_started = True
        self._server_write = self._server_start(
            status, headers if start.headers is None else start.headers
        )
        return self._server_write if self._enforcer is None else self.write

    def _start_server(self, headers: _Headers) -> Write:
        assert self._held_status is not None
        status, self._held_status = self._held_status, None
        self._server_started = True
        self._server_write = self._server_start(status, headers)
        return self._server_write

    def _push(self, data: bytes, *, more: bool, whole: bool = False) -> bytes:
        """The bytes to send for ``data`` (``more=False``: the body ends), starting a held
        response at the server first. ``whole``: a first chunk of exactly the declared
        length is the whole body, so it gets its new length and later bytes are dropped.
        After a refusal: the 502's body once, then nothing."""
        enforcer = self._enforcer
        if self._refusal is None:
            if enforcer is None:
                return b"" if self._drop_rest else data
            if whole and self._held_status is not None:
                more = enforcer.declared_length != len(data)
            out = enforcer.body(data, more)
            if enforcer.refusal is None:
                headers: _Headers | None = enforcer.take_start()
                if headers is not None:
                    self._start_server(headers)
                if not more:
                    self._enforcer = None
                    self._drop_rest = True
                return out
            self._refusal = enforcer.refusal
            self._enforcer = None
        refusal = self._refusal
        if self._server_started:
            return b""
        self._held_status = None
        self._server_started = True
        self._server_write = self._server_start(
            f"{refusal.status} Bad Gateway", list(refusal.headers)
        )
        return refusal.body

    def write(self, data: bytes) -> None:
        if not self._started:
            raise AssertionError("write() called before start_response()")
        out = self._push(data, more=True)
        if out and self._server_write is not None:
            self._server_write(out)

    # -- the iterable ----------------------------------------------------------------

    def __iter__(self) -> _Response:
        return self

    def __next__(self) -> bytes:
        if self._done:
            raise StopIteration
        if self._iterator is None:
            self._iterator = iter(self._app_iter)
        try:
            chunk = next(self._iterator)
        except StopIteration:
            self._done = True
            if not self._started:
                raise AssertionError(
                    "the application returned without calling start_response()"
                ) from None
            out = self._push(b"", more=False)
            if not out:
                raise
            return out
        if not self._started:
            raise AssertionError("the application returned a body before start_response()")
        return self._push(chunk, more=True, whole=True)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        close: Callable[[], Any] | None = getattr(self._app_iter, "close", None)
        if close is not None:
            close()


def _serve_endpoint(
    engine: Engine,
    view: WSGIRequest,
    environ: WSGIEnviron,
    start_response: StartResponse,
    observer: Observer,
) -> Iterable[bytes]:
    body, too_large = b"", False
    if engine.endpoints.wants_body(view.method, view.path):
        body, too_large = _read_body(environ, engine.config.max_form_bytes)
    response = engine.serve(view, body, too_large, observer)
    reason = HTTPStatus(response.status).phrase if response.status in _STATUSES else "Unknown"
    start_response(f"{response.status} {reason}", list(response.headers))
    return [response.body]


_STATUSES = {status.value for status in HTTPStatus}


def _read_body(environ: WSGIEnviron, limit: int) -> tuple[bytes, bool]:
    """At most ``limit`` bytes of the request body; ``(b"", True)`` when it is larger."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    stream = environ.get("wsgi.input")
    if stream is None:
        return b"", False
    if length > limit:
        return b"", True
    if length <= 0:
        if not environ.get("wsgi.input_terminated"):
            return b"", False
        data: bytes = stream.read(limit + 1)
        return (b"", True) if len(data) > limit else (data, False)
    data = stream.read(length)
    return data, False
