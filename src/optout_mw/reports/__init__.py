"""Violation reports from opted-out visitors' browsers: the CSP's and the guard's.

* :func:`parse_body` / :func:`parse_document` - total parsers of the three formats.
* :func:`classify` - ``tracker:<rule>``, ``unknown:<host>`` or ``other:<keyword>``.
* :class:`ReportAggregator` - a bounded, thread-safe tally.
* :class:`RateLimiter` - token buckets per client and in total, bounded memory.
* :class:`ReportEndpoint` - the endpoint's logic, sans-IO.
* :func:`suggest_allowlist` - the allowlist proposal behind ``optout-mw csp suggest``.

See ``docs/guard.md``.
"""

from __future__ import annotations

from ._aggregate import Classification as Classification
from ._aggregate import Entry as Entry
from ._aggregate import Kind as Kind
from ._aggregate import ReportAggregator as ReportAggregator
from ._aggregate import classify as classify
from ._aggregate import tally as tally
from ._endpoint import DEFAULT_MAX_BYTES as DEFAULT_MAX_BYTES
from ._endpoint import ReportEndpoint as ReportEndpoint
from ._endpoint import ReportResponse as ReportResponse
from ._limit import RateLimiter as RateLimiter
from ._parse import ACCEPTED_TYPES as ACCEPTED_TYPES
from ._parse import GUARD_VECTORS as GUARD_VECTORS
from ._parse import MAX_REPORTS as MAX_REPORTS
from ._parse import Layer as Layer
from ._parse import Parsed as Parsed
from ._parse import RejectReason as RejectReason
from ._parse import Violation as Violation
from ._parse import parse_body as parse_body
from ._parse import parse_document as parse_document
from ._suggest import Suggestion as Suggestion
from ._suggest import suggest_allowlist as suggest_allowlist

__all__ = [
    "ACCEPTED_TYPES",
    "DEFAULT_MAX_BYTES",
    "GUARD_VECTORS",
    "MAX_REPORTS",
    "Classification",
    "Entry",
    "Kind",
    "Layer",
    "Parsed",
    "RateLimiter",
    "RejectReason",
    "ReportAggregator",
    "ReportEndpoint",
    "ReportResponse",
    "Suggestion",
    "Violation",
    "classify",
    "parse_body",
    "parse_document",
    "suggest_allowlist",
    "tally",
]
