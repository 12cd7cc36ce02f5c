"""html5lib as an oracle for the rewriter.

A spec-conformant parser says what a browser would build from the bytes. Two questions:

* :func:`active_tracker_fetches` - which elements in the parse of a document would still
  fetch from (or run code of) a configured tracker?
* :func:`canonical_tree` - the parse tree with tracker elements (or, in rewriter output,
  blocked elements) filtered out, as nested tuples with adjacent text merged, so the
  trees of input and output can be compared for "nothing else changed".
"""

from __future__ import annotations

import base64
import re
import urllib.parse
import xml.etree.ElementTree as ET
from typing import Any, TypeAlias

import html5lib

from optout_mw.rewrite import HTMLRewriter
from optout_mw.rules import Action, Rule, RuleSet

SVG = "{http://www.w3.org/2000/svg}"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
# Restated here on purpose rather than imported: an oracle that shares the rewriter's
# tables would agree with any mistake in them.
LINK_RELS = {
    "preload",
    "prefetch",
    "preconnect",
    "dns-prefetch",
    "modulepreload",
    "stylesheet",
    "prerender",
    "icon",
    "apple-touch-icon",
    "apple-touch-icon-precomposed",
    "mask-icon",
    "manifest",
}
BLOCK_MARK = "data-optout-rule"

Node: TypeAlias = "str | tuple[str, tuple[tuple[str, str], ...], tuple[Any, ...]]"

_WS = " \t\n\f\r"
_URLISH = re.compile(r"(?:[a-zA-Z][a-zA-Z0-9+.\-]*:)?//[^\s\"'<>()`]+")


def parse(doc: bytes, *, scripting: bool = True) -> ET.Element:
    parser = html5lib.HTMLParser(namespaceHTMLElements=False)
    # latin-1 maps every byte to one code point, so no input is rejected and tag syntax
    # (ASCII) is untouched.
    root: ET.Element = parser.parse(doc.decode("latin-1"), scripting=scripting)
    return root


def _srcset_urls(value: str) -> list[str]:
    urls = []
    for candidate in re.split(r",(?![^(]*\))", value):
        parts = candidate.strip(_WS).split()
        if parts:
            urls.append(parts[0].rstrip(","))
    return [u for u in urls if u]


def _element_urls(el: ET.Element) -> list[str]:
    """URLs the element would fetch (or run), as a browser with scripting on reads them."""
    tag = el.tag
    get = el.attrib.get
    urls: list[str] = []
    if tag.startswith(SVG):
        if tag in (SVG + "script", SVG + "image"):
            for key in ("href", XLINK_HREF):
                if key in el.attrib:
                    urls.append(el.attrib[key])
        return urls
    if tag in ("script", "iframe", "frame", "embed", "audio", "track"):
        urls.append(get("src", ""))
    elif tag in ("img", "source"):
        urls.append(get("src", ""))
        urls.extend(_srcset_urls(get("srcset", "")))
    elif tag == "object":
        urls.append(get("data", ""))
    elif tag == "video":
        urls.append(get("src", ""))
        urls.append(get("poster", ""))
    elif tag == "input" and get("type", "").strip(_WS).lower() == "image":
        urls.append(get("src", ""))
    elif tag == "link" and LINK_RELS.intersection(get("rel", "").lower().split()):
        urls.append(get("href", ""))
        urls.extend(_srcset_urls(get("imagesrcset", "")))
    return [u for u in urls if u]


def _is_script(el: ET.Element) -> bool:
    """A script element whose inline text may run (JSON data blocks do not)."""
    if el.tag not in ("script", SVG + "script"):
        return False
    essence = el.attrib.get("type", "").partition(";")[0].strip(_WS).lower()
    return essence not in ("application/json", "application/ld+json", "text/json") and (
        not essence.endswith("+json")
    )


def _doc_url_tracker(el: ET.Element, rules: RuleSet, base: str | None) -> str | None:
    """A frame's or object's data: URL document or javascript: URL that names a tracker."""
    if el.tag not in ("iframe", "frame", "embed", "object"):
        return None
    url = el.attrib.get("data" if el.tag == "object" else "src", "")
    url = url.strip(_WS + "\x00").replace("\t", "").replace("\n", "").replace("\r", "")
    scheme, _, rest = url.partition(":")
    if scheme.lower() == "data":
        meta, _, body = rest.partition(",")
        data = urllib.parse.unquote_to_bytes(body)
        if meta.lower().endswith("base64"):
            text = re.sub(r"[^A-Za-z0-9+/]", "", data.decode("latin-1"))
            text = text[:-1] if len(text) % 4 == 1 else text
            data = base64.b64decode(text + "=" * (-len(text) % 4))
        if _fragment_has_tracker(data.decode("latin-1"), rules, base):
            return url
    elif scheme.lower() == "javascript":
        code = urllib.parse.unquote(rest)
        if rules.match_inline(code) is not None:
            return url
    return None


def element_tracker(el: ET.Element, rules: RuleSet, base: str | None) -> str | None:
    """Why this element counts as a tracker for the rewriter, or None."""
    for url in _element_urls(el):
        if rules.match_url(url, base) is not None:
            return url
    doc_url = _doc_url_tracker(el, rules, base)
    if doc_url is not None:
        return doc_url
    if _is_script(el) and not any(k in el.attrib for k in ("src", "href", XLINK_HREF)):
        text = "".join(el.itertext())
        if text and rules.match_inline(text) is not None:
            return "inline"
    if el.tag == "noscript":
        text = el.text or ""
        if _fragment_has_tracker(text, rules, base):
            return "noscript"
    return None


