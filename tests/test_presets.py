from __future__ import annotations

import re

import pytest

from optout_mw.config import rule_from_mapping
from optout_mw.errors import ConfigError
from optout_mw.presets import PRESETS, build_ruleset, preset_names
from optout_mw.rules import Action, Rule, RuleSet

# Vendor install snippets as documented (IDs replaced, long loaders abbreviated), each
# with the URLs the snippet makes a browser fetch (script src, noscript pixel).
SNIPPETS: dict[str, tuple[str, list[str]]] = {
    "google-tag-manager": (
        "(function(w,d,s,l,i){w[l]=w[l]||[];w[l].push({'gtm.start':\n"
        "new Date().getTime(),event:'gtm.js'});var f=d.getElementsByTagName(s)[0],\n"
        "j=d.createElement(s),dl=l!='dataLayer'?'&l='+l:'';j.async=true;j.src=\n"
        "'https://www.googletagmanager.com/gtm.js?id='+i+dl;f.parentNode.insertBefore(j,f);\n"
        "})(window,document,'script','dataLayer','GTM-XXXXXX');",
        [
            "https://www.googletagmanager.com/gtm.js?id=GTM-XXXXXX",
            "https://www.googletagmanager.com/ns.html?id=GTM-XXXXXX",
        ],
    ),
    "google-analytics": (
        "window.dataLayer = window.dataLayer || [];\n"
        "function gtag(){dataLayer.push(arguments);}\n"
        "gtag('js', new Date());\ngtag('config', 'G-XXXXXXX');",
        [
            "https://www.googletagmanager.com/gtag/js?id=G-XXXXXXX",
            "https://www.google-analytics.com/analytics.js",
            "https://region1.google-analytics.com/g/collect?v=2",
        ],
    ),
    "google-ads": (
        "var google_conversion_id = 123456789;\nvar google_remarketing_only = true;",
        [
            "https://www.googleadservices.com/pagead/conversion.js",
            "https://googleads.g.doubleclick.net/pagead/viewthroughconversion/123/?guid=ON",
            "https://pagead2.googlesyndication.com/pagead/js/adsbygoogle.js",
            "https://www.google.com/pagead/1p-conversion/123/",
            "https://www.googletagmanager.com/gtag/js?id=AW-123",
        ],
    ),
    "meta-pixel": (
        "!function(f,b,e,v,n,t,s)\n{if(f.fbq)return;n=f.fbq=function(){n.callMethod?\n"
        "n.callMethod.apply(n,arguments):n.queue.push(arguments)};\n"
        "if(!f._fbq)f._fbq=n;n.push=n;n.loaded=!0;n.version='2.0';\n"
        "n.queue=[];t=b.createElement(e);t.async=!0;\n"
        "t.src=v;s=b.getElementsByTagName(e)[0];\n"
        "s.parentNode.insertBefore(t,s)}(window, document,'script',\n"
        "'https://connect.facebook.net/en_US/fbevents.js');\n"
        "fbq('init', '{your-pixel-id-goes-here}');\nfbq('track', 'PageView');",
        [
            "https://connect.facebook.net/en_US/fbevents.js",
            "https://www.facebook.com/tr?id=123&ev=PageView&noscript=1",
        ],
    ),
    "tiktok-pixel": (
        "!function (w, d, t) {\n  w.TiktokAnalyticsObject=t;var ttq=w[t]=w[t]||[];"
        'ttq.methods=["page","track","identify"];'
        'ttq.load=function(e,n){var i="https://analytics.tiktok.com/i18n/pixel/events.js";'
        "/* ... */};\n  ttq.load('CXXXXXXXXXXXXXXXXXXX');\n  ttq.page();\n"
        "}(window, document, 'ttq');",
        ["https://analytics.tiktok.com/i18n/pixel/events.js?sdkid=C123&lib=ttq"],
    ),
    "linkedin-insight": (
        '_linkedin_partner_id = "598178";\n'
        "window._linkedin_data_partner_ids = window._linkedin_data_partner_ids || [];\n"
        "window._linkedin_data_partner_ids.push(_linkedin_partner_id);",
        [
            "https://snap.licdn.com/li.lms-analytics/insight.min.js",
            "https://px.ads.linkedin.com/collect/?pid=598178&fmt=gif",
            "https://dc.ads.linkedin.com/collect/?pid=598178&fmt=gif",
        ],
    ),
    "x-pixel": (
        "!function(e,t,n,s,u,a){e.twq||(s=e.twq=function(){s.exe?s.exe.apply(s,arguments):"
        "s.queue.push(arguments);\n},s.version='1.1',s.queue=[],u=t.createElement(n),"
        "u.async=!0,u.src='https://static.ads-twitter.com/uwt.js',\n"
        "a=t.getElementsByTagName(n)[0],a.parentNode.insertBefore(u,a))}"
        "(window,document,'script');\ntwq('config', 'YOUR_PIXEL_ID');",
        [
            "https://static.ads-twitter.com/uwt.js",
            "https://analytics.twitter.com/i/adsct?txn_id=x",
            "https://t.co/i/adsct?txn_id=x",
        ],
    ),
    "pinterest-tag": (
        '!function(e){if(!window.pintrk){window.pintrk=function(){window.pintrk.queue.push(\n'
        "Array.prototype.slice.call(arguments))};var n=window.pintrk;n.queue=[],"
        'n.version="3.0";\nvar t=document.createElement("script");t.async=!0,t.src=e;'
        'var r=document.getElementsByTagName("script")[0];\n'
        'r.parentNode.insertBefore(t,r)}}("https://s.pinimg.com/ct/core.js");\n'
        "pintrk('load', 'YOUR_ADVERTISER_ID');\npintrk('page');",
        [
            "https://s.pinimg.com/ct/core.js",
            "https://ct.pinterest.com/v3/?tid=YOUR_ADVERTISER_ID&noscript=1",
        ],
    ),
    "snap-pixel": (
        "(function(e,t,n){if(e.snaptr)return;var a=e.snaptr=function()\n"
        "{a.handleRequest?a.handleRequest.apply(a,arguments):a.queue.push(arguments)};\n"
        "a.queue=[];var s='script';r=t.createElement(s);r.async=!0;\n"
        "r.src=n;var u=t.getElementsByTagName(s)[0];\nu.parentNode.insertBefore(r,u);})"
        "(window,document,\n'https://sc-static.net/scevent.min.js');\n"
        "snaptr('init', 'PIXEL-UUID', {});\nsnaptr('track', 'PAGE_VIEW');",
        ["https://sc-static.net/scevent.min.js", "https://tr.snapchat.com/p"],
    ),
    "reddit-pixel": (
        "!function(w,d){if(!w.rdt){var p=w.rdt=function(){p.sendEvent?\n"
        "p.sendEvent.apply(p,arguments):p.callQueue.push(arguments)};\n"
        'p.callQueue=[];var t=d.createElement("script");'
        't.src="https://www.redditstatic.com/ads/pixel.js",t.async=!0;'
        'var s=d.getElementsByTagName("script")[0];s.parentNode.insertBefore(t,s)}}'
        "(window,document);rdt('init','t2_xxxx');rdt('track', 'PageVisit');",
        ["https://www.redditstatic.com/ads/pixel.js", "https://alb.reddit.com/rp.gif?id=1"],
    ),
    "criteo": (
        "window.criteo_q = window.criteo_q || [];\n"
        "window.criteo_q.push(\n { event: \"setAccount\", account: 1234 },\n"
        ' { event: "setSiteType", type: "d" },\n { event: "viewHome" }\n);',
        [
            "//dynamic.criteo.com/js/ld/ld.js?a=1234",
            "https://static.criteo.net/js/ld/ld.js",
        ],
    ),
    "microsoft-uet": (
        "(function(w,d,t,r,u){\nvar f,n,i;\nw[u]=w[u]||[],f=function(){\n"
        'var o={ti:"YOUR_UET_TAG_ID", enableAutoSpa:true};\n'
        'o.q=w[u],w[u]=new UET(o),w[u].push("pageLoad")\n},\n'
        "n=d.createElement(t),n.src=r,n.async=1,\n/* ... */\n"
        '})(window,document,"script","//bat.bing.com/bat.js","uetq");',
        ["https://bat.bing.com/bat.js", "https://bat.bing.com/action/0?ti=1"],
    ),
    "amazon-ads": (
        "!function(a9,a,p,s,t,A,g){if(a[a9])return;function q(c,r){a[a9]._Q.push([c,r])}"
        "/* ... */}(\"apstag\",window,document,\"script\","
        '"//c.amazon-adsystem.com/aax2/apstag.js");\n'
        "apstag.init({ pubID: '1234', adServer: 'googletag' });",
        [
            "https://c.amazon-adsystem.com/aax2/apstag.js",
            "https://s.amazon-adsystem.com/iu3?pid=x",
        ],
    ),
    "taboola": (
        "window._tfa = window._tfa || [];\n"
        "_tfa.push({notify: 'event', name: 'page_view', id: 1234567});\n"
        "!function (t, f, a, x) {\n if (!document.getElementById(x)) {\n"
        "  t.async = 1;t.src = a;t.id=x;f.parentNode.insertBefore(t,f);\n }\n"
        "}(document.createElement('script'),\ndocument.getElementsByTagName('script')[0],\n"
        "'//cdn.taboola.com/libtrc/unip/1234567/tfa.js',\n'tb_tfa_script');",
        [
            "https://cdn.taboola.com/libtrc/unip/1234567/tfa.js",
            "https://trc.taboola.com/1234567/log/3/unip?en=page_view",
        ],
    ),
    "outbrain": (
        "!function(_window, _document) {\nvar OB_ADV_ID='00bfab0c4ef685500d32bd9ae3f1d27ab2';\n"
        "var api = _window.obApi = function() {api.dispatch ? api.dispatch.apply(api, "
        "arguments) : api.queue.push(arguments);};api.version = '1.1';"
        "tag.src = '//amplify.outbrain.com/cp/obtp.js';}(window, document);\n"
        "obApi('track', 'PAGE_VIEW');",
        ["https://amplify.outbrain.com/cp/obtp.js", "https://tr.outbrain.com/unifiedPixel"],
    ),
    "quora-pixel": (
        "!function(q,e,v,n,t,s){if(q.qp) return; n=q.qp=function(){n.qp?n.qp.apply(n,"
        "arguments):n.queue.push(arguments);}; n.queue=[];t=document.createElement(e);"
        "t.async=!0;t.src=v; s=document.getElementsByTagName(e)[0]; "
        "s.parentNode.insertBefore(t,s);}(window, 'script', 'https://a.quora.com/qevents.js');\n"
        "qp('init', '65450746ec9e494ebe9f74d2a859f971');\nqp('track', 'ViewContent');",
        [
            "https://a.quora.com/qevents.js",
            "https://q.quora.com/_/ad/6545/pixel?tag=ViewContent&noscript=1",
        ],
    ),
    "the-trade-desk": (
        "ttd_dom_ready(function() {\n"
        "if (typeof TTDUniversalPixelApi === 'function') {\n"
        "var universalPixelApi = new TTDUniversalPixelApi();\n"
        'universalPixelApi.init("adv", ["pix"], "https://insight.adsrvr.org/track/up");\n'
        "}\n});",
        ["https://js.adsrvr.org/up_loader.1.1.0.js", "https://insight.adsrvr.org/track/up"],
    ),
    "adroll": (
        'adroll_adv_id = "ABC123XYZ";\nadroll_pix_id = "DEF456GHI";\n'
        'adroll_version = "2.0";\n(function(w, d, e, o, a) {\n  w.__adroll_loaded = true;\n'
        '  var roundtripUrl = "https://s.adroll.com/j/" + adroll_adv_id + "/roundtrip.js";\n'
        "}(window, document));",
        ["https://s.adroll.com/j/ABC123XYZ/roundtrip.js", "https://d.adroll.com/cm/x"],
    ),
    "segment": (
        '!function(){var i="analytics",analytics=window[i]=window[i]||[];'
        "if(!analytics.initialize)if(analytics.invoked)/* ... */;"
        'analytics._writeKey="WRITE_KEY";analytics.SNIPPET_VERSION="5.2.0";'
        'analytics.load("WRITE_KEY");analytics.page();}}();',
        [
            "https://cdn.segment.com/analytics.js/v1/WRITE_KEY/analytics.min.js",
            "https://api.segment.io/v1/p",
        ],
    ),
}

