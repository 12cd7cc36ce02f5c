"""``Records``: what the middleware holds per configuration, and the calls it makes.

Request path (the decision): :meth:`Records.standing` / :meth:`Records.astanding`, cached
in-process for ``cache_ttl`` seconds; a visitor with no account and no linked browser id
costs no store access at all. A store that is down or slow makes these return ``None``
(nothing known: the request's own signals decide), never an opt-in.

Writes (the opt-out page, a login, a signal from a known account): :meth:`record_choice`,
:meth:`link`, :meth:`note_signal`, :meth:`forget_account` queue a change and return an
:class:`Ack` at once; the page waits on it a bounded time.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Final, TypeVar

from optout_mw.records._errors import StoreUnavailable
from optout_mw.records._model import (
    MAX_USER_AGENT,
    Change,
    Choice,
    Forget,
    Link,
    Manner,
    Nature,
    Response,
    Standing,
    Subject,
    keep_client_ip,
)
from optout_mw.records._schema import SCHEMA_VERSION
from optout_mw.records._settings import RecordsSettings
from optout_mw.records._store import AsyncReads, Store, open_store
from optout_mw.records._ttl import TTLCache
from optout_mw.records._writer import Ack, Writer, WriterCounts, _Loud

#: After a failed read, the request path leaves the store alone this long (seconds), so
#: an outage costs each process one read timeout a second, not one per request.
READ_BACKOFF: Final = 1.0

_Key = tuple[str, str]
T = TypeVar("T")


@dataclass(slots=True)
class ReadCounts:
    hits: int = 0
    misses: int = 0
    #: Reads that fell back to the request's signals (store down, slow, schema behind).
    fallbacks: int = 0


class Records:
    """The records service of one configuration: cached reads, queued writes, acks."""

    def __init__(
        self,
        settings: RecordsSettings,
        *,
        store: Store | None = None,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.store = store if store is not None else open_store(settings, clock=clock)
        self._clock = clock
        self._monotonic = monotonic
        self._cache: TTLCache[_Key, Standing | None] = TTLCache(
            settings.cache_size, settings.cache_ttl, monotonic
        )
        self._pid = os.getpid()
        self._fork_lock = threading.Lock()
        self._writer = Writer(self.store, settings, on_commit=self._committed)
        self._reads_paused_until = -1e18
        self._loud = _Loud()
        self.reads = ReadCounts()
        self._async_open = False

    # --- lifecycle -------------------------------------------------------------------------

    def open(self) -> bool:
        """Check the schema at startup (after fork); False (logged) when not writable."""
        try:
            version = self.store.schema_version()
        except StoreUnavailable as error:
            self._loud.error("open", "the records store is unavailable at startup: %s", error)
            return False
        if version != SCHEMA_VERSION:
            self._loud.error("open", "records schema at version %d, this optout-mw needs %d: "
                             "writes are held and reads fall back until `optout-mw records "
                             "migrate` runs", version, SCHEMA_VERSION)
            return False
        return True

    async def aopen(self) -> bool:
        """At ASGI lifespan start: open the async pool (PostgreSQL), check the schema."""
        if isinstance(self.store, AsyncReads):
            await self.store.aopen()
            self._async_open = True
        return self.open()

    def close(self, timeout: float | None = None) -> int:
        """Flush queued writes within ``timeout``; the count that could not be written."""
        lost = self._writer_here().close(timeout)
        self.store.close()
        return lost

    async def aclose(self, timeout: float | None = None) -> int:
        lost = await _in_thread(self.close, timeout)
        if isinstance(self.store, AsyncReads) and self._async_open:
            await self.store.aclose()
            self._async_open = False
        return lost

    def _writer_here(self) -> Writer:
        if self._pid != os.getpid():
            with self._fork_lock:
                if self._pid != os.getpid():
                    # A forked worker: the parent's queue and thread stay the parent's.
                    self._writer = Writer(self.store, self.settings, on_commit=self._committed)
                    self._cache.clear()
                    self._pid = os.getpid()
        return self._writer

    @property
    def writes(self) -> WriterCounts:
        """The writer's counters (queued, committed, retries, refused, rejected, lost)."""
        return self._writer_here().counts

    @property
    def backlog(self) -> int:
        return self._writer_here().backlog

    def counts(self) -> dict[str, int]:
        """Every counter, for metrics."""
        out = {f"read_{k}": v for k, v in asdict(self.reads).items()}
        out.update({f"write_{k}": v for k, v in asdict(self._writer_here().counts).items()})
        out["write_backlog"] = self.backlog
        return out

    # --- the request path ------------------------------------------------------------------

    def standing(
        self, *, account_id: str | None = None, browser_id: str | None = None
    ) -> Standing | None:
        """What the store says about this visitor; ``None`` when nothing is known.

        ``browser_id`` is passed only for a browser whose choice cookie says it was linked
        to an account; an opted-out account decides for every browser linked to it.
        """
        if account_id is None and browser_id is None:
            return None
        account: Standing | None = None
        if account_id is not None:
            key = ("account", account_id)
            found, account = self._cache.lookup(key)
            if found:
                self.reads.hits += 1
            else:
                account = self._read(key, self.store.read_account, account_id)
            if account is not None and account.opted_out:
                return account
        if browser_id is not None:
            key = ("browser", browser_id)
            found, linked = self._cache.lookup(key)
            if found:
                self.reads.hits += 1
            else:
                linked = self._read(key, self.store.read_linked, browser_id)
            if linked is not None:
                return linked
        return account

    async def astanding(
        self, *, account_id: str | None = None, browser_id: str | None = None
    ) -> Standing | None:
        """:meth:`standing` for an ASGI app: a cache miss never blocks the event loop."""
        if account_id is None and browser_id is None:
            return None
        if self._all_cached(account_id, browser_id):
            return self.standing(account_id=account_id, browser_id=browser_id)
        store = self.store
        if isinstance(store, AsyncReads) and self._async_open:
            account: Standing | None = None
            if account_id is not None:
                account = await self._aread(("account", account_id), store.aread_account,
                                            account_id)
                if account is not None and account.opted_out:
                    return account
            if browser_id is not None:
                linked = await self._aread(("browser", browser_id), store.aread_linked,
                                           browser_id)
                if linked is not None:
                    return linked
            return account
        return await _in_thread(self._standing_kw, account_id, browser_id)

    def _standing_kw(self, account_id: str | None, browser_id: str | None) -> Standing | None:
        return self.standing(account_id=account_id, browser_id=browser_id)

    def _all_cached(self, account_id: str | None, browser_id: str | None) -> bool:
        return all(
            self._cache.lookup(key)[0]
            for key, present in ((("account", account_id or ""), account_id is not None),
                                 (("browser", browser_id or ""), browser_id is not None))
            if present
        )

    def _paused(self) -> bool:
        if self._monotonic() < self._reads_paused_until:
            self.reads.fallbacks += 1
            return True
        return False

    def _failed(self, error: StoreUnavailable) -> None:
        self._reads_paused_until = self._monotonic() + READ_BACKOFF
        self.reads.fallbacks += 1
        self._loud.error("read", "records read fell back to the request's signals: %s", error)

    def _read(
        self, key: _Key, read: Callable[[str], Standing | None], subject_id: str
    ) -> Standing | None:
        if self._paused():
            return None
        self.reads.misses += 1
        try:
            value = read(subject_id)
        except StoreUnavailable as error:
            self._failed(error)
            return None
        return self._cache.put(key, value)

    async def _aread(self, key: _Key, read: Callable[[str], object], subject_id: str
                     ) -> Standing | None:
        found, value = self._cache.lookup(key)
        if found:
            self.reads.hits += 1
            return value
        if self._paused():
            return None
        self.reads.misses += 1
        try:
            result = await read(subject_id)  # type: ignore[misc]
        except StoreUnavailable as error:
            self._failed(error)
            return None
        assert result is None or isinstance(result, Standing)
        return self._cache.put(key, result)

    # --- writes ----------------------------------------------------------------------------

    def submit(self, change: Change) -> Ack:
        """Queue any change; the other write methods build one and call this."""
        return self._writer_here().submit(change)

    def note_signal(
        self,
        account_id: str,
        *,
        manner: Manner | str,
        signals: Sequence[str],
        requested_at: float,
        jurisdiction: str | None = None,
    ) -> Ack | None:
        """A known account's request carried an opt-out signal: persist it to the account.

        §7025(c)(1) and (c)(5): the signal applies to the consumer, and its later absence is
        not consent. Written once, when the account's state changes; ``None`` when this
        process already knows the account is opted out (no write at all).
        """
        key = ("account", account_id)
        found, known = self._cache.lookup(key)
        if found and known is not None and known.opted_out:
            return None
        ack = self.submit(Choice(
            Subject.account(account_id), Nature.OPT_OUT, manner, requested_at,
            signals=tuple(signals), jurisdiction=jurisdiction, only_if_changed=True,
        ))
        # Opting out early is safe (it withholds, never grants): the next requests of this
        # account in this process see it before the store confirms.
        self._cache.put(key, Standing(True, requested_at, manner, jurisdiction,
                                      known.version if known else 0, Subject.account(account_id)))
        return ack

    def record_choice(
        self,
        *,
        opted_out: bool,
        requested_at: float,
        browser_id: str | None = None,
        account_id: str | None = None,
        manner: Manner | str = Manner.FORM,
        signals: Sequence[str] = (),
        jurisdiction: str | None = None,
        client_ip: str | None = None,
        user_agent: str | None = None,
        response: Response = Response.COMPLIED,
        denial_basis: str | None = None,
        expected_version: int | None = None,
    ) -> Ack:
        """A choice made on the opt-out page: one event, against the account when known.

        A logged-in visitor's choice is the account's (and links this browser to it);
        otherwise the browser's. Wait on the returned ack (``ack.wait(settings.ack_timeout)``
        or ``await ack.wait_async(...)``) before saying "saved".
        """
        if account_id is None and browser_id is None:
            raise ValueError("record_choice needs a browser_id or an account_id")
        subject = Subject.account(account_id) if account_id is not None \
            else Subject.browser(browser_id or "")
        s = self.settings
        agent = user_agent[:MAX_USER_AGENT] if s.store_user_agent and user_agent else None
        choice = Choice(
            subject, Nature.OPT_OUT if opted_out else Nature.OPT_IN, manner, requested_at,
            response=response, denial_basis=denial_basis, signals=tuple(signals),
            jurisdiction=jurisdiction, client_ip=keep_client_ip(client_ip, s.store_client_ip),
            user_agent=agent, expected_version=expected_version,
        )
        key = (str(subject.kind), subject.id)
        if opted_out and response is Response.COMPLIED and account_id is not None:
            self._cache.put(key, Standing(True, requested_at, manner, jurisdiction, 0, subject))
        else:
            self._cache.invalidate(key)
        ack = self.submit(choice)
        if account_id is not None and browser_id is not None:
            self.link(browser_id, account_id, requested_at=requested_at)
        return ack

    def link(
        self,
        browser_id: str,
        account_id: str,
        *,
        requested_at: float,
        browser_opted_out: bool = False,
        signals: Sequence[str] = (),
        jurisdiction: str | None = None,
    ) -> Ack:
        """A login: link the browser to the account; a browser opt-out carries over."""
        self._cache.invalidate(("browser", browser_id))
        if browser_opted_out:
            self._cache.invalidate(("account", account_id))
        return self.submit(Link(browser_id, account_id, requested_at, browser_opted_out,
                                signals=tuple(signals), jurisdiction=jurisdiction))

    def forget_account(self, account_id: str, *, requested_at: float) -> Ack:
        """The account was deleted: its state and links go (its events stay, §7101)."""
        self._cache.invalidate(("account", account_id))
        return self.submit(Forget(account_id, requested_at))

    def _committed(self, changes: Sequence[Change]) -> None:
        # Committed: the next read of these subjects asks the store again.
        for change in changes:
            if isinstance(change, Choice):
                self._cache.invalidate((str(change.subject.kind), change.subject.id))
            elif isinstance(change, Link):
                self._cache.invalidate(("browser", change.browser_id))
                self._cache.invalidate(("account", change.account_id))
            else:
                self._cache.invalidate(("account", change.account_id))


async def _in_thread(function: Callable[..., T], *args: object) -> T:
    """Run a blocking call off the event loop through anyio when it is installed."""
    try:
        # Optional dependency, imported on the slow path only (a cache miss, shutdown).
        import anyio.to_thread
    except ImportError:
        return function(*args)
    return await anyio.to_thread.run_sync(function, *args)
