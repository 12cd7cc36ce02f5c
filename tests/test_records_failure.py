"""The store down, locked or slow: callers keep answering, nothing acknowledged is lost."""

from __future__ import annotations

import logging
import signal
import sqlite3
import threading
import time
from collections.abc import Iterator

import pytest

from optout_mw.records import AckState, Records, RecordsSettings
from tests.records_harness import own_cluster, pg_url, spawn, store_url
from tests.test_records_store import event_count, execute

__all__ = ["pg_url", "store_url"]

def quick(url: str, **extra: object) -> RecordsSettings:
    values: dict[str, object] = {"retry_base": 0.01, "retry_max": 0.2, "read_timeout": 0.1,
                                 "write_timeout": 0.5, **extra}
    return RecordsSettings(url=url, **values)  # type: ignore[arg-type]


class Clients:
    """Threads making choices and reading standings while the store misbehaves."""

    def __init__(self, records: Records, count: int = 4) -> None:
        self.records = records
        self.acked: list[str] = []
        self.submitted: list[str] = []
        self.slowest_call = 0.0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, args=(n,)) for n in range(count)]

    def __enter__(self) -> Clients:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()

    def _run(self, number: int) -> None:
        i = 0
        while not self._stop.is_set():
            account = f"c{number}-{i % 7}"
            start = time.monotonic()
            ack = self.records.record_choice(opted_out=i % 2 == 0, requested_at=time.time(),
                                             account_id=account)
            self.records.standing(account_id=account)
            took = time.monotonic() - start
            with self._lock:
                self.slowest_call = max(self.slowest_call, took)
            # The page waits its bounded time for "saved", as the opt-out handler would.
            committed = ack.wait(0.05)
            with self._lock:
                self.submitted.append(ack.event_id)
                if committed:
                    self.acked.append(ack.event_id)
            i += 1
            time.sleep(0.01)


def stored_ids(url: str) -> set[str]:
    return {row[0] for row in execute(url, "SELECT event_id FROM optout_events")}


