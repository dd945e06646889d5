"""The quota across real server processes (gunicorn, as in production): two servers sharing Redis
share each client's quota, and a server whose Redis is down still answers, at once.

Each server listens on 127.0.0.1 only, on a free port, with a temporary SQLite database migrated
first; it is stopped by its PID at the end, and every request has a timeout."""

from __future__ import annotations

import functools
import os
import random
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from tests import api_helpers as h

ROOT = Path(settings.BASE_DIR)
GUNICORN = Path(sys.executable).parent / "gunicorn"
CHEAP = {"query": "{ topics(first: 5) { nodes { code } } }"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(database: Path, **extra) -> dict:
    keep = {k: v for k, v in os.environ.items() if k not in {
        "DATABASE_URL", "REDIS_URL", "DEBUG", "API_RATE_LIMIT", "API_RATE_LIMITS", "TRUSTED_PROXY_COUNT"}}
    return {**keep, "DEBUG": "false", "SECRET_KEY": "test-only-secret-key-for-the-rate-limit-servers",
            "DATABASE_URL": f"sqlite:///{database}", "ALLOWED_HOSTS": "127.0.0.1", "DJANGO_SETTINGS_MODULE":
            "opendata.config.settings", **extra}


@pytest.fixture(scope="module")
def database(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("servers") / "db.sqlite3"
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=server_env(path),
                   check=True, capture_output=True, timeout=120)
    return path


@functools.cache
def no_control_socket() -> list[str]:
    """Recent gunicorn opens a control socket at one fixed path per user: two servers must not share it."""
    help_text = subprocess.run([str(GUNICORN), "--help"], capture_output=True, text=True, timeout=30,
                               check=False).stdout
    return ["--no-control-socket"] if "--no-control-socket" in help_text else []


class Server:
    def __init__(self, env: dict, log: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.process = subprocess.Popen(
            [str(GUNICORN), "opendata.config.wsgi", "-b", f"127.0.0.1:{self.port}", "--workers", "1",
             "--timeout", "30", "--graceful-timeout", "2", *no_control_socket()],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log.open("w"))

    def wait_ready(self, seconds: float = 20):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server stopped: {self.log.read_text()[-2000:]}")
            try:
                if h.http("GET", self.url + "/admin/login/", timeout=5)[0] == 200:  # a page that is not counted
                    return self
            except OSError:  # not listening yet
                pass
            time.sleep(0.2)
        raise RuntimeError(f"the server did not start: {self.log.read_text()[-2000:]}")

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


@pytest.fixture
def servers(tmp_path):
    started: list[Server] = []

    def start(env: dict, name: str) -> Server:
        server = Server(env, tmp_path / f"{name}.log")
        started.append(server)
        return server.wait_ready()

    yield start
    for server in started:
        server.stop()


@pytest.mark.redis
@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="REDIS_URL is not set: two servers share a quota in Redis")
def test_two_server_processes_share_one_quota_in_redis(database, servers):
    env = server_env(database, REDIS_URL=os.environ["REDIS_URL"], API_RATE_LIMIT="5/minute",
                     TRUSTED_PROXY_COUNT="1")
    a, b = servers(env, "a"), servers(env, "b")
    client = {"X-Forwarded-For": f"203.0.113.{random.randint(1, 254)}"}  # behind one proxy: this run's own bucket
    answers = [h.http("GET", a.url + "/api/v1/topics/", headers=client),
               h.http("POST", b.url + "/graphql/", headers=client, body=CHEAP),
               h.http("GET", a.url + "/api/v1/topics/", headers=client),
               h.http("GET", b.url + "/api/v1/topics/", headers=client),
               h.http("POST", a.url + "/graphql/", headers=client, body=CHEAP)]
    assert [status for status, _, _ in answers] == [200] * 5
    assert [headers["RateLimit"].split(";")[1] for _, headers, _ in answers] == ["r=4", "r=3", "r=2", "r=1", "r=0"]
    for server in (b, a):
        status, headers, _ = h.http("GET", server.url + "/api/v1/topics/", headers=client)
        assert status == 429 and 0 < int(headers["Retry-After"]) <= 60
    other = {"X-Forwarded-For": "198.51.100.7, 203.0.113.255"}
    assert h.http("GET", b.url + "/api/v1/topics/", headers=other)[0] == 200  # another client, its own quota


def test_a_server_whose_redis_is_down_answers_at_once(database, servers):
    server = servers(server_env(database, REDIS_URL="redis://127.0.0.1:1/0"), "redis-down")
    for method, path, body in (("GET", "/api/v1/topics/", None), ("POST", "/graphql/", CHEAP),
                               ("GET", "/api/v1/topics/", None)):
        started = time.monotonic()
        status, headers, payload = h.http(method, server.url + path, body=body, timeout=5)
        assert status == 200, payload
        assert time.monotonic() - started < 1
        assert headers["RateLimit-Policy"] == '"anonymous";q=10000;w=3600'
    log = server.log.read_text()
    assert log.count("Rate limits: Redis at 127.0.0.1:1/0 does not answer") == 1, log
