"""The full middleware path on 80 KB pages, against Starlette's GZipMiddleware.

A Starlette app serves the page (one body, and streamed in 4 KiB chunks); each variant is
called directly, no server. optout-mw runs for a visitor sending ``Sec-GPC: 1`` in enforce
mode, so every vendor tag is stripped. First the typical page of ``pages.py`` with its
dozen vendor rules, then every corpus and held-out page (``corpus/``) generated at about
80 KB, with the preset catalog. Target: optout-mw's added cost is at most half of
GZipMiddleware's on the same page, streamed or whole.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from _harness import best_times, row
from corpus import all_pages
from pages import VENDOR_RULES, chunked, typical_page
from starlette.applications import Starlette
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response, StreamingResponse
from starlette.routing import Route

from optout_mw import OptOutASGIMiddleware, development_config

PAGE = typical_page()
CONFIG = development_config(rules=VENDOR_RULES.rules)
CORPUS_CONFIG = development_config(presets=("all",))
TARGET = 0.5


def app(page: bytes = PAGE) -> Starlette:
    chunks = chunked(page, 4096)

    async def whole(request: Request) -> Response:
        return HTMLResponse(page)

    async def streamed(request: Request) -> Response:
        async def body() -> AsyncIterator[bytes]:
            for chunk in chunks:
                yield chunk

        return StreamingResponse(body(), media_type="text/html; charset=utf-8")

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


def added_cost_ratios(
    page: bytes, config: Any, *, repeat: int, verbose: bool
) -> dict[str, float]:
    """optout-mw's added cost / GZipMiddleware's, for one body and for 4 KiB chunks."""
    ratios = {}
    for path, label in (("/", "one body"), ("/stream", "streamed, 4 KiB chunks")):
        variants = {
            "bare app": (app(page), [(b"accept-encoding", b"gzip")]),
            "GZipMiddleware": (GZipMiddleware(app(page)), [(b"accept-encoding", b"gzip")]),
            "optout-mw (GPC visitor, enforce)": (
                OptOutASGIMiddleware(app(page), config=config),
                [(b"sec-gpc", b"1")],
            ),
        }
        runners = {name: runner(asgi, path, headers) for name, (asgi, headers) in variants.items()}
        times = {
            name: t / 10 for name, t in best_times(runners, number=5, repeat=repeat).items()
        }
        bare = times["bare app"]
        gzip_cost = times["GZipMiddleware"] - bare
        ours = times["optout-mw (GPC visitor, enforce)"] - bare
        ratios[label] = ours / gzip_cost
        if verbose:
            print(f" {label}")
            for name, seconds in times.items():
                added = seconds - bare
                note = "" if name == "bare app" else f"+{added * 1e3:.2f} ms"
                print(row(name, f"{seconds * 1e3:.2f} ms", note))
            ratio = f"{ratios[label]:.2f}x"
            print(row("optout-mw added cost / GZipMiddleware added cost", "", ratio))
    return ratios


def main() -> None:
    print(f"Full middleware path, {len(PAGE) / 1024:.0f} KB page, Starlette app called directly")
    added_cost_ratios(PAGE, CONFIG, repeat=15, verbose=True)
    print("\nCorpus pages at about 80 KB (preset catalog): optout-mw added cost / GZipMiddleware's")
    print(f"  {'page':<16} {'bytes':>8} {'one body':>10} {'streamed':>10}")
    worst = {"one body": 0.0, "streamed, 4 KiB chunks": 0.0}
    for page in all_pages(size=80_000):
        ratios = added_cost_ratios(page.data, CORPUS_CONFIG, repeat=7, verbose=False)
        for label, value in ratios.items():
            worst[label] = max(worst[label], value)
        print(
            f"  {page.name:<16} {len(page.data):>8,} {ratios['one body']:>9.2f}x "
            f"{ratios['streamed, 4 KiB chunks']:>9.2f}x"
        )
    for label, value in worst.items():
        verdict = "met" if value <= TARGET else "NOT met"
        print(f"  worst, {label}: {value:.2f}x (target <= {TARGET}x: {verdict})")


if __name__ == "__main__":
    main()
