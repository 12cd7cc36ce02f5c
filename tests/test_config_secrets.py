"""No secret value in any message: every way a bad or good secret can reach a message."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from optout_mw import ConfigError, OptOutConfig
from optout_mw.cli import main
from optout_mw.config import config_from_env, config_from_mapping, config_from_toml, load_config
from optout_mw.reload import ReloadingConfig

#: Recognisable, and long enough to be a valid key.
SECRET = "hunter2-SECRET-hunter2-SECRET"
#: Recognisable, and too short to be a valid key.
SHORT = "hunter2-SHORT"
#: A key of the wrong type; its digits must not appear either.
NUMBER = 987654321987654321


pytestmark = pytest.mark.usefixtures("no_optout_env")


def assert_secret_free(text: str) -> None:
    for value in (SECRET, SHORT, str(NUMBER), "hunter2"):
        assert value not in text, text


def error_of(build: Callable[[], object]) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        build()
    assert_secret_free(str(info.value))
    assert_secret_free(repr(info.value.problems))
    return info.value


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "optout.toml"
    path.write_text(text, encoding="utf-8")
    return path


BAD_SECRETS: list[tuple[str, object]] = [
    ("a single string", SECRET),
    ("a short key", [SHORT]),
    ("a number as a key", [NUMBER]),
    ("bytes as a key", [SECRET.encode()]),
    ("a single bytes value", SECRET.encode()),
    ("a mapping", {"key": SECRET}),
]


@pytest.mark.parametrize(("what", "value"), BAD_SECRETS, ids=[w for w, _ in BAD_SECRETS])
def test_direct_construction(what: str, value: object) -> None:
    error = error_of(lambda: OptOutConfig(secret_keys=value))  # type: ignore[arg-type]
    assert any(key.startswith("secret_keys") for key, _ in error.problems)


@pytest.mark.parametrize(("what", "value"), BAD_SECRETS, ids=[w for w, _ in BAD_SECRETS])
def test_keyword_argument_and_mapping(what: str, value: object) -> None:
    error_of(lambda: load_config(environ={}, secret_keys=value))
    error = error_of(lambda: config_from_mapping({"OPTOUT_SECRET_KEYS": value}))
    assert any(key.startswith("mapping OPTOUT_SECRET_KEYS") for key, _ in error.problems)


@pytest.mark.parametrize(
    "line",
    [
        f'secret_keys = "{SECRET}"',
        f'secret_keys = ["{SHORT}"]',
        f"secret_keys = [{NUMBER}]",
        f'secret_keys = {{ key = "{SECRET}" }}',
        f'secret_keys = ["{SECRET}"',  # a syntax error on the secret's own line
        f'secret_keys = ["{SECRET}", "{SHORT}"]\nmode = "loud"',
    ],
)
def test_toml_file(tmp_path: Path, line: str) -> None:
    path = write(tmp_path, line + "\n")
    error_of(lambda: config_from_toml(path))
    error_of(lambda: load_config(file=path, environ={}))


@pytest.mark.parametrize("value", [SHORT, f"{SECRET},{SHORT}", f" {SHORT} "])
def test_environment(value: str) -> None:
    error_of(lambda: config_from_env({"OPTOUT_SECRET_KEYS": value}))
    error_of(lambda: load_config(environ={"OPTOUT_SECRET_KEYS": value, "OPTOUT_MODE": "x"}))


def test_repr_and_str_of_a_valid_config() -> None:
    config = OptOutConfig(secret_keys=[SECRET, SECRET + "-newer"])
    assert_secret_free(repr(config))
    assert_secret_free(str(config))
    assert "secret_keys=<2 redacted>" in repr(config)


@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
@pytest.mark.parametrize(
    "text",
    [
        f'secret_keys = ["{SECRET}"]\npresets = ["all"]\n',  # valid: printed, redacted
        f'secret_keys = "{SECRET}"\n',
        f'secret_keys = ["{SHORT}"]\n',
        f"secret_keys = [{NUMBER}]\n",
    ],
    ids=["valid", "single string", "short", "number"],
)
def test_check_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, as_json: bool
) -> None:
    path = write(tmp_path, text)
    main(["check", str(path), *(["--json"] if as_json else [])])
    out, err = capsys.readouterr()
    assert_secret_free(out)
    assert_secret_free(err)
    if as_json:
        json.loads(out)


def test_check_output_with_the_secret_from_the_environment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPTOUT_SECRET_KEYS", f"{SECRET},{SHORT}")
    main(["check"])
    out, err = capsys.readouterr()
    assert "env OPTOUT_SECRET_KEYS[1]: too short" in out
    assert_secret_free(out + err)


def test_reload_log(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = write(tmp_path, f'secret_keys = ["{SECRET}"]\n')
    source = ReloadingConfig(path, check_interval=0, environ={})
    path.write_text(f'secret_keys = "{SECRET}"\n', encoding="utf-8")
    with caplog.at_level(logging.DEBUG, logger="optout_mw"):
        assert not source.reload()
    assert caplog.records
    assert_secret_free(caplog.text)
    assert_secret_free(repr(source))
