"""Noise-free middleware overhead: CPU instructions per request, counted by valgrind.

Run: ``.venv/bin/python bench/instructions.py`` (needs ``valgrind`` on the PATH; about ten
minutes on two cores). The requests are exactly those of ``bench_middleware.py``; each
variant runs in its own process under callgrind, and only the timed loop is counted:
it runs inside a call to the builtin ``sorted`` (used as a key function), which callgrind
is told to toggle collection on. Ratios are instructions of the bare app / instructions
with the middleware, directly comparable with the timed requests-per-second ratios.
Instructions are not time (cache misses and branch mispredictions are not weighed), but
they do not move between runs, so small changes to the hot path can be seen.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
APPS = ("starlette", "flask")
VISITORS = ("(a)", "(b)", "(c)")
VARIANTS = ("bare", "no-op middleware", "optout-mw")
REQUESTS = {"starlette": 200, "flask": 100}


def child(app_name: str, visitor: str, variant: str, requests: int) -> None:
    sys.path.insert(0, str(HERE))
    import bench_middleware as bm

    from optout_mw import OptOutASGIMiddleware, OptOutWSGIMiddleware
    from optout_mw._types import WSGIApp

    headers = next(v for k, v in bm.visitors().items() if k.startswith(visitor))
    if app_name == "starlette":
        inner = bm.starlette_app()
        app = {"bare": inner, "no-op middleware": bm.NoopASGI(inner),
               "optout-mw": OptOutASGIMiddleware(inner, config=bm.CONFIG)}[variant]
        warm, run = (bm.asgi_runner(app, headers, n) for n in (50, requests))
    else:
        winner = bm.flask_app()
        wapps: dict[str, WSGIApp] = {
            "bare": winner, "no-op middleware": bm.NoopWSGI(winner),
            "optout-mw": OptOutWSGIMiddleware(winner, config=bm.CONFIG),
        }
        wapp = wapps[variant]
        warm, run = (bm.wsgi_runner(wapp, headers, n) for n in (50, requests))
    warm()

    def counted(_: int) -> int:
        run()
        return 0

    sorted([0], key=counted)  # the counted region


def count(app_name: str, visitor: str, variant: str) -> float:
    requests = REQUESTS[app_name]
    command = [
        "valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
        "--collect-atstart=no", "--toggle-collect=builtin_sorted",
        sys.executable, __file__, "--child", app_name, visitor, variant, str(requests),
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    found = re.search(r"Collected : (\d+)", result.stderr)
    if found is None:
        raise RuntimeError(f"no instruction count from valgrind:\n{result.stderr[-2000:]}")
    return int(found.group(1)) / requests


def main() -> None:
    if shutil.which("valgrind") is None:
        print("valgrind is not installed: instruction counts skipped")
        return
    jobs = [(a, v, k) for a in APPS for v in VISITORS for k in VARIANTS]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        counts = dict(zip(jobs, pool.map(lambda job: count(*job), jobs), strict=True))
    print("CPU instructions per request (callgrind), ratio = bare / variant")
    for app_name in APPS:
        print(f"\n{app_name}")
        for visitor in VISITORS:
            bare = counts[(app_name, visitor, "bare")]
            print(f" {visitor}")
            for variant in VARIANTS:
                n = counts[(app_name, visitor, variant)]
                print(f"  {variant:<20} {n:>12,.0f} instructions {bare / n:>8.3f}x")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
    else:
        main()
