"""What the rewriter does to each element kind, for both actions, plus its API contract."""

from __future__ import annotations

import logging
import re

import pytest

from optout_mw.rewrite import Finding, HTMLRewriter
from optout_mw.rewrite._syntax import decode_attr, srcset_urls
from optout_mw.rules import Action, Rule, RuleSet
from tests.html_oracle import PIXEL, TRACKER, make_rules, rewrite, rewrite_checked

T = TRACKER
P = PIXEL
MARK = 'data-optout-rule="gtm"'

# (input, output with strip, output with block)
ELEMENT_CASES = [
    pytest.param(
        f'<p>a</p><script src="{T}"></script><p>b</p>',
        "<p>a</p><p>b</p>",
        f'<p>a</p><script {MARK} type="text/plain" data-optout-src="{T}"></script><p>b</p>',
        id="script src",
    ),
    pytest.param(
        f'<script type="module" async src="{T}">ignored</script>x',
        "x",
        f'<script {MARK} type="text/plain" data-optout-type="module" async '
        f'data-optout-src="{T}">ignored</script>x',
        id="script src with type and content",
    ),
    pytest.param(
        f"<SCRIPT SRC='{T}'></SCRIPT >x",
        "x",
        f"<SCRIPT {MARK} type=\"text/plain\" data-optout-SRC='{T}'></SCRIPT >x",
        id="script uppercase",
    ),
    pytest.param(
        "<script>gtag('js', new Date());</script><script>var a = 1;</script>",
        "<script>var a = 1;</script>",
        f"<script {MARK} type=\"text/plain\">gtag('js', new Date());</script>"
        "<script>var a = 1;</script>",
        id="inline script marker",
    ),
    pytest.param(
        "<script>(function(){var s=document.createElement('script');"
        "s.src='https://www.googletagmanager.com/gtm.js';})()</script>",
        "",
        f"<script {MARK} type=\"text/plain\">(function(){{var s=document.createElement('script');"
        "s.src='https://www.googletagmanager.com/gtm.js';})()</script>",
        id="inline script naming the host",
    ),
    pytest.param(
        f'<img src="{T}" alt="x"><img src="/a.png">',
        '<img src="/a.png">',
        f'<img {MARK} data-optout-src="{T}" alt="x"><img src="/a.png">',
        id="img src",
    ),
    pytest.param(
        f'<img src="/a.png" srcset="/b.png 1x, {T} 2x">',
        "",
        f'<img {MARK} data-optout-src="/a.png" data-optout-srcset="/b.png 1x, {T} 2x">',
        id="img srcset candidate",
    ),
    pytest.param(
        f'<image src="{T}">',
        "",
        f'<image {MARK} data-optout-src="{T}">',
        id="image is img",
    ),
    pytest.param(
        f'<picture><source srcset="{T}"><img src="/a.png"></picture>',
        '<picture><img src="/a.png"></picture>',
        f'<picture><source {MARK} data-optout-srcset="{T}"><img src="/a.png"></picture>',
        id="picture source srcset",
    ),
    pytest.param(
        f'<iframe src="{T}" width="0">fallback <b>x</b></iframe>after',
        "after",
        f'<iframe {MARK} data-optout-src="{T}" width="0">fallback <b>x</b></iframe>after',
        id="iframe",
    ),
    pytest.param(
        f'<frameset><frame src="{T}"></frameset>',
        "<frameset></frameset>",
        f'<frameset><frame {MARK} data-optout-src="{T}"></frameset>',
        id="frame",
    ),
    pytest.param(
        f'<embed src="{T}" type="image/svg+xml">',
        "",
        f'<embed {MARK} data-optout-src="{T}" type="image/svg+xml">',
        id="embed",
    ),
    pytest.param(
        f'<object data="{T}"><param name="a" value="b"><img src="/f.png"></object>after',
        "after",
        f'<object {MARK} data-optout-data="{T}"><param name="a" value="b"><img src="/f.png">'
        "</object>after",
        id="object with fallback",
    ),
    pytest.param(
        f'<object data="{T}"><object data="/x.svg">in</object>still</object>after',
        "after",
        f'<object {MARK} data-optout-data="{T}"><object data="/x.svg">in</object>still'
        "</object>after",
        id="nested object",
    ),
    pytest.param(
        f'<input type="image" src="{T}"><input type="text" src="{T}">',
        f'<input type="text" src="{T}">',
        f'<input {MARK} type="image" data-optout-src="{T}"><input type="text" src="{T}">',
        id="input type image",
    ),
    pytest.param(
        f'<video poster="{T}" controls><source src="/a.mp4"></video>after',
        "after",
        f'<video {MARK} data-optout-poster="{T}" controls><source src="/a.mp4"></video>after',
        id="video poster",
    ),
    pytest.param(
        f'<audio src="{T}"><track src="/t.vtt"></audio>x',
        "x",
        f'<audio {MARK} data-optout-src="{T}"><track src="/t.vtt"></audio>x',
        id="audio src",
    ),
    pytest.param(
        f'<video src="/v.mp4"><track kind="captions" src="{T}"></video>',
        '<video src="/v.mp4"></video>',
        f'<video src="/v.mp4"><track {MARK} kind="captions" data-optout-src="{T}"></video>',
        id="track src",
    ),
    pytest.param(
        f'<link rel="preload" as="script" href="{T}"><link rel="canonical" href="{T}">',
        f'<link rel="canonical" href="{T}">',
        f'<link {MARK} rel="preload" as="script" data-optout-href="{T}">'
        f'<link rel="canonical" href="{T}">',
        id="link preload and a non-fetching rel",
    ),
    pytest.param(
        f"<link REL='Alternate StyleSheet' href={T}>",
        "",
        f"<link {MARK} REL='Alternate StyleSheet' data-optout-href={T}>",
        id="link stylesheet case-insensitive token",
    ),
    pytest.param(
        '<link rel="dns-prefetch preconnect" href="//www.googletagmanager.com">',
        "",
        f'<link {MARK} rel="dns-prefetch preconnect" '
        'data-optout-href="//www.googletagmanager.com">',
        id="link dns-prefetch",
    ),
    pytest.param(
        f'<link rel="modulepreload" href="{T}">',
        "",
        f'<link {MARK} rel="modulepreload" data-optout-href="{T}">',
        id="link modulepreload",
    ),
    pytest.param(
        f'<link rel="preload" as="image" href="/a.png" imagesrcset="{T} 2x">',
        "",
        f'<link {MARK} rel="preload" as="image" data-optout-href="/a.png" '
        f'data-optout-imagesrcset="{T} 2x">',
        id="link imagesrcset",
    ),
    pytest.param(
        f'<noscript><iframe src="{T}" height="0"></iframe></noscript>after',
        "after",
        f'<noscript {MARK}><template><iframe src="{T}" height="0"></iframe></template>'
        "</noscript>after",
        id="noscript iframe",
    ),
    pytest.param(
        f'<noscript><img height="1" src="{T}&amp;ev=PageView"/></noscript>',
        "",
        f'<noscript {MARK}><template><img height="1" src="{T}&amp;ev=PageView"/>'
        "</template></noscript>",
        id="noscript pixel",
    ),
    pytest.param(
        f'<svg><script href="{T}"></script><circle r="1"/></svg>',
        '<svg><circle r="1"/></svg>',
        f'<svg><script {MARK} type="text/plain" data-optout-href="{T}"></script>'
        '<circle r="1"/></svg>',
        id="svg script href",
    ),
    pytest.param(
        f'<svg><script xlink:href="{T}"/></svg>',
        "<svg></svg>",
        f'<svg><script {MARK} type="text/plain" data-optout-xlink:href="{T}"/></svg>',
        id="svg script xlink href self-closing",
    ),
    pytest.param(
        "<svg><script><![CDATA[ gtag('x') ]]></script></svg>",
        "<svg></svg>",
        f"<svg><script {MARK} type=\"text/plain\"><![CDATA[ gtag('x') ]]></script></svg>",
        id="svg inline script",
    ),
    pytest.param(
        f'<svg><image href="{T}" width="1"/></svg>',
        "<svg></svg>",
        f'<svg><image {MARK} data-optout-href="{T}" width="1"/></svg>',
        id="svg image",
    ),
]


