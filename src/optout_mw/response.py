"""Protocol-neutral response handling: which responses to rewrite, and the body pipeline.

Both adapters ask :func:`plan_response` what to do with a response once its status and
headers are known, and push body bytes through a :class:`BodyPipeline` (decode the
``Content-Encoding``, rewrite, re-encode). Nothing here knows about ASGI or WSGI.
"""

from __future__ import annotations

import logging
import re
import zlib
from collections.abc import Callable, Iterator
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


#: With ``refuse_unrewritable``, these answer ``502`` instead of passing the page through.
REFUSABLE = frozenset(
    {SkipReason.UNSUPPORTED_CHARSET, SkipReason.UNSUPPORTED_ENCODING, SkipReason.UTF16_BOM}
)


def refusal(reason: SkipReason, vary: tuple[str, ...]) -> tuple[int, list[tuple[str, str]], bytes]:
    """The ``502`` sent instead of a page that should be rewritten but cannot be."""
    body = (
        f"This page could not be checked for third-party trackers ({reason}), "
        "so it was not sent.\n"
    ).encode()
    headers = [
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Content-Length", str(len(body))),
        ("Cache-Control", "no-store"),
    ]
    if vary:
        headers.append(("Vary", ", ".join(vary)))
    return 502, headers, body


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
    #: Weaken a strong ``ETag``: a 304 revalidating a rewritten page (RFC 9111 §4.3.4 merges
    #: its headers into the stored, rewritten response).
    weaken_etag: bool = False


NOT_HTML = ResponsePlan(html=False, rewrite=False)
HTML_KEEP = ResponsePlan(html=True, rewrite=False)


# The media type of a Content-Type value, compared as str.strip().lower() would.
_HTML_TEXT = re.compile(r"\s*(?:text/html|application/xhtml\+xml)\s*(?:;|\Z)", re.IGNORECASE)
_HTML_BYTES = re.compile(rb"\s*(?:text/html|application/xhtml\+xml)\s*(?:;|\Z)", re.IGNORECASE)


#: ``Content-Type`` values already judged (raw ASGI bytes or WSGI str): an application
#: sends only a handful, and a dict lookup costs a fraction of a regex match.
HTML_CONTENT_TYPES: dict[str | bytes, bool] = {}


def learn_content_type(value: str | bytes) -> bool:
    """Whether the ``Content-Type`` value is HTML, remembered in :data:`HTML_CONTENT_TYPES`
    (bounded)."""
    html = is_html(value)
    if len(HTML_CONTENT_TYPES) >= 256:
        HTML_CONTENT_TYPES.clear()
    HTML_CONTENT_TYPES[value] = html
    return html


def is_html_cached(value: str | bytes) -> bool:
    """:func:`is_html` through :data:`HTML_CONTENT_TYPES`."""
    known = HTML_CONTENT_TYPES.get(value)
    return learn_content_type(value) if known is None else known


def is_html(content_type: str | bytes | None) -> bool:
    """Whether a ``Content-Type`` value names an HTML media type (cheap: on the hot path)."""
    if not content_type:
        return False
    if isinstance(content_type, bytes):
        return _HTML_BYTES.match(content_type) is not None
    return _HTML_TEXT.match(content_type) is not None


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
    if wants_rewrite and status == 304:
        # 304s often carry no Content-Type, yet revalidate a page that was rewritten.
        return ResponsePlan(html=True, rewrite=False, skip_reason=SkipReason.NO_BODY,
                            weaken_etag=True)
    if media not in HTML_MEDIA_TYPES:
        return NOT_HTML
    if not wants_rewrite:
        return HTML_KEEP
    if status == 204 or status < 200:
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

#: Largest piece of decoded output produced at once: a few compressed bytes can expand
#: enormously (a "decompression bomb"), so output is produced and rewritten piecewise.
_CHUNK = 64 * 1024
#: zstd offers no output limit per call; feeding small input slices bounds each call's
#: output (one 128 KiB block per few bytes at worst).
_ZSTD_SLICE = 128


class _Codec(Protocol):
    def decode(self, data: bytes) -> Iterator[bytes]: ...

    def decode_end(self) -> Iterator[bytes]: ...

    def encode(self, data: bytes) -> bytes: ...

    def flush(self) -> bytes: ...

    def encode_end(self) -> bytes: ...


