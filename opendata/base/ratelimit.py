"""One request quota per client for the whole API: REST and GraphQL spend the same budget.

**Who.** A request with an API key counts against its key (`key:<prefix>`) at the key's tier; one
without counts against its address (`addr:<ip>`, an IPv6 address by its /64) at the `anonymous`
tier. The address is the connection's, or, behind `TRUSTED_PROXY_COUNT` proxies of our own, the one
the outermost of them saw (`X-Forwarded-For`, read from the right); a client cannot choose it.

**How much.** `settings.API_RATE_LIMITS` gives each tier a number of units per window
(`"10000/hour"`). Every request to /api/ or /graphql/ costs 1 unit when it arrives
(`RateLimitMiddleware`). A GraphQL query costs `max(1, ceil(records / 100))` units, where
`records` is the most records it may return (`QueryCost.records`, opendata/base/graphql/limits.py;
the SQL queries a shape needs are bounded by the cost limit there, not charged again here): the
units beyond the first are charged once the query is validated, before it runs (`charge_query`), and
over the quota it does not run. A window starts with a client's first request and lasts the tier's
window; a refused charge is not counted.

**Where.** With `REDIS_URL`, counters live in Redis, shared by every server process: one Lua script
checks and adds in one step (no read-modify-write race) and the window expires with the key. Without
it, they live in the process. Redis unreachable (0.2 s to connect or answer): one warning line, the
request is counted in the process instead, and Redis is tried again after `RATE_LIMIT_REDIS_RETRY`
seconds; an outage never fails a request.

**Headers** (draft-ietf-httpapi-ratelimit-headers-10, structured fields), on every answer of a
counted path: `RateLimit-Policy: "<tier>";q=<units>;w=<window seconds>` and
`RateLimit: "<tier>";r=<units left>;t=<seconds until the window resets>`; a 429 adds `Retry-After`.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import math
import re
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import JsonResponse
from graphql import GraphQLError

from opendata.base.observability import client_address
from opendata.base.api.auth import InvalidKey, authenticate_key
from opendata.base.api.errors import problem_response

logger = logging.getLogger(__name__)

GRAPHQL_RECORDS_PER_UNIT = 100
REDIS_KEY_PREFIX = "opendata:ratelimit:"
MEMORY_BUCKETS_BEFORE_PRUNING = 50_000
PERIODS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600,
           "d": 86400, "day": 86400}
RATE = re.compile(r"^(\d+)/(\d*)([a-z]+?)s?$")


# -- policies ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Policy:
    name: str
    quota: int  # units per window
    window: int  # seconds

    @property
    def header(self) -> str:
        return f'"{self.name}";q={self.quota};w={self.window}'


@functools.lru_cache(maxsize=64)
def parse_rate(raw: str) -> tuple[int, int]:
    """`"10000/hour"` -> (10000, 3600); also `/second`, `/minute`, `/day`, `/s`, `/m`, `/h`, `/d`, `/15min`."""
    match = RATE.match(re.sub(r"\s+", "", str(raw)).lower())
    if not match or match.group(3) not in PERIODS or int(match.group(1)) < 1 or int(match.group(2) or 1) < 1:
        raise ImproperlyConfigured(f"A rate limit is a number of requests per period, like 10000/hour or "
                                   f"100/minute, got {raw!r}")
    return int(match.group(1)), int(match.group(2) or 1) * PERIODS[match.group(3)]


def policy(tier: str) -> Policy:
    """The tier's policy; a key whose tier left the settings counts at API_KEY_DEFAULT_TIER."""
    rates = settings.API_RATE_LIMITS
    if tier not in rates:
        tier = settings.API_KEY_DEFAULT_TIER
    quota, window = parse_rate(rates[tier])
    return Policy(tier, quota, window)


def check_settings() -> None:
    rates = settings.API_RATE_LIMITS
    for tier in ("anonymous", settings.API_KEY_DEFAULT_TIER):
        if tier not in rates:
            raise ImproperlyConfigured(f"API_RATE_LIMITS has no {tier!r} tier")
    for tier, rate in rates.items():
        try:
            parse_rate(rate)
        except ImproperlyConfigured as exc:
            raise ImproperlyConfigured(f"API_RATE_LIMITS[{tier!r}]: {exc}") from None


# -- clients -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Client:
    bucket: str  # key:<prefix> or addr:<address>
    policy: Policy


def bucket_address(request) -> str:
    """The address an anonymous client is counted by: its address (observability.client_address, the
    one home of trusted proxies), an IPv6 address by its whole /64 (one subscriber's)."""
    address = client_address(request)
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address or "unknown"
    if ip.version == 6 and not ip.ipv4_mapped:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip.ipv4_mapped or ip) if ip.version == 6 else str(ip)


