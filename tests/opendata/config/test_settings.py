"""Configuration from the environment, checked in fresh interpreters; real PostgreSQL and Redis when set."""

import os
import subprocess
import sys
import uuid

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection

ROOT = settings.BASE_DIR


def settings_in_subprocess(env: dict, expr: str) -> subprocess.CompletedProcess:
    code = f"import os; os.environ['DJANGO_SETTINGS_MODULE']='opendata.config.settings'; from django.conf import settings; print({expr})"
    base = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DEBUG", "SECRET_KEY",
                                                             "DJANGO_ALLOW_INSECURE_KEY", "ALLOWED_HOSTS",
                                                             "API_RATE_LIMIT", "API_RATE_LIMITS", "TRUSTED_PROXY_COUNT"}}
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**base, **env}, capture_output=True, text=True)


def test_default_database_is_an_embedded_sqlite_file():
    out = settings_in_subprocess({"SECRET_KEY": "x"}, "settings.DATABASES['default']['ENGINE'], settings.DATABASES['default']['NAME']")
    assert "sqlite3" in out.stdout and "var/opendata.sqlite3" in out.stdout


def test_postgres_url_selects_psycopg_with_persistent_or_pooled_connections():
    out = settings_in_subprocess({"SECRET_KEY": "x", "DATABASE_URL": "postgres://u@127.0.0.1:5432/x"},
                                 "settings.DATABASES['default']['ENGINE'], settings.DATABASES['default']['CONN_MAX_AGE']")
    assert "postgresql" in out.stdout and "600" in out.stdout
    out = settings_in_subprocess({"SECRET_KEY": "x", "DATABASE_URL": "postgres://u@127.0.0.1:5432/x", "DATABASE_POOL": "true"},
                                 "settings.DATABASES['default']['OPTIONS']")
    assert "'pool'" in out.stdout


def test_debug_is_off_unless_asked_and_secret_key_is_required_then():
    assert settings_in_subprocess({"SECRET_KEY": "x"}, "settings.DEBUG").stdout.strip() == "False"
    missing = settings_in_subprocess({}, "settings.DEBUG")
    assert missing.returncode != 0 and "SECRET_KEY is not set" in missing.stderr
    bad = settings_in_subprocess({"SECRET_KEY": "x", "DEBUG": "maybe"}, "settings.DEBUG")
    assert bad.returncode != 0 and "DEBUG must be true or false" in bad.stderr


def test_allowed_hosts_from_environment():
    out = settings_in_subprocess({"SECRET_KEY": "x", "ALLOWED_HOSTS": "data.example.org, api.example.org"},
                                 "settings.ALLOWED_HOSTS")
    assert out.stdout.strip() == "['data.example.org', 'api.example.org']"


def test_rate_limits_and_trusted_proxies_from_environment():
    default = settings_in_subprocess({"SECRET_KEY": "x"}, "(settings.API_RATE_LIMITS, settings.TRUSTED_PROXY_COUNT)")
    assert default.stdout.strip() == ("({'anonymous': '10000/hour', 'standard': '100000/hour', "
                                      "'bulk': '1000000/hour'}, 0)")
    out = settings_in_subprocess({"SECRET_KEY": "x", "API_RATE_LIMIT": "600/minute", "TRUSTED_PROXY_COUNT": "2",
                                  "API_RATE_LIMITS": "bulk=5000000/day, partner = 20000/hour"},
                                 "(settings.API_RATE_LIMITS, settings.TRUSTED_PROXY_COUNT)")
    assert out.stdout.strip() == ("({'anonymous': '600/minute', 'standard': '100000/hour', 'bulk': '5000000/day', "
                                  "'partner': '20000/hour'}, 2)")
    bad = settings_in_subprocess({"SECRET_KEY": "x", "API_RATE_LIMITS": "bulk"}, "settings.API_RATE_LIMITS")
    assert bad.returncode != 0 and "tier=rate pairs" in bad.stderr
    bad = settings_in_subprocess({"SECRET_KEY": "x", "TRUSTED_PROXY_COUNT": "yes"}, "settings.TRUSTED_PROXY_COUNT")
    assert bad.returncode != 0 and "TRUSTED_PROXY_COUNT must be a number" in bad.stderr


def test_cors_exposes_the_rate_limit_and_authentication_headers():
    assert {"Retry-After", "RateLimit", "RateLimit-Policy", "WWW-Authenticate"} <= set(settings.CORS_EXPOSE_HEADERS)


@pytest.mark.postgres
@pytest.mark.django_db
def test_runs_on_postgresql_through_psycopg3():
    assert connection.vendor == "postgresql"
    import psycopg

    assert connection.connection.__class__.__module__.startswith("psycopg")
    assert psycopg.__version__.startswith("3.")


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="REDIS_URL is not set")
def test_cache_is_redis_when_redis_url_is_set():
    assert settings.CACHES["default"]["BACKEND"].endswith("RedisCache")
    key = f"test-{uuid.uuid4()}"
    cache.set(key, {"长春": 1}, 30)
    assert cache.get(key) == {"长春": 1}
    cache.delete(key)
