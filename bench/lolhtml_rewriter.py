"""Baseline: the same job on python-lolhtml (lol-html, Rust), with Python handlers.

The handlers do the work the optout-mw rewriter does, element for element
(docs/rewriter.md, "What it acts on"): the same elements and URL attributes, the
``rel`` list of ``<link>``, ``input type=image``, SVG ``href``/``xlink:href``, inline
scripts judged by their text unless their ``type`` is a JSON data block, ``<noscript>``
content judged as text. Attribute values are read after character references are decoded,
as optout-mw reads them (lol-html hands them over raw). lol-html cannot take back text it
has already streamed, so a matching inline script only loses its last text fragment: the
work per element is what this measures, not the output.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable
from typing import Any, SupportsIndex

from optout_mw.rules import RuleSet

_RELS = frozenset(
    {
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
)
_SRCSET = frozenset({"srcset", "imagesrcset"})
_JSON_TYPES = frozenset({"application/json", "application/ld+json"})

#: selector -> URL attributes judged on it
_FETCHING: dict[str, tuple[str, ...]] = {
    "script[src], script[href], script[xlink\\:href]": ("src", "href", "xlink:href"),
    "img, image": ("src", "srcset", "href", "xlink:href"),
    "source": ("src", "srcset"),
    "iframe, frame, embed, track": ("src",),
    "object[data]": ("data",),
    "video": ("src", "poster"),
    "audio": ("src",),
}


def _decoded(value: str) -> str:
    return html.unescape(value) if "&" in value else value


def _urls(name: str, value: str) -> list[str]:
    if name not in _SRCSET:
        return [value]
    return [c.split()[0] for c in value.split(",") if c.strip()]


def make_lolhtml(rules: RuleSet) -> Callable[[list[bytes]], bytes] | None:
    """A runner ``chunks -> output``, or None when python-lolhtml is not installed."""
    try:
        import lolhtml
    except ImportError:
        return None

    def tracker(el: Any, names: Iterable[str]) -> bool:
        for name in names:
            value = el.get_attribute(name)
            if value is None:
                continue
            for url in _urls(name, _decoded(value)):
                if rules.match_url(url) is not None:
                    return True
        return False

    class Fetching:
        def __init__(self, names: tuple[str, ...]) -> None:
            self.names = names

        def element(self, el: Any) -> None:
            if tracker(el, self.names):
                el.remove()

    class Link:
        def element(self, el: Any) -> None:
            rel = _decoded(el.get_attribute("rel") or "").lower().split()
            if _RELS.intersection(rel) and tracker(el, ("href", "imagesrcset")):
                el.remove()

    class Input:
        def element(self, el: Any) -> None:
            if (el.get_attribute("type") or "").strip().lower() == "image" and tracker(
                el, ("src",)
            ):
                el.remove()

    class Inline:
        """Collect an inline script's or a noscript block's text (it arrives in fragments)
        and judge it whole."""

        def __init__(self, typed: bool) -> None:
            self.typed = typed
            self.active = True
            self.parts: list[str] = []

        def element(self, el: Any) -> None:
            self.parts = []
            kind = _decoded(el.get_attribute("type") or "").strip().lower() if self.typed else ""
            self.active = not (kind in _JSON_TYPES or kind.endswith("+json"))

        def text(self, chunk: Any) -> None:
            if not self.active:
                return
            self.parts.append(chunk.text)
            if chunk.last_in_text_node:
                text = "".join(self.parts)
                self.parts = []
                if rules.match_inline(text) is not None:
                    chunk.remove()

    def run(chunks: list[bytes]) -> bytes:
        out: list[bytes] = []

        def sink(data: bytes | bytearray | Iterable[SupportsIndex]) -> None:
            out.append(bytes(data))

        rw = lolhtml.HTMLRewriter(sink)
        for selector, names in _FETCHING.items():
            rw.on(selector, Fetching(names))
        rw.on("link", Link())
        rw.on("input[type]", Input())
        rw.on("script:not([src])", Inline(typed=True))
        rw.on("noscript", Inline(typed=False))
        for c in chunks:
            rw.write(c)
        rw.end()
        return b"".join(out)

    return run
