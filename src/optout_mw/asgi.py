"""``OptOutASGIMiddleware``: the pure-ASGI adapter (Starlette, FastAPI, any ASGI app).

Only translates: the scope becomes a :class:`~optout_mw.request.RequestView`, the response
messages go through a :class:`~optout_mw.response.ResponseEnforcer`. No asyncio import, so
it runs on any ASGI event loop (asyncio, trio).
"""

from __future__ import annotations

from collections.abc import Awaitable, Generator, Iterator
from typing import Any

from ._types import ASGIApp, Message, RawHeaders, Receive, Scope, Send
from .decision import DECISION_KEY
from .engine import Engine, MiddlewareBase
from .metrics import Observer
from .request import RequestView, pending_decision
from .response import Refusal, ResponseEnforcer, passes_unchanged

#: ASGI extensions that would send a body around the middleware.
_BYPASS_EXTENSIONS = ("http.response.pathsend", "http.response.zerocopy")


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
        view = ASGIRequest(scope, engine, self._clock, self._observer, send)
        pending = pending_decision(view)
        scope[DECISION_KEY] = pending
        # Starlette's request.state reads scope["state"]; servers hand each request its own
        # shallow copy of the lifespan state, so it is written in place, where middleware
        # outside this one also sees it.
        state = scope.get("state")
        if state is None:
            scope["state"] = {"optout": pending}
        else:
            state["optout"] = pending
        observer = self._observer
        if observer.metrics is not None:
            observer.decision(view.decision)  # counters see every request
        if scope.get("path", "") in engine.endpoint_paths:
            await _serve_endpoint(engine, view, receive, send, observer)
            return
        if engine.off:
            await self.app(scope, receive, send)
            return
        extensions = scope.get("extensions")
        if extensions and any(name in extensions for name in _BYPASS_EXTENSIONS) and (
            engine.may_rewrite(view)
        ):
            # A copied scope: the server's own dict is never mutated.
            scope = {**scope, "extensions": {
                k: v for k, v in extensions.items() if k not in _BYPASS_EXTENSIONS
            }}
        await self.app(scope, receive, view.send)


class ASGIRequest(RequestView):
    """The request view of an ASGI HTTP scope, and the ``send`` the application sees.

    Reads nothing until asked. The usual response (not a page, the decision not read)
    passes with one cheap test and the server's own awaitable: no enforcer, no extra
    coroutine. Anything else goes through an :class:`_Enforced` sender from its start on.
    """

    __slots__ = ("_enforced", "_engine", "_observer", "_scope", "_server_send")

    def __init__(
        self, scope: Scope, engine: Engine, clock: Any, observer: Observer, server_send: Send
    ) -> None:
        # The base's __init__ inlined: one call less on every request.
        self._decider = engine.decider
        self._clock = clock
        self._scope = scope
        self._engine = engine
        self._observer = observer
        self._server_send = server_send
        self._decision = None
        self._now = None
        self.read_by_app = False
        #: The sender of a response that goes through the enforcer, from its start on.
        self._enforced: _Enforced | None = None

    def send(self, message: Message) -> Awaitable[None]:
        enforced = self._enforced
        if enforced is not None:
            return enforced(message)
        if message["type"] != "http.response.start" or passes_unchanged(
            self._engine, self, message["status"] == 304, message.get("headers", ()), True
        ):
            return self._server_send(message)
        enforced = self._enforced = _Enforced(
            self._engine.enforcer(self, self._observer, raw=True), self._server_send
        )
        return enforced(message)

    @property
    def method(self) -> str:
        method: str = self._scope.get("method", "GET")
        return method

    @property
    def path(self) -> str:
        path: str = self._scope.get("path", "")
        return path

    @property
    def query(self) -> str:
        query: bytes = self._scope.get("query_string", b"")
        return query.decode("latin-1")

    @property
    def scheme(self) -> str:
        scheme: str = self._scope.get("scheme", "http")
        return scheme

    def headers(self) -> Iterator[tuple[str, str]]:
        for name, value in self._scope["headers"]:
            yield name.decode("latin-1").lower(), value.decode("latin-1")

    def header(self, name: str) -> str | None:
        values = [value for key, value in self.headers() if key == name]
        if not values:
            return None
        return ("; " if name == "cookie" else ", ").join(values)

    def signal_headers(self) -> tuple[str | None, bytes | None]:
        gpc: bytes | None = None
        cookie: bytes | None = None
        for name, value in self._scope["headers"]:
            # Servers send lowercase names; the length test keeps odd casing cheap to accept.
            size = len(name)
            if size == 6 and (name == b"cookie" or name.lower() == b"cookie"):
                cookie = value if cookie is None else cookie + b"; " + value
            elif size == 7 and (name == b"sec-gpc" or name.lower() == b"sec-gpc"):
                # Joined as WSGI joins repeated fields; each member is judged alone.
                gpc = value if gpc is None else gpc + b", " + value
        return (None if gpc is None else gpc.decode("latin-1")), cookie


