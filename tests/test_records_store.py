"""The store's semantics, each test on a real SQLite file and a real PostgreSQL database."""

from __future__ import annotations

import csv
import io
import json
import logging
import sqlite3
import time
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from optout_mw.cli import main
from optout_mw.records import (
    SCHEMA_VERSION,
    Change,
    Choice,
    Link,
    Manner,
    Nature,
    Records,
    RecordsSettings,
    Response,
    Standing,
    Store,
    Subject,
    open_store,
)
from optout_mw.records._sql import stats
from tests.records_harness import pg_url, pgbouncer_url, store_url

__all__ = ["pg_url", "pgbouncer_url", "store_url"]

DAY = 86400.0
KEY = "k" * 32


def settings(url: str, **extra: Any) -> RecordsSettings:
    return RecordsSettings(url=url, **extra)


@pytest.fixture
def records(store_url: str) -> Iterator[Records]:
    r = Records(settings(store_url))
    r.store.migrate()
    yield r
    assert r.close() == 0


def execute(url: str, sql: str) -> list[tuple[Any, ...]]:
    """Run raw SQL against the store, the way an operator (or an attacker) would."""
    if url.startswith("sqlite://"):
        with sqlite3.connect(url[len("sqlite://"):]) as conn:
            return list(conn.execute(sql).fetchall())
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.execute(sql)
        return list(cur.fetchall()) if cur.description else []


def event_count(url: str) -> int:
    return int(execute(url, "SELECT COUNT(*) FROM optout_events")[0][0])


def test_migrate_is_explicit_versioned_and_idempotent(store_url: str) -> None:
    store = open_store(settings(store_url))
    try:
        assert store.schema_version() == 0
        assert store.migrate() == (0, SCHEMA_VERSION)
        assert store.migrate() == (SCHEMA_VERSION, SCHEMA_VERSION)
        assert store.schema_version() == SCHEMA_VERSION
    finally:
        store.close()


