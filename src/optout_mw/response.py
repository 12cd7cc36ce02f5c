"""Protocol-neutral response handling: which responses to rewrite, and the body pipeline.

Both adapters ask :func:`plan_response` what to do with a response once its status and
headers are known, and push body bytes through a :class:`BodyPipeline` (decode the
``Content-Encoding``, rewrite, re-encode). Nothing here knows about ASGI or WSGI.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from .headers import HTML_MEDIA_TYPES, is_ascii_compatible, parse_content_type

logger = logging.getLogger("optout_mw")


class SkipReason(StrEnum):
    """Why an HTML response that should have been rewritten was passed through."""

    NO_BODY = "no_body"
    PARTIAL_CONTENT = "partial_content"
    HEAD = "head"
    UNSUPPORTED_CHARSET = "unsupported_charset"
    UNSUPPORTED_ENCODING = "unsupported_encoding"
    DECODE_ERROR = "decode_error"
    BUFFER_OVERFLOW = "buffer_overflow"
    UTF16_BOM = "utf16_bom"


#: Headers whose value describes the exact bytes of the body, which a rewrite changes.
BODY_DIGEST_HEADERS = ("content-md5", "digest", "repr-digest", "content-digest")


@dataclass(frozen=True, slots=True)
class ResponsePlan:
    #: An HTML response whose bytes depend on the opt-out signals: gets ``Vary``.
    html: bool
    #: The body goes through a :class:`BodyPipeline`.
    rewrite: bool
    #: ``Content-Encoding`` to decode and re-encode around the rewrite.
    encoding: str | None = None
    #: Set when an HTML response that should be rewritten is passed through.
    skip_reason: SkipReason | None = None
    #: Drop ``Content-Length`` (HEAD of a page that would have been rewritten).
    drop_length: bool = False


NOT_HTML = ResponsePlan(html=False, rewrite=False)
HTML_KEEP = ResponsePlan(html=True, rewrite=False)


def is_html(content_type: str | bytes | None) -> bool:
    """Whether a ``Content-Type`` value names an HTML media type (cheap: on the hot path)."""
    if not content_type:
        return False
    if isinstance(content_type, bytes):
        media = content_type.split(b";", 1)[0].strip().lower()
        return media == b"text/html" or media == b"application/xhtml+xml"
    return content_type.split(";", 1)[0].strip().lower() in HTML_MEDIA_TYPES


def plan_response(
    *,
    method: str,
    status: int,
    content_type: str | None,
    content_encoding: str | None,
    wants_rewrite: bool,
) -> ResponsePlan:
    """Decide what to do with one response.

    :param wants_rewrite: the request's visitor opted out and rewriting (or reporting)
        is on for this path.
    """
    media, charset = parse_content_type(content_type)
    if media not in HTML_MEDIA_TYPES:
        return NOT_HTML
    if not wants_rewrite:
        return HTML_KEEP
    if status in (204, 304) or status < 200:
        return ResponsePlan(html=True, rewrite=False, skip_reason=SkipReason.NO_BODY)
    if method == "HEAD":
        # The GET body would be rewritten, so its length is unknowable (RFC 9110 §9.3.2).
        return ResponsePlan(html=True, rewrite=False, drop_length=True)
    if status == 206:
        return ResponsePlan(html=True, rewrite=False, skip_reason=SkipReason.PARTIAL_CONTENT)
    if not is_ascii_compatible(charset):
        return ResponsePlan(html=True, rewrite=False, skip_reason=SkipReason.UNSUPPORTED_CHARSET)
    encoding = (content_encoding or "").strip().lower() or None
    if encoding == "identity":
        encoding = None
    if encoding is not None and encoding not in available_encodings():
        return ResponsePlan(html=True, rewrite=False, skip_reason=SkipReason.UNSUPPORTED_ENCODING)
    return ResponsePlan(html=True, rewrite=True, encoding=encoding)


class Transformer(Protocol):
    """What the pipeline drives: the HTML rewriter, or anything shaped like it."""

    def feed(self, data: bytes) -> bytes: ...

    def close(self) -> bytes: ...


# --- content codings ---------------------------------------------------------------------

_CHUNK = 64 * 1024


class _Codec(Protocol):
    def decode(self, data: bytes) -> list[bytes]: ...

    def decode_end(self) -> list[bytes]: ...

    def encode(self, data: bytes, *, flush: bool) -> bytes: ...

    def encode_end(self) -> bytes: ...


class _Zlib:
    """gzip and deflate. ``deflate`` is meant to be zlib-wrapped (RFC 9110 §8.4.1.2), but
    servers send raw deflate too and browsers accept both, so the first bytes decide."""

    def __init__(self, encoding: str) -> None:
        self._gzip = encoding in ("gzip", "x-gzip")
        self._decoder: zlib._Decompress | None = (
            zlib.decompressobj(16 + zlib.MAX_WBITS) if self._gzip else None
        )
        self._head = b""
        wbits = 16 + zlib.MAX_WBITS if self._gzip else zlib.MAX_WBITS
        self._encoder = zlib.compressobj(6, zlib.DEFLATED, wbits)

    def decode(self, data: bytes) -> list[bytes]:
        if self._decoder is None:
            # A zlib stream starts with a 2-byte header: CM=8 and a multiple-of-31 check.
            data = self._head + data
            if len(data) < 2:
                self._head = data
                return []
            raw = (data[0] & 0x0F) != 8 or ((data[0] << 8) | data[1]) % 31 != 0
            self._decoder = zlib.decompressobj(-zlib.MAX_WBITS if raw else zlib.MAX_WBITS)
            if raw:
                self._encoder = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
        out = []
        # Bounded pieces: a small compressed chunk can expand enormously.
        piece = self._decoder.decompress(data, _CHUNK)
        while piece:
            out.append(piece)
            tail = self._decoder.unconsumed_tail
            piece = self._decoder.decompress(tail, _CHUNK) if tail else b""
        return out

    def decode_end(self) -> list[bytes]:
        if self._decoder is None:
            if self._head:
                raise ValueError("truncated deflate stream")
            return []
        if not self._decoder.eof:
            raise ValueError("truncated compressed stream")
        rest = self._decoder.flush()
        return [rest] if rest else []

    def encode(self, data: bytes, *, flush: bool) -> bytes:
        out = self._encoder.compress(data)
        if flush:
            out += self._encoder.flush(zlib.Z_SYNC_FLUSH)
        return out

    def encode_end(self) -> bytes:
        return self._encoder.flush(zlib.Z_FINISH)


class _Brotli:
    def __init__(self) -> None:
        import brotli

        self._brotli = brotli
        self._decoder = brotli.Decompressor()
        self._encoder = brotli.Compressor(quality=5)

    def decode(self, data: bytes) -> list[bytes]:
        out: bytes = self._decoder.process(data)
        return [out] if out else []

    def decode_end(self) -> list[bytes]:
        if not self._decoder.is_finished():
            raise ValueError("truncated brotli stream")
        return []

    def encode(self, data: bytes, *, flush: bool) -> bytes:
        out: bytes = self._encoder.process(data)
        if flush:
            out += self._encoder.flush()
        return out

    def encode_end(self) -> bytes:
        out: bytes = self._encoder.finish()
        return out


class _Zstd:
    def __init__(self) -> None:
        import zstandard

        self._zstd = zstandard
        self._decoder = zstandard.ZstdDecompressor().decompressobj()
        self._encoder = zstandard.ZstdCompressor(level=3).compressobj()

    def decode(self, data: bytes) -> list[bytes]:
        out: bytes = self._decoder.decompress(data)
        return [out] if out else []

    def decode_end(self) -> list[bytes]:
        return []

    def encode(self, data: bytes, *, flush: bool) -> bytes:
        out: bytes = self._encoder.compress(data)
        if flush:
            out += self._encoder.flush(self._zstd.COMPRESSOBJ_FLUSH_BLOCK)
        return out

    def encode_end(self) -> bytes:
        out: bytes = self._encoder.flush()
        return out


def _codec_factories() -> dict[str, Callable[[], _Codec]]:
    factories: dict[str, Callable[[], _Codec]] = {
        "gzip": lambda: _Zlib("gzip"),
        "x-gzip": lambda: _Zlib("gzip"),
        "deflate": lambda: _Zlib("deflate"),
    }
    try:
        import brotli  # noqa: F401

        factories["br"] = _Brotli
    except ImportError:
        pass
    try:
        import zstandard  # noqa: F401

        factories["zstd"] = _Zstd
    except ImportError:
        pass
    return factories


_FACTORIES: dict[str, Callable[[], _Codec]] | None = None


def available_encodings() -> dict[str, Callable[[], _Codec]]:
    """Content codings the pipeline can decode and re-encode (br and zstd when installed)."""
    global _FACTORIES
    if _FACTORIES is None:
        _FACTORIES = _codec_factories()
    return _FACTORIES


class BodyPipeline:
    """Decode, transform, re-encode a body as it streams.

    With ``passthrough=True`` (report mode) the original bytes are returned unchanged while
    the transformer still sees the decoded body, so findings are collected.

    A body that fails to decode is passed through unchanged from that point on; what was
    already sent cannot be recalled, so :attr:`failed` records it for logging.
    """

    __slots__ = ("_codec", "_emitted", "_passthrough", "_transformer", "failed")

    def __init__(
        self, transformer: Transformer, *, encoding: str | None = None, passthrough: bool = False
    ) -> None:
        self._transformer = transformer
        self._codec = available_encodings()[encoding]() if encoding else None
        self._passthrough = passthrough
        self._emitted = False
        self.failed: SkipReason | None = None

    def feed(self, data: bytes) -> bytes:
        if self.failed is not None:
            return data if self._raw_after_failure else b""
        if self._codec is None:
            out = self._transformer.feed(data)
            return data if self._passthrough else out
        try:
            pieces = self._codec.decode(data)
        except Exception:  # zlib.error, brotli.error, zstd errors: a broken body; fail open
            self._fail()
            return data if self._raw_after_failure else b""
        rewritten = b"".join([self._transformer.feed(piece) for piece in pieces])
        if self._passthrough:
            return data
        out = self._codec.encode(rewritten, flush=True)
        self._emitted = self._emitted or bool(out)
        return out

    @property
    def _raw_after_failure(self) -> bool:
        # Before anything re-encoded went out, the original bytes can still pass unchanged.
        return self._passthrough or not self._emitted

    def _fail(self) -> None:
        logger.warning("optout_mw: response body could not be decoded; passed through")
        self.failed = SkipReason.DECODE_ERROR

    def close(self) -> bytes:
        if self._codec is None:
            out = self._transformer.close()
            return b"" if self._passthrough else out
        if self.failed is not None:
            return b"" if self._raw_after_failure else self._codec.encode_end()
        try:
            pieces = self._codec.decode_end()
        except Exception:
            self._fail()
            pieces = []
        rewritten = b"".join([self._transformer.feed(piece) for piece in pieces])
        rewritten += self._transformer.close()
        if self._passthrough:
            return b""
        return self._codec.encode(rewritten, flush=False) + self._codec.encode_end()
