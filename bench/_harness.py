"""Tiny timing helpers shared by the benchmarks.

Machines are noisy, so every figure is reported as a ratio against a baseline measured in
the same run; variants are timed in interleaved rounds so that drift (frequency scaling,
other processes) hits all of them alike, and each keeps its best round.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Mapping


def best_time(func: Callable[[], object], *, number: int, repeat: int = 5) -> float:
    """Seconds per call: the best of ``repeat`` runs of ``number`` calls each."""
    return best_times({"": func}, number=number, repeat=repeat)[""]


def best_times(
    funcs: Mapping[str, Callable[[], object]], *, number: int, repeat: int = 9
) -> dict[str, float]:
    """Seconds per call for each function, timed in interleaved rounds; best round kept."""
    best = dict.fromkeys(funcs, float("inf"))
    for func in funcs.values():
        func()  # warm caches and lazy imports outside the timing
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeat):
            for name, func in funcs.items():
                start = time.perf_counter()
                for _ in range(number):
                    func()
                best[name] = min(best[name], time.perf_counter() - start)
            gc.collect()
    finally:
        if gc_was_enabled:
            gc.enable()
    return {name: seconds / number for name, seconds in best.items()}


def row(label: str, value: str, ratio: str = "") -> str:
    return f"  {label:<52} {value:>14} {ratio:>10}"
