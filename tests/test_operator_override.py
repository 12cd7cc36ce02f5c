"""The operator override, OPTOUT_FORCE_MODE: it wins over every source, code included."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

from optout_mw import ConfigError, Mode, OptOutConfig, OptOutWSGIMiddleware, Rule
from optout_mw._types import StartResponse, WSGIEnviron
from optout_mw.config import (
    FORCE_MODE_VARIABLE,
    apply_operator_override,
    config_from_env,
    config_from_mapping,
    config_from_toml,
    env_var_name,
    load_config,
)
from optout_mw.engine import EngineSource
from optout_mw.reload import ReloadingConfig

from .wsgi_harness import make_environ, run

KEY = "0123456789abcdef-secret"
TRACKER = b'<script src="https://www.tracker.test/t.js"></script>'
PAGE = b"<html><head>" + TRACKER + b"</head><body><p>shop</p></body></html>"
RULE = Rule(name="tracker", hosts=("tracker.test",))
RULE_TOML = '[[rules]]\nname = "tracker"\nhosts = ["tracker.test"]\n'


pytestmark = pytest.mark.usefixtures("no_optout_env")


def page(environ: WSGIEnviron, start_response: StartResponse) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
    return [PAGE]


def served_to_gpc_visitor(config: OptOutConfig | EngineSource) -> bytes:
    """The page as a visitor sending Sec-GPC: 1 receives it through the real middleware."""
    middleware = OptOutWSGIMiddleware(page, config=config)
    return run(middleware, make_environ(headers=[("Sec-GPC", "1")])).body


def toml_file(tmp_path: Path, mode: str) -> Path:
    path = tmp_path / "optout.toml"
    path.write_text(f'mode = "{mode}"\nsecret_keys = ["{KEY}"]\n{RULE_TOML}', encoding="utf-8")
    return path


# Every way a configuration reaches the middleware, each saying mode = enforce.
SOURCES: dict[str, Callable[[Path], OptOutConfig | EngineSource]] = {
    "direct OptOutConfig": lambda _: OptOutConfig(secret_keys=[KEY], rules=[RULE],
                                                  mode="enforce"),
    "keyword argument": lambda _: load_config(environ={}, secret_keys=[KEY], rules=[RULE],
                                              mode="enforce"),
    "TOML file": lambda tmp: config_from_toml(toml_file(tmp, "enforce")),
    "environment": lambda _: config_from_env({"OPTOUT_SECRET_KEYS": KEY,
                                              "OPTOUT_MODE": "enforce"}).replace(rules=[RULE]),
    "mapping": lambda _: config_from_mapping({"OPTOUT_SECRET_KEYS": [KEY],
                                              "OPTOUT_MODE": "enforce",
                                              "OPTOUT_RULES": [RULE]}),
    "reloading file": lambda tmp: ReloadingConfig(toml_file(tmp, "enforce"), environ={}),
}


@pytest.mark.parametrize("source", SOURCES)
def test_force_mode_off_wins_over_every_source(
    source: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = SOURCES[source](tmp_path)
    assert TRACKER not in served_to_gpc_visitor(config)  # enforcing without the override
    monkeypatch.setenv(FORCE_MODE_VARIABLE, "off")
    assert served_to_gpc_visitor(SOURCES[source](tmp_path)) == PAGE


@pytest.mark.parametrize("source", SOURCES)
def test_force_mode_enforce_wins_over_a_configured_off(
    source: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(FORCE_MODE_VARIABLE, "enforce")
    built = SOURCES[source](tmp_path)
    if isinstance(built, OptOutConfig):
        built = built.replace(mode="off")
    else:
        toml_file(tmp_path, "off")
        built = ReloadingConfig(tmp_path / "optout.toml", environ={})
    assert TRACKER not in served_to_gpc_visitor(built)


def test_force_mode_wins_over_keyword_arguments_and_the_environment() -> None:
    environ = {"OPTOUT_MODE": "enforce", FORCE_MODE_VARIABLE: "report"}
    config = load_config(environ=environ, secret_keys=[KEY], mode="enforce")
    assert config.mode is Mode.ENFORCE  # the loaders leave it to where engines are built
    assert apply_operator_override(config, environ).mode is Mode.REPORT


def test_force_mode_survives_a_reload(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = toml_file(tmp_path, "enforce")
    source = ReloadingConfig(path, check_interval=0, environ={})
    before = source.config
    monkeypatch.setenv(FORCE_MODE_VARIABLE, "off")
    path.write_text(f'mode = "report"\nsecret_keys = ["{KEY}"]\n{RULE_TOML}', encoding="utf-8")
    assert source.reload()
    assert (before.mode, source.config.mode) == (Mode.ENFORCE, Mode.OFF)
    assert served_to_gpc_visitor(source) == PAGE


def test_reload_reads_the_override_from_its_own_environ(tmp_path: Path) -> None:
    source = ReloadingConfig(toml_file(tmp_path, "enforce"), environ={FORCE_MODE_VARIABLE: "off"})
    assert source.config.mode is Mode.OFF


@pytest.mark.parametrize("value", ["off", "OFF", " Off "])
def test_value_is_trimmed_and_case_insensitive(value: str) -> None:
    config = OptOutConfig(secret_keys=[KEY])
    assert apply_operator_override(config, {FORCE_MODE_VARIABLE: value}).mode is Mode.OFF


@pytest.mark.parametrize("value", ["", "  "])
def test_empty_value_changes_nothing(value: str) -> None:
    config = OptOutConfig(secret_keys=[KEY])
    assert apply_operator_override(config, {FORCE_MODE_VARIABLE: value}) is config


def test_override_logs_that_it_changed_the_mode(caplog: pytest.LogCaptureFixture) -> None:
    config = OptOutConfig(secret_keys=[KEY])
    with caplog.at_level(logging.WARNING, logger="optout_mw"):
        apply_operator_override(config, {FORCE_MODE_VARIABLE: "off"})
        apply_operator_override(config, {FORCE_MODE_VARIABLE: "enforce"})  # already enforce
    assert [r.getMessage() for r in caplog.records] == [
        "optout_mw: OPTOUT_FORCE_MODE=off overrides the configured mode enforce"
    ]


@pytest.mark.parametrize("value", ["of", "disabled", "0", "false"])
def test_bad_value_is_an_error_naming_the_variable(value: str) -> None:
    config = OptOutConfig(secret_keys=[KEY])
    with pytest.raises(ConfigError) as info:
        apply_operator_override(config, {FORCE_MODE_VARIABLE: value})
    ((key, message),) = info.value.problems
    assert key == "env OPTOUT_FORCE_MODE"
    assert "expected one of enforce, report, off" in message
    assert repr(value) in message


def test_bad_value_stops_the_middleware_from_starting(monkeypatch: pytest.MonkeyPatch) -> None:
    # Neither silently enforcing nor silently off: no engine is built on a guess.
    monkeypatch.setenv(FORCE_MODE_VARIABLE, "of")
    with pytest.raises(ConfigError, match="OPTOUT_FORCE_MODE"):
        OptOutWSGIMiddleware(page, config=OptOutConfig(secret_keys=[KEY]))


def test_bad_value_at_reload_keeps_the_configuration_in_force(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = toml_file(tmp_path, "enforce")
    source = ReloadingConfig(path, check_interval=0, environ={})
    monkeypatch.setenv(FORCE_MODE_VARIABLE, "of")
    assert not source.reload()
    assert source.config.mode is Mode.ENFORCE
    assert source.last_error is not None
    assert source.last_error.problems[0][0] == "env OPTOUT_FORCE_MODE"


def test_the_override_is_not_a_field_of_any_source() -> None:
    # The environment reader skips it instead of calling it an unknown field...
    assert config_from_env({"OPTOUT_SECRET_KEYS": KEY, FORCE_MODE_VARIABLE: "off"}).mode \
        is Mode.ENFORCE
    # ...no field can ever be spelt like it...
    names = {env_var_name(f.name) for f in dataclasses.fields(OptOutConfig)}
    assert FORCE_MODE_VARIABLE not in names and "OPTOUT_CONFIG" not in names
    # ...and a mapping (Flask's app.config) cannot set it: it is the process's environment.
    with pytest.raises(ConfigError) as info:
        config_from_mapping({"OPTOUT_SECRET_KEYS": [KEY], FORCE_MODE_VARIABLE: "off"})
    assert "process environment only" in dict(info.value.problems)["mapping OPTOUT_FORCE_MODE"]


def test_a_misspelt_override_is_caught_with_a_suggestion() -> None:
    with pytest.raises(ConfigError) as info:
        config_from_env({"OPTOUT_SECRET_KEYS": KEY, "OPTOUT_FORCE_MOD": "off"})
    assert "did you mean 'OPTOUT_FORCE_MODE'?" in dict(info.value.problems)["env OPTOUT_FORCE_MOD"]
