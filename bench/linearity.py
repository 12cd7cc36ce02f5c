"""Is the rewriter's cost linear in its input? Instructions per input byte, under callgrind.

Run: ``.venv/bin/python bench/linearity.py`` (needs valgrind; several minutes on two
cores), ``--quick`` for smaller sizes, ``--shapes comment-dashes,lt-flood`` for some,
``--memory`` for the tracker-pixel page's memory growth (tracemalloc, no valgrind).

For each shape of ``corpus/pathological.py``, at doubling sizes and for each chunking
(whole, 4 KiB, 64 B), a fresh rewriter takes the input with the preset catalog's rules
and the instructions of its ``feed`` loop and ``close`` are counted (``_callgrind.py``).
The table gives instructions per input byte and, for each doubling, the factor by which
that figure grew: about 1.0 is linear, about 2.0 quadratic. The same measurement backs
``tests/test_rewrite_linear.py``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import tracemalloc
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from itertools import pairwise
from pathlib import Path
from typing import NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _callgrind
from corpus import RULES, fixed_chunks
from corpus.pathological import SHAPES

from optout_mw.rewrite import HTMLRewriter

#: chunk size in bytes; 0 feeds the input whole
CHUNKINGS: Sequence[int] = (0, 4096, 64)

#: (first size, doublings) per (shape, chunk size): the default run. A quadratic case
#: costs its size times its per-byte count, so those start small.
SIZES: dict[tuple[str, int], tuple[int, int]] = {
    **{("comment-dashes", c): (32 << 10, 4) for c in (0, 4096)},
    ("comment-dashes", 64): (4 << 10, 4),
    **{("attr-gt", c): (64 << 10, 4) for c in CHUNKINGS},
    **{("lt-flood", c): (16 << 10, 4) for c in CHUNKINGS},
    **{("nested-svg", c): (16 << 10, 4) for c in CHUNKINGS},
    **{("long-tag", c): (64 << 10, 4) for c in CHUNKINGS},
    **{("tracker-pixels", c): (64 << 10, 4) for c in CHUNKINGS},
}
#: --quick: three sizes from 4 KiB
QUICK: dict[tuple[str, int], tuple[int, int]] = dict.fromkeys(SIZES, (4 << 10, 3))

# A little of every shape, run before any region so that pattern compilation and lazy
# imports are not counted.
_WARM = (
    b"<!--- -- -->"
    + b'<p title="a>b">x</p><<<'
    + b"<svg><svg></svg></svg>"
    + (b'<img src="https://www.facebook.com/tr?id=1&ev=PageView&noscript=1">')
)


class Case(NamedTuple):
    shape: str
    size: int
    chunk: int


def label(chunk: int) -> str:
    return "whole" if chunk == 0 else ("4 KiB" if chunk == 4096 else f"{chunk} B")


def _feed(shape: str, chunks: list[bytes]) -> None:
    rw = HTMLRewriter(RULES, line_numbers=False, **SHAPES[shape].options)
    for c in chunks:
        rw.feed(c)
    rw.close()


def child(cases: list[Case]) -> None:
    """Run every case as one counted region (called under callgrind)."""
    inputs = []
    for k, case in enumerate(cases):
        data = SHAPES[case.shape].build(case.size, k)
        inputs.append((case.shape, [data] if case.chunk == 0 else fixed_chunks(data, case.chunk)))
    for shape in {c.shape for c in cases}:
        for chunk in CHUNKINGS:
            _feed(shape, [_WARM] if chunk == 0 else fixed_chunks(_WARM, chunk))
    gc.collect()
    gc.disable()  # a collection inside a region would be counted there
    for shape, chunks in inputs:
        _callgrind.counted(partial(_feed, shape, chunks))
    _callgrind.finish(len(inputs))


def measure(cases: list[Case], jobs: int = 2) -> dict[Case, int]:
    """Instructions for each case; the cases are split over ``jobs`` valgrind processes."""
    groups: list[list[Case]] = [[] for _ in range(max(1, jobs))]
    # Spread the big cases: sort by expected cost and deal them out in turn.
    for k, case in enumerate(sorted(cases, key=lambda c: (c.size, c.chunk == 64), reverse=True)):
        groups[k % len(groups)].append(case)
    groups = [g for g in groups if g]

    def one(group: list[Case]) -> list[int]:
        spec = json.dumps([list(c) for c in group])
        return _callgrind.run([__file__, "--child", spec])

    with ThreadPoolExecutor(max_workers=len(groups)) as pool:
        results = list(pool.map(one, groups))
    out: dict[Case, int] = {}
    for group, counts in zip(groups, results, strict=True):
        out.update(zip(group, counts, strict=True))
    return out


def cases_for(sizes: dict[tuple[str, int], tuple[int, int]], shapes: Sequence[str]) -> list[Case]:
    out: list[Case] = []
    for shape in shapes:
        for chunk in CHUNKINGS:
            first, doublings = sizes[(shape, chunk)]
            out.extend(Case(shape, first << k, chunk) for k in range(doublings))
    return out


def growth(per_byte: Sequence[float]) -> list[float]:
    """Factor by which the per-byte count grew at each doubling."""
    return [b / a for a, b in pairwise(per_byte)]


def report(counts: dict[Case, int]) -> None:
    print("Instructions per input byte (callgrind), and growth per doubling (1.0 = linear)")
    for shape in dict.fromkeys(c.shape for c in counts):
        print(f"\n{shape}: {SHAPES[shape].what}")
        for chunk in CHUNKINGS:
            rows = sorted(
                (c for c in counts if c.shape == shape and c.chunk == chunk), key=lambda c: c.size
            )
            if not rows:
                continue
            per_byte = [counts[c] / len(SHAPES[shape].build(c.size, 0)) for c in rows]
            sizes = "  ".join(f"{c.size >> 10:>6} KiB" for c in rows)
            values = "  ".join(f"{p:>10,.0f}" for p in per_byte)
            factors = " ".join(f"x{f:.2f}" for f in growth(per_byte))
            print(f"  {label(chunk):<6} {sizes}")
            print(f"  {'':<6} {values}   growth {factors}")


def memory(sizes: Sequence[int] = (1 << 20, 2 << 20, 4 << 20, 8 << 20)) -> None:
    """tracemalloc peak while a page of tracker pixels streams in 4 KiB chunks."""
    shape = SHAPES["tracker-pixels"]
    print("\nMemory: a page of distinct tracker pixels, streamed in 4 KiB chunks")
    print(f"  {'size':>8} {'findings':>10} {'peak growth':>14} {'per finding':>12}")
    for size in sizes:
        chunks = fixed_chunks(shape.build(size, 0), 4096)
        rw = HTMLRewriter(RULES, line_numbers=False)
        rw.feed(chunks[0])
        tracemalloc.start()
        try:
            base, _ = tracemalloc.get_traced_memory()
            tracemalloc.reset_peak()
            for c in chunks[1:]:
                rw.feed(c)
            rw.close()
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        n = len(rw.findings)
        print(
            f"  {size >> 20:>5} MB {n:>10,} {(peak - base) / 2**20:>10.1f} MiB "
            f"{(peak - base) / max(1, n):>9.0f} B"
        )


def main(argv: Sequence[str] = ()) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (4 KiB up)")
    parser.add_argument("--shapes", default=",".join(SHAPES))
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--memory", action="store_true", help="only the memory table")
    parser.add_argument("--json", type=Path, help="also write the counts here")
    args = parser.parse_args(argv)
    if args.memory:
        memory()
        return
    if not _callgrind.available():
        print("valgrind is not installed: instruction counts skipped")
        return
    shapes = [s for s in args.shapes.split(",") if s]
    counts = measure(cases_for(QUICK if args.quick else SIZES, shapes), jobs=args.jobs)
    report(counts)
    if args.json:
        args.json.write_text(json.dumps([[*c, n] for c, n in counts.items()], indent=0))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child([Case(*c) for c in json.loads(sys.argv[2])])
    else:
        main(sys.argv[1:])
