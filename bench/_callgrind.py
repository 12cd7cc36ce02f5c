"""Instruction counts of chosen regions of a Python process, under valgrind's callgrind.

A child process marks each region it wants counted by running it through
:func:`counted`, which calls the work inside the C function ``functools.reduce``.
Callgrind is told to collect only inside that function (``--toggle-collect``) and to
write a dump each time it returns (``--dump-after``); each dump then holds the
instructions of exactly one region (a dump zeroes the counters). One process measures
many regions, so the interpreter's start-up and the rewriter's pattern compilation are
paid once. Nothing in ``optout_mw`` calls ``functools.reduce``, so no region nests.

Instructions are not time (cache misses and mispredicted branches weigh nothing here),
but they are the same on every run, whatever else the machine is doing.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

TOGGLE = "functools_reduce"


def available() -> bool:
    return shutil.which("valgrind") is not None


def counted(work: Callable[[], object]) -> None:
    """Run ``work()`` as one counted region (in a child started by :func:`run`)."""

    def call(_a: int, _b: int) -> int:
        work()
        return 0

    functools.reduce(call, (0, 0))


def finish(regions: int) -> None:
    """End the child: report how many regions it ran, then exit without the interpreter's
    shutdown (which could run code callgrind would count after the last region)."""
    sys.stdout.write(f"regions={regions}\n")
    sys.stdout.flush()
    os._exit(0)


def run(
    argv: Sequence[str], *, env: dict[str, str] | None = None, timeout: float = 3600
) -> list[int]:
    """Run ``python argv`` under callgrind; return the instruction count of every region the
    child ran, in order. Raises ``RuntimeError`` with valgrind's tail when it fails."""
    with tempfile.TemporaryDirectory(prefix="optout-cg-") as tmp:
        command = [
            "valgrind",
            "--tool=callgrind",
            f"--callgrind-out-file={tmp}/cg.%p",
            "--collect-atstart=no",
            f"--toggle-collect={TOGGLE}",
            f"--dump-after={TOGGLE}",
            sys.executable,
            *argv,
        ]
        result = subprocess.run(
            command, capture_output=True, text=True, env=env, timeout=timeout, check=False
        )
        found = re.search(r"^regions=(\d+)$", result.stdout, re.M)
        if result.returncode != 0 or found is None:
            raise RuntimeError(
                f"callgrind run failed ({result.returncode}):\n{result.stdout[-1000:]}\n"
                f"{result.stderr[-3000:]}"
            )
        parts: list[tuple[int, int]] = []
        for path in Path(tmp).iterdir():
            text = path.read_text(errors="replace")
            part = re.search(r"^part: (\d+)$", text, re.M)
            totals = re.search(r"^totals: (\d+)", text, re.M)
            # cg.PID.N: one dump per region; cg.PID: the dump at exit.
            if part and totals and path.name.count(".") == 2:
                parts.append((int(part.group(1)), int(totals.group(1))))
        parts.sort()
        wanted = int(found.group(1))
        if len(parts) < wanted:
            raise RuntimeError(f"expected {wanted} callgrind dumps, found {len(parts)}")
        return [total for _, total in parts[len(parts) - wanted :]]