@pytest.mark.parametrize(("doc", "stripped", "blocked"), ELEMENT_CASES)
@pytest.mark.parametrize("action", [Action.STRIP, Action.BLOCK])
def test_element(doc: str, stripped: str, blocked: str, action: Action) -> None:
    out, rw = rewrite_checked(doc.encode(), make_rules(action))
    assert out.decode() == (stripped if action is Action.STRIP else blocked)
    assert rw.findings, "a finding is recorded"
    assert {f.action for f in rw.findings} == {action}
    assert not rw.overflowed


@pytest.mark.parametrize(("doc", "stripped", "blocked"), ELEMENT_CASES)
def test_report_only_keeps_bytes(doc: str, stripped: str, blocked: str) -> None:
    out, rw = rewrite_checked(doc.encode(), make_rules(), report_only=True)
    assert out == doc.encode()
    assert rw.findings


UNTOUCHED = [
    pytest.param('<script src="/static/app.js"></script>', id="first-party script"),
    pytest.param('<script src="https://cdn.example.org/lib.js"></script>', id="other host"),
    pytest.param(
        '<script src="https://googletagmanager.com.evil.example/x.js"></script>',
        id="host as a prefix",
    ),
    pytest.param(
        '<script src="https://notgoogletagmanager.com/x.js"></script>',
        id="host as a suffix without a label boundary",
    ),
    pytest.param("<script>var gtag_like = 1; mygtag(1)</script>", id="inline without marker"),
    pytest.param('<img src="/a.png" srcset="/a2.png 2x">', id="first-party img"),
    pytest.param(f'<a href="{T}">link</a>', id="anchor is not a fetch"),
    pytest.param(f'<link rel="alternate" href="{T}">', id="link rel alternate"),
    pytest.param(f'<link rel="preloadx" href="{T}">', id="link rel token must match exactly"),
    pytest.param('<noscript><img src="/pixel.gif"></noscript>', id="first-party noscript"),
    pytest.param(f'<div data-src="{T}"></div>', id="data attribute"),
    pytest.param(f'<img data-optout-src="{T}">', id="already blocked"),
    pytest.param(f'<math><script href="{T}"></script></math>', id="mathml script"),
]


