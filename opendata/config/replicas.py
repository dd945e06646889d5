"""Reads on PostgreSQL streaming replicas, writes on the primary (`DATABASE_REPLICA_URLS`).

`DATABASE_REPLICA_URLS=postgres://…:5433/db,postgres://…:5434/db` adds one database alias per replica
(`replica_0`, `replica_1`…, with the primary's timeouts and connection settings). Unset, there is one
database and nothing here changes anything: every query goes to `default`, as before.

**Who decides.** `ReplicaMiddleware` picks, once per request, the database its reads go to, and the
router (`PrimaryReplicaRouter`, settings.DATABASE_ROUTERS) sends every ORM read of that request there;
outside a request (management commands, the loader, the shell, tests) reads stay on the primary.
A request reads from a replica only when all of these hold:

- its method is safe (GET, HEAD, OPTIONS), or it is a GraphQL POST of a query (a mutation reads back,
  after its write's transaction, the records it wrote: on the primary; and every read inside a
  transaction on the primary stays on the primary: the router's first rule);
- it is not for the admin (`/admin/`: a curator's form reads what it just saved);
- a replica is healthy: it answered its last check (at most `REPLICA_CHECK_INTERVAL` seconds ago) and
  was not behind by more than `REPLICA_MAX_LAG` seconds. A replica that fails a check, or a query, is
  left out for `REPLICA_RETRY` seconds. With no healthy replica, reads go to the primary;
- the client has not written a moment ago, unless the replica has replayed its write (read-your-writes,
  below).

Some tables are always read on the primary, whatever the request: the change feed (`Change`: its
horizon is the primary's oldest running transaction, opendata/base/selectors.py, and a syncing client
that writes must see its own entries in order; the feed's page is an index range scan, cheap on the
primary), the idempotency answers (read inside the write's transaction anyway), the API keys (a key
issued a second ago works at once, a revoked key stops at once), sessions, users and login attempts
(the admin).

**Read-your-writes, by API key and LSN.** Only a request with an API key may write, so the writer is
known: after a successful write (an unsafe method, or a GraphQL mutation, answered 2xx with a key), the
primary's WAL position (`pg_current_wal_lsn()`, after the commit) is stored in Redis under the key's
prefix for `READ_YOUR_WRITES_WINDOW` seconds (the highest one, if writes race). A later request with
that key reads from a replica only if that replica's last check saw it replayed at or past that
position (`pg_last_wal_replay_lsn()`), else from the primary. Why not a cookie or a fixed pinning
window: API clients (scripts, internal systems) do not keep cookies, a key follows the client across
processes, connections and load balancers, and the LSN says exactly when a replica has the write
instead of guessing a delay. Redis unreachable: a keyed request reads from the primary (correct, only
slower). Without Redis (no REDIS_URL) the positions are kept in the process, which holds only for one
process: a deployment with replicas has Redis.

**A replica fails during a request.** When a read on a replica answers 503 (a database error), the
replica is checked at once: if it does not answer, it is left out for `REPLICA_RETRY` seconds and the
request is run once more on the primary, so stopping a replica costs no request; if it answers, the
503 came from the primary (the change feed while the primary is down) and stands, and the replica
stays in use. A streamed export that fails after its first bytes cannot be replayed.

**Lag.** A replica's lag is 0 when it has replayed everything it received, else the age of the last
transaction it replayed (`now() - pg_last_xact_replay_timestamp()`): an idle primary does not make a
caught-up replica look late. (After a restart the receiver reports the start of the segment it streams
from, below what was replayed from local WAL: that is caught up too, not late.)
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import os
import threading
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.utils import DatabaseError

from opendata.base.observability import EveryInterval

logger = logging.getLogger(__name__)
_log = EveryInterval(30)

REPLICA_PREFIX = "replica_"
#: Read on the primary always (app_label.model_name, or app_label alone).
PRIMARY_ONLY = {"opendata_base.change", "opendata_base.idempotentrequest", "keys", "sessions", "auth", "axes", "admin",
                "contenttypes"}
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}

_read_alias: contextvars.ContextVar[str | None] = contextvars.ContextVar("read_alias", default=None)


def replica_urls(environ=os.environ) -> list[str]:
    return [u.strip() for u in environ.get("DATABASE_REPLICA_URLS", "").split(",") if u.strip()]


def replica_databases(primary: dict, urls: list[str], *, environ=os.environ) -> dict[str, dict]:
    """DATABASES entries of the replicas: the primary's settings for another server. In tests each
    mirrors the primary (one test database, read and written in one transaction)."""
    from opendata.config.database import database_settings

    out = {}
    for index, url in enumerate(urls):
        db = database_settings(url, environ=environ)
        if db["ENGINE"] not in ("django.db.backends.postgresql", "opendata.config.postgresql"):
            from django.core.exceptions import ImproperlyConfigured

            raise ImproperlyConfigured(f"DATABASE_REPLICA_URLS: replicas are PostgreSQL streaming replicas, got {url!r}")
        db["TEST"] = {"MIRROR": DEFAULT_DB_ALIAS}
        out[f"{REPLICA_PREFIX}{index}"] = db
    return out


def replica_aliases() -> list[str]:
    return [alias for alias in settings.DATABASES if alias.startswith(REPLICA_PREFIX)]


# -- the router --------------------------------------------------------------------------------------

def primary_only(model) -> bool:
    meta = model._meta
    return meta.app_label in PRIMARY_ONLY or f"{meta.app_label}.{meta.model_name}" in PRIMARY_ONLY


class PrimaryReplicaRouter:
    """Writes, migrations and transactions on the primary; a request's reads where its middleware said."""

    def db_for_read(self, model, **hints):
        alias = _read_alias.get()
        if alias is None or primary_only(model) or connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return DEFAULT_DB_ALIAS
        return alias

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True  # one database, seen from several servers

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS  # a replica replays the primary's schema


