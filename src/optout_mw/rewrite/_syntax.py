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


def _not(chars: bytes) -> bytes:
    """A class of every byte but ``chars``, written out as ranges.

    The engine tests a negated class of several bytes (``[^>"'=]``) through an extra call
    per byte, about twice the cost of a plain class; a negated single byte (``[^<]``) is
    fast already and needs no rewriting.
    """
    ranges = []
    start = -1
    for b in range(257):
        inside = b < 256 and b not in chars
        if inside and start < 0:
            start = b
        elif not inside and start >= 0:
            last = b - 1
            ranges.append(b"\\x%02x" % start + (b"-\\x%02x" % last if last > start else b""))
            start = -1
    return b"[" + b"".join(ranges) + b"]"


# Classes used in the tag patterns below, named for the bytes they exclude.
_NOT_WS_SL_GT = _not(WS_BYTES + b"/>")  # a tag or attribute name byte
_NOT_WS_SL_GT_EQ = _not(WS_BYTES + b"/>=")  # an attribute name byte after the first
_NOT_WS_GT_Q = _not(WS_BYTES + b">\"'")  # first byte of an unquoted value
_NOT_WS_GT = _not(WS_BYTES + b">")  # an unquoted value byte

# From after a tag name up to (not including) its ``>``: the "before attribute name",
# "attribute name", "after attribute name", "before attribute value", the three attribute
# value states and "self-closing start tag". A ``/`` outside a value is skipped, an
# attribute name may start with ``=`` and may hold quotes or ``<``; an unquoted value runs
# to whitespace or ``>``. Possessive quantifiers keep failure (an unfinished tag at the end
# of a chunk) linear.
ATTRS = (
    rb"(?:[" + WS + rb"/]++"
    rb"|" + _NOT_WS_SL_GT + _NOT_WS_SL_GT_EQ + rb"*+[" + WS + rb"]*+"
    # Once "=" follows a name the value is committed to: quoted, unquoted, or absent only
    # when ">" comes next. Without this an unfinished quoted value could be re-read as
    # more attribute names and the tag would seem to end inside the quotes.
    rb"(?:=[" + WS + rb"]*+(?:\"[^\"]*+\"|'[^']*+'|" + _NOT_WS_GT_Q + _NOT_WS_GT + rb"*+|(?=>))"
    rb"|(?!=))"
    rb")*+"
)

# A whole start or end tag ("tag open" / "end tag open" followed by an ASCII alpha). End
# tags carry attributes too and are tokenized the same way, so ``</script a=">">`` ends
# at the second ``>``. Groups: 1 ``/`` for an end tag, 2 the raw name, 3 the attributes.
TAG = re.compile(rb"<(/?)([a-zA-Z]" + _NOT_WS_SL_GT + rb"*+)(" + ATTRS + rb")>")
# The attribute units of ATTRS one by one, for resuming the scan of an unfinished tag:
# group 1 is the last unit matched (a unit's extent depends only on bytes up to the start
# of the next one, so every unit before the last is final). TAG_REST is the rest of a tag
# from the start of a unit.
_UNIT = ATTRS[3:-3]
TAG_UNITS_FROM = re.compile(rb"(?:(" + _UNIT + rb"))*+")
TAG_REST = re.compile(ATTRS + rb">")
TAG_NAME = re.compile(rb"</?[a-zA-Z]" + _NOT_WS_SL_GT + rb"*+")
# The start of an attribute whose quoted value is still open (what stops ATTRS short).
OPEN_VALUE = re.compile(
    _NOT_WS_SL_GT + _NOT_WS_SL_GT_EQ + rb"*+[" + WS + rb"]*+=[" + WS + rb"]*+[\"']"
)

