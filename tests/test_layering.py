"""The rule of the house: leaves at the bottom, adapters at the top, no module importing one
on a higher floor, and no function-level import without a comment saying why.

The floors are listed here rather than derived from the code, on purpose: a new module
must be placed by someone deciding where it belongs.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "optout_mw"

#: Floor of each top-level module or package of optout_mw, lowest first.
FLOORS: dict[str, int] = {
    # leaves: no optout_mw import above them
    "_types": 0, "_cache": 0, "errors": 0, "headers": 0, "urls": 0, "signals": 0,
    "cookies": 0, "gpp": 0, "rules": 0, "presets": 0,
    # leaves that later floors wire in: consent tools' cookies, Consent Mode, the law and the
    # visitor's location, tracker cookie lists and their purge, the records store
    "cmp": 0, "consent_mode": 0, "jurisdiction": 0, "tracker_cookies": 0, "cookie_purge": 0,
    "records": 0,
    # the configuration
    "config": 1,
    # the request and its decision
    "decision": 2, "request": 2,
    # what a response is made of
    "writeback": 3, "stubs": 3, "rewrite": 3, "response": 3, "metrics": 3,
    "guard": 3, "csp": 3, "reports": 3,
    # the opt-out surface
    "endpoints": 4,
    # everything built once per configuration
    "engine": 5,
    # the adapters and the tools around them
    "asgi": 6, "wsgi": 6, "reload": 6, "fastapi": 6, "cli": 6, "demo": 6, "csp_cli": 6,
    "__init__": 7, "__main__": 7,
}


def _modules() -> list[Path]:
    return sorted(SRC.rglob("*.py"))


def _top(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return parts[0]


def _imported(node: ast.Import | ast.ImportFrom, path: Path) -> list[str]:
    """The optout_mw top-level names an import statement reaches."""
    if isinstance(node, ast.Import):
        return [a.name.split(".")[1] for a in node.names if a.name.startswith("optout_mw.")]
    if node.level == 0:
        if node.module == "optout_mw":
            return [a.name for a in node.names]
        if node.module and node.module.startswith("optout_mw."):
            return [node.module.split(".")[1]]
        return []
    # Relative: resolve against the importing module's package.
    package = list(path.relative_to(SRC).with_suffix("").parts[:-1])
    base = package[: len(package) - (node.level - 1)] if node.level > 1 else package
    target = [*base, *(node.module.split(".") if node.module else [])]
    if target:
        return [target[0]]
    return [a.name for a in node.names]  # "from . import x" at the top of the package


def _type_checking_lines(tree: ast.Module) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in ast.walk(node):
                if hasattr(child, "lineno"):
                    lines.add(child.lineno)
    return lines


def test_every_module_has_a_floor() -> None:
    missing = sorted({_top(p) for p in _modules()} - set(FLOORS))
    assert not missing, f"place these modules on a floor in {__file__}: {missing}"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_no_import_reaches_a_higher_floor(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = _type_checking_lines(tree)
    mine = _top(path)
    floor = FLOORS[mine]
    for node in ast.walk(tree):
        if not isinstance(node, ast.Import | ast.ImportFrom) or node.lineno in typing_only:
            continue
        for name in _imported(node, path):
            if name == mine or name not in FLOORS:
                continue
            assert FLOORS[name] <= floor, (
                f"{path.relative_to(SRC)}:{node.lineno} imports {name} "
                f"(floor {FLOORS[name]}) from floor {floor}"
            )


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_function_level_imports_say_why(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    tree = ast.parse(source)
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(function):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            same_line = "#" in lines[node.lineno - 1]
            above = lines[node.lineno - 2].strip().startswith("#")
            assert same_line or above, (
                f"{path.relative_to(SRC)}:{node.lineno}: a function-level import needs a "
                "comment saying why it is not at the top of the module"
            )


def test_the_walk_sees_relative_and_absolute_imports() -> None:
    # The checker's own control: a known upward import is caught in both spellings.
    fake = SRC / "response" / "enforcer.py"
    for source in ("from ..engine import Engine", "from optout_mw.engine import Engine",
                   "import optout_mw.engine"):
        node = ast.parse(source).body[0]
        assert isinstance(node, ast.Import | ast.ImportFrom)
        assert _imported(node, fake) == ["engine"]