def _fragment_has_tracker(text: str, rules: RuleSet, base: str | None) -> bool:
    if not text:
        return False
    frag = parse(text.encode("latin-1", "replace"), scripting=True)
    if any(element_tracker(el, rules, base) for el in _live(frag, scripting=True)):
        return True
    if any(rules.match_url(u, base) for u in _URLISH.findall(text)):
        return True
    return rules.match_inline(text) is not None


def _live(root: ET.Element, *, scripting: bool) -> list[ET.Element]:
    """Elements a browser would act on: not inside <template> (inert) and, with scripting
    on, not inside <noscript> (whose content is then text anyway)."""
    found: list[ET.Element] = []

    def walk(el: ET.Element) -> None:
        for child in el:
            tag: object = child.tag  # a factory function for comments
            if not isinstance(tag, str):
                continue
            found.append(child)
            if child.tag == "template" or (scripting and child.tag == "noscript"):
                continue
            walk(child)

    walk(root)
    return found


def active_tracker_fetches(
    doc: bytes, rules: RuleSet, *, scripting: bool = True
) -> list[tuple[str, str]]:
    """(tag, url-or-reason) for every element in the parse that would reach a tracker.

    A blocked script (``type="text/plain"`` plus the rule mark) does not run, so its text
    is not held against it; any other element left with a tracker URL in a fetching
    attribute counts.
    """
    root = parse(doc, scripting=scripting)
    hits: list[tuple[str, str]] = []
    base: str | None = None
    for el in _live(root, scripting=scripting):
        # The base URL applies from the <base> element on (the rewriter streams; elements
        # before a late <base> were already sent).
        if base is None and el.tag == "base" and "href" in el.attrib:
            base = el.attrib["href"]
        for url in _element_urls(el):
            if rules.match_url(url, base) is not None:
                hits.append((el.tag, url))
        doc_url = _doc_url_tracker(el, rules, base)
        if doc_url is not None:
            hits.append((el.tag, doc_url))
        if _is_script(el) and BLOCK_MARK not in el.attrib:
            text = "".join(el.itertext())
            if text and rules.match_inline(text) is not None:
                hits.append((el.tag, "inline"))
        if scripting and el.tag == "noscript" and BLOCK_MARK not in el.attrib:
            pass  # content is text with scripting on
    return hits


def canonical_tree(doc: bytes, rules: RuleSet | None, *, scripting: bool = True) -> Node:
    """The parse as nested tuples, minus filtered elements, with adjacent text merged.

    With ``rules``, elements that are trackers are filtered (for the input document);
    elements carrying the block mark are always filtered (for rewriter output).
    """
    root = parse(doc, scripting=scripting)
    # A <base> inside <template> content is inert.
    base_el = next(
        (el for el in _live(root, scripting=scripting) if el.tag == "base" and "href" in el.attrib),
        None,
    )
    passed_base = False

    def keep(el: ET.Element) -> bool:
        nonlocal passed_base
        if el is base_el:
            passed_base = True
        if BLOCK_MARK in el.attrib:
            return False
        base = base_el.attrib["href"] if (base_el is not None and passed_base) else None
        return rules is None or element_tracker(el, rules, base) is None

    def conv(el: ET.Element) -> Node:
        children: list[Any] = []

        def add_text(text: str | None) -> None:
            if not text:
                return
            if children and isinstance(children[-1], str):
                children[-1] += text
            else:
                children.append(text)

        add_text(el.text)
        for child in el:
            tag: object = child.tag  # a factory function for comments
            if not isinstance(tag, str):
                children.append(("#comment", (), (child.text or "",)))
            elif keep(child):
                children.append(conv(child))
            add_text(child.tail)
        attrs = tuple(sorted((str(k), str(v)) for k, v in el.attrib.items()))
        return (str(el.tag), attrs, tuple(children))

    return conv(root)


# --- shared fixtures for the rewriter tests ----------------------------------------------

TRACKER = "https://www.googletagmanager.com/gtm.js?id=GTM-1"
PIXEL = "https://connect.facebook.net/en_US/fbevents.js"


def make_rules(action: Action = Action.STRIP) -> RuleSet:
    """Two vendors, both with the given action."""
    return RuleSet(
        [
            Rule(
                name="gtm",
                hosts=("googletagmanager.com",),
                inline_markers=("gtag(",),
                action=action,
            ),
            Rule(
                name="meta",
                hosts=("connect.facebook.net",),
                inline_markers=("fbq(",),
                action=action,
            ),
        ]
    )


def rewrite(
    doc: bytes, rules: RuleSet, *, chunk: int | None = None, **kwargs: Any
) -> tuple[bytes, HTMLRewriter]:
    """Run a document through a fresh rewriter, whole or in ``chunk``-byte pieces."""
    rw = HTMLRewriter(rules, **kwargs)
    if chunk is None:
        out = rw.feed(doc)
    else:
        out = b"".join(rw.feed(doc[i : i + chunk]) for i in range(0, len(doc), chunk))
    return out + rw.close(), rw


def rewrite_checked(doc: bytes, rules: RuleSet, **kwargs: Any) -> tuple[bytes, HTMLRewriter]:
    """Rewrite whole, and assert 1-byte and 7-byte chunking give the same bytes."""
    out, rw = rewrite(doc, rules, **kwargs)
    for size in (1, 7):
        again, rw2 = rewrite(doc, rules, chunk=size, **kwargs)
        assert again == out, f"chunk={size} changed the output"
        assert rw2.findings == rw.findings, f"chunk={size} changed the findings"
    return out, rw
