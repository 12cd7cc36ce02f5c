"""``OptOutASGIMiddleware``: the pure-ASGI adapter (Starlette, FastAPI, any ASGI app).

Only translates: it reads the request headers, stores the decision in the scope, and
drives the protocol-neutral response plan and body pipeline. No asyncio import, so it runs
on any ASGI event loop (asyncio, trio).
"""

from __future__ import annotations

from typing import Any

from ._types import ASGIApp, Message, RawHeaders, Receive, Scope, Send
from .decision import DECISION_KEY, Decision
from .engine import Engine, MiddlewareBase, Observer
from .headers import get_all, get_header, merge_vary, remove_headers, set_header, weaken_etag
from .response import (
    BODY_DIGEST_HEADERS,
    HTML_CONTENT_TYPES,
    REFUSABLE,
    BodyPipeline,
    SkipReason,
    is_html_cached,
    learn_content_type,
    plan_response,
    refusal,
)

#: ASGI extensions that would send a body around the middleware.
_BYPASS_EXTENSIONS = ("http.response.pathsend", "http.response.zerocopy")
_DROP_ON_REWRITE = (b"content-length", *(name.encode() for name in BODY_DIGEST_HEADERS))


class OptOutASGIMiddleware(MiddlewareBase[ASGIApp]):
    """Reads the opt-out signals of every HTTP request, stores the :class:`Decision` under
    ``scope["optout_mw.decision"]`` (and ``request.state.optout``), and enforces it on HTML
    responses.

    :param app: the ASGI application to wrap.
    :param config: an :class:`OptOutConfig`, or a source of reloadable configuration.
    :param clock: seconds since the epoch; replaceable in tests.
    :param metrics: receives counters (see :mod:`optout_mw.metrics`); ``None`` counts nothing.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        engine = self._source.engine()
        gpc: bytes | None = None
        cookie: bytes | None = None
        for name, value in scope["headers"]:
            # Servers send lowercase names; the length test keeps odd casing cheap to accept.
            size = len(name)
            if size == 6 and (name == b"cookie" or name.lower() == b"cookie"):
                cookie = value if cookie is None else cookie + b"; " + value
            elif size == 7 and (name == b"sec-gpc" or name.lower() == b"sec-gpc"):
                # Joined as WSGI joins repeated fields; each member is judged alone.
                gpc = value if gpc is None else gpc + b", " + value
        now = self._clock()
        decision = engine.decider.for_request(
            None if gpc is None else gpc.decode("latin-1"),
            cookie,
            now,
        )
        scope[DECISION_KEY] = decision
        # Starlette's request.state reads scope["state"]; servers hand each request its own
        # shallow copy of the lifespan state, so it is written in place, where middleware
        # outside this one also sees it.
        scope.setdefault("state", {})["optout"] = decision
        observer = self._observer
        if observer.metrics is not None:
            observer.decision(decision)
        path: str = scope.get("path", "")
        if path in engine.endpoint_paths:
            await _serve_endpoint(engine, scope, receive, send, decision, now, observer)
            return
        if engine.off:
            await self.app(scope, receive, send)
            return
        applies = engine.path_applies(path)
        if engine.wants_rewrite(decision, applies):
            responder = _Responder(engine, scope, path, decision, now, observer)
            await responder.run(self.app, receive, send)
        elif decision.signals or (applies and engine.vary):
            # Signals may mean write-back cookies; either way only HTML responses change.
            sender = _html_header_sender(send, engine, decision, now, applies)
            await self.app(scope, receive, sender)
        else:
            await self.app(scope, receive, send)


def _content_type(headers: RawHeaders) -> bytes | None:
    for key, value in headers:
        if len(key) == 12 and key.lower() == b"content-type":
            return value
    return None


def _add_vary(headers: RawHeaders, engine: Engine) -> None:
    for key, _ in headers:
        if len(key) == 4 and key.lower() == b"vary":
            existing = (value.decode("latin-1") for value in get_all(headers, b"vary"))
            merged = merge_vary(existing, engine.vary)
            if merged is not None:
                set_header(headers, b"vary", merged.encode("latin-1"))
            return
    if engine.vary_value:
        headers.append((b"vary", engine.vary_value.encode("latin-1")))


def _weaken_etag(headers: RawHeaders) -> None:
    etag = get_header(headers, b"etag")
    if etag is not None:
        set_header(headers, b"etag", weaken_etag(etag.decode("latin-1")).encode("latin-1"))


def _add_cookies(headers: RawHeaders, set_cookies: list[str]) -> None:
    headers.extend((b"set-cookie", value.encode("latin-1")) for value in set_cookies)


def _html_header_sender(
    send: Send, engine: Engine, decision: Decision, now: float, applies: bool
) -> Send:
    """Adds ``Vary`` (where the path is enforced) and any write-back cookies to HTML
    responses; touches nothing else."""

    async def send_with_headers(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = message.get("headers", ())
            # Inlined: this runs for every response of every request.
            for key, value in headers:
                if key == b"content-type" or (len(key) == 12 and key.lower() == b"content-type"):
                    html = HTML_CONTENT_TYPES.get(value)
                    if html is None:
                        html = learn_content_type(value)
                    if html:
                        edited = list(headers)
                        if applies:
                            _add_vary(edited, engine)
                        if decision.signals:
                            cookies = engine.writeback.response_cookies(decision, now)
                            if cookies:
                                _add_cookies(edited, cookies)
                        message = {**message, "headers": edited}
                    break
        await send(message)

    return send_with_headers


async def _read_body(receive: Receive, limit: int) -> tuple[bytes, bool] | None:
    """The request body, reading at most ``limit + 1`` bytes; ``None`` on disconnect."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        if message["type"] != "http.request":
            continue
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return b"", True
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), False