def test_a_locked_sqlite_file_holds_writes_and_loses_nothing(
    tmp_path: object, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"sqlite://{tmp_path}/records.db"
    records = Records(quick(url))
    records.store.migrate()
    locker = sqlite3.connect(f"{tmp_path}/records.db", isolation_level=None)
    with caplog.at_level(logging.ERROR, "optout_mw.records"), Clients(records) as clients:
        time.sleep(0.3)
        locker.execute("BEGIN EXCLUSIVE")  # another process holds the write lock
        locked_at = len(clients.acked)
        time.sleep(1.5)
        during = len(clients.acked) - locked_at
        locker.execute("ROLLBACK")
        time.sleep(0.5)
    locker.close()
    assert records.close() == 0
    assert during <= 4  # at most what was in flight when the lock was taken
    assert clients.slowest_call < 0.2  # requests kept answering
    assert "database is locked" in caplog.text
    assert set(clients.acked) <= stored_ids(url)
    # Everything queued while locked was written once the lock went, once.
    assert stored_ids(url) == set(clients.submitted)
    assert event_count(url) == len(clients.submitted)


def test_postgres_killed_mid_run_then_restarted_loses_nothing_acknowledged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with own_cluster() as cluster:
        records = Records(quick(cluster.url, pool_min_size=1))
        try:
            records.store.migrate()
            with caplog.at_level(logging.ERROR, "optout_mw.records"), \
                    Clients(records) as clients:
                time.sleep(0.5)
                cluster.kill9()
                killed_at = len(clients.acked)
                time.sleep(1.5)
                during = len(clients.acked) - killed_at
                cluster.start()
                deadline = time.monotonic() + 60
                while records.backlog and time.monotonic() < deadline:
                    time.sleep(0.1)
            assert records.close(30) == 0
        finally:
            records.close(1)  # never leave a retrying writer behind a failed test
        assert during <= 4
        assert clients.slowest_call < 0.5
        assert records.reads.fallbacks > 0
        assert "PostgreSQL" in caplog.text
        stored = stored_ids(cluster.url)
        assert set(clients.acked) <= stored
        assert stored == set(clients.submitted)
        assert event_count(cluster.url) == len(clients.submitted)


def test_a_crash_after_the_acknowledgement_loses_nothing(store_url: str) -> None:
    Records(RecordsSettings(url=store_url)).store.migrate()
    with spawn("opt_out_worker", store_url, "zoe", "zoe-phone") as app:
        assert app.stdout is not None
        line = app.stdout.readline()
        app.send_signal(signal.SIGKILL)  # no shutdown, no flush
    assert line.startswith("ACK ")
    assert line.split()[1] in stored_ids(store_url)
    fresh = Records(RecordsSettings(url=store_url))
    try:
        zoe = fresh.standing(account_id="zoe")
        assert zoe is not None and zoe.opted_out
    finally:
        fresh.close()


@pytest.fixture
def locked_sqlite(tmp_path: object) -> Iterator[tuple[str, sqlite3.Connection]]:
    url = f"sqlite://{tmp_path}/records.db"
    Records(RecordsSettings(url=url)).store.migrate()
    locker = sqlite3.connect(f"{tmp_path}/records.db", isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    yield url, locker
    locker.close()


def test_a_full_queue_refuses_counts_and_logs(
    locked_sqlite: tuple[str, sqlite3.Connection], caplog: pytest.LogCaptureFixture
) -> None:
    url, locker = locked_sqlite
    records = Records(quick(url, queue_size=5, batch_size=1))
    with caplog.at_level(logging.ERROR, "optout_mw.records"):
        acks = [records.record_choice(opted_out=True, requested_at=time.time(),
                                      browser_id=f"b{i}") for i in range(20)]
    refused = [a for a in acks if a.state is AckState.FAILED]
    assert len(refused) >= 14  # 5 queued, at most one in the writer's hands
    assert records.writes.refused == len(refused)
    assert "queue is full" in caplog.text and "NOT written" in caplog.text
    assert all(not a.wait(0) for a in refused)
    locker.execute("ROLLBACK")
    assert records.close(5) == 0
    assert event_count(url) == 20 - len(refused)


def test_shutdown_flushes_within_its_deadline_and_counts_the_rest(
    locked_sqlite: tuple[str, sqlite3.Connection], caplog: pytest.LogCaptureFixture
) -> None:
    url, _ = locked_sqlite
    records = Records(quick(url, write_timeout=0.05))
    acks = [records.record_choice(opted_out=True, requested_at=time.time(),
                                  browser_id=f"b{i}") for i in range(10)]
    with caplog.at_level(logging.ERROR, "optout_mw.records"):
        start = time.monotonic()
        lost = records.close(0.5)
        took = time.monotonic() - start
    assert lost == 10 and records.writes.lost == 10
    assert took < 2.0
    assert all(a.state is AckState.FAILED for a in acks)
    assert "10 record(s) were NOT written" in caplog.text


def test_reads_fall_back_fast_when_the_store_is_unreachable(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A port nothing listens on: connections are refused.
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    records = Records(quick(f"postgresql://optout@127.0.0.1:{port}/none", read_timeout=0.2))
    try:
        with caplog.at_level(logging.ERROR, "optout_mw.records"):
            start = time.monotonic()
            assert records.standing(account_id="a") is None
            first = time.monotonic() - start
            start = time.monotonic()
            for _ in range(100):
                assert records.standing(account_id="a") is None
            rest = time.monotonic() - start
        assert first < 1.0 and rest < 0.1  # one timeout, then the store is left alone
        assert records.reads.fallbacks == 101
        assert "fell back" in caplog.text
        # The opt-out page is not failed either: it says "this browser only".
        ack = records.record_choice(opted_out=True, requested_at=time.time(), account_id="a")
        assert ack.wait(0.2) is False and ack.state is AckState.PENDING
    finally:
        assert records.close(0.3) == 1


@pytest.mark.anyio
async def test_an_async_caller_awaits_the_commit_without_blocking(tmp_path: object) -> None:
    records = Records(RecordsSettings(url=f"sqlite://{tmp_path}/records.db"))
    records.store.migrate()
    try:
        ack = records.record_choice(opted_out=True, requested_at=time.time(), account_id="a")
        assert await ack.wait_async(5) is True
        standing = await records.astanding(account_id="a")  # a miss: read off the loop
        assert standing is not None and standing.opted_out
        assert await records.astanding() is None
    finally:
        await records.aclose()


@pytest.mark.anyio
async def test_an_async_wait_is_bounded(
    locked_sqlite: tuple[str, sqlite3.Connection],
) -> None:
    url, _ = locked_sqlite
    records = Records(quick(url))
    ack = records.record_choice(opted_out=True, requested_at=time.time(), account_id="a")
    start = time.monotonic()
    assert await ack.wait_async(0.2) is False
    assert 0.15 < time.monotonic() - start < 1.0
    records.close(0.1)


class TestAsyncPool:
    @pytest.fixture
    def anyio_backend(self) -> str:
        return "asyncio"  # psycopg's async pool runs on asyncio

    @pytest.mark.anyio
    async def test_asgi_reads_use_the_async_pool(self, pg_url: str) -> None:
        records = Records(RecordsSettings(url=pg_url))
        records.store.migrate()
        assert await records.aopen() is True
        try:
            ack = records.record_choice(opted_out=True, requested_at=time.time(),
                                        account_id="a", browser_id="b")
            assert await ack.wait_async(5)
            account = await records.astanding(account_id="a")
            linked = await records.astanding(browser_id="zz")
            assert account is not None and account.opted_out and linked is None
            assert records.reads.misses == 2
            assert await records.astanding(account_id="a") == account  # cached now
            assert records.reads.misses == 2
        finally:
            await records.aclose()