def client_of(request, actor) -> Client:
    if actor is not None and actor.is_authenticated:
        return Client(f"key:{actor.prefix}", policy(actor.tier))
    return Client(f"addr:{bucket_address(request)}", policy("anonymous"))


# -- counters ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Decision:
    policy: Policy
    allowed: bool
    remaining: int  # units left in the window
    reset: int  # seconds until the window resets

    def headers(self) -> dict[str, str]:
        headers = {"RateLimit-Policy": self.policy.header,
                   "RateLimit": f'"{self.policy.name}";r={self.remaining};t={self.reset}'}
        if not self.allowed:
            headers["Retry-After"] = str(self.reset)
        return headers


class MemoryCounters:
    """Counters of this process (no REDIS_URL, or Redis unreachable)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[int, float]] = {}  # key -> (units used, monotonic end of window)

    def charge(self, key: str, cost: int, quota: int, window: int) -> tuple[bool, int, float]:
        now = time.monotonic()
        with self._lock:
            used, ends = self._buckets.get(key, (0, 0.0))
            if ends <= now:
                used, ends = 0, now + window
            allowed = used + cost <= quota
            if allowed:
                used += cost
                self._buckets[key] = (used, ends)
                if len(self._buckets) > MEMORY_BUCKETS_BEFORE_PRUNING:
                    self._buckets = {k: v for k, v in self._buckets.items() if v[1] > now}
            return allowed, used, ends - now

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()


# KEYS[1]: the bucket; ARGV: cost, quota, window in ms. Returns {allowed (0/1), units used, ms to reset}.
# A missing key (or one without expiry) starts a window; a refused charge writes nothing.
CHARGE_SCRIPT = """
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
local ttl = redis.call('PTTL', KEYS[1])
local fresh = ttl < 0
if fresh then
  used = 0
  ttl = tonumber(ARGV[3])
end
local cost, quota = tonumber(ARGV[1]), tonumber(ARGV[2])
if used + cost > quota then
  return {0, used, ttl}
end
if fresh then
  redis.call('SET', KEYS[1], cost, 'PX', ttl)
else
  redis.call('INCRBY', KEYS[1], cost)
