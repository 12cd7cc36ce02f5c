"""Content codings the body pipeline decodes and re-encodes: gzip, deflate, and brotli and
zstd when their optional libraries are installed (extras ``br`` and ``zstd``)."""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator
from typing import Protocol

#: Largest piece of decoded output produced at once: a few compressed bytes can expand
#: enormously (a "decompression bomb"), so output is produced and rewritten piecewise.
_CHUNK = 64 * 1024
#: zstd offers no output limit per call; feeding small input slices bounds each call's
#: output (one 128 KiB block per few bytes at worst).
_ZSTD_SLICE = 128


class Codec(Protocol):
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
        import brotli  # an optional extra: imported only where it is known to be installed

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
        import zstandard  # an optional extra: imported only where it is known to be installed

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


def _codec_factories() -> dict[str, Callable[[], Codec]]:
    factories: dict[str, Callable[[], Codec]] = {
        "gzip": lambda: _Zlib("gzip"),
        "x-gzip": lambda: _Zlib("gzip"),
        "deflate": lambda: _Zlib("deflate"),
    }
    try:  # the optional extras, probed once
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


#: Content codings the pipeline can decode and re-encode, fixed at import: which optional
#: libraries are installed does not change while the process runs.
AVAILABLE: dict[str, Callable[[], Codec]] = _codec_factories()


def available_encodings() -> dict[str, Callable[[], Codec]]:
    """Content codings the pipeline can decode and re-encode (br and zstd when installed)."""
    return AVAILABLE
