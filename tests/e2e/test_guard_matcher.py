"""The guard's matcher and the server's rule set give the same verdict, judged in Chromium.

The same URLs (each resolved against a document base, as ``document.baseURI`` gives the
guard and ``base_url`` gives ``RuleSet.match_url``) and the same inline texts go through
both; every verdict must be the same rule (or none). Besides the hand-made tables, a fixed
seed draws a few thousand strings from the characters that make URL parsing hard.
"""

from __future__ import annotations

import random

import pytest
from playwright.sync_api import Page

from optout_mw.guard import build_guard
from optout_mw.presets import build_ruleset
from optout_mw.rules import Rule, RuleSet

from .conftest import Browser

RULES = RuleSet([
    Rule(name="gtm", hosts=("googletagmanager.com",), inline_markers=("'gtm.start'",)),
    Rule(name="meta", hosts=("connect.facebook.net",), host_paths=("facebook.com/tr",),
         inline_markers=("fbq(", "_fbq")),
    Rule(name="tco", host_paths=("t.co/i/adsct",), inline_markers=("twq(",)),
    Rule(name="prefixed", hosts=("cdn.example",), path_prefixes=("/ads", "/px/", "/%7Eu")),
    Rule(name="idn", hosts=("*.B\u00fccher.example.",)),
    Rule(name="broad", hosts=("facebook.com", "pixel.example")),
    Rule(name="idents", inline_markers=("_linkedin_partner_id", "uetq", "ttq.load(",
                                        "qp('init'", "t.co", "tracker.example/collect")),
])

BASES = ["https://shop.example/dir/page.html", "http://shop.example/", "https://cdn.example/x/"]

URLS = [
    "https://googletagmanager.com/gtm.js", "https://www.googletagmanager.com/gtm.js",
    "https://a.b.c.googletagmanager.com/", "https://notgoogletagmanager.com/gtm.js",
    "https://googletagmanager.com.evil.test/", "https://googletagmanager.co/",
    "https://evil.test/googletagmanager.com", "https://evil.test/?u=https://googletagmanager.com",
    "https://googletagmanager.com./gtm.js", "https://googletagmanager.com../gtm.js",
    "HTTPS://WWW.GOOGLETAGMANAGER.COM/GTM.JS", "https://%67oogletagmanager.com/",
    "https://googletagmanager\u3002com/", "https://googletagmanager\uff0ecom/",
    "https://\uff47oogletagmanager.com/", "https://goo\u00adgletagmanager.com/",
    "https:\\\\www.googletagmanager.com", "https:/www.googletagmanager.com/",
    "https:///www.googletagmanager.com/", "//www.googletagmanager.com/gtm.js",
    "\\\\www.googletagmanager.com/x", " \t https://www.googletagmanager.com/ \n",
    "https://www.google\ttagmanager.com/", "https://x@www.googletagmanager.com/",
    "https://a:b@c@www.googletagmanager.com/", "https://googletagmanager.com@evil.test/",
    "https://www.googletagmanager.com:443/gtm.js", "https://www.googletagmanager.com:99999/",
    "https://www.googletagmanager.com:x/", "http:www.googletagmanager.com/",
    "https:www.googletagmanager.com/", "/gtm.js", "gtm.js", "./x/../gtm.js", "?q", "#f", "",
    "javascript:void('https://www.googletagmanager.com')", "data:text/html,x",
    "blob:https://www.googletagmanager.com/u", "about:blank", "mailto:a@googletagmanager.com",
    "ftp://googletagmanager.com/", "ws://googletagmanager.com/", "wss://a.googletagmanager.com/s",
    "file://googletagmanager.com/x", "git://googletagmanager.com/", "http://[::1]/",
    "http://0x7f.1/", "http://127.0.0.1/", "http://2130706433/",
    "https://connect.facebook.net/en_US/fbevents.js", "https://www.facebook.com/tr?id=1",
    "https://www.facebook.com/tr/?id=1", "https://facebook.com/tr", "https://facebook.com/trx",
    "https://www.facebook.com/x/../tr?id=1", "https://www.facebook.com/x/%2e%2e/tr",
    "https://www.facebook.com/x/.%2E/tr", "https://www.facebook.com/%74r?id=1",
    "https://www.facebook.com/%2574r", "https://www.facebook.com/acme",
    "https://www.facebook.com/track", "https://www.facebook.com/TR?id=1",
    "https://www.facebook.com//tr", "https://www.facebook.com/tr%2F", "https://t.co/i/adsct?x",
    "https://t.co/i/adsctx", "https://t.co/AbCdEf", "https://cdn.example/ads/banner.js",
    "https://cdn.example/ads", "https://cdn.example/px/1.gif", "https://cdn.example/pxl",
    "https://cdn.example/adsense", "https://cdn.example/app.js", "https://cdn.example/~u/x",
    "https://cdn.example/%7eu", "https://cdn.example/%7Eu", "https://cdn.example/a%64s",
    "https://cdn.example/ads%2Fx", "https://cdn.example/ads;x", "https://cdn.example/ads?x",
    "https://cdn.example/ads#x", "https://cdn.example/ADS", "ads/x", "/ads", "../ads/x",
    "https://shop.xn--bcher-kva.example/", "https://b\u00fccher.example/",
    "https://B\u00dcCHER.example/", "https://xn--bcher-kva.example./", "https://bucher.example/",
    "https://pixel.example/p.gif", "https://sub.pixel.example/p", "https://pixel.example.com/",
]