# One attribute (groups: 1 name, 2/3/4 double-quoted/single-quoted/unquoted value) or a
# run of separators (no group matches).
ATTR = re.compile(
    rb"(" + _NOT_WS_SL_GT + _NOT_WS_SL_GT_EQ + rb"*+)[" + WS + rb"]*+"
    rb"(?:=[" + WS + rb"]*+"
    rb"(?:\"([^\"]*+)\"|'([^']*+)'|(" + _NOT_WS_GT_Q + _NOT_WS_GT + rb"*+))?)?"
    rb"|[" + WS + rb"/]++"
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


def literal_alternation(names: Iterable[bytes]) -> bytes:
    """A regex alternation of literal names as given (case-sensitive), factored on the
    first byte. Every alternative starts with a literal, so ``search`` only tries the
    bytes that can start a name."""
    groups: dict[bytes, list[bytes]] = {}
    for name in sorted(set(names), key=lambda n: (-len(n), n)):
        groups.setdefault(name[:1], []).append(re.escape(name[1:]))
    return b"|".join(
        re.escape(first) + (b"(?:" + b"|".join(rests) + b")" if len(rests) > 1 else rests[0])
        for first, rests in sorted(groups.items())
    )


def _closing(name: bytes) -> bytes:
    """The end tag of ``name`` in its plain form: "</name", whitespace, ">"."""
    return rb"</" + b"".join(_letter(c) for c in name) + rb"[" + WS + rb"]*+>"


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
_NAME = rb"[a-zA-Z]" + _NOT_WS_SL_GT + rb"*+"
# Comments are common in real pages, so the plain form is skipped too: "<!--" not
# followed by "->" or ">" (the abrupt endings), up to the first "-->". A comment that
# "--!>" ends first fails this branch and reaches the slow path.
_COMMENT = rb"<!--(?!-?>)(?:[^-]++|-(?!-!?>))*+-->"
_LT_TEXT = rb"<(?=" + _not(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz!/?") + rb")"

# "<!" not followed by "--": a DOCTYPE or a bogus comment, ended by the first ">" (in HTML
# content; CDATA sections exist only in foreign content).
_BANG = rb"!(?!--)[^>]*+>"
# Raw text elements consumed whole when their text has no "<" (textarea is left out: it
# closes an open <select>).
WHOLE_RAW_NAMES = (b"style", b"title", b"xmp", b"noembed", b"noframes")

# A URL value that cannot leave the document's origin: no scheme (no ":", which a
# character reference could hide behind "&"), no backslash, and no "//" (tabs and
# newlines inside a URL are removed before parsing, so "/\t/" counts as "//").
_SAFE_CHARS_DQ = _not(b'"&:\\/')
_SAFE_CHARS_SQ = _not(b"'&:\\/")
_SAFE_CHARS_UQ = _not(WS_BYTES + b">&:\\/")
_SLASH_OK = rb"/(?![\t\n\r]*+[/\\])"


def _safe_run(chars: bytes, slash: bytes = _SLASH_OK) -> bytes:
    return chars + rb"*+(?:" + slash + chars + rb"*+)*+"


def _safe_run_fast(quote: bytes) -> bytes:
    """The fast form's safe value, up to its closing ``quote``.

    Its test is simpler and stricter: a "/" is followed by a safe byte other than a tab
    or newline (such values are left to the full form), or ends the value. Matching that
    byte with the "/" is cheaper than a look-ahead after each "/".
    """
    chars = _not(quote + b"&:\\/")
    after_slash = _not(quote + b"&:\\/\t\n\r")
    return chars + rb"*+(?:/" + after_slash + chars + rb"*+)*+/?+"


_SAFE_VALUE = (
    rb"(?:\"" + _safe_run(_SAFE_CHARS_DQ) + rb"\""
    rb"|'" + _safe_run(_SAFE_CHARS_SQ) + rb"'"
    rb"|(?=" + _NOT_WS_GT_Q + rb")" + _safe_run(_SAFE_CHARS_UQ) + rb"(?=[" + WS + rb">])"
    rb"|(?=>))"
)
_ANY_VALUE = rb"(?:\"[^\"]*+\"|'[^']*+'|" + _NOT_WS_GT_Q + _NOT_WS_GT + rb"*+|(?=>))"
# ATTRS again, with every URL attribute restricted to a value that stays same-origin.
_SAFE_ATTRS = (
    rb"(?:[" + WS + rb"/]++"
    rb"|" + alternation(URL_ATTRS) + rb"(?!" + _NOT_WS_SL_GT_EQ + rb")[" + WS + rb"]*+"
    rb"(?:=[" + WS + rb"]*+" + _SAFE_VALUE + rb"|(?!=))"
    rb"|(?!" + alternation(URL_ATTRS) + rb"(?!" + _NOT_WS_SL_GT_EQ + rb"))"
    + _NOT_WS_SL_GT
    + _NOT_WS_SL_GT_EQ
    + rb"*+[" + WS + rb"]*+"
    rb"(?:=[" + WS + rb"]*+" + _ANY_VALUE + rb"|(?!=))"
    rb")*+"
)


# The common shape of a tag, matched much faster than ATTRS: a plain name, then
# attributes that are bare or have a quoted value directly after "=". It is exact where
# it matches: every quote follows "=", that "=" follows an attribute name character (not
# whitespace, "/" or a closing quote, after which "=" would start a name), and no value is
# unquoted, so no "=" or quote can sit inside an unquoted value. Anything else fails it
# and falls back to the full ATTRS form.
_RUN = _not(b">\"'=") + rb"*+"
# An "=" right after an attribute name byte (not whitespace, "/" or a closing quote).
_AFTER_NAME = rb"(?<=" + _not(WS_BYTES + b"/\"'") + rb")"
_EQ = _AFTER_NAME + rb"="
_FAST_ATTRS = _RUN + rb"(?:" + _EQ + rb"(?:\"[^\"]*+\"|'[^']*+')" + _RUN + rb")*+"
# A plain tag name after its first letter (the first letter is matched by the caller).
_FAST_NAME_TAIL = rb"[a-zA-Z0-9-]*+(?=[" + WS + rb"/>])"
# TAG in its common shape, found several times faster: where it matches, its groups and
# extent are TAG's. Try it first and fall back to TAG.
TAG_FAST = re.compile(rb"<(/?)([a-zA-Z]" + _FAST_NAME_TAIL + rb")(" + _FAST_ATTRS + rb")>")


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
    + rb"(?:"
    + _AFTER_NAME
    + rb"(?:=(?:\""
    + _safe_run_fast(b'"')
    + rb"\"|'"
    + _safe_run_fast(b"'")
    + rb"')"
    # A name whose last letter ends no URL attribute name takes any value.
    + rb"|(?<="
    + _not(WS_BYTES + b"/\"'cfatrCFATR")
    + rb")=(?:\"[^\"]*+\"|'[^']*+')"
    + rb"|"
    + _not_url_attr()
    + rb"=(?:\"[^\"]*+\"|'[^']*+'))"
    + _RUN
    + rb")*+"
)