class _Zlib:
    """gzip and deflate. ``deflate`` is meant to be zlib-wrapped (RFC 9110 §8.4.1.2), but
    servers send raw deflate too and browsers accept both, so the first bytes decide, and
    the encoder is created only then. A gzip body may hold several members (RFC 1952)."""

    def __init__(self, encoding: str) -> None:
        self._gzip = encoding in ("gzip", "x-gzip")
        self._decoder: zlib._Decompress | None = None
        self._encoder: zlib._Compress | None = None
        self._head = b""
        if self._gzip:
            self._decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
            self._encoder = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)

    def _start_deflate(self, data: bytes) -> None:
        # A zlib stream starts with a 2-byte header: CM=8 and a multiple-of-31 check.
        raw = (data[0] & 0x0F) != 8 or ((data[0] << 8) | data[1]) % 31 != 0
        wbits = -zlib.MAX_WBITS if raw else zlib.MAX_WBITS
        self._decoder = zlib.decompressobj(wbits)
        self._encoder = zlib.compressobj(6, zlib.DEFLATED, wbits)

    def decode(self, data: bytes) -> Iterator[bytes]:
        if self._decoder is None:
            data = self._head + data
            if len(data) < 2:
                self._head = data
                return
            self._head = b""
            self._start_deflate(data)
        decoder = self._decoder
        assert decoder is not None
        while data:
            if decoder.eof:
                if data.strip(b"\x00") == b"":
                    return  # zero padding after the last member, as gzip tolerates
                if not self._gzip:
                    raise ValueError("data after the end of the deflate stream")
                decoder = self._decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
            piece = decoder.decompress(data, _CHUNK)
            if piece:
                yield piece
            data = decoder.unconsumed_tail or (decoder.unused_data if decoder.eof else b"")

    def decode_end(self) -> Iterator[bytes]:
        if self._decoder is None:
            if self._head:
                raise ValueError("truncated deflate stream")
            return
        if not self._decoder.eof:
            raise ValueError("truncated compressed stream")
        rest = self._decoder.flush()
        if rest:
            yield rest

    def encode(self, data: bytes) -> bytes:
        return self._encoder.compress(data) if self._encoder is not None else b""

    def flush(self) -> bytes:
        return self._encoder.flush(zlib.Z_SYNC_FLUSH) if self._encoder is not None else b""

    def encode_end(self) -> bytes:
        return self._encoder.flush(zlib.Z_FINISH) if self._encoder is not None else b""


class _Brotli:
    def __init__(self) -> None:
        import brotli

        self._decoder = brotli.Decompressor()
        self._encoder = brotli.Compressor(quality=5)

    def decode(self, data: bytes) -> Iterator[bytes]:
        decoder = self._decoder
        out: bytes = decoder.process(data, output_buffer_limit=_CHUNK)
        if out:
            yield out
        # Drain what the consumed input still holds, one bounded piece at a time.
        while out:
            out = decoder.process(b"", output_buffer_limit=_CHUNK)
            if out:
                yield out

    def decode_end(self) -> Iterator[bytes]:
        if not self._decoder.is_finished():
            raise ValueError("truncated brotli stream")
        return iter(())

    def encode(self, data: bytes) -> bytes:
        out: bytes = self._encoder.process(data)
        return out

    def flush(self) -> bytes:
        out: bytes = self._encoder.flush()
        return out

    def encode_end(self) -> bytes:
        out: bytes = self._encoder.finish()
        return out


