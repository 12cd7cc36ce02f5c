"""The GPP header: ``Type`` Int(6)=3, ``Version`` Int(6)=1, ``SectionIds`` Range(Fibonacci).

Layout: ``InteractiveAdvertisingBureau/Global-Privacy-Platform: Core/Consent String
Specification.md`` ("Header" and "Range (Fibonacci)"); the group semantics (a group's second
codeword is the end's offset from its start) follow ``IABTechLab/iabgpp-es:
modules/cmpapi/src/encoder/datatype/encoder/FibonacciIntegerRangeEncoder.ts``.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Final

from ._bits import FIB, MAX_FIB_BITS, BitWriter, InvalidBits, b64_to_int

HEADER_TYPE: Final = 3
HEADER_VERSION: Final = 1
# Generous bounds so a crafted header cannot make decoding expensive: GPP defines 27 ids.
_MAX_IDS: Final = 512
_MAX_HEADER_CHARS: Final = 512


def decode_header(text: str, *, max_ids: int) -> tuple[int, ...]:
    """Decode a header segment into its sorted section ids.

    ``max_ids`` bounds the work: a header listing more ids than there are sections cannot be
    valid, so decoding stops as soon as that many have been produced (a crafted range such as
    "1 to 10**9" costs nothing). Raises :class:`InvalidBits` with a reason on any problem.
    """
    ids = _decode_header_cached(text)
    if len(ids) > max_ids:
        raise InvalidBits("header lists more section ids than the string has sections")
    return ids


# Few distinct headers exist in practice (one per combination of sections), so a small cache
# removes the bit-by-bit Fibonacci work from the hot path. Failures are not cached (they raise).
@functools.lru_cache(maxsize=256)
def _decode_header_cached(text: str) -> tuple[int, ...]:
    if len(text) > _MAX_HEADER_CHARS:
        raise InvalidBits("header too long")
    value, nbits = b64_to_int(text)
    if nbits < 24:
        raise InvalidBits("truncated")
    kind = value >> (nbits - 6)
    if kind != HEADER_TYPE:
        raise InvalidBits(f"header Type={kind}, expected {HEADER_TYPE}")
    version = (value >> (nbits - 12)) & 0x3F
    if version != HEADER_VERSION:
        raise InvalidBits(f"header Version={version}, expected {HEADER_VERSION}")
    count = (value >> (nbits - 24)) & 0xFFF
    if count > _MAX_IDS:
        raise InvalidBits(f"header lists {count} ranges")
    # Fibonacci codewords end at the first "11", so scanning a bit string with str.find is
    # both simple and fast (the reference decoder does the same).
    bits = format(value, f"0{nbits}b")
    pos = 24
    ids: list[int] = []
    offset = 0
    for _ in range(count):
        if pos >= nbits:
            raise InvalidBits("truncated")
        is_group = bits[pos] == "1"
        start, pos = _fibonacci(bits, pos + 1)
        start += offset
        if is_group:
            length, pos = _fibonacci(bits, pos)
            end = start + length
            if end - start + 1 + len(ids) > _MAX_IDS:
                raise InvalidBits("header lists too many section ids")
            ids.extend(range(start, end + 1))
            offset = end
        else:
            ids.append(start)
            offset = start
    # Remaining bits are padding (6-bit or the libraries' 8-then-6 "compressed" padding).
    return tuple(ids)


def _fibonacci(bits: str, pos: int) -> tuple[int, int]:
    """Decode the Fibonacci codeword starting at ``pos``; return (value, next position)."""
    end = bits.find("11", pos)
    if end < 0:
        raise InvalidBits("truncated Fibonacci codeword")
    if end + 1 - pos > MAX_FIB_BITS:
        raise InvalidBits("Fibonacci codeword too long")
    total = 0
    for index in range(end + 1 - pos):
        if bits[pos + index] == "1":
            total += FIB[index]
    return total, end + 2


def encode_header(section_ids: Iterable[int]) -> str:
    """Encode section ids as a header, grouping consecutive ids the way the reference encoders do.

    ``encode_header([2, 6]) == "DBACNYA"``; runs of consecutive ids become one group
    (``[5, 6]`` -> ``"DBABjw"``). Raises :class:`ValueError` for ids < 1 or duplicates.
    """
    ids = sorted(section_ids)
    if any(i < 1 for i in ids):
        raise ValueError("section ids must be >= 1")
    if len(set(ids)) != len(ids):
        raise ValueError("duplicate section ids")
    groups: list[tuple[int, int]] = []
    for section_id in ids:
        if groups and groups[-1][1] + 1 == section_id:
            groups[-1] = (groups[-1][0], section_id)
        else:
            groups.append((section_id, section_id))
    writer = BitWriter()
    writer.write(HEADER_TYPE, 6)
    writer.write(HEADER_VERSION, 6)
    writer.write(len(groups), 12)
    offset = 0
    for start, end in groups:
        if start == end:
            writer.write(0, 1)
            writer.write_fibonacci(start - offset)
        else:
            writer.write(1, 1)
            writer.write_fibonacci(start - offset)
            writer.write_fibonacci(end - start)
        offset = end
    return writer.to_b64()