def read_alias() -> str:
    """Where this request's reads go (the primary outside a request)."""
    return _read_alias.get() or DEFAULT_DB_ALIAS


# -- health of the replicas (per process) --------------------------------------------------------------

@dataclass
class ReplicaState:
    healthy: bool = False
    lag: float | None = None
    replayed: int = 0  # pg_last_wal_replay_lsn() as bytes
    checked: float = 0.0  # monotonic
    down_until: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)


CHECK_SQL = """
SELECT pg_is_in_recovery(),
       (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint,
       CASE WHEN pg_last_wal_receive_lsn() IS NULL OR pg_last_wal_receive_lsn() <= pg_last_wal_replay_lsn() THEN 0
            ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0) END
"""


class Replicas:
    def __init__(self):
        self.states: dict[str, ReplicaState] = {}
        self._next = 0

    def state(self, alias: str) -> ReplicaState:
        if alias not in self.states:
            self.states.setdefault(alias, ReplicaState())
        return self.states[alias]

    def mark_down(self, alias: str, reason: str) -> None:
        state = self.state(alias)
        state.healthy = False
        state.down_until = time.monotonic() + settings.REPLICA_RETRY
        _log.log(logger, logging.WARNING, f"replica-{alias}", "replica %s left out for %s s: %s", alias,
                 settings.REPLICA_RETRY, reason)

    def check(self, alias: str, *, wait: bool = False) -> None:
        """Ask the replica (one thread at a time; the others read the last answer, or with `wait` ask
        again once it is their turn)."""
        state = self.state(alias)
        if not state.lock.acquire(blocking=wait, timeout=10 if wait else -1):
            return
        try:
            state.checked = time.monotonic()
            try:
                with connections[alias].cursor() as cursor:
                    cursor.execute(CHECK_SQL)
                    in_recovery, replayed, lag = cursor.fetchone()
            except DatabaseError as exc:
                self.mark_down(alias, f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc) else ''}")
                with contextlib.suppress(Exception):
                    connections[alias].close()
                return
            state.lag = float(lag or 0)
            state.replayed = int(replayed or 0)
            if not in_recovery:
                self.mark_down(alias, "not a replica (pg_is_in_recovery() is false)")
            elif state.lag > settings.REPLICA_MAX_LAG:
                self.mark_down(alias, f"{state.lag:.1f} s behind, more than REPLICA_MAX_LAG")
            else:
                state.healthy = True
        finally:
            state.lock.release()

    def usable(self, alias: str, now: float) -> bool:
        state = self.state(alias)
        if state.down_until > now:
            return False
        if now - state.checked >= settings.REPLICA_CHECK_INTERVAL or not state.checked:
            self.check(alias)
        return state.healthy and state.down_until <= now

    def choose(self, *, at_least: int = 0) -> str:
        """A healthy replica that has replayed `at_least` (round robin), else the primary."""
        aliases = replica_aliases()
        now = time.monotonic()
        for step in range(len(aliases)):
            alias = aliases[(self._next + step) % len(aliases)]
            if self.usable(alias, now) and self.state(alias).replayed >= at_least:
                self._next = (self._next + step + 1) % len(aliases)
                return alias
        return DEFAULT_DB_ALIAS


REPLICAS = Replicas()


# -- read-your-writes: the last write's position per API key -----------------------------------------

