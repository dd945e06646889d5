"""Failing fast and recovering alone, in process: a database error is a 503 with Retry-After (never a
500), the cache fails open, the health checks, the timeouts read from the environment. The same
against real servers and a database that really stops: test_faults.py."""

from __future__ import annotations

import json
import socket
import threading
import time
from unittest import mock

import pytest
from django.db import InterfaceError, OperationalError
from django.test import Client

from opendata.config.cache import FailOpenRedisCache
from tests import api_helpers as h
from tests.opendata.config.test_settings import settings_in_subprocess

PROBLEM = "application/problem+json"


def assert_unavailable_problem(response):
    assert response.status_code == 503, response.content[:300]
    assert response["Content-Type"] == PROBLEM
    assert int(response["Retry-After"]) > 0
    body = json.loads(response.content)
    assert body["status"] == 503 and body["type"].endswith("service-unavailable") and body["request_id"]
    return body


# -- the database unavailable: 503 with Retry-After --------------------------------------------------------

@pytest.mark.django_db
@pytest.mark.parametrize("error", [OperationalError("could not connect to server: Connection refused"),
                                   OperationalError("canceling statement due to statement timeout"),
                                   InterfaceError("connection already closed")])
@pytest.mark.parametrize("url", ["/api/v1/sources/", "/api/v1/sources/a-plan/", "/api/v1/sources/a-plan/text/",
                                 "/api/v1/observations/?format=csv"])
def test_a_database_outage_in_a_rest_view_is_a_503_problem(client, error, url):
    with mock.patch("opendata.base.api.views.validators_for", side_effect=error):
        body = assert_unavailable_problem(h.get(client, url))
    assert "retry" in body["how_to_fix"].lower() and "Retry-After" in body["how_to_fix"]


@pytest.mark.django_db
def test_other_database_errors_stay_server_errors(client):
    from django.db import IntegrityError

    client.raise_request_exception = False
    with mock.patch("opendata.base.api.views.validators_for", side_effect=IntegrityError("a bug")):
        response = h.get(client, "/api/v1/sources/")
    assert response.status_code == 500 and "Retry-After" not in response


@pytest.mark.django_db
def test_a_database_outage_outside_drf_is_a_503_too(client):
    with mock.patch("django.contrib.auth.views.LoginView.get_context_data", side_effect=OperationalError("down")):
        response = client.get("/admin/login/")
    assert response.status_code == 503 and int(response["Retry-After"]) > 0
    assert response["Content-Type"].startswith("text/plain")


@pytest.mark.django_db
def test_a_database_outage_in_a_middleware_is_a_503_through_handler500():
    client = Client(raise_request_exception=False)
    with mock.patch("django.contrib.sessions.middleware.SessionMiddleware.process_request",
                    side_effect=OperationalError("server closed the connection unexpectedly")):
        assert_unavailable_problem(client.get("/api/v1/sources/"))


@pytest.mark.django_db
def test_the_outage_is_logged_once_per_interval_not_per_request(client, caplog):
    from opendata.base.api import errors

    errors._outage_log._last.clear()
    with mock.patch("opendata.base.api.views.validators_for", side_effect=OperationalError("down")):
        for _ in range(5):
            assert h.get(client, "/api/v1/sources/").status_code == 503
    from opendata.config.logs import OneLinePerEvent

    written = [r for r in caplog.records if OneLinePerEvent().filter(r)]  # what the console handler writes
    outage = [r for r in written if r.name == "opendata.base.api.errors"]
    assert len(outage) == 1 and "database unavailable: OperationalError: down" in outage[0].getMessage()
    assert not [r for r in written if r.name == "django.request"]  # no "Service Unavailable" per request
    assert len([r for r in written if r.name == "opendata.request" and r.status == 503]) == 5


# -- the cache fails open -----------------------------------------------------------------------------------

