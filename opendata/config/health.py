"""Health checks for a process manager or a load balancer: plain JSON, no rate limit, no cache headers.

- `/healthz`: the process answers (liveness). Touches neither the database nor the cache, so a
  database outage never gets a healthy process restarted.
- `/readyz`: the database and the cache answer, each within a short timeout (readiness): 200, or 503
  with `Retry-After` and the reason of each failed check (the error's class; the details go to the log).
  With read replicas, the primary or one replica is enough (reads go on without the primary).
"""

from __future__ import annotations

import logging
import time

from django.core.cache import cache
from django.db import connection, connections
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from opendata.base.api.errors import DATABASE_RETRY_AFTER

logger = logging.getLogger(__name__)

#: A check's statement may take this long (PostgreSQL), on top of the connect timeout.
CHECK_STATEMENT_TIMEOUT_MS = 1000


@never_cache
@require_safe
def healthz(request):
    return JsonResponse({"status": "ok"})


def check_database() -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            cursor.execute(f"SET statement_timeout = {CHECK_STATEMENT_TIMEOUT_MS}")
            try:
                cursor.execute("SELECT 1")
            finally:
                cursor.execute("RESET statement_timeout")  # the connection's own (DATABASE_STATEMENT_TIMEOUT)
        else:
            cursor.execute("SELECT 1")


def check_cache() -> None:
    ping = getattr(cache, "ping", None)
    if ping is not None:  # FailOpenRedisCache: ask Redis itself, not the fail-open layer
        ping()
    else:
        cache.get("readyz")


def check_replica(alias: str):
    def check() -> None:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")

    return check


@never_cache
@require_safe
def readyz(request):
    """With replicas (DATABASE_REPLICA_URLS), each is checked too, and the process is ready while the
    primary or one replica answers: without the primary it still serves reads (writes answer 503), and
    taking every process out of the load balancer would serve nothing at all."""
    checks = {}
    replicas = [alias for alias in connections if alias != "default"]
    for name, check in (("database", check_database), ("cache", check_cache),
                        *((alias, check_replica(alias)) for alias in replicas)):
        started = time.perf_counter()
        try:
            check()
        except Exception as exc:  # any failure of a dependency makes the process not ready
            checks[name] = {"ok": False, "error": type(exc).__name__,
                            "ms": round((time.perf_counter() - started) * 1000, 1)}
            logger.warning("readiness: %s check failed: %s: %s", name, type(exc).__name__, exc)
        else:
            checks[name] = {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 1)}
    some_database = checks["database"]["ok"] or any(checks[alias]["ok"] for alias in replicas)
    ready = checks["cache"]["ok"] and some_database
    response = JsonResponse({"status": "ready" if ready else "unavailable", "checks": checks},
                            status=200 if ready else 503)
    if not ready:
        response["Retry-After"] = str(DATABASE_RETRY_AFTER)
    return response