@pytest.mark.parametrize("doc", UNTOUCHED)
@pytest.mark.parametrize("action", [Action.STRIP, Action.BLOCK])
def test_untouched(doc: str, action: Action) -> None:
    out, rw = rewrite_checked(doc.encode(), make_rules(action))
    assert out == doc.encode()
    assert rw.findings == []


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        pytest.param(f'<img src="{T}" src="/ok.png">', "", id="first duplicate wins"),
        pytest.param(
            f'<img src="/ok.png" src="{T}">',
            '<img src="/ok.png" src="{T}">',
            id="second duplicate is ignored",
        ),
        pytest.param(
            '<script src="https&#58;//www.googletagmanager.com/gtm.js"></script>',
            "",
            id="numeric reference in scheme",
        ),
        pytest.param(
            '<script src="https://www&period;googletagmanager&period;com/x.js"></script>',
            "",
            id="named references in host",
        ),
        pytest.param(
            '<script src="&#x68;ttps://www.googletagmanager.com/x.js"></script>',
            "",
            id="hex reference",
        ),
        pytest.param(f"<img src={T} alt=x>", "", id="unquoted"),
        pytest.param(f"<img/src='{T}'/>", "", id="slash separators"),
        pytest.param(f'<img alt="a"src="{T}">', "", id="no space after quoted value"),
        pytest.param(f'<img\nsrc\n=\n"{T}"\n>', "", id="newlines around equals"),
        pytest.param(f'<img\rsrc="{T}">', "", id="carriage return is whitespace"),
        pytest.param(f'<img src="  {T}  ">', "", id="url with surrounding spaces"),
        pytest.param(
            '<img src="/\t/www.googletagmanager.com/p.gif">', "", id="tab between slashes"
        ),
        pytest.param('<img src="\\\\www.googletagmanager.com\\p.gif">', "", id="backslashes"),
        pytest.param(
            '<img sizes="(max-width: 6px) 1vw" src="//www.googletagmanager.com/p">',
            "",
            id="scheme-relative after an attribute with a colon",
        ),
        pytest.param(f'<img data-src="/x" SRC="{T}">', "", id="uppercase url attribute"),
        pytest.param(f"<img src='{T}'>", "", id="single-quoted"),
        pytest.param(f'<img title="x" src = "{T}">', "", id="spaces around equals"),
        pytest.param(f'<img title="a>b" src="{T}">', "", id="gt inside a quoted value"),
        pytest.param(
            '<img src="/a.png" sizes="(max-width: 600px) 100vw">',
            '<img src="/a.png" sizes="(max-width: 600px) 100vw">',
            id="relative url with colon elsewhere",
        ),
        pytest.param(
            '<img data-src="https://www.googletagmanager.com/x" src="/a.png">',
            '<img data-src="https://www.googletagmanager.com/x" src="/a.png">',
            id="tracker in a non-url attribute",
        ),
    ],
)
def test_attribute_forms(doc: str, expected: str) -> None:
    out, _ = rewrite_checked(doc.encode(), make_rules())
    assert out.decode() == expected.replace("{T}", T)


