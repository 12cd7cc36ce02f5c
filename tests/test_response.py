"""The protocol-neutral response plan and body pipeline (content codings, failures)."""

from __future__ import annotations

import gzip
import tracemalloc
import zlib
from collections.abc import Callable

import brotli
import pytest
import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st

from optout_mw import development_config
from optout_mw.response import BodyPipeline, SkipReason, plan_response
from optout_mw.rewrite import HTMLRewriter
from optout_mw.rules import Rule, RuleSet

RULES = RuleSet([Rule(name="tracker", hosts=("tracker.test",))])
TRACKER = b'<script src="https://tracker.test/t.js"></script>'
PAGE = (b"<p>first-party</p>" + TRACKER) * 200
CLEAN = b"<p>first-party</p>" * 200
# Hard to compress, so that a cut stream still holds most of the page.
NOISY = b"".join(b"<p>%d</p>" % (n * 7919 % 100003) + TRACKER for n in range(3000))
NOISY_CLEAN = b"".join(b"<p>%d</p>" % (n * 7919 % 100003) for n in range(3000))


def raw_deflate(data: bytes) -> bytes:
    c = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    return c.compress(data) + c.flush()


def zstd(data: bytes) -> bytes:
    return zstandard.ZstdCompressor().compress(data)


def unzstd(data: bytes) -> bytes:
    reader = zstandard.ZstdDecompressor().decompressobj(read_across_frames=True)
    return reader.decompress(data)


def inflate(data: bytes) -> bytes:
    try:
        return zlib.decompress(data)
    except zlib.error:
        return zlib.decompress(data, -zlib.MAX_WBITS)


CODINGS: dict[str, tuple[Callable[[bytes], bytes], Callable[[bytes], bytes]]] = {
    "gzip": (gzip.compress, gzip.decompress),
    "deflate": (zlib.compress, inflate),
    "raw-deflate": (raw_deflate, inflate),
    "br": (brotli.compress, brotli.decompress),
    "zstd": (zstd, unzstd),
}


def encoding_of(name: str) -> str:
    return "deflate" if name == "raw-deflate" else name


def pipeline(name: str | None, *, passthrough: bool = False) -> BodyPipeline:
    rewriter = HTMLRewriter(RULES, report_only=passthrough)
    return BodyPipeline(rewriter, encoding=encoding_of(name) if name else None,
                        passthrough=passthrough)


def run(p: BodyPipeline, chunks: list[bytes]) -> bytes:
    return b"".join(p.feed(c) for c in chunks) + p.close()


@pytest.mark.parametrize("name", list(CODINGS))
@given(cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=6))
@settings(max_examples=25, deadline=None)
def test_any_chunking_decodes_to_the_rewritten_page(name: str, cuts: list[int]) -> None:
    compress, decompress = CODINGS[name]
    body = compress(PAGE)
    points = sorted({min(c, len(body)) for c in cuts})
    chunks = [body[a:b] for a, b in zip([0, *points], [*points, len(body)], strict=True)]
    p = pipeline(name)
    assert decompress(run(p, chunks)) == CLEAN
    assert p.failed is None


@pytest.mark.parametrize("name", list(CODINGS))
def test_empty_first_chunk(name: str) -> None:
    compress, decompress = CODINGS[name]
    body = compress(PAGE)
    assert decompress(run(pipeline(name), [b"", body[:1], body[1:]])) == CLEAN


def test_multi_member_gzip_is_read_whole() -> None:
    body = gzip.compress(PAGE[:1000]) + gzip.compress(PAGE[1000:])
    p = pipeline("gzip")
    assert gzip.decompress(run(p, [body])) == CLEAN
    assert p.failed is None


def test_gzip_zero_padding_tolerated() -> None:
    p = pipeline("gzip")
    assert gzip.decompress(run(p, [gzip.compress(PAGE) + b"\x00" * 16])) == CLEAN
    assert p.failed is None


def test_multi_frame_zstd_is_read_whole() -> None:
    body = zstd(PAGE[:1000]) + zstd(PAGE[1000:])
    p = pipeline("zstd")
    assert unzstd(run(p, [body[:7], body[7:]])) == CLEAN
    assert p.failed is None


