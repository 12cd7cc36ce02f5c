"""Small helpers over raw header lists, shared by both adapters.

ASGI headers are ``(bytes, bytes)`` pairs and WSGI headers ``(str, str)`` pairs; the helpers
are generic over both so each adapter edits its own list in place without conversion.
Names are compared case-insensitively; callers pass lowercase names.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import AnyStr

# Charsets whose encoding of ASCII bytes is ASCII, so tag syntax can be read as bytes.
ASCII_COMPATIBLE_CHARSETS = frozenset(
    {
        "utf-8", "utf8", "us-ascii", "ascii", "iso-8859-1", "latin-1", "latin1", "l1",
        "windows-1252", "cp1252", "iso-8859-2", "iso-8859-15", "windows-1250", "windows-1251",
        "windows-1253", "windows-1254", "windows-1257", "koi8-r", "koi8-u", "x-user-defined",
        "iso-8859-5", "iso-8859-7", "iso-8859-9", "gbk", "gb2312", "gb18030", "big5",
        "euc-jp", "euc-kr", "shift_jis", "windows-31j", "cp932", "euc-tw", "sjis",
        "x-sjis", "ms_kanji", "iso-8859-3", "iso-8859-4", "iso-8859-6", "iso-8859-8",
        "iso-8859-8-i", "iso-8859-10", "iso-8859-13", "iso-8859-14", "iso-8859-16",
        "windows-874", "windows-1255", "windows-1256", "windows-1258", "tis-620",
        "macintosh", "x-mac-cyrillic", "ibm866", "cp1251", "cp1250", "iso8859-1",
    }
)
# shift_jis, big5, gbk and gb18030 are listed because their second bytes never fall in the
# ranges that matter to the tokenizer's decisions here ("<", ">", quotes, "=", "/", space);
# their trail bytes can be ASCII letters, which only affect text, never tag boundaries.

HTML_MEDIA_TYPES = frozenset({"text/html", "application/xhtml+xml"})


def get_header(headers: Iterable[tuple[AnyStr, AnyStr]], name: AnyStr) -> AnyStr | None:
    """The first value of header ``name`` (lowercase), or ``None``."""
    for key, value in headers:
        if key.lower() == name:
            return value
    return None


def get_all(headers: Iterable[tuple[AnyStr, AnyStr]], name: AnyStr) -> list[AnyStr]:
    return [value for key, value in headers if key.lower() == name]


def remove_headers(headers: list[tuple[AnyStr, AnyStr]], names: Iterable[AnyStr]) -> None:
    """Remove every header whose lowercase name is in ``names``, in place."""
    drop = set(names)
    headers[:] = [(k, v) for k, v in headers if k.lower() not in drop]


def set_header(headers: list[tuple[AnyStr, AnyStr]], name: AnyStr, value: AnyStr) -> None:
    """Replace all ``name`` headers with one, keeping the position of the first."""
    for index, (key, _) in enumerate(headers):
        if key.lower() == name:
            headers[index] = (key, value)
            headers[index + 1 :] = [(k, v) for k, v in headers[index + 1 :] if k.lower() != name]
            return
    headers.append((name, value))


def merge_vary(existing: Iterable[str], add: Iterable[str]) -> str | None:
    """The merged ``Vary`` value, or ``None`` when nothing needs to change.

    Existing members keep their order and spelling; ``*`` already varies on everything.
    """
    members: list[str] = []
    for value in existing:
        members.extend(part.strip() for part in value.split(",") if part.strip())
    lowered = {member.lower() for member in members}
    if "*" in lowered:
        return None
    missing = [name for name in add if name.lower() not in lowered]
    if not missing:
        return None
    return ", ".join(members + missing)


def weaken_etag(value: str) -> str:
    """``"abc"`` becomes ``W/"abc"``: the rewritten body is no longer byte-identical.

    RFC 9110 §8.8.1: a strong validator promises byte equality, which a rewrite breaks.
    """
    stripped = value.strip()
    if stripped.startswith(("W/", "w/")):
        return stripped
    return "W/" + stripped


def parse_content_type(value: str | None) -> tuple[str, str | None]:
    """``(media_type, charset)`` of a ``Content-Type`` value, lowercase; never raises."""
    if not value:
        return "", None
    media, _, params = value.partition(";")
    charset = None
    for param in params.split(";"):
        key, _, raw = param.partition("=")
        if key.strip().lower() == "charset":
            charset = raw.strip().strip("\"'").lower() or None
            break
    return media.strip().lower(), charset


def is_ascii_compatible(charset: str | None) -> bool:
    return charset is None or charset in ASCII_COMPATIBLE_CHARSETS