def test_schema_behind_refuses_writes_loudly_and_reads_fall_back(
    store_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    r = Records(settings(store_url, retry_base=0.01, retry_max=0.05))
    try:
        with caplog.at_level(logging.ERROR, "optout_mw.records"):
            assert r.open() is False
            assert r.standing(account_id="acct") is None  # falls back: nothing known
            ack = r.record_choice(opted_out=True, requested_at=time.time(), account_id="acct")
            assert ack.wait(0.3) is False  # held, not acknowledged
        assert "records migrate" in caplog.text
        assert r.reads.fallbacks >= 1
        # The operator migrates: the held write lands without a restart.
        open_store(settings(store_url)).migrate()
        r.store._checked_at = -1e18  # type: ignore[attr-defined]  # skip the 10 s recheck
        assert ack.wait(10) is True
        assert event_count(store_url) == 1
    finally:
        r.close()


def test_opt_out_then_in_writes_events_and_versions(records: Records, store_url: str) -> None:
    t0 = time.time()
    assert records.record_choice(opted_out=True, requested_at=t0, account_id="a").wait(5)
    first = records.standing(account_id="a")
    assert first is not None and first.opted_out and first.version == 1
    assert first.manner is Manner.FORM and first.subject == Subject.account("a")
    assert first.since == pytest.approx(t0, abs=0.002)
    assert records.record_choice(opted_out=False, requested_at=t0 + 1, account_id="a").wait(5)
    second = records.standing(account_id="a")
    assert second is not None and not second.opted_out and second.version == 2
    events = list(records.store.events())
    assert [(e.nature, e.response, e.subject_id) for e in events] == [
        ("opt_out", "complied", "a"), ("opt_in", "complied", "a")]
    assert events[0].requested_at == pytest.approx(t0, abs=0.002)
    assert events[0].responded_at >= events[0].requested_at


def test_a_repeated_choice_on_the_page_is_an_event_but_not_a_state_change(
    records: Records, store_url: str
) -> None:
    now = time.time()
    for _ in range(2):
        assert records.record_choice(opted_out=True, requested_at=now, browser_id="b").wait(5)
    assert event_count(store_url) == 2
    state = execute(store_url, "SELECT version FROM optout_subjects WHERE subject_id = 'b'")
    assert state == [(1,)]


def test_a_signal_writes_once_per_change_never_per_request(
    records: Records, store_url: str
) -> None:
    now = time.time()
    acks = [records.note_signal("acct", manner=Manner.GPC, signals=["gpc"], requested_at=now)
            for _ in range(50)]
    assert acks[0] is not None and acks[0].wait(5)
    assert all(ack is None for ack in acks[1:])  # this process already knew
    # Another process (no cache) sees the same signal: the store writes nothing new.
    other = Records(settings(store_url))
    try:
        ack = other.note_signal("acct", manner=Manner.GPC, signals=["gpc"], requested_at=now)
        assert ack is not None and ack.wait(5)
        assert ack.outcome is not None and not ack.outcome.recorded
    finally:
        other.close()
    assert event_count(store_url) == 1
    standing = records.standing(account_id="acct")
    assert standing is not None and standing.opted_out and standing.manner is Manner.GPC


def test_a_denied_request_is_recorded_with_its_basis_and_changes_nothing(
    records: Records, store_url: str
) -> None:
    now = time.time()
    assert records.record_choice(opted_out=True, requested_at=now, account_id="a").wait(5)
    ack = records.record_choice(
        opted_out=False, requested_at=now + 1, account_id="a", response=Response.DENIED,
        denial_basis="opt-in not confirmed in the second step",
    )
    assert ack.wait(5)
    standing = records.standing(account_id="a")
    assert standing is not None and standing.opted_out
    last = list(records.store.events())[-1]
    assert (last.response, last.denial_basis) == (
        "denied", "opt-in not confirmed in the second step")


def test_optimistic_concurrency_applies_only_at_the_expected_version(
    records: Records, store_url: str
) -> None:
    now = time.time()
    assert records.record_choice(opted_out=True, requested_at=now, account_id="a").wait(5)
    # An opt-in confirmed against version 0 is stale: the account changed since.
    stale = records.record_choice(opted_out=False, requested_at=now, account_id="a",
                                  expected_version=0)
    assert stale.wait(5) and stale.outcome is not None and not stale.outcome.applied
    fresh = records.record_choice(opted_out=False, requested_at=now, account_id="a",
                                  expected_version=1)
    assert fresh.wait(5) and fresh.outcome is not None and fresh.outcome.changed
    assert event_count(store_url) == 2


def test_the_same_event_id_is_written_once_whatever_the_retries(
    records: Records, store_url: str
) -> None:
    choice = Choice(Subject.browser("b"), Nature.OPT_OUT, Manner.FORM, time.time())
    first = records.store.apply([choice])
    again = records.store.apply([choice, choice])
    assert first[0].recorded and not again[0].recorded and not again[1].recorded
    assert event_count(store_url) == 1


def test_a_browser_opt_out_carries_to_the_account_it_logs_into(
    records: Records, store_url: str
) -> None:
    now = time.time()
    assert records.record_choice(opted_out=True, requested_at=now, browser_id="phone").wait(5)
    assert records.link("phone", "alice", requested_at=now + 1).wait(5)
    alice = records.standing(account_id="alice")
    assert alice is not None and alice.opted_out and alice.manner is Manner.LINKED_BROWSER
    # The laptop, linked to alice later, is opted out by her account (§7025(c)(1)).
    assert records.standing(browser_id="laptop") is None
    assert records.link("laptop", "alice", requested_at=now + 2).wait(5)
    laptop = records.standing(browser_id="laptop")
    assert laptop is not None and laptop.opted_out and laptop.subject == Subject.account("alice")
    # A link that changes nothing writes no event; the carried opt-out wrote one.
    assert [e.nature for e in records.store.events()] == ["opt_out", "opt_out"]


def test_the_request_own_opt_out_is_carried_at_login(records: Records) -> None:
    ack = records.link("b", "bob", requested_at=time.time(), browser_opted_out=True,
                       signals=("gpc",))
    assert ack.wait(5) and ack.outcome is not None and ack.outcome.changed
    bob = records.standing(account_id="bob")
    assert bob is not None and bob.opted_out
    assert [e.signals for e in records.store.events()] == [("gpc",)]


def test_a_logged_in_choice_is_one_event_against_the_account(records: Records) -> None:
    now = time.time()
    assert records.record_choice(opted_out=True, requested_at=now, account_id="carol",
                                 browser_id="tablet", signals=("gpc",)).wait(5)
    records.close()  # flushes the link too
    assert [(e.subject_kind, e.subject_id) for e in records.store.events()] == [
        ("account", "carol")]
    fresh = Records(records.settings)
    try:
        tablet = fresh.standing(browser_id="tablet")
        assert tablet is not None and tablet.subject.id == "carol"
    finally:
        fresh.close()


def test_forgetting_an_account_removes_state_and_links_keeps_the_record(
    records: Records, store_url: str
) -> None:
    now = time.time()
    assert records.record_choice(opted_out=True, requested_at=now, account_id="dave",
                                 browser_id="pc").wait(5)
    assert records.forget_account("dave", requested_at=now + 1).wait(5)
    assert records.standing(account_id="dave", browser_id="pc") is None
    assert execute(store_url, "SELECT COUNT(*) FROM optout_links")[0][0] == 0
    assert [e.nature for e in records.store.events()] == ["opt_out", "delete"]


class CountingStore:
    """A real store whose reads are counted."""

    def __init__(self, inner: Store) -> None:
        self.inner = inner
        self.reads: list[str] = []
        self.kind = inner.kind

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def read_account(self, account_id: str) -> Standing | None:
        self.reads.append(account_id)
        return self.inner.read_account(account_id)

    def read_linked(self, browser_id: str) -> Standing | None:
        self.reads.append(browser_id)
        return self.inner.read_linked(browser_id)


def test_anonymous_visitors_cost_no_store_access_and_reads_are_cached(store_url: str) -> None:
    now = [1000.0]
    inner = open_store(settings(store_url))
    inner.migrate()
    store = CountingStore(inner)
    r = Records(settings(store_url, cache_ttl=5.0), store=store, monotonic=lambda: now[0])
    try:
        for _ in range(100):
            assert r.standing() is None
        assert store.reads == []
        for _ in range(100):
            assert r.standing(account_id="eve") is None
        assert store.reads == ["eve"]  # "nothing stored" is cached too
        now[0] += 5.0
        r.standing(account_id="eve")
        assert store.reads == ["eve", "eve"]
        assert r.reads.hits == 99 and r.reads.misses == 2
    finally:
        r.close()


def test_purge_keeps_24_months_expires_browsers_and_opted_in_accounts(store_url: str) -> None:
    now = [time.time() - 800 * DAY]
    s = settings(store_url, browser_ttl=30 * 86400, tamper_evidence=True, tamper_key=KEY)
    store = open_store(s, clock=lambda: now[0])
    try:
        store.migrate()
        old = [Choice(Subject.browser(f"old{i}"), Nature.OPT_OUT, Manner.GPC, now[0])
               for i in range(3)]
        store.apply(old)
        store.apply([Choice(Subject.account("in"), Nature.OPT_OUT, Manner.FORM, now[0])])
        store.apply([Choice(Subject.account("in"), Nature.OPT_IN, Manner.FORM, now[0])])
        store.apply([Choice(Subject.account("kept"), Nature.OPT_OUT, Manner.FORM, now[0])])
        now[0] += 800 * DAY - 100
        store.apply([Choice(Subject.browser("new"), Nature.OPT_OUT, Manner.FORM, now[0])])
        result = store.purge(now=now[0], retention_days=730)
        assert (result.events, result.browsers, result.accounts) == (6, 3, 1)
        remaining = list(store.events())
        assert [e.subject_id for e in remaining] == ["new"]
        # The account still opted out is kept however old; the opted-in one is gone.
        assert store.read_account("kept") is not None and store.read_account("in") is None
        # The chain stays verifiable from its new anchor.
        assert store.verify(KEY.encode()).ok
    finally:
        store.close()


def test_the_event_log_is_append_only(records: Records, store_url: str) -> None:
    assert records.record_choice(opted_out=True, requested_at=time.time(), browser_id="b"
                                 ).wait(5)
    with pytest.raises(Exception, match="append-only"):
        execute(store_url, "UPDATE optout_events SET response = 'denied'")


def drop_append_only(url: str) -> None:
    execute(url, "DROP TRIGGER optout_events_append_only" if url.startswith("sqlite")
            else "DROP TRIGGER optout_events_append_only ON optout_events")


def test_verify_detects_an_altered_a_removed_and_a_truncated_event(store_url: str) -> None:
    r = Records(settings(store_url, tamper_evidence=True, tamper_key=KEY))
    r.store.migrate()
    try:
        for i in range(6):
            r.record_choice(opted_out=True, requested_at=time.time(), browser_id=f"b{i}"
                            ).wait(5)
        assert r.store.verify(KEY.encode()).ok
        assert r.store.verify(b"another key of the same size!!!!").problems
        drop_append_only(store_url)
        execute(store_url, "UPDATE optout_events SET response = 'denied' WHERE seq = 2")
        execute(store_url, "DELETE FROM optout_events WHERE seq = 4")
        execute(store_url, "DELETE FROM optout_events WHERE seq = 6")
        problems = r.store.verify(KEY.encode()).problems
        assert any(p.startswith("event 2 ") and "MAC" in p for p in problems)
        assert any(p.startswith("event 5 ") and "removed" in p for p in problems)
        assert any("newest" in p for p in problems)
        assert len(problems) == 3
    finally:
        r.close()


def test_stats_is_the_7102_table() -> None:
    from optout_mw.records import Event

    def event(nature: str, response: str, days: float) -> Event:
        return Event(0, "id", "account", "a", nature, "form", 0.0, days * DAY, response, None,
                     (), None, "", None, None, None, None)

    rows = stats([event("opt_out", "complied", 0), event("opt_out", "complied", 1),
                  event("opt_out", "denied", 5), event("opt_in", "complied", 0)])
    assert [(r.nature, r.received, r.complied, r.denied) for r in rows] == [
        ("opt_out", 3, 2, 1), ("opt_in", 1, 1, 0)]
    assert rows[0].median_days == 1 and rows[0].mean_days == pytest.approx(2.0)


def run_cli(args: Sequence[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["records", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_migrate_export_stats_purge_verify(
    store_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPTOUT_RECORDS_URL", store_url)
    code, out, _ = run_cli(["migrate"], capsys)
    assert code == 0 and f"to {SCHEMA_VERSION}" in out
    r = Records(settings(store_url, tamper_evidence=True, tamper_key=KEY,
                         store_client_ip="truncated", store_user_agent=True))
    requested = time.mktime((2025, 6, 1, 12, 0, 0, 0, 0, -1))
    try:
        assert r.record_choice(opted_out=True, requested_at=requested, browser_id="b1",
                               signals=("gpc", "usprivacy"), client_ip="198.51.100.23",
                               user_agent="Mozilla/5.0", jurisdiction="CA").wait(5)
        assert r.record_choice(opted_out=False, requested_at=requested + DAY,
                               browser_id="b1").wait(5)
    finally:
        r.close()

    code, out, _ = run_cli(["export", "--since", "2025-01-01", "--format", "jsonl"], capsys)
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [row["nature"] for row in rows] == ["opt_out", "opt_in"]
    assert rows[0]["signals"] == ["gpc", "usprivacy"] and rows[0]["jurisdiction"] == "CA"
    assert rows[0]["client_ip"] == "198.51.100.0" and rows[0]["user_agent"] == "Mozilla/5.0"
    assert rows[0]["requested_at"].startswith("2025-06-01")
    code, out, _ = run_cli(["export", "--since", "2025-06-02", "--format", "csv"], capsys)
    table = list(csv.DictReader(io.StringIO(out)))
    assert [row["nature"] for row in table] == ["opt_in"]
    assert table[0]["client_ip"] == "" and table[0]["mac"]

    code, out, _ = run_cli(["stats", "--year", "2025", "--json"], capsys)
    data = json.loads(out)
    assert code == 0 and [(row["nature"], row["received"], row["complied"])
                          for row in data["rows"]] == [("opt_out", 1, 1), ("opt_in", 1, 1)]
    code, out, _ = run_cli(["stats", "--year", "2025"], capsys)
    assert "§7102" in out and "opt_out" in out

    code, _, err = run_cli(["verify"], capsys)
    assert code == 2 and "OPTOUT_RECORDS_TAMPER_KEY" in err
    monkeypatch.setenv("OPTOUT_RECORDS_TAMPER_KEY", KEY)
    code, out, _ = run_cli(["verify"], capsys)
    assert code == 0 and "checked 2 chained event(s): intact" in out
    drop_append_only(store_url)
    execute(store_url, "UPDATE optout_events SET nature = 'opt_in' WHERE seq = 1")
    code, out, _ = run_cli(["verify"], capsys)
    assert code == 1 and "PROBLEM event 1 " in out

    code, _, err = run_cli(["purge", "--retention-days", "100"], capsys)
    assert code == 2 and "records_retention_days" in err
    code, out, _ = run_cli(["purge"], capsys)
    assert code == 0 and "purged 0 event(s)" in out


def test_cli_needs_a_url_and_reports_an_unreachable_store(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    monkeypatch.delenv("OPTOUT_RECORDS_URL", raising=False)
    code, _, err = run_cli(["migrate"], capsys)
    assert code == 2 and "records_url" in err
    code, _, err = run_cli(["stats", "--url", f"sqlite://{tmp_path}/missing/dir/r.db"], capsys)
    assert code == 3 and "cannot open" in err


def test_postgres_works_without_prepared_statements(pg_url: str) -> None:
    r = Records(settings(pg_url))
    r.store.migrate()
    try:
        for i in range(20):  # psycopg would prepare after 5 runs of one statement
            assert r.record_choice(opted_out=True, requested_at=time.time(),
                                   account_id=f"a{i}").wait(5)
            r.standing(account_id=f"a{i}")
        assert execute(pg_url, "SELECT COUNT(*) FROM pg_prepared_statements") == [(0,)]
    finally:
        r.close()


def test_links_are_written_in_order_with_the_choice(records: Records) -> None:
    now = time.time()
    changes: list[Change] = [Link("b", "acct", now, browser_opted_out=True),
               Choice(Subject.account("acct"), Nature.OPT_IN, Manner.FORM, now + 1)]
    outcomes = records.store.apply(changes)
    assert [o.changed for o in outcomes] == [True, True]
    acct = records.store.read_account("acct")
    assert acct is not None and not acct.opted_out and acct.version == 2


def test_postgres_behind_pgbouncer_in_transaction_mode(pgbouncer_url: str) -> None:
    assert open_store(settings(pgbouncer_url)).migrate() == (0, SCHEMA_VERSION)
    r = Records(settings(pgbouncer_url, cache_ttl=0.0, tamper_evidence=True,
                         tamper_key=KEY))
    try:
        acks = [r.record_choice(opted_out=i % 2 == 0, requested_at=time.time(),
                                account_id=f"a{i % 3}") for i in range(40)]
        assert all(ack.wait(10) for ack in acks)
        for i in range(20):  # past psycopg's threshold for preparing a statement
            assert r.standing(account_id=f"a{i % 3}") is not None
        assert len(list(r.store.events())) == 40
        assert r.store.verify(KEY.encode()).ok
    finally:
        r.close()
