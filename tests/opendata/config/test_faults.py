"""Faults against the production server: gunicorn with opendata/config/gunicorn.conf.py on 127.0.0.1,
and a PostgreSQL cluster of the test's own (initdb in a temporary directory, on a free port) that the
test stops, locks and starts again. The shared database and Redis are never touched.

- The database stops: REST answers 503 with Retry-After within the connect timeout, never hangs;
  it starts again: the next requests succeed, none fails (persistent connections and the pool).
- A statement waits on a lock: 503 after the lock timeout (or the statement timeout).
- The database accepts connections and never answers: 503 within the connect timeout.
- Redis is unreachable (a closed port, or a server that never answers): requests are served, fast.

Each server and cluster is stopped by its PID, and every temporary directory removed, even when a
test fails; every wait is bounded. Needs PostgreSQL's server binaries (initdb, pg_ctl): the tests of
a cluster are skipped, with the reason, where DATABASE_URL is not PostgreSQL (CI's PostgreSQL run has
them and allows no skip).
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

from tests.opendata.config.test_resilience import Blackhole

ROOT = Path(settings.BASE_DIR)

CONNECT_TIMEOUT = 3  # the default of DATABASE_CONNECT_TIMEOUT
SLACK = 2.0          # a loaded 2-core machine: process scheduling, gunicorn's accept loop


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(url: str, *, data: bytes | None = None, headers: dict | None = None, timeout: float = 20):
    """(status, headers, body, seconds); a hang is a failure after `timeout`."""
    request = urllib.request.Request(url, data=data, headers=headers or {})
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.headers, response.read(), time.monotonic() - started
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read(), time.monotonic() - started


# -- a PostgreSQL cluster of the test's own -------------------------------------------------------------

def postgres_bindir() -> Path | None:
    candidates = []
    if shutil.which("pg_config"):
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True)
        candidates.append(out.stdout.strip())
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for directory in candidates:
        if directory and (Path(directory) / "initdb").exists() and (Path(directory) / "pg_ctl").exists():
            return Path(directory)
    return None


class Cluster:
    """initdb + pg_ctl in a temporary directory, run as the `postgres` OS user when the tests run as root
    (initdb refuses root). Stopped by the postmaster's PID."""

    def __init__(self, bindir: Path):
        self.bindir = bindir
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="opendata-faults-"))
        self.data = self.dir / "data"
        self.log = self.dir / "postgres.log"
        self.prefix: list[str] = []
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self.dir, user.pw_uid, user.pw_gid)
            self.prefix = ["runuser", "-u", "postgres", "--"]

    def run(self, *args: str, timeout: float = 60) -> None:
        result = subprocess.run([*self.prefix, *args], capture_output=True, text=True, timeout=timeout, cwd=self.dir)
        assert result.returncode == 0, (args, result.stdout, result.stderr)

    def init(self) -> None:
        self.run(str(self.bindir / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync",
                 "-E", "UTF8", "--locale", "C")

    def start(self) -> None:
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.dir} -c fsync=off "
                   f"-c full_page_writes=off -c max_connections=60")
        self.run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.log),
                 "-w", "-t", "30", "start")

    @property
    def pid(self) -> int | None:
        try:
            return int((self.data / "postmaster.pid").read_text().split()[0])
        except (FileNotFoundError, ValueError, IndexError):
            return None

    def stop(self, how: signal.Signals = signal.SIGINT) -> None:
        """SIGINT: PostgreSQL's fast shutdown (clients are disconnected); SIGQUIT: immediate (a crash)."""
        pid = self.pid
        if pid is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, how)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        else:
            os.kill(pid, signal.SIGKILL)
        for _ in range(100):  # pg_ctl start refuses while the pid file remains
            if not (self.data / "postmaster.pid").exists():
                break
            time.sleep(0.05)

    def url(self, name: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def remove(self) -> None:
        self.stop(signal.SIGQUIT)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def cluster():
    bindir = postgres_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL's server binaries (initdb, pg_ctl) are not installed")
    made = Cluster(bindir)
    try:
        made.init()
        made.start()
        import psycopg

        with psycopg.connect(made.url(), autocommit=True, connect_timeout=5) as conn:
            conn.execute("CREATE DATABASE od_faults")
        migrate = subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT,
                                 env=server_env(made.url("od_faults")), capture_output=True, text=True, timeout=180)
        assert migrate.returncode == 0, migrate.stderr
        yield made
    finally:
        made.remove()


# -- the production server ---------------------------------------------------------------------------------

def server_env(database_url: str, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DATABASE_", "REDIS_", "GUNICORN_", "DJANGO_ALLOW", "HTTPS", "SECURE_"))
           and k not in {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "WEB_CONCURRENCY", "PYTEST_CURRENT_TEST"}}
    env.update({"DATABASE_URL": database_url, "SECRET_KEY": "faults-only-not-secret", "ALLOWED_HOSTS": "127.0.0.1",
                "LOG_LEVEL": "WARNING", "API_RATE_LIMIT": "1000000/hour"})
    env.update(extra)
    return env


@contextlib.contextmanager
def server(env: dict, *, lifetime: int = 240):
    """gunicorn with the project's configuration, 2 workers, on a free port of 127.0.0.1; stopped by PID
    (and by `timeout` after `lifetime` seconds should the test process die)."""
    port = free_port()
    env = {**env, "HOST": "127.0.0.1", "PORT": str(port), "WEB_CONCURRENCY": "2"}
    gunicorn = Path(sys.executable).parent / "gunicorn"
    log = tempfile.TemporaryFile()
    process = subprocess.Popen(["timeout", str(lifetime), str(gunicorn), "-c", "opendata/config/gunicorn.conf.py"],
                               cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if http(base + "/healthz", timeout=2)[0] == 200:
                    break
            except OSError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, read_log(log)
            time.sleep(0.1)
        yield base
    except BaseException:
        print(read_log(log))  # shown with the failure
        raise
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)
        log.close()