# Scripts, JSON and markup a site writes itself; no preset may claim any of them.
FIRST_PARTY_TEXTS = [
    "document.cookie = 'theme=dark; path=/';",
    "function myfbq(x) { return x; } myfbq('init');",
    "var gtagManager = new TagManager(); gtagManager.start();",
    "const analytics = createAnalytics(); analytics.track('signup');",
    "const qp = new URLSearchParams(location.search); qp.get('utm_source');",
    "function rdtLink(u){return u} rdtLink('/r');",
    "window.uetqueue = [];",
    "const criteoQueue = []; var _tfaEnabled = true; // two-factor auth",
    '{"@context":"https://schema.org","@type":"Organization","sameAs":'
    '["https://www.facebook.com/acme","https://twitter.com/acme",'
    '"https://www.linkedin.com/company/acme","https://www.pinterest.com/acme/",'
    '"https://www.tiktok.com/@acme","https://www.reddit.com/r/acme"]}',
    '{"tweet": "read more at https://t.co/AbCdEf12 and t.coffee is not a host"}',
    '{"note": "we use googletagmanager.com and connect.facebook.net only with consent"}',
    "fetch('/api/cart').then(r => r.json()).then(render);",
    "import('https://cdn.shop.example/app.mjs');",
    "<img src=\"https://www.facebook.com/images/fb_icon_325x325.png\" alt=\"Facebook\">",
    "<a href=\"https://www.facebook.com/trending\">Facebook</a>",
    "<img src=\"https://i.pinimg.com/564x/ab/cd/ef.jpg\">",
    "window.dataLayerReady = true; var ga4Enabled = false;",
]

