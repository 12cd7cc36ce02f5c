"""Hot reload: change checks driven by a fake clock and explicit mtimes, never by sleeping."""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from optout_mw import ConfigError, Mode, OptOutASGIMiddleware, OptOutWSGIMiddleware
from optout_mw.reload import ReloadingConfig, install_sighup

KEY = "0123456789abcdef-secret"
ENVIRON = {"OPTOUT_SECRET_KEYS": KEY}
TRACKER = '<script src="https://www.tracker.test/t.js"></script>'
PAGE = f"<html><head>{TRACKER}</head><body><p>shop</p></body></html>"
RULE = '\n[[rules]]\nname = "tracker"\nhosts = ["tracker.test"]\n'


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class ConfigFile:
    """A TOML file whose every write gets a new, later mtime (filesystems may not)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._mtime_ns = 1_700_000_000 * 10**9

    def write(self, text: str) -> None:
        self.path.write_text(text, encoding="utf-8")
        self._mtime_ns += 10**9
        os.utime(self.path, ns=(self._mtime_ns, self._mtime_ns))

    def mode(self, mode: str) -> None:
        self.write(f'mode = "{mode}"\n{RULE}')


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def file(tmp_path: Path) -> ConfigFile:
    config_file = ConfigFile(tmp_path / "optout.toml")
    config_file.mode("enforce")
    return config_file


def last_error(source: ReloadingConfig) -> ConfigError | None:
    return source.last_error


def reloading(file: ConfigFile, clock: Clock, **kwargs: Any) -> ReloadingConfig:
    return ReloadingConfig(file.path, check_interval=2.0, clock=clock, environ=ENVIRON, **kwargs)


def errors(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "optout_mw" and r.levelno >= logging.ERROR]


def warnings_(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "optout_mw" and r.levelno == logging.WARNING]


def test_valid_change_swaps_engine_after_interval(file: ConfigFile, clock: Clock) -> None:
    source = reloading(file, clock)
    first = source.engine()
    assert first.config.mode is Mode.ENFORCE
    file.mode("report")
    clock.advance(1.9)
    assert source.engine() is first  # not checked yet: the interval has not passed
    clock.advance(0.1)
    second = source.engine()
    assert second is not first
    assert second.config.mode is Mode.REPORT
    assert source.config is second.config
    assert source.reloads == 1
    assert source.last_error is None


def test_unchanged_file_keeps_engine(file: ConfigFile, clock: Clock) -> None:
    source = reloading(file, clock)
    first = source.engine()
    clock.advance(10)
    assert source.engine() is first
    assert source.reloads == 0


def test_same_size_same_mtime_new_inode_is_a_change(
    file: ConfigFile, clock: Clock, tmp_path: Path
) -> None:
    source = reloading(file, clock)
    before = os.stat(file.path)
    # An editor's atomic save: a new file renamed over the old one.
    replacement = tmp_path / "new.toml"
    replacement.write_text(f'mode = "off"    \n{RULE}', encoding="utf-8")
    os.utime(replacement, ns=(before.st_atime_ns, before.st_mtime_ns))
    keep_alive = open(file.path)  # keeps the old inode from being reused  # noqa: SIM115
    try:
        os.replace(replacement, file.path)
        assert os.stat(file.path).st_size == before.st_size
        clock.advance(2)
        assert source.engine().config.mode is Mode.OFF
    finally:
        keep_alive.close()


def test_invalid_change_keeps_last_good_and_logs_once_per_version(
    file: ConfigFile, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    source = reloading(file, clock)
    good = source.engine()
    file.write('mode = "loud"\nexlcude_paths = ["/a"]\n')
    clock.advance(2)
    with caplog.at_level(logging.INFO, logger="optout_mw"):
        assert source.engine() is good
        logged = errors(caplog)
        assert len(logged) == 2
        text = "\n".join(r.getMessage() for r in logged)
        assert f"{file.path}: mode: expected one of enforce, report, off" in text
        assert "did you mean 'exclude_paths'?" in text
        assert logged[0].__dict__["optout_config_path"] == str(file.path)
        assert last_error(source) is not None

        clock.advance(2)
        assert source.engine() is good
        assert len(errors(caplog)) == 2  # the same broken version is not logged again

        file.write('mode = "louder"\n')
        clock.advance(2)
        assert source.engine() is good
        assert len(errors(caplog)) == 3  # a new broken version is

        file.mode("report")
        clock.advance(2)
        fixed = source.engine()
    assert fixed.config.mode is Mode.REPORT
    assert source.last_error is None
    assert any("reloaded" in r.getMessage() for r in caplog.records)


def test_deleted_file_keeps_last_good_config(
    file: ConfigFile, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    source = reloading(file, clock)
    good = source.engine()
    file.path.unlink()
    with caplog.at_level(logging.WARNING, logger="optout_mw"):
        clock.advance(2)
        assert source.engine() is good
        clock.advance(2)
        assert source.engine() is good
        assert source.reload() is False
    gone = warnings_(caplog)
    assert len(gone) == 1
    assert "is gone" in gone[0].getMessage()
    file.mode("off")
    clock.advance(2)
    assert source.engine().config.mode is Mode.OFF


def test_invalid_file_at_start_raises(tmp_path: Path, clock: Clock) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('mode = "loud"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        ReloadingConfig(path, clock=clock, environ=ENVIRON)
    assert f"{path}: mode" in dict(info.value.problems)


def test_negative_interval_rejected(file: ConfigFile) -> None:
    with pytest.raises(ValueError, match="check_interval"):
        ReloadingConfig(file.path, check_interval=-1, environ=ENVIRON)


def test_base_mapping_and_overrides_apply_on_every_load(file: ConfigFile, clock: Clock) -> None:
    source = reloading(
        file, clock, base={"OPTOUT_EXCLUDE_PATHS": ["/admin"]}, include_paths=["/shop"]
    )
    file.mode("report")
    clock.advance(2)
    config = source.engine().config
    assert config.mode is Mode.REPORT
    assert config.exclude_paths == ("/admin",)
    assert config.include_paths == ("/shop",)


def test_environment_beats_the_file(file: ConfigFile, clock: Clock) -> None:
    source = ReloadingConfig(
        file.path, clock=clock, environ={**ENVIRON, "OPTOUT_MODE": "report"}
    )
    file.mode("off")
    clock.advance(2)
    assert source.engine().config.mode is Mode.REPORT


def test_forced_reload_rereads_an_unchanged_file(file: ConfigFile, clock: Clock) -> None:
    source = reloading(file, clock)
    first = source.engine()
    assert source.reload() is True
    assert source.engine() is not first
    assert source.reloads == 1


def test_requests_never_wait_for_a_reload_in_progress(file: ConfigFile, clock: Clock) -> None:
    source = reloading(file, clock)
    first = source.engine()
    file.mode("off")
    clock.advance(2)
    # Another thread holds the reload lock: requests keep the current engine, unblocked.
    with source._lock:
        assert source.engine() is first
    assert source.engine().config.mode is Mode.OFF


def test_zero_interval_checks_every_request(file: ConfigFile, clock: Clock) -> None:
    source = ReloadingConfig(file.path, check_interval=0, clock=clock, environ=ENVIRON)
    file.mode("report")
    assert source.engine().config.mode is Mode.REPORT


# --- SIGHUP --------------------------------------------------------------------------------


@pytest.fixture
def restore_sighup() -> Iterator[None]:
    sighup = getattr(signal, "SIGHUP", None)
    if sighup is None:
        pytest.skip("no SIGHUP on this platform")
    previous = signal.getsignal(sighup)
    try:
        yield
    finally:
        signal.signal(sighup, previous)


@pytest.mark.usefixtures("restore_sighup")
def test_sighup_reloads_and_chains_previous_handler(file: ConfigFile, clock: Clock) -> None:
    calls: list[int] = []
    signal.signal(signal.SIGHUP, lambda signum, frame: calls.append(signum))
    source = reloading(file, clock)
    first = source.engine()
    assert install_sighup(source) is True
    signal.raise_signal(signal.SIGHUP)
    assert source.engine() is not first  # reloaded without the interval passing
    assert calls == [signal.SIGHUP]


@pytest.mark.usefixtures("restore_sighup")
def test_sighup_outside_main_thread_is_a_no_op(file: ConfigFile, clock: Clock) -> None:
    source = reloading(file, clock)
    result: list[bool] = []
    thread = threading.Thread(target=lambda: result.append(install_sighup(source)))
    thread.start()
    thread.join()
    assert result == [False]


# --- switching mode under traffic, in both adapters -----------------------------------------


async def home(request: Request) -> HTMLResponse:
    return HTMLResponse(PAGE)


def flask_app(source: ReloadingConfig) -> Flask:
    app = Flask(__name__)

    @app.get("/")
    def index() -> str:
        return PAGE

    app.wsgi_app = OptOutWSGIMiddleware(app.wsgi_app, config=source)  # type: ignore[method-assign]
    return app


@pytest.mark.parametrize("framework", ["starlette", "flask"])
def test_mode_switch_takes_effect_without_restart(
    framework: str, file: ConfigFile, clock: Clock
) -> None:
    source = reloading(file, clock)
    gpc = {"Sec-GPC": "1"}

    def get() -> tuple[str | None, str]:
        if framework == "starlette":
            app = Starlette(
                routes=[Route("/", home)],
                middleware=[Middleware(OptOutASGIMiddleware, config=source)],
            )
            with TestClient(app) as client:
                response = client.get("/", headers=gpc)
                return response.headers.get("vary"), response.text
        with flask_app(source).test_client() as flask_client:
            flask_response = flask_client.get("/", headers=gpc)
            return flask_response.headers.get("Vary"), flask_response.get_data(as_text=True)

    vary, body = get()
    assert vary == "Sec-GPC, Cookie"
    assert "tracker.test" not in body

    file.mode("off")
    clock.advance(2)
    vary, body = get()
    assert vary is None
    assert TRACKER in body

    file.mode("report")
    clock.advance(2)
    vary, body = get()
    assert vary == "Sec-GPC, Cookie"
    assert body == PAGE  # report mode changes no byte

    file.mode("enforce")
    clock.advance(2)
    vary, body = get()
    assert vary == "Sec-GPC, Cookie"
    assert "tracker.test" not in body