RYW_PREFIX = "opendata:ryw:"
# KEYS[1]: the key's entry; ARGV: position, seconds. Keeps the highest position, renews the window.
KEEP_HIGHEST = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local new = tonumber(ARGV[1])
if new > current then current = new end
redis.call('SET', KEYS[1], string.format('%d', current), 'EX', tonumber(ARGV[2]))
return current
"""


class WritePositions:
    """The WAL position each API key's last write needs, in Redis (in the process without REDIS_URL)."""

    def __init__(self):
        self._memory: dict[str, tuple[int, float]] = {}
        self._clients: dict[str, object] = {}
        self._lock = threading.Lock()

    def _redis(self):
        url = getattr(settings, "REDIS_URL", "")
        if not url:
            return None
        with self._lock:
            if url not in self._clients:
                import redis
                from redis.backoff import NoBackoff
                from redis.retry import Retry

                timeout = settings.RATE_LIMIT_REDIS_TIMEOUT
                client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout,
                                              retry=Retry(NoBackoff(), 0))
                self._clients[url] = (client, client.register_script(KEEP_HIGHEST))
            return self._clients[url]

    def record(self, who: str, position: int) -> None:
        window = settings.READ_YOUR_WRITES_WINDOW
        found = self._redis()
        if found is None:
            with self._lock:
                old = self._memory.get(who, (0, 0.0))[0]
                self._memory[who] = (max(old, position), time.monotonic() + window)
            return
        _client, script = found
        try:
            script(keys=[RYW_PREFIX + who], args=[position, max(1, round(window))])
        except Exception as exc:  # noqa: BLE001 - Redis down: the next reads of this key go to the primary
            _log.log(logger, logging.WARNING, "ryw-redis", "read-your-writes: Redis unavailable (%s)", exc)

    def needed(self, who: str) -> int | None:
        """The position a read by `who` needs (0: none); None: unknown (Redis down): read the primary."""
        found = self._redis()
        if found is None:
            with self._lock:
                position, until = self._memory.get(who, (0, 0.0))
            return position if until > time.monotonic() else 0
        client, _script = found
        try:
            raw = client.get(RYW_PREFIX + who)
        except Exception as exc:  # noqa: BLE001
            _log.log(logger, logging.WARNING, "ryw-redis", "read-your-writes: Redis unavailable (%s)", exc)
            return None
        return int(raw) if raw else 0


POSITIONS = WritePositions()


def current_position() -> int:
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint")
        return int(cursor.fetchone()[0])


# -- the middleware ----------------------------------------------------------------------------------

def _is_graphql_post(request) -> bool:
    return request.method == "POST" and request.path.startswith("/graphql")


def _is_mutation(request) -> bool:
    """A GraphQL POST whose operation is a mutation (or that cannot be read: counted as one, to be safe)."""
    import json

    from graphql import OperationType, parse

    try:
        body = json.loads(request.body or b"{}") if request.content_type == "application/json" else request.POST
        document = parse(body.get("query") or "")
    except Exception:  # noqa: BLE001 - not ours to judge here; the view answered it
        return True
    name = body.get("operationName")
    for definition in document.definitions:
        operation = getattr(definition, "operation", None)
        if operation is not None and (not name or getattr(definition.name, "value", None) == name):
            return operation == OperationType.MUTATION
    return True


def _writer(request) -> str | None:
    """The API key's prefix of a request that sends one (authenticated by RateLimitMiddleware before)."""
    from opendata.base.api.auth import authenticate_key

    try:
        actor = authenticate_key(request)
    except Exception:  # noqa: BLE001 - a bad key is answered elsewhere (401)
        return None
    return getattr(actor, "prefix", None) if actor is not None else None


class ReplicaMiddleware:
    """Chooses the database of a request's reads (see the module docstring); after the RateLimitMiddleware
    (which knows the API key), before every view."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.enabled = bool(replica_aliases())

    def __call__(self, request):
        if not self.enabled:
            return self.get_response(request)
        alias = request.read_database = self.choose(request)
        token = _read_alias.set(alias)
        try:
            response = self.get_response(request)
            if (alias != DEFAULT_DB_ALIAS and response.status_code == 503 and not response.streaming
                    and (request.method in SAFE_METHODS or _is_graphql_post(request))):
                # The replica, or the primary (what is always read there: the feed, keys)? Ask the replica
                # now: if it does not answer it is left out, and the request is read again on the primary.
                # If it answers, the 503 stands, and the replica stays in use for everyone else.
                REPLICAS.check(alias, wait=True)
                if not REPLICAS.state(alias).healthy:
                    _read_alias.set(DEFAULT_DB_ALIAS)
                    request.read_database = DEFAULT_DB_ALIAS
                    response = self.get_response(request)
        finally:
            _read_alias.reset(token)
        self.remember_write(request, response)
        return response

    def choose(self, request) -> str:
        if request.path.startswith("/admin"):
            return DEFAULT_DB_ALIAS
        if request.method not in SAFE_METHODS and not _is_graphql_post(request):
            return DEFAULT_DB_ALIAS
        if _is_graphql_post(request) and _is_mutation(request):
            return DEFAULT_DB_ALIAS  # a mutation reads back what it wrote, after its transaction
        who = _writer(request)
        at_least = 0
        if who is not None:
            needed = POSITIONS.needed(who)
            if needed is None:
                return DEFAULT_DB_ALIAS
            at_least = needed
        return REPLICAS.choose(at_least=at_least)

    def remember_write(self, request, response) -> None:
        if request.method in SAFE_METHODS or not 200 <= response.status_code < 300:
            return
        if _is_graphql_post(request) and not _is_mutation(request):
            return  # a query sent by POST wrote nothing
        who = _writer(request)
        if who is None:
            return
        try:
            POSITIONS.record(who, current_position())
        except DatabaseError:
            pass  # the primary went away after the write: a read will find it down too
