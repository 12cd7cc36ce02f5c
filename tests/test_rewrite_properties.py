"""Hypothesis properties of the rewriter, with html5lib as the oracle.

Documents come from a grammar of fragments: tracker tags in many spellings, first-party
tags, comments, raw-text elements, SVG, attributes with quotes, references and odd case.
"""

from __future__ import annotations

import itertools
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optout_mw.rewrite import HTMLRewriter
from optout_mw.rules import Action
from tests.html_oracle import (
    TRACKER,
    active_tracker_fetches,
    canonical_tree,
    make_rules,
    rewrite,
)

T = TRACKER
RULES = make_rules(Action.STRIP)
BLOCK_RULES = make_rules(Action.BLOCK)

TRACKER_TAGS = [
    f'<script src="{T}"></script>',
    f"<SCRIPT async SRC={T}></SCRIPT>",
    f"<script src='{T}'>var ignored;</script >",
    '<script src="https&#58;//www.googletagmanager.com/gtm.js"></script>',
    '<script src="//www.googletagmanager.com/gtm.js"></script>',
    "<script>gtag('config', 'G-1');</script>",
    "<script>\n  fbq('init', '1');\n</script>",
    f'<img src="{T}" alt="">',
    f"<IMG\nsrc={T}>",
    f'<img src="/a.png" srcset="/a.png 1x, {T} 2x">',
    f'<picture><source srcset="{T}"><img src="/b.png"></picture>',
    f'<iframe src="{T}" height="0" width="0"></iframe>',
    f'<iframe src="{T}"><p>fallback</p></iframe>',
    f'<noscript><iframe src="{T}"></iframe></noscript>',
    f'<noscript><img height="1" width="1" src="{T}&amp;noscript=1"/></noscript>',
    f'<link rel="preload" as="script" href="{T}">',
    f'<link rel="dns-prefetch" href="{T}">',
    f'<embed src="{T}">',
    f'<object data="{T}"><img src="/fallback.png"></object>',
    f'<video poster="{T}"></video>',
    f'<input type="image" src="{T}">',
    f'<svg><script href="{T}"></script></svg>',
    f'<svg><image href="{T}"/></svg>',
    f'<img/src="{T}"/>',
    f'<img alt="x"src="{T}">',
]

FIRST_PARTY = [
    "hello ",
    "a < b && c > d ",
    "caf\u00e9 ",
    "\n",
    "x &amp; y &lt;tag&gt; ",
    "<p>",
    "</p>",
    '<div class="a">',
    "</div>",
    "<span title='<script src=https://www.googletagmanager.com/x.js>'>s</span>",
    f'<a href="{T}">link</a>',
    '<img src="/static/a.png" alt="a">',
    '<script src="/static/app.js"></script>',
    "<script>var a = 1 < 2;</script>",
    "<script>document.write('<scr' + 'ipt>');</script>",
    '<link rel="stylesheet" href="/a.css">',
    f'<link rel="canonical" href="{T}">',
    '<noscript><img src="/pixel.gif"></noscript>',
    '<iframe src="/embed"></iframe>',
    "<br/>",
    "<hr>",
    '<input type="text" value="<img>">',
    "<svg><circle r='1'/><title>t</title></svg>",
    "<math><mi>x</mi></math>",
    "<!-- first-party comment -->",
    "<!---->",
    "<?php echo 1 ?>",
    "</ bogus>",
    "<template><p>t</p></template>",
    '<img src="/x.png" sizes="(max-width: 600px) 100vw" style="a:b">',
    '<svg class="icon" viewBox="0 0 2 2"><path d="M0 0"/><g><rect/></g></svg>',
    "<svg><title>icon</title><path d='M0'/></svg>",
]

WRAPPERS = [
    "<!-- {} -->",
    "<textarea>{}</textarea>",
    "<title>{}</title>",
    "<style>{}</style>",
    "<xmp>{}</xmp>",
    "<noembed>{}</noembed>",
    "<div title='{}'>",
    '<span data-x="{}">s</span>',
    "<svg><![CDATA[{}]]></svg>",
    "<![CDATA[{}]]>",
    "<p>{}</p>",
    "<div>{}</div>",
    "<section id=a>{}</section>",
]


