"""The guard's builder: deterministic text, the data its matcher gets, the part interface.

What the script does in a browser is judged by Chromium in tests/e2e/test_guard_*.py; the
matcher's verdicts against the Python rule set there too. Here: what can be checked without
a browser, including the translated marker expressions run by Python's own ``re`` (their
constructs mean the same in both engines) against ``RuleSet.match_inline``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optout_mw.config import development_config
from optout_mw.decision import Decider, Decision
from optout_mw.errors import ConfigError
from optout_mw.guard import GuardScript, build_guard, guard_data, guard_template
from optout_mw.guard._build import PY_WHITESPACE
from optout_mw.presets import build_ruleset
from optout_mw.rules import Rule, RuleSet
from optout_mw.stubs import inline_script_permission, sha256_source

GUARD_JS = Path(__file__).resolve().parents[1] / "src" / "optout_mw" / "guard" / "guard.js"

RULES = RuleSet([
    Rule(name="ads", hosts=("ADS.Example.", "*.pixel.example")),
    Rule(name="meta", hosts=("connect.facebook.net",), host_paths=("facebook.com/tr",),
         inline_markers=("fbq(", "_fbq")),
    Rule(name="paths", hosts=("cdn.example",), path_prefixes=("/ads", "px/")),
    Rule(name="idn", hosts=("b\u00fccher.example",)),
    Rule(name="idents", inline_markers=("_linkedin_partner_id", "uetq", "ttq.load(",
                                        "qp('init'", "t.co", "tracker.example/collect",
                                        "a b", ".push(")),
])


def decision(*, gpc: bool) -> Decision:
    """A real decision: a visitor sending GPC, or sending nothing."""
    return Decider(development_config()).decide(["1"] if gpc else [], None, 0.0)


def opted_out() -> Decision:
    found = decision(gpc=True)
    assert not found.sale_permitted
    return found


def test_same_rules_give_the_same_text() -> None:
    again = RuleSet(list(RULES.rules))
    assert build_guard(RULES) == build_guard(again)
    assert GuardScript(RULES).source == GuardScript(again).source


def test_the_text_depends_on_the_rules_and_options() -> None:
    base = build_guard(RULES)
    assert build_guard(RuleSet(RULES.rules[:-1])) != base
    assert build_guard(RULES, report_path="/r") != base
    assert build_guard(RULES, attr_prefix="data-x-") != base


def test_text_is_safe_inside_a_script_element() -> None:
    evil = RuleSet([Rule(name="e", inline_markers=("</script><!--x\u2028",))])
    text = build_guard(evil)
    assert "</script" not in text.lower() and "<!--" not in text
    assert "\u2028" not in text


def test_template_is_guard_js_without_comments_or_indentation() -> None:
    template = guard_template()
    assert "__DATA__" in template
    source_lines = [line.strip() for line in GUARD_JS.read_text().splitlines()]
    code = [line for line in source_lines if line and not line.startswith("//")]
    assert template.splitlines() == code
    # The compaction is only safe while no code line starts with "//".
    assert not any(line.startswith("//") for line in template.splitlines())


def test_template_size_budget() -> None:
    # The guard is sent inline in every opted-out page; docs/guard.md has its figures.
    assert len(guard_template()) <= 11_500


def test_guard_data_restates_the_rules_in_order() -> None:
    data = guard_data(RULES)
    assert data["r"] == ["ads", "meta", "paths", "idn", "idents"]
    assert data["h"] == [
        ("ads.example", 0, 0),
        ("pixel.example", 0, 0),
        ("connect.facebook.net", 0, 1),
        ("facebook.com", ["/tr"], 1),
        ("cdn.example", ["/ads", "/px/"], 2),
        ("xn--bcher-kva.example", 0, 3),
    ]
    kinds = [(flag, index) for _source, flag, index in data["m"]]
    assert kinds == [(0, 1), (0, 1), (0, 4), (0, 4), (0, 4), (0, 4), (1, 4), (1, 4), (0, 4),
                     (0, 4)]


def _python_pattern(source: str) -> re.Pattern[str]:
    """A guard marker expression with its placeholders expanded, for Python's ``re``."""
    ws = "[" + re.escape(PY_WHITESPACE) + "]"
    return re.compile(source.replace("\x01", ws).replace("\x02", "A-Za-z0-9_$"))


def _markers_only(text: str, rules: RuleSet) -> str | None:
    data = guard_data(rules)
    best: int | None = None
    for source, lowered, index in data["m"]:
        haystack = text.lower() if lowered else text
        if _python_pattern(source).search(haystack) and (best is None or index < best):
            best = index
    return rules.rules[best].name if best is not None else None


MARKER_TEXTS = [
    "fbq('init', '1')", "window.fbq('track')", "fbq ( 'init' )", "myfbq('x')", "$fbq(1)",
    "if(!f._fbq)f._fbq=n;", "var _fbqx=1", "uetq", "uetqueue", "x.uetq=[]",
    "_linkedin_partner_id = 1", "my_linkedin_partner_id", "ttq.load('x')", "ttq . load ('x')",
    'qp("init")', "qp(`init`)", "qp(name)", "see t.co now", "document.cookie", "x.t.co.uk",
    "t.coffee", "TRACKER.EXAMPLE/COLLECT?x", "tracker.example/collectx",
    "tracker.example\\/collect", "a  b", "ab", "a\u2003b", "a\ufeffb", "a\x1cb", "x.push(1)",
    "x . push ( 1)", "fbq(\u0085'x')", "",
]