class _Done:
    """An awaitable that completes at once (for messages that are held or dropped)."""

    __slots__ = ()

    def __await__(self) -> Generator[Any, None, None]:
        return iter(())  # type: ignore[return-value]  # yields nothing: done at once


_DONE = _Done()


class _Enforced:
    """Response messages through the enforcer, from the start message on."""

    __slots__ = ("_enforcer", "_pending", "_refused", "_rewriting", "_send", "_started")

    def __init__(self, enforcer: ResponseEnforcer, send: Send) -> None:
        self._enforcer = enforcer
        self._send = send
        #: The held start message.
        self._pending: Message | None = None
        self._refused = False
        self._rewriting = False
        self._started = False

    def __call__(self, message: Message) -> Awaitable[None]:
        kind = message["type"]
        if kind == "http.response.body":
            if self._rewriting:
                return self._body(message, self._enforcer)
            return _DONE if self._refused else self._send(message)
        if kind == "http.response.start":
            return self._start(message)
        # Trailers, unknown extensions: whatever comes, a held start goes first.
        if self._pending is not None:
            return self._flush_then(message)
        return _DONE if self._refused else self._send(message)

    def _start(self, message: Message) -> Awaitable[None]:
        if self._started:
            raise RuntimeError("optout_mw: unexpected repeated http.response.start message")
        self._started = True
        enforcer = self._enforcer
        start = enforcer.start(int(message["status"]), message.get("headers", ()))
        if start.refusal is not None:
            return self._refuse(start.refusal)
        self._rewriting = enforcer.rewrites
        if start.hold:
            self._pending = message
            return _DONE
        if start.headers is not None:
            message = {**message, "headers": start.headers}
        return self._send(message)

    async def _body(self, message: Message, enforcer: ResponseEnforcer) -> None:
        more: bool = message.get("more_body", False)
        out = enforcer.body(message.get("body", b""), more)
        if enforcer.refusal is not None:
            self._pending = None
            await self._refuse(enforcer.refusal)
            return
        headers: RawHeaders | None = enforcer.take_start()
        if headers is not None:
            assert self._pending is not None
            held, self._pending = self._pending, None
            await self._send({**held, "headers": headers})
        elif not out and more:
            return
        self._rewriting = enforcer.rewrites
        await self._send({**message, "body": out})

    async def _flush_then(self, message: Message) -> None:
        held, self._pending = self._pending, None
        if held is not None:
            await self._send({**held, "headers": self._enforcer.take_start()})
        await self._send(message)

    async def _refuse(self, refusal: Refusal) -> None:
        self._refused = True
        self._rewriting = False
        await self._send({
            "type": "http.response.start",
            "status": refusal.status,
            "headers": [(k.lower().encode(), v.encode()) for k, v in refusal.headers],
        })
        await self._send({"type": "http.response.body", "body": refusal.body})


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
    engine: Engine, view: ASGIRequest, receive: Receive, send: Send, observer: Observer
) -> None:
    body, too_large = b"", False
    if engine.endpoints.wants_body(view.method, view.path):
        read = await _read_body(receive, engine.config.max_form_bytes)
        if read is None:
            return
        body, too_large = read
    response = engine.serve(view, body, too_large, observer)
    headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in response.headers]
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": response.body})
