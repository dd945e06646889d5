"""The distributed behaviour, against the deployment `make cluster` starts (scripts/cluster.py): a
PostgreSQL primary and a streaming replica made with pg_basebackup, Redis, two application processes
(gunicorn) and nginx in front, all on 127.0.0.1 on free ports, started once for this module and
stopped by PID after it (every wait bounded).

- the rate limit and Idempotency-Key hold across processes (Redis, the database);
- reads reach the replica, writes the primary; a request's database is in the access log
  (`db`), and the servers' own transaction counters say the same;
- read-your-writes: with the replica's replay paused, a key that just wrote reads its write (on the
  primary) while an anonymous read still comes from the stale replica; once the replica has
  replayed the write, that key reads from the replica again;
- a replica lagging past REPLICA_MAX_LAG is left out; stopping the replica loses no request;
- stopping the primary: writes are 503 with Retry-After, reads go on (the replica);
- the cache: a repeated read is a hit the application never sees; after SHARED_CACHE_SECONDS it is
  revalidated (304 from the application); a write is visible to the next read once that time has
  passed; keyed requests and the change feed are never cached.

Needs PostgreSQL's server binaries, redis-server and nginx: skipped, with the reason, where
DATABASE_URL is not PostgreSQL (CI's PostgreSQL run has them, .ci/run installs nginx, and no skip
is allowed there).
"""

from __future__ import annotations

import json
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
sys.path.insert(0, str(ROOT / "scripts"))
import cluster as deployment  # noqa: E402  (scripts/cluster.py)

pytestmark = [pytest.mark.postgres]  # the one PostgreSQL condition (tests/conftest.py)

SHARED_CACHE_SECONDS = 1
REPLICA_MAX_LAG = 3
REPLICA_RETRY = 1
EXPIRY = SHARED_CACHE_SECONDS + 1.2  # nginx counts whole seconds: a copy stored at t expires after t + s-maxage + 1


def free_block(size: int) -> int:
    """The first of `size` consecutive free ports of 127.0.0.1."""
    for _ in range(200):
        first = random.randint(20000, 60000 - size)
        if all(deployment.port_free(p) for p in range(first, first + size)):
            return first
    raise RuntimeError("no block of free ports")


class Running:
    """The deployment of this module, and what the tests read from it."""

    def __init__(self, state: dict, directory: Path, env: dict):
        self.state, self.dir, self.env = state, directory, env
        self.base = state["address"].rstrip("/")
        self.apps = [f"http://127.0.0.1:{a['port']}" for a in state["apps"]]
        pg_root = Path(state["pg_root"])
        self.primary = deployment.Postgres(deployment.postgres_bindir(), pg_root / "primary", state["primary"]["port"])
        self.replica = deployment.Postgres(deployment.postgres_bindir(), pg_root / "replica", state["replica"]["port"])

    def sql(self, server: deployment.Postgres, query: str, params=None):
        import psycopg

        with psycopg.connect(server.url("opendata"), autocommit=True, connect_timeout=5) as conn:
            return conn.execute(query, params).fetchall()

    def commits(self, server: deployment.Postgres) -> int:
        return self.sql(server, "SELECT xact_commit FROM pg_stat_database WHERE datname = 'opendata'")[0][0]

    def log_lines(self, request_id: str) -> list[dict]:
        lines = []
        for app in self.state["apps"]:
            for line in Path(app["log"]).read_text(errors="replace").splitlines():
                if request_id in line and '"opendata.request"' in line:
                    lines.append(json.loads(line))
        return lines

    def warnings(self) -> list[str]:
        """The applications' last warnings (replicas left out and why), for a failure's message."""
        found = []
        for app in self.state["apps"]:
            found += [line[:400] for line in Path(app["log"]).read_text(errors="replace").splitlines()
                      if '"WARNING"' in line or '"ERROR"' in line]
        return found[-12:]

    def db_of(self, request_id: str, timeout: float = 5) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.log_lines(request_id)
            if found:
                return found[-1]["db"]
            time.sleep(0.05)
        raise AssertionError(f"no log line of request {request_id}")

    def wait_replayed(self) -> None:
        deployment.wait_replay(self.primary, self.replica, timeout=30)