FIRST_PARTY_URLS = [
    "https://www.facebook.com/acme",
    "https://www.facebook.com/images/fb_icon_325x325.png",
    "https://t.co/AbCdEf12",
    "https://twitter.com/acme",
    "https://i.pinimg.com/564x/ab/cd/ef.jpg",
    "https://s.pinimg.com/images/favicon.png",
    "https://www.redditstatic.com/desktop2x/img/favicon.png",
    "https://www.google.com/maps/embed?pb=x",
    "https://fonts.googleapis.com/css2?family=Inter",
    "https://www.youtube.com/embed/xyz",
    "https://www.linkedin.com/company/acme",
    "/static/js/app.js",
    "https://cdn.shop.example/app.js",
]

ALL = build_ruleset(["all"])


def test_catalog_size_and_shape() -> None:
    assert len(PRESETS) >= 18
    assert preset_names() == sorted(PRESETS)
    for name, rule in PRESETS.items():
        assert rule.name == name
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", name), name
        assert rule.description, name
        assert rule.hosts or rule.host_paths, name
        assert rule.inline_markers, name
        assert rule.action is Action.STRIP


def test_every_preset_has_a_snippet() -> None:
    assert set(SNIPPETS) == set(PRESETS)


@pytest.mark.parametrize("name", sorted(SNIPPETS))
def test_preset_matches_its_snippet(name: str) -> None:
    script, urls = SNIPPETS[name]
    alone = build_ruleset([name])
    assert alone.match_inline(script) is PRESETS[name]
    assert ALL.match_inline(script) is not None
    for url in urls:
        assert alone.match_url(url) is PRESETS[name], url
        assert ALL.match_url(url) is not None, url


