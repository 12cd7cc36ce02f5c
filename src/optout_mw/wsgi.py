"""``OptOutWSGIMiddleware``: the PEP 3333 adapter (Flask, Django's WSGI handler, any app).

Flask: ``app.wsgi_app = OptOutWSGIMiddleware(app.wsgi_app, config=...)``.

Correct for everything PEP 3333 allows an application to do: ``start_response`` called late
(generator apps), the ``write()`` callable, a second ``start_response`` with ``exc_info``,
and ``close()``, which reaches the application's iterable exactly once whatever happens.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from http import HTTPStatus
from typing import Any

from ._types import OptExcInfo, StartResponse, Write, WSGIApp, WSGIEnviron
from .decision import DECISION_KEY, Decision
from .engine import Engine, MiddlewareBase, Observer
from .headers import get_all, get_header, merge_vary, remove_headers, set_header, weaken_etag
from .response import (
    BODY_DIGEST_HEADERS,
    HTML_CONTENT_TYPES,
    REFUSABLE,
    BodyPipeline,
    ResponsePlan,
    SkipReason,
    learn_content_type,
    plan_response,
    refusal,
)

_Headers = list[tuple[str, str]]
_DROP_ON_REWRITE = ("content-length", *BODY_DIGEST_HEADERS)


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
        now = self._clock()
        decision = engine.decider.for_request(
            environ.get("HTTP_SEC_GPC"), environ.get("HTTP_COOKIE"), now
        )
        environ[DECISION_KEY] = decision
        observer = self._observer
        if observer.metrics is not None:
            observer.decision(decision)
        path = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
        if path in engine.endpoint_paths:
            return _serve_endpoint(engine, environ, start_response, decision, now, path, observer)
        if engine.off:
            return self.app(environ, start_response)
        applies = engine.path_applies(path)
        if engine.wants_rewrite(decision, applies):
            response = _RewritingResponse(
                engine, environ, start_response, path, decision, now, observer
            )
            return response.call(self.app, environ)
        if decision.signals or (applies and engine.vary):
            # Signals may mean write-back cookies; either way only HTML responses change.
            sender = _html_start_response(start_response, engine, decision, now, applies)
            return self.app(environ, sender)
        return self.app(environ, start_response)


def _serve_endpoint(
    engine: Engine,
    environ: WSGIEnviron,
    start_response: StartResponse,
    decision: Decision,
    now: float,
    path: str,
    observer: Observer,
) -> Iterable[bytes]:
    from .endpoints import EndpointRequest

    surface = engine.endpoints
    method = str(environ.get("REQUEST_METHOD", "GET")).upper()
    body, too_large = b"", False
    if surface.wants_body(method, path):
        body, too_large = _read_body(environ, engine.config.max_form_bytes)
    headers = {
        key[5:].replace("_", "-").lower(): str(value)
        for key, value in environ.items()
        if key.startswith("HTTP_")
    }
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            headers[key.replace("_", "-").lower()] = str(environ[key])
    request = EndpointRequest(
        method=method,
        path=path,
        query=str(environ.get("QUERY_STRING", "")),
        headers=headers,
        body=body,
        body_too_large=too_large,
        scheme=str(environ.get("wsgi.url_scheme", "http")),
    )
    response = surface.handle(request, decision, now)
    if response.event is not None:
        observer.choice(response.event.kind)
    reason = HTTPStatus(response.status).phrase if response.status in _STATUSES else "Unknown"
    start_response(f"{response.status} {reason}", list(response.headers))
    return [] if method == "HEAD" else [response.body]


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


def _weaken_etag(headers: _Headers) -> None:
    etag = get_header(headers, "etag")
    if etag is not None:
        set_header(headers, "etag", weaken_etag(etag))


def _add_vary(headers: _Headers, engine: Engine) -> None:
    for key, _ in headers:
        if len(key) == 4 and key.lower() == "vary":
            merged = merge_vary(get_all(headers, "vary"), engine.vary)
            if merged is not None:
                set_header(headers, "vary", merged)
            return
    if engine.vary_value:
        headers.append(("Vary", engine.vary_value))


def _html_start_response(
    start_response: StartResponse,
    engine: Engine,
    decision: Decision,
    now: float,
    applies: bool,
) -> StartResponse:
    """Adds ``Vary`` (where the path is enforced) and any write-back cookies to HTML
    responses; touches nothing else."""

    def start_response_with_headers(
        status: str, headers: _Headers, exc_info: OptExcInfo | None = None
    ) -> Write:
        # Inlined: this runs for every response of every request.
        for key, value in headers:
            if len(key) == 12 and key.lower() == "content-type":
                html = HTML_CONTENT_TYPES.get(value)
                if html is None:
                    html = learn_content_type(value)
                if html:
                    headers = list(headers)
                    if applies:
                        _add_vary(headers, engine)
                    if decision.signals:
                        cookies = engine.writeback.response_cookies(decision, now)
                        if cookies:
                            headers += [("Set-Cookie", value) for value in cookies]
                break
        return start_response(status, headers, exc_info)

    return start_response_with_headers


class _RewritingResponse:
    """The iterable returned for an opted-out visitor's request.

    The server's ``start_response`` is called only once the first output is ready, so a
    body that arrives whole (its length equals the declared ``Content-Length``) gets its
    new length; a streamed one loses the header.
    """

    def __init__(
        self,
        engine: Engine,
        environ: WSGIEnviron,
        start_response: StartResponse,
        path: str,
        decision: Decision,
        now: float,
        observer: Observer,
    ) -> None:
        self.engine = engine
        self.observer = observer
        self.decision = decision
        self.now = now
        self.method: str = environ.get("REQUEST_METHOD", "GET")
        self.path = path
        self.server_start_response = start_response
        self.server_write: Write | None = None
        self.plan: ResponsePlan | None = None
        self.status = ""
        self.headers: _Headers = []
        self.pipeline: BodyPipeline | None = None
        self.app_iter: Iterable[bytes] = ()
        self.iterator: Iterator[bytes] | None = None
        self.done = False
        self.closed = False
        #: Set when a 502 replaces a page that should be rewritten but cannot be.
        self.refused: SkipReason | None = None

    def call(self, app: WSGIApp, environ: WSGIEnviron) -> Iterable[bytes]:
        result = app(environ, self.start_response)
        if self.plan is not None and not self.plan.rewrite and self.refused is None:
            # start_response came eagerly and there is nothing to rewrite: hand back the
            # application's own iterable (keeps wsgi.file_wrapper and its close()).
            return result
        self.app_iter = result
        return self

    # -- start_response / write --------------------------------------------------------

    def start_response(
        self, status: str, headers: _Headers, exc_info: OptExcInfo | None = None
    ) -> Write:
        if exc_info is not None and exc_info[0] is not None:
            try:
                if self.server_write is not None:
                    # Headers already went to the server: it raises if they were sent,
                    # or replaces them; our pipeline starts again for the new response.
                    self.pipeline = None
                    if self._plan(status, headers).rewrite and self.engine.enforce:
                        remove_headers(self.headers, ("content-length",))
                    self.server_write = self.server_start_response(
                        self.status, self.headers, exc_info
                    )
                    return self.write
            finally:
                exc_info = None
        elif self.plan is not None:
            raise AssertionError("start_response called a second time without exc_info")
        self.pipeline = None
        self._plan(status, headers)
        assert self.plan is not None
        if self.refused is not None:
            return self.write
        if not self.plan.rewrite:
            return self._start_server(length=None)
        if not self.engine.enforce:
            self._start_server(length=None)  # report mode changes no byte: nothing to hold
        return self.write

    def _plan(self, status: str, headers: _Headers) -> ResponsePlan:
        headers = list(headers)
        try:
            code = int(status[:3])
        except ValueError:
            code = 500
        plan = plan_response(
            method=self.method,
            status=code,
            content_type=get_header(headers, "content-type"),
            content_encoding=get_header(headers, "content-encoding"),
            wants_rewrite=True,
        )
        if plan.html:
            _add_vary(headers, self.engine)
            cookies = self.engine.writeback.response_cookies(self.decision, self.now)
            headers.extend(("Set-Cookie", value) for value in cookies)
        if plan.skip_reason is not None:
            self.observer.skipped(plan.skip_reason, self.path)
            if plan.skip_reason in REFUSABLE and self.engine.refuses:
                self.refused = plan.skip_reason
        if self.engine.enforce:
            if plan.drop_length:
                remove_headers(headers, ("content-length",))
            if plan.weaken_etag:
                _weaken_etag(headers)
        if plan.rewrite:
            self.pipeline = self.engine.new_pipeline(
                plan, self.path, self.decision, get_header(headers, "content-security-policy"),
                self.observer,
            )
            if self.engine.enforce:
                _weaken_etag(headers)
                remove_headers(headers, BODY_DIGEST_HEADERS)
        self.plan, self.status, self.headers = plan, status, headers
        return plan

    def _start_server(self, *, length: int | None) -> Write:
        if self.server_write is not None:
            return self.server_write
        if self.refused is not None:
            status, headers, _ = refusal(self.refused, self.engine.vary)
            self.server_write = self.server_start_response(f"{status} Bad Gateway", headers)
            return self.server_write
        if self.plan is not None and self.plan.rewrite and self.engine.enforce:
            remove_headers(self.headers, ("content-length",))
            if length is not None:
                self.headers.append(("Content-Length", str(length)))
        self.server_write = self.server_start_response(self.status, self.headers)
        return self.server_write

    def write(self, data: bytes) -> None:
        if self.plan is None:
            raise AssertionError("write() called before start_response()")
        if self.refused is not None:
            if self.server_write is None:
                body = refusal(self.refused, self.engine.vary)[2]
                self._start_server(length=None)(body)
            return
        server_write = self._start_server(length=None)
        out = self.pipeline.feed(data) if self.pipeline is not None else data
        if out:
            server_write(out)

    # -- the iterable -------------------------------------------------------------------

    def __iter__(self) -> _RewritingResponse:
        return self

    def __next__(self) -> bytes:
        if self.done:
            raise StopIteration
        if self.iterator is None:
            self.iterator = iter(self.app_iter)
        try:
            chunk = next(self.iterator)
        except StopIteration:
            self.done = True
            return self._finish()
        if self.plan is None:
            raise AssertionError("the application returned a body before start_response()")
        if self.refused is not None:
            return self._refusal_body()
        pipeline = self.pipeline
        if pipeline is None:
            self._start_server(length=None)
            # After a whole-body rewrite, bytes beyond the declared length are dropped.
            return b"" if self.plan.rewrite else chunk
        if self.server_write is None:
            declared = get_header(self.headers, "content-length")
            whole = declared is not None and declared.strip() == str(len(chunk))
            out = pipeline.feed(chunk)
            if pipeline.failed in REFUSABLE and self.engine.refuses:
                self.refused = pipeline.failed
                self._closed_pipeline(pipeline)
                return self._refusal_body()
            if whole:
                # The whole declared body in one chunk: rewrite it now, send its new length.
                out += pipeline.close()
                self._closed_pipeline(pipeline)
                self._start_server(length=len(out))
                return out
            self._start_server(length=None)
            return out
        return pipeline.feed(chunk)

    def _refusal_body(self) -> bytes:
        """The 502's body the first time (starting the response), then nothing."""
        if self.server_write is not None:
            return b""
        assert self.refused is not None
        self._start_server(length=None)
        return refusal(self.refused, self.engine.vary)[2]

    def _finish(self) -> bytes:
        if self.plan is None:
            raise AssertionError("the application returned without calling start_response()")
        if self.refused is not None:
            body = self._refusal_body()
            if not body:
                raise StopIteration
            return body
        pipeline = self.pipeline
        if pipeline is None:
            self._start_server(length=None)
            raise StopIteration
        out = pipeline.close()
        self._closed_pipeline(pipeline)
        self._start_server(length=len(out) if self.server_write is None else None)
        if not out:
            raise StopIteration
        return out

    def _closed_pipeline(self, pipeline: BodyPipeline) -> None:
        self.pipeline = None
        if pipeline.failed is not None:
            self.observer.skipped(pipeline.failed, self.path)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        close: Callable[[], Any] | None = getattr(self.app_iter, "close", None)
        if close is not None:
            close()
