"""Django's cache from the environment: Redis with `REDIS_URL` (failing open), else in-process memory.

The cache only saves work (the rate limit's counters, cached computations): when Redis is down or does
not answer, a request is served without it rather than failing. `FailOpenRedisCache` is Django's
RedisCache with short socket timeouts (`REDIS_SOCKET_TIMEOUT`, default 0.5 s) whose operations, on a
Redis error, answer as an empty cache would (a miss, nothing stored); the error is logged once per
interval, and for `RETRY_INTERVAL` seconds after an error Redis is not asked at all by the process,
so that an unreachable Redis costs a request nothing, not a timeout per call. `ping()` (the readiness check) asks
Redis whatever the state.

(django-redis' IGNORE_EXCEPTIONS does the first part, but logs a traceback per ignored call and keeps
asking an unreachable server on every call: this is the same in a few lines over Django's own backend.)
"""

from __future__ import annotations

import functools
import logging
import os
import threading
import time

from django.core.cache.backends.redis import RedisCache

from opendata.base.observability import EveryInterval

logger = logging.getLogger(__name__)


def cache_settings(redis_url: str, *, environ=os.environ) -> dict:
    if not redis_url:
        return {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "TIMEOUT": 300}}
    timeout = float(environ.get("REDIS_SOCKET_TIMEOUT", "") or 0.5)
    return {
        "default": {
            "BACKEND": "opendata.config.cache.FailOpenRedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": "opendata",
            "TIMEOUT": 300,
            # passed to redis-py's connection pool
            "OPTIONS": {"socket_connect_timeout": timeout, "socket_timeout": timeout},
        }
    }


def _fail_open(fallback):
    """The operation, or `fallback(*args, **kwargs)` when Redis fails or failed a moment ago."""

    def decorate(method):
        @functools.wraps(method)
        def wrapper(self, *args, **kwargs):
            if self._down_until.get(self._location, 0.0) > time.monotonic():
                return fallback(*args, **kwargs)
            try:
                return method(self, *args, **kwargs)
            except self._errors as exc:
                self._failed(exc)
                return fallback(*args, **kwargs)

        return wrapper

    return decorate


class FailOpenRedisCache(RedisCache):
    RETRY_INTERVAL = 5.0
    _log = EveryInterval(30)
    # Per process, not per instance: Django makes a cache instance per thread, and one thread's timeout
    # spares the others theirs.
    _down_until: dict[str, float] = {}
    _state_lock = threading.Lock()

    def __init__(self, server, params):
        super().__init__(server, params)
        import redis

        self._errors = (redis.RedisError, OSError)
        self._location = ",".join(self._servers)

    def _failed(self, exc: BaseException) -> None:
        with self._state_lock:
            self._down_until[self._location] = time.monotonic() + self.RETRY_INTERVAL
        self._log.log(logger, logging.WARNING, "redis", "cache unavailable, serving without it: %s: %s",
                      type(exc).__name__, exc)

    def ping(self) -> bool:
        """Ask Redis (whatever the recent failures); raises when it does not answer."""
        ok = self._cache.get_client(write=True).ping()
        with self._state_lock:
            self._down_until.pop(self._location, None)
        return bool(ok)

    @_fail_open(lambda *a, **k: False)
    def add(self, *args, **kwargs):
        return super().add(*args, **kwargs)

    @_fail_open(lambda key, default=None, version=None: default)
    def get(self, key, default=None, version=None):
        return super().get(key, default, version)

    @_fail_open(lambda *a, **k: None)
    def set(self, *args, **kwargs):
        return super().set(*args, **kwargs)

    @_fail_open(lambda *a, **k: False)
    def touch(self, *args, **kwargs):
        return super().touch(*args, **kwargs)

    @_fail_open(lambda *a, **k: False)
    def delete(self, *args, **kwargs):
        return super().delete(*args, **kwargs)

    @_fail_open(lambda *a, **k: {})
    def get_many(self, *args, **kwargs):
        return super().get_many(*args, **kwargs)

    @_fail_open(lambda *a, **k: False)
    def has_key(self, *args, **kwargs):
        return super().has_key(*args, **kwargs)

    def incr(self, key, delta=1, version=None):
        try:
            return self._incr(key, delta, version)
        except _Unavailable:
            raise ValueError(f"Key '{key}' not found (the cache is unavailable).") from None

    @_fail_open(lambda *a, **k: _raise_unavailable())
    def _incr(self, key, delta, version):
        return super().incr(key, delta, version)

    @_fail_open(lambda data, *a, **k: list(data))
    def set_many(self, data, *args, **kwargs):
        return super().set_many(data, *args, **kwargs)

    @_fail_open(lambda *a, **k: None)
    def delete_many(self, *args, **kwargs):
        return super().delete_many(*args, **kwargs)

    @_fail_open(lambda *a, **k: False)
    def clear(self):
        return super().clear()


class _Unavailable(Exception):
    pass


def _raise_unavailable():
    raise _Unavailable