def test_block_duplicate_fetch_attributes_all_renamed() -> None:
    out, _ = rewrite_checked(f'<img src="{T}" src="/ok.png">'.encode(), make_rules(Action.BLOCK))
    assert out.decode() == f'<img {MARK} data-optout-src="{T}" data-optout-src="/ok.png">'


def test_block_escapes_rule_name() -> None:
    rules = RuleSet([Rule(name='a"<b>&', hosts=("googletagmanager.com",), action=Action.BLOCK)])
    out, _ = rewrite_checked(f'<img src="{T}">'.encode(), rules)
    assert out.decode() == f'<img data-optout-rule="a&quot;&lt;b&gt;&amp;" data-optout-src="{T}">'


def test_custom_prefix() -> None:
    out, _ = rewrite_checked(
        f'<img src="{T}">'.encode(), make_rules(Action.BLOCK), attr_prefix="data-x-"
    )
    assert out.decode() == f'<img data-x-rule="gtm" data-x-src="{T}">'


def test_noscript_block_falls_back_to_strip_when_content_closes_template() -> None:
    doc = f'<noscript></template><img src="{T}"></noscript>x'.encode()
    out, _ = rewrite_checked(doc, make_rules(Action.BLOCK))
    assert out == b'<noscript data-optout-rule="gtm"></noscript>x'


def test_noscript_with_unclosed_tag_is_judged_by_its_urls() -> None:
    # With scripting off the <img> tag would run on past "</noscript>".
    doc = f'<noscript><img src="{T}" alt="</noscript>">'.encode()
    out, rw = rewrite_checked(doc, make_rules())
    assert out == b'">'
    assert rw.findings[0].element == "noscript"


def test_iframe_srcdoc_with_tracker() -> None:
    doc = f'<iframe srcdoc="&lt;script src=&quot;{T}&quot;&gt;&lt;/script&gt;"></iframe>x'
    out, rw = rewrite_checked(doc.encode(), make_rules())
    assert out == b"x"
    assert rw.findings[0].url == T


# -- base URL --------------------------------------------------------------------------


def test_base_href_resolves_relative_urls() -> None:
    doc = b'<base href="https://www.googletagmanager.com/"><script src="gtm.js"></script>x'
    out, rw = rewrite_checked(doc, make_rules())
    assert out == b'<base href="https://www.googletagmanager.com/">x'
    assert rw.findings[0].url == "gtm.js"


def test_first_base_with_href_wins() -> None:
    doc = (
        b'<base target="_top"><base href="https://www.googletagmanager.com/">'
        b'<base href="https://example.org/"><img src="p.gif">'
    )
    out, _ = rewrite_checked(doc, make_rules())
    assert not out.endswith(b'<img src="p.gif">')


def test_base_makes_relative_fetches_third_party() -> None:
    doc = (
        b'<img src="/a.png"><base href="//www.googletagmanager.com/x/">'
        b'<img src="/a.png"><link rel=stylesheet href=s.css><svg><image href="i.png"/></svg>'
    )
    out, rw = rewrite_checked(doc, make_rules())
    assert out == b'<img src="/a.png"><base href="//www.googletagmanager.com/x/"><svg></svg>'
    assert [f.element for f in rw.findings] == ["img", "link", "svg:image"]


