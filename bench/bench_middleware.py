"""Per-request cost of the middleware on trivial apps, called directly (no server).

For each app (a trivial Starlette app, a trivial WSGI app) and each visitor
(a) no signals, (b) ``Sec-GPC: 1``, (c) a 4 KB Cookie header holding a valid signed choice
cookie and a ``usprivacy`` cookie, it measures requests per second of the bare app, the app
behind a no-op pure middleware, and the app behind optout-mw, all in the same run.
Targets: (a) and (b) >= 0.95x the bare app; (c) >= 0.90x. The WSGI figures use a trivial
Flask app; a bare WSGI callable that does nothing is also shown, where the absolute
overhead in microseconds is the meaningful figure (even a no-op middleware halves it).
Every request also carries the ten headers a browser sends with a page request.

Timings on a shared machine move by several percent between runs; ``bench/instructions.py``
counts the same requests' CPU instructions under valgrind for noise-free ratios.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from _harness import best_times, row
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from optout_mw import OptOutASGIMiddleware, OptOutWSGIMiddleware, development_config
from optout_mw._types import Receive, Scope, Send, StartResponse, WSGIApp, WSGIEnviron
from optout_mw.cookies import ChoiceCookieCodec, StoredChoice

CONFIG = development_config()

#: What a browser sends with every page request besides the signals.
BROWSER_HEADERS = [
    ("host", "shop.example"),
    ("user-agent", "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"),
    ("accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
    ("accept-language", "en-US,en;q=0.5"),
    ("accept-encoding", "gzip, deflate, br, zstd"),
    ("connection", "keep-alive"),
    ("upgrade-insecure-requests", "1"),
    ("sec-fetch-dest", "document"),
    ("sec-fetch-mode", "navigate"),
    ("sec-fetch-site", "none"),
]


def visitors() -> dict[str, list[tuple[str, str]]]:
    codec = ChoiceCookieCodec(CONFIG.secret_keys, max_age=CONFIG.choice_cookie_max_age)
    choice = codec.dumps(StoredChoice(opted_out=True, made_at=int(time.time())))
    signals = f"optout_choice={choice}; usprivacy=1YYN"
    parts: list[str] = []
    index = 0
    # Realistic filler (analytics and session cookies) up to 4 KB in all.
    while sum(len(p) + 2 for p in parts) + len(signals) < 4096 - 40:
        parts.append(f"_ga_{index:03d}=GA1.1.{index:010d}.{index:010d}")
        index += 1
    half = len(parts) // 2
    cookie = "; ".join([*parts[:half], signals, *parts[half:]])
    cookie += "; pad=" + "x" * max(0, 4096 - len(cookie) - 7)
    return {
        "(a) no signals": [],
        "(b) Sec-GPC: 1": [("sec-gpc", "1")],
        "(c) 4 KB cookie, signed choice + usprivacy": [("cookie", cookie)],
        # Every request carries a different Cookie header: no cache can help.
        # Every request a different visitor with their own signed choice: nothing cached.
        "(c') as (c), each request a new visitor": [("cookie", cookie.replace(choice, "%s"))],
    }


def _visitor_choices(count: int) -> list[str]:
    codec = ChoiceCookieCodec(CONFIG.secret_keys, max_age=CONFIG.choice_cookie_max_age)
    now = int(time.time())
    return [codec.dumps(StoredChoice(opted_out=True, made_at=now - i)) for i in range(count)]


# More distinct visitors than any cache holds, in a cycle no variant lines up with.
_CHOICES = _visitor_choices(4099)  # prime: no variant sees the same visitors twice


_counter = [0]


def fresh(value: str) -> str:
    """A new string object per request, as a server builds; "%s" makes it a new visitor."""
    if "%s" in value:
        _counter[0] += 1
        return value.replace("%s", _CHOICES[_counter[0] % len(_CHOICES)])
    return "".join([value[:1], value[1:]])


# --- ASGI -------------------------------------------------------------------------------


async def _plain(request: Request) -> PlainTextResponse:
    return PlainTextResponse("hello")


def starlette_app() -> Starlette:
    return Starlette(routes=[Route("/", _plain)])


class NoopASGI:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_wrapper(message: dict[str, Any]) -> None:
            await send(message)

        await self.app(scope, receive, send_wrapper)


def asgi_runner(
    app: Any, headers: list[tuple[str, str]], requests: int = 200
) -> Callable[[], object]:
    loop = asyncio.new_event_loop()
    browser = [(k.encode(), v.encode()) for k, v in BROWSER_HEADERS]

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        return None

    async def many() -> None:
        for _ in range(requests):
            scope = {
                "type": "http", "method": "GET", "path": "/", "raw_path": b"/",
                "root_path": "", "query_string": b"",
                "headers": [*browser, *((k.encode(), fresh(v).encode()) for k, v in headers)],
                "scheme": "http", "http_version": "1.1", "asgi": {"version": "3.0"},
                "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80),
                # As uvicorn builds it: every request gets a copy of the lifespan state.
                "state": {},
            }
            await app(scope, receive, send)

    return lambda: loop.run_until_complete(many())


# --- WSGI -------------------------------------------------------------------------------


def flask_app() -> WSGIApp:
    from flask import Flask

    app = Flask("bench")

    @app.get("/")
    def hello() -> str:
        return "hello"

    return app.wsgi_app


def wsgi_app(environ: WSGIEnviron, start_response: StartResponse) -> Iterable[bytes]:
    body = b"hello"
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


class NoopWSGI:
    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def __call__(self, environ: WSGIEnviron, start_response: StartResponse) -> Iterable[bytes]:
        return self.app(environ, start_response)


def wsgi_runner(
    app: WSGIApp, headers: list[tuple[str, str]], requests: int = 200
) -> Callable[[], object]:
    base = {"REQUEST_METHOD": "GET", "PATH_INFO": "/", "SCRIPT_NAME": "", "QUERY_STRING": "",
            "SERVER_NAME": "x", "SERVER_PORT": "80", "wsgi.url_scheme": "http"}
    base.update(("HTTP_" + k.upper().replace("-", "_"), v) for k, v in BROWSER_HEADERS)
    keys = [("HTTP_" + key.upper().replace("-", "_"), value) for key, value in headers]

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        return None

    def many() -> None:
        for _ in range(requests):
            environ = dict(base)
            for key, value in keys:
                environ[key] = fresh(value)
            result = app(environ, start_response)
            for _chunk in result:
                pass
            close = getattr(result, "close", None)
            if close is not None:
                close()

    return many


def main() -> None:
    print("Middleware overhead (200 requests per call, best of 15 interleaved rounds;")
    print("ratio = rps / bare rps)")
    for kind in ("Starlette (ASGI)", "Flask (WSGI)", "bare WSGI callable"):
        print(f"\n{kind}")
        for label, headers in visitors().items():
            if kind.startswith("Starlette"):
                apps = {
                    "bare": starlette_app(),
                    "no-op middleware": NoopASGI(starlette_app()),
                    "optout-mw": OptOutASGIMiddleware(starlette_app(), config=CONFIG),
                }
                runners = {name: asgi_runner(app, headers) for name, app in apps.items()}
            else:
                inner = flask_app if kind.startswith("Flask") else (lambda: wsgi_app)
                wapps: dict[str, WSGIApp] = {
                    "bare": inner(),
                    "no-op middleware": NoopWSGI(inner()),
                    "optout-mw": OptOutWSGIMiddleware(inner(), config=CONFIG),
                }
                runners = {name: wsgi_runner(app, headers) for name, app in wapps.items()}
            times = best_times(runners, number=5, repeat=15)
            print(f" {label}")
            for name, seconds in times.items():
                rps = 200 / seconds
                extra = (seconds - times["bare"]) / 200 * 1e6
                print(row(f"{name} (+{extra:.1f} us/request)" if name != "bare" else name,
                          f"{rps:,.0f} rps", f"{times['bare'] / seconds:.2f}x"))


if __name__ == "__main__":
    main()