# A look-ahead over fast-form attributes: one of them is "src" with a quoted value. In the
# fast form an attribute's name is what a run ends with before "="; "src" must follow
# whitespace or "/" there (directly after a closing quote it would be a new attribute that
# this test does not take, and such a tag goes the slow way).
_HAS_SRC = (
    rb"(?=(?:" + _RUN + _EQ + rb"(?:\"[^\"]*+\"|'[^']*+'))*?"
    + _RUN + rb"(?<=[" + WS + rb"/][sS][rR][cC])=)"
)


# Tag initials in the order the fast path tries them: the usual ones first, lower case
# before upper case. Each alternative is led by its initial as a plain literal, which the
# engine rejects with a single comparison (a class costs a call, a look-ahead much more).
_INITIALS = b"dasplibthumnfoecvgrqkxywjz"
_INITIALS += _INITIALS.upper()


def _rests(rests: Iterable[bytes]) -> bytes:
    """Case-insensitive alternatives for name remainders, each led by a literal."""
    alts: list[bytes] = []
    for rest in sorted(set(rests), key=lambda r: (-len(r), r)):
        tail = b"".join(_letter(c) for c in rest[1:])
        first = rest[:1]
        if first.isalpha():
            alts.extend((first.lower() + tail, first.upper() + tail))
        else:
            alts.append(re.escape(first) + tail)
    return b"(?:" + b"|".join(alts) + b")"


def _start_names(
    names: Iterable[bytes], tail: bytes, extra: dict[int, list[bytes]] | None = None
) -> bytes:
    """Alternatives for a tag name that is not listed, then ``tail`` (no leading "<").

    One alternative per initial letter, led by that letter as a literal: a tag costs a few
    comparisons and at most one short look-ahead (over the listed names with its initial)
    instead of a look-ahead over every listed name. ``extra`` adds alternatives for the
    rest of a name after a given initial, tried first (they are for listed names, so the
    order does not change what matches). A one-letter listed name (``p``) adds an empty
    alternative to its letter's look-ahead.
    """
    groups: dict[int, list[bytes]] = {}
    for name in names:
        groups.setdefault(name[0] | 0x20, []).append(name[1:].lower())
    alts: list[bytes] = []
    for c in _INITIALS:
        rests = groups.get(c | 0x20)
        body = tail if rests is None else b"(?!" + _rests(rests) + _DELIM + b")" + tail
        options = [*(extra or {}).get(c, ()), body]
        alts.append(bytes([c]) + (b"(?:" + b"|".join(options) + b")" if len(options) > 1 else body))
    return b"|".join(alts)


