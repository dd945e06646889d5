"""API keys over HTTP: reading stays open, a key that is sent must be good (401 otherwise, never
anonymous), writing needs a key with the write scope for the resource (401 / 403), and no key ever
reaches a log line or an error body.

The write endpoints come later; `write_probe.py` is a tiny one guarded like them."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from django.utils import timezone
from rest_framework.test import APIRequestFactory

from opendata.base.api.auth import ANONYMOUS, Actor, InsufficientScope, KeyRequired, ReadAnonymousWriteWithKey
from opendata.keys.models import ApiKey
from tests import api_helpers as h
from tests.opendata.base.api.write_probe import BOOM, PROBE

pytestmark = pytest.mark.urls("tests.opendata.base.api.write_probe")
GRAPHQL_QUERY = {"query": "{ topics(first: 1) { nodes { code } } }"}


def issue(name="ingest", **fields) -> tuple[ApiKey, str]:
    return ApiKey.objects.create_key(name=name, **fields)


def bearer(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def server(live_server, transactional_db):
    return live_server.url


def test_anonymous_reads_but_never_writes(server):
    status, _, body = h.http("GET", server + PROBE)
    assert status == 200 and body == {"actor": "anonymous"}
    for method in ("POST", "DELETE"):
        status, headers, body = h.http(method, server + PROBE, body={"text": "x"} if method == "POST" else None)
        assert status == 401 and headers["Content-Type"] == h.PROBLEM
        assert headers["WWW-Authenticate"] == 'Bearer realm="api"'
        assert body["type"].endswith("/api-key-required") and "write scope" in body["how_to_fix"]


@pytest.mark.parametrize("authorization", [
    "Bearer not-a-key", "Bearer ", "Bearer AbCdEfGh.0123456789abcdef0123456789abcdef", "bearer x.y", "Api-Key nope",
])
def test_a_bad_key_is_a_401_on_rest_and_graphql_never_anonymous_reading(server, authorization):
    for method, url, body in (("GET", server + "/api/v1/topics/", None), ("POST", server + "/graphql/", GRAPHQL_QUERY)):
        status, headers, data = h.http(method, url, headers={"Authorization": authorization}, body=body)
        assert status == 401, (url, data)
        assert headers["WWW-Authenticate"] == 'Bearer realm="api", error="invalid_token"'
        assert headers["RateLimit"].startswith('"anonymous";')  # counted against the address
        if url.endswith("/graphql/"):
            assert data["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED" and "data" not in data
        else:
            assert headers["Content-Type"] == h.PROBLEM and data["type"].endswith("/invalid-api-key")
        secret = authorization.partition(" ")[2].strip()
        assert not secret or secret not in str(data)


def test_a_key_with_the_right_prefix_and_a_wrong_secret_is_refused(server):
    key, _ = issue()
    status, _, data = h.http("GET", server + PROBE, headers=bearer(f"{key.prefix}.{'x' * 32}"))
    assert status == 401 and "no key issued by this API matches" in data["detail"]
    assert key.name not in data["detail"]  # nothing is said of a key to who does not hold it


def test_revoked_and_expired_keys_are_refused(server):
    revoked, revoked_secret = issue("old-ingest", scope="write")
    ApiKey.objects.filter(pk=revoked.pk).update(revoked=True)
    _, expired_secret = issue("temp", scope="write", expiry_date=timezone.now() - dt.timedelta(minutes=1))
    _, later_secret = issue("later", expiry_date=timezone.now() + dt.timedelta(days=1))
    for secret, word in ((revoked_secret, "revoked"), (expired_secret, "expired")):
        for method in ("GET", "POST"):
            status, headers, data = h.http(method, server + PROBE, headers=bearer(secret), body={} if method == "POST" else None)
            assert status == 401 and word in data["detail"], data
            assert 'error="invalid_token"' in headers["WWW-Authenticate"]
    assert h.http("GET", server + PROBE, headers=bearer(later_secret))[0] == 200


def test_a_read_key_reads_as_itself_and_may_not_write(server):
    key, secret = issue("dashboard", scope="read")
    status, headers, data = h.http("GET", server + PROBE, headers=bearer(secret))
    assert status == 200 and data == {"actor": f"key {key.prefix} (dashboard)"}
    assert headers["RateLimit-Policy"].startswith('"standard";')
    status, headers, data = h.http("POST", server + PROBE, headers=bearer(secret), body={"text": "x"})
    assert status == 403 and data["type"].endswith("/insufficient-scope") and "may only read" in data["detail"]
    assert headers["WWW-Authenticate"] == 'Bearer realm="api", error="insufficient_scope", scope="write"'


def test_a_write_key_writes_where_it_is_scoped(server):
    anywhere, anywhere_secret = issue("loader", scope="write")
    status, _, data = h.http("POST", server + PROBE, headers=bearer(anywhere_secret), body={"text": "x"})
    assert status == 201 and data["actor"] == f"key {anywhere.prefix} (loader)" == data["user"] == data["auth"]
    _, elsewhere_secret = issue("observer", scope="write", resources="observations")
    status, _, data = h.http("POST", server + PROBE, headers=bearer(elsewhere_secret), body={})
    assert status == 403 and "may change observations only, not notes" in data["detail"]
    _, here_secret = issue("notes-bot", scope="write", resources="observations, notes")
    assert h.http("DELETE", server + PROBE, headers=bearer(here_secret))[0] == 204


def test_the_librarys_own_header_works_too(server):
    key, secret = issue()
    status, _, data = h.http("GET", server + PROBE, headers={"Authorization": f"Api-Key {secret}"})
    assert status == 200 and data["actor"] == f"key {key.prefix} (ingest)"


def test_other_authorization_schemes_are_left_alone(server):
    status, _, data = h.http("GET", server + PROBE, headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert status == 200 and data == {"actor": "anonymous"}


def test_keys_never_reach_logs_or_error_bodies(server, caplog, settings):
    """Requests with keys that succeed, are refused and fail, the last one also with DEBUG's error page:
    no log record (message, arguments, traceback) and no body holds a key."""
    caplog.set_level(logging.DEBUG)
    _, read_secret = issue("reader")
    revoked, revoked_secret = issue("gone")
    ApiKey.objects.filter(pk=revoked.pk).update(revoked=True)
    bodies = [
        h.http("GET", server + "/api/v1/topics/", headers=bearer(read_secret)),
        h.http("POST", server + "/graphql/", headers=bearer(read_secret), body=GRAPHQL_QUERY),
        h.http("POST", server + PROBE, headers=bearer(read_secret), body={}),
        h.http("GET", server + PROBE, headers=bearer(revoked_secret)),
        h.http("GET", server + BOOM, headers=bearer(read_secret)),
    ]
    assert [b[0] for b in bodies] == [200, 200, 403, 401, 500]
    settings.DEBUG = True  # the technical 500 page lists the request's headers: Django masks Authorization
    bodies.append(h.http("GET", server + BOOM, headers=bearer(read_secret)))
    assert bodies[-1][0] == 500 and "HTTP_AUTHORIZATION" in str(bodies[-1][2])
    logged = "\n".join(f"{r.getMessage()} {r.args!r} {r.exc_text or ''} {getattr(r, 'request', '')!r}"
                       for r in caplog.records)
    assert "Internal Server Error" in logged  # the failure was logged, with its traceback
    for secret in (read_secret, revoked_secret):
        assert secret not in logged
        assert secret.partition(".")[2] not in logged
        for status, headers, body in bodies:
            assert secret.partition(".")[2] not in str(body) and secret not in str(dict(headers))


# -- the permission class alone (APIRequestFactory, no key lookups) -------------------------------------
class View:
    resource_name = "observations"


@pytest.mark.parametrize("method, actor, outcome", [
    ("GET", None, True),
    ("HEAD", Actor("r", "AAAAAAAA", scope="read"), True),
    ("POST", None, KeyRequired),
    ("PUT", Actor("r", "AAAAAAAA", scope="read"), InsufficientScope),
    ("PATCH", Actor("w", "BBBBBBBB", scope="write"), True),
    ("DELETE", Actor("w", "CCCCCCCC", scope="write", resources=frozenset({"projects"})), InsufficientScope),
    ("POST", Actor("w", "DDDDDDDD", scope="write", resources=frozenset({"projects", "observations"})), True),
])
def test_read_anonymous_write_with_key(method, actor, outcome):
    request = getattr(APIRequestFactory(), method.lower())("/api/v1/observations/")
    request._api_key_actor = actor  # what authenticate_key found
    permission = ReadAnonymousWriteWithKey()
    if outcome is True:
        assert permission.has_permission(request, View())
    else:
        with pytest.raises(outcome):
            permission.has_permission(request, View())


def test_a_resource_scoped_key_may_not_write_where_the_view_names_no_resource():
    request = APIRequestFactory().post("/api/v1/anything/")
    request._api_key_actor = Actor("w", "EEEEEEEE", scope="write", resources=frozenset({"notes"}))
    with pytest.raises(InsufficientScope, match="not this endpoint"):
        ReadAnonymousWriteWithKey().has_permission(request, object())


def test_actors_name_the_key_never_its_secret():
    actor = Actor("ingest", "AbCd1234", scope="write", tier="bulk")
    assert str(actor) == "key AbCd1234 (ingest)" and actor.is_authenticated
    assert str(ANONYMOUS) == "anonymous" and ANONYMOUS.is_anonymous and not ANONYMOUS.may_write("notes")