def test_harmless_base_keeps_relative_fetches() -> None:
    doc = b'<base href="https://cdn.example.org/"><img src="/a.png"><img src="b.png">'
    out, rw = rewrite_checked(doc, make_rules())
    assert out == doc
    assert rw.findings == []


def test_relative_url_without_base_is_first_party() -> None:
    doc = b'<script src="/gtm.js"></script><script src="googletagmanager.com/x.js"></script>'
    out, _ = rewrite_checked(doc, make_rules())
    assert out == doc


# -- findings ----------------------------------------------------------------------------


def test_findings_positions() -> None:
    doc = (
        f'<html>\n<head>\n  <script src="{T}"></script>\n</head>\n'
        '<body><script>fbq("init")</script>'
    )
    _out, rw = rewrite_checked(doc.encode(), make_rules())
    assert rw.findings == [
        Finding("gtm", Action.STRIP, "script", T, doc.index("<script"), 3, 3),
        Finding("meta", Action.STRIP, "script", None, doc.index("<script>"), 5, 7),
    ]


def test_findings_positions_across_chunks() -> None:
    doc = ("x" * 5000 + "\n" * 3000 + "ab<img src='" + T + "'>").encode()
    _, rw = rewrite(doc, make_rules(), chunk=4096)
    (finding,) = rw.findings
    assert (finding.offset, finding.line, finding.column) == (8000 + 2, 3001, 3)


def test_findings_without_line_numbers_keep_offsets_and_output() -> None:
    doc = ("<p>\n" * 3000 + "ab<img src='" + T + "'>\n<script>fbq(1)</script>").encode()
    for chunk in (None, 4096, 1):
        with_lines, rw_lines = rewrite(doc, make_rules(), chunk=chunk)
        without, rw = rewrite(doc, make_rules(), chunk=chunk, line_numbers=False)
        assert without == with_lines
        assert [(f.rule, f.element, f.url, f.offset) for f in rw.findings] == [
            (f.rule, f.element, f.url, f.offset) for f in rw_lines.findings
        ]
        assert [(f.line, f.column) for f in rw_lines.findings] == [(3001, 3), (3002, 1)]
        assert [(f.line, f.column) for f in rw.findings] == [(None, None), (None, None)]


# -- injection ---------------------------------------------------------------------------

STUB = b"<script>window.__optout=1</script>"


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        pytest.param(
            b"<head><meta charset=utf-8><script src=/a.js></script></head>",
            b"<head><meta charset=utf-8>{S}<script src=/a.js></script></head>",
            id="before first script",
        ),
        pytest.param(
            b'<head><script src="/a.js"></script><script src="/b.js"></script></head>',
            b'<head>{S}<script src="/a.js"></script><script src="/b.js"></script></head>',
            id="before first same-origin script in the common form",
        ),
        pytest.param(
            b"<head><title>t</title></head><body><script></script>",
            b"<head><title>t</title>{S}</head><body><script></script>",
            id="before head end tag",
        ),
        pytest.param(
            b"<!doctype html><p>x<BODY><script></script>",
            b"<!doctype html><p>x{S}<BODY><script></script>",
            id="before body start tag",
        ),
        pytest.param(
            b"<!-- <script> --><title><script></title><textarea><body></textarea></HEAD >",
            b"<!-- <script> --><title><script></title><textarea><body></textarea>{S}</HEAD >",
            id="not in comment or rcdata",
        ),
        pytest.param(
            b"<svg><script>x</script></svg><noscript><script></noscript><script>",
            b"<svg><script>x</script></svg><noscript><script></noscript>{S}<script>",
            id="not in foreign content or rawtext",
        ),
        pytest.param(
            f'<script src="{T}"></script><script></script>'.encode(),
            b"{S}<script></script>",
            id="first script stripped",
        ),
        pytest.param(b"<p>no script at all", b"<p>no script at all", id="never reached"),
    ],
)
def test_inject(doc: bytes, expected: bytes) -> None:
    out, rw = rewrite_checked(doc, make_rules(), inject=STUB)
    assert out == expected.replace(b"{S}", STUB)
    assert rw.injected == (STUB in out)


def test_inject_not_in_report_mode() -> None:
    doc = b"<head><script></script>"
    out, rw = rewrite_checked(doc, make_rules(), inject=STUB, report_only=True)
    assert out == doc
    assert not rw.injected


