"""examples/sync_client.py against real servers: its mirror must equal the server's public content
(every record's snapshot, live and deleted).

- On SQLite: a server (gunicorn) on a SQLite file of its own, migrated and loaded, read by the
  client in `--once` runs before and after writes; the content is read from that file in a
  subprocess (server_side.py).
- On PostgreSQL: a server on the test database, a client following the feed (polling) while
  threads of this process write through the services, with transactions that commit out of order,
  and the client killed (SIGKILL) and restarted.
- Without a server: a stub answering 429 and 503 with Retry-After, and checking the key.

The client runs with `python -I -S` (no site-packages: the standard library only). Servers listen
on 127.0.0.1 on a free port and every process is stopped by its PID, also when a test fails."""

from __future__ import annotations

import functools
import http.server
import json
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path
from typing import ClassVar

import pytest
from django.conf import settings

from tests.examples.server_side import differences, mirror_content, subprocess_content

ROOT = Path(settings.BASE_DIR)
CLIENT = ROOT / "examples" / "sync_client.py"
GUNICORN = Path(sys.executable).parent / "gunicorn"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@functools.cache
def no_control_socket() -> list[str]:
    """Recent gunicorn opens a control socket at one fixed path per user: servers must not share it."""
    help_text = subprocess.run([str(GUNICORN), "--help"], capture_output=True, text=True, timeout=30,
                               check=False).stdout
    return ["--no-control-socket"] if "--no-control-socket" in help_text else []


def server_env(database_url: str) -> dict:
    keep = {k: v for k, v in os.environ.items() if k not in {
        "DATABASE_URL", "REDIS_URL", "DEBUG", "API_RATE_LIMIT", "API_RATE_LIMITS", "TRUSTED_PROXY_COUNT"}}
    return {**keep, "DEBUG": "false", "SECRET_KEY": "test-only-secret-key-for-the-sync-client-tests",
            "DATABASE_URL": database_url, "ALLOWED_HOSTS": "127.0.0.1", "API_RATE_LIMIT": "100000/hour",
            "DJANGO_SETTINGS_MODULE": "opendata.config.settings"}


