"""``optout-mw csp policy`` and ``optout-mw csp suggest``, through the real entry point."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from optout_mw.cli import main
from optout_mw.reports import Classification, Kind, Layer, ReportAggregator, Violation

CONFIG = """
[optout]
presets = ["google-tag-manager", "meta-pixel"]

[csp]
mode = "enforce"
connect_hosts = ["api.example.com"]
"""


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def reports_file(tmp_path: Path) -> str:
    lines = [
        # A Reporting API batch, a report-uri body, a guard beacon, a log line, junk.
        json.dumps([{"type": "csp-violation", "url": "https://shop.example/", "body": {
            "blockedURL": "https://api.partner.example/v1?x=1", "effectiveDirective":
            "connect-src", "documentURL": "https://shop.example/", "disposition": "enforce"}}]),
        json.dumps({"csp-report": {"blocked-uri": "https://api.partner.example/v2",
                                   "effective-directive": "connect-src",
                                   "document-uri": "https://shop.example/a"}}),
        json.dumps({"csp-report": {"blocked-uri": "https://www.googletagmanager.com/gtm.js",
                                   "effective-directive": "script-src-elem"}}),
        json.dumps({"csp-report": {"blocked-uri": "https://api.example.com/known",
                                   "effective-directive": "connect-src"}}),
        json.dumps({"type": "optout-guard", "page": "/", "total": 1, "vectors": {},
                    "blocked": [{"url": "https://connect.facebook.net/x.js",
                                 "vector": "appendChild"}]}),
        json.dumps({"message": "...", "optout_layer": "csp", "optout_mode": "enforce",
                    "optout_label": "unknown:video.partner.example", "optout_where":
                    "frame-src", "optout_url": "https://video.partner.example/embed"}),
        "not json at all",
        "",
    ]
    return write(tmp_path, "reports.jsonl", "\n".join(lines))


def test_suggest_prints_a_csp_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write(tmp_path, "optout.toml", CONFIG)
    assert main(["csp", "suggest", reports_file(tmp_path), "--config", config]) == 0
    out, err = capsys.readouterr()
    assert out == (
        "[csp]\n"
        'connect_hosts = ["api.example.com", "api.partner.example"]\n'
        'frame_hosts = ["video.partner.example"]\n'
        "# left out, trackers by the rules: google-tag-manager (1), meta-pixel (1)\n"
    )
    assert "1 document(s) were not reports" in err


def test_suggest_json_and_min_count(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write(tmp_path, "optout.toml", CONFIG)
    assert main(["csp", "suggest", reports_file(tmp_path), "--config", config, "--json",
                 "--min-count", "2"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["add"] == {"connect_hosts": [{"host": "api.partner.example", "count": 2}]}
    assert data["read"] == 6 and data["skipped"] == 1


def test_suggest_reads_a_tally_snapshot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    aggregator = ReportAggregator()
    aggregator.add(Violation(Layer.CSP, True, "", "img-src"),
                   Classification(Kind.UNKNOWN, "img.partner.example"), 3)
    snapshot = write(tmp_path, "tally.json", json.dumps(aggregator.snapshot()))
    assert main(["csp", "suggest", snapshot, "--preset", "meta-pixel"]) == 0
    assert 'img_hosts = ["img.partner.example"]' in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        pytest.param(["--min-count", "0"], 2, "--min-count", id="min count"),
        pytest.param(["--config", "missing.toml"], 3, "cannot read the configuration",
                     id="missing config"),
    ],
)
def test_suggest_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                              args: list[str], code: int, message: str) -> None:
    assert main(["csp", "suggest", reports_file(tmp_path), *args]) == code
    assert message in capsys.readouterr().err


def test_suggest_names_bad_csp_keys(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write(tmp_path, "bad.toml", '[csp]\nconect_hosts = ["a.example"]\n')
    assert main(["csp", "suggest", reports_file(tmp_path), "--config", config]) == 2
    assert "csp.conect_hosts: unknown key; did you mean 'connect_hosts'?" in \
        capsys.readouterr().err


def test_suggest_unreadable_reports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["csp", "suggest", str(tmp_path / "nope.jsonl"), "--preset", "meta-pixel"]) == 3
    assert "cannot read reports" in capsys.readouterr().err


def test_policy_prints_the_headers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write(tmp_path, "optout.toml", CONFIG)
    assert main(["csp", "policy", "--config", config]) == 0
    assert capsys.readouterr().out == (
        "Content-Security-Policy: script-src-elem 'self' 'unsafe-inline'; connect-src 'self' "
        "api.example.com; frame-src 'self'; object-src 'self'; report-uri /privacy/csp-report;"
        " report-to optout-csp\n"
        'Reporting-Endpoints: optout-csp="/privacy/csp-report"\n'
    )
    assert main(["csp", "policy"]) == 0
    assert capsys.readouterr().out == "# csp.mode is off: no policy is sent\n"


def test_command_is_registered_on_the_installed_entry_point() -> None:
    done = subprocess.run([sys.executable, "-m", "optout_mw", "csp", "--help"],
                          capture_output=True, text=True, check=False, timeout=60)
    assert done.returncode == 0 and "suggest" in done.stdout
