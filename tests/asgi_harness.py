"""Raw ASGI helpers: scripted apps and a recording ``send``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from optout_mw._types import ASGIApp, Message, Receive, Scope, Send


def http_scope(
    path: str = "/",
    *,
    method: str = "GET",
    headers: Sequence[tuple[bytes, bytes]] = (),
    extensions: dict[str, Any] | None = None,
) -> Scope:
    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": list(headers),
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    if extensions is not None:
        scope["extensions"] = extensions
    return scope


def scripted_app(
    status: int,
    headers: Sequence[tuple[bytes, bytes]],
    chunks: Sequence[bytes],
    *,
    seen: list[Scope] | None = None,
) -> ASGIApp:
    """An app that sends one start and ``chunks`` as body messages (``more_body`` set)."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if seen is not None:
            seen.append(scope)
        await send({"type": "http.response.start", "status": status, "headers": list(headers)})
        if not chunks:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        for index, chunk in enumerate(chunks):
            more = index < len(chunks) - 1
            await send({"type": "http.response.body", "body": chunk, "more_body": more})

    return app


async def empty_receive() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


class Recorder:
    def __init__(self, on_message: Callable[[Message], Awaitable[None]] | None = None) -> None:
        self.messages: list[Message] = []
        self._on_message = on_message

    async def __call__(self, message: Message) -> None:
        self.messages.append(message)
        if self._on_message is not None:
            await self._on_message(message)

    @property
    def start(self) -> Message:
        starts = [m for m in self.messages if m["type"] == "http.response.start"]
        assert len(starts) == 1, self.messages
        return starts[0]

    @property
    def status(self) -> int:
        status: int = self.start["status"]
        return status

    @property
    def headers(self) -> list[tuple[str, str]]:
        return [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in
                self.start["headers"]]

    def header(self, name: str) -> str | None:
        values = [v for k, v in self.headers if k == name]
        return values[0] if values else None

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.messages
                        if m["type"] == "http.response.body")

    @property
    def types(self) -> list[str]:
        return [m["type"] for m in self.messages]


async def call(app: ASGIApp, scope: Scope, receive: Receive = empty_receive) -> Recorder:
    recorder = Recorder()
    await app(scope, receive, recorder)
    return recorder