async def _serve_endpoint(
    engine: Engine,
    scope: Scope,
    receive: Receive,
    send: Send,
    decision: Decision,
    now: float,
    observer: Observer,
) -> None:
    from .endpoints import EndpointRequest

    surface = engine.endpoints
    method: str = scope.get("method", "GET")
    path: str = scope.get("path", "")
    body, too_large = b"", False
    if surface.wants_body(method, path):
        read = await _read_body(receive, engine.config.max_form_bytes)
        if read is None:
            return
        body, too_large = read
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope["headers"]:
        name = raw_name.decode("latin-1").lower()
        value = raw_value.decode("latin-1")
        if name in headers:
            headers[name] += ("; " if name == "cookie" else ", ") + value
        else:
            headers[name] = value
    request = EndpointRequest(
        method=method.upper(),
        path=path,
        query=scope.get("query_string", b"").decode("latin-1"),
        headers=headers,
        body=body,
        body_too_large=too_large,
        scheme=scope.get("scheme", "http"),
    )
    response = surface.handle(request, decision, now)
    if response.event is not None:
        observer.choice(response.event.kind)
    await send(
        {
            "type": "http.response.start",
            "status": response.status,
            "headers": [
                (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in response.headers
            ],
        }
    )
    await send({"type": "http.response.body",
                "body": b"" if method == "HEAD" else response.body})


class _Responder:
    """Per-request state for a response that may be rewritten."""

    __slots__ = (
        "decision", "engine", "held", "now", "observer", "path", "pipeline", "refused",
        "scope", "send", "started",
    )

    def __init__(
        self,
        engine: Engine,
        scope: Scope,
        path: str,
        decision: Decision,
        now: float,
        observer: Observer,
    ) -> None:
        self.engine = engine
        self.observer = observer
        self.scope = scope
        self.path = path
        self.decision = decision
        self.now = now
        self.held: Message | None = None
        self.pipeline: BodyPipeline | None = None
        self.started = False
        self.refused = False

    async def run(self, app: ASGIApp, receive: Receive, send: Send) -> None:
        self.send = send
        scope = self.scope
        extensions: dict[str, Any] | None = scope.get("extensions")
        if extensions and any(name in extensions for name in _BYPASS_EXTENSIONS):
            # A copied scope: the server's own dict is never mutated.
            scope = {
                **scope,
                "extensions": {k: v for k, v in extensions.items() if k not in _BYPASS_EXTENSIONS},
            }
        await app(scope, receive, self.send_wrapper)

    async def send_wrapper(self, message: Message) -> None:
        if self.refused:
            return  # a 502 went out instead of this response
        kind = message["type"]
        if kind == "http.response.start":
            await self._start(message)
        elif kind == "http.response.body" and self.pipeline is not None:
            await self._body(message, self.pipeline)
        else:
            # Trailers, unknown extensions: whatever comes, the held start goes first.
            if self.held is not None:
                await self._flush_held()
            await self.send(message)

    async def _start(self, message: Message) -> None:
        if self.started:
            raise RuntimeError("optout_mw: unexpected repeated http.response.start message")
        self.started = True
        status = int(message["status"])
        content_type = _content_type(message.get("headers", ()))
        if status != 304 and (content_type is None or not is_html_cached(content_type)):
            await self.send(message)  # not a page: nothing to add, nothing to rewrite
            return
        headers: RawHeaders = list(message.get("headers", ()))
        encoding = get_header(headers, b"content-encoding")
        plan = plan_response(
            method=self.scope.get("method", "GET"),
            status=status,
            content_type=content_type.decode("latin-1") if content_type is not None else None,
            content_encoding=encoding.decode("latin-1") if encoding is not None else None,
            wants_rewrite=True,
        )
        if plan.html:
            _add_vary(headers, self.engine)
            _add_cookies(headers, self.engine.writeback.response_cookies(self.decision, self.now))
        if plan.skip_reason is not None:
            self.observer.skipped(plan.skip_reason, self.path)
            if plan.skip_reason in REFUSABLE and self.engine.refuses:
                await self._refuse(plan.skip_reason)
                return
        if self.engine.enforce:
            if plan.drop_length:
                remove_headers(headers, (b"content-length",))
            if plan.weaken_etag:
                _weaken_etag(headers)
        message = {**message, "headers": headers}
        if not plan.rewrite:
            await self.send(message)
            return
        csp = get_header(headers, b"content-security-policy")
        self.pipeline = self.engine.new_pipeline(
            plan, self.path, self.decision, csp.decode("latin-1") if csp is not None else None,
            self.observer,
        )
        if not self.engine.enforce:
            # Report mode changes no byte, so nothing needs holding.
            await self.send(message)
            return
        remove_headers(headers, _DROP_ON_REWRITE)
        _weaken_etag(headers)
        self.held = message

    async def _refuse(self, reason: SkipReason) -> None:
        self.refused = True
        self.held = None
        self.pipeline = None
        status, headers, body = refusal(reason, self.engine.vary)
        await self.send({
            "type": "http.response.start",
            "status": status,
            "headers": [(k.lower().encode(), v.encode()) for k, v in headers],
        })
        await self.send({"type": "http.response.body", "body": body})

    async def _body(self, message: Message, pipeline: BodyPipeline) -> None:
        body: bytes = message.get("body", b"")
        more: bool = message.get("more_body", False)
        out = pipeline.feed(body)
        if pipeline.failed in REFUSABLE and self.held is not None and self.engine.refuses:
            self.observer.skipped(SkipReason.UTF16_BOM, self.path)
            await self._refuse(SkipReason.UTF16_BOM)
            return
        if not more:
            out += pipeline.close()
            self.pipeline = None
            if pipeline.failed is not None:
                self.observer.skipped(pipeline.failed, self.path)
            if self.held is not None:
                # The whole body came in one message: its new length is known.
                set_header(self.held["headers"], b"content-length", str(len(out)).encode())
        if self.held is not None:
            await self._flush_held()
        elif not out and more:
            return
        await self.send({**message, "body": out})

    async def _flush_held(self) -> None:
        if self.held is not None:
            held, self.held = self.held, None
            await self.send(held)
