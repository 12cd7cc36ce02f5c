"""Node tools some tests run (installed outside the repo by ``.ci/run``; see its comments).

``GUARD_NODE_TOOLS_DIR`` names an npm prefix holding csp_evaluator, acorn, terser and
zone.js. Without node or that directory the tests that need them skip, saying why.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ENV = "GUARD_NODE_TOOLS_DIR"


def npm_dir() -> Path:
    """The ``node_modules`` directory of the installed tools, or a skip."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    value = os.environ.get(ENV)
    if not value:
        pytest.skip(f"{ENV} is not set (.ci/run installs the guard's node tools and sets it)")
    modules = Path(value) / "node_modules"
    if not modules.is_dir():
        pytest.skip(f"{ENV}={value} has no node_modules")
    return modules


def run_node(script: str, payload: object, *, timeout: float = 60.0) -> object:
    """Run ``script`` with the tools on ``NODE_PATH``, ``payload`` as JSON on stdin; return
    the JSON it prints."""
    modules = npm_dir()
    done = subprocess.run(
        ["node", "-e", script],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "NODE_PATH": str(modules)},
        check=False,
    )
    if done.returncode != 0:
        raise AssertionError(f"node failed ({done.returncode}): {done.stderr[-2000:]}")
    return json.loads(done.stdout)
