"""Adversarial tokenizer cases.

Each construct hides a tracker tag where the WHATWG tokenizer sees text (the document must
come back unchanged), and the same construct followed by a real tracker tag right after it
ends (which must go). Every case also runs in 1-byte and 7-byte chunks and is checked
against html5lib.
"""

from __future__ import annotations

import pytest

from optout_mw.rules import Action
from tests.html_oracle import (
    TRACKER,
    active_tracker_fetches,
    canonical_tree,
    make_rules,
    rewrite_checked,
)

TAG = f'<script src="{TRACKER}"></script>'
IMG = f'<img src="{TRACKER}">'
RULES = make_rules()

# (construct holding {X} as text, construct end so that what follows is live again)
HIDING = [
    pytest.param("<!-- {X} -->", id="comment"),
    pytest.param("<!--{X}--!>", id="comment ended by --!>"),
    pytest.param("<!-- a -- b {X} -->", id="comment with double dash inside"),
    pytest.param("<!-- <!-- {X} -->", id="nested comment open"),
    pytest.param("<!----->{X}-->".replace("{X}", ""), id="comment with dash run"),
    pytest.param("<?xml {X}?>".replace("{X}", "a"), id="processing instruction"),
    pytest.param("<!DOCTYPE html SYSTEM 'about:legacy-compat'>", id="doctype"),
    pytest.param("<textarea>{X}</textarea>", id="textarea"),
    pytest.param("<TEXTAREA>{X}</textarea >", id="textarea uppercase"),
    pytest.param("<textarea>{X}</textareax></textarea>", id="textarea false end tag"),
    pytest.param("<title>{X}</title>", id="title"),
    pytest.param("<style>a{content:'{X}'}</style>", id="style"),
    pytest.param("<style>{X}</style foo='>'>", id="style end tag with attributes"),
    pytest.param("<xmp>{X}</xmp>", id="xmp"),
    pytest.param("<noembed>{X}</noembed>", id="noembed"),
    pytest.param("<noframes>{X}</noframes>", id="noframes"),
    pytest.param("<iframe src=/x>{X}</iframe>", id="iframe content"),
    pytest.param("<script>var s = '{X}';</script>", id="script string"),
    pytest.param("<script>document.write('<!--{X}-->')</script>", id="script escaped"),
    pytest.param("<script><!--\n<script>{X}</script>\n--></script>", id="script double escaped"),
    pytest.param(
        "<script><!-- <script>a</script> {X} --></script>", id="script escaped after double"
    ),
    pytest.param("<script>a</scriptx>{X}</script>", id="script false end tag"),
    pytest.param('<script>{X}</script\t\nfoo="a>b">', id="script end tag with attributes"),
    pytest.param("<div title='{X}'></div>", id="single-quoted attribute"),
    pytest.param('<div title="{X}"></div>', id="double-quoted attribute"),
    pytest.param(
        "<div data-x=\"<script src='https://www.googletagmanager.com/a.js'>\">",
        id="attribute with tag text",
    ),
    pytest.param("<a title=a<script>b>x</a>", id="unquoted value with lt"),
    pytest.param("<![CDATA[{X}]]>".replace("{X}", "a"), id="cdata outside foreign is bogus"),
    pytest.param("<svg><![CDATA[{X}]]></svg>", id="cdata in svg"),
    pytest.param("<math><![CDATA[<x>{X}]]></math>", id="cdata in math"),
    pytest.param("</ {X}>".replace("{X}", "a"), id="bogus end tag comment"),
    pytest.param("<!x {X}>".replace("{X}", "a"), id="bogus markup declaration"),
    pytest.param("</div foo='{X}'>", id="end tag attribute"),
    pytest.param("<div/title='{X}'/>", id="slash before attribute"),
    pytest.param("<p>a<b</p>", id="lt without tag name"),
    pytest.param("a < b > c", id="spaced lt"),
    pytest.param("<scr\x00ipt>x</scr\x00ipt>", id="nul in tag name"),
    pytest.param("<div a=\"{X}\"b='{X}'c={X}>".replace("{X}", "v"), id="attributes without spaces"),
    pytest.param("<svg><title><textarea>{X}</textarea></title></svg>", id="svg title integration"),
    pytest.param("<noscript>{X}</noscript>".replace("{X}", "<b>x</b>"), id="plain noscript"),
]


def _check(doc: bytes, expected: bytes) -> None:
    out, _ = rewrite_checked(doc, RULES)
    assert out == expected
    assert active_tracker_fetches(out, RULES) == []
    assert canonical_tree(out, None) == canonical_tree(doc, RULES)


