"""Idempotency-Key on REST writes (opendata/base/api/idempotency.py): a retry gets the first answer
and writes nothing; the same key for another request is a 422; answers live in the database for
24 hours, per client; concurrent retries write once."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection
from django.utils import timezone

from opendata.base.models import Change, IdempotentRequest
from opendata.catalogue.models import Topic
from tests.write_api import BY_COLLECTION, call, issue, problem
from tests.write_helpers import new_changes

pytestmark = pytest.mark.django_db
TOPICS = BY_COLLECTION["topics"]


@pytest.fixture
def key(world):
    return issue("ingest")[1]


def test_a_retry_gets_the_first_answer_and_writes_nothing(client, key):
    with new_changes() as changes:
        first = call(client, "POST", TOPICS.url(), TOPICS.create, key=key, **{"Idempotency-Key": "create-transport"})
        again = call(client, "POST", TOPICS.url(), TOPICS.create, key=key, **{"Idempotency-Key": "create-transport"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["ETag"] == first["ETag"] and again["Location"] == first["Location"]
    assert again["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first
    assert again["Cache-Control"] == "no-store"
    assert [c.operation for c in changes] == ["create"] and Topic.objects.filter(code="transport").count() == 1
    row = IdempotentRequest.objects.get()
    assert (row.key, row.method, row.path, row.status) == ("create-transport", "POST", "/api/v1/topics/", 201)
    assert row.expires_at - row.created_at == dt.timedelta(hours=24)
    # the key in its structured-field form is the same key; key order in the body does not matter
    reordered = dict(reversed(list(TOPICS.create.items())))
    assert call(client, "POST", TOPICS.url(), reordered, key=key,
                **{"Idempotency-Key": '"create-transport"'})["Idempotent-Replayed"] == "true"


def test_the_same_key_for_another_request_is_a_422(client, key):
    call(client, "POST", TOPICS.url(), TOPICS.create, key=key, **{"Idempotency-Key": "k1"})
    other = {**TOPICS.create, "name_en": "Transportation"}
    reused = problem(call(client, "POST", TOPICS.url(), other, key=key, **{"Idempotency-Key": "k1"}), 422)
    assert reused["type"].endswith("/idempotency-key-reused") and "POST /api/v1/topics/" in reused["detail"]
    elsewhere = problem(call(client, "PATCH", TOPICS.url("transport"), {"name_en": "T"}, key=key,
                             **{"Idempotency-Key": "k1", "If-Match": "*"}), 422)
    assert elsewhere["type"].endswith("/idempotency-key-reused")
    assert Topic.objects.get(code="transport").name_en == "Transport"


def test_keys_are_each_clients_own(client, key):
    _, other_key = issue("other-system")
    first = call(client, "POST", TOPICS.url(), TOPICS.create, key=key, **{"Idempotency-Key": "shared"})
    second = call(client, "POST", TOPICS.url(), TOPICS.create, key=other_key, **{"Idempotency-Key": "shared"})
    assert first.status_code == 201
    assert problem(second, 409)["type"].endswith("/record-exists")  # judged on its own: not the other's answer


def test_a_refused_write_is_not_remembered(client, key):
    bad = call(client, "POST", TOPICS.url(), {"code": "transport"}, key=key, **{"Idempotency-Key": "try"})
    assert problem(bad, 422) and not IdempotentRequest.objects.exists()
    fixed = call(client, "POST", TOPICS.url(), {"code": "transport"} | TOPICS.create, key=key,
                 **{"Idempotency-Key": "try"})
    assert fixed.status_code == 201 and IdempotentRequest.objects.count() == 1


def test_every_write_takes_a_key(client, key):
    made = call(client, "POST", TOPICS.url(), TOPICS.create, key=key)
    url = TOPICS.url("transport")
    for method, target, body, headers in [
        ("PATCH", url, {"name_en": "Roads"}, {"If-Match": made["ETag"]}),
        ("PUT", url, TOPICS.replace, {"If-Match": "*"}),
        ("DELETE", url, None, {"If-Match": "*"}),
        ("POST", url + "restore/", None, {"If-Match": "*"}),
    ]:
        with new_changes() as changes:
            first = call(client, method, target, body, key=key, **headers, **{"Idempotency-Key": f"{method}-{target}"})
            again = call(client, method, target, body, key=key, **headers, **{"Idempotency-Key": f"{method}-{target}"})
        assert first.status_code == again.status_code == 200, (method, first.content)
        assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
        assert len(changes) == 1, method


def test_an_expired_key_is_free_again(client, key):
    call(client, "POST", TOPICS.url(), TOPICS.create, key=key, **{"Idempotency-Key": "old"})
    IdempotentRequest.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    again = call(client, "POST", TOPICS.url(), TOPICS.create, key=key, **{"Idempotency-Key": "old"})
    assert problem(again, 409)  # judged again: the topic exists now
    assert not IdempotentRequest.objects.exists()  # the expired answer was purged, the refusal not stored


@pytest.mark.parametrize("raw", ["", " ", "x" * 256, "with\ttab", "日本"])
def test_a_malformed_key_is_a_400(client, key, raw):
    response = call(client, "POST", TOPICS.url(), TOPICS.create, key=key, **{"Idempotency-Key": raw})
    assert problem(response, 400)["type"].endswith("/invalid-idempotency-key")
    assert not Topic.objects.filter(code="transport").exists()


def test_a_key_committed_by_another_process_is_replayed(client, key):
    """What a concurrent retry sees once the first commits: the row exists, its insert fails, it replays."""
    first = call(client, "POST", TOPICS.url(), TOPICS.create, key=key, **{"Idempotency-Key": "k"})
    row = IdempotentRequest.objects.get()
    row.body = {**row.body, "name_en": "as answered the first time"}
    row.save()
    again = call(client, "POST", TOPICS.url(), TOPICS.create, key=key, **{"Idempotency-Key": "k"})
    assert again.json()["name_en"] == "as answered the first time" and first.json()["name_en"] == "Transport"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_write_once(key, monkeypatch):
    """Two requests with the same key at once, each on its own database connection: the second waits
    for the first's transaction (the unique key), then replays its answer. PostgreSQL only: the test
    database of SQLite is in memory, shared by threads that would lock each other out."""
    import dataclasses
    import time

    from django.test import Client

    from opendata.catalogue.api.v1.views import TopicViewSet

    original = TopicViewSet.writes

    def slow_create(**kwargs):
        time.sleep(0.5)  # both requests are in flight while the first writes
        return original.create(**kwargs)

    monkeypatch.setattr(TopicViewSet, "writes", dataclasses.replace(original, create=slow_create))
    answers = []

    def send():
        try:
            answers.append(call(Client(), "POST", TOPICS.url(), TOPICS.create, key=key,
                                **{"Idempotency-Key": "at-once"}))
        finally:
            connection.close()

    with new_changes() as changes:
        threads = [threading.Thread(target=send) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    assert sorted(a.status_code for a in answers) == [201, 201]
    assert answers[0].json() == answers[1].json()
    assert sorted(a.has_header("Idempotent-Replayed") for a in answers) == [False, True]
    assert [c.operation for c in changes] == ["create"] and Change.objects.filter(key="transport").count() == 1
