"""What the wheel ships: the licence, the templates, the type marker; not the examples."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_licence_file_is_the_projects_mit_licence() -> None:
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License\n")
    assert "Copyright (c) 2026 The optout-mw authors" in text
    assert 'THE SOFTWARE IS PROVIDED "AS IS"' in text


def test_changelog_has_an_unreleased_section() -> None:
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "keepachangelog.com" in text
    assert "\n## [Unreleased]\n" in text


def test_wheel_ships_licence_templates_and_type_marker(tmp_path: Path) -> None:
    # The same build pip runs for `pip install .`, with hatchling in an isolated environment.
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet",
         "--disable-pip-version-check", "-w", str(tmp_path), str(ROOT)],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stderr
    (wheel,) = tmp_path.glob("optout_mw-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        dist_info = next(name.split("/")[0] for name in names if ".dist-info/" in name)
        metadata = archive.read(f"{dist_info}/METADATA").decode("utf-8")
        licence = archive.read(f"{dist_info}/licenses/LICENSE").decode("utf-8")
    assert licence == (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "License-Expression: MIT" in metadata
    assert "License-File: LICENSE" in metadata
    assert "optout_mw/py.typed" in names
    parts = {path.name for path in (ROOT / "src/optout_mw/templates/parts").glob("*.html")}
    assert {f"optout_mw/templates/parts/{name}" for name in parts} <= names
    assert "optout_mw/templates/optout_page.html" in names
    assert not any(name.startswith(("examples/", "tests/")) for name in names)
