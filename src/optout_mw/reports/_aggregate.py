"""Classifying blocked URLs by the rule set, and a bounded in-process tally of them."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from optout_mw.rules import RuleSet
from optout_mw.urls import url_host

from ._parse import Layer, Violation

__all__ = ["Classification", "Entry", "Kind", "ReportAggregator", "classify"]

_SCHEME: Final = re.compile(r"([a-z][a-z0-9+.-]{0,31}):")
_KEYWORD: Final = re.compile(r"[a-z0-9-]{1,32}")


class Kind(StrEnum):
    """What a blocked URL was."""

    #: A host (and path) the rules name: an injected tracker the HTML did not show.
    TRACKER = "tracker"
    #: A host the rules do not name: a host the allowlist is missing, or a new tracker.
    UNKNOWN = "unknown"
    #: Not a network URL: ``inline``, ``eval``, ``data``...
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Classification:
    """``kind`` and its ``name``: the rule, the host, or the keyword."""

    kind: Kind
    name: str

    @property
    def label(self) -> str:
        """``tracker:<rule>``, ``unknown:<host>`` or ``other:<keyword>``."""
        return f"{self.kind}:{self.name}"


def classify(blocked: str, rules: RuleSet) -> Classification:
    """Classify a blocked URL (or keyword) by ``rules``; never raises."""
    if not blocked:
        return Classification(Kind.OTHER, "inline")
    rule = rules.match_url(blocked)
    if rule is not None:
        return Classification(Kind.TRACKER, rule.name)
    host = url_host(blocked) if "//" in blocked else None
    if host is not None:
        return Classification(Kind.UNKNOWN, host.rstrip("."))
    if _KEYWORD.fullmatch(blocked):
        return Classification(Kind.OTHER, blocked)
    scheme = _SCHEME.match(blocked.lower())
    return Classification(Kind.OTHER, scheme.group(1) if scheme else "unparsable")


@dataclass(frozen=True, slots=True)
class Entry:
    """One line of the tally: how often ``layer`` saw ``label`` through ``where`` (the CSP
    directive, or the guard's vector), enforced or only reported."""

    layer: Layer
    enforced: bool
    where: str
    kind: Kind
    name: str
    count: int

    def as_dict(self) -> dict[str, object]:
        return {"layer": str(self.layer), "mode": "enforce" if self.enforced else "report",
                "where": self.where, "kind": str(self.kind), "name": self.name,
                "count": self.count}


_Key = tuple[Layer, bool, str, Kind, str]


class ReportAggregator:
    """Counts of classified violations, at most ``max_entries`` distinct lines: past that,
    new lines are only counted in :attr:`dropped` (the counts come from clients, so memory
    must not grow with them). Thread-safe."""

    def __init__(self, max_entries: int = 2000) -> None:
        if max_entries < 1:
            raise ValueError(f"max_entries must be at least 1, got {max_entries}")
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._counts: dict[_Key, int] = {}
        #: Violations not tallied because the table was full.
        self.dropped = 0

    def add(self, violation: Violation, classification: Classification, count: int = 1) -> None:
        where = violation.directive if violation.layer is Layer.CSP else violation.vector
        key = (violation.layer, violation.enforced, where, classification.kind,
               classification.name)
        with self._lock:
            if key in self._counts:
                self._counts[key] += count
            elif len(self._counts) < self.max_entries:
                self._counts[key] = count
            else:
                self.dropped += count

    def entries(self) -> list[Entry]:
        """Every line, most frequent first."""
        with self._lock:
            items = list(self._counts.items())
        items.sort(key=lambda item: (-item[1], item[0]))
        return [Entry(*key, count) for key, count in items]

    def snapshot(self) -> dict[str, object]:
        """A JSON-ready copy (``optout-mw csp suggest`` reads it back)."""
        return {"type": "optout-report-tally", "entries": [e.as_dict() for e in self.entries()],
                "dropped": self.dropped}

    def merge(self, snapshot: Mapping[str, object], rules: RuleSet) -> int:
        """Add a :meth:`snapshot` (untrusted: a file) to the tally, re-classifying each
        line's host by ``rules``; returns the lines read. Malformed lines are skipped."""
        entries = snapshot.get("entries")
        read = 0
        for item in entries if isinstance(entries, list) else []:
            entry = _entry(item, rules)
            if entry is not None:
                read += 1
                violation = Violation(layer=entry.layer, enforced=entry.enforced, blocked="",
                                      directive=entry.where if entry.layer is Layer.CSP else "",
                                      vector=entry.where if entry.layer is Layer.GUARD else "")
                self.add(violation, Classification(entry.kind, entry.name), entry.count)
        return read

    def clear(self) -> None:
        with self._lock:
            self._counts.clear()
            self.dropped = 0


def _entry(item: object, rules: RuleSet) -> Entry | None:
    if not isinstance(item, Mapping):
        return None
    layer, mode, where = item.get("layer"), item.get("mode"), item.get("where")
    kind, name, count = item.get("kind"), item.get("name"), item.get("count")
    if (
        layer not in ("csp", "guard") or mode not in ("enforce", "report")
        or not isinstance(where, str) or kind not in ("tracker", "unknown", "other")
        or not isinstance(name, str) or not name or len(name) > 256
        or not isinstance(count, int) or isinstance(count, bool) or not 0 < count < 10**12
    ):
        return None
    classification = Classification(Kind(kind), name)
    if classification.kind is not Kind.OTHER:
        # The file may come from another configuration: judge hosts by these rules.
        host = url_host("https://" + name + "/") if classification.kind is Kind.UNKNOWN else None
        rule = rules.match_host(host) if host is not None else None
        if rule is not None:
            classification = Classification(Kind.TRACKER, rule.name)
    return Entry(Layer(layer), mode == "enforce", where[:32], classification.kind,
                 classification.name, count)


def tally(violations: Iterable[Violation], rules: RuleSet,
          aggregator: ReportAggregator) -> None:
    """Classify and count each violation."""
    for violation in violations:
        aggregator.add(violation, classify(violation.blocked, rules))
