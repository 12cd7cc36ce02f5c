from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optout_mw.errors import ConfigError
from optout_mw.rules import Action, Rule, RuleSet, is_host_marker

GTM = Rule(name="gtm", hosts=("googletagmanager.com",), inline_markers=("'gtm.start'",))
META = Rule(
    name="meta",
    hosts=("connect.facebook.net",),
    host_paths=("facebook.com/tr",),
    inline_markers=("fbq(", "_fbq"),
)
TCO = Rule(name="tco", host_paths=("t.co/i/adsct",), inline_markers=("twq(",))
PREFIXED = Rule(name="prefixed", hosts=("cdn.example",), path_prefixes=("/ads", "/px/"))
IDENTS = Rule(
    name="idents",
    inline_markers=("_linkedin_partner_id", "uetq", "ttq.load(", "qp('init'", "t.co"),
)
RULES = RuleSet([GTM, META, TCO, PREFIXED, IDENTS])


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param("https://googletagmanager.com/gtm.js", "gtm", id="exact host"),
        pytest.param("https://www.googletagmanager.com/gtm.js", "gtm", id="subdomain"),
        pytest.param("https://a.b.c.googletagmanager.com/", "gtm", id="deep subdomain"),
        pytest.param("https://notgoogletagmanager.com/gtm.js", None, id="longer label"),
        pytest.param("https://googletagmanager.com.evil.test/", None, id="host as prefix"),
        pytest.param("https://googletagmanager.co/", None, id="shorter tld"),
        pytest.param("https://evil.test/googletagmanager.com", None, id="host in path"),
        pytest.param("https://evil.test/?u=https://googletagmanager.com", None,
                     id="host in query"),
        pytest.param("https://googletagmanager.com./gtm.js", "gtm", id="trailing dot"),
        pytest.param("https://googletagmanager.com../gtm.js", "gtm", id="two trailing dots"),
        pytest.param("HTTPS://WWW.GOOGLETAGMANAGER.COM/GTM.JS", "gtm", id="uppercase"),
        pytest.param("https://%67oogletagmanager.com/", "gtm", id="percent-encoded"),
        pytest.param("https://googletagmanager\u3002com/", "gtm", id="ideographic dot"),
        pytest.param("https:\\\\www.googletagmanager.com", "gtm", id="backslashes"),
        pytest.param("//www.googletagmanager.com/gtm.js", "gtm", id="protocol relative"),
        pytest.param("https://x@www.googletagmanager.com/", "gtm", id="userinfo"),
        pytest.param("https://googletagmanager.com@evil.test/", None,
                     id="tracker in userinfo only"),
        pytest.param("https://www.googletagmanager.com:443/gtm.js", "gtm", id="port"),
        pytest.param("/gtm.js", None, id="relative is first-party"),
        pytest.param("javascript:void(0)", None, id="javascript url"),
        pytest.param("", None, id="empty"),
        pytest.param("https://connect.facebook.net/en_US/fbevents.js", "meta", id="meta sdk"),
        pytest.param("https://www.facebook.com/tr?id=1&ev=PageView", "meta", id="meta tr"),
        pytest.param("https://www.facebook.com/tr/?id=1", "meta", id="meta tr slash"),
        pytest.param("https://facebook.com/tr", "meta", id="meta tr apex"),
        pytest.param("https://www.facebook.com/x/../tr?id=1", "meta", id="dot segments"),
        pytest.param("https://www.facebook.com/%74r?id=1", "meta",
                     id="percent-encoded unreserved in path"),
        pytest.param("https://www.facebook.com/acme", None, id="facebook page"),
        pytest.param("https://www.facebook.com/track", None, id="segment boundary"),
        pytest.param("https://www.facebook.com/TR?id=1", None, id="path is case-sensitive"),
        pytest.param("https://t.co/i/adsct?txn_id=1", "tco", id="t.co pixel"),
        pytest.param("https://t.co/AbCdEf", None, id="t.co short link"),
        pytest.param("https://cdn.example/ads/banner.js", "prefixed", id="prefix match"),
        pytest.param("https://cdn.example/ads", "prefixed", id="prefix exact"),
        pytest.param("https://cdn.example/px/1.gif", "prefixed", id="prefix with slash"),
        pytest.param("https://cdn.example/pxl", None, id="prefix with slash is literal"),
        pytest.param("https://cdn.example/adsense", None, id="prefix on segment boundary"),
        pytest.param("https://cdn.example/app.js", None, id="other path"),
    ],
)
def test_match_url(url: str, expected: str | None) -> None:
    rule = RULES.match_url(url)
    assert (rule.name if rule else None) == expected


