"""Byte-level HTML syntax for the rewriter: compiled patterns and small decoders.

The patterns follow the WHATWG HTML tokenizer (https://html.spec.whatwg.org/#tokenization).
They run over ``bytes``: tag syntax is ASCII, so any ASCII-compatible document can be
scanned without decoding it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from html import unescape
from html.entities import html5

# ASCII whitespace as the tokenizer sees it. CR counts because input preprocessing turns
# CR and CRLF into LF before tokenization. (Not ``\s``: that also matches ``\v``.)
WS = rb"\t\n\f\r "
WS_BYTES = b"\t\n\f\r "

# From after a tag name up to (not including) its ``>``: the "before attribute name",
# "attribute name", "after attribute name", "before attribute value", the three attribute
# value states and "self-closing start tag". A ``/`` outside a value is skipped, an
# attribute name may start with ``=`` and may hold quotes or ``<``; an unquoted value runs
# to whitespace or ``>``. Possessive quantifiers keep failure (an unfinished tag at the end
# of a chunk) linear.
ATTRS = (
    rb"(?:[" + WS + rb"/]++"
    rb"|[^" + WS + rb"/>][^" + WS + rb"/>=]*+[" + WS + rb"]*+"
    # Once "=" follows a name the value is committed to: quoted, unquoted, or absent only
    # when ">" comes next. Without this an unfinished quoted value could be re-read as
    # more attribute names and the tag would seem to end inside the quotes.
    rb"(?:=[" + WS + rb"]*+(?:\"[^\"]*+\"|'[^']*+'|[^" + WS + rb">\"'][^" + WS + rb">]*+|(?=>))"
    rb"|(?!=))"
    rb")*+"
)

# A whole start or end tag ("tag open" / "end tag open" followed by an ASCII alpha). End
# tags carry attributes too and are tokenized the same way, so ``</script a=">">`` ends
# at the second ``>``. Groups: 1 ``/`` for an end tag, 2 the raw name, 3 the attributes.
TAG = re.compile(rb"<(/?)([a-zA-Z][^" + WS + rb"/>]*+)(" + ATTRS + rb")>")

# One attribute (groups: 1 name, 2/3/4 double-quoted/single-quoted/unquoted value) or a
# run of separators (no group matches).
ATTR = re.compile(
    rb"([^" + WS + rb"/>][^" + WS + rb"/>=]*)[" + WS + rb"]*"
    rb"(?:=[" + WS + rb"]*"
    rb"(?:\"([^\"]*)\"|'([^']*)'|([^" + WS + rb">\"'][^" + WS + rb">]*))?)?"
    rb"|[" + WS + rb"/]+"
)

# Script data: "<!--" enters the script data escaped state; "</script" + delimiter is the
# appropriate end tag. Escaped: "-->" leaves, "<script" + delimiter enters the double
# escaped state. Double escaped: "</script" + delimiter returns to escaped, "-->" leaves.
SCRIPT_SCAN = re.compile(rb"<(?:!--|/(?i:script)[" + WS + rb"/>])")
SCRIPT_ESC_SCAN = re.compile(rb"-->|<(/?)(?i:script)[" + WS + rb"/>]")
SCRIPT_DESC_SCAN = re.compile(rb"-->|</(?i:script)[" + WS + rb"/>]")
SCRIPT_KEEP = 8  # len(b"</script"): a match can need this many bytes before the delimiter

# Where a "</name" + delimiter sequence would end RCDATA or RAWTEXT.
_RAW_END: dict[bytes, re.Pattern[bytes]] = {}


def raw_end(name: bytes) -> re.Pattern[bytes]:
    pattern = _RAW_END.get(name)
    if pattern is None:
        pattern = re.compile(rb"</(?i:" + re.escape(name) + rb")[" + WS + rb"/>]")
        _RAW_END[name] = pattern
    return pattern


def alternation(names: Iterable[bytes]) -> bytes:
    """A regex alternation of literal names, factored on the first byte.

    Factoring keeps the negative look-ahead in the skip pattern cheap: the engine tests
    one first byte instead of every name.
    """
    groups: dict[int, list[bytes]] = {}
    for name in sorted(set(names), key=lambda n: (-len(n), n)):
        groups.setdefault(name[0], []).append(name[1:])
    parts = []
    for first, rests in sorted(groups.items()):
        head = re.escape(bytes([first]))
        tails = [re.escape(r) for r in rests]
        if len(tails) == 1:
            parts.append(head + tails[0])
        else:
            parts.append(head + b"(?:" + b"|".join(tails) + b")")
    return b"(?i:" + b"|".join(parts) + b")"


# Attributes whose value a fetching element resolves as a URL.
URL_ATTRS = (b"src", b"srcset", b"href", b"data", b"poster", b"imagesrcset")
# Fetching elements that change no tokenizer state (iframe does: RAWTEXT).
SAFE_FETCH_NAMES = (
    b"img",
    b"image",
    b"source",
    b"embed",
    b"input",
    b"track",
    b"frame",
    b"link",
    b"video",
    b"audio",
    b"object",
)
# Foreign content: start and end tags that need the slow path (kept in sync with the
# rewriter's tables; a swallowed <svg> must contain none of them).
FOREIGN_START = (
    b"b big blockquote body br center code dd div dl dt em embed h1 h2 h3 h4 h5 h6 head hr "
    b"i img li listing menu meta nobr ol p pre ruby s small span strong strike sub sup "
    b"table tt u ul var foreignobject desc title mi mo mn ms mtext font annotation-xml svg "
    b"math script image"
).split()
FOREIGN_END = (
    b"foreignobject desc title mi mo mn ms mtext annotation-xml svg math script image p br"
).split()

_DELIM = rb"[" + WS + rb"/>]"
_NAME = rb"[a-zA-Z][^" + WS + rb"/>]*+"
# Comments are common in real pages, so the plain form is skipped too: "<!--" not
# followed by "->" or ">" (the abrupt endings), up to the first "-->". A comment that
# "--!>" ends first fails this branch and reaches the slow path.
_COMMENT = rb"<!--(?!-?>)(?:[^-]++|-(?!-!?>))*+-->"
_LT_TEXT = rb"<(?=[^a-zA-Z!/?])"

# A URL value that cannot leave the document's origin: no scheme (no ":", which a
# character reference could hide behind "&"), no backslash, and no "//" (tabs and
# newlines inside a URL are removed before parsing, so "/\t/" counts as "//").
_SAFE_CHARS_DQ = rb"[^\"&:\\/]"
_SAFE_CHARS_SQ = rb"[^'&:\\/]"
_SAFE_CHARS_UQ = rb"[^" + WS + rb">&:\\/]"
_SLASH_OK = rb"/(?![\t\n\r]*+[/\\])"


def _safe_run(chars: bytes) -> bytes:
    return chars + rb"*+(?:" + _SLASH_OK + chars + rb"*+)*+"


_SAFE_VALUE = (
    rb"(?:\"" + _safe_run(_SAFE_CHARS_DQ) + rb"\""
    rb"|'" + _safe_run(_SAFE_CHARS_SQ) + rb"'"
    rb"|(?=[^" + WS + rb">\"'])" + _safe_run(_SAFE_CHARS_UQ) + rb"(?=[" + WS + rb">])"
    rb"|(?=>))"
)
_ANY_VALUE = rb"(?:\"[^\"]*+\"|'[^']*+'|[^" + WS + rb">\"'][^" + WS + rb">]*+|(?=>))"
# ATTRS again, with every URL attribute restricted to a value that stays same-origin.
_SAFE_ATTRS = (
    rb"(?:[" + WS + rb"/]++"
    rb"|" + alternation(URL_ATTRS) + rb"(?![^" + WS + rb"/>=])[" + WS + rb"]*+"
    rb"(?:=[" + WS + rb"]*+" + _SAFE_VALUE + rb"|(?!=))"
    rb"|(?!" + alternation(URL_ATTRS) + rb"(?![^" + WS + rb"/>=]))"
    rb"[^" + WS + rb"/>][^" + WS + rb"/>=]*+[" + WS + rb"]*+"
    rb"(?:=[" + WS + rb"]*+" + _ANY_VALUE + rb"|(?!=))"
    rb")*+"
)


# The common shape of a tag, matched much faster than ATTRS: a plain name, then
# attributes that are bare or have a quoted value directly after "=". It is exact where
# it matches: every quote follows "=", that "=" follows an attribute name character (not
# whitespace, "/" or a closing quote, after which "=" would start a name), and no value is
# unquoted, so no "=" or quote can sit inside an unquoted value. Anything else fails it
# and falls back to the full ATTRS form.
_RUN = rb"[^>\"'=]*+"
_EQ = rb"(?<=[^" + WS + rb"/\"'])="
_FAST_ATTRS = _RUN + rb"(?:" + _EQ + rb"(?:\"[^\"]*+\"|'[^']*+')" + _RUN + rb")*+"
_FAST_NAME = rb"[a-zA-Z][a-zA-Z0-9-]*+(?=[" + WS + rb"/>])"


def _not_url_attr() -> bytes:
    """Look-behinds at "=": the attribute just named is not a URL attribute."""
    by_len: dict[int, list[bytes]] = {}
    for name in URL_ATTRS:
        by_len.setdefault(len(name), []).append(name)
    sep = rb"[" + WS + rb"/\"']"
    return b"".join(
        rb"(?<!" + sep + b"(?i:" + b"|".join(names) + b"))" for names in by_len.values()
    )


_SAFE_FAST_ATTRS = (
    _RUN
    + rb"(?:(?<=[^"
    + WS
    + rb"/\"'])"
    + rb"(?:=(?:\""
    + _safe_run(_SAFE_CHARS_DQ)
    + rb"\"|'"
    + _safe_run(_SAFE_CHARS_SQ)
    + rb"')"
    + rb"|"
    + _not_url_attr()
    + rb"=(?:\"[^\"]*+\"|'[^']*+'))"
    + _RUN
    + rb")*+"
)


def _tag_forms(start_names: frozenset[bytes], end_names: frozenset[bytes]) -> list[bytes]:
    """Start and end tags whose names are not listed: fast forms, then full forms."""
    not_start = rb"(?!" + alternation(start_names) + _DELIM + rb")"
    not_end = rb"(?!" + alternation(end_names) + _DELIM + rb")" if end_names else b""
    return [
        rb"<" + not_start + _FAST_NAME + _FAST_ATTRS + rb">",
        rb"</" + not_end + _FAST_NAME + rb"[" + WS + rb"]*+>",
        rb"<" + not_start + _NAME + ATTRS + rb">",
        rb"</" + not_end + _NAME + ATTRS + rb">",
    ]


@lru_cache(maxsize=64)
def skip_pattern(
    start_names: frozenset[bytes], end_names: frozenset[bytes], same_origin: bool = False
) -> re.Pattern[bytes]:
    """The fast path of the data state.

    One ``match`` consumes text and every complete tag whose name is not listed, with its
    attributes, so ``<div title='<script src=x>'>`` is consumed whole and its value is
    never mistaken for a tag. It stops at the first ``<`` that needs a closer look: a
    listed tag, a comment, ``<!``, ``<?``, ``</`` not followed by a letter, or an
    unfinished construct at the end of the input.

    In HTML content (``svg`` listed) a whole ``<svg>`` element whose content needs no
    closer look is consumed too (inline icons). With ``same_origin`` (no ``<base>``, or a
    harmless one), fetching elements that change no tokenizer state and whose URL
    attributes are all same-origin relative URLs are consumed as well: they cannot reach
    a third party.
    """
    fast_start, fast_end, full_start, full_end = _tag_forms(start_names, end_names)
    # Order matters for speed only: the common shapes first, the full forms last.
    parts = [fast_start, fast_end]
    slow = [_COMMENT, full_start, full_end]
    if same_origin:
        names = [n for n in SAFE_FETCH_NAMES if n in start_names]
        if names:
            head = rb"<" + alternation(names) + rb"(?=" + _DELIM + rb")"
            parts.append(head + _SAFE_FAST_ATTRS + rb">")
            slow.append(head + _SAFE_ATTRS + rb">")
    if b"svg" in start_names:
        not_start = rb"(?!" + alternation(FOREIGN_START) + _DELIM + rb")"
        not_end = rb"(?!" + alternation(FOREIGN_END) + _DELIM + rb")"
        f_start = rb"<" + not_start + _FAST_NAME + _FAST_ATTRS + rb">"
        f_end = rb"</" + not_end + _FAST_NAME + rb"[" + WS + rb"]*+>"
        inner = b"|".join((f_start, f_end, _COMMENT, _LT_TEXT))
        content = rb"(?:[^<]*+(?:" + inner + rb"))*+[^<]*+"
        # Only the fast form, so a "/" before ">" can only mean <svg/> (no content): such
        # tags, and anything unusual inside, are left to the slow path.
        parts.append(
            rb"<(?i:svg)(?=["
            + WS
            + rb"/>])"
            + _FAST_ATTRS
            + rb"(?<!/)>"
            + content
            + rb"</(?i:svg)["
            + WS
            + rb"]*+>"
        )
    parts.extend(slow)
    parts.append(_LT_TEXT)
    # Text and the tag after it in one iteration: group repetition is what costs in re.
    return re.compile(rb"(?:[^<]*+(?:" + b"|".join(parts) + rb"))*+[^<]*+")


# Character references in attribute values ("character reference state" with the
# attribute-value rules).
_CHARREF = re.compile(r"&(?:(#[xX][0-9a-fA-F]+;?|#[0-9]+;?)|([a-zA-Z0-9]+)(;?))")
_LEGACY = frozenset(k for k in html5 if not k.endswith(";"))
_LEGACY_MAX = max(len(k) for k in _LEGACY)


def _charref(m: re.Match[str]) -> str:
    numeric = m.group(1)
    if numeric is not None:
        # html.unescape implements the numeric rules exactly (NUL, surrogates, C1 table,
        # out of range, missing semicolon).
        return unescape("&" + numeric)
    word = m.group(2)
    semi = m.group(3)
    if semi and word + ";" in html5:
        return html5[word + ";"]
    # Longest legacy name (no semicolon) that prefixes the word.
    for k in range(min(len(word), _LEGACY_MAX), 1, -1):
        prefix = word[:k]
        if prefix in _LEGACY:
            if k < len(word):
                nxt = word[k]
            elif semi:
                nxt = ";"
            else:
                end = m.end()
                nxt = m.string[end] if end < len(m.string) else ""
            # In an attribute value a legacy reference followed by "=" or an alphanumeric
            # is left alone (historical reasons, see "named character reference state").
            if nxt == "=" or (nxt.isascii() and nxt.isalnum()):
                return m.group(0)
            return html5[prefix] + word[k:] + semi
    return m.group(0)


def decode_attr(raw: bytes) -> str:
    """Decode an attribute value as the tokenizer would, to ``str``.

    Bytes are read as UTF-8 (what nearly every page uses), falling back to latin-1 so that
    no input is rejected; tracker URLs are ASCII either way. NUL becomes U+FFFD as in the
    attribute value states.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    if "\x00" in text:
        text = text.replace("\x00", "\ufffd")
    if "&" in text:
        text = _CHARREF.sub(_charref, text)
    return text


def decode_text(raw: bytes) -> str:
    """Decode raw text (inline script or noscript content) for marker matching."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


_SRCSET_WS = " \t\n\f\r"
_SRCSET_DESCRIPTORS = re.compile(r"(?:[^,(]|\([^)]*\)?)*,?")


def srcset_urls(value: str) -> list[str]:
    """URLs of a ``srcset`` value, per "parse a srcset attribute"."""
    urls: list[str] = []
    pos = 0
    n = len(value)
    while True:
        while pos < n and (value[pos] in _SRCSET_WS or value[pos] == ","):
            pos += 1
        if pos >= n:
            return urls
        start = pos
        while pos < n and value[pos] not in _SRCSET_WS:
            pos += 1
        url = value[start:pos]
        if url.endswith(","):
            url = url.rstrip(",")
        else:
            # Descriptors run to the first comma outside parentheses.
            m = _SRCSET_DESCRIPTORS.match(value, pos)
            pos = m.end() if m else n
        if url:
            urls.append(url)


def escape_attr(value: str) -> bytes:
    """A value safe inside a double-quoted attribute, as UTF-8."""
    return (
        value.replace("&", "&amp;")
        .replace('"', "&quot;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .encode("utf-8")
    )
