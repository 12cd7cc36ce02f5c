"""Blocked-tag markup in the formats consent tools re-activate on opt-in.

Pure functions: given the element, whether a script is inline, the attributes that fetch,
and the rule's category, :func:`block_edits` says which attributes to write, which to
rename and which class tokens to add. :func:`apply_block_edits` applies them to an
attribute list, as the rewriter does on bytes: new attributes go right after the tag name
(the HTML tokenizer keeps the first of duplicate attributes, so they win), renamed ones
keep their place and value. Formats, from each vendor's documented manual blocking:

- ``onetrust``: ``type="text/plain"`` and ``class="optanon-category-C0004"`` on scripts
  (``src`` kept: a script whose type is not JavaScript is never fetched); iframes move
  ``src`` to ``data-src``.
- ``cookiebot``: ``type="text/plain"`` and ``data-cookieconsent="marketing"`` on scripts;
  other elements move ``src`` to ``data-cookieblock-src``.
- ``iubenda``: ``type="text/plain"``, ``class="_iub_cs_activate"`` (``-inline`` for inline
  scripts), ``data-iub-purposes="5"``, and ``src`` moved to ``data-suppressedsrc``.
- ``category``: ``type="text/plain"`` and ``data-category="marketing"``, the form of open
  source tools such as orestbida/cookieconsent (``data-src``, ``data-type`` for the
  original type).
- ``optout``: optout-mw's own form, ``data-optout-`` before every fetching attribute.

Sources: docs/cmp.md ("Block markup").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from optout_mw.errors import ConfigError, did_you_mean

__all__ = [
    "DEFAULT_CATEGORIES",
    "BlockEdits",
    "BlockFormat",
    "BlockMarkup",
    "apply_block_edits",
    "block_edits",
    "render_start_tag",
]


class BlockFormat(StrEnum):
    OPTOUT = "optout"
    ONETRUST = "onetrust"
    COOKIEBOT = "cookiebot"
    IUBENDA = "iubenda"
    CATEGORY = "category"


#: The category a blocked tag waits for when its rule names none: every preset is a
#: sale, sharing or targeted-advertising tag, so each format's targeting category.
DEFAULT_CATEGORIES: Final = MappingProxyType({
    BlockFormat.OPTOUT: "",
    BlockFormat.ONETRUST: "C0004",
    BlockFormat.COOKIEBOT: "marketing",
    BlockFormat.IUBENDA: "5",
    BlockFormat.CATEGORY: "marketing",
})

#: Prefix of attributes that no consent tool reads (optout-mw's own form).
PREFIX: Final = "data-optout-"

# Where each format parks a fetching ``src`` on elements it re-activates. OneTrust documents
# data-src for iframes only and the open-source tools for scripts only; elsewhere they get
# optout-mw's own name, since lazy-loading libraries fetch a bare data-src by themselves.
_SRC_TARGET: Final = {
    (BlockFormat.ONETRUST, "iframe"): "data-src",
    (BlockFormat.CATEGORY, "script"): "data-src",
}
_SRC_ANYWHERE: Final = {
    BlockFormat.COOKIEBOT: "data-cookieblock-src",
    BlockFormat.IUBENDA: "data-suppressedsrc",
}
# Scripts whose src stays in place: the type alone keeps them from being fetched, and the
# tool re-activates them by copying the element with a JavaScript type.
_SCRIPT_KEEPS_SRC: Final = frozenset((BlockFormat.ONETRUST, BlockFormat.COOKIEBOT))

_CATEGORY_TEXT: Final = {
    BlockFormat.ONETRUST: re.compile(r"[A-Za-z0-9_-]{1,64}"),
    BlockFormat.COOKIEBOT: re.compile(r"(?:preferences|statistics|marketing)"
                                      r"(?:,(?:preferences|statistics|marketing))*"),
    BlockFormat.IUBENDA: re.compile(r"(?:[1-5]|s|sh|adv)(?:,(?:[1-5]|s|sh|adv))*"),
    BlockFormat.CATEGORY: re.compile(r"!?[A-Za-z0-9_-]{1,64}"),
}


@dataclass(frozen=True, slots=True)
class BlockEdits:
    """What blocking one element changes."""

    #: Attributes written right after the tag name, in order (values unescaped).
    insert: tuple[tuple[str, str], ...]
    #: Class tokens put in front of the element's own classes; the merged ``class`` is
    #: written with the inserted attributes and the original ``class`` renamed away.
    add_classes: tuple[str, ...]
    #: Existing attributes renamed, value kept: (old name, new name), lower-case names.
    rename: tuple[tuple[str, str], ...]


def block_edits(
    fmt: BlockFormat,
    element: str,
    *,
    category: str | None = None,
    inline: bool = False,
    fetch_attributes: Iterable[str] = ("src",),
) -> BlockEdits:
    """The edits that block ``element`` in ``fmt`` so the consent tool can re-activate it.

    ``fetch_attributes`` are the element's attributes that make the browser fetch (the
    rewriter's table: ``src``, ``srcset``, ``href``, ``data``, ``srcdoc``, …); for a script,
    ``type`` is handled here. ``category`` defaults to :data:`DEFAULT_CATEGORIES`.
    """
    element = element.lower()
    cat = DEFAULT_CATEGORIES[fmt] if category is None else category
    script = element == "script"
    insert: list[tuple[str, str]] = []
    classes: list[str] = []
    rename: dict[str, str] = {}
    if script:
        insert.append(("type", "text/plain"))
        rename["type"] = "data-type" if fmt is BlockFormat.CATEGORY else PREFIX + "type"
    if fmt is BlockFormat.ONETRUST:
        classes.append(f"optanon-category-{cat}")
    elif fmt is BlockFormat.COOKIEBOT:
        insert.append(("data-cookieconsent", cat))
    elif fmt is BlockFormat.IUBENDA:
        classes.append("_iub_cs_activate-inline" if script and inline else "_iub_cs_activate")
        insert.append(("data-iub-purposes", cat))
    elif fmt is BlockFormat.CATEGORY:
        insert.append(("data-category", cat))
    for attribute in dict.fromkeys(a.lower() for a in fetch_attributes):
        if attribute == "type":
            continue
        if attribute == "src":
            if script and fmt in _SCRIPT_KEEPS_SRC:
                continue
            target = _SRC_TARGET.get((fmt, element)) or _SRC_ANYWHERE.get(fmt)
            rename["src"] = target or PREFIX + "src"
        else:
            rename[attribute] = PREFIX + attribute
    return BlockEdits(tuple(insert), tuple(classes), tuple(rename.items()))


def apply_block_edits(
    attributes: Sequence[tuple[str, str | None]], edits: BlockEdits
) -> list[tuple[str, str | None]]:
    """``attributes`` (name, value or ``None`` for a bare attribute, in source order) with
    ``edits`` applied, the way the rewriter renders a blocked start tag."""
    renames = dict(edits.rename)
    out: list[tuple[str, str | None]] = list(edits.insert)
    if edits.add_classes:
        own = next((v for n, v in attributes if n.lower() == "class"), None)
        tokens = [*edits.add_classes, *(own or "").split()]
        out.append(("class", " ".join(dict.fromkeys(tokens))))
        renames.setdefault("class", PREFIX + "class")
    for name, value in attributes:
        out.append((renames.get(name.lower(), name), value))
    return out


def render_start_tag(element: str, attributes: Sequence[tuple[str, str | None]]) -> str:
    """``<element a="v" b>`` with values escaped for a double-quoted attribute."""
    parts = [f"<{element}"]
    for name, value in attributes:
        if value is None:
            parts.append(f" {name}")
        else:
            escaped = value.replace("&", "&amp;").replace('"', "&quot;")
            parts.append(f' {name}="{escaped}"')
    parts.append(">")
    return "".join(parts)


class BlockMarkup:
    """One configuration's block format and per-rule categories, checked once.

    :param categories: rule (or preset) name -> the category its blocked tags wait for.
    :raises ConfigError: an unknown format, or a category the format cannot express.
    """

    __slots__ = ("categories", "format")

    def __init__(self, fmt: str, categories: Mapping[str, str] | None = None) -> None:
        problems: list[tuple[str, str]] = []
        try:
            self.format = BlockFormat(fmt)
        except ValueError:
            known = [f.value for f in BlockFormat]
            problems.append(("block_markup", did_you_mean(str(fmt), known).replace(
                "unknown key", "unknown format") + f" (known: {', '.join(known)})"))
            raise ConfigError(problems) from None
        given: Mapping[str, object] = dict(categories or {})
        pattern = _CATEGORY_TEXT.get(self.format)
        for rule, category in given.items():
            key = f"block_categories.{rule}"
            if not isinstance(category, str):
                problems.append((key, "must be a string"))
            elif pattern is None:
                problems.append((key, "the optout format has no categories"))
            elif not pattern.fullmatch(category):
                problems.append((key, f"not a {self.format.value} category"))
        if problems:
            raise ConfigError(problems)
        self.categories = {rule: str(category) for rule, category in given.items()}

    def edits(self, element: str, rule: str, *, inline: bool = False,
              fetch_attributes: Iterable[str] = ("src",)) -> BlockEdits:
        return block_edits(self.format, element, category=self.categories.get(rule),
                           inline=inline, fetch_attributes=fetch_attributes)
