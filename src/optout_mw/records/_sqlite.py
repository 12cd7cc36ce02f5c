"""The SQLite store: one file, shared safely by every worker process on the host.

WAL journal (readers never wait for the writer), ``synchronous=FULL`` (a committed write
survives a crash of the process and of the machine), a busy timeout for the write lock.
Writes come from the records writer thread only, so no request thread and no event
loop ever waits on the write lock; reads use one connection per thread.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence

from optout_mw.records import _sql
from optout_mw.records._errors import SchemaMismatch, StoreUnavailable
from optout_mw.records._model import Change, Event, Outcome, Standing
from optout_mw.records._schema import META_TABLE, MIGRATIONS, SCHEMA_RECHECK, SCHEMA_VERSION
from optout_mw.records._settings import RecordsSettings


class SQLiteStore:
    kind = "sqlite"

    def __init__(self, settings: RecordsSettings, *, clock: Callable[[], float] = time.time):
        self.settings = settings
        self.path = settings.sqlite_path
        self._clock = clock
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[tuple[int, sqlite3.Connection]] = []
        self._checked_at = -1e18
        self._version = -1

    # --- connections -----------------------------------------------------------------------

    def _connection(self, *, write: bool) -> sqlite3.Connection:
        attr = "writer" if write else "reader"
        found: tuple[int, sqlite3.Connection] | None = getattr(self._local, attr, None)
        pid = os.getpid()
        if found is not None and found[0] == pid:
            return found[1]
        timeout = self.settings.write_timeout if write else self.settings.read_timeout
        try:
            # check_same_thread=False only so close() may close it; one thread uses it.
            conn = sqlite3.connect(self.path, timeout=timeout, isolation_level=None,
                                   check_same_thread=False)
            conn.execute("PRAGMA synchronous = FULL")
        except sqlite3.Error as error:
            raise StoreUnavailable(f"cannot open the SQLite records file: {error}") from error
        setattr(self._local, attr, (pid, conn))
        with self._lock:
            self._connections.append((pid, conn))
        return conn

    def close(self) -> None:
        pid = os.getpid()
        with self._lock:
            mine = [c for p, c in self._connections if p == pid]
            # A forked child leaves its parent's connections alone (closing them would
            # touch file locks the parent holds).
            self._connections = [(p, c) for p, c in self._connections if p != pid]
        for conn in mine:
            conn.close()
        self._local = threading.local()

    # --- schema ----------------------------------------------------------------------------

    def schema_version(self) -> int:
        conn = self._connection(write=False)
        try:
            return _sql.schema_version(conn.cursor(), _sql.SQLITE)
        except sqlite3.OperationalError as error:
            if "no such table" in str(error):
                return 0
            raise StoreUnavailable(f"cannot read the records schema version: {error}") from error
        except sqlite3.Error as error:
            raise StoreUnavailable(f"cannot read the records schema version: {error}") from error

    def migrate(self) -> tuple[int, int]:
        conn = self._connection(write=True)
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute(META_TABLE)
                before = _sql.schema_version(conn.cursor(), _sql.SQLITE)
                for migration in MIGRATIONS:
                    if migration.version > before:
                        for statement in migration.sqlite:
                            conn.execute(statement)
                after = max(before, SCHEMA_VERSION)
                conn.execute(
                    "INSERT INTO optout_records_meta (key, value) VALUES ('schema_version', ?) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (str(after),),
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as error:
            raise StoreUnavailable(f"cannot migrate the SQLite records file: {error}") from error
        self._checked_at = -1e18
        return before, after

    def _require_schema(self) -> None:
        now = time.monotonic()
        if self._version != SCHEMA_VERSION or now - self._checked_at > SCHEMA_RECHECK:
            self._version = self.schema_version()
            self._checked_at = now
        if self._version != SCHEMA_VERSION:
            raise SchemaMismatch(self._version, SCHEMA_VERSION)

    # --- writes ----------------------------------------------------------------------------

    def _context(self) -> _sql.WriteContext:
        key = self.settings.tamper_key if self.settings.tamper_evidence else None
        return _sql.WriteContext(
            now_ms=int(self._clock() * 1000),
            browser_ttl_ms=self.settings.browser_ttl * 1000,
            config_version=self.settings.config_version,
            chain_key=key.encode("utf-8") if key else None,
        )

    def apply(self, changes: Sequence[Change]) -> list[Outcome]:
        self._require_schema()
        conn = self._connection(write=True)
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                outcomes = _sql.apply_changes(conn.cursor(), _sql.SQLITE, changes,
                                              self._context())
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        except sqlite3.OperationalError as error:
            # Locked, busy, disk full or I/O: worth another attempt later.
            self._checked_at = -1e18
            raise StoreUnavailable(f"SQLite write failed: {error}") from error
        return outcomes

    def purge(self, *, now: float, retention_days: int) -> _sql.PurgeResult:
        self._require_schema()
        conn = self._connection(write=True)
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = _sql.purge(conn.cursor(), _sql.SQLITE, now_ms=int(now * 1000),
                                    retention_days=retention_days)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        except sqlite3.OperationalError as error:
            raise StoreUnavailable(f"SQLite purge failed: {error}") from error
        return result

    # --- reads -----------------------------------------------------------------------------

    def read_account(self, account_id: str) -> Standing | None:
        self._require_schema()
        try:
            return _sql.read_account(self._connection(write=False).cursor(), _sql.SQLITE,
                                     account_id)
        except sqlite3.Error as error:
            raise StoreUnavailable(f"SQLite read failed: {error}") from error

    def read_linked(self, browser_id: str) -> Standing | None:
        self._require_schema()
        try:
            return _sql.read_linked(self._connection(write=False).cursor(), _sql.SQLITE,
                                    browser_id, int(self._clock() * 1000))
        except sqlite3.Error as error:
            raise StoreUnavailable(f"SQLite read failed: {error}") from error

    def events(
        self, *, since: float | None = None, until: float | None = None,
        chained_only: bool = False,
    ) -> Iterator[Event]:
        self._require_schema()
        # A connection of its own: a long export must not hold the request path's reader.
        conn = sqlite3.connect(self.path, timeout=self.settings.write_timeout,
                               isolation_level=None)
        try:
            conn.execute("BEGIN")  # one snapshot for the whole export
            yield from _sql.iter_events(conn.cursor(), _sql.SQLITE, since=since, until=until,
                                        chained_only=chained_only)
        except sqlite3.Error as error:
            raise StoreUnavailable(f"SQLite read failed: {error}") from error
        finally:
            conn.close()

    def verify(self, key: bytes) -> _sql.VerifyResult:
        self._require_schema()
        conn = sqlite3.connect(self.path, timeout=self.settings.write_timeout,
                               isolation_level=None)
        try:
            conn.execute("BEGIN")  # the chain's ends and its events from one snapshot
            cur = conn.cursor()
            anchor, head = _sql.chain_ends(cur, _sql.SQLITE)
            unchained = int(conn.execute(
                "SELECT COUNT(*) FROM optout_events WHERE mac IS NULL").fetchone()[0])
            events = _sql.iter_events(cur, _sql.SQLITE, chained_only=True)
            return _sql.verify_chain(events, anchor, head, key, unchained=unchained)
        except sqlite3.Error as error:
            raise StoreUnavailable(f"SQLite read failed: {error}") from error
        finally:
            conn.close()
