"""Bit-level primitives for GPP: URL-safe base64 <-> int, fixed integers, Fibonacci codes.

A GPP segment is short (a few dozen bits), so it is decoded once into a Python ``int`` and
fields are sliced out with shifts and masks instead of building a ``"0101..."`` string the
way the reference libraries do.

Sources: ``InteractiveAdvertisingBureau/Global-Privacy-Platform: Core/Consent String
Specification.md`` (data types, base64 table) and ``IABTechLab/iabgpp-es:
modules/cmpapi/src/encoder/base64/AbstractBase64UrlEncoder.ts`` /
``CompressedBase64UrlEncoder.ts`` (alphabet check, padding rule).
"""

from __future__ import annotations

import re
from typing import Final

# The spec's table still prints "+" and "/", but every reference decoder accepts only the
# URL-safe alphabet and no "=" padding (SIGNALS.md TL;DR 3), so that is all we accept.
ALPHABET: Final = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_VALUE: Final[dict[str, int]] = {ch: i for i, ch in enumerate(ALPHABET)}
# Character ranges in a str pattern are code-point ranges, so this is ASCII-only.
_IS_B64: Final = re.compile(r"[A-Za-z0-9_-]+").fullmatch


def _fibonacci_weights(count: int) -> tuple[int, ...]:
    weights = [1, 2]
    while len(weights) < count:
        weights.append(weights[-1] + weights[-2])
    return tuple(weights)


# Fibonacci weights for bit positions 0, 1, 2, ... (1, 2, 3, 5, 8, ...). Codewords longer than
# MAX_FIB_BITS are rejected rather than looped over: no real section id needs more than a few.
FIB: Final[tuple[int, ...]] = _fibonacci_weights(40)
MAX_FIB_BITS: Final = 30


def is_str(value: object) -> bool:
    """Runtime type guard for inputs typed ``str``: callers may still pass anything (the
    decoders promise never to raise), and a plain ``bool`` keeps the static types honest."""
    return isinstance(value, str)


class InvalidBits(Exception):
    """Internal signal that a segment cannot be decoded; turned into a value at the API edge."""


def b64_to_int(text: str) -> tuple[int, int]:
    """Return ``(value, bit_length)`` for a URL-safe base64 segment (6 bits per char, MSB first).

    Raises :class:`InvalidBits` for an empty segment or any character outside the URL-safe
    alphabet (including ``+``, ``/`` and ``=``).
    """
    if not _IS_B64(text):
        raise InvalidBits("empty segment" if not text else "not URL-safe base64")
    value = 0
    lookup = _VALUE
    for ch in text:
        value = (value << 6) | lookup[ch]
    return value, 6 * len(text)


def int_to_b64(value: int, nbits: int) -> str:
    """Encode the ``nbits``-bit big-endian ``value`` with the libraries' "compressed" padding.

    The reference encoders pad with zero bits to a multiple of 8 and then to a multiple of 6
    (``CompressedBase64UrlEncoder.pad``); matching that makes our strings byte-identical to
    theirs (e.g. header ``DBACNYA`` rather than the spec example's ``DBACNY``).
    """
    padded = nbits + (-nbits % 8)
    padded += -padded % 6
    value <<= padded - nbits
    out = []
    for shift in range(padded - 6, -1, -6):
        out.append(ALPHABET[(value >> shift) & 0x3F])
    return "".join(out)


class BitWriter:
    """Accumulates big-endian fields into an int."""

    __slots__ = ("nbits", "value")

    def __init__(self) -> None:
        self.value = 0
        self.nbits = 0

    def write(self, value: int, width: int) -> None:
        if value < 0 or value >> width:
            raise ValueError(f"{value} does not fit in {width} bits")
        self.value = (self.value << width) | value
        self.nbits += width

    def write_fibonacci(self, value: int) -> None:
        """Write ``value`` (>= 1) in the Zeckendorf form used by GPP, terminated by ``11``."""
        if value < 1:
            raise ValueError("Fibonacci coding needs a value >= 1")
        # Greedy Zeckendorf decomposition, highest weight first.
        top = 0
        while top + 1 < len(FIB) and FIB[top + 1] <= value:
            top += 1
        bits = [0] * (top + 1)
        remaining = value
        for index in range(top, -1, -1):
            if FIB[index] <= remaining:
                bits[index] = 1
                remaining -= FIB[index]
        for bit in bits:
            self.write(bit, 1)
        self.write(1, 1)

    def to_b64(self) -> str:
        return int_to_b64(self.value, self.nbits)