def _wrap(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.builds(lambda w, x: w.replace("{}", x), st.sampled_from(WRAPPERS), inner)


fragment_clean = st.recursive(
    st.sampled_from(FIRST_PARTY), lambda inner: _wrap(inner), max_leaves=6
)
fragment_any = st.recursive(
    st.sampled_from(FIRST_PARTY + TRACKER_TAGS), lambda inner: _wrap(inner), max_leaves=8
)


def _doc(parts: list[str]) -> bytes:
    body = "".join(parts)
    return (
        "<!DOCTYPE html><html><head><meta charset=utf-8><title>t</title></head><body>"
        + body
        + "</body></html>"
    ).encode()


clean_docs = st.lists(fragment_clean, max_size=8).map(_doc)
any_docs = st.lists(fragment_any, max_size=10).map(_doc)

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _split(doc: bytes, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    cuts = sorted(rng.sample(range(1, len(doc)), min(len(doc) - 1, rng.randint(0, 12))))
    bounds = [0, *cuts, len(doc)]
    return [doc[a:b] for a, b in itertools.pairwise(bounds)]


@FAST
@given(any_docs, st.integers(0, 2**32), st.sampled_from([Action.STRIP, Action.BLOCK]))
def test_chunking_never_changes_output(doc: bytes, seed: int, action: Action) -> None:
    rules = make_rules(action)
    whole, rw = rewrite(doc, rules)
    pieces = HTMLRewriter(rules)
    out = b"".join(pieces.feed(c) for c in _split(doc, seed)) + pieces.close()
    assert out == whole
    assert pieces.findings == rw.findings


@settings(max_examples=40, deadline=None)
@given(any_docs)
def test_one_byte_chunks(doc: bytes) -> None:
    whole, _ = rewrite(doc, RULES)
    assert rewrite(doc, RULES, chunk=1)[0] == whole


@FAST
@given(clean_docs, st.integers(1, 64))
def test_nothing_to_strip_is_identity(doc: bytes, chunk: int) -> None:
    out, rw = rewrite(doc, RULES, chunk=chunk)
    assert out == doc
    assert rw.findings == []


@FAST
@given(any_docs, st.sampled_from([Action.STRIP, Action.BLOCK]))
def test_no_tracker_stays_active(doc: bytes, action: Action) -> None:
    rules = make_rules(action)
    out, _ = rewrite(doc, rules)
    assert active_tracker_fetches(out, rules, scripting=True) == []
    assert active_tracker_fetches(out, rules, scripting=False) == []


@FAST
@given(any_docs, st.sampled_from([Action.STRIP, Action.BLOCK]))
def test_nothing_else_changes(doc: bytes, action: Action) -> None:
    rules = make_rules(action)
    out, _ = rewrite(doc, rules)
    assert canonical_tree(out, None) == canonical_tree(doc, rules)


@FAST
@given(any_docs)
def test_report_only_is_identity(doc: bytes) -> None:
    out, rw = rewrite(doc, RULES, report_only=True)
    assert out == doc
    enforced, _rw2 = rewrite(doc, RULES)
    if enforced != doc:
        assert rw.findings


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300), st.integers(1, 16))
def test_never_raises_on_bytes(data: bytes, chunk: int) -> None:
    for rules in (RULES, BLOCK_RULES):
        out, rw = rewrite(data, rules, chunk=chunk)
        assert rw.overflow_reason != "internal_error"
        assert rewrite(data, rules)[0] == out


markup_noise = st.lists(
    st.sampled_from(
        [
            "<",
            ">",
            "/",
            "!",
            "-",
            "--",
            "?",
            "'",
            '"',
            "=",
            " ",
            "\x00",
            "\r",
            "[CDATA[",
            "]]",
            "script",
            "svg",
            "math",
            "textarea",
            "noscript",
            "object",
            "iframe",
            "img",
            "src=",
            "plaintext",
            "style",
            "title",
            "p",
            "br",
            "foreignObject",
            "desc",
            "&amp;",
            "&#",
            T,
            "gtag(",
            "template",
            "base href=",
            "<base href=https://www.googletagmanager.com/>",
            "<img src=/p.gif>",
            '<img src="/p.gif">',
            "/\t/",
            "\\",
            "<svg>",
            "</svg>",
            "<path d='a'/>",
            "www.googletagmanager.com",
            " srcset=",
            "/",
            "<image href=",
        ]
    ),
    max_size=60,
).map(lambda parts: "".join(parts).encode())


@settings(max_examples=400, deadline=None)
@given(markup_noise, st.integers(1, 9), st.sampled_from([Action.STRIP, Action.BLOCK]))
def test_markup_noise(doc: bytes, chunk: int, action: Action) -> None:
    rules = make_rules(action)
    whole, rw = rewrite(doc, rules)
    assert rw.overflow_reason != "internal_error"
    assert rewrite(doc, rules, chunk=chunk)[0] == whole
    assert active_tracker_fetches(whole, rules) == []