def request(url: str, *, method: str = "GET", body=None, key: str | None = None, headers: dict | None = None):
    """(status, headers, parsed body or bytes, request id)."""
    rid = uuid.uuid4().hex
    headers = {"X-Request-ID": rid, **(headers or {})}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    r = urllib.request.Request(url, data=data, headers=headers, method=method)
    started = time.monotonic()
    try:
        with urllib.request.urlopen(r, timeout=20) as response:
            status, got, raw = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        status, got, raw = error.code, error.headers, error.read()
    assert time.monotonic() - started < 20
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = raw
    return status, got, parsed, rid


@pytest.fixture(scope="module")
def running():
    missing = [name for name, found in (("PostgreSQL's server binaries", deployment.postgres_bindir()),
                                        ("redis-server", shutil.which("redis-server")),
                                        ("nginx", deployment.nginx_binary())) if not found]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (Debian: postgresql, redis-server, nginx-light; .ci/run installs nginx)")
    directory = Path(tempfile.mkdtemp(prefix="opendata-cluster-"))
    first = free_block(7)
    extra = {"SHARED_CACHE_SECONDS": str(SHARED_CACHE_SECONDS), "REPLICA_MAX_LAG": str(REPLICA_MAX_LAG),
             "REPLICA_RETRY": str(REPLICA_RETRY), "REPLICA_CHECK_INTERVAL": "0.2", "LOG_LEVEL": "INFO",
             "API_RATE_LIMITS": "tiny=10/minute", "API_RATE_LIMIT": "100000/hour",
             "GUNICORN_GRACEFUL_TIMEOUT": "5"}
    try:
        state = deployment.start(directory, apps=2, pg_port=first, redis_port=first + 2, http_port=first + 3,
                                 extra_env=extra)
        env = deployment.app_env(database_url=state["env"]["DATABASE_URL"], replica_urls=[], redis_url="",
                                 secret_key="x", **extra)
        made = Running(state, directory, env)
        made.keys = issue_keys(made)
        yield made
    finally:
        deployment.stop(directory)
        shutil.rmtree(directory, ignore_errors=True)


