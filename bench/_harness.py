"""Tiny timing helpers shared by the benchmarks.

Machines are noisy, so every figure is reported as a ratio against a baseline measured in
the same run, and each measurement is the best of several repeats.
"""

from __future__ import annotations

import time
from collections.abc import Callable


def best_time(func: Callable[[], object], *, number: int, repeat: int = 5) -> float:
    """Seconds per call: the best of ``repeat`` runs of ``number`` calls each."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            func()
        best = min(best, time.perf_counter() - start)
    return best / number


def row(label: str, value: str, ratio: str = "") -> str:
    return f"  {label:<52} {value:>14} {ratio:>10}"
