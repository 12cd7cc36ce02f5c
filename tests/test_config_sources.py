"""Configuration sources: TOML, mapping, environment, keywords, and their precedence."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from optout_mw import Action, ConfigError, Mode, OptOutConfig, Rule
from optout_mw.config import (
    FieldKind,
    config_from_env,
    config_from_mapping,
    config_from_toml,
    config_reference_markdown,
    env_var_name,
    field_kinds,
    load_config,
    redacted,
)
from optout_mw.config._reference import BEGIN, END, reference_block

KEY = "0123456789abcdef-secret"
KEY2 = "fedcba9876543210-newer"
DOCS = Path(__file__).resolve().parent.parent / "docs" / "configuration.md"


def write(tmp_path: Path, text: str, name: str = "optout.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(error: pytest.ExceptionInfo[ConfigError]) -> dict[str, str]:
    return dict(error.value.problems)


# --- TOML ------------------------------------------------------------------------------


def test_toml_top_level(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f"""
mode = "report"
secret_keys = ["{KEY}", "{KEY2}"]
presets = ["google-tag-manager"]
exclude_paths = ["/admin"]
max_pending = 4096
gpc_json_last_update = 2025-01-31

[[rules]]
name = "acme-pixel"
hosts = ["pixel.acme.example"]
action = "block"
""",
    )
    config = config_from_toml(path)
    assert config.mode is Mode.REPORT
    assert config.secret_keys == (KEY, KEY2)
    assert config.presets == ("google-tag-manager",)
    assert config.exclude_paths == ("/admin",)
    assert config.max_pending == 4096
    # TOML reads a bare date as a date; the field holds its ISO text.
    assert config.gpc_json_last_update == "2025-01-31"
    assert config.rules == (
        Rule(name="acme-pixel", hosts=("pixel.acme.example",), action=Action.BLOCK),
    )


def test_toml_optout_table_with_top_level_rules(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f"""
[server]
workers = 4  # other sections of a shared file are ignored

[optout]
secret_keys = ["{KEY}"]
include_paths = ["/shop"]

[[rules]]
name = "acme"
inline_markers = ["acmeTrack("]
""",
    )
    config = config_from_toml(path)
    assert config.include_paths == ("/shop",)
    assert [rule.name for rule in config.rules] == ["acme"]


def test_toml_rules_inside_optout_table(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f"""
[optout]
secret_keys = ["{KEY}"]

