"""``OptOutASGIMiddleware``: the pure-ASGI adapter (Starlette, FastAPI, any ASGI app).

Only translates: it reads the request headers, stores the decision in the scope, and
drives the protocol-neutral response plan and body pipeline. No asyncio import, so it runs
on any ASGI event loop (asyncio, trio).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ._types import ASGIApp, Message, RawHeaders, Receive, Scope, Send
from .config import Mode, OptOutConfig
from .decision import DECISION_KEY, Decision
from .engine import Engine, EngineSource, StaticSource
from .headers import get_all, get_header, merge_vary, remove_headers, set_header, weaken_etag
from .response import BODY_DIGEST_HEADERS, BodyPipeline, is_html, plan_response

#: ASGI extensions that would send a body around the middleware.
_BYPASS_EXTENSIONS = ("http.response.pathsend", "http.response.zerocopy")
_DROP_ON_REWRITE = (b"content-length", *(name.encode() for name in BODY_DIGEST_HEADERS))


class OptOutASGIMiddleware:
    """Reads the opt-out signals of every HTTP request, stores the :class:`Decision` under
    ``scope["optout_mw.decision"]`` (and ``request.state.optout``), and enforces it on HTML
    responses.

    :param app: the ASGI application to wrap.
    :param config: an :class:`OptOutConfig`, or a source of reloadable configuration.
    :param clock: seconds since the epoch; replaceable in tests.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        config: OptOutConfig | EngineSource,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.app = app
        self._source: EngineSource = (
            StaticSource(config) if isinstance(config, OptOutConfig) else config
        )
        self._clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        engine = self._source.engine()
        gpc: list[str] = []
        cookies: list[str] = []
        for name, value in scope["headers"]:
            lowered = name.lower()
            if lowered == b"cookie":
                cookies.append(value.decode("latin-1"))
            elif lowered == b"sec-gpc":
                gpc.append(value.decode("latin-1"))
        decision = engine.decider.decide(gpc, "; ".join(cookies) if cookies else None,
                                         self._clock())
        _annotate(scope, decision)
        if engine.config.mode is Mode.OFF:
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        if engine.wants_rewrite(decision, path):
            await _Responder(engine, scope, path).run(self.app, receive, send)
        elif engine.vary and engine.path_applies(path):
            await self.app(scope, receive, _vary_sender(send, engine.vary))
        else:
            await self.app(scope, receive, send)


def _annotate(scope: Scope, decision: Decision) -> None:
    scope[DECISION_KEY] = decision
    # Starlette's request.state reads scope["state"]; copy it so a dict shared with the
    # server's lifespan state is never mutated.
    state = scope.get("state")
    scope["state"] = {**state, "optout": decision} if state else {"optout": decision}


def _add_vary(headers: RawHeaders, vary: tuple[str, ...]) -> None:
    merged = merge_vary((v.decode("latin-1") for v in get_all(headers, b"vary")), vary)
    if merged is not None:
        set_header(headers, b"vary", merged.encode("latin-1"))


def _vary_sender(send: Send, vary: tuple[str, ...]) -> Send:
    async def send_with_vary(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = message.get("headers", ())
            content_type = get_header(headers, b"content-type")
            if content_type is not None and is_html(content_type.decode("latin-1")):
                edited = list(headers)
                _add_vary(edited, vary)
                message = {**message, "headers": edited}
        await send(message)

    return send_with_vary


class _Responder:
    """Per-request state for a response that may be rewritten."""

    __slots__ = ("engine", "held", "path", "pipeline", "scope", "send", "started")

    def __init__(self, engine: Engine, scope: Scope, path: str) -> None:
        self.engine = engine
        self.scope = scope
        self.path = path
        self.held: Message | None = None
        self.pipeline: BodyPipeline | None = None
        self.started = False

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
        kind = message["type"]
        if kind == "http.response.start":
            await self._start(message)
        elif kind == "http.response.body" and self.pipeline is not None:
            await self._body(message, self.pipeline)
        else:
            # Trailers, unknown extensions: whatever comes, the held start goes first.
            await self._flush_held()
            await self.send(message)

    async def _start(self, message: Message) -> None:
        if self.started:
            raise RuntimeError("optout_mw: unexpected repeated http.response.start message")
        self.started = True
        headers: RawHeaders = list(message.get("headers", ()))
        content_type = get_header(headers, b"content-type")
        encoding = get_header(headers, b"content-encoding")
        plan = plan_response(
            method=self.scope.get("method", "GET"),
            status=int(message["status"]),
            content_type=content_type.decode("latin-1") if content_type is not None else None,
            content_encoding=encoding.decode("latin-1") if encoding is not None else None,
            wants_rewrite=True,
        )
        if plan.html and self.engine.vary:
            _add_vary(headers, self.engine.vary)
        if plan.skip_reason is not None:
            self.engine.skipped(plan.skip_reason, self.path)
        if plan.drop_length and self.engine.enforce:
            remove_headers(headers, (b"content-length",))
        message = {**message, "headers": headers}
        if not plan.rewrite:
            await self.send(message)
            return
        self.pipeline = self.engine.new_pipeline(plan, self.path)
        if not self.engine.enforce:
            # Report mode changes no byte, so nothing needs holding.
            await self.send(message)
            return
        remove_headers(headers, _DROP_ON_REWRITE)
        etag = get_header(headers, b"etag")
        if etag is not None:
            set_header(headers, b"etag", weaken_etag(etag.decode("latin-1")).encode("latin-1"))
        self.held = message

    async def _body(self, message: Message, pipeline: BodyPipeline) -> None:
        body: bytes = message.get("body", b"")
        more: bool = message.get("more_body", False)
        out = pipeline.feed(body)
        if not more:
            out += pipeline.close()
            self.pipeline = None
            if pipeline.failed is not None:
                self.engine.skipped(pipeline.failed, self.path)
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