def issue_keys(made: Running) -> dict[str, str]:
    """API keys made as the admin makes them (the key model's manager), on the primary."""
    code = ("from opendata.keys.models import ApiKey\n"
            "import json\n"
            "print(json.dumps({name: ApiKey.objects.create_key(name=name, scope='write', tier=tier)[1]\n"
            "                  for name, tier in [('writer', 'standard'), ('other', 'standard'), ('tiny', 'tiny')]}))")
    result = subprocess.run([sys.executable, "manage.py", "shell", "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=120, env={**made.env, "DEBUG": "true"})
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def new_topic(made: Running, key: str, app: str | None = None, **headers):
    code = "t" + uuid.uuid4().hex[:10]
    status, got, body, rid = request((app or made.base) + "/api/v1/topics/", method="POST", key=key, headers=headers,
                                     body={"code": code, "name_zh": "集群", "name_en": f"Cluster {code}"})
    return code, status, got, body, rid


# -- stateless processes: shared quota, shared idempotency ---------------------------------------------------

def test_the_rate_limit_holds_across_processes(running):
    key = running.keys["tiny"]  # 10 requests a minute
    statuses = []
    for i in range(12):
        app = running.apps[i % 2]
        status, got, _, _ = request(app + "/api/v1/topics/", key=key)
        statuses.append((status, got.get("RateLimit")))
    assert [s for s, _ in statuses].count(200) == 10 and [s for s, _ in statuses][10:] == [429, 429], statuses
    remaining = [int(h.split("r=")[1].split(";")[0]) for s, h in statuses[:10]]
    assert remaining == list(range(9, -1, -1)), remaining  # one count, whichever process answered


def test_idempotency_holds_across_processes(running):
    key = running.keys["writer"]
    code = "t" + uuid.uuid4().hex[:10]
    body = {"code": code, "name_zh": "集群", "name_en": "Idempotent"}
    idem = {"Idempotency-Key": uuid.uuid4().hex}
    with ThreadPoolExecutor(2) as pool:  # the same write to both processes at once
        answers = list(pool.map(lambda app: request(app + "/api/v1/topics/", method="POST", key=key, body=body,
                                                    headers=idem), running.apps))
    assert sorted(a[0] for a in answers) == [201, 201], [a[:3] for a in answers]
    assert sorted(a[1].get("Idempotent-Replayed") or "" for a in answers) == ["", "true"]
    assert answers[0][2] == answers[1][2]
    third = request(running.apps[1] + "/api/v1/topics/", method="POST", key=key, body=body, headers=idem)
    assert third[0] == 201 and third[1]["Idempotent-Replayed"] == "true"
    assert running.sql(running.primary, "SELECT count(*) FROM opendata_topic WHERE code = %s", [code]) == [(1,)]


# -- reads on the replica, writes on the primary ------------------------------------------------------------

def test_reads_reach_the_replica_and_writes_the_primary(running):
    before_replica, before_primary = running.commits(running.replica), running.commits(running.primary)
    rids = []
    for i in range(20):
        status, _, _, rid = request(running.apps[i % 2] + f"/api/v1/observations/?page_size={5 + i}")
        assert status == 200
        rids.append(rid)
    assert {running.db_of(rid) for rid in rids} == {"replica_0"}
    # PostgreSQL's statistics are flushed by a backend at most once a second, and an idle one's pending
    # counts only after PGSTAT_IDLE_INTERVAL (10 s): the application's persistent connections may hold
    # their commits back that long, so the counters are read until they show them (a bound, not a sleep)
    deadline = time.monotonic() + 20
    while True:
        replica_reads = running.commits(running.replica) - before_replica
        if replica_reads >= 20 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    primary_reads = running.commits(running.primary) - before_primary
    assert replica_reads >= 20 and primary_reads < 10, (replica_reads, primary_reads)

    code, status, _, _, rid = new_topic(running, running.keys["writer"])
    assert status == 201 and running.db_of(rid) == "default"
    assert running.sql(running.primary, "SELECT count(*) FROM opendata_topic WHERE code = %s", [code]) == [(1,)]


def test_read_your_writes(running):
    key = running.keys["writer"]
    running.wait_replayed()
    running.sql(running.replica, "SELECT pg_wal_replay_pause()")
    try:
        code, status, _, _, _ = new_topic(running, key)
        assert status == 201
        for app in running.apps:  # the writer reads its write, from either process
            status, _, body, rid = request(app + f"/api/v1/topics/{code}/", key=key)
            assert status == 200 and body["code"] == code, body
            assert running.db_of(rid) == "default"
        # the replica has not replayed it: anyone else still reads from it, and does not see it yet
        status, _, _, rid = request(running.apps[0] + f"/api/v1/topics/{code}/")
        assert status == 404 and running.db_of(rid) == "replica_0"
        # another key has not written: the replica
        status, _, _, rid = request(running.apps[0] + f"/api/v1/topics/{code}/", key=running.keys["other"])
        assert status == 404 and running.db_of(rid) == "replica_0"
    finally:
        running.sql(running.replica, "SELECT pg_wal_replay_resume()")
    running.wait_replayed()
    deadline = time.monotonic() + 5  # the processes see the replay at their next check (0.2 s here)
    while True:
        status, _, body, rid = request(running.apps[0] + f"/api/v1/topics/{code}/", key=key)
        assert status == 200 and body["code"] == code
        if running.db_of(rid) == "replica_0":
            break
        assert time.monotonic() < deadline, "the writer's reads never went back to the replica"
        time.sleep(0.2)


def graphql(running: Running, query: str, variables: dict | None = None, *, key: str | None = None, app: int = 0):
    status, _, body, rid = request(running.apps[app] + "/graphql/", method="POST", key=key,
                                   body={"query": query, "variables": variables or {}})
    assert status == 200, body
    return body, rid


def test_read_your_writes_in_graphql(running):
    key = running.keys["writer"]
    running.wait_replayed()
    running.sql(running.replica, "SELECT pg_wal_replay_pause()")
    code = "t" + uuid.uuid4().hex[:10]
    lookup = "query($c: Code!) { topic(code: $c) { code } }"
    try:
        body, rid = graphql(running, "mutation($i: TopicInput!) { createTopic(input: $i) { topic { code } } }",
                            {"i": {"code": code, "nameZh": "集群", "nameEn": "GraphQL"}}, key=key)
        assert (body.get("data") or {}).get("createTopic", {}) == {"topic": {"code": code}}, body
        body, rid = graphql(running, lookup, {"c": code}, key=key, app=1)
        assert body["data"]["topic"] == {"code": code} and running.db_of(rid) == "default"
        body, rid = graphql(running, lookup, {"c": code})
        assert body["data"]["topic"] is None and running.db_of(rid) == "replica_0"
    finally:
        running.sql(running.replica, "SELECT pg_wal_replay_resume()")
    running.wait_replayed()
    deadline = time.monotonic() + 5  # a query by POST is not a write: the key goes back to the replica
    while True:
        body, rid = graphql(running, lookup, {"c": code}, key=key)
        assert body["data"]["topic"] == {"code": code}
        if running.db_of(rid) == "replica_0":
            break
        assert time.monotonic() < deadline, "the key's GraphQL reads never went back to the replica"
        time.sleep(0.2)


def test_a_replica_lagging_past_the_bound_is_left_out(running):
    running.wait_replayed()
    running.sql(running.replica, "SELECT pg_wal_replay_pause()")
    try:
        code, status, _, _, _ = new_topic(running, running.keys["writer"])
        assert status == 201
        time.sleep(REPLICA_MAX_LAG + 1.5)
        status, _, body, rid = request(running.apps[0] + f"/api/v1/topics/{code}/")
        assert status == 200 and body["code"] == code and running.db_of(rid) == "default"
    finally:
        running.sql(running.replica, "SELECT pg_wal_replay_resume()")
    running.wait_replayed()
    time.sleep(REPLICA_RETRY + 0.5)


class Hammer:
    """Anonymous reads in two threads, straight to the processes (no cache), until stopped."""

    def __init__(self, running: Running, path: str = "/api/v1/observations/?page_size=5"):
        self.running, self.path = running, path
        self.results: list[tuple[int, float]] = []
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self.run, args=(app,)) for app in running.apps]

    def run(self, app):
        n = 0
        while not self.stop.is_set():
            n += 1
            status, _, _, _ = request(app + self.path)
            self.results.append((status, time.monotonic()))

    def __enter__(self):
        for t in self.threads:
            t.start()
        time.sleep(0.5)
        return self

    def __exit__(self, *exc):
        time.sleep(0.5)
        self.stop.set()
        for t in self.threads:
            t.join(30)


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGQUIT], ids=["fast shutdown", "crash"])
def test_stopping_the_replica_loses_no_request(running, how):
    with Hammer(running) as hammer:
        running.replica.stop(how)
        time.sleep(1.5)
    failed = [s for s, _ in hammer.results if s != 200]
    assert len(hammer.results) > 10 and not failed, (len(hammer.results), failed)
    status, _, _, rid = request(running.apps[0] + "/api/v1/observations/?page_size=5")
    assert status == 200 and running.db_of(rid) == "default"
    running.replica.start()
    running.wait_replayed()
    deadline = time.monotonic() + 15
    while True:  # back on the replica once REPLICA_RETRY has passed
        status, _, _, rid = request(running.apps[0] + "/api/v1/observations/?page_size=5")
        if status == 200 and running.db_of(rid) == "replica_0":
            break
        assert time.monotonic() < deadline, ("reads never went back to the restarted replica", running.warnings())
        time.sleep(0.3)


