"""Real databases for the records tests: SQLite files and PostgreSQL clusters.

``.ci/run`` starts one PostgreSQL cluster and exports ``RECORDS_TEST_POSTGRES_URL`` (and
``RECORDS_TEST_PG_BIN``); each test gets a fresh database in it. Tests that kill the server
start a cluster of their own with the same binaries. Without a server the PostgreSQL
tests skip and say why; under ``CI`` they fail instead.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

URL_ENV = "RECORDS_TEST_POSTGRES_URL"


def no_postgres(reason: str) -> None:
    """Skip, or under CI fail: there a missing server is a broken pipeline."""
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL is required under CI: {reason}")
    pytest.skip(f"PostgreSQL tests skipped: {reason}")


def pg_bin() -> str | None:
    given = os.environ.get("RECORDS_TEST_PG_BIN")
    if given and os.path.isfile(os.path.join(given, "initdb")):
        return given
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return os.path.dirname(found[-1]) if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Cluster:
    """A throwaway PostgreSQL cluster on a free loopback port."""

    def __init__(self, bin_dir: str) -> None:
        self.bin = bin_dir
        self.dir = Path(tempfile.mkdtemp(prefix="optout-pg-"))
        self.port = _free_port()
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            # initdb refuses root; Debian's package made the postgres user.
            shutil.chown(self.dir, "postgres")
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self._run("initdb", "-D", str(self.dir / "data"), "-A", "trust", "-U", "optout",
                  "--no-sync")

    @property
    def url(self) -> str:
        return f"postgresql://optout@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run([*self.as_user, os.path.join(self.bin, tool), *args], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)

    def start(self) -> None:
        for attempt in range(5):
            try:
                self._run("pg_ctl", "-D", str(self.dir / "data"), "-l", str(self.dir / "log"),
                          "-w", "-t", "60", "-o",
                          f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1", "start")
                return
            except subprocess.CalledProcessError:
                if attempt == 4:
                    log = (self.dir / "log").read_text(errors="replace")[-2000:]
                    raise RuntimeError(f"PostgreSQL did not start:\n{log}") from None
                time.sleep(1.0)

    def postmaster_pid(self) -> int:
        return int((self.dir / "data" / "postmaster.pid").read_text().split()[0])

    def kill9(self) -> None:
        """``kill -9`` the server: the postmaster first, then every process it had started
        (as an out-of-memory killer or a lost container would), and wait until all are gone
        so that the restart finds no shared memory still attached."""
        pid = self.postmaster_pid()
        children = _children(pid)
        for victim in [pid, *children]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 30
        for victim in [pid, *children]:
            while _alive(victim) and time.monotonic() < deadline:
                time.sleep(0.05)

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):  # already down
            self._run("pg_ctl", "-D", str(self.dir / "data"), "-m", "immediate", "stop")

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True,
                         text=True, check=False).stdout
    return [int(p) for p in out.split()]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purpose (its parent reaps it).
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


@contextmanager
def own_cluster() -> Iterator[Cluster]:
    bin_dir = pg_bin()
    if bin_dir is None:
        no_postgres("no PostgreSQL server binaries (Debian's postgresql package)")
        raise AssertionError("unreachable")
    cluster = Cluster(bin_dir)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.destroy()


def server_url() -> str:
    """The shared server's URL: ``.ci/run``'s, else a cluster started for this session."""
    url = os.environ.get(URL_ENV)
    if url:
        return url
    global _session_cluster
    if _session_cluster is None:
        bin_dir = pg_bin()
        if bin_dir is None:
            no_postgres(f"{URL_ENV} is not set and no PostgreSQL server binaries were found")
            raise AssertionError("unreachable")
        cluster = Cluster(bin_dir)
        atexit.register(stop_session_cluster)
        cluster.start()
        _session_cluster = cluster
    return _session_cluster.url


_session_cluster: Cluster | None = None


def stop_session_cluster() -> None:
    global _session_cluster
    if _session_cluster is not None:
        _session_cluster.destroy()
        _session_cluster = None


@contextmanager
def fresh_database(server: str) -> Iterator[str]:
    """A new empty database on ``server``, dropped afterwards."""
    import psycopg

    name = f"optout_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        yield server.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database."""
    with fresh_database(server_url()) as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each test once on a SQLite file and once on a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite://{tmp_path}/records.db"
        return
    with fresh_database(server_url()) as url:
        yield url