def _tag_forms(
    start_names: frozenset[bytes],
    end_names: frozenset[bytes],
    extra: dict[int, list[bytes]] | None = None,
) -> list[bytes]:
    """Start and end tags whose names are not listed: fast forms, then full forms.

    Each form is written without its leading "<" (the skip pattern factors it out).
    """
    not_start = rb"(?!" + alternation(start_names) + _DELIM + rb")"
    # No look-ahead after an end tag's name: "[WS]*+>" already needs a delimiter there.
    fast_end_tail = rb"[a-zA-Z0-9-]*+[" + WS + rb"]*+>"
    if end_names:
        fast_end = rb"/(?:" + _start_names(end_names, fast_end_tail) + rb")"
        not_end = rb"(?!" + alternation(end_names) + _DELIM + rb")"
    else:
        fast_end = rb"/[a-zA-Z]" + fast_end_tail
        not_end = b""
    return [
        _start_names(start_names, _FAST_NAME_TAIL + _FAST_ATTRS + rb">", extra),
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
    whole: bool = False,
    scripts: bool = False,
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

    With ``whole`` (HTML content, nothing held), a ``<!`` that opens no comment (a DOCTYPE
    or a bogus comment: both end at the first ``>``) is consumed, and so is a whole raw
    text element (``<title>``, ``<style>``...) whose text holds no ``<``: such text reads
    the same in any tokenizer state, so it needs no closer look. With ``scripts`` too, so
    is a ``<script>`` with a ``src`` (as above, same-origin) and no ``<`` before its end
    tag: with a ``src`` its text is never run, so there is nothing to judge.

    With ``every_tag`` only text and comments are consumed: every tag takes the slow path.
    """
    if every_tag:
        return re.compile(rb"(?:[^<]*+<(?:" + _COMMENT[1:] + b"|" + _LT_TEXT[1:] + rb"))*+[^<]*+")
    # Start tags that the fast form of their initial does not take: same-origin fetching
    # elements and whole <svg> elements, as alternatives after that initial.
    extra: dict[int, list[bytes]] = {}
    slow: list[bytes] = []
    if same_origin:
        names = [n for n in SAFE_FETCH_NAMES if n in start_names]
        for name in names:
            rest = b"".join(_letter(x) for x in name[1:])
            form = rest + rb"(?=" + _DELIM + rb")" + _SAFE_FAST_ATTRS + rb">"
            for c in (name[0], name[0] ^ 0x20):
                extra.setdefault(c, []).append(form)
        if names:
            slow.append(alternation(names) + rb"(?=" + _DELIM + rb")" + _SAFE_ATTRS + rb">")
    if whole:
        for name in WHOLE_RAW_NAMES:
            if name in start_names:
                rest = b"".join(_letter(x) for x in name[1:])
                form = rest + rb"(?=" + _DELIM + rb")" + _FAST_ATTRS + rb">[^<]*+" + _closing(name)
                for c in (name[0], name[0] ^ 0x20):
                    extra.setdefault(c, []).append(form)
    if scripts:
        form = (
            b"".join(_letter(x) for x in b"cript")
            + rb"(?=["
            + WS
            + rb"/])"  # (not ">": an attribute must follow, so "<script>" fails at once)
            + _HAS_SRC
            + _SAFE_FAST_ATTRS
            + rb">[^<]*+"
            + _closing(b"script")
        )
        extra.setdefault(ord("s"), []).append(form)
        extra.setdefault(ord("S"), []).append(form)
    if b"svg" in start_names:
        f_start, f_end, _, _ = _tag_forms(frozenset(FOREIGN_START), frozenset(FOREIGN_END))
        inner = b"|".join((f_end, _COMMENT[1:], f_start, _LT_TEXT[1:]))
        content = rb"(?:[^<]*+<(?:" + inner + rb"))*+[^<]*+"
        # Only the fast form, so a "/" before ">" can only mean <svg/> (no content): such
        # tags, and anything unusual inside, are left to the slow path.
        svg = (
            rb"[vV][gG](?=["
            + WS
            + rb"/>])"
            + _FAST_ATTRS
            + rb"(?<!/)>"
            + content
            + _closing(b"svg")
        )
        extra.setdefault(ord("s"), []).append(svg)
        extra.setdefault(ord("S"), []).append(svg)
    fast_start, fast_end, full_start, full_end = _tag_forms(start_names, end_names, extra)
    # Every alternative follows the "<" factored out in front of them. Order matters for
    # speed only: those led by a literal come first (end tags, comments, start tags by
    # initial), each rejected with one comparison when it cannot match; the full forms
    # last.
    parts = [fast_end, _COMMENT[1:], fast_start, full_start, full_end, *slow, _LT_TEXT[1:]]
    if whole:
        parts.insert(2, _BANG)
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