end
return {1, used + cost, ttl}
"""


def redis_location(url: str) -> str:
    """host:port/db of a Redis URL, for logs: never its password."""
    parts = urlsplit(url)
    return f"{parts.hostname or parts.path}:{parts.port or 6379}{parts.path if parts.hostname else ''}"


class RedisCounters:
    """Counters in Redis, shared by every process; in-process while Redis does not answer."""

    def __init__(self, url: str, fallback: MemoryCounters):
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        self.errors = (redis.RedisError, OSError)
        timeout = settings.RATE_LIMIT_REDIS_TIMEOUT
        self.client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout,
                                           retry=Retry(NoBackoff(), 0))
        self.script = self.client.register_script(CHARGE_SCRIPT)
        self.fallback = fallback
        self.location = redis_location(url)
        self.down_until = 0.0  # monotonic time before which Redis is not tried; 0.0 while it answers

    def charge(self, key: str, cost: int, quota: int, window: int) -> tuple[bool, int, float]:
        if self.down_until and time.monotonic() < self.down_until:
            return self.fallback.charge(key, cost, quota, window)
        try:
            allowed, used, ttl_ms = self.script(keys=[REDIS_KEY_PREFIX + key], args=[cost, quota, window * 1000])
        except self.errors as error:
            retry = settings.RATE_LIMIT_REDIS_RETRY
            if not self.down_until:
                logger.warning("Rate limits: Redis at %s does not answer (%s); counting in this process, trying "
                               "Redis again every %s s.", self.location, type(error).__name__, retry)
            self.down_until = time.monotonic() + retry
            return self.fallback.charge(key, cost, quota, window)
        if self.down_until:
            logger.warning("Rate limits: Redis at %s answers again; counting there.", self.location)
            self.down_until = 0.0
        return bool(allowed), int(used), int(ttl_ms) / 1000

    def reset(self) -> None:
        try:
            keys = list(self.client.scan_iter(match=REDIS_KEY_PREFIX + "*", count=1000))
            if keys:
                self.client.delete(*keys)
        except self.errors:
            pass


class Limiter:
    def __init__(self):
        self.memory = MemoryCounters()
        self._redis: dict[str, RedisCounters] = {}
        self._lock = threading.Lock()

    def counters(self) -> MemoryCounters | RedisCounters:
        url = getattr(settings, "REDIS_URL", "")
        if not url:
            return self.memory
        with self._lock:
            if url not in self._redis:
                self._redis[url] = RedisCounters(url, self.memory)
            return self._redis[url]

    def charge(self, client: Client, cost: int) -> Decision:
        p = client.policy
        allowed, used, seconds = self.counters().charge(client.bucket, cost, p.quota, p.window)
        reset = math.ceil(seconds)
        return Decision(policy=p, allowed=allowed, remaining=max(0, p.quota - used),
                        reset=reset if allowed else max(1, reset))

    def reset(self) -> None:
        """Forget every count (tests)."""
        self.memory.reset()
        counters = self.counters()
        if counters is not self.memory:
            counters.reset()


LIMITER = Limiter()


# -- the request path ----------------------------------------------------------------------------------
@functools.lru_cache(maxsize=8)
def _compiled(pattern: str) -> re.Pattern:
    return re.compile(pattern)


def is_counted(path: str) -> bool:
    return (bool(_compiled(settings.RATE_LIMIT_PATHS).match(path))
            and not any(path.startswith(prefix) for prefix in settings.RATE_LIMIT_EXEMPT_PATHS))


def _is_graphql(request) -> bool:
    return request.path.startswith("/graphql")


def _graphql_error(status: int, message: str, code: str, **extensions) -> JsonResponse:
    return JsonResponse({"errors": [{"message": message, "extensions": {"code": code, **extensions}}]},
                        status=status)


def too_many_requests(request, decision: Decision):
    wait = decision.reset
    detail = (f"Too many requests: the {decision.policy.name} quota is {decision.policy.quota} units per "
              f"{decision.policy.window} s; retry in {wait} seconds.")
    if _is_graphql(request):
        return _graphql_error(429, detail, "RATE_LIMITED", retryAfter=wait)
    return problem_response(request, status_code=429, type_name="rate-limited", detail=detail)


def unauthorized(request, exc: InvalidKey):
    if _is_graphql(request):
        response = _graphql_error(401, str(exc.detail), "UNAUTHENTICATED")
    else:
        response = problem_response(request, status_code=401, type_name=exc.problem_type, title=exc.title,
                                    detail=str(exc.detail), how_to_fix=exc.how_to_fix)
    response["WWW-Authenticate"] = exc.www_authenticate
    return response


class RateLimitMiddleware:
    """For /api/ and /graphql/ (settings.RATE_LIMIT_PATHS, less RATE_LIMIT_EXEMPT_PATHS): checks the
    API key (401 for a bad one), charges the request 1 unit of its client's quota (429 over it) and
    writes the RateLimit headers on every answer. `request.rate_limit` is the latest Decision;
    `charge_query` (GraphQL) may charge more and replace it."""

    def __init__(self, get_response):
        self.get_response = get_response
        check_settings()  # a bad rate stops the server when it starts, not at its first request

    def __call__(self, request):
        if not is_counted(request.path):
            return self.get_response(request)
        try:
            actor, rejected = authenticate_key(request), None
        except InvalidKey as exc:  # counted against the address: guessing keys costs quota too
            actor, rejected = None, exc
        request.rate_limit_client = client_of(request, actor)
        request.rate_limit = decision = LIMITER.charge(request.rate_limit_client, 1)
        if not decision.allowed:
            response = too_many_requests(request, decision)
        elif rejected is not None:
            response = unauthorized(request, rejected)
        else:
            response = self.get_response(request)
            decision = request.rate_limit
            if not decision.allowed:  # a GraphQL query over the quota: refused before it ran
                response.status_code = 429
        for name, value in decision.headers().items():
            response[name] = value
        return response


def query_units(requested: int) -> int:
    """What a GraphQL query costs: one unit per 100 records it may return, at least one."""
    return max(1, math.ceil(requested / GRAPHQL_RECORDS_PER_UNIT))


def charge_query(request, cost) -> None:
    """Charge a validated GraphQL query the units of its cost beyond the 1 its request paid on arrival.
    Over the quota, raises a RATE_LIMITED GraphQLError (nothing is counted, the query does not run);
    the middleware answers it with 429 and Retry-After."""
    client = getattr(request, "rate_limit_client", None)
    if client is None or cost is None:
        return
    units = query_units(cost.records)
    if units <= 1:
        return
    decision = LIMITER.charge(client, units - 1)
    request.rate_limit = decision
    if not decision.allowed:
        raise GraphQLError(
            f"This query may return {cost.records} records and costs {units} units of your quota (1 per "
            f"{GRAPHQL_RECORDS_PER_UNIT} records); only {decision.remaining + 1} were left, counting the unit this "
            f"request paid on arrival. Ask for fewer records (`first`/`last`), or retry in {decision.reset} seconds.",
            extensions={"code": "RATE_LIMITED", "retryAfter": decision.reset, "cost": units})
