"""Django's PostgreSQL backend, with one change: the psycopg pool's `check` (the settings' ENGINE
with DATABASE_POOL=true, see opendata/config/database.py).

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

import logging

from django.core.exceptions import ImproperlyConfigured
from django.db.backends.postgresql import base
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


class DatabaseWrapper(base.DatabaseWrapper):
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
