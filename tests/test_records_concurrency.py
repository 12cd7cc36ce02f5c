"""Several app processes on one store: shared accounts, no lost or duplicated event."""

from __future__ import annotations

import json
import os
import time
import warnings
from collections import defaultdict

from optout_mw.records import Records, RecordsSettings
from tests.records_harness import spawn, store_url
from tests.test_records_store import execute

__all__ = ["store_url"]


def test_an_account_opted_out_in_one_process_decides_for_its_browser_in_another(
    store_url: str,
) -> None:
    here = Records(RecordsSettings(url=store_url, cache_ttl=0.2))
    here.store.migrate()
    try:
        assert here.link("laptop", "alice", requested_at=time.time()).wait(5)
        assert here.standing(browser_id="laptop") is None
        assert here.standing(account_id="alice") is None
        with spawn("opt_out_worker", store_url, "alice", "phone") as other:
            assert other.stdout is not None
            line = other.stdout.readline()
            other.kill()
        assert line.startswith("ACK "), line
        time.sleep(0.25)  # this process's cache entries expire
        laptop = here.standing(browser_id="laptop")
        assert laptop is not None and laptop.opted_out and laptop.subject.id == "alice"
        alice = here.standing(account_id="alice")
        assert alice is not None and alice.opted_out
    finally:
        here.close()


def replay(rows: list[tuple[str, str, int]]) -> dict[str, tuple[bool, int]]:
    """Fold the event log (subject, nature, in seq order) into final state and versions."""
    state: dict[str, tuple[bool, int]] = defaultdict(lambda: (False, 0))
    for subject, nature, _ in rows:
        opted_out, version = state[subject]
        target = nature == "opt_out"
        if target != opted_out:
            state[subject] = (target, version + 1)
    return dict(state)


def test_ten_thousand_choices_from_32_clients_in_two_processes(store_url: str) -> None:
    Records(RecordsSettings(url=store_url)).store.migrate()
    # 32 clients in two app processes; 40 shared accounts so writers race on the same rows.
    workers = [spawn("choices_worker", store_url, "16", "313", "0", "40"),
               spawn("choices_worker", store_url, "16", "312", "16", "40")]
    results = []
    for worker in workers:
        with worker:
            out, _ = worker.communicate(timeout=300)
        assert worker.returncode == 0
        results.append(json.loads(out.strip().splitlines()[-1]))
    acked = [event_id for r in results for event_id in r["acked"]]
    assert sum(len(r["unacked"]) for r in results) == 0 and all(r["lost"] == 0 for r in results)
    assert len(acked) == 10_000 and len(set(acked)) == 10_000

    rows = execute(store_url, "SELECT event_id FROM optout_events")
    stored = [row[0] for row in rows]
    assert len(stored) == 10_000  # nothing lost, nothing written twice
    assert set(stored) == set(acked)
    # Optimistic concurrency lost no update: replaying the log in order gives exactly the
    # stored state and version of every account.
    log = execute(store_url, "SELECT subject_id, nature, seq FROM optout_events ORDER BY seq")
    expected = replay([(r[0], r[1], r[2]) for r in log])
    subjects = execute(store_url, "SELECT subject_id, opted_out, version FROM optout_subjects")
    assert {r[0]: (bool(r[1]), int(r[2])) for r in subjects} == {
        k: v for k, v in expected.items() if v[1] > 0}


def test_a_forked_worker_writes_through_its_own_writer(tmp_path: object) -> None:
    records = Records(RecordsSettings(url=f"sqlite://{tmp_path}/records.db"))
    records.store.migrate()
    # The parent's writer thread is running when the server forks its workers.
    assert records.record_choice(opted_out=True, requested_at=time.time(),
                                 browser_id="parent").wait(5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads, on purpose
        pid = os.fork()
    if pid == 0:  # the worker: no inherited thread, so it must start one of its own
        ok = records.record_choice(opted_out=True, requested_at=time.time(),
                                   browser_id="child").wait(10)
        os._exit(0 if ok and records.close() == 0 else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert records.close() == 0
    assert sorted(e.subject_id for e in records.store.events()) == ["child", "parent"]
