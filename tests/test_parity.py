"""One scenario table run through both adapters, so WSGI and ASGI cannot drift."""

from __future__ import annotations

import asyncio
import gzip
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import brotli
import pytest
import zstandard

from optout_mw import (
    Action,
    OptOutASGIMiddleware,
    OptOutWSGIMiddleware,
    Rule,
    development_config,
)

from .asgi_harness import call, http_scope, scripted_app
from .wsgi_harness import generator_app, list_app, make_environ, run

TRACKER = b'<script src="https://cdn.tracker.test/t.js"></script>'
PIXEL = b'<img src="https://pixel.tracker.test/p.gif" alt="">'
PAGE = b"<!doctype html><title>Shop</title><p>Hello</p>" + TRACKER + PIXEL + b"<p>Bye</p>"
CLEAN = b"<!doctype html><title>Shop</title><p>Hello</p><p>Bye</p>"
RULES = (Rule(name="tracker", hosts=("tracker.test",)),)
UTF16_PAGE = b"\xff\xfe" + PAGE.decode().encode("utf-16-le")
HTML = ("Content-Type", "text/html; charset=utf-8")
GPC = (("Sec-GPC", "1"),)


def blocked() -> bytes:
    return (
        b'<!doctype html><title>Shop</title><p>Hello</p><script data-optout-rule="tracker" '
        b'type="text/plain" data-optout-src="https://cdn.tracker.test/t.js"></script>'
        b'<img data-optout-rule="tracker" data-optout-src="https://pixel.tracker.test/p.gif" '
        b'alt=""><p>Bye</p>'
    )


@dataclass(frozen=True)
class Scenario:
    status: int = 200
    headers: tuple[tuple[str, str], ...] = (HTML,)
    chunks: tuple[bytes, ...] = (PAGE,)
    request: tuple[tuple[str, str], ...] = GPC
    method: str = "GET"
    path: str = "/"
    config: dict[str, Any] = field(default_factory=dict)
    # expectations
    body: bytes | Callable[[bytes], bool] = CLEAN
    length: str | None = "absent"  # "absent", "body" (== len(body)) or an exact value
    vary: str | None = "Sec-GPC, Cookie"
    etag: str | None = None
    decode: Callable[[bytes], bytes] | None = None
    #: Declare the Content-Length of the app's body, as Flask and Starlette do.
    declare: bool = True

    def response_headers(self) -> list[tuple[str, str]]:
        headers = list(self.headers)
        if self.declare and self.chunks:
            headers.append(declared(self.chunks))
        return headers


def declared(chunks: Sequence[bytes]) -> tuple[str, str]:
    return ("Content-Length", str(sum(map(len, chunks))))


def gz(data: bytes) -> bytes:
    return gzip.compress(data)


def raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


def inflate_any(data: bytes) -> bytes:
    try:
        return zlib.decompress(data)
    except zlib.error:
        return zlib.decompress(data, -zlib.MAX_WBITS)