@pytest.mark.parametrize(
    ("url", "base", "expected"),
    [
        pytest.param("gtm.js", "https://www.googletagmanager.com/", "gtm",
                     id="relative resolves to tracker base"),
        pytest.param("/tr?id=1", "https://www.facebook.com/page", "meta",
                     id="root relative keeps base host"),
        pytest.param("app.js", "/static/", None, id="relative base"),
        pytest.param("//www.googletagmanager.com/gtm.js", "http://shop.example/", "gtm",
                     id="protocol relative with base"),
        pytest.param("https://www.googletagmanager.com/", "not a url", "gtm",
                     id="absolute ignores bad base"),
    ],
)
def test_match_url_with_base(url: str, base: str, expected: str | None) -> None:
    rule = RULES.match_url(url, base)
    assert (rule.name if rule else None) == expected


def test_first_rule_in_order_wins() -> None:
    broad = Rule(name="broad", hosts=("example.com",))
    narrow = Rule(name="narrow", hosts=("ads.example.com",))
    first = RuleSet([broad, narrow]).match_url("https://ads.example.com/x")
    second = RuleSet([narrow, broad]).match_url("https://ads.example.com/x")
    assert first is not None and first.name == "broad"
    assert second is not None and second.name == "narrow"


def test_rule_hosts_are_normalised() -> None:
    rules = RuleSet([Rule(name="r", hosts=("*.B\u00fccher.Example.",))])
    assert rules.match_url("https://shop.xn--bcher-kva.example/") is not None
    assert rules.match_url("https://b\u00fccher.example/") is not None


def test_invalid_rule_host_raises_config_error() -> None:
    with pytest.raises(ConfigError) as info:
        RuleSet([Rule(name="bad", hosts=("exa mple.com",), host_paths=("nopath",))])
    keys = [key for key, _ in info.value.problems]
    assert keys == ["rule 'bad'.hosts", "rule 'bad'.host_paths"]


def test_url_verdicts_are_remembered_transparently() -> None:
    # Its bound is BoundedCache's (tests/test_cache.py); here: answers do not change when
    # remembered, nor when many URLs have pushed older ones out.
    rules = RuleSet([GTM])
    first = rules.match_url("https://www.googletagmanager.com/gtm.js")
    for i in range(10_000):
        assert rules.match_url(f"https://cdn{i}.example/app.js") is None
    hit = rules.match_url("https://www.googletagmanager.com/gtm.js")
    assert hit is first
    assert hit is not None and hit.name == "gtm"
    assert rules.match_url("https://www.googletagmanager.com/gtm.js") is hit


def test_empty_ruleset() -> None:
    empty = RuleSet([])
    assert not empty
    assert bool(RULES)
    assert empty.match_url("https://www.googletagmanager.com/") is None
    assert empty.match_inline("fbq('init')") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("fbq('init', '123');", "meta", id="call"),
        pytest.param("window.fbq('track','PageView')", "meta", id="method call"),
        pytest.param("fbq ( 'init' )", "meta", id="space before paren"),
        pytest.param("if(!f._fbq)f._fbq=n;", "meta", id="identifier marker"),
        pytest.param("myfbq('init')", None, id="identifier prefix"),
        pytest.param("$fbq('init')", None, id="dollar prefix"),
        pytest.param("fbqueue.push(1)", None, id="no paren"),
        pytest.param("var _fbqx = 1;", None, id="identifier suffix"),
        pytest.param("document.cookie = 'a=b'", None, id="t.co inside document.cookie"),
        pytest.param("see t.co for links", "idents", id="host marker alone"),
        pytest.param("var u = 'https://t.co/abc';", "idents", id="host marker in url"),
        pytest.param("x.t.co.uk", None, id="host marker followed by label"),
        pytest.param("window.uetq = window.uetq || [];", "idents", id="uetq"),
        pytest.param("uetqueue.push(1)", None, id="uetq as prefix"),
        pytest.param("_linkedin_partner_id = '1';", "idents", id="linkedin"),
        pytest.param("my_linkedin_partner_id = 1", None, id="linkedin with prefix"),
        pytest.param("ttq.load('ID');", "idents", id="dotted call"),
        pytest.param("ttq . load ('ID')", "idents", id="dotted call with spaces"),
        pytest.param('qp("init", "x")', "idents", id="double quotes match single"),
        pytest.param("qp(`init`)", "idents", id="backtick quote"),
        pytest.param("qp(name)", None, id="qp with other argument"),
        pytest.param("w[l].push({'gtm.start': new Date().getTime()})", "gtm",
                     id="quoted marker"),
        pytest.param("j.src='https://www.googletagmanager.com/gtm.js?id='+i", "gtm",
                     id="rule host in url"),
        pytest.param("j.src='//WWW.GoogleTagManager.com/gtm.js'", "gtm",
                     id="rule host in url uppercase"),
        pytest.param('{"u":"https:\\/\\/www.googletagmanager.com\\/gtm.js"}', "gtm",
                     id="rule host in json-escaped url"),
        pytest.param("var host = 'googletagmanager.com';", None,
                     id="rule host outside a url"),
        pytest.param("'https://notgoogletagmanager.com/x'", None, id="longer label in url"),
        pytest.param("'https://googletagmanager.com.evil.test/x'", None,
                     id="rule host as prefix in url"),
        pytest.param('"sameAs": ["https://www.facebook.com/acme"]', None,
                     id="facebook page in json-ld"),
        pytest.param("<img src=\"https://www.facebook.com/tr?id=1&ev=PageView\">", "meta",
                     id="noscript pixel"),
        pytest.param("<img src=\"https:&#x2F;&#x2F;www.facebook.com&#x2F;tr?id=1\">", "meta",
                     id="noscript pixel with character references"),
        pytest.param("'https://t.co/i/adsct?p=1'", "tco", id="t.co pixel path"),
        pytest.param("'https://t.co/AbC'", "idents",
                     id="t.co short link only hits the plain host marker"),
        pytest.param("", None, id="empty"),
    ],
)
def test_match_inline(text: str, expected: str | None) -> None:
    rule = RULES.match_inline(text)
    assert (rule.name if rule else None) == expected


