"""The full middleware path on a typical 80 KB page, against Starlette's GZipMiddleware.

A Starlette app serves the page (one body, and streamed in 4 KiB chunks); each variant is
called directly, no server. optout-mw runs for a visitor sending ``Sec-GPC: 1`` in enforce
mode, so every vendor tag is stripped. Target: optout-mw's added cost is at most half of
GZipMiddleware's on the same page.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from _harness import best_times, row
from pages import VENDOR_RULES, chunked, typical_page
from starlette.applications import Starlette
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response, StreamingResponse
from starlette.routing import Route

from optout_mw import OptOutASGIMiddleware, development_config

PAGE = typical_page()
CHUNKS = chunked(PAGE, 4096)
CONFIG = development_config(rules=VENDOR_RULES.rules)


async def whole(request: Request) -> Response:
    return HTMLResponse(PAGE)


async def streamed(request: Request) -> Response:
    async def body() -> AsyncIterator[bytes]:
        for chunk in CHUNKS:
            yield chunk

    return StreamingResponse(body(), media_type="text/html; charset=utf-8")


def app() -> Starlette:
    return Starlette(routes=[Route("/", whole), Route("/stream", streamed)])


def runner(asgi: Any, path: str, headers: list[tuple[bytes, bytes]]) -> Callable[[], object]:
    loop = asyncio.new_event_loop()
    received = [0]

    async def receive() -> dict[str, Any]:
        # Streaming responses listen for a disconnect after the request body: never comes.
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            received[0] += len(message.get("body", b""))

    async def many() -> None:
        for _ in range(10):
            scope = {
                "type": "http", "method": "GET", "path": path, "raw_path": path.encode(),
                "root_path": "", "query_string": b"", "headers": list(headers),
                "scheme": "http", "http_version": "1.1", "asgi": {"version": "3.0"},
                "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80),
            }
            await asgi(scope, receive, send)

    return lambda: loop.run_until_complete(many())


def main() -> None:
    print(f"Full middleware path, {len(PAGE) / 1024:.0f} KB page, Starlette app called directly")
    for path, label in (("/", "one body"), ("/stream", "streamed, 4 KiB chunks")):
        variants = {
            "bare app": (app(), [(b"accept-encoding", b"gzip")]),
            "GZipMiddleware": (GZipMiddleware(app()), [(b"accept-encoding", b"gzip")]),
            "optout-mw (GPC visitor, enforce)": (
                OptOutASGIMiddleware(app(), config=CONFIG), [(b"sec-gpc", b"1")]
            ),
        }
        runners = {name: runner(asgi, path, headers) for name, (asgi, headers) in variants.items()}
        times = {name: t / 10 for name, t in best_times(runners, number=5, repeat=15).items()}
        bare = times["bare app"]
        gzip_cost = times["GZipMiddleware"] - bare
        print(f" {label}")
        for name, seconds in times.items():
            added = seconds - bare
            note = "" if name == "bare app" else f"+{added * 1e3:.2f} ms"
            print(row(name, f"{seconds * 1e3:.2f} ms", note))
        ours = times["optout-mw (GPC visitor, enforce)"] - bare
        print(row("optout-mw added cost / GZipMiddleware added cost", "",
                  f"{ours / gzip_cost:.2f}x"))


if __name__ == "__main__":
    main()