# -- the same tags in every response ------------------------------------------------------


def _judgements(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Record each start tag the rewriter judges afresh (not from remembered verdicts)."""
    judged: list[bytes] = []
    fetch, script = HTMLRewriter._fetch_hit_now, HTMLRewriter._script_verdict

    def fetch_now(self: HTMLRewriter, m: re.Match[bytes], *args: object) -> object:
        judged.append(m.group(0))
        return fetch(self, m, *args)  # type: ignore[arg-type]

    def script_now(self: HTMLRewriter, m: re.Match[bytes], *args: object) -> object:
        judged.append(m.group(0))
        return script(self, m, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(HTMLRewriter, "_fetch_hit_now", fetch_now)
    monkeypatch.setattr(HTMLRewriter, "_script_verdict", script_now)
    return judged


def test_start_tags_are_judged_once_across_responses(monkeypatch: pytest.MonkeyPatch) -> None:
    judged = _judgements(monkeypatch)
    rules = make_rules()
    doc = (
        f'<script src="{T}"></script><script>fbq("init")</script><script src="//cdn.test/a.js">'
        f'</script><iframe src="{T}"></iframe><link rel=preload href="{PIXEL}"><p>kept</p>'
    ).encode()
    first, rw1 = rewrite(doc, rules)
    assert len(judged) == 5
    second, rw2 = rewrite(doc, rules, chunk=3)
    assert len(judged) == 5  # every verdict came from the first response
    assert first == second == b"<script src=\"//cdn.test/a.js\"></script><p>kept</p>"
    assert rw1.findings == rw2.findings


def test_remembered_verdicts_depend_on_rules_and_base(monkeypatch: pytest.MonkeyPatch) -> None:
    judged = _judgements(monkeypatch)
    rules, other = make_rules(), RuleSet([Rule(name="cdn", hosts=("cdn.test",))])
    tag = b'<img src="p.gif" srcset="https://cdn.test/a.gif 2x">'
    assert rewrite(tag, rules)[0] == tag
    assert rewrite(tag, rules)[0] == tag
    assert judged == [tag]
    assert rewrite(tag, other)[0] == b""  # another rule set: judged afresh
    base = b'<base href="https://www.googletagmanager.com/">'
    assert rewrite(base + tag, rules)[0] == base  # another base: p.gif is the tracker's
    assert judged == [tag, tag, tag]


def test_tag_verdicts_stay_bounded() -> None:
    from optout_mw.rewrite import _rewriter

    rules = make_rules()
    doc = "".join(f'<img src="https://cdn.test/{i}">' for i in range(3 * _rewriter._TAG_CACHE_MAX))
    rewrite(doc.encode(), rules)
    verdicts = _rewriter._per_rules(rules)[1].fetch
    assert 0 < len(verdicts) <= _rewriter._TAG_CACHE_MAX
    long_tag = f'<img alt="{"x" * _rewriter._TAG_CACHEABLE}" src="https://cdn.test/">'
    rewrite(long_tag.encode(), rules)
    assert not any(len(key[0]) > _rewriter._TAG_CACHEABLE for key in verdicts)
    for _ in range(3 * _rewriter._RULE_SETS_MAX):  # a reload makes a new rule set
        rewrite(b'<img src="https://cdn.test/">', make_rules())
    assert len(_rewriter._PER_RULES) <= _rewriter._RULE_SETS_MAX


def test_a_verdict_that_logged_is_judged_again(monkeypatch: pytest.MonkeyPatch) -> None:
    judged = _judgements(monkeypatch)
    # Judging this srcdoc logged something (as an overflow inside it would): the verdict
    # is not remembered, so that the next response logs it too.
    monkeypatch.setattr(HTMLRewriter, "_judge_fragment_now", lambda self, data: (None, False))
    doc = b'<iframe srcdoc="&lt;p&gt;hi"></iframe>'
    rules = make_rules()
    assert rewrite(doc, rules)[0] == rewrite(doc, rules)[0] == doc
    assert judged == [b'<iframe srcdoc="&lt;p&gt;hi">'] * 2


# -- limits ----------------------------------------------------------------------------


def test_overflowing_inline_script_without_marker_passes(caplog: pytest.LogCaptureFixture) -> None:
    doc = b"<script>" + b"var a = 1;" * 20 + b"gtag('x')</script>after"
    with caplog.at_level(logging.WARNING, logger="optout_mw"):
        out, rw = rewrite_checked(doc, make_rules(), max_pending=64)
    assert out == doc
    assert rw.overflowed
    assert rw.overflow_reason is not None and "script" in rw.overflow_reason
    assert "buffer_overflow" in caplog.text


@pytest.mark.parametrize("action", [Action.STRIP, Action.BLOCK])
def test_overflowing_inline_script_with_early_marker(action: Action) -> None:
    body = b"gtag('x');" + b"var a = 1;" * 20
    doc = b"<script>" + body + b"</script>after"
    out, rw = rewrite_checked(doc, make_rules(action), max_pending=64)
    assert rw.overflowed
    if action is Action.STRIP:
        assert out == b"after"
    else:
        assert (
            out == b'<script data-optout-rule="gtm" type="text/plain">' + body + b"</script>after"
        )


def test_overflowing_tag_passes_unchanged() -> None:
    doc = f'<img title="{"x" * 200}" src="{T}"><img src="{T}">'.encode()
    out, rw = rewrite_checked(doc, make_rules(), max_pending=100)
    assert out == doc[: doc.index(b"><img") + 1]
    assert rw.overflowed
    assert rw.overflow_reason is not None and "tag" in rw.overflow_reason


def test_overflowing_script_tag_still_enters_script_data() -> None:
    doc = f'<script title="{"x" * 200}"><img src="{T}"></script><img src="{T}">'.encode()
    out, _ = rewrite_checked(doc, make_rules(), max_pending=100)
    assert out == doc[: doc.index(b"</script>") + 9]


def test_overflowing_noscript_with_tracker_is_removed_under_block() -> None:
    doc = f'<noscript><img src="{T}">{"x" * 200}</noscript>after'.encode()
    out, rw = rewrite_checked(doc, make_rules(Action.BLOCK), max_pending=64)
    assert out == b"after"
    assert rw.overflowed


def test_stripped_content_is_not_held() -> None:
    rw = HTMLRewriter(make_rules(), max_pending=64)
    out = rw.feed(f'<script src="{T}">'.encode())
    for _ in range(100):
        out += rw.feed(b"var x = 1;" * 10)
    out += rw.feed(b"</script>done") + rw.close()
    assert out == b"done"
    assert not rw.overflowed


def test_output_streams_before_close() -> None:
    rw = HTMLRewriter(make_rules())
    first = rw.feed(b"<html><body><p>hello</p><div class='a'")
    assert first == b"<html><body><p>hello</p>"
    assert rw.feed(b">x") == b"<div class='a'>x"


def test_text_of_a_script_with_src_is_not_judged() -> None:
    # With a src the browser fetches that and never runs the element's own text, so the
    # text is not judged: the element stands or falls by its URL alone.
    for doc in (
        b"<script src='/a.js'>fbq('init')</script>",
        b"<script title='t'src='/a.js'>fbq('init')</script>",  # src: a new attribute
        b"<script src=/a.js>gtag('js')</script>",
    ):
        out, rw = rewrite_checked(doc, make_rules())
        assert out == doc
        assert rw.findings == []
    doc = f"<script src='{T}'>var a = 1;</script><p>x</p>".encode()
    assert rewrite_checked(doc, make_rules())[0] == b"<p>x</p>"


def test_svg_icon_cut_by_a_chunk_is_held_until_whole() -> None:
    from optout_mw.rewrite import _rewriter

    icon = b'<svg viewBox="0 0 24 24"><path d="M12 2L2 7l10 5"/></svg>'
    doc = b"<p>a</p>" + icon + f'<img src="{T}"><p>b</p>'.encode()
    cut = doc.index(b"<path") + 8
    rw = HTMLRewriter(make_rules())
    assert rw.feed(doc[:cut]) == b"<p>a</p>"  # the icon waits for its end
    assert rw.feed(doc[cut:]) + rw.close() == icon + b"<p>b</p>"
    # A long one is not held: it is tokenized as it comes.
    big = b"<svg>" + b"<path d='M0 0'/>" * (_rewriter._SVG_WAIT // 16) + b"</svg>"
    rw = HTMLRewriter(make_rules())
    first = rw.feed(b"<p>a</p>" + big[:-10])
    assert first.startswith(b"<p>a</p><svg><path")
    assert first + rw.feed(big[-10:] + f'<img src="{T}">'.encode()) + rw.close() == (
        b"<p>a</p>" + big
    )


def test_unchanged_chunk_is_returned_as_is() -> None:
    rw = HTMLRewriter(make_rules())
    chunk = b"<p>plain <b>text</b></p>" * 100
    assert rw.feed(chunk) is chunk


def test_feed_after_close_passes_through() -> None:
    rw = HTMLRewriter(make_rules())
    assert rw.close() == b""
    assert rw.feed(b"<p>") == b"<p>"
    assert rw.close() == b""


def test_accepts_bytearray_and_memoryview() -> None:
    rw = HTMLRewriter(make_rules())
    out = rw.feed(bytearray(b"<p>a")) + rw.feed(memoryview(b"</p>")) + rw.close()  # type: ignore[arg-type]
    assert out == b"<p>a</p>"


# -- attribute values and srcset ----------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "decoded"),
    [
        (b"a&amp;b", "a&b"),
        (b"&lt;&gt;&quot;", '<>"'),
        (b"&notit;", "&notit;"),  # legacy "&not" followed by an alphanumeric: left alone
        (b"&not=1", "&not=1"),
        (b"&not;", "\u00ac"),
        (b"&not x", "\u00ac x"),
        (b"&amp", "&"),
        (b"&ampx", "&ampx"),
        (b"&#0;", "\ufffd"),
        (b"&#x80;", "\u20ac"),  # windows-1252 remap of C1 controls
        (b"&#65", "A"),
        (b"&#xZZ;", "&#xZZ;"),
        (b"&unknown;", "&unknown;"),
        (b"a\x00b", "a\ufffdb"),
        ("caf\u00e9".encode(), "caf\u00e9"),
        (b"caf\xe9", "caf\ufffd"),  # not UTF-8: U+FFFD, as a UTF-8 decoder reads it
    ],
)
def test_decode_attr(raw: bytes, decoded: str) -> None:
    assert decode_attr(raw) == decoded


@pytest.mark.parametrize(
    ("value", "urls"),
    [
        ("a.png", ["a.png"]),
        ("a.png 1x, b.png 2x", ["a.png", "b.png"]),
        ("a.png,b.png 2x", ["a.png,b.png"]),
        ("a.png, , b.png", ["a.png", "b.png"]),
        ("a.png,, b.png", ["a.png", "b.png"]),
        ("  a.png 100w,\n\tb.png 200w  ", ["a.png", "b.png"]),
        ("a.png foo(1, 2), b.png", ["a.png", "b.png"]),
        ("data:image/png;base64,AAA= 1x, c.png 2x", ["data:image/png;base64,AAA=", "c.png"]),
        ("", []),
        (",,,", []),
    ],
)
def test_srcset_urls(value: str, urls: list[str]) -> None:
    assert srcset_urls(value) == urls


def test_warm_up_compiles_what_an_ordinary_page_needs() -> None:
    from optout_mw.rewrite import _rewriter, warm_up

    warm_up()
    compiled = set(_rewriter._SKIP_CACHE)
    page = (
        b"<!doctype html><html><head><title>Shop</title><script>var first = 1;</script>"
        b'<script async src="https://www.googletagmanager.com/gtm.js?id=GTM-X"></script>'
        b"<script>!function(f,b,e,v,n,t,s){};fbq('init','1');</script></head><body>"
        b'<noscript><iframe src="https://www.googletagmanager.com/ns.html?id=GTM-X">'
        b"</iframe></noscript><p>Hello</p>"
        b'<noscript><img src="https://www.facebook.com/tr?id=1&ev=PageView"></noscript>'
        b"</body></html>"
    )
    from optout_mw.presets import build_ruleset

    rules = build_ruleset(("google-tag-manager", "meta-pixel"))
    for inject in (None, b"<script>0</script>"):
        rewriter = HTMLRewriter(rules, inject=inject)
        out = rewriter.feed(page) + rewriter.close()
        assert b"googletagmanager" not in out and b"fbq(" not in out
    assert set(_rewriter._SKIP_CACHE) == compiled
