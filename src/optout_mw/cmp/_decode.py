"""Bounded, total decoding steps shared by the consent-tool cookie parsers.

Nothing here raises: each helper returns ``None`` when the input cannot be read. Inputs are
capped, so a hostile ``Cookie`` header costs at most a few kilobytes of work per cookie.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any
from urllib.parse import parse_qsl, unquote

#: Longest cookie value read (browsers cap a cookie at 4096 bytes, name included; a value
#: longer than this did not come from a browser's cookie jar).
MAX_VALUE = 8192

#: How many rounds of percent-decoding are undone. Consent tools and the frameworks around
#: them sometimes encode a value twice (``%253A``); more than that is not a real cookie.
MAX_DECODE_ROUNDS = 3

# JSON nested deeper than this is not a consent record; stopping early keeps the parser
# far from Python's recursion limit whatever the input.
_MAX_DEPTH = 32


def too_long(value: str) -> bool:
    return len(value) > MAX_VALUE


def percent_decode(value: str, *, until: tuple[str, ...]) -> str:
    """``value`` with up to :data:`MAX_DECODE_ROUNDS` rounds of percent-decoding undone,
    stopping as soon as one of the ``until`` characters appears raw (the value is then
    in its plain form). Invalid escapes are kept as they are, as browsers' decoders do."""
    for _ in range(MAX_DECODE_ROUNDS):
        if any(mark in value for mark in until) or "%" not in value:
            return value
        decoded = unquote(value, errors="replace")
        if decoded == value:
            return value
        value = decoded
    return value


def form_pairs(value: str) -> list[tuple[str, str]]:
    """The ``key=value&…`` pairs of a form-encoded cookie (``+`` is a space), every pair
    kept in order, duplicates included. Never raises."""
    try:
        return parse_qsl(value, keep_blank_values=True, max_num_fields=512)
    except ValueError:
        return []


def json_object(text: str) -> dict[str, Any] | None:
    """``text`` as a JSON object, or ``None`` (not JSON, not an object, too deep)."""
    if not text or text[0] != "{" or too_long(text):
        return None
    try:
        parsed = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(parsed, dict) or _depth(parsed, 0) > _MAX_DEPTH:
        return None
    return parsed


def _depth(value: object, level: int) -> int:
    if level > _MAX_DEPTH:
        return level
    if isinstance(value, dict):
        return max((_depth(item, level + 1) for item in value.values()), default=level)
    if isinstance(value, list):
        return max((_depth(item, level + 1) for item in value), default=level)
    return level


def base64_json(value: str) -> dict[str, Any] | None:
    """A JSON object stored as base64 (standard or URL-safe alphabet, padding optional),
    possibly percent-encoded on top (``%3D`` for ``=``), as Didomi and Ketch store theirs."""
    text = percent_decode(value.strip(), until=("=",)).strip()
    if not text or too_long(text):
        return None
    text = text.rstrip("=")
    text += "=" * (-len(text) % 4)
    altchars = b"-_" if ("-" in text or "_" in text) else None
    try:
        raw = base64.b64decode(text, altchars=altchars, validate=True)
    except (binascii.Error, ValueError):
        return None
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return json_object(decoded)


def json_cookie(value: str) -> dict[str, Any] | None:
    """A JSON object stored plain or percent-encoded (once or twice)."""
    return json_object(percent_decode(value.strip(), until=("{", '"')).strip())