@pytest.mark.parametrize("name", sorted(SNIPPETS))
def test_preset_matches_its_snippet_as_a_noscript_or_script_src(name: str) -> None:
    _, urls = SNIPPETS[name]
    alone = build_ruleset([name])
    markup = "".join(f'<img height="1" width="1" src="{url}"/>' for url in urls)
    assert alone.match_inline(markup) is PRESETS[name]


@pytest.mark.parametrize("text", FIRST_PARTY_TEXTS)
def test_first_party_text_matches_no_preset(text: str) -> None:
    assert ALL.match_inline(text) is None


@pytest.mark.parametrize("url", FIRST_PARTY_URLS)
def test_first_party_url_matches_no_preset(url: str) -> None:
    assert ALL.match_url(url, "https://www.shop.example/") is None


# --- build_ruleset -------------------------------------------------------------------------


def test_build_ruleset_orders_presets_then_rules() -> None:
    own = Rule(name="own", hosts=("tracker.example",))
    ruleset = build_ruleset(["meta-pixel", "google-tag-manager"], [own])
    assert [r.name for r in ruleset.rules] == ["meta-pixel", "google-tag-manager", "own"]


def test_build_ruleset_all_and_disabled() -> None:
    ruleset = build_ruleset(["all"], disabled=["google-analytics"])
    names = [r.name for r in ruleset.rules]
    assert "google-analytics" not in names
    assert len(names) == len(PRESETS) - 1
    assert ruleset.match_url("https://www.google-analytics.com/analytics.js") is None


