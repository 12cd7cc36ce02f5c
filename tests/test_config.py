from __future__ import annotations

import dataclasses
import datetime
from pathlib import Path

import pytest

from optout_mw import Action, ConfigError, Mode, OptOutConfig, Rule, development_config

KEY = "0123456789abcdef-secret"


def problems(**kwargs: object) -> dict[str, str]:
    with pytest.raises(ConfigError) as info:
        OptOutConfig(**kwargs)  # type: ignore[arg-type]
    return dict(info.value.problems)


def test_secret_required_for_site_cookie() -> None:
    found = problems()
    assert "secret_keys" in found
    assert "OPTOUT_SECRET_KEYS" in found["secret_keys"]


def test_secret_not_required_when_site_cookie_off() -> None:
    config = OptOutConfig(read_site_cookie=False)
    assert config.secret_keys == ()


@pytest.mark.parametrize(
    ("kwargs", "key", "fragment"),
    [
        pytest.param({"mode": "enforcing"}, "mode", "enforce, report, off", id="mode"),
        pytest.param({"secret_keys": KEY}, "secret_keys", "single string", id="bare string"),
        pytest.param({"secret_keys": ["short"]}, "secret_keys[0]", "16", id="short secret"),
        pytest.param({"secret_keys": [KEY, ""]}, "secret_keys[1]", "non-empty", id="empty key"),
        pytest.param({"secret_keys": [KEY], "read_gpc": "yes"}, "read_gpc", "true or false",
                     id="bool"),
        pytest.param({"secret_keys": [KEY], "choice_cookie_name": "a b"}, "choice_cookie_name",
                     "cookie name", id="cookie name"),
        pytest.param({"secret_keys": [KEY], "choice_cookie_max_age": 500 * 86400},
                     "choice_cookie_max_age", "400 days", id="max age over cap"),
        pytest.param({"secret_keys": [KEY], "exclude_paths": ["admin"]}, "exclude_paths[0]",
                     "starting with '/'", id="relative path"),
        pytest.param({"secret_keys": [KEY], "block_attr_prefix": "data-"}, None, None,
                     id="valid prefix"),
        pytest.param({"secret_keys": [KEY], "block_attr_prefix": "Data_"}, "block_attr_prefix",
                     "ending in '-'", id="bad prefix"),
        pytest.param({"secret_keys": [KEY], "max_pending": 10}, "max_pending", ">= 1024",
                     id="tiny max_pending"),
        pytest.param({"secret_keys": [KEY], "action": "delete"}, "action", "strip, block",
                     id="action"),
    ],
)
def test_invalid_values_name_the_key(
    kwargs: dict[str, object], key: str | None, fragment: str | None
) -> None:
    if key is None:
        OptOutConfig(**kwargs)  # type: ignore[arg-type]
        return
    found = problems(**kwargs)
    assert key in found, found
    assert fragment is not None and fragment in found[key]


def test_every_problem_reported_at_once() -> None:
    found = problems(mode="x", read_gpc="no", exclude_paths=["a"])
    assert {"mode", "read_gpc", "exclude_paths[0]", "secret_keys"} <= set(found)


def test_mode_string_coerced_and_frozen() -> None:
    config = OptOutConfig(secret_keys=[KEY], mode="report")
    assert config.mode is Mode.REPORT
    assert config.secret_keys == (KEY,)
    with pytest.raises(AttributeError):
        config.mode = Mode.OFF  # type: ignore[misc]


def test_vary_follows_enabled_signals() -> None:
    assert development_config().vary == ("Sec-GPC", "Cookie")
    assert development_config(read_site_cookie=False, read_us_privacy=False,
                              read_gpp=False).vary == ("Sec-GPC",)
    assert development_config(read_gpc=False).vary == ("Cookie",)


def test_replace_validates() -> None:
    config = development_config()
    assert config.replace(mode="off").mode is Mode.OFF
    with pytest.raises(ConfigError):
        config.replace(mode="nope")


def test_unknown_preset_fails_at_construction() -> None:
    with pytest.raises(ConfigError, match="presets"):
        development_config(presets=["no-such-vendor"])


def test_one_round_reports_presets_and_secret_with_every_other_problem() -> None:
    # Preset names and the missing secret used to show only once the rest was fixed.
    found = problems(mode="loud", presets=["meta-pixle", "google-tag-manager"],
                     disabled_rules=["nope"], exclude_paths=["admin"])
    assert set(found) == {"mode", "presets[0]", "disabled_rules[0]", "exclude_paths[0]",
                          "secret_keys"}
    assert "did you mean 'meta-pixel'?" in found["presets[0]"]
    assert "required" in found["secret_keys"]