def test_inline_first_rule_in_order_wins() -> None:
    text = "twq('config','x'); fbq('init','1');"
    rule = RULES.match_inline(text)
    assert rule is not None and rule.name == "meta"  # META precedes TCO in RULES


def test_inline_large_json_without_markers() -> None:
    blob = '{"items": [' + ",".join(
        f'{{"id": {i}, "url": "https://shop.example/p/{i}", "name": "gtagManager {i}"}}'
        for i in range(5000)
    ) + "]}"
    assert RULES.match_inline(blob) is None
    assert RULES.match_inline(blob + ";fbq('init','1')") is META


@pytest.mark.parametrize(
    ("marker", "expected"),
    [
        pytest.param("t.co", True, id="short host"),
        pytest.param("googletagmanager.com/gtm.js", True, id="host with path"),
        pytest.param("fbq(", False, id="call"),
        pytest.param("_linkedin_partner_id", False, id="identifier"),
        pytest.param("ttq.load(", False, id="method call"),
        pytest.param("analytics.SNIPPET_VERSION", False, id="underscore makes it code"),
    ],
)
def test_is_host_marker(marker: str, expected: bool) -> None:
    assert is_host_marker(marker) is expected


def test_action_values() -> None:
    assert Action("strip") is Action.STRIP
    assert Action("block") is Action.BLOCK
    assert Rule(name="x").action is Action.STRIP


# --- properties ------------------------------------------------------------------------

_LABEL = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)
_RULE_HOSTS = ["googletagmanager.com", "connect.facebook.net", "t.co", "bat.bing.com"]
_PROPERTY_RULES = RuleSet([Rule(name=h, hosts=(h,)) for h in _RULE_HOSTS])


@settings(max_examples=300)
@given(st.lists(_LABEL, max_size=4), st.sampled_from(_RULE_HOSTS))
def test_subdomains_always_match(labels: list[str], host: str) -> None:
    url = "https://" + ".".join([*labels, host]) + "/x.js"
    rule = _PROPERTY_RULES.match_url(url)
    assert rule is not None and rule.name == host


@settings(max_examples=300)
@given(_LABEL, st.sampled_from(_RULE_HOSTS))
def test_glued_label_never_matches(label: str, host: str) -> None:
    url = f"https://{label}{host}/x.js"
    rule = _PROPERTY_RULES.match_url(url)
    # A glued label can only match when it recreates another rule host exactly.
    assert rule is None or rule.name != host or f"{label}{host}" == host


@settings(max_examples=300)
@given(st.text(), st.one_of(st.none(), st.text()))
def test_match_url_never_raises(url: str, base: str | None) -> None:
    rule = RULES.match_url(url, base)
    assert rule is None or rule in RULES.rules


@settings(max_examples=300)
@given(st.text())
def test_match_inline_never_raises(text: str) -> None:
    rule = RULES.match_inline(text)
    assert rule is None or rule in RULES.rules


@settings(max_examples=200)
@given(st.text(alphabet=st.characters(codec="ascii")), st.sampled_from(["fbq(", "twq("]))
def test_marker_found_anywhere_after_a_separator(prefix: str, marker: str) -> None:
    text = prefix + ";" + marker + "'init')"
    assert RULES.match_inline(text) is not None