TEXTS = [
    "fbq('init', '123');", "window.fbq('track','PageView')", "fbq ( 'init' )",
    "if(!f._fbq)f._fbq=n;", "myfbq('init')", "$fbq('init')", "fbqueue.push(1)", "var _fbqx=1;",
    "document.cookie = 'a=b'", "see t.co for links", "var u = 'https://t.co/abc';", "x.t.co.uk",
    "window.uetq = window.uetq || [];", "uetqueue.push(1)", "_linkedin_partner_id = '1';",
    "my_linkedin_partner_id = 1", "ttq.load('ID');", "ttq . load ('ID')", 'qp("init", "x")',
    "qp(`init`)", "qp(name)", "w[l].push({'gtm.start': new Date().getTime()})",
    "j.src='https://www.googletagmanager.com/gtm.js?id='+i",
    "j.src='//WWW.GoogleTagManager.com/gtm.js'",
    '{"u":"https:\\/\\/www.googletagmanager.com\\/gtm.js"}',
    "var host = 'googletagmanager.com';", "'https://notgoogletagmanager.com/x'",
    "'https://googletagmanager.com.evil.test/x'", '"sameAs": ["https://www.facebook.com/acme"]',
    '<img src="https://www.facebook.com/tr?id=1&ev=PageView">',
    '<img src="https:&#x2F;&#x2F;www.facebook.com&#x2F;tr?id=1">',
    "<img src=https&colon;&sol;&sol;www.facebook.com&sol;tr>", "&#104;ttps://t.co/i/adsct",
    "'https://t.co/i/adsct?p=1'", "'https://t.co/AbC'", "", "TRACKER.EXAMPLE/COLLECT?x",
    "tracker.example/collectx", "tracker.example\\/collect", "//a.cdn.example/ads/x",
    "//cdn.example/app.js //www.facebook.com/page //www.facebook.com/tr",
    "//www.facebook.com/tr //www.facebook.com/page", "fbq(\u2003'init')", "fbq(\ufeff'init')",
    "fbq(\x1c'init')", "fbq(\u0085'init')", "twq('config'); fbq('init');",
    "//user@connect.facebook.net/x", "//connect.facebook.net:443/x",
]


def python_verdicts(rules: RuleSet, urls: list[str], base: str) -> list[str | None]:
    return [(r.name if (r := rules.match_url(url, base)) else None) for url in urls]


def js_verdicts(page: Page, urls: list[str], base: str) -> list[str | None]:
    found: list[str | None] = page.evaluate(
        "([urls, base]) => { document.querySelector('base').href = base;"
        " return urls.map(u => __optoutGuard.match(u)); }", [urls, base])
    return found


def guard_page(page: Page, rules: RuleSet) -> None:
    page.set_content("<!doctype html><base href='https://shop.example/'>"
                     f"<script>{build_guard(rules)}</script>")


