"""Which responses optout-mw may change, and how: eligibility, protocol-free.

:func:`plan_response` looks at one response's method, status and headers and says whether
its body is rewritten, what is edited in its headers, and why a page that should be
rewritten is passed through. :func:`html_content_type` is the cheap test every response
meets; its verdicts are remembered by the caller (the engine owns the cache).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from optout_mw.headers import HTML_MEDIA_TYPES, is_ascii_compatible, parse_content_type

from ._codecs import available_encodings


class SkipReason(StrEnum):
    """Why an HTML response that should have been rewritten was passed through."""

    NO_BODY = "no_body"
    PARTIAL_CONTENT = "partial_content"
    HEAD = "head"
    UNSUPPORTED_CHARSET = "unsupported_charset"
    UNSUPPORTED_ENCODING = "unsupported_encoding"
    DECODE_ERROR = "decode_error"
    BUFFER_OVERFLOW = "buffer_overflow"
    UTF16_BOM = "utf16_bom"


#: With ``refuse_unrewritable``, these answer ``502`` instead of passing the page through.
REFUSABLE = frozenset(
    {SkipReason.UNSUPPORTED_CHARSET, SkipReason.UNSUPPORTED_ENCODING, SkipReason.UTF16_BOM}
)


def refusal(reason: SkipReason, vary: tuple[str, ...]) -> tuple[int, list[tuple[str, str]], bytes]:
    """The ``502`` sent instead of a page that should be rewritten but cannot be."""
    body = (
        f"This page could not be checked for third-party trackers ({reason}), "
        "so it was not sent.\n"
    ).encode()
    headers = [
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Content-Length", str(len(body))),
        ("Cache-Control", "no-store"),
    ]
    if vary:
        headers.append(("Vary", ", ".join(vary)))
    return 502, headers, body


#: Headers whose value describes the exact bytes of the body, which a rewrite changes.
BODY_DIGEST_HEADERS = ("content-md5", "digest", "repr-digest", "content-digest")


@dataclass(frozen=True, slots=True)
class ResponsePlan:
    #: An HTML response whose bytes depend on the opt-out signals: gets ``Vary``.
    html: bool
    #: The body goes through a :class:`BodyPipeline`.
    rewrite: bool
    #: ``Content-Encoding`` to decode and re-encode around the rewrite.
    encoding: str | None = None
    #: Set when an HTML response that should be rewritten is passed through.
    skip_reason: SkipReason | None = None
    #: Drop ``Content-Length`` (HEAD of a page that would have been rewritten).
    drop_length: bool = False
    #: Weaken a strong ``ETag``: a 304 revalidating a rewritten page (RFC 9111 §4.3.4 merges
    #: its headers into the stored, rewritten response).
    weaken_etag: bool = False


NOT_HTML = ResponsePlan(html=False, rewrite=False)
HTML_KEEP = ResponsePlan(html=True, rewrite=False)


# The media type of a Content-Type value, compared as str.strip().lower() would.
_HTML_TEXT = re.compile(r"\s*(?:text/html|application/xhtml\+xml)\s*(?:;|\Z)", re.IGNORECASE)
_HTML_BYTES = re.compile(rb"\s*(?:text/html|application/xhtml\+xml)\s*(?:;|\Z)", re.IGNORECASE)


def is_html(content_type: str | bytes | None) -> bool:
    """Whether a ``Content-Type`` value names an HTML media type (cheap: on the hot path)."""
    if not content_type:
        return False
    if isinstance(content_type, bytes):
        return _HTML_BYTES.match(content_type) is not None
    return _HTML_TEXT.match(content_type) is not None


def plan_response(
    *,
    method: str,
    status: int,
    content_type: str | None,
    content_encoding: str | None,
    wants_rewrite: bool,
) -> ResponsePlan:
    """Decide what to do with one response.

    :param wants_rewrite: the request's visitor opted out and rewriting (or reporting)
        is on for this path.
    """
    media, charset = parse_content_type(content_type)
    if wants_rewrite and status == 304:
        # 304s often carry no Content-Type, yet revalidate a page that was rewritten.
        return ResponsePlan(html=True, rewrite=False, skip_reason=SkipReason.NO_BODY,
                            weaken_etag=True)
    if media not in HTML_MEDIA_TYPES:
        return NOT_HTML
    if not wants_rewrite:
        return HTML_KEEP
    if status == 204 or status < 200:
        return ResponsePlan(html=True, rewrite=False, skip_reason=SkipReason.NO_BODY)
    if method == "HEAD":
        # The GET body would be rewritten, so its length is unknowable (RFC 9110 §9.3.2).
        return ResponsePlan(html=True, rewrite=False, drop_length=True)
    if status == 206:
        return ResponsePlan(html=True, rewrite=False, skip_reason=SkipReason.PARTIAL_CONTENT)
    if not is_ascii_compatible(charset):
        return ResponsePlan(html=True, rewrite=False, skip_reason=SkipReason.UNSUPPORTED_CHARSET)
    encoding = (content_encoding or "").strip().lower() or None
    if encoding == "identity":
        encoding = None
    if encoding is not None and encoding not in available_encodings():
        return ResponsePlan(html=True, rewrite=False, skip_reason=SkipReason.UNSUPPORTED_ENCODING)
    return ResponsePlan(html=True, rewrite=True, encoding=encoding)


