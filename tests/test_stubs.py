"""The ``__uspapi``/``__gpp`` stubs and the CSP handling around them."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable
from typing import Any, NamedTuple

import pytest

from optout_mw.config import OptOutConfig
from optout_mw.decision import Decision
from optout_mw.stubs import (
    StubInjector,
    csp_nonce,
    inline_script_permission,
    parse_csp,
    sha256_source,
)

from .test_endpoints_support import choice_cookie, config, decide, injector_for

NODE = shutil.which("node") or (shutil.which("/usr/bin/node"))


class Stubs(NamedTuple):
    config: OptOutConfig
    injector: StubInjector


def stub_surface(**changes: object) -> Stubs:
    cfg = config(inject_stubs=True, **changes)
    return Stubs(cfg, injector_for(cfg))


def script_text(tag: bytes) -> str:
    found = re.fullmatch(rb'<script(?: nonce="[^"]*")?>(.*)</script>', tag, re.S)
    assert found is not None, tag
    return found[1].decode()


# --- when a stub is produced ----------------------------------------------------------------


def test_no_stub_when_off_or_not_opted_out() -> None:
    cfg = config()
    assert injector_for(cfg).script(decide(cfg, gpc=True), None) is None
    s = stub_surface()
    assert s.injector.script(decide(s.config), None) is None


def test_stub_for_gpc_and_for_stored_opt_out() -> None:
    s = stub_surface()
    gpc = s.injector.script(decide(s.config, gpc=True), None)
    stored = s.injector.script(decide(s.config, cookie=choice_cookie(True, 1_700_000_000)), None)
    assert gpc is not None and gpc.startswith(b"<script>")
    assert stored is not None
    assert b"__uspapi" in gpc
    # Without write_gpp there is no __gpp part.
    assert b"__gpp=" not in gpc


def test_stub_is_small_es5_and_safe_in_html() -> None:
    s = stub_surface(write_gpp=True)
    tag = s.injector.script(decide(s.config, gpc=True), None)
    assert tag is not None
    text = script_text(tag)
    assert len(tag) < 2500
    assert "=>" not in text and "`" not in text
    assert not re.search(r"\b(let|const|class)\b", text)
    assert "</" not in text and "<!--" not in text
    assert "fetch" not in text and "XMLHttpRequest" not in text and "src" not in text


def test_stub_hash_matches_each_variant() -> None:
    s = stub_surface(write_gpp=True)
    sources = s.injector.sources().split(" ")
    assert len(sources) == 2
    for gpc in (False, True):
        decision = decide(s.config, gpc=gpc, cookie=choice_cookie(True, 1_700_000_000))
        tag = s.injector.script(decision, None)
        assert tag is not None
        assert sha256_source(script_text(tag)) in sources
    assert len(stub_surface().injector.sources().split(" ")) == 1
    assert re.fullmatch(r"'sha256-[A-Za-z0-9+/]{43}='", stub_surface().injector.sources())


# --- CSP ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("csp", "nonce"),
    [
        (None, None),
        ("", None),
        ("default-src 'self'", None),
        ("script-src 'nonce-abc123'", "abc123"),
        ("script-src 'self' 'NONCE-AbC+/9=='", "AbC+/9=="),
        ("default-src 'nonce-xyz'", "xyz"),
        ("default-src 'nonce-dflt'; script-src 'nonce-scr'", "scr"),
        ("script-src-elem 'nonce-elem'; script-src 'nonce-scr'", "elem"),
        ("img-src 'nonce-notscript'", None),
        ("script-src 'nonce-'", None),
        ("script-src 'nonce-a\"b'", None),
        ("script-src 'nonce-<x>'", None),
        ("script-src 'nonce-abc", None),
        ("script-src nonce-abc", None),
        ("SCRIPT-SRC 'nonce-upper'", "upper"),
        ("script-src 'nonce-first'; script-src 'nonce-second'", "first"),
        (";;;  ; script-src   'nonce-spaced'  ;", "spaced"),
        ("default-src 'self', script-src 'nonce-second-policy'", "second-policy"),
        ("\x00\xff;;,,", None),
        ("script-src 'nonce-abc==='", None),
    ],
)
def test_csp_nonce(csp: str | None, nonce: str | None) -> None:
    assert csp_nonce(csp) == nonce


def test_parse_csp_first_directive_wins_and_names_lowercased() -> None:
    assert parse_csp("Script-Src a; script-src b, img-src c") == [
        {"script-src": ["a"]}, {"img-src": ["c"]}
    ]


@pytest.mark.parametrize(
    ("csp", "allowed", "nonce"),
    [
        (None, True, None),
        ("img-src 'self'", True, None),
        ("script-src 'unsafe-inline'", True, None),
        ("script-src 'self'", False, None),
        ("default-src 'self'", False, None),
        ("default-src 'self'; script-src 'self' 'unsafe-inline'", True, None),
        ("script-src 'nonce-n1' 'unsafe-inline'", True, "n1"),
        ("script-src 'sha256-other' 'unsafe-inline'", False, None),
        ("script-src 'strict-dynamic' 'nonce-n2'", True, "n2"),
        ("script-src 'unsafe-inline', script-src 'self'", False, None),
        ("script-src 'nonce-n3', script-src 'nonce-n4'", False, "n3"),
        ("script-src 'HASH'", True, None),
        ("script-src 'self' 'HASH', default-src 'unsafe-inline'", True, None),
    ],
)
def test_inline_script_permission(csp: str | None, allowed: bool, nonce: str | None) -> None:
    source = "'sha256-AAAA'"
    header = csp.replace("'HASH'", source) if csp else csp
    assert inline_script_permission(header, source) == (allowed, nonce)


def test_stub_gets_the_page_nonce() -> None:
    s = stub_surface()
    csp = "default-src 'self'; script-src 'nonce-R4nd0m'"
    tag = s.injector.script(decide(s.config, gpc=True), csp)
    assert tag is not None
    assert tag.startswith(b'<script nonce="R4nd0m">')


def test_stub_skipped_when_csp_blocks_it() -> None:
    s = stub_surface()
    assert s.injector.script(decide(s.config, gpc=True), "script-src 'self'") is None


def test_stub_allowed_by_its_hash() -> None:
    s = stub_surface()
    tag = s.injector.script(decide(s.config, gpc=True), f"script-src 'self' {s.injector.sources()}")
    assert tag is not None
    assert tag.startswith(b"<script>")


@pytest.mark.parametrize(
    "csp",
    ["script-src", "script-src 'nonce-", ";", ",", "script-src 'nonce-\u00e9'", "x" * 10000,
     "script-src\t'nonce-tab'\x0b", "'nonce-abc'", "default-src; script-src 'nonce-ok'"],
)
def test_malformed_csp_never_raises(csp: str) -> None:
    s = stub_surface()
    result = s.injector.script(decide(s.config, gpc=True), csp)
    assert result is None or result.startswith(b"<script")


# --- running the stub -----------------------------------------------------------------------

_HARNESS = r"""
var window = {};
var document = {};
%(before)s
%(stub)s
var out = {sync: {}};
window.__uspapi('getUSPData', 1, function (d, ok) { out.usp = [d, ok]; });
out.sync.usp = out.usp !== undefined;
window.__uspapi('ping', 1, function (d, ok) { out.uspPing = [d, ok]; });
window.__uspapi('nonsense', 1, function (d, ok) { out.uspBad = [d, ok]; });
window.__uspapi('getUSPData', 1);
if (typeof window.__gpp === 'function') {
  window.__gpp('ping', function (d, ok) { out.ping = [d, ok]; });
  out.sync.gpp = out.ping !== undefined;
  out.events = [];
  window.__gpp('addEventListener', function (d, ok) { out.events.push([d, ok]); });
  window.__gpp('hasSection', function (d, ok) { out.hasUsnat = d; }, 'usnat');
  window.__gpp('hasSection', function (d, ok) { out.hasUsca = d; }, 'usca');
  window.__gpp('hasSection', function (d, ok) { out.hasProto = d; }, 'constructor');
  window.__gpp('getSection', function (d, ok) { out.section = d; }, 'usnat');
  window.__gpp('getSection', function (d, ok) { out.noSection = d; }, 'usca');
  window.__gpp('getField', function (d, ok) { out.sale = d; }, 'usnat.SaleOptOut');
  window.__gpp('getField', function (d, ok) { out.gpcField = d; }, 'usnat.Gpc');
  window.__gpp('getField', function (d, ok) { out.missing = d; }, 'usnat.Nope');
  window.__gpp('getField', function (d, ok) { out.badField = d; }, 'nodot');
  window.__gpp('removeEventListener', function (d, ok) { out.removed = d; }, 1);
  window.__gpp('removeEventListener', function (d, ok) { out.removedAgain = d; }, 1);
  window.__gpp('getSection', function (d) { d[0].SaleOptOut = 2; }, 'usnat');
  window.__gpp('getField', function (d) { out.saleAfterMutation = d; }, 'usnat.SaleOptOut');
  window.__gpp('unknownCommand', function (d, ok) { out.unknown = [d, ok]; });
}
process.stdout.write(JSON.stringify(out));
"""


def run_stub(tag: bytes, before: str = "") -> dict[str, Any]:
    if NODE is None:
        pytest.skip("node is not installed: cannot execute the JavaScript stub")
    program = _HARNESS % {"stub": script_text(tag), "before": before}
    result = subprocess.run([NODE, "-e", program], capture_output=True, text=True, timeout=30,
                            check=False)
    assert result.returncode == 0, result.stderr
    out: dict[str, Any] = json.loads(result.stdout)
    return out


def test_stub_uspapi_answers_synchronously_in_node() -> None:
    s = stub_surface(us_privacy_lspa="Y")
    tag = s.injector.script(decide(s.config, gpc=True), None)
    assert tag is not None
    out = run_stub(tag)
    assert out["usp"] == [{"version": 1, "uspString": "1YYY"}, True]
    assert out["sync"] == {"usp": True}
    assert out["uspPing"] == [{"version": 1, "uspapiLoaded": True}, True]
    assert out["uspBad"] == [None, False]
    assert "ping" not in out  # no __gpp without write_gpp


def test_stub_gpp_answers_in_node() -> None:
    from optout_mw.gpp import encode_opt_out_gpp

    s = stub_surface(write_gpp=True)
    tag = s.injector.script(decide(s.config, gpc=True), None)
    assert tag is not None
    out = run_stub(tag)
    gpp, sid = encode_opt_out_gpp(gpc=True)
    assert out["sync"] == {"usp": True, "gpp": True}
    ping, ok = out["ping"]
    assert ok is True
    assert ping["gppVersion"] == "1.1"
    assert ping["cmpStatus"] == "loaded"
    assert ping["signalStatus"] == "ready"
    assert ping["applicableSections"] == [int(sid)]
    assert ping["sectionList"] == [7]
    assert ping["supportedAPIs"] == ["7:usnat"]
    assert ping["gppString"] == gpp
    assert ping["parsedSections"]["usnat"][0]["SaleOptOut"] == 1
    events = out["events"]
    assert [(e[0]["eventName"], e[0]["data"], e[1]) for e in events] == [
        ("listenerRegistered", True, True), ("signalStatus", "ready", True)
    ]
    assert out["hasUsnat"] is True
    assert out["hasUsca"] is False
    assert out["hasProto"] is False
    section = out["section"]
    assert isinstance(section, list)
    assert section[0]["SaleOptOut"] == 1
    assert section[0]["SharingOptOut"] == 1
    assert section[0]["TargetedAdvertisingOptOut"] == 1
    assert section[1] == {"SubsectionType": 1, "Gpc": True}
    assert out["noSection"] is None
    assert out["sale"] == 1
    assert out["gpcField"] is True
    assert out["missing"] is None
    assert out["badField"] is None
    assert out["removed"] is True
    assert out["removedAgain"] is False
    assert out["saleAfterMutation"] == 1
    assert out["unknown"] == [None, False]


def test_stub_gpp_without_gpc_records_gpc_false() -> None:
    s = stub_surface(write_gpp=True)
    tag = s.injector.script(decide(s.config, cookie=choice_cookie(True, 1_700_000_000)), None)
    assert tag is not None
    out = run_stub(tag)
    assert out["gpcField"] is False
    assert out["sale"] == 1


def test_stub_does_not_replace_an_existing_api() -> None:
    s = stub_surface(write_gpp=True)
    tag = s.injector.script(decide(s.config, gpc=True), None)
    assert tag is not None
    before = (
        "window.__uspapi = function (c, v, f) { if (f) { f({version: 1, uspString: 'CMP'}, "
        "true); } };"
        "window.__gpp = function (c, f) { if (c === 'ping') { f({gppVersion: 'CMP'}, true); } };"
    )
    out = run_stub(tag, before)
    assert out["usp"] == [{"version": 1, "uspString": "CMP"}, True]
    assert out["ping"] == [{"gppVersion": "CMP"}, True]


# --- several parts, one script --------------------------------------------------------------


class FixedPart:
    """A part with one text, shown to the visitors ``when`` accepts."""

    def __init__(self, name: str, text: str, when: Callable[[Decision], bool]) -> None:
        self.name = name
        self._text = text
        self._when = when

    def text(self, decision: Decision) -> str | None:
        return self._text if self._when(decision) else None

    def texts(self) -> tuple[str, ...]:
        return (self._text,)


GUARD = "window.guardRan=(window.__uspapi?'after-stub':'alone');"


def with_guard(**changes: object) -> Stubs:
    cfg = config(inject_stubs=True, **changes)
    parts = [*injector_for(cfg).parts, FixedPart("guard", GUARD, lambda decision: True)]
    return Stubs(cfg, StubInjector(cfg, None, parts=parts))


def test_parts_in_order_make_one_script_with_one_nonce() -> None:
    s = with_guard()
    assert [part.name for part in s.injector.parts] == ["iab-api-stubs", "guard"]
    tag = s.injector.script(decide(s.config, gpc=True), "script-src 'nonce-n0nce'")
    assert tag is not None
    assert tag.count(b"<script") == 1 and tag.count(b"</script>") == 1
    assert tag.count(b"nonce=") == 1 and tag.startswith(b'<script nonce="n0nce">')
    stub = stub_surface().injector.script(decide(s.config, gpc=True), None)
    assert stub is not None
    assert script_text(tag) == script_text(stub) + GUARD


def test_each_part_keeps_its_own_condition() -> None:
    s = with_guard()
    tag = s.injector.script(decide(s.config), None)  # not opted out: the stub stays out
    assert tag is not None
    assert script_text(tag) == GUARD
    nothing = StubInjector(s.config, None, parts=[
        FixedPart("never", "window.never=1;", lambda decision: False)
    ])
    assert nothing.script(decide(s.config, gpc=True), None) is None
    # Its text never reaches a page, yet a policy naming every possible script lists it.
    assert nothing.sources() == sha256_source("window.never=1;")
    assert StubInjector(config(), None).parts == ()
    assert StubInjector(config(), None).script(decide(config(), gpc=True), None) is None
    assert StubInjector(config(), None).sources() == ""


def test_sources_cover_every_combination_of_parts() -> None:
    s = with_guard(write_gpp=True)
    sources = s.injector.sources().split(" ")
    # The stub's two variants, each with and without the guard, and the guard alone.
    assert len(sources) == len(set(sources)) == 5
    for decision in (decide(s.config, gpc=True), decide(s.config),
                     decide(s.config, cookie=choice_cookie(True, 1_700_000_000))):
        tag = s.injector.script(decision, None)
        assert tag is not None
        assert sha256_source(script_text(tag)) in sources
        allowed = s.injector.script(decision, f"script-src 'self' {s.injector.sources()}")
        assert allowed == tag


def test_combined_parts_run_in_order_in_node() -> None:
    s = with_guard()
    tag = s.injector.script(decide(s.config, gpc=True), None)
    assert tag is not None
    program = script_text(tag) + ";process.stdout.write(window.guardRan)"
    if NODE is None:
        pytest.skip("node is not installed: cannot execute the JavaScript stub")
    result = subprocess.run([NODE, "-e", "var window = {};" + program], capture_output=True,
                            text=True, timeout=30, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "after-stub"
