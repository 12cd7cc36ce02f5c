"""Records store: choices per second it sustains, and the request path's read cost.

Run: ``PYTHONPATH=src .venv/bin/python bench/bench_records.py``. PostgreSQL rows need a server:
``RECORDS_BENCH_POSTGRES_URL`` (or ``RECORDS_TEST_POSTGRES_URL``, which ``.ci/run`` exports);
a fresh database is made in it and dropped.

* Reads: a known account with a warm cache, and an anonymous visitor, against a plain
  ``dict.get`` measured in the same run (target: the cached account read is a small
  constant over the dict lookup; the anonymous case touches nothing).
* Writes: opt-out form posts from 16 client threads, each waiting for its commit as the
  page does; and a burst of 5,000 queued changes flushed by the writer in batches. These
  are absolute rates on a loaded two-core machine: compare rows of one run.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import best_times, row

from optout_mw.records import Records, RecordsSettings

CLIENTS = 16
PER_CLIENT = 150
BURST = 5000


def read_costs(url: str) -> None:
    records = Records(RecordsSettings(url=url, cache_ttl=300.0))
    records.store.migrate()
    assert records.record_choice(opted_out=True, requested_at=time.time(),
                                 account_id="known").wait(10)
    assert records.close() == 0
    records = Records(RecordsSettings(url=url, cache_ttl=300.0))
    standing = records.standing(account_id="known")
    assert standing is not None and standing.opted_out
    baseline = {("account", "known"): standing}
    key = ("account", "known")
    times = best_times({
        "dict": lambda: baseline.get(key),
        "account": lambda: records.standing(account_id="known"),
        "anonymous": lambda: records.standing(),
    }, number=200_000)
    base = times["dict"]
    print(row("plain dict.get (baseline)", f"{base * 1e9:.0f} ns", "1.00x"))
    print(row("standing(account_id=...), warm cache", f"{times['account'] * 1e9:.0f} ns",
              f"{times['account'] / base:.2f}x"))
    print(row("standing() for an anonymous visitor", f"{times['anonymous'] * 1e9:.0f} ns",
              f"{times['anonymous'] / base:.2f}x"))
    records.close()


def choices_per_second(url: str) -> tuple[float, float, int]:
    records = Records(RecordsSettings(url=url))
    records.store.migrate()
    failures = []

    def client(number: int) -> None:
        for i in range(PER_CLIENT):
            ack = records.record_choice(opted_out=i % 2 == 0, requested_at=time.time(),
                                        account_id=f"acct{number}-{i % 10}")
            if not ack.wait(30):
                failures.append(ack.reason)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    waited = CLIENTS * PER_CLIENT / (time.perf_counter() - start)
    batches_before = records.writes.batches

    start = time.perf_counter()
    for i in range(BURST):
        records.record_choice(opted_out=True, requested_at=time.time(),
                              browser_id=f"burst{i}")
    lost = records.close(120)
    burst = BURST / (time.perf_counter() - start)
    assert not failures and lost == 0, (failures[:3], lost)
    return waited, burst, records.writes.batches - batches_before


@contextmanager
def postgres_database() -> Iterator[str | None]:
    server = os.environ.get("RECORDS_BENCH_POSTGRES_URL") or os.environ.get(
        "RECORDS_TEST_POSTGRES_URL")
    if not server:
        yield None
        return
    import psycopg

    name = f"optout_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        yield server.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def main() -> None:
    with tempfile.TemporaryDirectory() as directory, postgres_database() as pg:
        stores = {"SQLite": f"sqlite://{directory}/records.db"}
        if pg is not None:
            stores["PostgreSQL"] = pg
        print("Request-path read cost (per call, best of 9 interleaved rounds)")
        print(row("case", "per call", "ratio"))
        read_costs(f"sqlite://{directory}/reads.db")
        print(f"\nChoices per second ({CLIENTS} clients x {PER_CLIENT} form posts, each "
              f"waiting for its commit; then a burst of {BURST} queued changes)")
        print(row("store", "choices/s", ""))
        for name, url in stores.items():
            waited, burst, batches = choices_per_second(url)
            print(row(f"{name}: form posts waiting for the commit", f"{waited:,.0f}"))
            print(row(f"{name}: burst flushed in {batches} batches", f"{burst:,.0f}"))
        if pg is None:
            print("  PostgreSQL: skipped (set RECORDS_BENCH_POSTGRES_URL to a server)")


if __name__ == "__main__":
    main()