_SIZES = iter(random.sample(range(200, 1000), 100))


def fresh_size() -> int:
    """A page size no other test asked for: a URL the cache has not seen."""
    return next(_SIZES)


# -- the cache in front ------------------------------------------------------------------------------------

def test_the_cache_serves_repeated_reads_and_a_write_is_visible_after_its_time(running):
    url = running.base + f"/api/v1/topics/?page_size={fresh_size()}"
    first = request(url)
    repeated = [request(url) for _ in range(5)]
    assert first[0] == 200 and first[1]["X-Cache-Status"] == "MISS"
    assert [r[1]["X-Cache-Status"] for r in repeated] == ["HIT"] * 5
    assert all(r[2] == first[2] for r in repeated)
    assert first[1]["Cache-Control"] == f"public, max-age=0, s-maxage={SHARED_CACHE_SECONDS}, must-revalidate"
    assert len(running.log_lines(first[3])) == 1 and not any(running.log_lines(r[3]) for r in repeated)
    assert all("RateLimit" not in r[1] for r in repeated)  # a hit costs no quota and shows none
    assert repeated[0][3] != repeated[1][3] and repeated[0][1]["X-Request-ID"] == repeated[0][3]

    time.sleep(EXPIRY)  # expired: revalidated with the ETag, the application says 304
    revalidated = request(url)
    assert revalidated[1]["X-Cache-Status"] == "REVALIDATED" and revalidated[2] == first[2]
    assert running.log_lines(revalidated[3])[0]["status"] == 304

    code, status, _, _, _ = new_topic(running, running.keys["writer"])
    assert status == 201
    running.wait_replayed()
    time.sleep(EXPIRY)
    after = request(url)
    assert after[0] == 200 and after[1]["X-Cache-Status"] == "EXPIRED"
    assert code in [t["code"] for t in after[2]["results"]], "the write is not visible through the cache"
    assert code not in [t["code"] for t in first[2]["results"]]
    assert request(url)[1]["X-Cache-Status"] == "HIT"