class Server:
    """gunicorn on 127.0.0.1, one worker, its requests in `access.log`."""

    def __init__(self, env: dict, directory: Path):
        self.url = f"http://127.0.0.1:{free_port()}"
        self.log, self.access = directory / "server.log", directory / "access.log"
        self.process = subprocess.Popen(
            [str(GUNICORN), "opendata.config.wsgi", "-b", self.url.removeprefix("http://"), "--workers", "1",
             "--timeout", "30", "--graceful-timeout", "2", "--access-logfile", str(self.access),
             *no_control_socket()],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=self.log.open("w"))

    def wait_ready(self, seconds: float = 30) -> Server:
        import urllib.request

        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server stopped: {self.log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(self.url + "/admin/login/", timeout=5) as response:
                    if response.status == 200:
                        return self
            except OSError:  # not listening yet
                pass
            time.sleep(0.2)
        raise RuntimeError(f"the server did not start: {self.log.read_text()[-2000:]}")

    def feed_requests(self) -> int:
        """How many pages of the change feed the server has answered."""
        # gunicorn's access log, or the app's own request log (one JSON line per request, on stderr) when
        # the project's logging configuration holds gunicorn's loggers: the larger count is the true one.
        access = self.access.read_text().count("/api/v1/changes/") if self.access.exists() else 0
        own = self.log.read_text().count('"path": "/api/v1/changes/"') if self.log.exists() else 0
        return max(access, own)

    def stop(self) -> None:
        stop(self.process, signal.SIGINT)  # gunicorn's quick shutdown


def stop(process: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    """Stop a process we started, by its PID."""
    if process.poll() is None:
        os.kill(process.pid, sig)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


def client_command(api: str, db: Path, *args: str) -> list[str]:
    return [sys.executable, "-I", "-S", str(CLIENT), "--api", api, "--db", str(db), *args]


def run_client(api: str, db: Path, *args: str, env: dict | None = None, timeout: float = 60):
    """The client `--once`, to the end: (exit status, its output)."""
    done = subprocess.run(client_command(api, db, "--once", *args), capture_output=True, text=True,
                          timeout=timeout, env=env, check=False)
    return done.returncode, done.stdout + done.stderr


class Clients:
    """Following clients (polling), started and killed by PID; their output in files."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.started: list[subprocess.Popen] = []

    def start(self, api: str, db: Path, *args: str) -> subprocess.Popen:
        out = (self.directory / f"client-{len(self.started)}.log").open("w")
        process = subprocess.Popen(client_command(api, db, "--interval", "0.1", *args), stdout=out,
                                   stderr=subprocess.STDOUT)
        self.started.append(process)
        return process

    def output(self) -> str:
        return "".join(path.read_text() for path in sorted(self.directory.glob("client-*.log")))

    def stop_all(self) -> None:
        for process in self.started:
            stop(process, signal.SIGKILL)


@pytest.fixture
def clients(tmp_path):
    made = Clients(tmp_path)
    yield made
    made.stop_all()


# -- SQLite: a server on a file of its own -------------------------------------------------------------


def manage(database_url: str, *args: str) -> str:
    done = subprocess.run([sys.executable, *args], cwd=ROOT, env=server_env(database_url), capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@pytest.fixture(scope="module")
def sqlite_server(tmp_path_factory):
    directory = tmp_path_factory.mktemp("sqlite-server")
    url = f"sqlite:///{directory / 'db.sqlite3'}"
    manage(url, "manage.py", "migrate", "--noinput")
    manage(url, "manage.py", "load_opendata")
    server = Server(server_env(url), directory)
    try:
        server.wait_ready()
        server.database_url = url
        yield server
    finally:
        server.stop()


def sqlite_content(server) -> dict:
    return subprocess_content(manage(server.database_url, "-m", "tests.examples.server_side", "content"))


def test_a_mirror_of_a_sqlite_server_equals_its_public_content_before_and_after_writes(sqlite_server, tmp_path):
    mirror = tmp_path / "mirror.sqlite3"
    status, output = run_client(sqlite_server.url, mirror, "--page-size", "300")
    assert status == 0, output
    assert "from the start" in output and "caught up" in output
    content = sqlite_content(sqlite_server)
    assert len(content) > 1000 and not any(r["deleted_at"] for r in content.values())
    got = mirror_content(mirror)
    assert got == content, differences(got, content)

    # updates, a creation, deletions (a project with its timeline), a restore
    done = manage(sqlite_server.database_url, "-m", "tests.examples.server_side", "writes")
    status, output = run_client(sqlite_server.url, mirror)
    assert status == 0, output
    assert "from cursor" in output
    content = sqlite_content(sqlite_server)
    deleted = {k for k, r in content.items() if r["deleted_at"]}
    assert {r for r, _ in deleted} >= {"topic", "observation", "project", "project_status"}, done
    got = mirror_content(mirror)
    assert got == content, differences(got, content)
    with sqlite3.connect(mirror) as db:
        assert db.execute("SELECT count(*) FROM records WHERE deleted").fetchone()[0] == len(deleted)

    cursor = sqlite3.connect(mirror).execute("SELECT value FROM state WHERE name = 'cursor'").fetchone()[0]
    status, output = run_client(sqlite_server.url, mirror)  # nothing new: nothing changes
    assert status == 0 and "applied" not in output, output
    assert mirror_content(mirror) == content
    assert sqlite3.connect(mirror).execute("SELECT value FROM state WHERE name = 'cursor'").fetchone()[0] == cursor


def test_a_mirror_of_some_resources_holds_those_only_and_keeps_to_them(sqlite_server, tmp_path):
    mirror = tmp_path / "facts.sqlite3"
    status, output = run_client(sqlite_server.url, mirror, "--resource", "observation,indicator")
    assert status == 0, output
    content = {k: v for k, v in sqlite_content(sqlite_server).items() if k[0] in {"observation", "indicator"}}
    got = mirror_content(mirror)
    assert got == content, differences(got, content)
    status, output = run_client(sqlite_server.url, mirror, "--resource", "observation")
    assert status != 0 and "use another --db file" in output  # its cursor skipped the other resources


# -- without a server: rate limits, unavailability and the key --------------------------------------------


class Stub(http.server.BaseHTTPRequestHandler):
    """Answers 429, then 503 (both with Retry-After: 1), then a page of one entry; remembers requests."""

    answers: ClassVar[list] = []
    seen: ClassVar[list] = []

    def do_GET(self):
        type(self).seen.append((self.path, self.headers.get("Authorization")))
        status, headers, body = type(self).answers.pop(0)
        data = json.dumps(body).encode()
        self.send_response(status)
        for name, value in {"Content-Type": "application/json", "Content-Length": str(len(data)), **headers}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def page(results: list, cursor: str) -> dict:
    return {"next": f"/api/v1/changes/?after={cursor}", "next_cursor": cursor, "more": False, "results": results}


ENTRY = {"cursor": "c1", "at": "2025-03-01T02:00:00Z", "resource": "topic", "key": "t", "operation": "delete",
         "before": {"code": "t", "deleted_at": None}, "after": {"code": "t", "deleted_at": "2025-03-01T02:00:00Z"}}


@pytest.fixture
def stub():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Stub)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    Stub.seen = []
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_the_client_waits_out_429_and_503_and_sends_its_key(stub, tmp_path):
    mirror = tmp_path / "mirror.sqlite3"
    Stub.answers = [(429, {"Retry-After": "1"}, {"status": 429}), (503, {"Retry-After": "1"}, {"status": 503}),
                    (200, {}, page([ENTRY], "c1"))]
    started = time.monotonic()
    status, output = run_client(stub, mirror, env={"OPENDATA_API_KEY": "AbCd.secret-1"})
    assert status == 0, output
    assert time.monotonic() - started >= 2  # waited as told, twice
    assert "429: waiting 1 s" in output and "503: waiting 1 s" in output
    assert [auth for _, auth in Stub.seen] == ["Bearer AbCd.secret-1"] * 3
    assert mirror_content(mirror) == {("topic", "t"): ENTRY["after"]}

    Stub.answers = [(200, {}, page([], "c2"))]
    status, output = run_client(stub, mirror, "--key", "AbCd.secret-2")
    assert status == 0, output
    path, auth = Stub.seen[-1]
    assert auth == "Bearer AbCd.secret-2" and "secret" not in path  # the key in a header, never in the URL
    assert urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)["after"] == ["c1"]

    Stub.answers = [(401, {}, {"type": "invalid-api-key"})]
    status, output = run_client(stub, mirror, "--key", "bad")
    assert status == 1 and "401" in output and "invalid-api-key" in output  # no retry on a client error
    assert sqlite3.connect(mirror).execute("SELECT value FROM state WHERE name = 'cursor'").fetchone()[0] == "c2"


# -- PostgreSQL: a server on the test database, concurrent writers, a killed client -----------------------


def on_postgres(test):
    """Run on PostgreSQL only (CI's PostgreSQL run allows no skip), committing for real."""
    for mark in (pytest.mark.postgres, pytest.mark.django_db(transaction=True)):
        test = mark(test)
    return test


def database_url(settings_dict: dict) -> str:
    """The URL of the test database (the server must read what this process commits)."""
    user = urllib.parse.quote(settings_dict["USER"] or "")
    password = f":{urllib.parse.quote(settings_dict['PASSWORD'])}" if settings_dict.get("PASSWORD") else ""
    host, port = settings_dict["HOST"] or "127.0.0.1", settings_dict["PORT"] or "5432"
    return f"postgres://{user}{password}@{host}:{port}/{settings_dict['NAME']}"


@pytest.fixture
def pg_server(transactional_db, tmp_path):
    from django.core.management import call_command
    from django.db import connection

    from tests.write_helpers import build_world

    call_command("load_opendata", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
    build_world()
    server = Server(server_env(database_url(connection.settings_dict)), tmp_path)
    try:
        yield server.wait_ready()
    finally:
        server.stop()  # before the test database is flushed


WAIT = 30
CODES = [f"sync-{i}" for i in range(10)]


def in_thread(target, *args) -> threading.Thread:
    """Run `target` in a thread with its own database connection; its exception is kept on the thread."""
    from django.db import connection

    def run():
        try:
            target(*args)
        except BaseException as exc:  # noqa: BLE001 - re-raised by join()
            thread.error = exc
        finally:
            connection.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.error = None
    thread.start()
    return thread


def join(*threads: threading.Thread) -> None:
    for thread in threads:
        thread.join(WAIT)
        assert not thread.is_alive(), "a writer hung"
        if thread.error:
            raise thread.error


def one_write(rng: random.Random, actor: str) -> None:
    """A create, update, delete or restore of a topic of CODES, or a change of the world's project (its
    timeline, its deletion with the timeline, its restore), through the services."""
    from opendata.catalogue.models import Topic
    from opendata.catalogue.services import topic_create, topic_delete, topic_restore, topic_update
    from projects.models import Project
    from projects.services import project_delete, project_restore, project_update
    from tests.write_helpers import quote

    if rng.random() < 0.2:
        project = Project.objects.get(slug="metro-line-6")
        if project.deleted_at is not None:
            project_restore(key=project.slug, actor=actor)
        elif rng.random() < 0.3:
            project_delete(key=project.slug, actor=actor)
        else:
            year = rng.choice(["2024", "2025"])
            project_update(key=project.slug, actor=actor, data={"name_en": f"Metro line 6 ({rng.random():.6f})",
                           "timeline": [{"status": "construction_started", "kind": "actual",
                                         "date_start": f"{year}-01-01", "date_end": f"{year}-12-31",
                                         "date_precision": "year", "date_label": f"{year} ({rng.random():.6f})",
                                         "citations": [quote("地铁6号线开工建设")]}]})
        return
    code = rng.choice(CODES)
    topic = Topic.objects.filter(code=code).first()
    if topic is None:
        topic_create(data={"code": code, "name_zh": code, "name_en": code}, actor=actor)
    elif topic.deleted_at is not None:
        topic_restore(key=code, actor=actor)
    elif rng.random() < 0.3:
        topic_delete(key=code, actor=actor)
    else:
        topic_update(key=code, data={"name_en": f"{code} {rng.random():.6f}"}, actor=actor)


def churn(seed: int, transactions: int, stop_at: float) -> None:
    """Transactions of 1 to 3 writes, pausing inside them, so that they overlap and commit out of order.
    A transaction refused (a record created, deleted or locked meanwhile by another writer: exists,
    gone, a deadlock) rolls back whole and is left out."""
    from django.db import DatabaseError, transaction

    from opendata.base.services import WriteError

    rng = random.Random(seed)
    for _ in range(transactions):
        if time.monotonic() > stop_at:
            return
        try:
            with transaction.atomic():
                for _ in range(rng.randint(1, 3)):
                    one_write(rng, f"writer-{seed}")
                    time.sleep(rng.random() * 0.03)
        except (WriteError, DatabaseError):
            pass


def wait_until(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.05)


def caught_up(mirror: Path, seconds: float = WAIT) -> None:
    """Wait until the following client's mirror equals the server's content (every write committed
    and past the feed's horizon); fail with the differences."""
    from tests.examples.server_side import public_content
    from tests.write_helpers import settle

    settle()
    content = public_content()
    deadline = time.monotonic() + seconds
    while (got := mirror_content(mirror) if mirror.exists() else {}) != content:
        assert time.monotonic() < deadline, differences(got, content)
        time.sleep(0.1)


def out_of_order(server: Server, mirror: Path) -> None:
    """T1 begins and writes; T2 begins, writes and commits; the client polls (and must not show T2's
    entry yet: it waits for T1); then T1 commits, and both arrive."""
    from django.db import transaction

    from opendata.catalogue.models import Topic
    from opendata.catalogue.services import topic_create

    t1_wrote, t1_may_commit = threading.Event(), threading.Event()

    def t1():
        with transaction.atomic():
            topic_create(data={"code": "t1-first", "name_zh": "一", "name_en": "T1"}, actor="t1")
            t1_wrote.set()
            assert t1_may_commit.wait(WAIT)

    def t2():
        topic_create(data={"code": "t2", "name_zh": "二", "name_en": "T2"}, actor="t2")

    first = in_thread(t1)
    try:
        assert t1_wrote.wait(WAIT)
        join(in_thread(t2))
        assert Topic.objects.filter(code="t2").exists()  # committed...
        polls = server.feed_requests()
        wait_until(lambda: server.feed_requests() >= polls + 3, WAIT, "the client polled")
        keys = {k for _, k in mirror_content(mirror)}
        assert "t2" not in keys and "t1-first" not in keys  # ...and held back behind T1, still running
    finally:
        t1_may_commit.set()
    join(first)

@on_postgres
def test_a_following_client_mirrors_concurrent_writers_committing_out_of_order(pg_server, clients, tmp_path):
    mirror = tmp_path / "mirror.sqlite3"
    clients.start(pg_server.url, mirror, "--page-size", "200")
    stop_at = time.monotonic() + 20
    writers = [in_thread(churn, seed, 25, stop_at) for seed in range(4)]
    out_of_order(pg_server, mirror)
    join(*writers)
    caught_up(mirror)
    log = clients.output()
    assert "from the start" in log and "applied" in log


@on_postgres
def test_a_client_killed_and_restarted_mid_way_still_mirrors_every_change(pg_server, clients, tmp_path):
    mirror = tmp_path / "mirror.sqlite3"
    rng = random.Random(7)
    stop_at = time.monotonic() + 20
    writers = [in_thread(churn, seed, 25, stop_at) for seed in range(10, 14)]
    client = clients.start(pg_server.url, mirror, "--page-size", "20")  # small pages: often mid-way
    kills = 5
    for _ in range(kills):  # while it reads the loader's entries, then while it follows the writers
        time.sleep(0.2 + rng.random() * 1.5)
        os.kill(client.pid, signal.SIGKILL)  # kill -9, at any moment
        client.wait(timeout=10)
        client = clients.start(pg_server.url, mirror, "--page-size", "20")
    join(*writers)
    caught_up(mirror)
    log = clients.output()
    assert log.count("mirroring every resource") == kills + 1 and log.count("from cursor") >= kills - 1, log[-3000:]