def test_build_ruleset_all_does_not_duplicate() -> None:
    ruleset = build_ruleset(["meta-pixel", "all"])
    assert len(ruleset.rules) == len(PRESETS)


def test_unknown_preset_suggests_a_name() -> None:
    with pytest.raises(ConfigError) as info:
        build_ruleset(["meta-pixle", "google-tag-manager", "zzzz"])
    assert info.value.problems == [
        ("presets[0]", "unknown preset 'meta-pixle'; did you mean 'meta-pixel'?"),
        ("presets[2]", "unknown preset 'zzzz'"),
    ]


def test_unknown_disabled_name_is_reported() -> None:
    with pytest.raises(ConfigError) as info:
        build_ruleset(["meta-pixel"], disabled=["criteo", "meta-pixl"])
    assert info.value.problems == [
        ("disabled_rules[1]", "no preset or rule named 'meta-pixl'; did you mean 'meta-pixel'?"),
    ]


def test_duplicate_rule_name_is_reported() -> None:
    with pytest.raises(ConfigError) as info:
        build_ruleset(["criteo"], [Rule(name="criteo", hosts=("x.example",))])
    assert info.value.problems == [("rules[0].name", "duplicate rule name 'criteo'")]


def test_action_overrides_every_rule() -> None:
    own = Rule(name="own", hosts=("tracker.example",), action=Action.STRIP)
    ruleset = build_ruleset(["criteo"], [own], action=Action.BLOCK)
    assert {r.action for r in ruleset.rules} == {Action.BLOCK}
    hit = ruleset.match_url("https://static.criteo.net/js/ld/ld.js")
    assert hit is not None and hit.action is Action.BLOCK and hit.name == "criteo"
    assert PRESETS["criteo"].action is Action.STRIP  # the catalog is untouched


def test_empty_build() -> None:
    assert not build_ruleset()
    assert isinstance(build_ruleset(), RuleSet)


# --- rule_from_mapping ---------------------------------------------------------------------


def test_rule_from_mapping_valid() -> None:
    rule = rule_from_mapping(
        {
            "name": "acme-ads",
            "description": "Acme ad network",
            "hosts": ["*.ads.acme.example", "Pixel.Acme.Example."],
            "host_paths": ["www.acme.example/collect"],
            "path_prefixes": ["/px"],
            "inline_markers": ["acmeq("],
            "action": "block",
        },
        "rules[0]",
    )
    assert rule == Rule(
        name="acme-ads",
        hosts=("ads.acme.example", "pixel.acme.example"),
        host_paths=("www.acme.example/collect",),
        path_prefixes=("/px",),
        inline_markers=("acmeq(",),
        action=Action.BLOCK,
    )
    ruleset = RuleSet([rule])
    assert ruleset.match_url("https://cdn.ads.acme.example/px/1.gif") is rule
    assert ruleset.match_url("https://www.acme.example/collect?x=1") is rule
    assert ruleset.match_url("https://www.acme.example/about") is None
    assert ruleset.match_inline("acmeq('init')") is rule