SCENARIOS = {
    "html single body gets its new length": Scenario(
        headers=(HTML, ("ETag", '"v1"')), length="body", etag='W/"v1"'
    ),
    "html streamed drops length": Scenario(chunks=(PAGE[:30], PAGE[30:])),
    "tag split across chunk boundary": Scenario(
        chunks=tuple(PAGE[i : i + 7] for i in range(0, len(PAGE), 7))
    ),
    "one byte chunks": Scenario(chunks=tuple(PAGE[i : i + 1] for i in range(len(PAGE)))),
    "weak etag kept weak": Scenario(
        headers=(HTML, ("ETag", 'W/"v1"')), etag='W/"v1"', length="body"
    ),
    "block action neutralises in place": Scenario(
        config={"action": "block"}, body=blocked(), length="body"
    ),
    "xhtml is rewritten": Scenario(
        headers=(("Content-Type", "application/xhtml+xml"),), length="body"
    ),
    "error pages are rewritten too": Scenario(status=404, length="body"),
    "streamed without declared length": Scenario(chunks=(PAGE[:50], PAGE[50:]), declare=False),
    "visitor without signals: untouched, vary added": Scenario(
        request=(), body=PAGE, length="original"
    ),
    "report mode changes no byte": Scenario(
        config={"mode": "report"}, headers=(HTML, ("ETag", '"v1"')),
        body=PAGE, length="original", etag='"v1"',
    ),
    "off mode changes nothing": Scenario(
        config={"mode": "off"}, body=PAGE, length="original", vary=None,
    ),
    "excluded path untouched": Scenario(
        config={"exclude_paths": ["/admin"]}, path="/admin/report", body=PAGE, vary=None,
        length="original",
    ),
    "not an included path untouched": Scenario(
        config={"include_paths": ["/shop"]}, path="/blog", body=PAGE, vary=None,
        length="original",
    ),
    "text/plain untouched": Scenario(
        headers=(("Content-Type", "text/plain"),), body=PAGE, vary=None, length="original"
    ),
    "event stream untouched": Scenario(
        headers=(("Content-Type", "text/event-stream"),), body=PAGE, vary=None,
        length="original",
    ),
    "utf-16 charset passed through": Scenario(
        headers=(("Content-Type", "text/html; charset=utf-16"),), body=PAGE, length="original"
    ),
    "206 passed through": Scenario(status=206, body=PAGE, length="original"),
    "304 revalidating a rewritten page gets a weak etag": Scenario(
        status=304, headers=(HTML, ("ETag", '"v1"')), chunks=(), body=b"", etag='W/"v1"'
    ),
    "304 without content-type still gets vary": Scenario(
        status=304, headers=(("ETag", '"v1"'),), chunks=(), body=b"", etag='W/"v1"'
    ),
    "304 for a visitor without signals untouched": Scenario(
        request=(), status=304, headers=(HTML, ("ETag", '"v1"')), chunks=(), body=b"",
        etag='"v1"',
    ),
    "utf-16 byte-order mark passed through": Scenario(
        chunks=(UTF16_PAGE,), body=UTF16_PAGE, length="original"
    ),
    "refuse: unsupported charset answers 502": Scenario(
        config={"refuse_unrewritable": True},
        headers=(("Content-Type", "text/html; charset=utf-16"),), status=502,
        body=lambda b: b.startswith(b"This page could not be checked"), length="body",
    ),
    "refuse: unknown encoding answers 502": Scenario(
        config={"refuse_unrewritable": True}, headers=(HTML, ("Content-Encoding", "compress")),
        status=502, body=lambda b: b"unsupported_encoding" in b, length="body",
    ),
    "refuse: utf-16 byte-order mark answers 502": Scenario(
        config={"refuse_unrewritable": True}, chunks=(UTF16_PAGE[:9], UTF16_PAGE[9:]),
        status=502, body=lambda b: b"utf16_bom" in b, length="body",
    ),
    "refuse is off in report mode": Scenario(
        config={"refuse_unrewritable": True, "mode": "report"},
        headers=(("Content-Type", "text/html; charset=utf-16"),), body=PAGE,
        length="original",
    ),
    "204 untouched apart from vary": Scenario(status=204, chunks=(), body=b""),
    "head drops the get length": Scenario(
        method="HEAD", headers=(HTML, ("Content-Length", str(len(PAGE)))), chunks=(), body=b""
    ),
    "unknown content-encoding passed through": Scenario(
        headers=(HTML, ("Content-Encoding", "compress")), body=PAGE, length="original"
    ),
    "gzip decoded, rewritten, re-encoded": Scenario(
        headers=(HTML, ("Content-Encoding", "gzip")), chunks=(gz(PAGE),),
        decode=gzip.decompress, length="body",
    ),
    "gzip streamed in small chunks": Scenario(
        headers=(HTML, ("Content-Encoding", "gzip")),
        chunks=tuple(gz(PAGE)[i : i + 5] for i in range(0, len(gz(PAGE)), 5)),
        decode=gzip.decompress,
    ),
    "zlib deflate": Scenario(
        headers=(HTML, ("Content-Encoding", "deflate")), chunks=(zlib.compress(PAGE),),
        decode=inflate_any, length="body",
    ),
    "raw deflate": Scenario(
        headers=(HTML, ("Content-Encoding", "deflate")), chunks=(raw_deflate(PAGE),),
        decode=inflate_any, length="body",
    ),
    "brotli": Scenario(
        headers=(HTML, ("Content-Encoding", "br")), chunks=(brotli.compress(PAGE),),
        decode=brotli.decompress, length="body",
    ),
    "zstd": Scenario(
        headers=(HTML, ("Content-Encoding", "zstd")),
        chunks=(zstandard.ZstdCompressor().compress(PAGE),),
        decode=lambda d: zstandard.ZstdDecompressor().decompressobj().decompress(d),
        length="body",
    ),
    "corrupt gzip passed through unchanged": Scenario(
        headers=(HTML, ("Content-Encoding", "gzip")), chunks=(b"not gzip at all",),
        body=b"not gzip at all", length="body",
    ),
}


