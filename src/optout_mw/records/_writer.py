"""The background writer: one thread per process owns every write to the store.

Request threads and event loops only put a change on a bounded queue and get an
:class:`Ack` back; they never wait on a lock or a connection. The writer commits
changes in batches, retries what the store could not take with exponential backoff and
jitter, and on shutdown flushes within a deadline. What cannot be written (the queue was
full, a change the store rejects, the deadline passed) is counted and logged at ERROR.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from optout_mw.records._errors import SchemaMismatch, StoreUnavailable
from optout_mw.records._model import Change, Outcome
from optout_mw.records._settings import RecordsSettings
from optout_mw.records._store import Store

logger = logging.getLogger("optout_mw.records")

#: Without anyio, an async caller may block its loop at most this long for a commit.
BLOCKING_ACK_CAP: Final = 0.05
#: Loud logs of the same kind are repeated at most this often (with the running count).
LOG_EVERY: Final = 10.0


class AckState(StrEnum):
    PENDING = "pending"
    COMMITTED = "committed"
    #: Will never be committed: refused (queue full, store rejected it) or lost at shutdown.
    FAILED = "failed"


class Ack:
    """The promise of one change: committed by the store, or not.

    The opt-out page waits a bounded time: "saved" only once :meth:`wait` returned True;
    otherwise it says truthfully that the choice applies to this browser only (the
    change stays queued and is still written when the store comes back).
    """

    __slots__ = ("_done", "event_id", "outcome", "reason", "state")

    def __init__(self, event_id: str) -> None:
        #: The event's id, known at once (a reference the page may show).
        self.event_id = event_id
        self._done = threading.Event()
        self.state = AckState.PENDING
        self.outcome: Outcome | None = None
        self.reason = ""

    def _settle(self, state: AckState, outcome: Outcome | None = None, reason: str = "") -> None:
        self.state, self.outcome, self.reason = state, outcome, reason
        self._done.set()

    @property
    def committed(self) -> bool:
        return self.state is AckState.COMMITTED

    def wait(self, timeout: float) -> bool:
        """Block up to ``timeout`` seconds; True when the store committed the change."""
        self._done.wait(timeout)
        return self.state is AckState.COMMITTED

    async def wait_async(self, timeout: float) -> bool:
        """Await the commit up to ``timeout`` seconds without blocking the event loop.

        optout-mw imports no ``asyncio`` (it runs under asyncio and trio alike), so the
        wait runs in a worker thread through anyio, which every Starlette or FastAPI app
        already has. Without anyio it falls back to a wait capped at 50 ms on the loop.
        """
        if self._done.is_set():
            return self.state is AckState.COMMITTED
        try:
            # Optional dependency, imported on the slow path only (an opt-out form post).
            import anyio.to_thread
        except ImportError:
            return self.wait(min(timeout, BLOCKING_ACK_CAP))
        await anyio.to_thread.run_sync(self._done.wait, timeout, abandon_on_cancel=True)
        return self.state is AckState.COMMITTED


@dataclass(slots=True)
class WriterCounts:
    """Monotonic counters of one process's writer."""

    queued: int = 0
    committed: int = 0
    batches: int = 0
    retries: int = 0
    #: The queue was full: the change was never queued.
    refused: int = 0
    #: The store rejected the change (not a transient failure).
    rejected: int = 0
    #: Still queued when the shutdown deadline passed.
    lost: int = 0


class _Loud:
    """Rate-limited ERROR logs: the first at once, then one per LOG_EVERY with a count."""

    __slots__ = ("_last", "_pending")

    def __init__(self) -> None:
        self._last: dict[str, float] = {}
        self._pending: dict[str, int] = {}

    def error(self, kind: str, message: str, *args: object) -> None:
        now = time.monotonic()
        self._pending[kind] = self._pending.get(kind, 0) + 1
        if now - self._last.get(kind, -1e18) >= LOG_EVERY:
            count = self._pending.pop(kind)
            self._last[kind] = now
            logger.error(f"optout_mw.records: {message} (%d since the last report)",  # noqa: G004 - the format is ours, the values are args
                         *args, count)


_STOP: Final = object()


