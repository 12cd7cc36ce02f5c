"""The demo: one set of hints for every way of running it, right for the mode and the
configuration in force, each printed command run against the demo app; OPTOUT_* honoured;
a busy port is one line."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIServer, make_server

import pytest
from starlette.testclient import TestClient
from werkzeug.test import Client

from examples.flask_app.app import create_app as create_flask_app
from examples.starlette_app.app import create_app as create_starlette_app
from examples.starlette_app.fastapi_app import create_app as create_fastapi_app
from optout_mw import ConfigError, Mode, OptOutConfig, cli
from optout_mw.demo import (
    DEV_WARNING,
    Expect,
    Hint,
    PortBusy,
    banner,
    builtin_demo_app,
    demo_config,
    hint_lines,
    hints,
    serve,
)

ROOT = Path(__file__).resolve().parents[1]
BASE = "http://127.0.0.1:8000"

#: (name, kind, factory) of every app the demo can serve.
APPS: list[tuple[str, str, Callable[[OptOutConfig], Any]]] = [
    ("builtin", "wsgi", builtin_demo_app),
    ("flask", "wsgi", create_flask_app),
    ("starlette", "asgi", create_starlette_app),
    ("fastapi", "asgi", create_fastapi_app),
]
#: Demo configurations: each mode, and the settings an operator may change by variable.
CONFIGS: dict[str, dict[str, object]] = {
    "enforce": {},
    "report": {"mode": "report"},
    "off": {"mode": "off"},
    "GPC not read": {"read_gpc": False},
    "one preset": {"presets": ("meta-pixel",)},
    "no status endpoint": {"status_path": "", "optout_page_path": ""},
}


Reply = tuple[int, list[tuple[str, str]], str]


def fetch(app: Any, kind: str, path: str, headers: dict[str, str]) -> Reply:
    if kind == "wsgi":
        response = Client(app).get(path, headers=headers)
        return response.status_code, list(response.headers.items()), response.get_data(
            as_text=True)
    with TestClient(app) as client:
        reply = client.get(path, headers=headers)
    return reply.status_code, list(reply.headers.multi_items()), reply.text


def run_in_process(command: str, app: Any, kind: str) -> str:
    """``command`` (a ``curl … | grep …`` pipeline as the hints print it) run against
    ``app`` in this process: every flag is understood or the test fails."""
    stages = [shlex.split(stage) for stage in command.split(" | ")]
    curl, greps = stages[0], stages[1:]
    assert curl[0] == "curl"
    headers: dict[str, str] = {}
    dump_headers, keep_body = False, True
    url = ""
    args = iter(curl[1:])
    for arg in args:
        if arg == "-s":
            continue
        if arg == "-H":
            name, _, value = next(args).partition(":")
            headers[name.strip()] = value.strip()
            continue
        if arg == "-o":
            assert next(args) == "/dev/null"
            keep_body = False
            continue
        if arg == "-D":
            assert next(args) == "-"
            dump_headers = True
            continue
        assert not arg.startswith("-"), f"curl flag {arg} is not understood here"
        url = arg
    assert url.startswith(BASE)
    status, response_headers, body = fetch(app, kind, url[len(BASE):], headers)
    assert status == 200, (url, status)
    out = ""
    if dump_headers:
        out += f"HTTP/1.1 {status}\r\n" + "".join(
            f"{name}: {value}\r\n" for name, value in response_headers) + "\r\n"
    if keep_body:
        out += body
    for grep in greps:
        assert grep[0] == "grep"
        flags, pattern = set(grep[1:-1]), grep[-1]
        assert flags <= {"-c", "-E", "-i"}, grep
        regex = re.compile(pattern, re.IGNORECASE if "-i" in flags else 0)
        matched = [line for line in out.splitlines() if regex.search(line)]
        out = f"{len(matched)}\n" if "-c" in flags else "".join(line + "\n" for line in matched)
    return out


def check(hint: Hint, out: str, plain: int | None) -> None:
    """``out`` is what ``hint`` says its command prints."""
    if hint.expect is Expect.VARY:
        assert out.strip().lower() == f"vary: {hint.detail}".lower(), out
    elif hint.expect is Expect.STATUS:
        assert json.loads(out)["opted_out"] is (hint.detail == "true"), out
    else:
        count = int(out)
        if hint.expect is Expect.SOME:
            assert count > 0
        elif hint.expect is Expect.NONE:
            assert count == 0
        elif hint.expect is Expect.FEWER:
            assert plain is not None and 0 < count < plain
        else:
            assert hint.expect is Expect.SAME
            assert count == plain


def printed(text: str) -> list[tuple[str, str]]:
    """The (comment, command) pairs of a banner or README block."""
    lines = [line.strip() for line in text.splitlines()]
    return [(lines[i][2:], lines[i + 1]) for i in range(len(lines) - 1)
            if lines[i].startswith("# ") and lines[i + 1].startswith("curl ")]


@pytest.mark.parametrize("variant", list(CONFIGS))
@pytest.mark.parametrize(("name", "kind", "factory"), APPS, ids=[app[0] for app in APPS])
def test_every_printed_hint_does_what_it_says(
    variant: str, name: str, kind: str, factory: Callable[[OptOutConfig], Any]
) -> None:
    cfg = demo_config(environ={}, **CONFIGS[variant])
    app = factory(cfg)
    text = banner(cfg, BASE, name)
    pairs = printed(text)
    expected = hints(cfg)
    # The banner prints exactly these hints, each with what it prints.
    assert pairs == [(hint.says(), hint.command(BASE)) for hint in expected]
    plain: int | None = None
    for hint, (_, command) in zip(expected, pairs, strict=True):
        out = run_in_process(command, app, kind)
        check(hint, out, plain)
        if hint.expect is Expect.SOME:
            plain = int(out)


@pytest.mark.parametrize("mode", ["report", "off"])
def test_banner_never_claims_stripping_outside_enforce(mode: str) -> None:
    cfg = demo_config(environ={}, mode=mode)
    text = banner(cfg, BASE, "the built-in demo page (WSGI)")
    assert f"mode: {mode}:" in text
    assert "are stripped" not in text
    assert "pages are not changed" in text
    assert Expect.SAME.value in text


def test_banner_in_enforce_mode() -> None:
    text = banner(demo_config(environ={}), BASE, "the built-in demo page (WSGI)")
    assert text.startswith(DEV_WARNING)
    assert "mode: enforce: tracker tags are stripped" in text
    assert f"open {BASE}/privacy/opt-out in a browser" in text


def test_demo_config_honours_optout_variables(tmp_path: Path) -> None:
    cfg = demo_config(environ={"OPTOUT_MODE": "report", "OPTOUT_WRITE_US_PRIVACY": "0"})
    assert cfg.mode is Mode.REPORT
    assert cfg.write_us_privacy is False
    assert cfg.presets == ("all",) and cfg.inject_stubs  # the demo's own settings stay
    own = demo_config(environ={"OPTOUT_SECRET_KEYS": "an-operator-secret-long-enough"})
    assert not banner(own, BASE, "x").startswith(DEV_WARNING)
    file = tmp_path / "demo.toml"
    file.write_text('mode = "off"\n', encoding="utf-8")
    assert demo_config(environ={"OPTOUT_CONFIG": str(file)}).mode is Mode.OFF
    # Variables beat the file, as everywhere else.
    assert demo_config(environ={"OPTOUT_CONFIG": str(file),
                                "OPTOUT_MODE": "report"}).mode is Mode.REPORT
    with pytest.raises(ConfigError, match="OPTOUT_MODE"):
        demo_config(environ={"OPTOUT_MODE": "loud"})


def test_readme_shows_the_demo_hints() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("<!-- demo-hints -->", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    expected = "\n".join(line.strip() for line in hint_lines(demo_config(environ={}), BASE))
    assert block.strip("\n") == expected


def test_cli_demo_banner_says_the_mode(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no examples here: the built-in page
    monkeypatch.setenv("OPTOUT_MODE", "report")
    served: list[cli.Demo] = []
    monkeypatch.setattr(cli, "_serve", lambda demo, port: served.append(demo))
    assert cli.main(["demo", "--port", "8123"]) == cli.EXIT_OK
    out = capsys.readouterr().out
    assert "mode: report: pages are not changed" in out
    assert "curl -s -H 'Sec-GPC: 1' http://127.0.0.1:8123/ | grep -c" in out
    status, _, body = fetch(served[0].app, "wsgi", "/", {"Sec-GPC": "1"})
    assert status == 200 and "googletagmanager" in body  # report mode strips nothing


# --- real servers and real curl -------------------------------------------------------------


@contextmanager
def running(app: Any, kind: str) -> Iterator[str]:
    """``app`` served on a free port in a thread; yields its base URL."""
    if kind == "wsgi":
        httpd: WSGIServer = make_server("127.0.0.1", 0, app)
        thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{httpd.server_port}"
        finally:
            httpd.shutdown()
            httpd.server_close()
        return
    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, ws="none", log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        while not server.started:
            thread.join(0.02)
            assert thread.is_alive()
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
@pytest.mark.parametrize("variant", ["enforce", "report"])
@pytest.mark.parametrize(("name", "kind", "factory"), APPS, ids=[app[0] for app in APPS])
def test_printed_hints_with_real_curl(
    variant: str, name: str, kind: str, factory: Callable[[OptOutConfig], Any]
) -> None:
    cfg = demo_config(environ={}, **CONFIGS[variant])
    with running(factory(cfg), kind) as base:
        plain: int | None = None
        for hint, (_, command) in zip(hints(cfg), printed(banner(cfg, base, name)),
                                      strict=True):
            result = subprocess.run(["bash", "-c", command], capture_output=True, text=True,
                                    timeout=30, check=False)
            assert result.stderr == ""
            check(hint, result.stdout, plain)
            if hint.expect is Expect.SOME:
                plain = int(result.stdout)


# --- a busy port ------------------------------------------------------------------------------


@pytest.fixture
def busy_port() -> Iterator[int]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)
    try:
        yield sock.getsockname()[1]
    finally:
        sock.close()


@pytest.mark.parametrize("kind", ["wsgi", "asgi"])
def test_serve_on_a_busy_port_raises_one_line(busy_port: int, kind: str) -> None:
    app = builtin_demo_app(demo_config(environ={})) if kind == "wsgi" else create_starlette_app(
        demo_config(environ={}))
    with pytest.raises(PortBusy) as raised:
        serve(app, kind, busy_port)
    message = str(raised.value)
    assert "\n" not in message
    assert f"127.0.0.1:{busy_port}" in message and "--port" in message


def test_cli_demo_on_a_busy_port(busy_port: int, tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    assert cli.main(["demo", "--port", str(busy_port)]) == cli.EXIT_UNREADABLE
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot listen on" in err


@pytest.mark.parametrize("module", [
    ["examples.flask_app"], ["examples.starlette_app"], ["examples.starlette_app", "--fastapi"],
])
def test_examples_on_a_busy_port(busy_port: int, module: list[str]) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPTOUT_")}
    result = subprocess.run([sys.executable, "-m", *module], cwd=ROOT, capture_output=True,
                            text=True, timeout=60, check=False,
                            env={**env, "PORT": str(busy_port)})
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1 and "cannot listen on" in result.stderr
    assert "mode: enforce" in result.stdout  # the banner came first, with its hints
    assert f"curl -s http://127.0.0.1:{busy_port}/ | grep -c" in result.stdout


def test_examples_with_a_bad_variable(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPTOUT_")}
    result = subprocess.run([sys.executable, "-m", "examples.starlette_app"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60, check=False,
                            env={**env, "OPTOUT_MODE": "loud"})
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "OPTOUT_MODE" in result.stderr


def test_report_mode_demo_prints_what_would_be_stripped(monkeypatch: pytest.MonkeyPatch) -> None:
    from optout_mw.demo import logger, show_report_lines

    monkeypatch.setattr(logger, "handlers", [])
    monkeypatch.setattr(logger, "level", logging.NOTSET)
    cfg = demo_config(environ={}, mode="report")
    show_report_lines(cfg)
    (handler,) = logger.handlers
    assert isinstance(handler, logging.StreamHandler)
    stream = io.StringIO()
    handler.setStream(stream)
    fetch(builtin_demo_app(cfg), "wsgi", "/", {"Sec-GPC": "1"})
    assert "INFO optout_mw: would strip" in stream.getvalue()
    # Enforcing, nothing is added: the page itself shows what happened.
    monkeypatch.setattr(logger, "handlers", [])
    show_report_lines(demo_config(environ={}))
    assert logger.handlers == []


def test_run_example_refuses_a_bad_port_or_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from optout_mw.demo import run_example

    monkeypatch.setenv("PORT", "eighty")
    assert run_example(create_flask_app, "wsgi", "x") == 2
    assert capsys.readouterr().err == "PORT must be a number, got 'eighty'\n"
    monkeypatch.delenv("PORT")
    monkeypatch.setenv("OPTOUT_MODE", "loud")
    assert run_example(create_flask_app, "wsgi", "x") == 2
    err = capsys.readouterr().err
    assert "OPTOUT_MODE" in err and "Traceback" not in err