@pytest.mark.parametrize("name", ["gzip", "deflate", "br", "zstd"])
def test_truncated_stream_is_detected_and_closed_cleanly(name: str) -> None:
    compress, decompress = CODINGS[name]
    body = compress(NOISY)
    p = pipeline(name)
    out = run(p, [body[: len(body) // 2], body[len(body) // 2 : len(body) * 3 // 4]])
    assert p.failed is SkipReason.DECODE_ERROR
    decoded = decompress(out)  # still a complete, valid stream
    assert TRACKER not in decoded
    # Everything decoded before the cut, minus a tag cut in half, is the clean page.
    assert len(decoded) > 1000
    assert NOISY_CLEAN.startswith(decoded.rsplit(b"<", 1)[0])


@pytest.mark.parametrize("name", list(CODINGS))
def test_garbage_first_chunk_passes_through_unchanged(name: str) -> None:
    p = pipeline(name)
    garbage = b"\x1f\x8b this is not compressed at all" if name == "gzip" else b"\xff" * 40
    out = run(p, [garbage, b"more"])
    assert p.failed is SkipReason.DECODE_ERROR
    assert out == garbage + b"more"


@pytest.mark.parametrize("name", ["gzip", "br", "zstd"])
def test_decompression_bomb_keeps_memory_bounded(name: str) -> None:
    size = 48 * 1024 * 1024
    compress = {"gzip": gzip.compress, "br": brotli.compress, "zstd": zstd}[name]
    bomb = compress(b" " * size)
    assert len(bomb) < size // 500
    p = BodyPipeline(_Counting(), encoding=name)
    tracemalloc.start()
    try:
        out = p.feed(bomb) + p.close()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert p.failed is None
    assert p._transformer.seen == size  # type: ignore[attr-defined]
    assert len(out) < size // 100
    assert peak < 12 * 1024 * 1024, peak


class _Counting:
    """A transformer that keeps nothing, to measure the pipeline's own memory."""

    def __init__(self) -> None:
        self.seen = 0

    def feed(self, data: bytes) -> bytes:
        self.seen += len(data)
        return b""

    def close(self) -> bytes:
        return b""


@pytest.mark.parametrize("bom", [b"\xff\xfe", b"\xfe\xff"], ids=["utf-16le", "utf-16be"])
@pytest.mark.parametrize("name", [None, "gzip"])
def test_utf16_bom_passes_through_with_a_reason(bom: bytes, name: str | None) -> None:
    text = (bom + "<p>x</p><script src='https://tracker.test/t.js'></script>".encode(
        "utf-16-le" if bom == b"\xff\xfe" else "utf-16-be"))
    body = gzip.compress(text) if name else text
    p = pipeline(name)
    assert run(p, [body]) == body
    assert p.failed is SkipReason.UTF16_BOM


def test_utf8_bom_is_rewritten() -> None:
    assert run(pipeline(None), [b"\xef\xbb\xbf" + PAGE]) == b"\xef\xbb\xbf" + CLEAN


@pytest.mark.parametrize("name", list(CODINGS))
def test_report_mode_returns_the_original_bytes(name: str) -> None:
    compress, _ = CODINGS[name]
    body = compress(PAGE)
    p = pipeline(name, passthrough=True)
    assert run(p, [body[:10], body[10:]]) == body


@pytest.mark.parametrize(
    ("kwargs", "rewrite", "reason", "html"),
    [
        pytest.param({}, True, None, True, id="html get"),
        pytest.param({"content_type": "text/plain"}, False, None, False, id="text"),
        pytest.param({"content_type": None}, False, None, False, id="no content type"),
        pytest.param({"content_type": "TEXT/HTML; Charset=UTF-8"}, True, None, True,
                     id="uppercase"),
        pytest.param({"content_type": 'text/html; charset="windows-1252"'}, True, None, True,
                     id="quoted charset"),
        pytest.param({"content_type": "text/html; charset=utf-16"}, False,
                     SkipReason.UNSUPPORTED_CHARSET, True, id="utf-16"),
        pytest.param({"content_type": "text/html; charset=iso-2022-jp"}, False,
                     SkipReason.UNSUPPORTED_CHARSET, True, id="iso-2022-jp"),
        pytest.param({"status": 206}, False, SkipReason.PARTIAL_CONTENT, True, id="206"),
        pytest.param({"status": 204}, False, SkipReason.NO_BODY, True, id="204"),
        pytest.param({"status": 304}, False, SkipReason.NO_BODY, True, id="304"),
        pytest.param({"method": "HEAD"}, False, None, True, id="head"),
        pytest.param({"content_encoding": "compress"}, False, SkipReason.UNSUPPORTED_ENCODING,
                     True, id="unknown encoding"),
        pytest.param({"content_encoding": "gzip, br"}, False, SkipReason.UNSUPPORTED_ENCODING,
                     True, id="stacked encodings"),
        pytest.param({"content_encoding": "identity"}, True, None, True, id="identity"),
        pytest.param({"wants_rewrite": False}, False, None, True, id="visitor not opted out"),
        pytest.param({"status": 404}, True, None, True, id="error page"),
    ],
)
def test_plan(kwargs: dict[str, object], rewrite: bool, reason: SkipReason | None,
              html: bool) -> None:
    values: dict[str, object] = {"method": "GET", "status": 200,
                                 "content_type": "text/html; charset=utf-8",
                                 "content_encoding": None, "wants_rewrite": True}
    values.update(kwargs)
    plan = plan_response(**values)  # type: ignore[arg-type]
    assert (plan.rewrite, plan.skip_reason, plan.html) == (rewrite, reason, html)


_CONTENT_TYPES = [
    ("text/html", True),
    ("text/html; charset=utf-8", True),
    ("TEXT/HTML;charset=UTF-8", True),
    ("  text/html  ; q=1", True),
    ("text/html\t", True),
    ("application/xhtml+xml", True),
    ("Application/XHTML+XML; charset=utf-8", True),
    ("text/htmlx", False),
    ("text/html-sandboxed", False),
    ("text/plain; charset=utf-8", False),
    ("application/json", False),
    ("text/event-stream", False),
    ("xtext/html", False),
    ("", False),
    ("text/ html", False),
]


@pytest.mark.parametrize(
    ("value", "expected"), _CONTENT_TYPES, ids=[v or "empty" for v, _ in _CONTENT_TYPES]
)
def test_html_content_types_judged_alike_as_str_bytes_and_remembered(
    value: str, expected: bool
) -> None:
    from optout_mw.engine import Engine
    from optout_mw.response import is_html

    engine = Engine(development_config())
    assert is_html(value) is expected
    assert is_html(value.encode()) is expected
    for raw in (value, value.encode()):
        assert engine.learn_content_type(raw) is expected
        assert engine.html_types.get(raw) is expected


def test_remembered_content_types_are_bounded() -> None:
    from optout_mw.engine import Engine

    engine = Engine(development_config())
    for index in range(1000):
        engine.learn_content_type(f"text/x-{index}".encode())
    assert len(engine.html_types) <= 256
