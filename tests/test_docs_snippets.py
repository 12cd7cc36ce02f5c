"""Every ```python block of README.md and docs/*.md type-checks under ``mypy --strict``.

A typed library's documented calls must type-check as written. Each block is checked as a
module of its own, so a block must be complete: it imports what it uses and defines the
``app`` or ``config`` it works on. A block that is a true fragment (an API outline, a list
of attributes) is marked with ``<!-- mypy: skip -->`` on the line above its fence; use the
marker sparingly.
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SKIP_MARKER = "<!-- mypy: skip -->"
_FENCE = re.compile(r"(?P<indent>[ \t]*)```(?P<lang>[\w+-]*)[ \t]*")
_ERROR = re.compile(r"(?P<file>snippet_\d+\.py):(?P<line>\d+):(?P<rest>.*)")


@dataclass(frozen=True)
class Snippet:
    path: Path
    #: Line number, in the Markdown file, of the block's first line of code.
    first_line: int
    code: str
    skipped: bool

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.first_line}"


def python_blocks(path: Path) -> list[Snippet]:
    """The ```python (or ```py) blocks of a Markdown file, indented ones included."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[Snippet] = []
    index = 0
    while index < len(lines):
        fence = _FENCE.fullmatch(lines[index])
        if fence is None:
            index += 1
            continue
        indent = fence["indent"]
        end = index + 1
        while end < len(lines) and lines[end].strip() != "```":
            end += 1
        if fence["lang"] in ("python", "py"):
            above = [line.strip() for line in lines[:index] if line.strip()]
            code = "\n".join(
                line[len(indent):] if line.startswith(indent) else line
                for line in lines[index + 1:end]
            )
            blocks.append(Snippet(path, index + 2, code + "\n",
                                  bool(above) and above[-1] == SKIP_MARKER))
        index = end + 1
    return blocks


def documented_snippets() -> list[Snippet]:
    paths = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    return [block for path in paths for block in python_blocks(path)]


def test_blocks_are_found_and_skips_are_rare() -> None:
    snippets = documented_snippets()
    readme = [s for s in snippets if s.path.name == "README.md"]
    assert readme and not any(s.skipped for s in readme)
    assert any("OptOutConfig(" in s.code and not s.skipped for s in snippets)
    skipped = [s for s in snippets if s.skipped]
    assert len(skipped) * 3 < len(snippets), [s.where for s in skipped]


def test_extraction_of_indented_and_marked_blocks(tmp_path: Path) -> None:
    doc = tmp_path / "doc.md"
    doc.write_text(
        "# Title\n\n```python\nx = 1\n```\n\n1. A step:\n\n   ```python\n   if x:\n"
        "       y = 2\n   ```\n\n<!-- mypy: skip -->\n\n```python\nfragment(...)\n```\n"
        "```console\n$ not python\n```\n",
        encoding="utf-8",
    )
    blocks = python_blocks(doc)
    assert [(b.first_line, b.code, b.skipped) for b in blocks] == [
        (4, "x = 1\n", False),
        (10, "if x:\n    y = 2\n", False),
        (17, "fragment(...)\n", True),
    ]


def test_documented_python_type_checks_under_mypy_strict(tmp_path: Path) -> None:
    snippets = [s for s in documented_snippets() if not s.skipped]
    files: dict[str, Snippet] = {}
    for number, snippet in enumerate(snippets):
        name = f"snippet_{number}.py"
        (tmp_path / name).write_text(snippet.code, encoding="utf-8")
        files[name] = snippet
    result = subprocess.run(
        [
            sys.executable, "-m", "mypy", "--strict",
            "--config-file=",  # no configuration file: --strict and nothing else
            "--cache-dir", str(ROOT / ".mypy_cache" / "docs-snippets"),
            "--no-error-summary", "--show-error-codes",
            *files,
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    problems = []
    for line in (result.stdout + result.stderr).splitlines():
        match = _ERROR.fullmatch(line)
        if match is None:
            problems.append(line)
            continue
        snippet = files[match["file"]]
        problems.append(
            f"{snippet.path.relative_to(ROOT)}:{snippet.first_line + int(match['line']) - 1}:"
            f"{match['rest']}"
        )
    assert result.returncode == 0, "\n".join(problems)
