"""Blocked-tag markup in the formats consent tools re-activate (the e2e tests run each
tool's documented re-activation in Chromium; these pin the markup itself)."""

from __future__ import annotations

import html5lib
import pytest

from optout_mw.cmp import (
    BlockFormat,
    BlockMarkup,
    apply_block_edits,
    block_edits,
    render_start_tag,
)
from optout_mw.errors import ConfigError

GTM = [("async", None), ("src", "https://www.googletagmanager.com/gtm.js?id=GTM-X&l=dataLayer")]
PIXEL = [("height", "1"), ("width", "1"), ("class", "px"),
         ("src", "https://www.facebook.com/tr?id=1&ev=PageView")]
FRAME = [("src", "https://www.googletagmanager.com/ns.html?id=GTM-X"), ("class", "gtm")]

CASES = [
    pytest.param(BlockFormat.ONETRUST, "script", GTM, False,
                 '<script type="text/plain" class="optanon-category-C0004" async '
                 'src="https://www.googletagmanager.com/gtm.js?id=GTM-X&amp;l=dataLayer">',
                 id="onetrust-script"),
    pytest.param(BlockFormat.ONETRUST, "iframe", FRAME, False,
                 '<iframe class="optanon-category-C0004 gtm" '
                 'data-src="https://www.googletagmanager.com/ns.html?id=GTM-X" '
                 'data-optout-class="gtm">', id="onetrust-iframe"),
    pytest.param(BlockFormat.ONETRUST, "img", PIXEL, False,
                 '<img class="optanon-category-C0004 px" height="1" width="1" '
                 'data-optout-class="px" data-optout-src="https://www.facebook.com/tr?id=1&amp;'
                 'ev=PageView">', id="onetrust-img"),
    pytest.param(BlockFormat.COOKIEBOT, "script", GTM, False,
                 '<script type="text/plain" data-cookieconsent="marketing" async '
                 'src="https://www.googletagmanager.com/gtm.js?id=GTM-X&amp;l=dataLayer">',
                 id="cookiebot-script"),
    pytest.param(BlockFormat.COOKIEBOT, "img", PIXEL, False,
                 '<img data-cookieconsent="marketing" height="1" width="1" class="px" '
                 'data-cookieblock-src="https://www.facebook.com/tr?id=1&amp;ev=PageView">',
                 id="cookiebot-img"),
    pytest.param(BlockFormat.IUBENDA, "script", GTM, False,
                 '<script type="text/plain" data-iub-purposes="5" class="_iub_cs_activate" '
                 'async data-suppressedsrc="https://www.googletagmanager.com/gtm.js?id=GTM-X'
                 '&amp;l=dataLayer">', id="iubenda-script"),
    pytest.param(BlockFormat.IUBENDA, "script", [], True,
                 '<script type="text/plain" data-iub-purposes="5" '
                 'class="_iub_cs_activate-inline">', id="iubenda-inline"),
    pytest.param(BlockFormat.CATEGORY, "script", [("type", "module"), *GTM], False,
                 '<script type="text/plain" data-category="marketing" data-type="module" async '
                 'data-src="https://www.googletagmanager.com/gtm.js?id=GTM-X&amp;l=dataLayer">',
                 id="category-script-module"),
    pytest.param(BlockFormat.CATEGORY, "img", PIXEL, False,
                 '<img data-category="marketing" height="1" width="1" class="px" '
                 'data-optout-src="https://www.facebook.com/tr?id=1&amp;ev=PageView">',
                 id="category-img"),
    pytest.param(BlockFormat.OPTOUT, "script", GTM, False,
                 '<script type="text/plain" async data-optout-src="https://www.googletagmanager'
                 '.com/gtm.js?id=GTM-X&amp;l=dataLayer">', id="optout-script"),
]


@pytest.mark.parametrize(("fmt", "element", "attrs", "inline", "expected"), CASES)
def test_block_markup(fmt: BlockFormat, element: str, attrs: list[tuple[str, str | None]],
                      inline: bool, expected: str) -> None:
    edits = block_edits(fmt, element, inline=inline, fetch_attributes=("src",))
    tag = render_start_tag(element, apply_block_edits(attrs, edits))
    assert tag == expected


@pytest.mark.parametrize("fmt", list(BlockFormat))
@pytest.mark.parametrize(("element", "attrs"), [("script", GTM), ("img", PIXEL),
                                                ("iframe", FRAME)])
def test_nothing_fetches_after_blocking(fmt: BlockFormat, element: str,
                                        attrs: list[tuple[str, str | None]]) -> None:
    """Parsed by html5lib (a spec parser), the blocked element has no fetching attribute
    left, or is a script of a type browsers never run or fetch."""
    tag = render_start_tag(element, apply_block_edits(attrs, block_edits(fmt, element)))
    closing = "" if element == "img" else f"</{element}>"
    doc = html5lib.parse(f"<body>{tag}{closing}", namespaceHTMLElements=False)
    node = doc.find(f".//{element}")
    assert node is not None
    if element == "script":
        assert node.get("type") == "text/plain"
    else:
        assert node.get("src") is None


def test_categories_per_rule_and_validation() -> None:
    markup = BlockMarkup("cookiebot", {"tiktok": "statistics"})
    assert ("data-cookieconsent", "statistics") in markup.edits("script", "tiktok").insert
    assert ("data-cookieconsent", "marketing") in markup.edits("script", "meta").insert
    with pytest.raises(ConfigError) as caught:
        BlockMarkup("iubenda", {"meta": "targeting", "gtm": "4,5"})
    assert [k for k, _ in caught.value.problems] == ["block_categories.meta"]
    with pytest.raises(ConfigError, match="did you mean 'onetrust'"):
        BlockMarkup("onetrst")


def test_other_fetching_attributes_get_the_house_prefix() -> None:
    edits = block_edits(BlockFormat.COOKIEBOT, "img", fetch_attributes=("src", "srcset"))
    assert dict(edits.rename) == {"src": "data-cookieblock-src", "srcset": "data-optout-srcset"}
