"""Total parsers for violation reports: browsers' CSP reports and the guard's beacon.

Reports come from anyone who can reach the endpoint, so they are untrusted input: every
parser here returns what it could read and a reason for what it could not, never raises,
bounds what it keeps (reports per body, characters per field), and keeps no query string
or fragment of any URL (they may carry identifiers). What is read feeds counters and logs,
never a decision.

Formats (all JSON):

* ``application/reports+json`` (Reporting API, CSP3 §5.3): an array of report objects;
  those of ``type`` ``csp-violation`` carry ``body.blockedURL``, ``documentURL``,
  ``effectiveDirective`` and ``disposition``.
* ``application/csp-report`` (CSP2 ``report-uri``): ``{"csp-report": {"blocked-uri": ...,
  "document-uri": ..., "effective-directive" or "violated-directive": ...,
  "disposition": ...}}``.
* The guard's beacon (``text/plain``, as ``navigator.sendBeacon`` sends a string):
  ``{"type": "optout-guard", "page": path, "total": n, "vectors": {name: n},
  "blocked": [{"url": ..., "vector": name}, ...]}``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from optout_mw.headers import parse_content_type

__all__ = [
    "ACCEPTED_TYPES",
    "GUARD_VECTORS",
    "MAX_REPORTS",
    "Layer",
    "Parsed",
    "RejectReason",
    "Violation",
    "parse_body",
    "parse_document",
]

#: Reports kept from one body at most; the rest are counted as dropped.
MAX_REPORTS: Final = 50
_MAX_FIELD: Final = 256

#: The vector names the guard reports (anything else is counted as ``other``).
GUARD_VECTORS: Final = frozenset({
    "appendChild", "insertBefore", "replaceChild", "insertAdjacentElement", "append",
    "prepend", "before", "after", "replaceWith", "replaceChildren", "innerHTML", "outerHTML",
    "insertAdjacentHTML", "setHTMLUnsafe", "createContextualFragment", "write", "writeln",
    "src", "srcset", "href", "data", "setAttribute", "setAttributeNS", "fetch",
    "XMLHttpRequest", "sendBeacon", "WebSocket", "EventSource", "open",
})

_DIRECTIVE: Final = re.compile(r"[a-z-]{1,32}")
_KEYWORD: Final = re.compile(r"[a-z0-9-]{1,32}")
_UNSAFE: Final = re.compile(r"[\x00-\x1f\x7f\s]")


class Layer(StrEnum):
    """Which layer saw the attempt."""

    CSP = "csp"
    GUARD = "guard"


class RejectReason(StrEnum):
    """Why a body gave no report."""

    UNSUPPORTED_TYPE = "unsupported_type"
    MALFORMED = "malformed"
    TOO_LARGE = "too_large"


@dataclass(frozen=True, slots=True)
class Violation:
    """One blocked (or, report-only, would-be blocked) attempt, as far as it could be read.

    :param layer: ``csp`` or ``guard``.
    :param enforced: blocked (``True``), or only reported by a report-only policy.
    :param blocked: the URL without query and fragment (at most 256 characters), or a CSP
        keyword such as ``inline`` or ``eval``; ``""`` for an inline script the guard
        blocked.
    :param directive: the CSP directive (``connect-src``...), ``""`` for the guard.
    :param vector: the guard's name for the API used (``fetch``...), ``""`` for CSP.
    :param page: the page's path, ``""`` when unknown.
    """

    layer: Layer
    enforced: bool
    blocked: str
    directive: str = ""
    vector: str = ""
    page: str = ""


@dataclass(frozen=True, slots=True)
class Parsed:
    """What one body held: its violations, how many were left out past the bound, and the
    reason when it held nothing usable."""

    violations: tuple[Violation, ...] = ()
    dropped: int = 0
    reason: RejectReason | None = None


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _clean(text: str) -> str:
    """A string safe to log and count: no control characters, bounded."""
    return _UNSAFE.sub("", text)[:_MAX_FIELD]


def _strip_url(value: object) -> str:
    """A URL without userinfo, query and fragment; a keyword (``inline``) lowercased."""
    text = _text(value).strip()
    if not text:
        return ""
    if ":" not in text and "/" not in text:
        keyword = text.lower()
        return keyword if _KEYWORD.fullmatch(keyword) else ""
    text = re.split(r"[?#]", text, maxsplit=1)[0]
    scheme, sep, rest = text.partition("://")
    if sep:
        authority, slash, path = rest.partition("/")
        text = f"{scheme.lower()}://{authority.rpartition('@')[2]}{slash}{path}"
    return _clean(text)


def _path_of(value: object) -> str:
    text = _text(value)
    rest = text.partition("://")[2] if "://" in text else ""
    path = "/" + rest.partition("/")[2] if rest else text if text.startswith("/") else ""
    return _clean(re.split(r"[?#]", path, maxsplit=1)[0])


def _directive(value: object) -> str:
    # CSP2's "violated-directive" is the whole directive ("script-src-elem 'self' ...").
    token = _text(value).strip().split(" ", 1)[0].lower()
    return token if _DIRECTIVE.fullmatch(token) else ""


def _csp(body: Mapping[str, object], *, legacy: bool) -> Violation | None:
    if legacy:
        blocked = body.get("blocked-uri")
        directive = body.get("effective-directive") or body.get("violated-directive")
        page = body.get("document-uri")
    else:
        blocked = body.get("blockedURL")
        directive = body.get("effectiveDirective")
        page = body.get("documentURL")
    if not isinstance(blocked, str) or not isinstance(directive, str):
        return None
    return Violation(
        layer=Layer.CSP,
        enforced=body.get("disposition") != "report",
        blocked=_strip_url(blocked),
        directive=_directive(directive),
        page=_path_of(page),
    )


def _guard(beacon: Mapping[str, object]) -> tuple[list[Violation], int]:
    page = _clean(re.split(r"[?#]", _text(beacon.get("page")), maxsplit=1)[0])
    blocked = beacon.get("blocked")
    items = blocked if isinstance(blocked, list) else []
    violations: list[Violation] = []
    for item in items[:MAX_REPORTS]:
        if not isinstance(item, Mapping):
            continue
        vector = _text(item.get("vector"))
        violations.append(Violation(
            layer=Layer.GUARD,
            enforced=True,
            blocked=_strip_url(item.get("url")),
            vector=vector if vector in GUARD_VECTORS else "other",
            page=page,
        ))
    # Attempts beyond the listed ones (the guard lists 20 distinct URLs at most).
    total = beacon.get("total")
    extra = total - len(violations) if isinstance(total, int) and not isinstance(total, bool) \
        else 0
    return violations, max(0, min(extra, 1_000_000)) + max(0, len(items) - MAX_REPORTS)


def parse_document(document: object) -> Parsed:
    """The violations of one decoded JSON document of any of the three formats."""
    if isinstance(document, list):
        violations: list[Violation] = []
        dropped = 0
        for report in document:
            if len(violations) >= MAX_REPORTS:
                dropped += 1
                continue
            if isinstance(report, Mapping) and report.get("type") == "csp-violation":
                body = report.get("body")
                found = _csp(body, legacy=False) if isinstance(body, Mapping) else None
                if found is not None:
                    violations.append(found)
        if not violations and not dropped:
            return Parsed(reason=RejectReason.MALFORMED)
        return Parsed(tuple(violations), dropped)
    if isinstance(document, Mapping):
        legacy = document.get("csp-report")
        if isinstance(legacy, Mapping):
            found = _csp(legacy, legacy=True)
            return Parsed((found,)) if found is not None else Parsed(reason=RejectReason.MALFORMED)
        if document.get("type") == "optout-guard":
            guard, dropped = _guard(document)
            return Parsed(tuple(guard), dropped)
    return Parsed(reason=RejectReason.MALFORMED)


#: Media types a report body may come with; the document's shape decides the format.
ACCEPTED_TYPES: Final = frozenset({
    "application/reports+json", "application/csp-report", "application/json", "text/plain",
})


def parse_body(content_type: str | None, body: bytes, max_bytes: int) -> Parsed:
    """Parse one request body; never raises.

    :param content_type: the request's ``Content-Type`` (parameters ignored).
    :param max_bytes: a longer body is rejected as ``too_large`` unread.
    """
    media_type, _charset = parse_content_type(content_type)
    if media_type not in ACCEPTED_TYPES:
        return Parsed(reason=RejectReason.UNSUPPORTED_TYPE)
    if len(body) > max_bytes:
        return Parsed(reason=RejectReason.TOO_LARGE)
    try:
        document = json.loads(body.decode("utf-8"))
    except (ValueError, RecursionError):
        # Invalid UTF-8 or JSON, numbers past the int limit, nesting past the recursion
        # limit: all malformed.
        return Parsed(reason=RejectReason.MALFORMED)
    return parse_document(document)