class _Zstd:
    """zstd, frame by frame (a body may hold several frames), so a truncated last frame
    is detected."""

    def __init__(self) -> None:
        import zstandard

        self._zstd = zstandard
        self._decompressor = zstandard.ZstdDecompressor()
        self._decoder = self._decompressor.decompressobj()
        self._encoder = zstandard.ZstdCompressor(level=3).compressobj()
        self._started = False

    def decode(self, data: bytes) -> Iterator[bytes]:
        for index in range(0, len(data), _ZSTD_SLICE):
            piece = data[index : index + _ZSTD_SLICE]
            while piece:
                if self._decoder.eof:
                    self._decoder = self._decompressor.decompressobj()
                self._started = True
                out: bytes = self._decoder.decompress(piece)
                if out:
                    yield out
                piece = self._decoder.unused_data if self._decoder.eof else b""

    def decode_end(self) -> Iterator[bytes]:
        if self._started and not self._decoder.eof:
            raise ValueError("truncated zstd stream")
        return iter(())

    def encode(self, data: bytes) -> bytes:
        out: bytes = self._encoder.compress(data)
        return out

    def flush(self) -> bytes:
        out: bytes = self._encoder.flush(self._zstd.COMPRESSOBJ_FLUSH_BLOCK)
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

    A body that fails to decode is passed through unchanged when nothing re-encoded has
    been sent yet; otherwise the re-encoded stream is closed cleanly at that point, since
    bytes already sent cannot be recalled. :attr:`failed` records why, for logging. A body
    starting with a UTF-16 byte-order mark (which browsers obey over the declared charset)
    is passed through unchanged: the byte-level rewriter cannot read it.
    """

    __slots__ = (
        "_codec", "_emitted", "_passthrough", "_raw_tail", "_sniffed", "_transformer", "failed",
    )

    def __init__(
        self, transformer: Transformer, *, encoding: str | None = None, passthrough: bool = False
    ) -> None:
        self._transformer = transformer
        self._codec = available_encodings()[encoding]() if encoding else None
        self._passthrough = passthrough
        self._emitted = False
        self._sniffed = False
        # After a failure: whether later input passes through raw (else it is dropped).
        self._raw_tail = True
        self.failed: SkipReason | None = None

    def _sniff(self, piece: bytes) -> bool:
        """False when the body turns out to be UTF-16 (checked on its first bytes)."""
        self._sniffed = True
        if piece.startswith((b"\xff\xfe", b"\xfe\xff")):
            self.failed = SkipReason.UTF16_BOM
            self._raw_tail = True  # nothing was emitted yet: the body passes unchanged
            return False
        return True

    def feed(self, data: bytes) -> bytes:
        if self.failed is not None:
            return data if self._raw_tail else b""
        codec = self._codec
        if codec is None:
            if not self._sniffed and data and not self._sniff(data):
                return data
            out = self._transformer.feed(data)
            return data if self._passthrough else out
        parts: list[bytes] = []
        try:
            for piece in codec.decode(data):
                if not self._sniffed and not self._sniff(piece):
                    return data
                rewritten = self._transformer.feed(piece)
                if rewritten and not self._passthrough:
                    parts.append(codec.encode(rewritten))
        except Exception:  # zlib.error, brotli.error, zstd errors: a broken body; fail open
            self._fail()
            if self._raw_tail:
                return data
            return b"".join(parts) + self._finish_after_failure(codec)
        if self._passthrough:
            return data
        parts.append(codec.flush())
        out = b"".join(parts)
        self._emitted = self._emitted or bool(out)
        return out

    def _fail(self) -> None:
        logger.warning("optout_mw: response body could not be decoded; passed through")
        self.failed = SkipReason.DECODE_ERROR
        # Before anything re-encoded went out, the original bytes can still pass unchanged.
        self._raw_tail = self._passthrough or not self._emitted

    def _finish_after_failure(self, codec: _Codec) -> bytes:
        # Close the re-encoded stream cleanly with what the rewriter still holds.
        return codec.encode(self._transformer.close()) + codec.encode_end()

    def close(self) -> bytes:
        codec = self._codec
        if codec is None:
            if self.failed is not None:
                return b""
            out = self._transformer.close()
            return b"" if self._passthrough else out
        if self.failed is not None:
            return b""
        parts: list[bytes] = []
        try:
            for piece in codec.decode_end():
                rewritten = self._transformer.feed(piece)
                if rewritten and not self._passthrough:
                    parts.append(codec.encode(rewritten))
        except Exception:
            self._fail()
            if self._raw_tail:
                return b""
            return b"".join(parts) + self._finish_after_failure(codec)
        tail = self._transformer.close()
        if self._passthrough:
            return b""
        return b"".join(parts) + codec.encode(tail) + codec.encode_end()
