"""Run every benchmark: ``.venv/bin/python bench/run.py [name ...]``.

Each module prints ratios against a baseline measured in the same run (``linearity``:
instruction counts under callgrind, skipped without valgrind). ``bench/run.py corpus``
runs the corpus report alone.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "src"))

MODULES = (
    "bench_middleware",
    "bench_gpp",
    "bench_rewrite",
    "bench_corpus",
    "bench_pipeline",
    "linearity",
    "bench_records",
    "bench_guard",
)


def main(argv: list[str]) -> None:
    wanted = [m for m in MODULES if not argv or any(a in m for a in argv)]
    for name in wanted:
        if not (HERE / f"{name}.py").exists():
            print(f"== {name}: not present, skipped")
            continue
        print(f"\n== {name}")
        module = importlib.import_module(name)
        module.main()


if __name__ == "__main__":
    main(sys.argv[1:])