def test_keyed_requests_and_the_change_feed_are_never_cached(running):
    url = running.base + f"/api/v1/topics/?page_size={fresh_size()}"
    keyed = [request(url, key=running.keys["other"]) for _ in range(3)]
    assert [k[1]["X-Cache-Status"] for k in keyed] == ["BYPASS"] * 3
    assert all(len(running.log_lines(k[3])) == 1 for k in keyed)
    assert keyed[0][1]["Cache-Control"].startswith("private")
    assert all("RateLimit" in k[1] for k in keyed)
    feed = [request(running.base + "/api/v1/changes/?page_size=5") for _ in range(3)]
    assert all(f[0] == 200 and len(running.log_lines(f[3])) == 1 for f in feed)
    # an anonymous read after the keyed ones is the cache's own, not theirs
    assert request(url)[1]["X-Cache-Status"] == "MISS"


# -- the primary stops (last: it restarts the primary) ---------------------------------------------------------

def test_stopping_the_primary_makes_writes_503_while_reads_go_on(running):
    running.wait_replayed()
    running.primary.stop(signal.SIGINT)
    try:
        for app in running.apps:
            code, status, got, body, _ = new_topic(running, running.keys["writer"], app=app)
            assert status == 503 and int(got["Retry-After"]) > 0, (status, body)
            assert got["Content-Type"] == "application/problem+json"
        # the change feed is read on the primary: 503; that must not leave the replica out for the others
        status, got, _, _ = request(running.apps[0] + "/api/v1/changes/?page_size=5")
        assert status == 503 and int(got["Retry-After"]) > 0
        with Hammer(running) as hammer:
            time.sleep(1)
        assert len(hammer.results) > 5 and {s for s, _ in hammer.results} == {200}
        cached = request(running.base + f"/api/v1/topics/?page_size={fresh_size()}")
        assert cached[0] == 200
        # still ready: it serves reads (a load balancer must not take every process out)
        status, _, body, _ = request(running.apps[0] + "/readyz")
        assert status == 200 and not body["checks"]["database"]["ok"] and body["checks"]["replica_0"]["ok"], body
    finally:
        running.primary.start()
    deadline = time.monotonic() + 20
    while True:
        code, status, _, _, _ = new_topic(running, running.keys["writer"])
        if status == 201:
            break
        assert time.monotonic() < deadline, status
        time.sleep(0.5)