# --- app processes ---------------------------------------------------------------------------
#
# Each runs in a fresh interpreter (``python -c``), as a worker process of a site would, and
# talks to the test through its standard streams.

ROOT = Path(__file__).resolve().parent.parent


def spawn(function: str, *args: str) -> subprocess.Popen[str]:
    code = f"import sys; from tests.records_harness import {function}; {function}(*sys.argv[1:])"
    return subprocess.Popen([sys.executable, "-c", code, *args], cwd=ROOT, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)


def choices_worker(url: str, clients: str, per_client: str, first: str, subjects: str) -> None:
    """``clients`` threads, each making ``per_client`` choices on shared accounts and waiting
    for each acknowledgement (as a browser posting the opt-out form would); prints the ids
    acknowledged, then the ones not, as JSON."""
    from optout_mw.records import Records, RecordsSettings

    records = Records(RecordsSettings(url=url, retry_base=0.01, retry_max=0.2))
    acked: list[str] = []
    unacked: list[str] = []
    lock = threading.Lock()

    def client(number: int) -> None:
        rng = random.Random(number)
        for i in range(int(per_client)):
            account = f"acct{rng.randrange(int(subjects))}"
            ack = records.record_choice(opted_out=rng.random() < 0.5,
                                        requested_at=time.time(), account_id=account)
            ok = ack.wait(30)
            assert ack.outcome is not None or not ok
            with lock:
                event_id = ack.outcome.event_id if ack.outcome else f"?{number}-{i}"
                (acked if ok else unacked).append(event_id)

    threads = [threading.Thread(target=client, args=(int(first) + n,))
               for n in range(int(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lost = records.close(10)
    print(json.dumps({"acked": acked, "unacked": unacked, "lost": lost}), flush=True)


def opt_out_worker(url: str, account_id: str, browser_id: str) -> None:
    """Opt an account out, print the event id once committed, then wait to be killed."""
    from optout_mw.records import Records, RecordsSettings

    records = Records(RecordsSettings(url=url))
    ack = records.record_choice(opted_out=True, requested_at=time.time(),
                                account_id=account_id, browser_id=browser_id)
    if not ack.wait(30) or ack.outcome is None:
        print("NOT COMMITTED", flush=True)
        return
    print(f"ACK {ack.outcome.event_id}", flush=True)
    sys.stdin.readline()  # hold until the test kills this process


@pytest.fixture
def pgbouncer_url(pg_url: str) -> Iterator[str]:
    """``pg_url`` reached through pgbouncer in transaction pooling mode."""
    exe = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
    if not os.path.isfile(exe):
        no_postgres("pgbouncer is not installed (Debian's pgbouncer package)")
    server = pg_url.rsplit("/", 1)[0].rsplit(":", 1)[1]
    database = pg_url.rsplit("/", 1)[1]
    directory = Path(tempfile.mkdtemp(prefix="optout-pgbouncer-"))
    port = _free_port()
    (directory / "users.txt").write_text('"optout" ""\n')
    (directory / "pgbouncer.ini").write_text(
        f"[databases]\n{database} = host=127.0.0.1 port={server} dbname={database}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = trust\nauth_file = {directory}/users.txt\n"
        # Two server connections for many clients: transactions hop between them.
        "pool_mode = transaction\ndefault_pool_size = 2\nmax_client_conn = 100\n"
        f"logfile = {directory}/pgbouncer.log\n"
    )
    as_user: list[str] = []
    if os.geteuid() == 0:  # pgbouncer refuses to run as root
        for path in (directory, *directory.iterdir()):
            shutil.chown(path, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    process = subprocess.Popen([*as_user, exe, str(directory / "pgbouncer.ini")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("pgbouncer did not start")
            time.sleep(0.05)
        yield f"postgresql://optout@127.0.0.1:{port}/{database}"
    finally:
        process.terminate()
        process.wait(10)
        shutil.rmtree(directory, ignore_errors=True)
