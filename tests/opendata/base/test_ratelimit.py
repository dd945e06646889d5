"""One quota per client for REST and GraphQL (opendata.base.ratelimit), over HTTP: 429 with
Retry-After, the RateLimit headers on every answer, GraphQL charged by cost, the client address
(X-Forwarded-For only behind trusted proxies), keys with their own tier, Redis shared and Redis down."""

from __future__ import annotations

import logging
import threading
import time

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory

from opendata.base import ratelimit
from opendata.base.ratelimit import LIMITER, MemoryCounters, bucket_address, parse_rate, query_units
from opendata.keys.models import ApiKey
from tests import api_helpers as h

REST = "/api/v1/topics/"
CHEAP = {"query": "{ topics(first: 5) { nodes { code } } }"}  # 5 records at most: 1 unit
# 100 observations and up to 50 citations under each: 100 + 100 * 50 = 5100 records, 51 units
COSTLY = {"query": "{ observations(first: 100) { nodes { citations(first: 50) { nodes { quote } } } } }"}


def limits(settings, **rates):
    settings.API_RATE_LIMITS = {**settings.API_RATE_LIMITS, **rates}


def remaining(headers) -> int:
    return int(headers["RateLimit"].split(";r=")[1].split(";")[0])


@pytest.fixture
def server(live_server, transactional_db):
    return live_server.url


# -- rules ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("raw, parsed", [
    ("10000/hour", (10000, 3600)), ("5/minute", (5, 60)), ("1/s", (1, 1)), ("7/day", (7, 86400)),
    ("100 / 15min", (100, 900)), ("3/hours", (3, 3600)),
])
def test_rates(raw, parsed):
    assert parse_rate(raw) == parsed


@pytest.mark.parametrize("raw", ["", "10000", "0/hour", "ten/hour", "5/fortnight", "5/0min"])
def test_bad_rates_are_refused(raw):
    with pytest.raises(ImproperlyConfigured):
        parse_rate(raw)


def test_a_bad_rate_stops_the_server_when_it_starts(settings):
    settings.API_RATE_LIMITS = {"anonymous": "lots", "standard": "1/s"}
    with pytest.raises(ImproperlyConfigured, match="API_RATE_LIMITS\\['anonymous'\\]"):
        ratelimit.RateLimitMiddleware(lambda request: None)


@pytest.mark.parametrize("requested, units", [(0, 1), (1, 1), (100, 1), (101, 2), (5100, 51), (10000, 100)])
def test_a_graphql_query_costs_a_unit_per_hundred_records(requested, units):
    assert query_units(requested) == units