def differences(urls: list[str], python: list[str | None],
                js: list[str | None]) -> list[tuple[str, str | None, str | None]]:
    return [(u, p, j) for u, p, j in zip(urls, python, js, strict=True) if p != j]


@pytest.mark.parametrize("base", BASES)
def test_url_verdicts_agree(browser: Browser, base: str) -> None:
    with browser() as context:
        page = context.pages[0]
        guard_page(page, RULES)
        diff = differences(URLS, python_verdicts(RULES, URLS, base), js_verdicts(page, URLS, base))
    assert diff == []


def test_inline_verdicts_agree(browser: Browser) -> None:
    with browser() as context:
        page = context.pages[0]
        guard_page(page, RULES)
        js = page.evaluate("texts => texts.map(t => __optoutGuard.inline(t))", TEXTS)
    python = [(r.name if (r := RULES.match_inline(t)) else None) for t in TEXTS]
    assert differences(TEXTS, python, js) == []
    # The tables are not trivial: both kinds of verdict occur.
    assert None in python and len({v for v in python if v}) >= 5


def generated_url(draw: random.Random) -> str:
    """A URL from a small grammar of the parts that make parsing hard, each part perturbed."""
    pick = draw.choice
    scheme = pick(["https:", "http:", "HTTPS:", "wss:", "ftp:", "", "", "javascript:", "git:"])
    slashes = pick(["//", "//", "/", "///", "\\\\", "/\\", "", "\t//"])
    userinfo = pick(["", "", "", "", "", "u@", "u:p@", "googletagmanager.com@", "a@b@"])
    sub = pick(["", "www.", "a.b.", "sub.", "WWW.", "x\u00ad"])
    name = pick(["googletagmanager", "facebook", "pixel", "b\u00fccher", "xn--bcher-kva", "cdn",
                 "t", "notgoogletagmanager", "connect.facebook", "%67oogletagmanager"])
    tld = pick([".com", ".example", ".co", ".net", ".com.", "\u3002com", ".com.evil.test",
                "%2ecom", ""])
    port = pick(["", "", "", "", ":443", ":8080", ":x", ":99999"])
    pieces = ["/", "tr", "ads", "px/", "i/", "adsct", "..", ".", "%2e", "%74r", "x", "~u",
              "%7Eu", "/./", "\\", "TR", "%2F"]
    path = pick(["/", "/", "", "\\"]) + "".join(draw.choices(pieces, k=draw.randint(0, 5)))
    tail = pick(["", "", "?q=1", "#f", "?x=https://googletagmanager.com/"])
    return scheme + slashes + userinfo + sub + name + tld + port + path + tail


TEXT_PIECES = [
    "fbq", "(", ")", "'", '"', "`", " ", "\u2003", "\x1c", "_fbq", "uetq", "ttq", ".", "load",
    "qp", "init", "t.co", "//", "\\/", "https:", "www.facebook.com", "/tr", "/page",
    "googletagmanager.com", "tracker.example", "/collect", "&#x2F;", "&sol;", "&colon;", "x",
    "$", "_", "-", "gtm.start", "i/adsct", "cdn.example/ads", "@", ":443", "\n",
]


@pytest.mark.parametrize("seed", [1, 2])
def test_generated_inputs_agree(browser: Browser, seed: int) -> None:
    draw = random.Random(seed)
    urls = [generated_url(draw) for _ in range(2000)]
    texts = ["".join(draw.choices(TEXT_PIECES, k=draw.randint(1, 12))) for _ in range(2000)]
    rules = RuleSet([*RULES.rules, *build_ruleset(presets=["all"]).rules])
    with browser() as context:
        page = context.pages[0]
        guard_page(page, rules)
        js_urls = js_verdicts(page, urls, BASES[0])
        js_texts = page.evaluate("texts => texts.map(t => __optoutGuard.inline(t))", texts)
    py_urls = python_verdicts(rules, urls, BASES[0])
    py_texts = [(r.name if (r := rules.match_inline(t)) else None) for t in texts]
    assert differences(urls, py_urls, js_urls) == []
    assert differences(texts, py_texts, js_texts) == []
    # Not a trivial agreement: many inputs are trackers, of several rules.
    for verdicts in (py_urls, py_texts):
        assert sum(v is not None for v in verdicts) > 100 and len(set(verdicts)) > 4