class Writer:
    """Owns the queue and the thread; started on the first change, per process."""

    def __init__(
        self,
        store: Store,
        settings: RecordsSettings,
        *,
        on_commit: Callable[[Sequence[Change]], None] | None = None,
    ) -> None:
        self._store = store
        self._settings = settings
        self._on_commit = on_commit
        self._queue: queue.Queue[tuple[Change, Ack] | object] = queue.Queue(settings.queue_size)
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._deadline: float | None = None
        self._wake = threading.Event()
        self._loud = _Loud()
        # A generator of its own: the global one's state belongs to the application.
        self._random = random.Random()
        self.counts = WriterCounts()

    @property
    def backlog(self) -> int:
        return self._queue.qsize()

    def submit(self, change: Change) -> Ack:
        """Queue ``change``; never blocks. A full queue settles the ack as failed."""
        ack = Ack(change.event_id)
        if self._deadline is not None:
            ack._settle(AckState.FAILED, reason="the records writer is shut down")
            self.counts.refused += 1
            self._loud.error("refused", "a record arrived after shutdown and was not written")
            return ack
        self._ensure_thread()
        try:
            self._queue.put_nowait((change, ack))
        except queue.Full:
            ack._settle(AckState.FAILED, reason="the records queue is full")
            self.counts.refused += 1
            self._loud.error("refused", "the records queue is full (%d); a %s was NOT "
                             "written", self._settings.queue_size, type(change).__name__)
            return ack
        self.counts.queued += 1
        return ack

    def _ensure_thread(self) -> None:
        if self._thread is None:
            with self._start_lock:
                if self._thread is None:
                    thread = threading.Thread(target=self._run, name="optout-records-writer",
                                              daemon=True)
                    thread.start()
                    self._thread = thread

    def close(self, timeout: float | None = None) -> int:
        """Flush within ``timeout`` (default: the settings'); return the count lost."""
        timeout = self._settings.shutdown_timeout if timeout is None else timeout
        self._deadline = time.monotonic() + timeout
        thread = self._thread
        if thread is None:
            return 0
        # A full queue: the thread sees the deadline once it drains or time is up.
        with contextlib.suppress(queue.Full):
            self._queue.put_nowait(_STOP)
        self._wake.set()
        thread.join(timeout + 1.0)
        return self.counts.lost

    # --- the thread ------------------------------------------------------------------------

    def _expired(self) -> bool:
        return self._deadline is not None and time.monotonic() >= self._deadline

    def _run(self) -> None:
        batch: list[tuple[Change, Ack]] = []
        while True:
            if not batch:
                if self._deadline is not None and self._queue.empty():
                    return  # closing, and everything queued was handled
                item = self._queue.get()
                if item is _STOP:
                    continue  # only wakes the thread: the check above decides
                assert isinstance(item, tuple)
                batch.append(item)
            while len(batch) < self._settings.batch_size:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if isinstance(item, tuple):
                    batch.append(item)
            if self._write(batch):
                batch = []
            elif self._expired():
                self._give_up(batch)
                return

    def _write(self, batch: list[tuple[Change, Ack]]) -> bool:
        """Commit ``batch``; False when it must be retried (after a backoff already slept)."""
        attempt = 0
        while True:
            try:
                outcomes = self._store.apply([change for change, _ in batch])
            except StoreUnavailable as error:
                if isinstance(error, SchemaMismatch):
                    self._loud.error("schema", "writes refused: %s; %d record(s) held",
                                     error, len(batch) + self.backlog)
                else:
                    self._loud.error("unavailable", "store unavailable, retrying: %s; %d "
                                     "record(s) held", error, len(batch) + self.backlog)
                self.counts.retries += 1
                if self._expired():
                    return False
                self._backoff(attempt)
                attempt += 1
                continue
            except Exception as error:
                # Not transient: find the change the store rejects, write the others.
                if len(batch) > 1:
                    for single in batch:
                        self._write([single])
                    return True
                change, ack = batch[0]
                self.counts.rejected += 1
                ack._settle(AckState.FAILED, reason=type(error).__name__)
                self._loud.error("rejected", "the store rejected a %s (%s: %s); it was NOT "
                                 "written", type(change).__name__, type(error).__name__, error)
                return True
            self.counts.batches += 1
            self.counts.committed += len(batch)
            for (_, ack), outcome in zip(batch, outcomes, strict=True):
                ack._settle(AckState.COMMITTED, outcome)
            if self._on_commit is not None:
                try:
                    self._on_commit([change for change, _ in batch])
                except Exception:
                    logger.exception("optout_mw.records: the commit hook raised")
            return True

    def _backoff(self, attempt: int) -> None:
        s = self._settings
        delay = min(s.retry_max, s.retry_base * (2 ** min(attempt, 30)))
        delay *= 0.5 + self._random.random() / 2  # jitter: processes do not retry in step
        if self._deadline is not None:
            delay = max(0.0, min(delay, self._deadline - time.monotonic()))
        self._wake.clear()  # close() sets it to cut a long wait short, once
        self._wake.wait(delay)

    def _give_up(self, batch: list[tuple[Change, Ack]]) -> None:
        lost = list(batch)
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if isinstance(item, tuple):
                lost.append(item)
        for _, ack in lost:
            ack._settle(AckState.FAILED, reason="not written before the shutdown deadline")
        self.counts.lost += len(lost)
        if lost:
            logger.error("optout_mw.records: %d record(s) were NOT written: the store was "
                         "unavailable until the shutdown deadline", len(lost))
