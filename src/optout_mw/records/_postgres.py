"""The PostgreSQL store (``optout-mw[postgres]``): how a fleet of app servers shares state.

psycopg 3 with its pools: a sync pool for the writer thread and for WSGI reads, an async
pool for ASGI reads, opened at lifespan start (:meth:`aopen`). Pools are per process and
made on first use after a fork, never inherited. It works behind pgbouncer in transaction
mode: no server-side prepared statements (``prepare_threshold=None``), no session state
(timeouts are ``SET LOCAL``, locks are row or transaction-scoped advisory locks, cursors
live inside their transaction).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Final

import psycopg
from psycopg import errors as pg_errors
from psycopg_pool import AsyncConnectionPool, ConnectionPool

from optout_mw.records import _sql
from optout_mw.records._errors import SchemaMismatch, StoreUnavailable
from optout_mw.records._model import Change, Event, Outcome, Standing
from optout_mw.records._schema import META_TABLE, MIGRATIONS, SCHEMA_RECHECK, SCHEMA_VERSION
from optout_mw.records._settings import RecordsSettings

#: pg_advisory_xact_lock key serialising concurrent migrations ("optout" in ASCII).
_MIGRATION_LOCK: Final = 0x6F70746F7574
_D: Final = _sql.POSTGRES

_TRANSIENT: Final = (
    psycopg.OperationalError,  # connection lost, server shutting down, timeouts, pools
    psycopg.InterfaceError,  # the connection object is closed
    pg_errors.SerializationFailure,
    pg_errors.DeadlockDetected,
)


def _connect_kwargs() -> dict[str, Any]:
    # No server-side prepared statements: pgbouncer in transaction mode hands each
    # transaction to any server connection, where a statement prepared by another is
    # missing.
    return {"prepare_threshold": None, "autocommit": False}


class PostgresStore:
    kind = "postgresql"

    def __init__(self, settings: RecordsSettings, *, clock: Callable[[], float] = time.time):
        self.settings = settings
        self._clock = clock
        self._pool: ConnectionPool | None = None
        self._pool_pid = 0
        # Pools inherited through fork belong to the parent: kept referenced (closing them
        # would end the parent's connections), never used.
        self._inherited: list[object] = []
        self._apool: AsyncConnectionPool | None = None
        self._checked_at = -1e18
        self._version = -1

    # --- connections -----------------------------------------------------------------------

    def _sync_pool(self) -> ConnectionPool:
        pool, pid = self._pool, os.getpid()
        if pool is not None and self._pool_pid == pid:
            return pool
        if pool is not None:
            self._inherited.append(pool)
        pool = ConnectionPool(
            self.settings.url,
            min_size=self.settings.pool_min_size,
            max_size=self.settings.pool_max_size,
            kwargs=_connect_kwargs(),
            open=False,
            name="optout-records",
        )
        # Not waiting: the site starts and serves while the database is down.
        pool.open(wait=False)
        self._pool, self._pool_pid = pool, pid
        return pool

    def close(self) -> None:
        if self._pool is not None and self._pool_pid == os.getpid():
            self._pool.close(timeout=self.settings.shutdown_timeout)
        self._pool = None

    async def aopen(self) -> None:
        """Open the async pool (at ASGI lifespan start, in the serving process)."""
        if self._apool is None:
            self._apool = AsyncConnectionPool(
                self.settings.url,
                min_size=self.settings.pool_min_size,
                max_size=self.settings.pool_max_size,
                kwargs=_connect_kwargs(),
                open=False,
                name="optout-records-async",
            )
            await self._apool.open(wait=False)

    async def aclose(self) -> None:
        if self._apool is not None:
            await self._apool.close(timeout=self.settings.shutdown_timeout)
            self._apool = None

    def _dedicated(self) -> psycopg.Connection[Any]:
        """A connection of its own, for a long export or a verification snapshot."""
        try:
            return psycopg.connect(self.settings.url, **_connect_kwargs())
        except psycopg.Error as error:
            raise StoreUnavailable(f"cannot connect to PostgreSQL: {_brief(error)}") from error

    # --- schema ----------------------------------------------------------------------------

    def schema_version(self) -> int:
        try:
            with self._sync_pool().connection(timeout=self.settings.read_timeout) as conn:
                return self._version_on(conn)
        except _TRANSIENT as error:
            raise StoreUnavailable(f"PostgreSQL unavailable: {_brief(error)}") from error

    def _version_on(self, conn: psycopg.Connection[Any]) -> int:
        try:
            with conn.transaction(), conn.cursor() as cur:
                return _sql.schema_version(cur, _D)
        except pg_errors.UndefinedTable:
            return 0

    def migrate(self) -> tuple[int, int]:
        try:
            with self._dedicated() as conn, conn.transaction(), conn.cursor() as cur:
                cur.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
                cur.execute(META_TABLE)
                before = _sql.schema_version(cur, _D)
                for migration in MIGRATIONS:
                    if migration.version > before:
                        for statement in migration.postgres:
                            cur.execute(statement)
                after = max(before, SCHEMA_VERSION)
                cur.execute(
                    "INSERT INTO optout_records_meta (key, value) VALUES ('schema_version', %s) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (str(after),),
                )
        except _TRANSIENT as error:
            raise StoreUnavailable(f"cannot migrate: {_brief(error)}") from error
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
        timeout_ms = int(self.settings.write_timeout * 1000)
        try:
            with self._sync_pool().connection(timeout=self.settings.write_timeout) as conn, \
                    conn.transaction(), conn.cursor() as cur:
                cur.execute(f"SET LOCAL statement_timeout = {timeout_ms}")
                cur.execute(f"SET LOCAL lock_timeout = {timeout_ms}")
                return _sql.apply_changes(cur, _D, changes, self._context())
        except _TRANSIENT as error:
            self._checked_at = -1e18
            raise StoreUnavailable(f"PostgreSQL write failed: {_brief(error)}") from error

    def purge(self, *, now: float, retention_days: int) -> _sql.PurgeResult:
        self._require_schema()
        try:
            with self._dedicated() as conn, conn.transaction(), conn.cursor() as cur:
                return _sql.purge(cur, _D, now_ms=int(now * 1000),
                                  retention_days=retention_days)
        except _TRANSIENT as error:
            raise StoreUnavailable(f"PostgreSQL purge failed: {_brief(error)}") from error

    # --- reads -----------------------------------------------------------------------------

    def _read(self, sql: str, params: tuple[object, ...]) -> Any:
        self._require_schema()
        timeout_ms = max(1, int(self.settings.read_timeout * 1000))
        try:
            with self._sync_pool().connection(timeout=self.settings.read_timeout) as conn, \
                    conn.transaction(), conn.cursor() as cur:
                cur.execute(f"SET LOCAL statement_timeout = {timeout_ms}")
                cur.execute(_D.sql(sql), params)
                return cur.fetchone()
        except _TRANSIENT as error:
            raise StoreUnavailable(f"PostgreSQL read failed: {_brief(error)}") from error

    def read_account(self, account_id: str) -> Standing | None:
        return _sql.account_standing(self._read(_sql.ACCOUNT_SQL, (account_id,)), account_id)

    def read_linked(self, browser_id: str) -> Standing | None:
        now_ms = int(self._clock() * 1000)
        return _sql.linked_standing(self._read(_sql.LINKED_SQL, (browser_id, now_ms)))

    async def _aread(self, sql: str, params: tuple[object, ...]) -> Any:
        pool = self._apool
        if pool is None:
            raise StoreUnavailable("the async pool is not open (call aopen at lifespan start)")
        timeout_ms = max(1, int(self.settings.read_timeout * 1000))
        try:
            async with pool.connection(timeout=self.settings.read_timeout) as conn, \
                    conn.transaction():
                now = time.monotonic()
                if self._version != SCHEMA_VERSION or now - self._checked_at > SCHEMA_RECHECK:
                    try:
                        async with conn.transaction():
                            cur = await conn.execute(_D.sql(
                                "SELECT value FROM optout_records_meta WHERE key = ?"),
                                ("schema_version",))
                            row = await cur.fetchone()
                            self._version = int(row[0]) if row else 0
                    except pg_errors.UndefinedTable:
                        self._version = 0
                    self._checked_at = now
                if self._version != SCHEMA_VERSION:
                    raise SchemaMismatch(self._version, SCHEMA_VERSION)
                await conn.execute(f"SET LOCAL statement_timeout = {timeout_ms}")
                cur = await conn.execute(_D.sql(sql), params)
                return await cur.fetchone()
        except _TRANSIENT as error:
            raise StoreUnavailable(f"PostgreSQL read failed: {_brief(error)}") from error

    async def aread_account(self, account_id: str) -> Standing | None:
        row = await self._aread(_sql.ACCOUNT_SQL, (account_id,))
        return _sql.account_standing(row, account_id)

    async def aread_linked(self, browser_id: str) -> Standing | None:
        now_ms = int(self._clock() * 1000)
        return _sql.linked_standing(await self._aread(_sql.LINKED_SQL, (browser_id, now_ms)))

    def events(
        self, *, since: float | None = None, until: float | None = None,
        chained_only: bool = False,
    ) -> Iterator[Event]:
        self._require_schema()
        try:
            with self._dedicated() as conn:
                conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
                # A named cursor streams the rows; it lives inside this transaction only.
                with conn.transaction(), conn.cursor(name="optout_records_export") as cur:
                    yield from _sql.iter_events(cur, _D, since=since, until=until,
                                                chained_only=chained_only)
        except _TRANSIENT as error:
            raise StoreUnavailable(f"PostgreSQL read failed: {_brief(error)}") from error

    def verify(self, key: bytes) -> _sql.VerifyResult:
        self._require_schema()
        try:
            with self._dedicated() as conn:
                conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
                with conn.transaction():
                    with conn.cursor() as cur:
                        anchor, head = _sql.chain_ends(cur, _D)
                        cur.execute("SELECT COUNT(*) FROM optout_events WHERE mac IS NULL")
                        row = cur.fetchone()
                        unchained = int(row[0]) if row else 0
                    with conn.cursor(name="optout_records_verify") as cur:
                        events = _sql.iter_events(cur, _D, chained_only=True)
                        return _sql.verify_chain(events, anchor, head, key, unchained=unchained)
        except _TRANSIENT as error:
            raise StoreUnavailable(f"PostgreSQL read failed: {_brief(error)}") from error


def _brief(error: BaseException) -> str:
    """The first line of a driver message (libpq's carry hints and no secrets)."""
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__
