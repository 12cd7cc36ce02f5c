"""``optout-mw check``: valid means the middleware starts; warnings; the operator override."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from optout_mw import OptOutWSGIMiddleware
from optout_mw.cli import main
from optout_mw.config import config_from_toml
from optout_mw.errors import ConfigError

from .wsgi_harness import list_app

KEY = "0123456789abcdef-secret"
RULE = '[[rules]]\nname = "acme"\nhosts = ["acme.example"]\n'
NO_RULES = "no rules are enabled: opted-out visitors' pages are not changed"
CANNOT_RECORD = "the opt-out page cannot record a choice"


pytestmark = pytest.mark.usefixtures("no_optout_env")


def check(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["check", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def config_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "optout.toml"
    path.write_text(f'secret_keys = ["{KEY}"]\n{text}', encoding="utf-8")
    return path


# --- the page template is loaded as the middleware loads it -------------------------------

TEMPLATES = [
    pytest.param(None, "cannot read", id="missing file"),
    pytest.param("<h1>$heading</h1><p>$no_such_variable</p>", "unknown variable(s): "
                 "$no_such_variable", id="unknown $variable"),
    pytest.param("<p>costs 5$ a month</p>", "has a '$' that is not a variable",
                 id="stray dollar sign"),
]


@pytest.mark.parametrize(("template", "fragment"), TEMPLATES)
def test_check_refuses_the_template_the_middleware_refuses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], template: str | None, fragment: str
) -> None:
    page = tmp_path / "page.html"
    if template is not None:
        page.write_text(template, encoding="utf-8")
    path = config_file(tmp_path, f'optout_page_template = "{page}"\n{RULE}')
    # What the middleware does with this file at start-up...
    with pytest.raises(ConfigError) as info:
        OptOutWSGIMiddleware(list_app("200 OK", [], [b""]), config=config_from_toml(path))
    ((key, message),) = info.value.problems
    assert key == "optout_page_template" and fragment in message
    # ...is what check reports.
    code, out, _ = check(capsys, str(path))
    assert code == 2
    assert out.startswith("invalid configuration (1 problem):")
    assert f"  optout_page_template: {message}" in out
    code, out, _ = check(capsys, str(path), "--json")
    assert code == 2
    assert json.loads(out)["problems"] == [{"key": key, "message": message}]


def test_check_accepts_a_template_the_middleware_accepts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = tmp_path / "page.html"
    page.write_text("<h1>$heading</h1>$main_html<p>5$$ a month</p>", encoding="utf-8")
    code, out, err = check(capsys, str(config_file(tmp_path, f'optout_page_template = "{page}"'
                                                    f"\n{RULE}")))
    assert (code, err) == (0, "")
    assert f"optout_page_template = {json.dumps(str(page))}" in out


# --- warnings ---------------------------------------------------------------------------------


def test_check_warns_when_no_rule_is_enabled(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = config_file(tmp_path, "")
    code, out, err = check(capsys, str(path))
    assert code == 0
    assert out.startswith("# configuration valid")
    assert err.splitlines() == [f"optout-mw: warning: {NO_RULES}; enable presets or add rules"]

    code, _, _ = check(capsys, str(path), "--strict")
    assert code == 1

    code, out, _ = check(capsys, str(path), "--json", "--strict")
    assert code == 1
    assert json.loads(out)["warnings"] == [f"{NO_RULES}; enable presets or add rules"]


def test_check_warns_when_the_page_cannot_record_a_choice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = config_file(tmp_path, f"read_site_cookie = false\n{RULE}")
    code, _, err = check(capsys, str(path), "--strict")
    assert code == 1
    # Once: the middleware's own start-up log line is not repeated by check.
    assert err.count(CANNOT_RECORD) == 1 and len(err.splitlines()) == 1
    assert "write_us_privacy" in err


def test_check_without_warnings_passes_strict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = check(capsys, str(config_file(tmp_path, RULE)), "--strict", "--json")
    assert (code, err) == (0, "")
    assert json.loads(out)["warnings"] == []


# --- the operator override --------------------------------------------------------------------


def test_check_shows_the_forced_mode(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = config_file(tmp_path, f'mode = "enforce"\n{RULE}')
    monkeypatch.setenv("OPTOUT_FORCE_MODE", "off")
    code, out, err = check(capsys, str(path))
    assert (code, err) == (0, "")
    assert "# OPTOUT_FORCE_MODE=off overrides the configured mode enforce\n" in out
    assert '\nmode = "off"\n' in out
    code, out, _ = check(capsys, str(path), "--json")
    data = json.loads(out)
    assert (data["forced_mode"], data["config"]["mode"]) == ("off", "off")


def test_check_reports_a_bad_override(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPTOUT_FORCE_MODE", "of")
    code, out, _ = check(capsys, str(config_file(tmp_path, RULE)))
    assert code == 2
    assert "  env OPTOUT_FORCE_MODE: expected one of enforce, report, off" in out
