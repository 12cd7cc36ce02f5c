"""Where the rewriter's time goes on one corpus page: cProfile of its feed loop.

Run: ``.venv/bin/python bench/profile_corpus.py storefront --chunk 4096 --top 25``
(``--chunk 0`` feeds the page whole; ``--rounds`` repeats the page, warm, as served again).
Sorted by each function's own time; ``re`` matching shows as the pattern methods
(``match``, ``search``, ``finditer``) called from the rewriter's functions.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import RULES, all_pages, fixed_chunks

from optout_mw.rewrite import HTMLRewriter


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("page")
    parser.add_argument("--chunk", type=int, default=4096, help="bytes per feed; 0 = whole")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--sort", default="tottime")
    args = parser.parse_args()
    page = next((p for p in all_pages() if p.name == args.page), None)
    if page is None:
        raise SystemExit(f"no page {args.page!r}; pages: {[p.name for p in all_pages()]}")
    chunks = [page.data] if args.chunk == 0 else fixed_chunks(page.data, args.chunk)

    def run() -> None:
        rw = HTMLRewriter(RULES, line_numbers=False)
        for c in chunks:
            rw.feed(c)
        rw.close()

    run()  # warm: compiled patterns, remembered verdicts
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(args.rounds):
        run()
    profile.disable()
    print(f"{page.name}: {len(page.data):,} bytes, {len(chunks):,} feeds, {args.rounds} rounds")
    pstats.Stats(profile).strip_dirs().sort_stats(args.sort).print_stats(args.top)


if __name__ == "__main__":
    main()