[[optout.rules]]
name = "acme"
hosts = ["acme.example"]
""",
    )
    assert config_from_toml(path).rules[0].hosts == ("acme.example",)


# --- environment ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        *[pytest.param(t, True, id=f"true {t}") for t in ("1", "true", "TRUE", "yes", "On")],
        *[pytest.param(t, False, id=f"false {t}") for t in ("0", "false", "No", "off", " 0 ")],
    ],
)
def test_env_booleans(text: str, expected: bool) -> None:
    config = config_from_env({"OPTOUT_SECRET_KEYS": KEY, "OPTOUT_READ_GPC": text})
    assert config.read_gpc is expected


def test_env_values_of_every_kind() -> None:
    config = config_from_env(
        {
            "OPTOUT_MODE": "off",
            "OPTOUT_SECRET_KEYS": f"{KEY}, {KEY2},",  # oldest to newest; spaces, trailing comma
            "OPTOUT_PRESETS": "meta-pixel,tiktok-pixel",
            "OPTOUT_MAX_FORM_BYTES": "4096",
            "OPTOUT_ACTION": "block",
            "OPTOUT_GPC_JSON_LAST_UPDATE": "",  # empty unsets an optional value
            "OPTOUT_EXCLUDE_PATHS": "",
            "PATH": "/usr/bin",  # unprefixed variables are none of our business
        }
    )
    assert config.mode is Mode.OFF
    assert config.secret_keys == (KEY, KEY2)
    assert config.presets == ("meta-pixel", "tiktok-pixel")
    assert config.max_form_bytes == 4096
    assert config.action is Action.BLOCK
    assert config.gpc_json_last_update is None
    assert config.exclude_paths == ()


def test_env_custom_prefix() -> None:
    config = config_from_env({"APP_SECRET_KEYS": KEY, "APP_MODE": "report"}, prefix="APP_")
    assert config.mode is Mode.REPORT


# --- mapping ------------------------------------------------------------------------------


def test_mapping_like_flask_app_config() -> None:
    seen: list[object] = []
    config = config_from_mapping(
        {
            "DEBUG": True,
            "SECRET_KEY": "flask's own, ignored",
            "OPTOUT_MODE": "report",
            "OPTOUT_SECRET_KEYS": [KEY],
            "OPTOUT_PRESETS": ("meta-pixel",),
            "OPTOUT_READ_GPP": False,
            "OPTOUT_RULES": [
                Rule(name="as-object", hosts=("a.example",)),
                {"name": "as-dict", "hosts": ["b.example"]},
            ],
            "OPTOUT_ON_CHOICE": seen.append,
        }
    )
    assert config.mode is Mode.REPORT
    assert config.presets == ("meta-pixel",)
    assert config.read_gpp is False
    assert [rule.name for rule in config.rules] == ["as-object", "as-dict"]
    assert config.on_choice == seen.append


# --- precedence -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("file_mode", "mapping_mode", "env_mode", "override_mode", "expected"),
    [
        pytest.param(None, None, None, None, "enforce", id="defaults"),
        pytest.param("report", None, None, None, "report", id="file over defaults"),
        pytest.param("report", "off", None, None, "off", id="mapping over file"),
        pytest.param("report", "off", "enforce", None, "enforce", id="env over mapping"),
        pytest.param("off", "off", "off", "report", "report", id="keyword over env"),
        pytest.param("off", None, "report", None, "report", id="env over file"),
    ],
)
def test_precedence(
    tmp_path: Path,
    file_mode: str | None,
    mapping_mode: str | None,
    env_mode: str | None,
    override_mode: str | None,
    expected: str,
) -> None:
    path = write(tmp_path, f'mode = "{file_mode}"\n' if file_mode else "")
    mapping = {"OPTOUT_MODE": mapping_mode} if mapping_mode else {}
    environ = {"OPTOUT_SECRET_KEYS": KEY}
    if env_mode:
        environ["OPTOUT_MODE"] = env_mode
    overrides = {"mode": override_mode} if override_mode else {}
    config = load_config(file=path, mapping=mapping, environ=environ, **overrides)
    assert config.mode == expected


def test_lists_are_replaced_not_merged(tmp_path: Path) -> None:
    path = write(tmp_path, f'secret_keys = ["{KEY}"]\nexclude_paths = ["/a", "/b"]\n')
    config = load_config(file=path, environ={"OPTOUT_EXCLUDE_PATHS": "/c"})
    assert config.exclude_paths == ("/c",)


def test_optout_config_env_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, f'mode = "report"\nsecret_keys = ["{KEY}"]\n')
    assert load_config(environ={"OPTOUT_CONFIG": str(path)}).mode is Mode.REPORT
    other = write(tmp_path, f'mode = "off"\nsecret_keys = ["{KEY}"]\n', "other.toml")
    # An explicit file wins over the variable.
    assert load_config(file=other, environ={"OPTOUT_CONFIG": str(path)}).mode is Mode.OFF


def test_without_environ_reads_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPTOUT_SECRET_KEYS", KEY)
    monkeypatch.setenv("OPTOUT_MODE", "report")
    assert load_config().mode is Mode.REPORT
    assert config_from_env().mode is Mode.REPORT


# --- validation --------------------------------------------------------------------------

# (source, content, expected key, message fragment). For "toml", content is the file text and
# the key is relative to the file ("{file}" is replaced by its path).
BAD_INPUTS = [
    pytest.param("toml", 'mode = "enforcing"', "{file}: mode", "enforce, report, off",
                 id="toml mode"),
    pytest.param("toml", 'secret_keys = "one-long-secret-key"', "{file}: secret_keys",
                 "single string", id="toml bare string for a list"),
    pytest.param("toml", "secret_keys = [1]", "{file}: secret_keys[0]", "expected a string",
                 id="toml list item type"),
    pytest.param("toml", "presets = 3", "{file}: presets", "list of strings",
                 id="toml list type"),
    pytest.param("toml", 'read_gpc = "yes"', "{file}: read_gpc", "true or false",
                 id="toml string for bool"),
    pytest.param("toml", 'max_pending = "big"', "{file}: max_pending", "expected an integer",
                 id="toml string for int"),
    pytest.param("toml", "max_pending = true", "{file}: max_pending", "expected an integer",
                 id="toml bool for int"),
    pytest.param("toml", "choice_cookie_name = 3", "{file}: choice_cookie_name",
                 "expected a string", id="toml int for string"),
    pytest.param("toml", "gpc_json_last_update = 3", "{file}: gpc_json_last_update",
                 "expected a string", id="toml int for optional string"),
    pytest.param("toml", 'exclude_paths = ["admin"]', "{file}: exclude_paths[0]",
                 "starting with '/'", id="toml relative path"),
    pytest.param("toml", 'presets = ["googel-ads"]', "{file}: presets[0]",
                 "did you mean 'google-ads'?", id="toml unknown preset"),
    pytest.param("toml", 'disabled_rules = ["nope-nope"]', "{file}: disabled_rules[0]",
                 "no preset or rule named", id="toml unknown disabled rule"),
    pytest.param("toml", 'exlcude_paths = ["/a"]', "{file}: exlcude_paths",
                 "did you mean 'exclude_paths'?", id="toml misspelt key"),
    pytest.param("toml", '[optout]\nmdoe = "off"', "{file}: optout.mdoe",
                 "did you mean 'mode'?", id="toml misspelt key in [optout]"),
    pytest.param("toml", "frobnicate = 1", "{file}: frobnicate", "unknown key",
                 id="toml unknown key"),
    pytest.param("toml", 'on_choice = "print"', "{file}: on_choice", "keyword argument",
                 id="toml callable"),
    pytest.param("toml", "rules = 3", "{file}: rules", "[[rules]]", id="toml rules not a list"),
    pytest.param("toml", "rules = [1]", "{file}: rules[0]", "expected a rule table",
                 id="toml rule not a table"),
    pytest.param("toml", '[[rules]]\nname = "a"\n[[rules]]\nname = "b"\nhosts = ["bad host"]',
                 "{file}: rules[1].hosts[0]", "hostname", id="toml rule host"),
    pytest.param("toml", '[[rules]]\nname = "a"\nhots = ["a.example"]', "{file}: rules[0].hots",
                 "did you mean 'hosts'?", id="toml rule misspelt key"),
    pytest.param("toml", '[[rules]]\nname = "a"\nhosts = ["a.example"]\n'
                 '[[rules]]\nname = "a"\nhosts = ["b.example"]',
                 "{file}: rules[1].name", "duplicate", id="toml duplicate rule"),
    pytest.param("toml", '[[optout.rules]]\nname = "a"\naction = "zap"\nhosts = ["a.example"]',
                 "{file}: optout.rules[0].action", "'strip' or 'block'",
                 id="toml rule in [optout]"),
    pytest.param("toml", 'optout = "x"', "{file}: optout", "expected a table",
                 id="toml optout not a table"),
    pytest.param("toml", '[optout]\nrules = []\n[[rules]]\nname = "a"', "{file}: rules",
                 "both at top level and under [optout]", id="toml rules twice"),
    pytest.param("toml", "mode = ", "{file}", "not valid TOML", id="toml syntax"),
    pytest.param("env", {"OPTOUT_MODE": "loud"}, "env OPTOUT_MODE", "enforce, report, off",
                 id="env mode"),
    pytest.param("env", {"OPTOUT_READ_GPC": "maybe"}, "env OPTOUT_READ_GPC", "1/0",
                 id="env bool"),
    pytest.param("env", {"OPTOUT_MAX_PENDING": "1MB"}, "env OPTOUT_MAX_PENDING",
                 "expected an integer", id="env int"),
    pytest.param("env", {"OPTOUT_MAX_PENDING": "12"}, "env OPTOUT_MAX_PENDING", ">= 1024",
                 id="env int range"),
    pytest.param("env", {"OPTOUT_SECRET_KEYS": "short"}, "env OPTOUT_SECRET_KEYS[0]", "16",
                 id="env short secret"),
    pytest.param("env", {"OPTOUT_PRESETS": "meta-pixle"}, "env OPTOUT_PRESETS[0]",
                 "did you mean 'meta-pixel'?", id="env unknown preset"),
    pytest.param("env", {"OPTOUT_EXCLUDE_PATH": "/a"}, "env OPTOUT_EXCLUDE_PATH",
                 "did you mean 'OPTOUT_EXCLUDE_PATHS'?", id="env misspelt variable"),
    pytest.param("env", {"OPTOUT_RULES": "x"}, "env OPTOUT_RULES", "cannot be set from "
                 "environment", id="env rules"),
    pytest.param("env", {"OPTOUT_ON_CHOICE": "print"}, "env OPTOUT_ON_CHOICE",
                 "keyword argument", id="env callable"),
    pytest.param("mapping", {"OPTOUT_SECRET_KEYS": KEY}, "mapping OPTOUT_SECRET_KEYS",
                 "single string", id="mapping bare string"),
    pytest.param("mapping", {"OPTOUT_READ_GPC": "false"}, "mapping OPTOUT_READ_GPC",
                 "true or false", id="mapping string for bool"),
    pytest.param("mapping", {"OPTOUT_MOD": "off"}, "mapping OPTOUT_MOD",
                 "did you mean 'OPTOUT_MODE'?", id="mapping misspelt key"),
    pytest.param("mapping", {"OPTOUT_RULES": [{"name": "x"}]}, "mapping OPTOUT_RULES[0]",
                 "needs at least one of", id="mapping rule"),
    pytest.param("mapping", {"OPTOUT_ON_CHOICE": 3}, "mapping OPTOUT_ON_CHOICE",
                 "expected a callable", id="mapping not callable"),
    pytest.param("override", {"exclude_path": ["/a"]}, "exclude_path",
                 "did you mean 'exclude_paths'?", id="keyword misspelt"),
    pytest.param("override", {"max_form_bytes": 10}, "max_form_bytes", "between 256",
                 id="keyword range"),
]


@pytest.mark.parametrize(("source", "content", "key", "fragment"), BAD_INPUTS)
def test_problem_names_key_and_expectation(
    tmp_path: Path, source: str, content: object, key: str, fragment: str
) -> None:
    path = write(tmp_path, content if isinstance(content, str) else "")
    environ = {"OPTOUT_SECRET_KEYS": KEY}
    mapping: dict[str, object] = {}
    overrides: dict[str, Any] = {}
    if source == "env":
        assert isinstance(content, dict)
        environ.update(content)
    elif source == "mapping":
        assert isinstance(content, dict)
        mapping = content
    elif source == "override":
        assert isinstance(content, dict)
        overrides = content
    with pytest.raises(ConfigError) as info:
        load_config(file=path, mapping=mapping, environ=environ, **overrides)
    found = problems_of(info)
    expected_key = key.replace("{file}", str(path))
    assert expected_key in found, found
    assert fragment in found[expected_key]


def test_every_problem_from_every_source_at_once(tmp_path: Path) -> None:
    path = write(tmp_path, 'mode = "loud"\nexlcude_paths = ["/a"]\nread_gpc = "yes"\n')
    with pytest.raises(ConfigError) as info:
        load_config(
            file=path,
            mapping={"OPTOUT_MAX_PENDING": "big"},
            environ={"OPTOUT_READ_GPP": "maybe", "OPTOUT_SECRET_KEYS": "short"},
            frobnicate=True,
        )
    assert set(problems_of(info)) == {
        f"{path}: mode",
        f"{path}: exlcude_paths",
        f"{path}: read_gpc",
        "mapping OPTOUT_MAX_PENDING",
        "env OPTOUT_READ_GPP",
        "env OPTOUT_SECRET_KEYS[0]",
        "frobnicate",
    }
    text = str(info.value)
    assert text.startswith("invalid optout-mw configuration:\n")
    assert "did you mean 'exclude_paths'?" in text


def test_a_broken_value_is_reported_once(tmp_path: Path) -> None:
    # secret_keys is unusable, so "secret_keys is required" would only repeat the problem.
    with pytest.raises(ConfigError) as info:
        load_config(environ={"OPTOUT_MAX_PENDING": "x"}, secret_keys="one-long-secret-key")
    assert set(problems_of(info)) == {"env OPTOUT_MAX_PENDING", "secret_keys"}


def test_a_broken_higher_value_does_not_fall_back_to_a_lower_one(tmp_path: Path) -> None:
    path = write(tmp_path, f'secret_keys = ["{KEY}"]\nmode = "report"\n')
    with pytest.raises(ConfigError) as info:
        load_config(file=path, environ={"OPTOUT_MODE": "", "OPTOUT_READ_GPC": "perhaps"})
    found = problems_of(info)
    assert set(found) == {"env OPTOUT_MODE", "env OPTOUT_READ_GPC"}


def test_missing_secret_is_reported_without_a_source() -> None:
    with pytest.raises(ConfigError) as info:
        load_config(environ={})
    assert "OPTOUT_SECRET_KEYS" in problems_of(info)["secret_keys"]


def test_unreadable_file(tmp_path: Path) -> None:
    missing = tmp_path / "missing.toml"
    with pytest.raises(ConfigError) as info:
        load_config(file=missing, environ={"OPTOUT_SECRET_KEYS": KEY})
    assert "cannot read the file" in problems_of(info)[str(missing)]


def test_file_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes(b'mode = "\xe9"\n')
    with pytest.raises(ConfigError) as info:
        config_from_toml(path)
    assert "not valid" in problems_of(info)[str(path)]


# --- helpers -----------------------------------------------------------------------------


def test_field_kinds_cover_every_field() -> None:
    kinds = field_kinds()
    assert set(kinds) == {f.name for f in dataclasses.fields(OptOutConfig) if f.init}
    # Only the callback is Python-only; a new field of an unexpected type shows up here.
    assert [name for name, kind in kinds.items() if kind is FieldKind.PYTHON] == ["on_choice"]
    assert kinds["rules"] is FieldKind.RULES
    assert kinds["mode"] is FieldKind.STR
    assert kinds["action"] is FieldKind.OPTIONAL_STR


def test_env_var_name() -> None:
    assert env_var_name("exclude_paths") == "OPTOUT_EXCLUDE_PATHS"
    assert env_var_name("mode", "APP_") == "APP_MODE"


def test_redacted_hides_secrets() -> None:
    config = load_config(
        environ={}, secret_keys=[KEY, KEY2], rules=[{"name": "r", "hosts": ["r.example"]}]
    )
    view = redacted(config)
    assert KEY not in repr(view) and KEY2 not in repr(view)
    assert view["secret_keys"] == [f"<redacted, {len(KEY)} characters>",
                                   f"<redacted, {len(KEY2)} characters>"]
    assert view["mode"] == "enforce"
    assert view["rules"] == [
        {"name": "r", "hosts": ["r.example"], "host_paths": [], "path_prefixes": [],
         "inline_markers": [], "action": "strip"}
    ]


# --- the reference in docs/configuration.md ----------------------------------------------


def test_reference_lists_every_field_with_a_reason() -> None:
    table = config_reference_markdown()
    rows = table.splitlines()[2:]
    names = [row.split("|")[1].strip().strip("`") for row in rows]
    assert names == [f.name for f in dataclasses.fields(OptOutConfig) if f.init]
    for row in rows:
        why = row.split("|")[5].strip()
        assert why, f"no description for {row}"


def test_docs_reference_is_current() -> None:
    text = DOCS.read_text(encoding="utf-8")
    assert reference_block(text) == config_reference_markdown(), (
        "docs/configuration.md is out of date: run "
        "`python -m optout_mw.config docs/configuration.md`"
    )


def test_python_dash_m_regenerates_the_table(tmp_path: Path) -> None:
    doc = tmp_path / "configuration.md"
    doc.write_text(f"# Configuration\n\n{BEGIN}\n| stale |\n{END}\n\nmore text\n", encoding="utf-8")

    def regenerate() -> str:
        result = subprocess.run(
            [sys.executable, "-m", "optout_mw.config", str(doc)],
            capture_output=True, text=True, check=True,
        )
        return result.stdout

    assert regenerate() == f"{doc}: updated\n"
    text = doc.read_text(encoding="utf-8")
    assert reference_block(text) == config_reference_markdown()
    assert text.startswith(f"# Configuration\n\n{BEGIN}\n") and text.endswith("\nmore text\n")
    assert regenerate() == f"{doc}: up to date\n"
