"""The body pipeline: decode the ``Content-Encoding``, transform, re-encode, as it streams."""

from __future__ import annotations

import logging
from typing import Protocol

from ._codecs import Codec, available_encodings
from ._plan import SkipReason

logger = logging.getLogger("optout_mw")


class Transformer(Protocol):
    """What the pipeline drives: the HTML rewriter, or anything shaped like it."""

    def feed(self, data: bytes) -> bytes: ...

    def close(self) -> bytes: ...


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

    def _finish_after_failure(self, codec: Codec) -> bytes:
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