@pytest.mark.parametrize("construct", HIDING)
@pytest.mark.parametrize("payload", [TAG, IMG], ids=["script", "img"])
def test_hidden_tracker_is_text(construct: str, payload: str) -> None:
    doc = ("<body>" + construct.replace("{X}", payload) + "<p>end</p>").encode()
    out, rw = rewrite_checked(doc, RULES)
    if construct.startswith("<script>"):
        # Script text naming a tracker is itself an inline tracker, so the script element
        # goes as a whole; the markup inside it must not be taken for tags.
        assert all(f.element == "script" and f.url is None for f in rw.findings)
        assert active_tracker_fetches(out, RULES) == []
        assert canonical_tree(out, None) == canonical_tree(doc, RULES)
    else:
        assert out == doc
        assert rw.findings == []


@pytest.mark.parametrize("construct", HIDING)
@pytest.mark.parametrize("payload", [TAG, IMG], ids=["script", "img"])
def test_tracker_after_construct_is_removed(construct: str, payload: str) -> None:
    # Script text naming the tracker would make the script itself a tracker.
    script = construct.startswith("<script>")
    payload_inside = "<img src=/first-party.png>" if script else payload
    body = "<body>" + construct.replace("{X}", payload_inside)
    doc = (body + payload + "<p>end</p>").encode()
    _check(doc, (body + "<p>end</p>").encode())


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        pytest.param("<!-->" + IMG, "<!-->", id="abrupt empty comment"),
        pytest.param("<!--->" + IMG, "<!--->", id="abrupt comment with dash"),
        pytest.param("<!---->" + IMG, "<!---->", id="shortest comment"),
        pytest.param("<!--!>" + IMG + "-->", "<!--!>" + IMG + "-->", id="bang after open is text"),
        pytest.param("<!-- --!>" + IMG, "<!-- --!>", id="comment end bang"),
        pytest.param("<!-- --!-->" + IMG, "<!-- --!-->", id="comment end bang dash"),
        pytest.param("<!-- ---->" + IMG, "<!-- ---->", id="comment end dash run"),
        pytest.param("<!-- " + IMG, "<!-- " + IMG, id="eof in comment"),
        pytest.param(
            "<script><!-->x</script>" + IMG,
            "<script><!-->x</script>",
            id="script escape closed at once",
        ),
        pytest.param(
            "<script><!--<script></script>x--></script>" + IMG,
            "<script><!--<script></script>x--></script>",
            id="double escape end returns to escaped",
        ),
        pytest.param(
            "<script><!--<script>--></script>" + IMG,
            "<script><!--<script>--></script>",
            id="double escaped dash dash gt",
        ),
        pytest.param(
            "<script><!--</script>" + IMG,
            "<script><!--</script>",
            id="escaped script ends at end tag",
        ),
        pytest.param(
            "<plaintext>" + IMG + "</plaintext>" + IMG,
            "<plaintext>" + IMG + "</plaintext>" + IMG,
            id="plaintext forever",
        ),
        pytest.param("<select><option>" + IMG, "<select><option>", id="in select"),
        pytest.param("<table><tr>" + IMG + "<td>x", "<table><tr><td>x", id="foster parented"),
        pytest.param(
            "<svg><title>" + IMG + "</title></svg>",
            "<svg><title></title></svg>",
            id="svg title is integration point",
        ),
        pytest.param(
            "<svg><desc><script src=" + TRACKER + "></script></desc></svg>",
            "<svg><desc></desc></svg>",
            id="html script in integration point",
        ),
        pytest.param(
            "<svg><foreignObject><p>" + IMG + "</p></foreignObject></svg>",
            "<svg><foreignObject><p></p></foreignObject></svg>",
            id="foreignObject",
        ),
        pytest.param(
            "<svg><style>" + IMG + "</style></svg>",
            "<svg><style>"
            + IMG.replace("src", 'data-optout-rule="gtm" data-optout-src')
            + "</style></svg>",
            id="svg style is not rawtext; the breakout img is blocked",
        ),
        pytest.param("<svg><p>" + IMG, "<svg><p>", id="breakout from svg"),
        pytest.param(
            "<svg></svg><![CDATA[ > " + IMG + "]]>",
            "<svg></svg><![CDATA[ > ]]>",
            id="cdata after svg end is bogus comment",
        ),
        pytest.param(
            "<svg/><![CDATA[ > " + IMG + "]]>",
            "<svg/><![CDATA[ > ]]>",
            id="self-closing svg opens nothing",
        ),
        pytest.param(
            "<svg><![CDATA[ > " + IMG + "]]></svg>" + IMG,
            "<svg><![CDATA[ > " + IMG + "]]></svg>",
            id="cdata section in svg",
        ),
        pytest.param(
            "<math><mi><textarea>" + IMG + "</textarea></mi></math>",
            "<math><mi><textarea>" + IMG + "</textarea></mi></math>",
            id="mathml text integration point rcdata",
        ),
        pytest.param(
            "<template>" + IMG + "</template>",
            "<template></template>",
            id="template content is stripped too",
        ),
        pytest.param('<img src="' + TRACKER + '"/>', "", id="self-closing void"),
        pytest.param("<IMG SRC=" + TRACKER + ">", "", id="uppercase unquoted"),
        pytest.param('<img src="' + TRACKER + '" src=/x>', "", id="duplicate first wins"),
        pytest.param("<img src", "<img src", id="eof in tag"),
        pytest.param('<img src="' + TRACKER, '<img src="' + TRACKER, id="eof in attribute"),
        pytest.param("</", "</", id="eof after end tag open"),
        pytest.param("<", "<", id="eof after lt"),
        pytest.param("</>" + IMG, "</>", id="empty end tag"),
        pytest.param("a\x00b" + IMG + "\x00", "a\x00b\x00", id="nul in text"),
        pytest.param(
            "<div>" + IMG.replace("src", "s\x00rc") + "</div>",
            "<div>" + IMG.replace("src", "s\x00rc") + "</div>",
            id="nul in attr name",
        ),
    ],
)
def test_tokenizer_edge(doc: str, expected: str) -> None:
    out, _ = rewrite_checked(doc.encode(), RULES)
    assert out == expected.encode()
    assert active_tracker_fetches(out, RULES) == []


