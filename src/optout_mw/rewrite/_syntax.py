"""Byte-level HTML syntax for the rewriter: compiled patterns and small decoders.

The patterns follow the WHATWG HTML tokenizer (https://html.spec.whatwg.org/#tokenization).
They run over ``bytes``: tag syntax is ASCII, so any ASCII-compatible document can be
scanned without decoding it.
"""

from __future__ import annotations

import base64
import contextlib
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
# The attribute units of ATTRS one by one, for resuming the scan of an unfinished tag:
# group 1 is the last unit matched (a unit's extent depends only on bytes up to the start
# of the next one, so every unit before the last is final). TAG_REST is the rest of a tag
# from the start of a unit.
_UNIT = ATTRS[3:-3]
TAG_UNITS_FROM = re.compile(rb"(?:(" + _UNIT + rb"))*+")
TAG_REST = re.compile(ATTRS + rb">")
TAG_NAME = re.compile(rb"</?[a-zA-Z][^" + WS + rb"/>]*+")
# The start of an attribute whose quoted value is still open (what stops ATTRS short).
OPEN_VALUE = re.compile(
    rb"[^" + WS + rb"/>][^" + WS + rb"/>=]*+[" + WS + rb"]*+=[" + WS + rb"]*+[\"']"
)

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
    one first byte instead of every name. Letters are written as classes (``[sS]``)
    rather than under ``(?i:)``: the engine skips an alternative that starts with a class
    or a plain literal after one test, but enters every case-insensitive one.
    """
    groups: dict[bytes, list[bytes]] = {}
    for name in sorted({n.lower() for n in names}, key=lambda n: (-len(n), n)):
        groups.setdefault(name[:1], []).append(name[1:])
    parts = []
    for first, rests in sorted(groups.items()):
        head = _letter(first[0])
        tails = [b"".join(_letter(c) for c in r) for r in rests]
        if len(tails) == 1:
            parts.append(head + tails[0])
        else:
            parts.append(head + b"(?:" + b"|".join(tails) + b")")
    return b"(?:" + b"|".join(parts) + b")"


def _letter(c: int) -> bytes:
    ch = bytes([c])
    return b"[" + ch.lower() + ch.upper() + b"]" if ch.isalpha() else re.escape(ch)


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
    b"math script image mglyph malignmark source iframe frame object input video audio track "
    b"link"
).split()
FOREIGN_END = (
    b"foreignobject desc title mi mo mn ms mtext annotation-xml svg math script image p br "
    b"mglyph malignmark"
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


# The fast form's test is simpler and stricter: no tab or newline right after a "/" (such
# values are left to the full form).
_SLASH_OK_FAST = rb"/(?![/\\\t\n\r])"


def _safe_run(chars: bytes, slash: bytes = _SLASH_OK) -> bytes:
    return chars + rb"*+(?:" + slash + chars + rb"*+)*+"


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
# A plain tag name after its first letter (the first letter is matched by the caller).
_FAST_NAME_TAIL = rb"[a-zA-Z0-9-]*+(?=[" + WS + rb"/>])"


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
    + _safe_run(_SAFE_CHARS_DQ, _SLASH_OK_FAST)
    + rb"\"|'"
    + _safe_run(_SAFE_CHARS_SQ, _SLASH_OK_FAST)
    + rb"')"
    + rb"|"
    + _not_url_attr()
    + rb"=(?:\"[^\"]*+\"|'[^']*+'))"
    + _RUN
    + rb")*+"
)


def _start_names(names: Iterable[bytes], tail: bytes) -> bytes:
    """Alternatives for a tag name that is not listed, then ``tail`` (no leading "<").

    One alternative per first letter, each starting with a character class: the engine
    tests that class before entering an alternative, so a tag costs a few class tests and
    at most one short look-ahead (over the listed names with its first letter) instead of
    a look-ahead over every listed name. Letters that start no listed name share one
    alternative without a look-ahead. A one-letter listed name (``p``) adds an empty
    alternative to its letter's look-ahead.
    """
    groups: dict[bytes, list[bytes]] = {}
    for name in names:
        groups.setdefault(name[:1].lower(), []).append(name[1:].lower())
    plain = [bytes([c]) for c in range(0x61, 0x7B) if bytes([c]) not in groups]
    alts = []
    if plain:
        alts.append(b"[" + b"".join(plain) + b"".join(p.upper() for p in plain) + b"]" + tail)
    for first in sorted(groups):
        rests = sorted(set(groups[first]), key=lambda r: (-len(r), r))
        body = b"|".join(b"".join(_letter(c) for c in r) for r in rests)
        alts.append(_letter(first[0]) + b"(?!(?:" + body + b")" + _DELIM + b")" + tail)
    return b"|".join(alts)


def _tag_forms(start_names: frozenset[bytes], end_names: frozenset[bytes]) -> list[bytes]:
    """Start and end tags whose names are not listed: fast forms, then full forms.

    Each form is written without its leading "<" (the skip pattern factors it out).
    """
    not_start = rb"(?!" + alternation(start_names) + _DELIM + rb")"
    fast_end_tail = _FAST_NAME_TAIL + rb"[" + WS + rb"]*+>"
    if end_names:
        fast_end = rb"/(?:" + _start_names(end_names, fast_end_tail) + rb")"
        not_end = rb"(?!" + alternation(end_names) + _DELIM + rb")"
    else:
        fast_end = rb"/[a-zA-Z]" + fast_end_tail
        not_end = b""
    return [
        _start_names(start_names, _FAST_NAME_TAIL + _FAST_ATTRS + rb">"),
        fast_end,
        not_start + _NAME + ATTRS + rb">",
        rb"/" + not_end + _NAME + ATTRS + rb">",
    ]


@lru_cache(maxsize=64)
def skip_pattern(
    start_names: frozenset[bytes],
    end_names: frozenset[bytes],
    same_origin: bool = False,
    every_tag: bool = False,
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

    With ``every_tag`` only text and comments are consumed: every tag takes the slow path.
    """
    if every_tag:
        return re.compile(rb"(?:[^<]*+<(?:" + _COMMENT[1:] + b"|" + _LT_TEXT[1:] + rb"))*+[^<]*+")
    fast_start, fast_end, full_start, full_end = _tag_forms(start_names, end_names)
    # Every alternative follows the "<" factored out in front of them. Order matters for
    # speed only: end tags and the common start tags first, the full forms last. The
    # alternatives that start with a literal or a class are skipped at the cost of one
    # test when they cannot match.
    parts = [fast_end, fast_start]
    slow = [_COMMENT[1:], full_start, full_end]
    if same_origin:
        names = [n for n in SAFE_FETCH_NAMES if n in start_names]
        if names:
            head = alternation(names) + rb"(?=" + _DELIM + rb")"
            parts.append(head + _SAFE_FAST_ATTRS + rb">")
            slow.append(head + _SAFE_ATTRS + rb">")
    if b"svg" in start_names:
        f_start, f_end, _, _ = _tag_forms(frozenset(FOREIGN_START), frozenset(FOREIGN_END))
        inner = b"|".join((f_end, f_start, _COMMENT[1:], _LT_TEXT[1:]))
        content = rb"(?:[^<]*+<(?:" + inner + rb"))*+[^<]*+"
        # Only the fast form, so a "/" before ">" can only mean <svg/> (no content): such
        # tags, and anything unusual inside, are left to the slow path.
        parts.append(
            rb"[sS][vV][gG](?=["
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
    parts.append(_LT_TEXT[1:])
    # Text and the tag after it in one iteration: group repetition is what costs in re.
    return re.compile(rb"(?:[^<]*+<(?:" + b"|".join(parts) + rb"))*+[^<]*+")


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

    Bytes are read as UTF-8 (what nearly every page uses) with U+FFFD for invalid
    sequences, as a browser decoding UTF-8 does. NUL becomes U+FFFD as in the attribute
    value states. See :func:`decode_attr_variants` for judging URLs.
    """
    return _decode_refs(raw.decode("utf-8", "replace"))


def decode_attr_variants(raw: bytes) -> tuple[str, ...]:
    """The readings of an attribute value a browser might make.

    Valid UTF-8 has one. Otherwise the page may be UTF-8 with a few bad bytes (U+FFFD
    for them) or in a legacy single-byte encoding (latin-1 stands in: its ASCII is the
    same, and characters such as U+00AA or U+00B2 map to ASCII in host names); a URL that
    matches under either counts.
    """
    try:
        return (_decode_refs(raw.decode("utf-8")),)
    except UnicodeDecodeError:
        return (
            _decode_refs(raw.decode("utf-8", "replace")),
            _decode_refs(raw.decode("latin-1")),
        )


def _decode_refs(text: str) -> str:
    if "\x00" in text:
        text = text.replace("\x00", "\ufffd")
    if "&" in text:
        text = _CHARREF.sub(_charref, text)
    return text


_PCT = re.compile(rb"%([0-9a-fA-F]{2})")
_B64_DROP = re.compile(r"[^A-Za-z0-9+/]")


def percent_decode(text: str) -> bytes:
    """Percent-decode a URL part to bytes (the URL standard's "percent-decode")."""
    raw = text.encode("utf-8", "replace")
    if b"%" not in raw:
        return raw
    return _PCT.sub(lambda m: bytes([int(m.group(1), 16)]), raw)


def data_url_body(url: str) -> bytes | None:
    """The body of a ``data:`` URL (leniently, as browsers decode it), else None."""
    url = url.strip("\x00\t\n\f\r ").replace("\t", "").replace("\n", "").replace("\r", "")
    if url[:5].lower() != "data:":
        return None
    meta, sep, body = url[5:].partition(",")
    if not sep:
        return None
    data = percent_decode(body)
    if meta.rstrip(" ").lower().endswith(";base64") or meta.lower().endswith("base64"):
        text = _B64_DROP.sub("", data.decode("latin-1"))
        if len(text) % 4 == 1:
            text = text[:-1]
        text += "=" * (-len(text) % 4)
        with contextlib.suppress(ValueError):
            data = base64.b64decode(text)
    return data


def javascript_url_code(url: str) -> str | None:
    """The code of a ``javascript:`` URL, percent-decoded, else None."""
    url = url.strip("\x00\t\n\f\r ").replace("\t", "").replace("\n", "").replace("\r", "")
    if url[:11].lower() != "javascript:":
        return None
    return percent_decode(url[11:]).decode("utf-8", "replace")


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