def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Blackhole:
    """A TCP server that accepts connections and never answers (a hung Redis or PostgreSQL)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.held = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)

    def close(self):
        self.sock.close()
        for conn in self.held:
            conn.close()


@pytest.fixture
def blackhole():
    server = Blackhole()
    yield server
    server.close()


def fail_open_cache(url: str) -> FailOpenRedisCache:
    return FailOpenRedisCache(url, {"OPTIONS": {"socket_connect_timeout": 0.3, "socket_timeout": 0.3}})


@pytest.mark.parametrize("where", ["closed port", "blackhole"])
def test_an_unreachable_redis_is_an_empty_cache_quickly(where, blackhole, caplog):
    port = closed_port() if where == "closed port" else blackhole.port
    cache = fail_open_cache(f"redis://127.0.0.1:{port}/0")
    started = time.monotonic()
    assert cache.get("k", "default") == "default"
    cache.set("k", 1)
    assert cache.add("k", 1) is False and cache.get_many(["a", "b"]) == {} and cache.delete("k") is False
    assert cache.set_many({"a": 1}) == ["a"] and cache.has_key("a") is False
    with pytest.raises(ValueError):
        cache.incr("counter")
    assert cache.get_or_set("k", 7) == 7
    for _ in range(100):  # after a failure Redis is left alone for a moment: no timeout per call
        cache.get("k")
    assert time.monotonic() - started < 1.5
    warnings = [r for r in caplog.records if r.name == "opendata.config.cache"]
    assert len(warnings) <= 1
    with pytest.raises(Exception):
        cache.ping()  # readiness asks Redis itself


def test_one_thread_s_timeout_spares_the_others_theirs(blackhole):
    url = f"redis://127.0.0.1:{blackhole.port}/0"
    first, second = fail_open_cache(url), fail_open_cache(url)  # Django makes one instance per thread
    assert first.get("k") is None  # waits for the socket timeout
    started = time.monotonic()
    assert second.get("k") is None
    assert time.monotonic() - started < 0.2  # its own socket timeout would be 0.3 s


@pytest.mark.redis
def test_the_fail_open_cache_works_when_redis_answers():
    import os

    if not os.environ.get("REDIS_URL"):
        pytest.skip("REDIS_URL is not set")
    cache = fail_open_cache(os.environ["REDIS_URL"])
    cache.set("fail-open-test", {"长春": 1}, 30)
    assert cache.get("fail-open-test") == {"长春": 1}
    cache.set("fail-open-n", 1, 30)
    assert cache.incr("fail-open-n", 2) == 3
    assert cache.ping() is True
    cache.delete_many(["fail-open-test", "fail-open-n"])


@pytest.mark.django_db
def test_requests_are_served_when_the_cache_is_down(client, settings, blackhole):
    settings.CACHES = {"default": {"BACKEND": "opendata.config.cache.FailOpenRedisCache",
                                   "LOCATION": f"redis://127.0.0.1:{blackhole.port}/0",
                                   "OPTIONS": {"socket_connect_timeout": 0.3, "socket_timeout": 0.3}}}
    started = time.monotonic()
    for _ in range(5):  # the anonymous rate limit counts in the cache
        assert client.get("/api/v1/sources/").status_code == 200
    assert time.monotonic() - started < 2
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.json()["checks"]["cache"]["ok"] is False


# -- health checks -----------------------------------------------------------------------------------------

def test_healthz_answers_without_the_database(client):
    response = client.get("/healthz")  # no django_db mark: a query would fail the test
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_readyz_checks_the_database_and_the_cache(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    checks = response.json()["checks"]
    assert checks["database"]["ok"] and checks["cache"]["ok"] and "Retry-After" not in response


@pytest.mark.django_db
def test_readyz_is_503_with_the_reason_when_the_database_is_down(client):
    with mock.patch("opendata.config.health.check_database", side_effect=OperationalError("refused: 10.0.0.5")):
        response = client.get("/readyz")
    assert response.status_code == 503 and int(response["Retry-After"]) > 0
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == {"ok": False, "error": "OperationalError", "ms": mock.ANY}
    assert "10.0.0.5" not in response.content.decode()  # the details go to the log, not to the world


def test_health_checks_are_exempt_from_rate_limits_and_from_the_https_redirect(settings):
    assert {"/healthz", "/readyz"} <= set(settings.RATE_LIMIT_EXEMPT_PATHS)
    out = settings_in_subprocess({"SECRET_KEY": "x", "HTTPS": "true"}, "settings.SECURE_REDIRECT_EXEMPT")
    assert "healthz" in out.stdout and "readyz" in out.stdout


# -- timeouts from the environment -------------------------------------------------------------------------

def test_postgresql_gets_connect_statement_and_lock_timeouts_from_the_environment():
    url = {"SECRET_KEY": "x", "DATABASE_URL": "postgres://u@127.0.0.1:5432/x"}
    out = settings_in_subprocess(url, "settings.DATABASES['default']['OPTIONS']")
    assert "'connect_timeout': 3" in out.stdout
    assert "-c statement_timeout=5000 -c lock_timeout=2000" in out.stdout
    out = settings_in_subprocess({**url, "DATABASE_CONNECT_TIMEOUT": "1", "DATABASE_STATEMENT_TIMEOUT": "0.5",
                                  "DATABASE_LOCK_TIMEOUT": "0"}, "settings.DATABASES['default']['OPTIONS']")
    assert "'connect_timeout': 2" in out.stdout  # libpq's least
    assert "-c statement_timeout=500 -c lock_timeout=0" in out.stdout
    bad = settings_in_subprocess({**url, "DATABASE_STATEMENT_TIMEOUT": "soon"}, "settings.DEBUG")
    assert bad.returncode != 0 and "DATABASE_STATEMENT_TIMEOUT must be a number of seconds" in bad.stderr


def test_the_pool_fails_fast_checks_its_connections_and_persistent_connections_are_health_checked():
    url = {"SECRET_KEY": "x", "DATABASE_URL": "postgres://u@127.0.0.1:5432/x"}
    persistent = settings_in_subprocess(url, "settings.DATABASES['default']['CONN_HEALTH_CHECKS']")
    assert persistent.stdout.strip() == "True"
    pooled = settings_in_subprocess({**url, "DATABASE_POOL": "true"}, "settings.DATABASES['default']")
    assert "'ENGINE': 'opendata.config.postgresql'" in pooled.stdout
    assert "'timeout': 3.0" in pooled.stdout and "'reconnect_timeout': 3.0" in pooled.stdout


def test_the_pool_backend_is_django_s_postgresql_backend_with_its_own_check():
    from django.db.backends.postgresql.base import DatabaseWrapper as Django

    from opendata.config.postgresql.base import DatabaseWrapper, sweeping_check

    assert issubclass(DatabaseWrapper, Django) and DatabaseWrapper.vendor == "postgresql"
    assert callable(sweeping_check({}, "default"))


def test_sqlite_waits_for_a_lock_at_most_the_lock_timeout():
    out = settings_in_subprocess({"SECRET_KEY": "x", "DATABASE_LOCK_TIMEOUT": "1.5"},
                                 "settings.DATABASES['default']['OPTIONS']['timeout']")
    assert out.stdout.strip() == "1.5"


def test_manage_py_commands_run_without_the_statement_timeout():
    import os
    import subprocess
    import sys

    from django.conf import settings

    base = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_", "DJANGO_SETTINGS"))}
    env = {**base, "SECRET_KEY": "x", "DATABASE_URL": "postgres://u@127.0.0.1:5432/x"}
    code = "from django.conf import settings; print(settings.DATABASES['default']['OPTIONS']['options'])"
    out = subprocess.run([sys.executable, "manage.py", "shell", "-c", code], cwd=settings.BASE_DIR, env=env,
                         capture_output=True, text=True)
    assert "-c statement_timeout=0 -c lock_timeout=2000" in out.stdout, out.stderr
    out = subprocess.run([sys.executable, "manage.py", "shell", "-c", code], cwd=settings.BASE_DIR,
                         env={**env, "DATABASE_STATEMENT_TIMEOUT": "60"}, capture_output=True, text=True)
    assert "-c statement_timeout=60000" in out.stdout, out.stderr