def test_preset_typos_are_reported_even_when_a_rule_is_broken() -> None:
    found = problems(secret_keys=[KEY], presets=["tiktok-pixle"], rules=[{"name": "r"}])
    assert set(found) == {"presets[0]", "rules[0]"}


def test_documented_spellings_are_converted_to_precise_attributes(tmp_path: Path) -> None:
    template = tmp_path / "page.html"
    config = OptOutConfig(
        secret_keys=[KEY],
        mode="report",
        action="block",
        exclude_paths=["/admin"],
        rules=[{"name": "acme", "hosts": ["acme.example"]}, Rule(name="own", hosts=("o.example",))],
        optout_page_template=template,
        gpc_json_last_update=datetime.date(2025, 1, 31),
    )
    assert config.mode is Mode.REPORT
    assert config.action is Action.BLOCK
    assert config.secret_keys == (KEY,)
    assert config.exclude_paths == ("/admin",)
    assert config.rules == (Rule(name="acme", hosts=("acme.example",)),
                            Rule(name="own", hosts=("o.example",)))
    assert config.optout_page_template == str(template)
    assert config.gpc_json_last_update == "2025-01-31"


def test_invalid_calendar_date_is_refused() -> None:
    assert "YYYY-MM-DD" in problems(secret_keys=[KEY], gpc_json_last_update="2025-02-30")[
        "gpc_json_last_update"]


def test_ruleset_is_compiled_once_per_rule_configuration_and_not_stored_on_the_config() -> None:
    config = development_config(presets=["meta-pixel"])
    assert config.ruleset is config.ruleset
    # Another mode (a reload flipping the kill switch) keeps the same compiled rules.
    assert config.replace(mode="off").ruleset is config.ruleset
    assert development_config(presets=["tiktok-pixel"]).ruleset is not config.ruleset
    # The frozen model holds its fields and nothing else.
    assert set(OptOutConfig.__slots__) == {f.name for f in dataclasses.fields(OptOutConfig)}


def test_rule_descriptions_are_part_of_the_compiled_rules() -> None:
    # Rules compare without their description, but findings show it: no sharing across.
    first = development_config(rules=[Rule(name="r", hosts=("r.example",), description="a")])
    second = development_config(rules=[Rule(name="r", hosts=("r.example",), description="b")])
    assert first.ruleset.rules[0].description == "a"
    assert second.ruleset.rules[0].description == "b"


NO_RULES = "no rules are enabled: opted-out visitors' pages are not changed"
ONLY_STUBS = "no rules are enabled: no tracker is removed from opted-out visitors' pages"
CANNOT_RECORD = "the opt-out page cannot record a choice"


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        pytest.param({}, [NO_RULES], id="nothing enabled"),
        pytest.param({"mode": "report"}, [NO_RULES], id="report mode, nothing enabled"),
        pytest.param({"mode": "off"}, [], id="off: nothing is expected to change"),
        pytest.param({"presets": ["all"]}, [], id="every preset"),
        pytest.param({"rules": [Rule(name="r", hosts=("r.example",))]}, [], id="own rule"),
        pytest.param({"presets": ["meta-pixel"], "disabled_rules": ["meta-pixel"]}, [NO_RULES],
                     id="the only preset disabled"),
        pytest.param({"inject_stubs": True}, [ONLY_STUBS], id="stubs but no rules"),
        pytest.param({"inject_stubs": True, "mode": "report"}, [NO_RULES],
                     id="stubs are not injected in report mode"),
        pytest.param({"presets": ["all"], "read_site_cookie": False}, [CANNOT_RECORD],
                     id="page without any way to record"),
        pytest.param({"presets": ["all"], "read_site_cookie": False, "write_us_privacy": True},
                     [], id="page records through usprivacy"),
        pytest.param({"presets": ["all"], "read_site_cookie": False, "write_gpp": True}, [],
                     id="page records through GPP"),
        pytest.param({"presets": ["all"], "read_site_cookie": False, "optout_page_path": ""},
                     [], id="no page"),
        pytest.param({"read_site_cookie": False}, [NO_RULES, CANNOT_RECORD], id="both"),
    ],
)
def test_warnings(changes: dict[str, object], expected: list[str]) -> None:
    found = development_config(**changes).warnings()
    assert len(found) == len(expected), found
    for warning, start in zip(found, expected, strict=True):
        assert warning.startswith(start)
