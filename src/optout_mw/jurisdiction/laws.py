"""The law as data: which US states require honouring a universal opt-out signal, from when.

The table ships as ``laws.toml`` beside this module (reviewed rows are cited in
docs/jurisdiction.md). It is parsed once, on first use, into immutable :class:`StateLaw`
rows; a malformed table is a packaging bug and raises :class:`ValueError` naming the row.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any


class Confidence(StrEnum):
    #: Checked against the statute, the regulation or the regulator's own page.
    VERIFIED = "verified"
    #: Law-firm, tracker or vendor summaries agree; no primary text was read.
    SECONDARY = "secondary"
    #: Not checked. A test fails once such a row's date is reached, forcing a review.
    UNVERIFIED = "unverified"


class OptOutScope(StrEnum):
    SALE = "sale"
    #: California's "sharing": cross-context behavioural advertising.
    SHARING = "sharing"
    TARGETED_ADVERTISING = "targeted_advertising"
    PROFILING = "profiling"


@dataclass(frozen=True, slots=True)
class StateLaw:
    """One state's comprehensive privacy law, as far as opt-out signals go."""

    #: ISO 3166-2:US subdivision code without the ``US-`` prefix, e.g. ``"CA"``.
    state: str
    law: str
    citation: str
    #: The day the law itself takes effect.
    effective: date
    #: The first day a controller must honour an opt-out preference signal; ``None`` when
    #: the law has no such duty.
    uoom_from: date | None
    scope: frozenset[OptOutScope]
    confidence: Confidence
    source: str
    notes: str = ""

    @property
    def review_date(self) -> date:
        """The date from which this row decides anything: the signal duty, or the law."""
        return self.uoom_from or self.effective

    def requires_signal(self, on: date) -> bool:
        """Whether honouring an opt-out signal is required on ``on``."""
        return self.uoom_from is not None and on >= self.uoom_from

    def to_json(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "law": self.law,
            "citation": self.citation,
            "uoom_from": self.uoom_from.isoformat() if self.uoom_from else None,
            "scope": sorted(str(item) for item in self.scope),
            "confidence": str(self.confidence),
        }


@dataclass(frozen=True, slots=True)
class LawTable:
    """Every row of one version of the table, by state code."""

    version: str
    states: Mapping[str, StateLaw]

    def get(self, state: str) -> StateLaw | None:
        return self.states.get(state)

    def due_for_review(self, on: date) -> tuple[StateLaw, ...]:
        """Unverified rows whose date has been reached on ``on``."""
        return tuple(
            row
            for row in self.states.values()
            if row.confidence is Confidence.UNVERIFIED and row.review_date <= on
        )


_REQUIRED = ("state", "law", "citation", "effective", "scope", "confidence", "source")
_KNOWN = frozenset((*_REQUIRED, "uoom_from", "notes"))


def parse_law_table(text: str) -> LawTable:
    """Parse a table in the ``laws.toml`` format.

    :raises ValueError: naming the row and key of the first problem found.
    """
    data = tomllib.loads(text)
    version = data.get("version")
    if not isinstance(version, str) or not version:
        raise ValueError("law table: 'version' must be a non-empty string")
    rows = data.get("state")
    if not isinstance(rows, list):
        raise ValueError("law table: expected [[state]] tables")
    states: dict[str, StateLaw] = {}
    for index, row in enumerate(rows):
        law = _parse_row(row, f"state[{index}]")
        if law.state in states:
            raise ValueError(f"law table: state[{index}]: {law.state} appears twice")
        states[law.state] = law
    return LawTable(version, states)


def _parse_row(row: object, where: str) -> StateLaw:
    if not isinstance(row, dict):
        raise ValueError(f"law table: {where}: expected a table")
    missing = [key for key in _REQUIRED if key not in row]
    unknown = sorted(set(row) - _KNOWN)
    if missing or unknown:
        raise ValueError(f"law table: {where}: missing {missing}, unknown {unknown}")
    state, effective, uoom_from = row["state"], row["effective"], row.get("uoom_from")
    if not (isinstance(state, str) and len(state) == 2 and state.isascii() and state.isupper()):
        raise ValueError(f"law table: {where}.state: expected a two-letter code")
    for key, value in (("effective", effective), ("uoom_from", uoom_from)):
        if value is not None and type(value) is not date:
            raise ValueError(f"law table: {where}.{key}: expected a date")
    scope = row["scope"]
    if not isinstance(scope, list):
        raise ValueError(f"law table: {where}.scope: expected a list")
    try:
        scopes = frozenset(OptOutScope(item) for item in scope)
        confidence = Confidence(row["confidence"])
    except ValueError as exc:
        raise ValueError(f"law table: {where}: {exc}") from None
    if (uoom_from is None) != (not scopes):
        raise ValueError(f"law table: {where}: a scope is given exactly when uoom_from is")
    texts = [row[key] for key in ("law", "citation", "source")] + [row.get("notes", "")]
    if not all(isinstance(text, str) for text in texts):
        raise ValueError(f"law table: {where}: law, citation, source and notes are strings")
    if not row["source"].startswith("https://"):
        raise ValueError(f"law table: {where}.source: expected an https:// URL")
    return StateLaw(
        state=state,
        law=row["law"],
        citation=row["citation"],
        effective=effective,
        uoom_from=uoom_from,
        scope=scopes,
        confidence=confidence,
        source=row["source"],
        notes=row.get("notes", ""),
    )


@cache
def shipped_law_table() -> LawTable:
    """The table shipped with this version of optout-mw (parsed once)."""
    table = resources.files("optout_mw.jurisdiction").joinpath("laws.toml")
    text = table.read_text(encoding="utf-8")
    return parse_law_table(text)
