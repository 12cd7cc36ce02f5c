"""The shipped law table: its shape, its review dates, and the loader's refusals."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from optout_mw.jurisdiction import (
    Confidence,
    OptOutScope,
    StateLaw,
    parse_law_table,
    shipped_law_table,
)
from optout_mw.jurisdiction.geo import US_SUBDIVISIONS

TABLE = shipped_law_table()

# The duties the table must carry: (state, first day of the signal duty).
SIGNAL_DUTIES = {
    "CO": date(2024, 7, 1),
    "CT": date(2025, 1, 1),
    "TX": date(2025, 1, 1),
    "MT": date(2025, 1, 1),
    "NE": date(2025, 1, 1),
    "NH": date(2025, 1, 1),
    "NJ": date(2025, 7, 15),
    "MN": date(2025, 7, 31),
    "MD": date(2025, 10, 1),
    "OR": date(2026, 1, 1),
    "DE": date(2026, 1, 1),
    "VT": date(2028, 1, 1),
}
WITHOUT_SIGNAL_DUTY = ("VA", "UT", "IA", "TN", "FL", "IN", "KY", "RI", "OK")


def test_every_state_row_is_there_once() -> None:
    expected = {"CA", "AL", "LA", *SIGNAL_DUTIES, *WITHOUT_SIGNAL_DUTY}
    assert set(TABLE.states) == expected
    assert all(code in US_SUBDIVISIONS for code in TABLE.states)


@pytest.mark.parametrize(("state", "starts"), sorted(SIGNAL_DUTIES.items()))
def test_signal_duty_dates(state: str, starts: date) -> None:
    law = TABLE.states[state]
    assert law.uoom_from == starts
    assert law.effective <= starts
    assert OptOutScope.SALE in law.scope
    assert OptOutScope.TARGETED_ADVERTISING in law.scope


def test_california_covers_sale_and_sharing() -> None:
    law = TABLE.states["CA"]
    assert law.scope == {OptOutScope.SALE, OptOutScope.SHARING}
    assert law.uoom_from is not None and law.uoom_from <= date(2023, 3, 29)


@pytest.mark.parametrize("state", WITHOUT_SIGNAL_DUTY)
def test_states_without_a_signal_duty(state: str) -> None:
    law = TABLE.states[state]
    assert law.uoom_from is None
    assert law.scope == frozenset()
    assert not law.requires_signal(date(2100, 1, 1))


def test_unverified_rows_are_reviewed_before_their_date() -> None:
    """Fails on the day an unverified row starts deciding anything: verify it against the
    enacted text, then mark it verified or secondary (docs/jurisdiction.md, "Reviewing")."""
    due = TABLE.due_for_review(date.today())
    assert due == (), "review these rows in laws.toml: " + ", ".join(
        f"{row.state} ({row.review_date})" for row in due
    )


def test_review_check_sees_each_unverified_row_on_its_date() -> None:
    unverified = [row for row in TABLE.states.values() if row.confidence is Confidence.UNVERIFIED]
    assert {row.state for row in unverified} == {"AL", "LA"}
    for row in unverified:
        assert row not in TABLE.due_for_review(row.review_date - timedelta(days=1))
        assert row in TABLE.due_for_review(row.review_date)


def test_rows_in_force_before_this_review_are_all_checked() -> None:
    # The review on 2026-12-04 left no unverified row whose date had passed.
    assert TABLE.version == "2026-12-04"
    assert TABLE.due_for_review(date(2026, 12, 4)) == ()


def test_sources_are_https_and_citations_present() -> None:
    for law in TABLE.states.values():
        assert law.source.startswith("https://")
        assert law.citation and law.law


def test_to_json_names_the_law_without_notes() -> None:
    assert TABLE.states["NJ"].to_json() == {
        "state": "NJ",
        "law": "New Jersey Data Privacy Act",
        "citation": "N.J. Stat. 56:8-166.11(b)(1)",
        "uoom_from": "2025-07-15",
        "scope": ["sale", "targeted_advertising"],
        "confidence": "verified",
    }


ROW = """
version = "test"
[[state]]
state = "ZZ"
law = "A law"
citation = "s. 1"
effective = 2030-01-01
uoom_from = 2030-06-01
scope = ["sale"]
confidence = "unverified"
source = "https://example.org/"
"""


def test_parse_a_minimal_table() -> None:
    table = parse_law_table(ROW.replace('"ZZ"', '"WY"'))
    assert table.version == "test"
    assert table.get("WY") == StateLaw(
        state="WY",
        law="A law",
        citation="s. 1",
        effective=date(2030, 1, 1),
        uoom_from=date(2030, 6, 1),
        scope=frozenset({OptOutScope.SALE}),
        confidence=Confidence.UNVERIFIED,
        source="https://example.org/",
    )
    assert table.get("CA") is None


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        pytest.param(('version = "test"', ""), "'version'", id="no version"),
        pytest.param(('"ZZ"', '"Z"'), "two-letter", id="bad state"),
        pytest.param(("2030-06-01", '"2030-06-01"'), "uoom_from: expected a date", id="str date"),
        pytest.param(("2030-01-01", "2030-01-01T00:00:00"), "effective", id="datetime"),
        pytest.param(('["sale"]', '["selling"]'), "selling", id="unknown scope"),
        pytest.param(('["sale"]', "[]"), "scope is given exactly", id="duty without scope"),
        pytest.param(('"unverified"', '"sure"'), "sure", id="bad confidence"),
        pytest.param(("https://", "http://"), "https://", id="plain http"),
        pytest.param(('law = "A law"', "law = 1"), "strings", id="law not text"),
        pytest.param(('citation = "s. 1"', ""), "missing ['citation']", id="missing key"),
        pytest.param(('citation = "s. 1"', 'citation = "s. 1"\nurl = "x"'), "unknown ['url']",
                     id="unknown key"),
    ],
)
def test_malformed_tables_name_the_problem(edit: tuple[str, str], message: str) -> None:
    with pytest.raises(ValueError, match="law table") as info:
        parse_law_table(ROW.replace(*edit))
    assert message in str(info.value)


def test_a_state_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="ZZ appears twice"):
        parse_law_table(ROW + ROW.replace('version = "test"', ""))


def test_rows_must_be_tables() -> None:
    with pytest.raises(ValueError, match="expected \\[\\[state\\]\\]"):
        parse_law_table('version = "x"\nstate = 1\n')
    with pytest.raises(ValueError, match="expected a table"):
        parse_law_table('version = "x"\nstate = [1]\n')
