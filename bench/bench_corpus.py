"""The rewriter on every corpus and held-out page, against html.parser and python-lolhtml.

Run: ``.venv/bin/python bench/bench_corpus.py`` (or ``bench/run.py corpus``); ``--quick``
for fewer rounds, ``--pages news,spa`` for some pages; ``--instructions`` to count
instructions per byte under callgrind instead of timing (load-proof; the large pages are
capped at 500 KB, html.parser is counted at 4 KiB chunks only; about ten minutes).

Each page (``corpus/sites.py``, then the held-out ``corpus/heldout.py``) is fed whole, in
4 KiB chunks, in 64-byte chunks and in 50-100-byte chunks (as template engines stream) to
three rewriters with the preset catalog's rules: optout-mw as the middleware runs it when
enforcing (``line_numbers=False``), the html.parser rewriter (``htmlparser_rewriter.py``)
and python-lolhtml with equivalent handlers (``lolhtml_rewriter.py``). The three are timed
in interleaved rounds and each keeps its best round; a ratio is the other's time over
ours, so above 1 means ours is faster. The summary gives the minimum and median ratio over
the pages of each set against the speed targets.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _callgrind
from _harness import best_times
from corpus import CHUNKINGS, RULES, Page, all_pages
from htmlparser_rewriter import HTMLParserRewriter
from lolhtml_rewriter import make_lolhtml

from optout_mw.rewrite import HTMLRewriter, warm_up

#: (chunking, baseline, at least this ratio)
TARGETS: Sequence[tuple[str, str, float]] = (
    ("4 KiB", "html.parser", 20.0),
    ("4 KiB", "lolhtml", 1.5),
    ("64 B", "lolhtml", 1.0),
)


def run_ours(chunks: list[bytes]) -> bytes:
    rw = HTMLRewriter(RULES, line_numbers=False)
    out = [rw.feed(c) for c in chunks]
    out.append(rw.close())
    return b"".join(out)


def run_parser(chunks: list[bytes]) -> bytes:
    rw = HTMLParserRewriter(RULES)
    out = [rw.feed(c) for c in chunks]
    out.append(rw.close())
    return b"".join(out)


def _rounds(seconds: float, quick: bool) -> tuple[int, int]:
    """(calls per round, rounds) so that a round of ours takes about 20 ms."""
    number = max(1, min(50, int(0.02 / max(seconds, 1e-6))))
    return number, (3 if quick else 7)


Ratios = dict[tuple[str, str], float]  # (chunking, baseline) -> ratio


def bench_page(page: Page, quick: bool) -> Ratios:
    lol = make_lolhtml(RULES)
    whole = run_ours([page.data])
    rw = HTMLRewriter(RULES, line_numbers=False)
    rw.feed(page.data)
    rw.close()
    print(
        f"\n{page.name}{' (held out)' if page.held_out else ''}: {len(page.data):,} bytes, "
        f"{len(rw.findings)} trackers removed ({len(page.data) - len(whole):,} bytes) - "
        f"{page.description}"
    )
    print(f"  {'chunks':<10} {'ours MB/s':>10} {'html.parser':>12} {'lolhtml':>9}  {'lol MB/s':>9}")
    ratios: Ratios = {}
    for chunking in CHUNKINGS:
        chunks = chunking.split(page.data)
        out = run_ours(chunks)
        if out != whole:
            print(f"  !! {chunking.label}: output differs from the whole-page output")
        funcs: dict[str, Callable[[], object]] = {
            "ours": partial(run_ours, chunks),
            "html.parser": partial(run_parser, chunks),
        }
        if lol is not None:
            funcs["lolhtml"] = partial(lol, chunks)
        number, repeat = _rounds(best_times({"": funcs["ours"]}, number=1, repeat=1)[""], quick)
        times = best_times(funcs, number=number, repeat=repeat)
        mb = len(page.data) / 1e6
        ours = times["ours"]
        for name in ("html.parser", "lolhtml"):
            if name in times:
                ratios[(chunking.label, name)] = times[name] / ours
        lol_cell = f"{ratios[(chunking.label, 'lolhtml')]:.2f}x" if lol is not None else "-"
        lol_speed = f"{mb / times['lolhtml']:.1f}" if lol is not None else "-"
        print(
            f"  {chunking.label:<10} {mb / ours:>10.1f} "
            f"{ratios[(chunking.label, 'html.parser')]:>11.1f}x {lol_cell:>9}  {lol_speed:>9}"
        )
    return ratios


def summary(results: dict[str, Ratios], pages: Sequence[Page]) -> None:
    print("\nSummary: ratio = baseline time / optout-mw time (above 1: optout-mw faster)")
    for held_out in (False, True):
        names = [p.name for p in pages if p.held_out == held_out and p.name in results]
        if not names:
            continue
        print(f"\n {'held-out pages' if held_out else 'corpus pages'} ({len(names)})")
        print(f"  {'chunks':<10} {'baseline':<12} {'min':>7} {'median':>7}  worst page")
        for chunking in CHUNKINGS:
            for baseline in ("html.parser", "lolhtml"):
                values = {
                    n: results[n][(chunking.label, baseline)]
                    for n in names
                    if (chunking.label, baseline) in results[n]
                }
                if not values:
                    continue
                worst = min(values, key=values.__getitem__)
                target = next(
                    (t for c, b, t in TARGETS if c == chunking.label and b == baseline), None
                )
                verdict = ""
                if target is not None:
                    met = min(values.values()) >= target
                    verdict = f"  target >= {target:g}x: {'met' if met else 'NOT met'}"
                print(
                    f"  {chunking.label:<10} {baseline:<12} {min(values.values()):>6.2f}x "
                    f"{statistics.median(values.values()):>6.2f}x  {worst}{verdict}"
                )


INSTRUCTION_CAP = 500_000


def _instruction_jobs(pages: Sequence[Page]) -> list[tuple[str, str, str]]:
    jobs = []
    for page in pages:
        for chunking in CHUNKINGS:
            for who in ("ours", "lolhtml", "html.parser"):
                if who != "html.parser" or chunking.label == "4 KiB":
                    jobs.append((page.name, chunking.label, who))
    return jobs


def _child(jobs: list[tuple[str, str, str]]) -> None:
    """Count each (page, chunking, rewriter) as one region (runs under callgrind)."""
    pages = {p.name: p for p in all_pages(cap=INSTRUCTION_CAP)}
    splits = {c.label: c.split for c in CHUNKINGS}
    lol = make_lolhtml(RULES)
    runners: dict[str, Callable[[list[bytes]], bytes]] = {
        "ours": run_ours,
        "html.parser": run_parser,
    }
    if lol is not None:
        runners["lolhtml"] = lol
    todo = [(runners[who], splits[label](pages[name].data)) for name, label, who in jobs]
    # Warm, as pages served again find them: compiled patterns and remembered verdicts.
    # optout-mw compiles a data-state pattern per tokenizer context on first use, and
    # chunk boundaries reach contexts a whole page does not, so it runs every job once;
    # the baselines have no such one-time cost and run each page whole once.
    warm_up()
    for name, label, who in jobs:
        if who == "ours":
            run_ours(splits[label](pages[name].data))
    for name, who in dict.fromkeys((n, w) for n, _, w in jobs if w != "ours"):
        runners[who]([pages[name].data])
    gc.collect()
    gc.disable()
    for run, chunks in todo:
        _callgrind.counted(partial(run, chunks))
    _callgrind.finish(len(todo))


def instructions(pages: Sequence[Page]) -> None:
    if not _callgrind.available():
        print("valgrind is not installed: instruction counts skipped")
        return
    if make_lolhtml(RULES) is None:
        print("python-lolhtml is not installed: instruction counts need it")
        return
    jobs = _instruction_jobs(pages)
    halves = [jobs[0::2], jobs[1::2]]

    def one(part: list[tuple[str, str, str]]) -> list[int]:
        return _callgrind.run([__file__, "--child", json.dumps(part)])

    with ThreadPoolExecutor(max_workers=2) as pool:
        counted = list(pool.map(one, halves))
    counts: dict[tuple[str, str, str], int] = {}
    for part, totals in zip(halves, counted, strict=True):
        counts.update(zip(part, totals, strict=True))
    sizes = {p.name: len(p.data) for p in all_pages(cap=INSTRUCTION_CAP)}
    print("Instructions per input byte (callgrind); ratio = baseline / optout-mw")
    header = f"  {'page':<15} {'chunks':<9} {'ours':>7} {'lolhtml':>8} {'ratio':>6}"
    print(header + f" {'html.parser':>12} {'ratio':>6}")
    ratios: dict[tuple[str, str], list[float]] = {}
    for page in pages:
        n = sizes[page.name]
        for chunking in CHUNKINGS:
            ours = counts[(page.name, chunking.label, "ours")] / n
            lol = counts[(page.name, chunking.label, "lolhtml")] / n
            ratios.setdefault((chunking.label, "lolhtml"), []).append(lol / ours)
            cells = f"  {page.name:<15} {chunking.label:<9} {ours:>7,.0f} {lol:>8,.0f}"
            cells += f" {lol / ours:>5.2f}x"
            parser = counts.get((page.name, chunking.label, "html.parser"))
            if parser is not None:
                ratios.setdefault((chunking.label, "html.parser"), []).append(parser / n / ours)
                cells += f" {parser / n:>12,.0f} {parser / n / ours:>5.1f}x"
            print(cells)
    for (label, baseline), found in ratios.items():
        values = found
        middle = statistics.median(values)
        print(f"  {label:<9} {baseline:<12} min {min(values):.2f}x median {middle:.2f}x")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 rounds instead of 7")
    parser.add_argument("--pages", default="", help="comma-separated page names (default: all)")
    parser.add_argument("--instructions", action="store_true", help="callgrind counts, no timing")
    args = parser.parse_args(argv if argv is not None else [])
    wanted = {n for n in args.pages.split(",") if n}
    pages = [p for p in all_pages() if not wanted or p.name in wanted]
    if args.instructions:
        instructions(pages)
        return
    if make_lolhtml(RULES) is None:
        print("python-lolhtml is not installed: its column is left out")
    print("optout-mw rewriter on the benchmark corpus (preset catalog, enforcing)")
    results = {p.name: bench_page(p, args.quick) for p in pages}
    summary(results, pages)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        _child([(a, b, c) for a, b, c in json.loads(sys.argv[2])])
    else:
        main(sys.argv[1:])
