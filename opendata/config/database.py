"""The database connection from the environment, made to fail fast and to recover alone.

- `DATABASE_CONNECT_TIMEOUT` (seconds, default 3): how long opening a connection may take. PostgreSQL:
  libpq's `connect_timeout` (whole seconds, at least 2); with the pool, also how long a request waits
  for a pooled connection.
- `DATABASE_STATEMENT_TIMEOUT` (seconds, default 5): PostgreSQL cancels a statement running longer
  (`-c statement_timeout`). `manage.py` commands (migrate, load_opendata) run without it unless it is
  set explicitly (manage.py sets 0): they may run long statements on purpose.
- `DATABASE_LOCK_TIMEOUT` (seconds, default 2): how long a statement waits for a lock. PostgreSQL:
  `-c lock_timeout`; SQLite: the busy timeout.

0 turns a PostgreSQL timeout off. A statement that times out raises `OperationalError`, which the API
answers with 503 and `Retry-After` (opendata/base/api/errors.py), as it does when the server is down.

Persistent connections (`DATABASE_CONN_MAX_AGE`) are checked at the start of each request
(CONN_HEALTH_CHECKS), so after a restart of the database the first request reconnects instead of
failing. With `DATABASE_POOL=true` the psycopg pool checks each connection it hands out, sweeping
its dead ones on the first failure (opendata/config/postgresql/base.py), and gives up reconnecting
after the connect timeout, so that a request made once the database is back starts a fresh attempt
instead of waiting out a long backoff.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured


DEFAULT_CONNECT_TIMEOUT = 3.0
DEFAULT_STATEMENT_TIMEOUT = 5.0
DEFAULT_LOCK_TIMEOUT = 2.0


def env_seconds(name: str, default: float, environ=os.environ) -> float:
    raw = environ.get(name, "")
    if raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number of seconds, got {raw!r}") from None
    if value < 0 or math.isinf(value) or math.isnan(value):
        raise ImproperlyConfigured(f"{name} must be a number of seconds >= 0, got {raw!r}")
    return value


def timeouts(environ=os.environ) -> dict[str, float]:
    """The three timeouts in seconds (0: none), as the settings and the gunicorn configuration read them."""
    return {
        "connect": env_seconds("DATABASE_CONNECT_TIMEOUT", DEFAULT_CONNECT_TIMEOUT, environ),
        "statement": env_seconds("DATABASE_STATEMENT_TIMEOUT", DEFAULT_STATEMENT_TIMEOUT, environ),
        "lock": env_seconds("DATABASE_LOCK_TIMEOUT", DEFAULT_LOCK_TIMEOUT, environ),
    }


def database_settings(url: str, *, environ=os.environ) -> dict:
    """DATABASES["default"] for `url`, with the timeouts, persistent connections or the pool."""
    t = timeouts(environ)
    db = dj_database_url.parse(url, conn_max_age=0)
    options = dict(db.get("OPTIONS") or {})
    if db["ENGINE"] == "django.db.backends.postgresql":
        db["ENGINE"] = "opendata.config.postgresql"  # Django's, with a fast timestamptz loader and the pool's check
        if t["connect"]:
            options["connect_timeout"] = max(2, math.ceil(t["connect"]))  # libpq: whole seconds, 2 at least
        server = [f"-c {name}={round(seconds * 1000)}" for name, seconds in
                  (("statement_timeout", t["statement"]), ("lock_timeout", t["lock"]))]
        options["options"] = " ".join(filter(None, [options.get("options", ""), *server]))
        if env_bool("DATABASE_POOL", False, environ):
            wait = t["connect"] or DEFAULT_CONNECT_TIMEOUT
            options["pool"] = {
                "min_size": int(environ.get("DATABASE_POOL_MIN_SIZE", "2")),
                "max_size": int(environ.get("DATABASE_POOL_MAX_SIZE", "10")),
                "timeout": wait,            # a request waits this long for a connection, then 503
                "reconnect_timeout": wait,  # then a new request starts a new attempt (no long backoff)
            }
            db["CONN_MAX_AGE"] = 0
        else:
            db["CONN_MAX_AGE"] = int(environ.get("DATABASE_CONN_MAX_AGE", "600"))
            db["CONN_HEALTH_CHECKS"] = True
    elif db["ENGINE"] == "django.db.backends.sqlite3":
        # WAL lets readers run while the loader writes; a writer waits for the lock at most the lock timeout.
        options.update({"timeout": t["lock"] or 20,
                        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"})
        if db["NAME"] and db["NAME"] != ":memory:":
            Path(db["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    db["OPTIONS"] = options
    return db


def env_bool(name: str, default: bool = False, environ=os.environ) -> bool:
    raw = environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, got {raw!r}")
