"""Baseline: the same job done the usual way, on the standard library's ``html.parser``.

Start tags are re-emitted from their source text (``get_starttag_text``), other tokens
from what the parser reports; elements matched by the rules are dropped (for script,
iframe, noscript and object, up to their end tag); inline scripts and noscript blocks are
held until their end tag and judged with ``match_inline`` (not JSON data blocks, which
optout-mw does not judge either). The elements and attributes are those optout-mw judges
(docs/rewriter.md, "What it acts on"). Bytes are decoded as latin-1 so
that every byte maps to one character and back. Not byte-identical (end tags and some
declarations are re-serialised), which only flatters the baseline.
"""

from __future__ import annotations

from html.parser import HTMLParser

from optout_mw.rules import RuleSet

_FETCH = {
    "script": ("src", "href", "xlink:href"),
    "img": ("src", "srcset"),
    "image": ("src", "srcset", "href", "xlink:href"),
    "source": ("src", "srcset"),
    "iframe": ("src",),
    "frame": ("src",),
    "embed": ("src",),
    "track": ("src",),
    "input": ("src",),
    "object": ("data",),
    "video": ("src", "poster"),
    "audio": ("src",),
    "link": ("href", "imagesrcset"),
}
_CONTENT = {"script", "iframe", "object", "noscript", "video", "audio"}
_RELS = {
    "preload", "prefetch", "preconnect", "dns-prefetch", "modulepreload", "stylesheet", "prerender",
    "icon", "apple-touch-icon", "apple-touch-icon-precomposed", "mask-icon", "manifest",
}
_JSON_TYPES = {"application/json", "application/ld+json"}


def _is_data_block(attrs: list[tuple[str, str | None]]) -> bool:
    kind = next((v or "" for k, v in attrs if k == "type"), "").strip().lower()
    return kind in _JSON_TYPES or kind.endswith("+json")


def _urls(name: str, value: str) -> list[str]:
    if name.endswith("srcset"):
        return [c.strip().split()[0] for c in value.split(",") if c.strip()]
    return [value]


class HTMLParserRewriter(HTMLParser):
    """``feed(bytes) -> bytes`` / ``close() -> bytes`` on top of ``html.parser``."""

    def __init__(self, rules: RuleSet) -> None:
        super().__init__(convert_charrefs=False)
        self._rules = rules
        self._out: list[str] = []
        self._drop: str | None = None
        self._depth = 0
        self._held: list[str] | None = None
        self._held_tag = ""

    def feed(self, data: bytes) -> bytes:  # type: ignore[override]
        super().feed(data.decode("latin-1"))
        return self._take()

    def close(self) -> bytes:  # type: ignore[override]
        super().close()
        if self._held is not None:
            self._out.append(self._held_tag + "".join(self._held))
        return self._take()

    def _take(self) -> bytes:
        out = "".join(self._out).encode("latin-1")
        self._out = []
        return out

    def _emit(self, text: str) -> None:
        if self._drop is not None:
            return
        if self._held is not None:
            self._held.append(text)
        else:
            self._out.append(text)

    def _is_tracker(self, tag: str, attrs: list[tuple[str, str | None]]) -> bool:
        names = _FETCH.get(tag)
        if names is None:
            return False
        values = {k: v or "" for k, v in reversed(attrs)}
        if tag == "link" and not _RELS.intersection(values.get("rel", "").lower().split()):
            return False
        if tag == "input" and values.get("type", "").strip().lower() != "image":
            return False
        for name in names:
            value = values.get(name)
            if value is None:
                continue
            for url in _urls(name, value):
                if self._rules.match_url(url) is not None:
                    return True
        return False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        text = self.get_starttag_text() or ""
        if self._drop is not None:
            if tag == self._drop:
                self._depth += 1
            return
        if self._is_tracker(tag, attrs):
            if tag in _CONTENT:
                self._drop = tag
                self._depth = 0
            return
        if tag in ("script", "noscript") and not any(k == "src" for k, _ in attrs) and not (
            tag == "script" and _is_data_block(attrs)
        ):
            self._held = []
            self._held_tag = text
            return
        self._emit(text)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._drop is None and not self._is_tracker(tag, attrs):
            self._emit(self.get_starttag_text() or "")

    def handle_endtag(self, tag: str) -> None:
        if self._drop is not None:
            if tag == self._drop:
                if self._depth:
                    self._depth -= 1
                else:
                    self._drop = None
            return
        if self._held is not None and tag in ("script", "noscript"):
            held = "".join(self._held)
            self._held = None
            if self._rules.match_inline(held) is None:
                self._out.append(self._held_tag + held + f"</{tag}>")
            return
        self._emit(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        self._emit(data)

    def handle_comment(self, data: str) -> None:
        self._emit(f"<!--{data}-->")

    def handle_entityref(self, name: str) -> None:
        self._emit(f"&{name};")

    def handle_charref(self, name: str) -> None:
        self._emit(f"&#{name};")

    def handle_decl(self, decl: str) -> None:
        self._emit(f"<!{decl}>")

    def handle_pi(self, data: str) -> None:
        self._emit(f"<?{data}>")

    def unknown_decl(self, data: str) -> None:
        self._emit(f"<![{data}]>")