def test_rule_from_mapping_defaults() -> None:
    rule = rule_from_mapping({"name": "x", "inline_markers": ["xyzq("]}, "rules[1]")
    assert rule.action is Action.STRIP
    assert rule.hosts == ()


@pytest.mark.parametrize(
    ("data", "problems"),
    [
        pytest.param(
            {"name": "x", "hosts": "tracker.example"},
            [("rules[2].hosts", "expected a list of hostnames, got a string")],
            id="bare string",
        ),
        pytest.param(
            {"name": "x", "hosts": ["https://tracker.example/px.js"]},
            [("rules[2].hosts[0]", "expected a hostname without a scheme, got "
              "'https://tracker.example/px.js' (write 'tracker.example')")],
            id="scheme",
        ),
        pytest.param(
            {"name": "x", "hosts": ["tracker.example/px"]},
            [("rules[2].hosts[0]", "expected a hostname without a path, got "
              "'tracker.example/px'; use path_prefixes")],
            id="path",
        ),
        pytest.param(
            {"name": "x", "hosts": ["ads.*.example"]},
            [("rules[2].hosts[0]", "wildcards are not supported ('ads.*.example'); "
              "subdomains always match")],
            id="inner wildcard",
        ),
        pytest.param(
            {"name": "x", "hosts": ["com"]},
            [("rules[2].hosts[0]", "expected a hostname with at least two labels, got 'com'")],
            id="single label",
        ),
        pytest.param(
            {"name": "x", "hosts": ["tracker.example:8080"]},
            [("rules[2].hosts[0]", "ports and IP literals are not supported, got "
              "'tracker.example:8080'")],
            id="port",
        ),
        pytest.param(
            {"name": "x", "hosts": [3]},
            [("rules[2].hosts[0]", "expected a string, got a number")],
            id="non-string host",
        ),
        pytest.param(
            {"name": "x", "inline_markers": ["ab"]},
            [("rules[2].inline_markers[0]", "too short to identify a vendor ('ab'); "
              "use at least 3 characters")],
            id="short marker",
        ),
        pytest.param(
            {"name": "x"},
            [("rules[2]", "needs at least one of hosts, host_paths or inline_markers")],
            id="nothing to match",
        ),
        pytest.param(
            {"name": "x", "host_paths": ["www.acme.example"]},
            [("rules[2].host_paths[0]", "expected 'host/path', got 'www.acme.example'")],
            id="host path without path",
        ),
        pytest.param(
            {"name": "x", "hosts": ["a.example"], "path_prefixes": ["px"]},
            [("rules[2].path_prefixes[0]", "expected a path starting with '/', got 'px'")],
            id="relative path prefix",
        ),
        pytest.param(
            {"hosts": ["a.example"], "action": "remove", "hostz": []},
            [
                ("rules[2].hostz", "unknown key; did you mean 'hosts'?"),
                ("rules[2].name", "required"),
                ("rules[2].action", "expected 'strip' or 'block', got 'remove'"),
            ],
            id="every problem at once",
        ),
        pytest.param(
            {"name": "bad name!", "hosts": ["a.example"]},
            [("rules[2].name", "expected 1-64 letters, digits, '.', '_' or '-', starting "
              "with a letter or digit, got 'bad name!'")],
            id="bad name",
        ),
    ],
)
def test_rule_from_mapping_problems(
    data: dict[str, object], problems: list[tuple[str, str]]
) -> None:
    with pytest.raises(ConfigError) as info:
        rule_from_mapping(data, "rules[2]")
    assert info.value.problems == problems


def test_rule_from_mapping_rejects_non_mapping() -> None:
    with pytest.raises(ConfigError) as info:
        rule_from_mapping(["not", "a", "table"], "rules[0]")  # type: ignore[arg-type]
    assert info.value.problems == [("rules[0]", "expected a table, got a list")]
