"""The additional Content-Security-Policy: settings, policy strings, per-response headers.

What browsers do with these policies is judged by Chromium in tests/e2e/test_guard_*.py and
the strings by Google's csp_evaluator in tests/test_csp_evaluator.py. Policies are read back
with the stub module's CSP parser (CSP3 §2.2.1), so each assertion is about directives and
sources, not string layout.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from optout_mw.config import development_config
from optout_mw.csp import (
    CspHeaders,
    CspMode,
    CspPolicy,
    CspSettings,
    InlineScripts,
    build_policy,
    new_nonce,
    private_cache_control,
)
from optout_mw.decision import Decider, Decision
from optout_mw.errors import ConfigError
from optout_mw.guard import GuardScript
from optout_mw.presets import build_ruleset
from optout_mw.rules import Rule, RuleSet
from optout_mw.stubs import csp_nonce, inline_script_permission, parse_csp


def decision(*, gpc: bool) -> Decision:
    return Decider(development_config()).decide(["1"] if gpc else [], None, 0.0)


def directives(policy: str) -> dict[str, list[str]]:
    (parsed,) = parse_csp(policy)
    return parsed


ENFORCE = CspSettings(
    mode=CspMode.ENFORCE,
    script_hosts=("cdn.example.com",),
    connect_hosts=("api.example.com", "wss://live.example.com"),
    frame_hosts=("www.youtube-nocookie.com",),
)


def test_default_policy_allows_self_and_the_known_good_hosts() -> None:
    policy = directives(build_policy(ENFORCE))
    assert policy == {
        "script-src-elem": ["'self'", "cdn.example.com", "'unsafe-inline'"],
        "connect-src": ["'self'", "api.example.com", "wss://live.example.com"],
        "frame-src": ["'self'", "www.youtube-nocookie.com"],
        "object-src": ["'self'", "www.youtube-nocookie.com"],
        "report-uri": ["/privacy/csp-report"],
        "report-to": ["optout-csp"],
    }


@pytest.mark.parametrize("inline", list(InlineScripts))
def test_never_strict_dynamic_nor_wildcards(inline: InlineScripts) -> None:
    settings = CspSettings(mode=CspMode.ENFORCE, inline_scripts=inline, img_hosts=("data:",))
    policy = build_policy(settings, nonce=new_nonce(), inline_sources=["'sha256-AAAA'"])
    sources = [source for values in directives(policy).values() for source in values]
    assert "'strict-dynamic'" not in sources
    assert "*" not in sources and "https:" not in sources and "http:" not in sources


def test_hash_mode_lists_the_middleware_script_and_the_site_hashes() -> None:
    guard = GuardScript(build_ruleset(presets=["all"]))
    assert guard.source is not None
    settings = CspSettings(mode="enforce", inline_scripts="hash",  # type: ignore[arg-type]
                           script_hashes=("'sha256-c2l0ZQ=='",))
    script = directives(build_policy(settings, inline_sources=[guard.source]))["script-src-elem"]
    assert script == ["'self'", guard.source, "'sha256-c2l0ZQ=='"]
    # The policy alone lets the middleware's script run, and nothing else inline.
    assert inline_script_permission(build_policy(settings, inline_sources=[guard.source]),
                                    guard.source) == (True, None)
    assert not inline_script_permission(build_policy(settings), guard.source)[0]


def test_nonce_mode_needs_a_nonce_and_restricts_base() -> None:
    settings = CspSettings(mode=CspMode.ENFORCE, inline_scripts=InlineScripts.NONCE)
    with pytest.raises(ValueError, match="nonce"):
        build_policy(settings)
    policy = directives(build_policy(settings, nonce="R4nd0mR4nd0mR4nd0m=="))
    assert policy["script-src-elem"] == ["'self'", "'nonce-R4nd0mR4nd0mR4nd0m=='"]
    assert policy["base-uri"] == ["'self'"]
    assert "'unsafe-inline'" not in policy["script-src-elem"]


def test_images_are_restricted_only_when_configured() -> None:
    assert "img-src" not in directives(build_policy(ENFORCE))
    settings = CspSettings(mode=CspMode.ENFORCE, img_hosts=("data:", "img.example.com"))
    assert directives(build_policy(settings))["img-src"] == ["'self'", "data:",
                                                             "img.example.com"]
    none = CspSettings(mode=CspMode.ENFORCE, img_hosts=())
    assert directives(build_policy(none))["img-src"] == ["'self'"]


def test_reporting_can_be_reduced_or_switched_off() -> None:
    uri_only = CspSettings(mode=CspMode.REPORT_ONLY, report_group=None)
    policy = directives(build_policy(uri_only))
    assert policy["report-uri"] == ["/privacy/csp-report"] and "report-to" not in policy
    silent = directives(build_policy(CspSettings(mode=CspMode.ENFORCE, report_path=None)))
    assert "report-uri" not in silent and "report-to" not in silent


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        pytest.param("cdn.example.com", "cdn.example.com", id="host"),
        pytest.param(" CDN.Example.COM. ", "cdn.example.com", id="case, spaces, trailing dot"),
        pytest.param("*.example.com", "*.example.com", id="wildcard subdomains"),
        pytest.param("https://api.example.com", "https://api.example.com", id="scheme"),
        pytest.param("WSS://live.example.com:8443", "wss://live.example.com:8443",
                     id="ws scheme and port"),
        pytest.param("api.example.com:*", "api.example.com:*", id="any port"),
        pytest.param("cdn.example.com/js/", "cdn.example.com/js/", id="path"),
        pytest.param("b\u00fccher.example", "xn--bcher-kva.example", id="idn to punycode"),
    ],
)
def test_host_sources_are_normalised(raw: str, stored: str) -> None:
    assert CspSettings(connect_hosts=(raw,)).connect_hosts == (stored,)


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("*", id="wildcard"),
        pytest.param("https:", id="scheme only"),
        pytest.param("'self'", id="keyword"),
        pytest.param("'unsafe-inline'", id="unsafe keyword"),
        pytest.param("'strict-dynamic'", id="strict-dynamic"),
        pytest.param("data:", id="data outside img-src"),
        pytest.param("a.example; script-src *", id="directive injection"),
        pytest.param("a.example b.example", id="two sources in one"),
        pytest.param("a.example,b.example", id="policy injection"),
        pytest.param("ftp://a.example", id="other scheme"),
        pytest.param("a.example:99999", id="port out of range"),
        pytest.param("[::1]", id="ipv6"),
        pytest.param("exa mple.com", id="space in host"),
        pytest.param("", id="empty"),
    ],
)
def test_unusable_host_sources_name_their_key(raw: str) -> None:
    with pytest.raises(ConfigError) as info:
        CspSettings(connect_hosts=("ok.example", raw))
    assert [key for key, _ in info.value.problems] == ["csp.connect_hosts[1]"]


def test_img_hosts_accept_data_and_blob() -> None:
    assert CspSettings(img_hosts=["data:", "BLOB:"]).img_hosts == ("data:", "blob:")  # type: ignore[arg-type]


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(ConfigError) as info:
        CspSettings(
            mode="block",  # type: ignore[arg-type]
            inline_scripts="maybe",  # type: ignore[arg-type]
            script_hosts="cdn.example.com",  # type: ignore[arg-type]
            frame_hosts=(1,),  # type: ignore[arg-type]
            script_hashes=("sha256-x",),
            report_path="csp-report",
            report_group="a group",
        )
    assert sorted(key for key, _ in info.value.problems) == [
        "csp.frame_hosts[0]", "csp.inline_scripts", "csp.mode", "csp.report_group",
        "csp.report_path", "csp.script_hashes[0]", "csp.script_hosts",
    ]
    message = str(info.value)
    assert "expected a list of strings, got a string" in message
    assert "expected one of off, report-only, enforce, got 'block'" in message


def test_from_mapping_takes_lists_and_names_unknown_keys() -> None:
    settings = CspSettings.from_mapping({"mode": "report-only", "script_hosts": ["a.example"]})
    assert settings.mode is CspMode.REPORT_ONLY and settings.script_hosts == ("a.example",)
    with pytest.raises(ConfigError) as info:
        CspSettings.from_mapping({"mod": "enforce", "conect_hosts": []})
    assert info.value.problems == [
        ("csp.mod", "unknown key; did you mean 'mode'?"),
        ("csp.conect_hosts", "unknown key; did you mean 'connect_hosts'?"),
    ]


def test_known_good_hosts_that_are_trackers_are_problems() -> None:
    rules = RuleSet([
        Rule(name="gtm", hosts=("googletagmanager.com",)),
        Rule(name="meta", hosts=("connect.facebook.net",), host_paths=("facebook.com/tr",)),
    ])
    settings = CspSettings(
        script_hosts=("www.googletagmanager.com", "cdn.example.com", "*.facebook.net"),
        connect_hosts=("www.facebook.com", "https://*.googletagmanager.com:443"),
        img_hosts=("data:",),
    )
    assert settings.tracker_problems(rules) == [
        ("csp.script_hosts[0]", "'www.googletagmanager.com' is a tracker host of rule 'gtm'; "
         "an opted-out visitor's page must not reach it"),
        ("csp.script_hosts[2]", "'*.facebook.net' is a tracker host of rule 'meta'; "
         "an opted-out visitor's page must not reach it"),
        ("csp.connect_hosts[1]", "'https://*.googletagmanager.com:443' is a tracker host of "
         "rule 'gtm'; an opted-out visitor's page must not reach it"),
    ]


@given(st.text(max_size=40))
def test_any_host_text_gives_a_safe_source_or_a_config_error(raw: str) -> None:
    try:
        settings = CspSettings(script_hosts=(raw,))
    except ConfigError as error:
        assert [key for key, _ in error.problems] == ["csp.script_hosts[0]"]
        return
    (source,) = settings.script_hosts
    # Nothing that could end a source, a directive or a policy.
    assert not any(ch.isspace() or ch in ";,'\"" for ch in source)
    assert source.isascii()


# --- per-response headers -------------------------------------------------------------------


def test_no_headers_when_off_or_for_opted_in_visitors() -> None:
    assert CspPolicy(CspSettings()).for_response(decision(gpc=True)) is None
    assert CspPolicy(ENFORCE).for_response(decision(gpc=False)) is None


def test_enforced_headers_are_built_once() -> None:
    policy = CspPolicy(ENFORCE)
    first = policy.for_response(decision(gpc=True), "default-src 'self'")
    assert first is not None and first is policy.for_response(decision(gpc=True))
    assert first.enforced and first.nonce is None
    assert first.headers == (
        ("Content-Security-Policy", build_policy(ENFORCE)),
        ("Reporting-Endpoints", 'optout-csp="/privacy/csp-report"'),
    )
    assert first.cache_control("public, max-age=60") is None


def test_report_only_header() -> None:
    settings = CspSettings(mode=CspMode.REPORT_ONLY, report_group=None)
    headers = CspPolicy(settings).for_response(decision(gpc=True))
    assert headers is not None and not headers.enforced
    assert headers.headers == (("Content-Security-Policy-Report-Only", build_policy(settings)),)
    # A report-only policy blocks nothing, so it does not count when adding a script.
    assert headers.effective_csp("script-src 'self'") == "script-src 'self'"
    assert headers.effective_csp(None) is None


def test_nonce_mode_is_fresh_per_response_and_private() -> None:
    settings = CspSettings(mode=CspMode.ENFORCE, inline_scripts=InlineScripts.NONCE)
    policy = CspPolicy(settings)
    one = policy.for_response(decision(gpc=True))
    two = policy.for_response(decision(gpc=True))
    assert one is not None and two is not None
    assert one.nonce and two.nonce and one.nonce != two.nonce
    assert csp_nonce(one.policy) == one.nonce
    assert one.cache_control("public, max-age=600, s-maxage=3600") == "private, max-age=600"
    assert one.cache_control(None) == "private"


def test_nonce_mode_reuses_the_site_nonce() -> None:
    policy = CspPolicy(CspSettings(mode=CspMode.ENFORCE, inline_scripts=InlineScripts.NONCE))
    headers = policy.for_response(decision(gpc=True), "script-src 'nonce-S1teN0nce123'")
    assert headers is not None and headers.nonce == "S1teN0nce123"


@pytest.mark.parametrize("inline", list(InlineScripts))
def test_the_middleware_script_may_be_added_under_both_policies(inline: InlineScripts) -> None:
    guard = GuardScript(build_ruleset(presets=["all"]))
    assert guard.source is not None
    settings = CspSettings(mode=CspMode.ENFORCE, inline_scripts=inline)
    headers = CspPolicy(settings, inline_sources=[guard.source]).for_response(
        decision(gpc=True), "default-src 'self' 'unsafe-inline'"
    )
    assert isinstance(headers, CspHeaders)
    allowed, nonce = inline_script_permission(headers.effective_csp(
        "default-src 'self' 'unsafe-inline'"), guard.source)
    assert allowed
    assert nonce == headers.nonce


@pytest.mark.parametrize(
    ("existing", "expected"),
    [
        pytest.param(None, "private", id="none"),
        pytest.param("", "private", id="empty"),
        pytest.param("public, max-age=60", "private, max-age=60", id="public"),
        pytest.param("max-age=60, S-MAXAGE=600", "private, max-age=60", id="s-maxage"),
        pytest.param("private", "private", id="already private"),
        pytest.param("no-store", "private, no-store", id="no-store kept"),
        pytest.param("no-cache, , must-revalidate", "private, no-cache, must-revalidate",
                     id="empty member"),
    ],
)
def test_private_cache_control(existing: str | None, expected: str) -> None:
    assert private_cache_control(existing) == expected


def test_nonces_are_base64_of_128_bits() -> None:
    nonces = {new_nonce() for _ in range(64)}
    assert len(nonces) == 64
    assert all(len(n) == 24 and csp_nonce(f"script-src 'nonce-{n}'") == n for n in nonces)
