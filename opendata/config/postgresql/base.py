"""Django's PostgreSQL backend (the settings' ENGINE for every PostgreSQL URL, see
opendata/config/database.py), with two changes: a fast timestamptz loader, and the psycopg pool's
`check` (with DATABASE_POOL=true).

The loader: Django loads `timestamptz` with a subclass of psycopg's pure-Python loader (to set the
time zone it wants), so psycopg's C loader is never used; with 1,200 timestamps on a page of 100
observations that was 14 % of a request (issue 13). `FastTimestamptzLoader` reads the text PostgreSQL
sends in the ISO `DateStyle` with a UTC session (what Django configures with USE_TZ) with
`datetime.fromisoformat` (C), and leaves every other form (another offset, infinity, BC dates, another
DateStyle) to Django's loader, so the values are exactly Django's (tests/opendata/config/test_database.py).

Django builds the pool itself and passes `check=ConnectionPool.check_connection` (or none), so a
pool option cannot name another check; this subclass builds the pool the same way with
`sweeping_check`. After the database restarts, every idle connection of the pool is dead; psycopg_pool
discards a connection that fails its check and tries the next one after a backoff (1 s, then 2 s...),
so a pool holding several dead connections would outlast the short wait a request is given (the
connect timeout) and answer 503 although the database is back. On the first failed check the whole
pool is tested (`ConnectionPool.check()` replaces every dead idle connection), which leaves one
backoff at most.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.core.exceptions import ImproperlyConfigured
from django.db.backends.postgresql import base
from django.db.backends.postgresql.psycopg_any import BaseTzLoader
from psycopg.types.datetime import TimestamptzLoader
from django.db.backends.base.base import NO_DB_ALIAS

logger = logging.getLogger(__name__)


def sweeping_check(pools: dict, alias: str):
    from psycopg_pool import ConnectionPool

    def check(conn) -> None:
        try:
            ConnectionPool.check_connection(conn)
        except Exception:
            pool = pools.get(alias)
            if pool is not None and not pool.closed:
                try:
                    pool.check()
                except Exception:  # down again: the pool's getconn loop deals with it
                    logger.debug("sweeping the pool failed", exc_info=True)
            raise

    return check


class FastTimestamptzLoader(BaseTzLoader):
    """Django's timestamptz loader (`timezone` set by subclasses, as Django's `register_tzloader`
    does), reading the common UTC form with `datetime.fromisoformat`."""

    def __init__(self, oid, context=None):
        super().__init__(oid, context)
        # psycopg's own loader parses ISO text only, and returns times in the session's time zone.
        session_utc = self._timezone is dt.UTC or getattr(self._timezone, "key", None) in ("UTC", "Etc/UTC")
        self._fast = session_utc and self._load_method is TimestamptzLoader._load_iso

    def load(self, data):
        if self._fast:
            text = bytes(data).decode()
            if text.endswith("+00"):
                try:
                    return dt.datetime.fromisoformat(text).replace(tzinfo=self.timezone)
                except ValueError:  # not the plain form (BC, infinity...): psycopg's parser says what it is
                    pass
        return super().load(data)


def fast_tz_context(context, tz):
    """A copy of Django's adapters map for a connection, loading timestamptz with the fast loader."""
    from psycopg import adapt

    ctx = adapt.AdaptersMap(context)
    ctx.register_loader("timestamptz", type("FastTzLoader", (FastTimestamptzLoader,), {"timezone": tz}))
    return ctx


class DatabaseWrapper(base.DatabaseWrapper):
    def get_connection_params(self):
        params = super().get_connection_params()
        if "context" in params:  # psycopg 3; Django's create_cursor keeps it while the time zone is the same
            params["context"] = fast_tz_context(params["context"], self.timezone)
        return params

    @property
    def pool(self):
        options = self.settings_dict["OPTIONS"].get("pool")
        if options and self.alias != NO_DB_ALIAS and self.alias not in self._connection_pools:
            if self.settings_dict.get("CONN_MAX_AGE", 0) != 0:
                raise ImproperlyConfigured("Pooling doesn't support persistent connections.")
            from psycopg_pool import ConnectionPool

            connect_kwargs = self.get_connection_params()
            connect_kwargs["autocommit"] = True  # as Django's: it sets the mode later on
            pool = ConnectionPool(kwargs=connect_kwargs, open=False, configure=self._configure_connection,
                                  check=sweeping_check(self._connection_pools, self.alias),
                                  **({} if options is True else options))
            self._connection_pools.setdefault(self.alias, pool)
        return super().pool