@pytest.mark.parametrize("text", MARKER_TEXTS)
def test_translated_markers_match_as_the_rule_set_does(text: str) -> None:
    markers_only = RuleSet([
        Rule(name=r.name, inline_markers=r.inline_markers) for r in RULES.rules
    ])
    expected = markers_only.match_inline(text)
    assert _markers_only(text, markers_only) == (expected.name if expected else None)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="fbq()'\"` ._$tcoa\u2003\ufeff\x1c\n-uelinkdpshr/\\", max_size=24))
def test_translated_markers_agree_on_generated_text(text: str) -> None:
    markers_only = RuleSet([
        Rule(name=r.name, inline_markers=r.inline_markers) for r in RULES.rules
    ])
    expected = markers_only.match_inline(text)
    assert _markers_only(text, markers_only) == (expected.name if expected else None)


def test_python_whitespace_is_what_re_calls_whitespace() -> None:
    matched = {chr(c) for c in range(0x110000) if re.match(r"\s", chr(c))}
    assert set(PY_WHITESPACE) == matched


def test_guard_js_whitespace_class_is_python_whitespace() -> None:
    m = re.search(r"var WS = '\[(.*?)\]';", GUARD_JS.read_text())
    assert m is not None
    js_class = m.group(1).encode().decode("unicode_escape")  # the JS string's value
    chars: set[str] = set()
    for part in re.finditer(r"(\\[trnfv]|\\x[0-9a-f]{2}|\\u[0-9a-f]{4}|.)(?:-(\\[trnfv]|"
                            r"\\x[0-9a-f]{2}|\\u[0-9a-f]{4}|.))?", js_class):
        lo, hi = (_js_char(p) for p in (part.group(1), part.group(2) or part.group(1)))
        chars.update(chr(c) for c in range(ord(lo), ord(hi) + 1))
    assert chars == set(PY_WHITESPACE)


def _js_char(escape: str) -> str:
    simple = {"\\t": "\t", "\\r": "\r", "\\n": "\n", "\\f": "\f", "\\v": "\v"}
    if escape in simple:
        return simple[escape]
    if escape.startswith(("\\x", "\\u")):
        return chr(int(escape[2:], 16))
    return escape


def test_part_interface() -> None:
    guard = GuardScript(RULES)
    assert guard.name == "guard"
    assert guard.text(decision(gpc=False)) is None
    text = guard.text(opted_out())
    assert text == build_guard(RULES)
    assert guard.texts() == (text,)
    assert guard.source == sha256_source(text)
    assert guard.size == len(text.encode())


def test_nothing_to_guard_gives_no_text() -> None:
    for rules in (RuleSet([]), RuleSet([Rule(name="x", hosts=())])):
        guard = GuardScript(rules)
        assert guard.text(opted_out()) is None
        assert guard.texts() == ()
        assert guard.source is None and guard.size == 0


def test_markers_alone_are_something_to_guard() -> None:
    guard = GuardScript(RuleSet([Rule(name="m", inline_markers=("fbq(",))]))
    assert guard.text(opted_out()) is not None


def test_a_page_csp_allowing_the_hash_allows_the_guard() -> None:
    guard = GuardScript(RULES)
    assert guard.source is not None
    allowed, _nonce = inline_script_permission(f"script-src 'self' {guard.source}",
                                               guard.source)
    assert allowed


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        pytest.param({"report_path": "privacy/r"}, "guard.report_path", id="relative path"),
        pytest.param({"report_path": "//evil.test/r"}, "guard.report_path", id="network path"),
        pytest.param({"report_path": "/a b"}, "guard.report_path", id="space"),
        pytest.param({"report_path": "/a\"b"}, "guard.report_path", id="quote"),
        pytest.param({"attr_prefix": "data-"}, None, id="short prefix is fine"),
        pytest.param({"attr_prefix": "Data-X-"}, "block_attr_prefix", id="uppercase prefix"),
        pytest.param({"attr_prefix": "data-x"}, "block_attr_prefix", id="no trailing dash"),
    ],
)
def test_option_problems_name_the_key(kwargs: dict[str, str], key: str | None) -> None:
    if key is None:
        assert build_guard(RULES, **kwargs)
        return
    with pytest.raises(ConfigError) as info:
        build_guard(RULES, **kwargs)
    assert [k for k, _ in info.value.problems] == [key]


def test_no_report_path_means_no_endpoint() -> None:
    assert '"e":""' in build_guard(RULES, report_path=None)
    assert '"e":"/privacy/csp-report"' in build_guard(RULES)


def test_every_preset_builds() -> None:
    rules = build_ruleset(presets=["all"])
    data = guard_data(rules)
    assert len(data["r"]) == len(rules.rules)
    assert data["h"] and data["m"]
    assert len(build_guard(rules)) < len(guard_template()) + 8_000
