"""The store interface both implementations provide, and the factory that picks one."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from typing import Protocol, runtime_checkable

from optout_mw.records._model import Change, Event, Outcome, Standing
from optout_mw.records._settings import RecordsSettings
from optout_mw.records._sql import PurgeResult, VerifyResult


@runtime_checkable
class Store(Protocol):
    """One schema, two implementations (SQLite, PostgreSQL).

    Every method may raise :class:`StoreUnavailable` (and its :class:`SchemaMismatch`);
    the callers in this package turn that into a fallback, a retry or a count, never into
    a failed page.
    """

    #: ``"sqlite"`` or ``"postgresql"``.
    kind: str

    def schema_version(self) -> int: ...

    def migrate(self) -> tuple[int, int]:
        """Apply pending migrations; ``(version before, version after)``."""
        ...

    def apply(self, changes: Sequence[Change]) -> list[Outcome]:
        """Write ``changes`` in one transaction, in order; idempotent by event id."""
        ...

    def read_account(self, account_id: str) -> Standing | None: ...

    def read_linked(self, browser_id: str) -> Standing | None:
        """The opt-out of an account the browser is linked to, if any."""
        ...

    def events(
        self, *, since: float | None = None, until: float | None = None,
        chained_only: bool = False,
    ) -> Iterator[Event]: ...

    def verify(self, key: bytes) -> VerifyResult:
        """Check the HMAC chain over the events (tamper evidence)."""
        ...

    def purge(self, *, now: float, retention_days: int) -> PurgeResult: ...

    def close(self) -> None: ...


@runtime_checkable
class AsyncReads(Protocol):
    """Reads an ASGI application awaits (PostgreSQL's async pool)."""

    async def aopen(self) -> None: ...

    async def aclose(self) -> None: ...

    async def aread_account(self, account_id: str) -> Standing | None: ...

    async def aread_linked(self, browser_id: str) -> Standing | None: ...


def open_store(
    settings: RecordsSettings, *, clock: Callable[[], float] = time.time
) -> Store:
    """The store ``settings.url`` names. Nothing is connected until first use."""
    if settings.is_sqlite:
        # Each implementation is loaded only when named (sqlite3 is not free to import).
        from optout_mw.records._sqlite import SQLiteStore

        return SQLiteStore(settings, clock=clock)
    # psycopg is the optional `postgres` extra: imported only when a site asks for it.
    from optout_mw.records._postgres import PostgresStore

    return PostgresStore(settings, clock=clock)
