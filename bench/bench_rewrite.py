"""Throughput of the streaming HTML rewriter, as ratios against baselines in the same run.

Run: ``PYTHONPATH=src .venv/bin/python bench/bench_rewrite.py``

Rows, for a ~80 KB page with a dozen vendor tags and a ~5 MB page, fed whole and in
4 KiB chunks:

* raw copy floor: collecting the chunks and joining them;
* ``html.parser`` rewriter (``bench/htmlparser_rewriter.py``);
* python-lolhtml with equivalent selectors and Python handlers (``lolhtml_rewriter.py``,
  skipped if not installed);
* ours, as the middleware runs it when enforcing (``line_numbers=False``), and with line
  numbers counted (as in report mode).

Then the tracemalloc peak growth while streaming the 5 MB page in 4 KiB chunks.
"""

from __future__ import annotations

import sys
import tracemalloc
from collections.abc import Callable
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import best_times, row
from htmlparser_rewriter import HTMLParserRewriter
from lolhtml_rewriter import make_lolhtml
from pages import VENDOR_RULES, chunked, large_page, typical_page

from optout_mw.rewrite import HTMLRewriter
from optout_mw.rules import RuleSet

CHUNK = 4096


def run_copy(chunks: list[bytes]) -> bytes:
    # A real copy of every chunk (bytes(bytes) would return the same object), then join.
    out = [bytes(memoryview(c)) for c in chunks]
    return b"".join(out)


def run_ours(
    chunks: list[bytes], rules: RuleSet = VENDOR_RULES, line_numbers: bool = False
) -> bytes:
    rw = HTMLRewriter(rules, line_numbers=line_numbers)
    out = [rw.feed(c) for c in chunks]
    out.append(rw.close())
    return b"".join(out)


def run_htmlparser(chunks: list[bytes]) -> bytes:
    rw = HTMLParserRewriter(VENDOR_RULES)
    out = [rw.feed(c) for c in chunks]
    out.append(rw.close())
    return b"".join(out)


def peak_growth(chunks: list[bytes]) -> int:
    rw = HTMLRewriter(VENDOR_RULES)
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
    return peak - base


def bench_page(title: str, doc: bytes, number: int, repeat: int) -> None:
    mb = len(doc) / 1e6
    print(f"\n{title}: {len(doc):,} bytes")
    lol = make_lolhtml(VENDOR_RULES)
    for label, chunks in (("whole", [doc]), ("4 KiB chunks", chunked(doc, CHUNK))):
        print(f" {label}")
        funcs: dict[str, Callable[[], object]] = {
            "copy": partial(run_copy, chunks),
            "ours": partial(run_ours, chunks),
            "lines": partial(run_ours, chunks, line_numbers=True),
            "parser": partial(run_htmlparser, chunks),
        }
        if lol is not None:
            funcs["lol"] = partial(lol, chunks)
        # Interleaved rounds: drift on a busy machine hits every variant alike.
        times = best_times(funcs, number=number, repeat=repeat)
        copy, ours, parser = times["copy"], times["ours"], times["parser"]
        print(row("raw copy floor", f"{mb / copy:,.0f} MB/s", f"{copy / ours:.3f}x"))
        print(row("html.parser rewriter", f"{mb / parser:,.1f} MB/s", f"{parser / ours:.1f}x"))
        if lol is not None:
            t = times["lol"]
            print(
                row(
                    "python-lolhtml (selectors + Python handlers)",
                    f"{mb / t:,.1f} MB/s",
                    f"{t / ours:.2f}x",
                )
            )
        else:
            print(row("python-lolhtml", "not installed", "-"))
        print(row("optout_mw HTMLRewriter", f"{mb / ours:,.1f} MB/s", "1.00x"))
        lines = times["lines"]
        print(row("  with line numbers (report mode)", f"{mb / lines:,.1f} MB/s",
                  f"{lines / ours:.2f}x"))
    print("  (ratio: its time / our time, so above 1 means ours is faster)")


def main() -> None:
    typical = typical_page()
    large = large_page()
    out = run_ours([typical])
    print("optout_mw rewriter benchmark")
    print(f"typical page: removed {len(typical) - len(out):,} bytes of vendor tags")
    # Many short rounds for the typical page: on a busy machine the best of a few can
    # still be a disturbed one.
    bench_page("Typical page", typical, number=10, repeat=15)
    bench_page("Large page", large, number=1, repeat=7)
    growth = peak_growth(chunked(large, CHUNK))
    print(
        f"\nStreaming the large page in 4 KiB chunks: tracemalloc peak growth "
        f"{growth / 1024:,.0f} KiB (limit 1024 KiB)"
    )


if __name__ == "__main__":
    main()
