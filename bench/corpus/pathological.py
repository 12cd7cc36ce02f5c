"""Inputs whose cost must grow linearly with their size, whatever the chunking.

Each shape builds an input of about ``size`` bytes. They come from the worst cases a
rewriter's buffering and re-scanning can hit (a construct that stays open across many
chunks, a delimiter that appears often but never completes, markup that opens without
end), plus a page made only of tracker pixels, whose findings grow with it.

Every shape is measured at doubling sizes and at each chunking by ``bench/linearity.py``
(instruction counts per input byte) and asserted flat by ``tests/test_rewrite_linear.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, Final, NamedTuple


class Shape(NamedTuple):
    name: str
    #: build(size, variant): ``variant`` makes inputs of one shape differ in content
    #: where it matters (tracker pixels), so no measurement is helped by verdicts an
    #: earlier one left in the rule set's caches
    build: Callable[[int, int], bytes]
    #: keyword arguments for HTMLRewriter beyond the rules
    options: Mapping[str, Any]
    what: str


def comment_dashes(size: int, variant: int = 0) -> bytes:
    """``<!--`` + dashes + ``-->``: every chunk ends inside a run of ``-`` that could be the
    start of the comment's end."""
    return b"<!--" + b"-" * max(0, size - 7) + b"-->"


def attr_gt(size: int, variant: int = 0) -> bytes:
    """One start tag whose quoted attribute value holds a ``>`` every 64 bytes: each ``>``
    could end the tag for a scanner that does not track the quotes."""
    unit = b"x" * 63 + b">"
    return b'<div title="' + unit * max(1, size // 64) + b'">text</div>'


def lt_flood(size: int, variant: int = 0) -> bytes:
    """Only ``<``: every byte starts a tag that never gets a name."""
    return b"<" * size


def nested_svg(size: int, variant: int = 0) -> bytes:
    """``<svg>`` opened inside itself without end: foreign content that never closes."""
    return b"<svg>" * max(1, size // 5)


#: A tag past max_pending must be passed through unjudged; a small limit keeps the
#: measured inputs small.
LONG_TAG_LIMIT: Final = 4096


def long_tag(size: int, variant: int = 0) -> bytes:
    """One ``<img>`` tag longer than ``max_pending`` (its ``alt`` holds ``size`` bytes)."""
    return b'<img src="/a.png" alt="' + b"a" * size + b'"><p>after</p>'


_PIXEL: Final = (
    b'<img src="https://www.facebook.com/tr?id=%d&ev=PageView&noscript=1" height="1" width="1">\n'
)


def tracker_pixels(size: int, variant: int = 0) -> bytes:
    """Nothing but distinct tracker pixels (one finding each): 10 MB holds about 110,000."""
    out = []
    n = variant * 10_000_000
    total = 0
    while total < size:
        tag = _PIXEL % (1_000_000_000 + n)
        out.append(tag)
        total += len(tag)
        n += 1
    return b"".join(out)


SHAPES: Final[Mapping[str, Shape]] = MappingProxyType(
    {
        s.name: s
        for s in (
            Shape("comment-dashes", comment_dashes, {}, "<!-- + N dashes + -->"),
            Shape("attr-gt", attr_gt, {}, "attribute value with '>' every 64 bytes"),
            Shape("lt-flood", lt_flood, {}, "N bytes of '<'"),
            Shape("nested-svg", nested_svg, {}, "N/5 nested <svg>"),
            Shape(
                "long-tag",
                long_tag,
                {"max_pending": LONG_TAG_LIMIT},
                f"one tag past max_pending ({LONG_TAG_LIMIT} B)",
            ),
            Shape(
                "tracker-pixels", tracker_pixels, {}, "distinct Meta /tr pixels, one finding each"
            ),
        )
    }
)