def read_log(log) -> str:
    log.seek(0)
    return log.read().decode(errors="replace")[-5000:]


def get(base: str, path: str = "/api/v1/sources/"):
    return http(base + path)


def assert_503_fast(result, bound: float):
    status, headers, body, seconds = result
    assert status == 503, (status, body[:300])
    assert headers["Content-Type"] == "application/problem+json" and int(headers["Retry-After"]) > 0
    assert json.loads(body)["status"] == 503
    assert seconds < bound, f"answered in {seconds:.2f} s, more than {bound:.2f} s"


def graphql(base: str):
    query = json.dumps({"query": "{ sources(first: 1) { nodes { slug } } }"}).encode()
    return http(base + "/graphql/", data=query, headers={"Content-Type": "application/json"})


MODES = {"persistent connections": {}, "pool": {"DATABASE_POOL": "true"}}


# -- the database stops and starts again -------------------------------------------------------------------

@pytest.mark.postgres
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("outage", ["requests during the outage", "no request during the outage"])
def test_the_database_stops_503_fast_then_it_starts_and_no_request_fails(cluster, mode, outage, record_property):
    with server(server_env(cluster.url("od_faults"), **MODES[mode])) as base:
        for _ in range(8):  # both workers hold connections (persistent, or pooled)
            assert get(base)[0] == 200
        cluster.stop()
        try:
            if outage == "requests during the outage":
                timings = []
                for _ in range(4):
                    result = get(base)
                    assert_503_fast(result, CONNECT_TIMEOUT + SLACK)
                    timings.append(result[3])
                record_property("503 seconds", timings)
                gql = graphql(base)
                record_property("graphql during the outage", [gql[0], round(gql[3], 3), gql[2][:200].decode()])
                assert gql[3] < CONNECT_TIMEOUT + SLACK  # GraphQL answers too, without hanging
                assert b'"slug"' not in gql[2]
                ready = get(base, "/readyz")
                assert ready[0] == 503 and json.loads(ready[2])["checks"]["database"]["ok"] is False
                assert get(base, "/healthz")[0] == 200
        finally:
            cluster.start()
        results = [get(base) for _ in range(12)]
        assert [r[0] for r in results] == [200] * 12, [(r[0], r[2][:200]) for r in results]
        record_property("after restart, seconds", [round(r[3], 3) for r in results])
        assert get(base, "/readyz")[0] == 200


# -- a statement held up -----------------------------------------------------------------------------------

@pytest.mark.postgres
@pytest.mark.parametrize("timeouts", [{"DATABASE_LOCK_TIMEOUT": "1"},
                                      {"DATABASE_LOCK_TIMEOUT": "0", "DATABASE_STATEMENT_TIMEOUT": "1"}],
                         ids=["lock timeout", "statement timeout"])
def test_a_request_waiting_on_a_lock_ends_in_503_after_the_timeout(cluster, timeouts, record_property):
    import psycopg

    with server(server_env(cluster.url("od_faults"), **timeouts)) as base:
        assert get(base)[0] == 200
        with psycopg.connect(cluster.url("od_faults"), connect_timeout=5) as locker:
            locker.execute("LOCK TABLE opendata_source IN ACCESS EXCLUSIVE MODE")
            result = get(base)
            record_property("503 after, seconds", round(result[3], 3))
            assert_503_fast(result, 1 + SLACK)
            assert result[3] >= 0.9  # it did wait for the lock, that long
            locker.rollback()
        assert get(base)[0] == 200  # the same connections serve again


# -- a database that never answers --------------------------------------------------------------------------

@pytest.mark.parametrize("mode", MODES)
def test_a_database_that_never_answers_is_a_503_within_the_connect_timeout(mode, record_property):
    hung = Blackhole()
    try:
        env = server_env(f"postgres://postgres@127.0.0.1:{hung.port}/od_faults", DATABASE_CONNECT_TIMEOUT="2",
                         **MODES[mode])
        with server(env) as base:
            for _ in range(2):
                result = get(base)
                record_property("503 after, seconds", round(result[3], 3))
                assert_503_fast(result, 2 + SLACK)
            ready = get(base, "/readyz")
            assert ready[0] == 503 and ready[3] < 2 + SLACK
    finally:
        hung.close()


# -- Redis unreachable -----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sqlite_database():
    """A migrated SQLite file: the cache's faults need a database that works, whichever the run's."""
    directory = tempfile.mkdtemp(prefix="opendata-faults-sqlite-")
    try:
        url = f"sqlite:///{directory}/faults.sqlite3"
        migrate = subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT,
                                 env=server_env(url), capture_output=True, text=True, timeout=180)
        assert migrate.returncode == 0, migrate.stderr
        yield url
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@pytest.mark.parametrize("redis", ["closed port", "never answers"])
def test_requests_are_served_fast_when_redis_is_unreachable(sqlite_database, redis, record_property):
    hung = Blackhole()
    try:
        port = free_port() if redis == "closed port" else hung.port
        with server(server_env(sqlite_database, REDIS_URL=f"redis://127.0.0.1:{port}/0")) as base:
            results = [get(base) for _ in range(20)]
            assert [r[0] for r in results] == [200] * 20
            seconds = sorted(r[3] for r in results)
            record_property("seconds", [round(s, 3) for s in seconds])
            assert seconds[-1] < 0.5 + SLACK  # at most one socket timeout per worker, then none
            assert sum(seconds) < 3
            ready = get(base, "/readyz")
            assert ready[0] == 503 and json.loads(ready[2])["checks"]["cache"]["ok"] is False
    finally:
        hung.close()