@pytest.mark.parametrize("trusted, forwarded, remote, client", [
    (0, "203.0.113.7", "10.0.0.2", "10.0.0.2"),  # no trusted proxy: the header is the client's word
    (1, "203.0.113.7", "10.0.0.2", "203.0.113.7"),
    (1, "198.51.100.1, 203.0.113.7", "10.0.0.2", "203.0.113.7"),  # what the client wrote itself is ignored
    (2, "198.51.100.1, 203.0.113.7, 10.0.0.9", "10.0.0.2", "203.0.113.7"),
    (2, "203.0.113.7", "10.0.0.2", "10.0.0.2"),  # fewer addresses than proxies: not ours
    (1, "not-an-address", "10.0.0.2", "10.0.0.2"),
    (0, "", "2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),  # an IPv6 subscriber by its /64
])
def test_bucket_address(settings, trusted, forwarded, remote, client):
    settings.TRUSTED_PROXY_COUNT = trusted
    request = RequestFactory().get(REST, REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert bucket_address(request) == client


def test_memory_counters_refuse_without_counting_and_start_a_new_window(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(ratelimit.time, "monotonic", lambda: now[0])
    counters = MemoryCounters()
    assert counters.charge("a", 2, 3, 60) == (True, 2, 60)
    assert counters.charge("a", 2, 3, 60)[:2] == (False, 2)  # refused: not counted
    now[0] += 30
    assert counters.charge("a", 1, 3, 60) == (True, 3, 30)
    assert counters.charge("b", 1, 3, 60)[:2] == (True, 1)  # another client
    now[0] += 31
    assert counters.charge("a", 3, 3, 60) == (True, 3, 60)


# -- over HTTP -----------------------------------------------------------------------------------------
def test_429_with_retry_after_and_the_headers(server, settings):
    limits(settings, anonymous="3/minute")
    seen = [h.http("GET", server + REST) for _ in range(3)]
    assert [s for s, _, _ in seen] == [200, 200, 200]
    assert [remaining(headers) for _, headers, _ in seen] == [2, 1, 0]
    assert all(headers["RateLimit-Policy"] == '"anonymous";q=3;w=60' for _, headers, _ in seen)
    status, headers, body = h.http("GET", server + REST, headers={"Origin": "https://app.example"})
    assert status == 429 and headers["Content-Type"] == h.PROBLEM and body["type"].endswith("/rate-limited")
    reset = int(headers["RateLimit"].split(";t=")[1])
    assert 0 < int(headers["Retry-After"]) == reset <= 60 and remaining(headers) == 0
    assert "Retry-After" in body["how_to_fix"] and "anonymous quota is 3 units per 60 s" in body["detail"]
    exposed = {e.strip() for e in headers["Access-Control-Expose-Headers"].split(",")}
    assert {"Retry-After", "RateLimit", "RateLimit-Policy", "WWW-Authenticate"} <= exposed


def test_ratelimit_headers_on_every_answer(server):
    answers = [
        h.http("GET", server + REST),
        h.http("GET", server + "/api/v1/nowhere/"),
        h.http("GET", server + "/api/v2/topics/"),
        h.http("GET", server + "/api/v1/topics/?bogus=1"),
        h.http("GET", server + "/api/v1/topics/", headers={"Accept": "image/png"}),
        h.http("PUT", server + "/api/v1/topics/", body={}),
        h.http("POST", server + "/graphql/", body=CHEAP),
        h.http("POST", server + "/graphql/", body={"query": "{ nope }"}),
        h.http("GET", server + "/graphql/?query=" + "%7B%20topics%20%7B%20totalCount%20%7D%20%7D"),
        h.http("PUT", server + "/graphql/", body=CHEAP),
        h.http("GET", server + REST, headers={"Authorization": "Bearer wrong"}),
    ]
    assert [s for s, _, _ in answers] == [200, 404, 404, 400, 406, 405, 200, 400, 200, 405, 401]
    assert [remaining(headers) for _, headers, _ in answers] == list(range(9999, 9999 - len(answers), -1))
    for _, headers, _ in answers:
        assert headers["RateLimit-Policy"] == '"anonymous";q=10000;w=3600'
    assert "RateLimit" not in h.http("GET", server + "/admin/login/")[1]  # only the API is counted


def test_rest_and_graphql_share_one_quota(server, settings):
    limits(settings, anonymous="4/minute")
    statuses = [h.http("GET", server + REST)[0], h.http("POST", server + "/graphql/", body=CHEAP)[0],
                h.http("GET", server + REST)[0], h.http("POST", server + "/graphql/", body=CHEAP)[0]]
    assert statuses == [200] * 4
    status, headers, body = h.http("POST", server + "/graphql/", body=CHEAP)
    assert status == 429 and 0 < int(headers["Retry-After"]) <= 60
    assert body["errors"][0]["extensions"]["code"] == "RATE_LIMITED" and "data" not in body
    assert h.http("GET", server + REST)[0] == 429


def test_a_costly_graphql_query_spends_more_and_over_the_quota_does_not_run(server, settings):
    limits(settings, anonymous="60/hour")
    status, headers, body = h.http("POST", server + "/graphql/", body=CHEAP)
    assert status == 200 and remaining(headers) == 59
    status, headers, body = h.http("POST", server + "/graphql/", body=COSTLY)
    assert status == 200 and body["extensions"]["cost"]["requested"] == 5100 + 2 * 100  # and its 2 SQL queries
    assert remaining(headers) == 59 - 51
    # 8 units left: the arrival takes 1, the remaining 50 are refused, nothing else is counted
    status, headers, body = h.http("POST", server + "/graphql/", body=COSTLY)
    assert status == 429 and "data" not in body and remaining(headers) == 7
    error = body["errors"][0]
    assert error["extensions"]["code"] == "RATE_LIMITED" and error["extensions"]["cost"] == 51
    assert "costs 51 units" in error["message"] and int(headers["Retry-After"]) == error["extensions"]["retryAfter"]
    assert h.http("POST", server + "/graphql/", body=CHEAP)[0] == 200


def test_a_refused_query_runs_no_sql(client, settings, django_assert_num_queries, db):
    limits(settings, anonymous="10/hour")
    with django_assert_num_queries(0):
        response = client.post("/graphql/", COSTLY, content_type="application/json")
    assert response.status_code == 429 and response.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"


def test_x_forwarded_for_chooses_no_bucket_unless_behind_trusted_proxies(server, settings):
    limits(settings, anonymous="2/minute")
    settings.TRUSTED_PROXY_COUNT = 0
    statuses = [h.http("GET", server + REST, headers={"X-Forwarded-For": f"203.0.113.{i}"})[0] for i in range(3)]
    assert statuses == [200, 200, 429]  # a fresh address each time: still one client
    LIMITER.reset()
    settings.TRUSTED_PROXY_COUNT = 1
    a = {"X-Forwarded-For": "203.0.113.10"}
    b = {"X-Forwarded-For": "198.51.100.1, 203.0.113.20"}  # the proxy appended the last one
    assert [h.http("GET", server + REST, headers=a)[0] for _ in range(3)] == [200, 200, 429]
    assert [h.http("GET", server + REST, headers=b)[0] for _ in range(2)] == [200, 200]
    assert h.http("GET", server + REST, headers={"X-Forwarded-For": "198.51.100.2, 203.0.113.20"})[0] == 429


def test_a_key_counts_against_itself_at_its_tier(server, settings):
    limits(settings, anonymous="1/minute", standard="3/minute", bulk="1000/minute")
    assert [h.http("GET", server + REST)[0] for _ in range(2)] == [200, 429]
    _, standard = ApiKey.objects.create_key(name="standard", tier="standard")
    _, bulk = ApiKey.objects.create_key(name="bulk", tier="bulk")
    status, headers, _ = h.http("GET", server + REST, headers={"Authorization": f"Bearer {standard}"})
    assert status == 200 and headers["RateLimit"] == '"standard";r=2;t=60'
    status, headers, _ = h.http("POST", server + "/graphql/", headers={"Authorization": f"Bearer {bulk}"}, body=CHEAP)
    assert status == 200 and headers["RateLimit-Policy"] == '"bulk";q=1000;w=60' and remaining(headers) == 999


def test_a_key_whose_tier_left_the_settings_counts_at_the_default_tier(server, settings):
    _, secret = ApiKey.objects.create_key(name="legacy", tier="gold")
    headers = h.http("GET", server + REST, headers={"Authorization": f"Bearer {secret}"})[1]
    assert headers["RateLimit-Policy"].startswith('"standard";')


def test_exempt_paths_are_not_counted(client, settings, db):
    settings.RATE_LIMIT_EXEMPT_PATHS = ["/api/v1/schema/"]
    assert "RateLimit" not in client.get("/api/v1/schema/")
    assert "RateLimit" in client.get(REST)


def test_redis_unreachable_lets_requests_through_quickly_with_one_warning(server, settings, caplog):
    settings.REDIS_URL = "redis://:s3cret@127.0.0.1:1/0"  # a closed port
    caplog.set_level(logging.WARNING, logger="opendata.base.ratelimit")
    for method, url, body in (("GET", REST, None), ("POST", "/graphql/", CHEAP), ("GET", REST, None)):
        started = time.monotonic()
        status, headers, _ = h.http(method, server + url, body=body)
        assert status == 200 and time.monotonic() - started < 1
        assert headers["RateLimit-Policy"] == '"anonymous";q=10000;w=3600'  # counted in the process meanwhile
    warnings = [r.getMessage() for r in caplog.records if r.name == "opendata.base.ratelimit"]
    assert len(warnings) == 1 and "127.0.0.1:1/0 does not answer" in warnings[0]
    assert "s3cret" not in warnings[0]


@pytest.mark.skipif(not __import__("os").environ.get("REDIS_URL"), reason="REDIS_URL is not set")
def test_redis_counts_atomically_under_concurrency(settings):
    """16 threads charging one bucket of 50 at once: exactly 50 charges pass (one Lua script each)."""
    counters = LIMITER.counters()
    assert isinstance(counters, ratelimit.RedisCounters)
    results, start = [], threading.Barrier(16)

    def hammer():
        start.wait()
        for _ in range(10):
            results.append(counters.charge("test:concurrency", 1, 50, 60)[0])

    threads = [threading.Thread(target=hammer) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(results) == 160 and results.count(True) == 50