def test_cdata_in_svg_hides_then_tracker_after_svg() -> None:
    doc = f"<svg><![CDATA[ ]]> <![CDATA[{IMG}]]></svg>{IMG}".encode()
    _check(doc, f"<svg><![CDATA[ ]]> <![CDATA[{IMG}]]></svg>".encode())


def test_nested_svg_needs_both_end_tags() -> None:
    doc = f"<svg><svg></svg><![CDATA[>{IMG}]]></svg><![CDATA[>{IMG}]]>".encode()
    out, _ = rewrite_checked(doc, RULES)
    assert out == f"<svg><svg></svg><![CDATA[>{IMG}]]></svg><![CDATA[>]]>".encode()


def test_stripped_object_content_is_tokenized() -> None:
    # The "</object>" inside the comment and the script does not end the stripped object.
    doc = (
        f'<object data="{TRACKER}"><!-- </object> --><script>"</object>"</script>'
        f"<textarea></object></textarea></object>after"
    ).encode()
    out, _ = rewrite_checked(doc, RULES)
    assert out == b"after"


def test_stripped_script_with_escaped_end_tag() -> None:
    doc = f'<script src="{TRACKER}"><!--<script></script>--></script>after'.encode()
    out, _ = rewrite_checked(doc, RULES)
    assert out == b"after"


def test_stripped_script_to_eof() -> None:
    doc = f'<p>x</p><script src="{TRACKER}">never closed <p>'.encode()
    out, _ = rewrite_checked(doc, RULES)
    assert out == b"<p>x</p>"


def test_inline_script_to_eof_is_judged() -> None:
    doc = b"<p>x</p><script>fbq('init', 1)"
    out, rw = rewrite_checked(doc, RULES)
    assert out == b"<p>x</p>"
    assert rw.findings[0].rule == "meta"


def test_breakout_tracker_is_blocked_not_stripped() -> None:
    # Removing the <img> would leave the <image> inside the SVG, where it fetches.
    doc = b'<base href="https://www.googletagmanager.com/"><svg><img src=/p.gif><image href=x>'
    out, rw = rewrite_checked(doc, RULES)
    assert out == (
        b'<base href="https://www.googletagmanager.com/"><svg>'
        b'<img data-optout-rule="gtm" data-optout-src=/p.gif><image href=x>'
    )
    assert rw.findings[0].action is Action.BLOCK
    assert active_tracker_fetches(out, RULES) == []


def test_svg_script_strip_drops_its_content() -> None:
    doc = f'<svg><script href="{TRACKER}"><![CDATA[ ]]></script><rect/></svg>'.encode()
    out, _ = rewrite_checked(doc, RULES)
    assert out == b"<svg><rect/></svg>"


@pytest.mark.parametrize("action", [Action.STRIP, Action.BLOCK])
def test_block_and_strip_agree_with_oracle_on_mixed_page(action: Action) -> None:
    rules = make_rules(action)
    doc = (
        "<!doctype html><html><head><title>T " + IMG + "</title>"
        f'<script async src="{TRACKER}"></script>'
        "<script>window.dataLayer=[];gtag('js', new Date());</script>"
        "</head><body><h1>Hi</h1><!-- " + IMG + " -->"
        f'<noscript><iframe src="{TRACKER}"></iframe></noscript>'
        f"<p class=\"a\" data-x='{TAG}'>text</p>" + IMG + "<textarea>" + IMG + "</textarea>"
        "<svg><script><![CDATA[fbq('init')]]></script></svg>"
        "</body></html>"
    ).encode()
    out, rw = rewrite_checked(doc, rules)
    assert len(rw.findings) == 5
    for scripting in (True, False):
        assert active_tracker_fetches(out, rules, scripting=scripting) == []
    assert canonical_tree(out, None) == canonical_tree(doc, rules)
