"""The optout-mw command: output and exit code of every command."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from wsgiref.util import setup_testing_defaults

import pytest

from optout_mw import cli
from optout_mw.cli import CHUNK, main
from optout_mw.demo import demo_config

KEY = "0123456789abcdef-secret"
GTM = '<script async src="https://www.googletagmanager.com/gtm.js?id=GTM-X"></script>'
PIXEL = '<img src="https://www.facebook.com/tr?id=1&amp;ev=PageView">'
PAGE = f"<html><head>\n{GTM}\n</head><body>\n<p>shop</p>{PIXEL}\n</body></html>\n"
CLEAN = "<html><head></head><body><p>shop</p></body></html>\n"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def hermetic_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("OPTOUT_"):
            monkeypatch.delenv(name)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def html_file(tmp_path: Path, text: str = PAGE, name: str = "page.html") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- usage -----------------------------------------------------------------------------


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys)
    assert code == 2
    assert "COMMAND" in err
    code, _, err = run(capsys, "scan")
    assert code == 2
    assert "FILE|URL" in err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--version")
    assert code == 0
    assert out.startswith("optout-mw ")


def test_python_dash_m() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "optout_mw", "decode", "1YYN"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["OptOutSale"] == "Y"


# --- check ---------------------------------------------------------------------------------


def test_check_valid_prints_config_without_secrets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "optout.toml"
    path.write_text(
        f'mode = "report"\nsecret_keys = ["{KEY}"]\n[[rules]]\nname = "acme"\n'
        'hosts = ["acme.example"]\n',
        encoding="utf-8",
    )
    code, out, _ = run(capsys, "check", str(path))
    assert code == 0
    assert KEY not in out
    assert 'mode = "report"' in out
    assert f'secret_keys = ["<redacted, {len(KEY)} characters>"]' in out
    assert "# gpc_json_last_update = (unset)" in out
    assert '[[rules]]\nname = "acme"\nhosts = ["acme.example"]' in out

    code, out, _ = run(capsys, "check", str(path), "--json")
    assert code == 0
    data = json.loads(out)
    assert data["valid"] is True
    assert data["file"] == str(path)
    assert data["config"]["mode"] == "report"
    assert KEY not in out


def test_check_reads_optout_config_and_env(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "optout.toml"
    path.write_text('mode = "off"\n', encoding="utf-8")
    monkeypatch.setenv("OPTOUT_CONFIG", str(path))
    monkeypatch.setenv("OPTOUT_SECRET_KEYS", KEY)
    code, out, _ = run(capsys, "check")
    assert code == 0
    assert 'mode = "off"' in out
    assert f"file: {path}" in out


def test_check_invalid_lists_every_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "optout.toml"
    path.write_text('mode = "loud"\nexlcude_paths = ["/a"]\n', encoding="utf-8")
    monkeypatch.setenv("OPTOUT_READ_GPC", "maybe")
    code, out, _ = run(capsys, "check", str(path))
    assert code == 2
    assert out.startswith("invalid configuration (4 problems):")
    assert f"  {path}: mode: expected one of enforce, report, off" in out
    assert f"  {path}: exlcude_paths: unknown key; did you mean 'exclude_paths'?" in out
    assert "  env OPTOUT_READ_GPC: expected a boolean" in out
    assert "  secret_keys: required" in out

    code, out, _ = run(capsys, "check", str(path), "--json")
    assert code == 2
    data = json.loads(out)
    assert data["valid"] is False
    assert {p["key"] for p in data["problems"]} == {
        f"{path}: mode", f"{path}: exlcude_paths", "env OPTOUT_READ_GPC", "secret_keys"
    }


# --- scan of a file -----------------------------------------------------------------------


def test_scan_file_lists_trackers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = html_file(tmp_path)
    code, out, _ = run(capsys, "scan", str(path))
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == f"{path}: 2 tracker element(s) would be stripped or blocked:"
    assert lines[1].split() == [
        "2:1", "strip", "google-tag-manager", "<script>",
        "https://www.googletagmanager.com/gtm.js?id=GTM-X",
    ]
    assert lines[2].split()[:4] == ["4:12", "strip", "meta-pixel", "<img>"]


def test_scan_file_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = html_file(tmp_path)
    code, out, _ = run(capsys, "scan", str(path), "--json")
    assert code == 1
    data = json.loads(out)
    assert data["target"] == str(path)
    assert data["findings"][0] == {
        "rule": "google-tag-manager",
        "action": "strip",
        "element": "script",
        "url": "https://www.googletagmanager.com/gtm.js?id=GTM-X",
        "line": 2,
        "column": 1,
        "offset": PAGE.index("<script"),
    }


def test_scan_with_chosen_preset(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "scan", str(html_file(tmp_path)), "--preset", "meta-pixel",
                       "--json")
    assert code == 1
    assert [f["rule"] for f in json.loads(out)["findings"]] == ["meta-pixel"]


def test_scan_with_config_rules(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "optout.toml"
    config.write_text('[[rules]]\nname = "shop-para"\ninline_markers = ["shop"]\n'
                      'action = "block"\n', encoding="utf-8")
    page = html_file(tmp_path, "<script>track('shop')</script>" + PAGE)
    code, out, _ = run(capsys, "scan", str(page), "--config", str(config), "--json")
    assert code == 1
    found = json.loads(out)["findings"]
    # Only the configured rule: no presets unless asked for. No secret is needed to scan.
    assert [(f["rule"], f["action"]) for f in found] == [("shop-para", "block")]


def test_scan_clean_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "scan", str(html_file(tmp_path, CLEAN)))
    assert code == 0
    assert out.endswith("no tracker elements found\n")


def test_scan_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "scan", str(tmp_path / "nope.html"))
    assert code == 3
    assert out == ""
    assert "cannot read" in err


def test_scan_invalid_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "optout.toml"
    config.write_text('presets = ["meta-pixle"]\n', encoding="utf-8")
    code, _, err = run(capsys, "scan", str(html_file(tmp_path)), "--config", str(config))
    assert code == 2
    assert "did you mean 'meta-pixel'?" in err


def test_scan_unknown_preset(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "scan", str(html_file(tmp_path)), "--preset", "nope-nope")
    assert code == 2
    assert "unknown preset 'nope-nope'" in err


# --- scan of a URL --------------------------------------------------------------------------


class PageHandler(BaseHTTPRequestHandler):
    """/honours drops its tags for Sec-GPC: 1; /ignores always sends them."""

    def do_GET(self) -> None:
        gpc = self.headers.get("Sec-GPC") == "1"
        body = (CLEAN if gpc and self.path == "/honours" else PAGE).encode()
        if self.path == "/missing":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), PageHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def test_scan_url_server_honours_gpc(server: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "scan", f"{server}/honours")
    assert code == 0
    assert f"{server}/honours without GPC: HTTP 200, text/html; charset=utf-8, 2 tracker" in out
    assert f"{server}/honours with Sec-GPC: 1: HTTP 200, text/html; charset=utf-8, 0 tracker" in out
    assert "the server already honours GPC" in out


def test_scan_url_server_ignores_gpc(server: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "scan", f"{server}/ignores")
    assert code == 1
    assert "2 tracker element(s) still served to a visitor sending Sec-GPC: 1" in out


def test_scan_url_json(server: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "scan", f"{server}/honours", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["server_honours_gpc"] is True
    assert [f["rule"] for f in data["plain"]["findings"]] == ["google-tag-manager", "meta-pixel"]
    assert data["gpc"]["findings"] == []
    assert len(data["removed_by_server_with_gpc"]) == 2
    assert data["plain"]["status"] == 200


def test_scan_url_connection_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    code, _, err = run(capsys, "scan", f"http://127.0.0.1:{port}/", "--timeout", "5")
    assert code == 3
    assert "cannot fetch" in err


def test_scan_url_without_httpx(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "httpx", None)
    code, _, err = run(capsys, "scan", "http://127.0.0.1:9/")
    assert code == 3
    assert "pip install httpx" in err


# --- rewrite ---------------------------------------------------------------------------------


def test_rewrite_writes_enforced_bytes(
    tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    # Not UTF-8 and larger than one chunk, with a tracker across the chunk boundary:
    # untouched bytes must come out identical.
    filler = b"<p>caf\xe9</p>\n" * (CHUNK // 12)
    cut = CHUNK - len(filler) - 10
    head = filler + b"x" * cut
    page = head + GTM.encode() + b"<p>after \xff</p>"
    path = tmp_path / "latin1.html"
    path.write_bytes(page)
    code = main(["rewrite", str(path)])
    out, err = capsysbinary.readouterr()
    assert code == 0
    assert out == head + b"<p>after \xff</p>"
    assert err == b"optout-mw: 1 element(s) stripped or blocked\n"


def test_rewrite_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "rewrite", str(tmp_path / "nope.html"))
    assert code == 3
    assert "cannot read" in err


def test_rewrite_block_action_from_config(
    tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    config = tmp_path / "optout.toml"
    config.write_text('presets = ["google-tag-manager"]\naction = "block"\n', encoding="utf-8")
    code = main(["rewrite", str(html_file(tmp_path)), "--config", str(config)])
    out, _ = capsysbinary.readouterr()
    assert code == 0
    assert b'data-optout-src="https://www.googletagmanager.com/gtm.js?id=GTM-X"' in out
    assert PIXEL.encode() in out  # meta-pixel is not configured


# --- decode ------------------------------------------------------------------------------------


def test_decode_us_privacy(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "decode", "1YYN")
    assert code == 0
    data = json.loads(out)
    assert data["type"] == "usprivacy"
    assert data["OptOutSale"] == "Y"
    assert data["error"] is None


def test_decode_malformed(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "decode", "DBxx")
    assert code == 1
    data = json.loads(out)
    assert data["type"] == "gpp"
    assert data["error"]


# --- demo ------------------------------------------------------------------------------------


def call_wsgi(app: Any, headers: dict[str, str]) -> tuple[str, dict[str, str], bytes]:
    environ: dict[str, Any] = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
    setup_testing_defaults(environ)
    started: list[tuple[str, list[tuple[str, str]]]] = []

    def start_response(status: str, response_headers: list[tuple[str, str]],
                       exc_info: object = None) -> Any:
        started.append((status, response_headers))
        return lambda data: None

    result = app(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    status, response_headers = started[0]
    return status, {name.lower(): value for name, value in response_headers}, body


def example_modules() -> dict[str, Any]:
    return {
        name: module
        for name, module in sys.modules.items()
        if name == "examples" or name.startswith("examples.")
    }


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[cli.Demo, int]]]:
    """Replaces serving with a record of what would be served; isolates imports of
    ``examples`` so other tests see the project's own package afterwards.
    """
    calls: list[tuple[cli.Demo, int]] = []
    monkeypatch.setattr(cli, "_serve", lambda demo, port: calls.append((demo, port)))
    for name in [name for name in os.environ if name.startswith("OPTOUT_")]:
        monkeypatch.delenv(name)  # the demo reads them: start from none
    monkeypatch.setattr(sys, "path", list(sys.path))
    saved = example_modules()
    for name in saved:
        del sys.modules[name]
    try:
        yield calls
    finally:
        for name in example_modules():
            del sys.modules[name]
        sys.modules.update(saved)


def test_demo_falls_back_to_builtin_page(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    served: list[tuple[cli.Demo, int]],
) -> None:
    monkeypatch.chdir(tmp_path)  # no examples/ here
    code, out, _ = run(capsys, "demo", "--port", "8123")
    assert code == 0
    assert "NOT FOR PRODUCTION" in out
    assert "serving the built-in demo page (WSGI) on http://127.0.0.1:8123/" in out
    assert "curl -s -H 'Sec-GPC: 1' http://127.0.0.1:8123/ | grep" in out
    (demo, port), = served
    assert port == 8123
    _, headers, plain = call_wsgi(demo.app, {})
    assert b"googletagmanager.com" in plain
    assert headers["vary"] == "Sec-GPC, Cookie"
    _, _, opted_out = call_wsgi(demo.app, {"Sec-GPC": "1"})
    assert b"googletagmanager.com" not in opted_out
    assert b"facebook.com/tr" not in opted_out
    assert b"Opt-Out Request Honored" in opted_out


def test_demo_explicit_framework_without_examples_falls_back(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    served: list[tuple[cli.Demo, int]],
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "demo", "--framework", "starlette")
    assert code == 0
    assert "examples/starlette_app/app.py not found" in err
    assert served[0][0].kind == "wsgi"


def test_demo_serves_example_from_cwd(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    served: list[tuple[cli.Demo, int]],
) -> None:
    example = tmp_path / "examples" / "flask_app"
    example.mkdir(parents=True)
    for package in (example, example.parent):
        (package / "__init__.py").write_text("", encoding="utf-8")
    (example / "app.py").write_text(
        "def create_app(config=None):\n"
        "    def app(environ, start_response):\n"
        "        start_response('200 OK', [('Content-Type', 'text/plain')])\n"
        "        return [f'{config.mode} {config.presets}'.encode()]\n"
        "    return app\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, "demo", "--framework", "flask")
    assert code == 0
    assert "serving examples/flask_app/app.py (WSGI)" in out
    demo, _ = served[0]
    # The demo's configuration, the same whatever serves it.
    assert call_wsgi(demo.app, {})[2] == b"enforce ('all',)"


def test_demo_with_config_file(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    served: list[tuple[cli.Demo, int]],
) -> None:
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "optout.toml"
    config.write_text(f'secret_keys = ["{KEY}"]\npresets = ["meta-pixel"]\n', encoding="utf-8")
    code, out, _ = run(capsys, "demo", "--framework", "builtin", "--config", str(config))
    assert code == 0
    assert "NOT FOR PRODUCTION" not in out  # the operator's own secret is in use
    _, _, body = call_wsgi(served[0][0].app, {"Sec-GPC": "1"})
    assert b"googletagmanager.com" in body  # only meta-pixel is configured
    assert b"facebook.com/tr" not in body


def test_demo_invalid_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], served: list[tuple[cli.Demo, int]]
) -> None:
    config = tmp_path / "optout.toml"
    config.write_text('mode = "loud"\n', encoding="utf-8")
    code, _, err = run(capsys, "demo", "--config", str(config))
    assert code == 2
    assert "mode" in err
    assert served == []


def test_demo_project_examples(
    monkeypatch: pytest.MonkeyPatch, served: list[tuple[cli.Demo, int]]
) -> None:
    if not (ROOT / "examples" / "shop.py").exists():
        pytest.skip("the project's examples are not complete in this checkout")
    cfg = demo_config(environ={})
    flask = cli.build_demo("flask", str(ROOT), cfg)
    assert flask.kind == "wsgi" and flask.description == "examples/flask_app/app.py (WSGI)"
    starlette = cli.build_demo("starlette", str(ROOT), cfg)
    assert starlette.kind == "asgi"
    fastapi = cli.build_demo("fastapi", str(ROOT), cfg)
    assert fastapi.description == "examples/starlette_app/fastapi_app.py (ASGI)"