def run_asgi(s: Scenario) -> tuple[int, dict[str, list[str]], bytes]:
    config = development_config(rules=RULES, **s.config)
    app = scripted_app(
        s.status, [(k.lower().encode(), v.encode()) for k, v in s.response_headers()], s.chunks
    )
    scope = http_scope(
        s.path, method=s.method, headers=[(k.lower().encode(), v.encode()) for k, v in s.request]
    )
    recorder = asyncio.run(call(OptOutASGIMiddleware(app, config=config), scope))
    headers: dict[str, list[str]] = {}
    for k, v in recorder.headers:
        headers.setdefault(k, []).append(v)
    return recorder.status, headers, recorder.body


def run_wsgi(s: Scenario) -> tuple[int, dict[str, list[str]], bytes]:
    config = development_config(rules=RULES, **s.config)
    status_line = f"{s.status} X"
    make = list_app if len(s.chunks) <= 1 else generator_app
    app = make(status_line, s.response_headers(), list(s.chunks))
    result = run(OptOutWSGIMiddleware(app, config=config),
                 make_environ(s.path, method=s.method, headers=list(s.request)),
                 lint=s.status not in (204, 304) and s.method != "HEAD")
    headers: dict[str, list[str]] = {}
    for k, v in result.headers:
        headers.setdefault(k.lower(), []).append(v)
    return result.status_code, headers, result.body


@pytest.mark.parametrize("adapter", [run_asgi, run_wsgi], ids=["asgi", "wsgi"])
@pytest.mark.parametrize("scenario", list(SCENARIOS.values()), ids=list(SCENARIOS))
def test_scenario(
    scenario: Scenario, adapter: Callable[[Scenario], tuple[int, dict[str, list[str]], bytes]]
) -> None:
    status, headers, body = adapter(scenario)
    assert status == scenario.status
    plain = scenario.decode(body) if scenario.decode else body
    if callable(scenario.body):
        assert scenario.body(plain), plain
    else:
        assert plain == scenario.body
    length = headers.get("content-length")
    if scenario.length == "absent":
        assert length is None
    elif scenario.length == "body":
        assert length == [str(len(body))]
    elif scenario.length == "original":
        assert length == [str(sum(map(len, scenario.chunks)))]
    else:
        assert length == [scenario.length]
    assert headers.get("vary") == ([scenario.vary] if scenario.vary else None)
    assert headers.get("etag") == ([scenario.etag] if scenario.etag else None)
    assert "content-md5" not in headers


def test_block_keeps_action_from_rule() -> None:
    rules = (Rule(name="tracker", hosts=("tracker.test",), action=Action.BLOCK),)
    config = development_config(rules=rules)
    app = list_app("200 OK", [HTML], [PAGE])
    result = run(OptOutWSGIMiddleware(app, config=config), make_environ(headers=list(GPC)))
    assert result.body == blocked()
