"""The store's statements and operations, written once for both dialects.

Each function takes a DB-API cursor inside a transaction the caller opened. Statements
use ``?`` placeholders; PostgreSQL's copy swaps them for ``%s``. Writes are idempotent
by event id (a retried batch whose first commit did reach the store writes nothing
twice) and use optimistic concurrency on the subject's version, so two processes, or
two hosts, changing the same account never lose an update.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import statistics
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol

from optout_mw.records._errors import Contention
from optout_mw.records._model import (
    Change,
    Choice,
    Event,
    Forget,
    Link,
    Manner,
    Nature,
    Outcome,
    Response,
    Standing,
    Subject,
    SubjectKind,
)

_MS: Final = 1000
_DAY_MS: Final = 86_400_000
#: Rounds of optimistic concurrency before the whole batch is retried later.
_CAS_ROUNDS: Final = 16

_EVENT_COLUMNS: Final = (
    "seq, event_id, subject_kind, subject_id, nature, manner, requested_ms, responded_ms, "
    "response, denial_basis, signals, jurisdiction, config_version, client_ip, user_agent, "
    "prev_mac, mac"
)


class Cursor(Protocol):
    """What the operations need of a sqlite3 or psycopg cursor."""

    @property
    def rowcount(self) -> int: ...

    def execute(self, sql: Any, params: Sequence[Any] = ..., /) -> Any: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def fetchmany(self, size: int = ..., /) -> list[Any]: ...


@dataclass(frozen=True, slots=True)
class Dialect:
    name: str
    #: Row locks for the read-then-write steps (PostgreSQL); SQLite's writer holds the
    #: database's single write lock for the whole transaction instead.
    for_update: str

    def sql(self, statement: str) -> str:
        return statement if self.name == "sqlite" else statement.replace("?", "%s")


SQLITE: Final = Dialect("sqlite", "")
POSTGRES: Final = Dialect("postgresql", " FOR UPDATE")


@dataclass(frozen=True, slots=True)
class WriteContext:
    """What every write in one transaction shares."""

    now_ms: int
    browser_ttl_ms: int
    config_version: str
    #: The HMAC key when tamper evidence is on.
    chain_key: bytes | None


@dataclass(frozen=True, slots=True)
class PurgeResult:
    events: int
    browsers: int
    accounts: int
    links: int


@dataclass(frozen=True, slots=True)
class StatsRow:
    """One line of the 11 CCR §7102(a)(1) table."""

    nature: str
    received: int
    complied: int
    denied: int
    median_days: float | None
    mean_days: float | None


@dataclass(frozen=True, slots=True)
class VerifyResult:
    checked: int
    unchained: int
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


# --- reads ---------------------------------------------------------------------------------


def schema_version(cur: Cursor, d: Dialect) -> int:
    cur.execute(d.sql("SELECT value FROM optout_records_meta WHERE key = ?"), ("schema_version",))
    row = cur.fetchone()
    return int(row[0]) if row else 0


ACCOUNT_SQL: Final = (
    "SELECT opted_out, since_ms, manner, jurisdiction, version FROM optout_subjects "
    "WHERE subject_kind = 'account' AND subject_id = ? AND version > 0"
)
LINKED_SQL: Final = (
    "SELECT s.subject_id, s.since_ms, s.manner, s.jurisdiction, s.version "
    "FROM optout_links l JOIN optout_subjects s "
    "ON s.subject_kind = 'account' AND s.subject_id = l.account_id "
    "WHERE l.browser_id = ? AND l.expires_ms > ? AND s.opted_out "
    "ORDER BY s.since_ms LIMIT 1"
)


def account_standing(row: Sequence[Any] | None, account_id: str) -> Standing | None:
    if row is None:
        return None
    return Standing(bool(row[0]), row[1] / _MS, _manner(row[2]), row[3], int(row[4]),
                    Subject.account(account_id))


def linked_standing(row: Sequence[Any] | None) -> Standing | None:
    if row is None:
        return None
    return Standing(True, row[1] / _MS, _manner(row[2]), row[3], int(row[4]),
                    Subject.account(row[0]))


def read_account(cur: Cursor, d: Dialect, account_id: str) -> Standing | None:
    cur.execute(d.sql(ACCOUNT_SQL), (account_id,))
    return account_standing(cur.fetchone(), account_id)


def read_linked(cur: Cursor, d: Dialect, browser_id: str, now_ms: int) -> Standing | None:
    """The earliest opt-out of an account this browser is linked to, if any."""
    cur.execute(d.sql(LINKED_SQL), (browser_id, now_ms))
    return linked_standing(cur.fetchone())


def _manner(value: str) -> Manner | str:
    try:
        return Manner(value)
    except ValueError:
        return value


def iter_events(
    cur: Cursor,
    d: Dialect,
    *,
    since: float | None = None,
    until: float | None = None,
    chained_only: bool = False,
    batch: int = 1000,
) -> Iterator[Event]:
    where, params = ["requested_ms >= ?", "requested_ms < ?"], [
        -(2**62) if since is None else int(since * _MS),
        2**62 if until is None else int(until * _MS),
    ]
    if chained_only:
        where.append("mac IS NOT NULL")
    cur.execute(
        d.sql(f"SELECT {_EVENT_COLUMNS} FROM optout_events WHERE {' AND '.join(where)} "
              "ORDER BY seq"),
        params,
    )
    while rows := cur.fetchmany(batch):
        for row in rows:
            yield _event(row)


def _event(row: Sequence[Any]) -> Event:
    return Event(
        seq=int(row[0]), event_id=row[1], subject_kind=row[2], subject_id=row[3],
        nature=row[4], manner=row[5], requested_at=row[6] / _MS, responded_at=row[7] / _MS,
        response=row[8], denial_basis=row[9],
        signals=tuple(s for s in row[10].split(",") if s), jurisdiction=row[11],
        config_version=row[12], client_ip=row[13], user_agent=row[14], prev_mac=row[15],
        mac=row[16],
    )


def chain_ends(cur: Cursor, d: Dialect) -> tuple[str, str]:
    """``(anchor_mac, head_mac)``: the last purged event's MAC and the newest event's."""
    cur.execute("SELECT anchor_mac, head_mac FROM optout_chain WHERE id = 1")
    row = cur.fetchone()
    return (row[0], row[1]) if row else ("", "")


# --- writes --------------------------------------------------------------------------------


def lock_chain(cur: Cursor, d: Dialect) -> None:
    """Serialise chained writes across processes and hosts (taken first: no deadlocks)."""
    cur.execute(f"SELECT head_mac FROM optout_chain WHERE id = 1{d.for_update}")
    cur.fetchone()


def apply_changes(
    cur: Cursor, d: Dialect, changes: Iterable[Change], ctx: WriteContext
) -> list[Outcome]:
    if ctx.chain_key is not None:
        lock_chain(cur, d)
    batch = list(changes)
    if d.for_update:
        _lock_subjects(cur, d, batch, ctx)
    outcomes: list[Outcome] = []
    for change in batch:
        if _event_exists(cur, d, change.event_id):
            outcomes.append(Outcome(change.event_id, changed=False, recorded=False))
        elif isinstance(change, Choice):
            outcomes.append(_apply_choice(cur, d, change, ctx))
        elif isinstance(change, Link):
            outcomes.append(_apply_link(cur, d, change, ctx))
        else:
            outcomes.append(_apply_forget(cur, d, change, ctx))
    return outcomes


def _lock_subjects(cur: Cursor, d: Dialect, batch: Sequence[Change], ctx: WriteContext) -> None:
    """PostgreSQL: lock every subject row the batch touches before deciding anything.

    Concurrent decisions on one subject are then serialised in the order of the log (a
    decision that changes nothing would otherwise read past an uncommitted change), and
    locks taken in one sorted order by every writer cannot deadlock. A missing row is made
    first with version 0, "never changed", which reads ignore. SQLite needs none of this:
    its writer holds the database's write lock for the whole transaction.
    """
    keys: set[tuple[str, str]] = set()
    for change in batch:
        if isinstance(change, Choice):
            keys.add((str(change.subject.kind), change.subject.id))
        elif isinstance(change, Link):
            keys.update({("account", change.account_id), ("browser", change.browser_id)})
        else:
            keys.add(("account", change.account_id))
    for kind, sid in sorted(keys):
        expires = ctx.now_ms + ctx.browser_ttl_ms if kind == "browser" else None
        cur.execute(
            d.sql("INSERT INTO optout_subjects (opted_out, since_ms, manner, jurisdiction, "
                  "updated_ms, expires_ms, version, subject_kind, subject_id) "
                  "VALUES (?, ?, '', NULL, ?, ?, 0, ?, ?) ON CONFLICT DO NOTHING"),
            (False, ctx.now_ms, ctx.now_ms, expires, kind, sid),
        )
        cur.execute(
            d.sql("SELECT version FROM optout_subjects WHERE subject_kind = ? "
                  f"AND subject_id = ?{d.for_update}"),
            (kind, sid),
        )
        cur.fetchone()


def _event_exists(cur: Cursor, d: Dialect, event_id: str) -> bool:
    cur.execute(d.sql("SELECT 1 FROM optout_events WHERE event_id = ?"), (event_id,))
    return cur.fetchone() is not None


def _apply_choice(cur: Cursor, d: Dialect, ch: Choice, ctx: WriteContext) -> Outcome:
    kind, sid = str(ch.subject.kind), ch.subject.id
    target = ch.nature is Nature.OPT_OUT
    expires = (ctx.now_ms + ctx.browser_ttl_ms) if ch.subject.kind is SubjectKind.BROWSER \
        else None
    for _ in range(_CAS_ROUNDS):
        cur.execute(
            d.sql("SELECT opted_out, version FROM optout_subjects "
                  "WHERE subject_kind = ? AND subject_id = ?"),
            (kind, sid),
        )
        row = cur.fetchone()
        version = int(row[1]) if row else 0
        if ch.expected_version is not None and version != ch.expected_version:
            return Outcome(ch.event_id, changed=False, recorded=False, applied=False)
        current = bool(row[0]) if row else False
        denied = ch.response is Response.DENIED
        changed = not denied and current != target
        if not changed and ch.only_if_changed:
            return Outcome(ch.event_id, changed=False, recorded=False)
        since = int(ch.requested_at * _MS)
        params = (target, since, str(ch.manner), ch.jurisdiction, ctx.now_ms, expires)
        if changed and row is None:
            cur.execute(
                d.sql("INSERT INTO optout_subjects (opted_out, since_ms, manner, jurisdiction, "
                      "updated_ms, expires_ms, version, subject_kind, subject_id) "
                      "VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?) ON CONFLICT DO NOTHING"),
                (*params, kind, sid),
            )
        elif changed:
            cur.execute(
                d.sql("UPDATE optout_subjects SET opted_out = ?, since_ms = ?, manner = ?, "
                      "jurisdiction = ?, updated_ms = ?, expires_ms = ?, version = version + 1 "
                      "WHERE subject_kind = ? AND subject_id = ? AND version = ?"),
                (*params, kind, sid, version),
            )
        elif row is not None and expires is not None and not denied:
            # The same choice again: the browser is still here, its state lives on.
            cur.execute(
                d.sql("UPDATE optout_subjects SET updated_ms = ?, expires_ms = ? "
                      "WHERE subject_kind = ? AND subject_id = ?"),
                (ctx.now_ms, expires, kind, sid),
            )
        if changed and cur.rowcount != 1:
            continue  # another writer got there first: read again and decide again
        _insert_event(
            cur, d, ctx, ch.event_id, ch.subject, str(ch.nature), str(ch.manner),
            ch.requested_at, str(ch.response), ch.denial_basis, ch.signals, ch.jurisdiction,
            ch.client_ip, ch.user_agent,
        )
        return Outcome(ch.event_id, changed=changed, recorded=True)
    raise Contention(f"the {kind} kept changing under {_CAS_ROUNDS} attempts")


def _apply_link(cur: Cursor, d: Dialect, link: Link, ctx: WriteContext) -> Outcome:
    cur.execute(
        d.sql("INSERT INTO optout_links (browser_id, account_id, linked_ms, expires_ms) "
              "VALUES (?, ?, ?, ?) ON CONFLICT (browser_id, account_id) DO UPDATE SET "
              "linked_ms = excluded.linked_ms, expires_ms = excluded.expires_ms"),
        (link.browser_id, link.account_id, ctx.now_ms, ctx.now_ms + ctx.browser_ttl_ms),
    )
    opted_out = link.browser_opted_out
    if not opted_out:
        cur.execute(
            d.sql("SELECT opted_out FROM optout_subjects WHERE subject_kind = 'browser' "
                  "AND subject_id = ? AND expires_ms > ?"),
            (link.browser_id, ctx.now_ms),
        )
        row = cur.fetchone()
        opted_out = bool(row[0]) if row else False
    if not opted_out:
        return Outcome(link.event_id, changed=False, recorded=False)
    # §7025(c)(1): the browser's opt-out applies to the consumer profile it is linked to.
    return _apply_choice(cur, d, Choice(
        Subject.account(link.account_id), Nature.OPT_OUT, link.manner, link.requested_at,
        signals=link.signals, jurisdiction=link.jurisdiction, only_if_changed=True,
        event_id=link.event_id,
    ), ctx)


def _apply_forget(cur: Cursor, d: Dialect, forget: Forget, ctx: WriteContext) -> Outcome:
    cur.execute(
        d.sql("DELETE FROM optout_subjects WHERE subject_kind = 'account' AND subject_id = ? "
              "AND version > 0"),
        (forget.account_id,),
    )
    changed = cur.rowcount > 0
    cur.execute(
        d.sql("DELETE FROM optout_subjects WHERE subject_kind = 'account' AND subject_id = ?"),
        (forget.account_id,),
    )
    cur.execute(d.sql("DELETE FROM optout_links WHERE account_id = ?"), (forget.account_id,))
    _insert_event(
        cur, d, ctx, forget.event_id, Subject.account(forget.account_id), str(Nature.DELETE),
        str(Manner.API), forget.requested_at, str(Response.COMPLIED), None, (), None, None, None,
    )
    return Outcome(forget.event_id, changed=changed, recorded=True)


def event_mac(key: bytes, prev_mac: str, fields: Sequence[object]) -> str:
    """HMAC-SHA256 over the previous event's MAC and this event's fields."""
    message = json.dumps([prev_mac, *fields], separators=(",", ":"), ensure_ascii=True)
    return hmac.new(key, message.encode("ascii"), hashlib.sha256).hexdigest()


def _mac_fields(event: Event) -> tuple[object, ...]:
    return (
        event.event_id, event.subject_kind, event.subject_id, event.nature, event.manner,
        round(event.requested_at * _MS), round(event.responded_at * _MS), event.response,
        event.denial_basis, ",".join(event.signals), event.jurisdiction, event.config_version,
        event.client_ip, event.user_agent,
    )


def _insert_event(
    cur: Cursor, d: Dialect, ctx: WriteContext, event_id: str, subject: Subject, nature: str,
    manner: str, requested_at: float, response: str, denial_basis: str | None,
    signals: Sequence[str], jurisdiction: str | None, client_ip: str | None,
    user_agent: str | None,
) -> None:
    fields: tuple[object, ...] = (
        event_id, str(subject.kind), subject.id, nature, manner, int(requested_at * _MS),
        ctx.now_ms, response, denial_basis, ",".join(signals), jurisdiction,
        ctx.config_version, client_ip, user_agent,
    )
    prev_mac = mac = None
    if ctx.chain_key is not None:
        cur.execute("SELECT head_mac FROM optout_chain WHERE id = 1")
        prev_mac = str(cur.fetchone()[0])
        mac = event_mac(ctx.chain_key, prev_mac, fields)
        cur.execute(d.sql("UPDATE optout_chain SET head_mac = ? WHERE id = 1"), (mac,))
    cur.execute(
        d.sql("INSERT INTO optout_events (event_id, subject_kind, subject_id, nature, manner, "
              "requested_ms, responded_ms, response, denial_basis, signals, jurisdiction, "
              "config_version, client_ip, user_agent, prev_mac, mac) "
              "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
        (*fields, prev_mac, mac),
    )


def purge(cur: Cursor, d: Dialect, *, now_ms: int, retention_days: int) -> PurgeResult:
    """Remove what the retention rules no longer keep.

    Events go in log order up to the first one still within retention, so the chain stays
    contiguous; its anchor becomes the last removed event's MAC.
    """
    lock_chain(cur, d)
    cutoff = now_ms - retention_days * _DAY_MS
    cur.execute(d.sql("SELECT MIN(seq) FROM optout_events WHERE requested_ms >= ?"), (cutoff,))
    row = cur.fetchone()
    boundary = row[0] if row and row[0] is not None else None
    keep_from = "seq < ?" if boundary is not None else "1 = 1"
    bound: tuple[object, ...] = (boundary,) if boundary is not None else ()
    cur.execute(
        d.sql(f"SELECT mac FROM optout_events WHERE {keep_from} AND mac IS NOT NULL "
              "ORDER BY seq DESC LIMIT 1"),
        bound,
    )
    last = cur.fetchone()
    cur.execute(d.sql(f"DELETE FROM optout_events WHERE {keep_from}"), bound)
    events = cur.rowcount
    if last is not None:
        cur.execute(d.sql("UPDATE optout_chain SET anchor_mac = ? WHERE id = 1"), (last[0],))
    cur.execute(
        d.sql("DELETE FROM optout_subjects WHERE subject_kind = 'browser' AND expires_ms <= ?"),
        (now_ms,),
    )
    browsers = cur.rowcount
    # An account is remembered until it opts back in or is deleted; its history stays in
    # the event log for the retention period.
    cur.execute("DELETE FROM optout_subjects WHERE subject_kind = 'account' AND NOT opted_out")
    accounts = cur.rowcount
    cur.execute(d.sql("DELETE FROM optout_links WHERE expires_ms <= ?"), (now_ms,))
    return PurgeResult(events, browsers, accounts, cur.rowcount)


# --- reports -------------------------------------------------------------------------------


def verify_chain(
    events: Iterable[Event], anchor: str, head: str, key: bytes, *, unchained: int = 0
) -> VerifyResult:
    problems: list[str] = []
    expected = anchor
    checked = 0
    for event in events:
        checked += 1
        if event.prev_mac != expected:
            problems.append(f"event {event.seq} ({event.event_id}): does not follow the "
                            "event before it (an event was removed or reordered)")
        if event.mac != event_mac(key, event.prev_mac or "", _mac_fields(event)):
            problems.append(f"event {event.seq} ({event.event_id}): its fields do not match "
                            "its MAC (altered, or verified with another key)")
        expected = event.mac or ""
    if expected != head:
        problems.append("the newest chained events are missing (the chain head names an "
                        "event that is not in the log)")
    return VerifyResult(checked, unchained, tuple(problems))


def stats(events: Iterable[Event]) -> list[StatsRow]:
    """The §7102(a)(1) metrics, one row per nature of request."""
    by_nature: dict[str, list[Event]] = {}
    for event in events:
        by_nature.setdefault(event.nature, []).append(event)
    rows = []
    order = {str(n): i for i, n in enumerate(Nature)}
    for nature in sorted(by_nature, key=lambda n: (order.get(n, 99), n)):
        group = by_nature[nature]
        days = [(e.responded_at - e.requested_at) / 86400 for e in group]
        rows.append(StatsRow(
            nature,
            received=len(group),
            complied=sum(e.response == Response.COMPLIED for e in group),
            denied=sum(e.response == Response.DENIED for e in group),
            median_days=statistics.median(days) if days else None,
            mean_days=statistics.fmean(days) if days else None,
        ))
    return rows
