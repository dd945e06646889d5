"""REST writes of every resource (opendata/base/api/writes.py): create, PUT (create or replace),
PATCH, DELETE and restore through the services, with a write key, ETags and If-Match, the change
log's actor, and the errors as problem+json."""

from __future__ import annotations

import pytest

from opendata.base.models import Change
from opendata.base.services import record_version
from tests import api_helpers as h
from tests.write_api import BY_COLLECTION, RESOURCES, Resource, call, issue, problem
from tests.write_helpers import new_changes

pytestmark = pytest.mark.django_db


@pytest.fixture
def key(world):
    return issue("ingest")[1]


@pytest.fixture
def actor(key):
    from opendata.keys.models import ApiKey

    return f"key {ApiKey.objects.get(name='ingest').prefix} (ingest)"


def ids(resource: Resource) -> str:
    return resource.collection


def created(client, resource: Resource, key: str):
    response = call(client, "POST", resource.url(), resource.create, key=key)
    assert response.status_code == 201, response.content[:800]
    return response


def key_of(resource: Resource, body: dict) -> str:
    return str(body[resource.key_field])


@pytest.mark.parametrize("resource", RESOURCES, ids=ids)
def test_create_patch_replace_delete_restore(client, key, actor, resource):
    with new_changes() as changes:
        response = created(client, resource, key)
    body = response.json()
    record = key_of(resource, body)
    url = resource.url(record)
    assert response["Location"] == "http://testserver" + url == body["url"]
    assert response["ETag"].startswith('"') and response["Cache-Control"] == "no-store"
    assert [(c.resource, c.operation, c.actor) for c in changes if c.resource == resource.resource] == \
           [(resource.resource, "create", actor)]
    assert {c.actor for c in changes} == {actor}  # citations written inline too
    # the record as GET shows it, whose ETag starts with the record's version
    got = h.get(client, url)
    assert got.status_code == 200 and got.json() == body
    assert got["ETag"].startswith(response["ETag"][:-1] + ".")

    # PATCH: the fields sent; If-Match required, and current
    assert problem(call(client, "PATCH", url, resource.patch, key=key), 428)["type"].endswith("/precondition-required")
    with new_changes() as changes:
        patched = call(client, "PATCH", url, resource.patch, key=key, **{"If-Match": got["ETag"]})
    assert patched.status_code == 200, patched.content
    assert all(patched.json()[k] == v for k, v in resource.patch.items())
    assert patched["ETag"] != response["ETag"] and patched["Cache-Control"] == "no-store"
    assert [(c.resource, c.key, c.operation, c.actor) for c in changes] == [(resource.resource, record, "update", actor)]
    stale = problem(call(client, "PATCH", url, resource.patch, key=key, **{"If-Match": response["ETag"]}), 412)
    assert stale["type"].endswith("/precondition-failed")

    # PUT over it: the whole record (the key from the URL)
    with new_changes() as changes:
        replaced = call(client, "PUT", url, resource.replace, key=key, **{"If-Match": patched["ETag"]})
    assert replaced.status_code == 200, replaced.content
    assert key_of(resource, replaced.json()) == record
    assert [c.operation for c in changes if c.resource == resource.resource] == ["update"]
    for name in resource.patch:  # what the replacement leaves out is back to its default
        if name not in resource.replace:
            assert replaced.json()[name] in ("", None)

    # DELETE: soft deletion, answered with the deleted record
    assert problem(call(client, "DELETE", url, key=key), 428)
    with new_changes() as changes:
        deleted = call(client, "DELETE", url, key=key, **{"If-Match": replaced["ETag"]})
    assert deleted.status_code == 200, deleted.content
    assert deleted.json()["deleted_at"] is not None and deleted["Cache-Control"] == "no-store"
    assert (resource.resource, record, "delete", actor) in [(c.resource, c.key, c.operation, c.actor) for c in changes]
    gone = problem(h.get(client, url), 410)
    assert gone["deleted_at"]
    assert h.get(client, url)["ETag"] == deleted["ETag"]  # the deleted record's version: for restoring it

    # restore
    assert problem(call(client, "POST", url + "restore/", key=key), 428)
    with new_changes() as changes:
        restored = call(client, "POST", url + "restore/", key=key, **{"If-Match": deleted["ETag"]})
    assert restored.status_code == 200, restored.content
    assert restored.json()["deleted_at"] is None
    assert (resource.resource, record, "restore", actor) in [(c.resource, c.key, c.operation, c.actor) for c in changes]
    assert h.get(client, url).status_code == 200


@pytest.mark.parametrize("resource", RESOURCES, ids=ids)
def test_put_creates_a_record_at_its_url(client, key, actor, resource):
    writer = resource_writer(resource)
    record = str(resource.create.get(resource.key_field) or writer.natural_key_of(resource.create, actor="test"))
    data = {k: v for k, v in resource.create.items() if k != resource.key_field}  # the URL gives the key
    url = resource.url(record)
    with new_changes() as changes:
        response = call(client, "PUT", url, data, key=key)
    assert response.status_code == 201, response.content
    assert response["Location"] == "http://testserver" + url and key_of(resource, response.json()) == record
    assert (resource.resource, record, "create", actor) in [(c.resource, c.key, c.operation, c.actor) for c in changes]
    # once it exists, a PUT needs its ETag; If-None-Match: * insists on creating
    assert problem(call(client, "PUT", url, data, key=key), 428)["detail"].startswith(f"The {resource_label(resource)}")
    refused = problem(call(client, "PUT", url, data, key=key, **{"If-None-Match": "*"}), 412)
    assert refused["type"].endswith("/precondition-failed") and "If-None-Match" in refused["detail"]
    same = call(client, "PUT", url, data, key=key, **{"If-Match": response["ETag"]})
    assert same.status_code == 200 and same["ETag"] == response["ETag"]  # nothing changed, no new version


def resource_writer(resource: Resource):
    from django.urls import resolve

    return resolve(resource.url()).func.cls.writer


def resource_label(resource: Resource) -> str:
    from django.urls import resolve

    return resolve(resource.url()).func.cls.label


# -- who may write ------------------------------------------------------------------------------------

def test_reads_stay_anonymous_and_writes_need_a_write_key_for_the_collection(client, world):
    topics = BY_COLLECTION["topics"]
    assert h.get(client, topics.url()).status_code == 200
    writes = [("POST", topics.url(), topics.create), ("PUT", topics.url("transport"), topics.create),
              ("PATCH", topics.url("agriculture"), topics.patch), ("DELETE", topics.url("agriculture"), None),
              ("POST", topics.url("agriculture") + "restore/", None),
              ("POST", "/api/v1/observations/bulk/", {"rows": []})]
    _, reader = issue("dashboard", scope="read")
    _, elsewhere = issue("observer", resources="observations")
    for method, url, body in writes:
        refused = problem(call(client, method, url, body), 401)
        assert refused["type"].endswith("/api-key-required")
        assert problem(call(client, method, url, body, key=reader), 403)["type"].endswith("/insufficient-scope")
    for method, url, body in writes[:-1]:
        denied = problem(call(client, method, url, body, key=elsewhere), 403)
        assert "may change observations only, not topics" in denied["detail"]
    assert not Change.objects.filter(actor__startswith="key ").exists()
    _, here = issue("catalogue-bot", resources="topics, regions")
    assert call(client, "POST", topics.url(), topics.create, key=here).status_code == 201
    _, statuses = issue("timeline-bot", resources="project_statuses")
    status = BY_COLLECTION["project-statuses"]
    assert call(client, "POST", status.url(), status.create, key=statuses).status_code == 201


def test_revoked_and_expired_keys_are_refused(client, world):
    import datetime as dt

    from django.utils import timezone

    from opendata.keys.models import ApiKey

    revoked, revoked_secret = issue("old")
    ApiKey.objects.filter(pk=revoked.pk).update(revoked=True)
    _, expired = issue("temp", expiry_date=timezone.now() - dt.timedelta(minutes=1))
    topics = BY_COLLECTION["topics"]
    for secret, word in ((revoked_secret, "revoked"), (expired, "expired")):
        refused = problem(call(client, "POST", topics.url(), topics.create, key=secret), 401)
        assert refused["type"].endswith("/invalid-api-key") and word in refused["detail"]
    assert not Change.objects.filter(key="transport").exists()


# -- refused writes -----------------------------------------------------------------------------------

def test_invalid_data_is_a_422_listing_every_field(client, key):
    topics, observations = BY_COLLECTION["topics"], BY_COLLECTION["observations"]
    with new_changes() as changes:
        data = problem(call(client, "POST", topics.url(), {"code": "Not A Code", "colour": "red",
                                                          "created_at": "2025-01-01T00:00:00Z"}, key=key), 422)
        wrong = problem(call(client, "POST", observations.url(), {**observations.create, "value": "260"}, key=key), 422)
        not_an_object = problem(call(client, "POST", topics.url(), ["transport"], key=key), 422)
    assert changes == []
    assert data["type"].endswith("/invalid-data") and data["title"] == "Invalid data"
    fields = {e["field"]: e["message"] for e in data["errors"]}
    assert set(fields) == {"code", "colour", "created_at", "name_zh", "name_en"}
    assert fields["created_at"] == "is read-only" and fields["name_zh"] == "is required"
    assert all(e["index"] is None for e in data["errors"]) and data["how_to_fix"]
    assert wrong["errors"] == [{"index": None, "field": "value",
                                "message": "260 does not appear in the quote '粮食产量达到259.9亿斤'"}]
    assert not_an_object["errors"][0]["message"].startswith("expected a mapping")


def test_malformed_bodies_and_parameters(client, key):
    topics = BY_COLLECTION["topics"]
    malformed = problem(call(client, "POST", topics.url(), raw=b'{"code": "x",', key=key), 400)
    assert malformed["type"].endswith("/malformed-body") and "not valid JSON" in malformed["detail"]
    form = problem(call(client, "POST", topics.url(), raw=b"code=x", content_type="application/x-www-form-urlencoded",
                        key=key), 415)
    assert form["type"].endswith("/unsupported-media-type") and "application/x-www-form-urlencoded" in form["detail"]
    untyped = call(client, "POST", topics.url(), raw=b'{"code": "x"}', content_type="", key=key)
    assert problem(untyped, 415)["how_to_fix"].startswith("Send the body as JSON")
    params = problem(call(client, "POST", topics.url() + "?dry_run=true", topics.create, key=key), 400)
    assert params["type"].endswith("/unknown-parameters")
    big = problem(call(client, "POST", topics.url(), {**topics.create, "description": "长" * 400_000}, key=key), 413)
    assert big["type"].endswith("/body-too-large")
    assert not Change.objects.filter(key__in=["x", "transport"]).exists()


def test_an_empty_body_and_an_if_none_match_other_than_star_are_400s(client, key):
    """Found by the contract fuzzing: a PUT without a body, with an If-Match naming no record, was a 412
    (an empty body is refused first now; a PATCH's may be empty), and `If-None-Match: "x"` (the contract takes only `*`) was ignored."""
    topics = BY_COLLECTION["topics"]
    for method, url in (("POST", topics.url()), ("PUT", topics.url("fuzz-empty")),
                        ("POST", "/api/v1/observations/bulk/")):
        empty = problem(call(client, method, url, raw=b"", key=key, **{"If-Match": '"4c1d2e3f5a6b7c8d9e0f"'}), 400)
        assert empty["type"].endswith("/malformed-body") and "empty" in empty["detail"], (method, url)
    # A PATCH's body is optional (the contract): none changes nothing.
    with new_changes() as changes:
        unchanged = call(client, "PATCH", topics.url("agriculture"), raw=b"", key=key, **{"If-Match": "*"})
    assert unchanged.status_code == 200 and unchanged.json()["code"] == "agriculture" and changes == []
    other = problem(call(client, "PUT", topics.url("fuzz-none-match"), {"name_zh": "测试", "name_en": "Fuzz"}, key=key,
                         **{"If-None-Match": '"abc"'}), 400)
    assert [p["name"] for p in other["invalid_params"]] == ["If-None-Match"]
    assert h.get(client, topics.url("fuzz-none-match")).status_code == 404


def test_a_nul_character_anywhere_in_a_body_is_a_422_naming_its_field(client, key):
    """Found by the contract fuzzing on PostgreSQL (which can neither store nor compare U+0000): a NUL in a
    reference or a text was a 500 there. Refused before any query, on every database, field by field."""
    r = problem(call(client, "PUT", "/api/v1/indicators/fuzz-nul/", {
        "name_zh": "测试\x00", "name_en": "Fuzz", "topic": "agri\x00culture", "unit": "亿斤"}, key=key), 422)
    assert {e["field"] for e in r["errors"]} == {"name_zh", "topic"}
    assert all("NUL" in e["message"] for e in r["errors"])
    rows = [{"indicator": "grain-output", "region": "changchun", "period_start": "2025-01-01",
             "period_end": "2025-12-31", "period_label": "2025", "kind": "actual", "value": "1",
             "citations": [{"source": "report-2025", "offset": 0, "quote": "\x00"}]}]
    bulk = problem(call(client, "POST", "/api/v1/observations/bulk/", {"rows": rows}, key=key), 422)
    assert [(e["index"], e["field"]) for e in bulk["errors"]] == [(0, "citations[0].quote")]
    assert problem(call(client, "POST", "/api/v1/topics/", {"code": "x\x00", "name_zh": "测", "name_en": "X"},
                        key=key), 422)["errors"][0]["field"] == "code"
    assert h.get(client, "/api/v1/indicators/fuzz-nul/").status_code == 404


def test_malformed_json_needs_no_key_to_be_refused_after_the_key_check(client, world):
    """The key is checked first: without one, a bad body is still a 401."""
    assert call(client, "POST", "/api/v1/topics/", raw=b"{").status_code == 401


def test_conflicts_not_found_and_gone(client, key):
    topics = BY_COLLECTION["topics"]
    exists = problem(call(client, "POST", topics.url(), {"code": "agriculture", "name_zh": "农业", "name_en": "A"},
                          key=key), 409)
    assert exists["type"].endswith("/record-exists") and exists["errors"][0]["field"] == "code"
    etag = h.get(client, topics.url("agriculture"))["ETag"]
    in_use = problem(call(client, "DELETE", topics.url("agriculture"), key=key, **{"If-Match": etag}), 409)
    assert in_use["type"].endswith("/record-in-use") and "grain-output" in in_use["errors"][0]["message"]
    for method in ("PATCH", "DELETE"):
        missing = problem(call(client, method, topics.url("nowhere"), {} if method == "PATCH" else None, key=key), 404)
        assert missing["detail"] == "No topic with code 'nowhere'."
    assert problem(call(client, "POST", topics.url("nowhere") + "restore/", key=key), 404)
    response = created(client, topics, key)
    deleted = call(client, "DELETE", topics.url("transport"), key=key, **{"If-Match": response["ETag"]})
    gone = call(client, "PATCH", topics.url("transport"), topics.patch, key=key, **{"If-Match": deleted["ETag"]})
    assert problem(gone, 410)["type"].endswith("/gone") and gone["ETag"] == deleted["ETag"]
    # deleting again changes nothing; a PUT with the deleted record's ETag brings it back, replaced
    again = call(client, "DELETE", topics.url("transport"), key=key, **{"If-Match": deleted["ETag"]})
    assert again.status_code == 200 and again["ETag"] == deleted["ETag"]
    with new_changes() as changes:
        revived = call(client, "PUT", topics.url("transport"), topics.replace, key=key,
                       **{"If-Match": deleted["ETag"]})
    assert revived.status_code == 200 and revived.json()["deleted_at"] is None
    assert [c.operation for c in changes] == ["restore"]


def test_put_key_in_the_body_must_be_the_urls(client, key):
    topics = BY_COLLECTION["topics"]
    data = problem(call(client, "PUT", topics.url("transport"), {**topics.create, "code": "roads"}, key=key), 422)
    assert data["errors"] == [{"index": None, "field": "code", "message": (
        "is transport in the URL, not roads: the URL names the record; leave code out of the body or send the same")}]
    observations = BY_COLLECTION["observations"]
    uid = "00000000-0000-0000-0000-000000000000"
    wrong = problem(call(client, "PUT", observations.url(uid), observations.create, key=key), 422)
    assert wrong["errors"][0]["field"] == "uid" and "derived from" in wrong["errors"][0]["message"]


def test_if_match_takes_either_etag_and_star_and_refuses_weak_or_missing_records(client, key):
    topics = BY_COLLECTION["topics"]
    url = topics.url("agriculture")
    read = h.get(client, url)["ETag"]
    first = call(client, "PATCH", url, {"name_en": "Farming"}, key=key, **{"If-Match": f'"nope", {read}'})
    assert first.status_code == 200
    second = call(client, "PATCH", url, {"name_en": "Agriculture"}, key=key, **{"If-Match": first["ETag"]})
    assert second.status_code == 200
    weak = problem(call(client, "PATCH", url, {"name_en": "X"}, key=key, **{"If-Match": "W/" + second["ETag"]}), 412)
    assert weak["detail"].endswith(f"its ETag is now {second['ETag']}.")
    stale = call(client, "PATCH", url, {"name_en": "X"}, key=key, **{"If-Match": first["ETag"]})
    assert problem(stale, 412) and stale["ETag"] == second["ETag"] == f'"{record_version(world_topic())}"'
    star = call(client, "PATCH", url, {"name_en": "Crops"}, key=key, **{"If-Match": "*"})
    assert star.status_code == 200
    missing = problem(call(client, "PUT", topics.url("transport"), topics.create, key=key, **{"If-Match": "*"}), 412)
    assert "No topic 'transport' exists" in missing["detail"]


def world_topic():
    from opendata.catalogue.models import Topic

    return Topic.objects.get(code="agriculture")


def test_get_etags_change_with_every_write(client, key):
    topics = BY_COLLECTION["topics"]
    urls = [topics.url(), topics.url("agriculture"), "/api/v1/indicators/grain-output/"]
    before = {url: h.get(client, url)["ETag"] for url in urls}
    etag = before[topics.url("agriculture")]
    assert call(client, "PATCH", topics.url("agriculture"), {"description": "Crops and livestock."}, key=key,
                **{"If-Match": etag}).status_code == 200
    for url in urls:
        assert h.get(client, url, **{"If-None-Match": before[url]}).status_code == 200, url
    after = h.get(client, topics.url("agriculture"))["ETag"]
    assert h.get(client, topics.url("agriculture"), **{"If-None-Match": after}).status_code == 304


def test_a_method_a_url_never_takes_is_405_before_any_key_check(client, world):
    response = call(client, "PUT", "/api/v1/topics/", {"code": "x"})
    assert problem(response, 405)["type"].endswith("/method-not-allowed")
    assert response["Allow"] == "GET, POST, HEAD, OPTIONS"
    assert "read-only" not in response.json()["how_to_fix"]
    assert call(client, "DELETE", "/api/v1/topics/agriculture/restore/").status_code == 405
    assert call(client, "POST", "/api/v1/indicators/grain-output/observations/", {}).status_code == 405


def test_a_project_with_its_timeline(client, key, actor):
    projects = BY_COLLECTION["projects"]
    response = created(client, projects, key)
    with new_changes() as changes:
        replaced = call(client, "PUT", projects.url("pocket-parks"), projects.replace, key=key,
                        **{"If-Match": response["ETag"]})
    assert replaced.status_code == 200, replaced.content
    timeline = replaced.json()["timeline"]
    assert [(s["status"], s["date_label"]) for s in timeline] == [("construction_started", "2025")]
    assert sorted(c.resource for c in changes) == ["project", "project_status"]
    bad = problem(call(client, "PATCH", projects.url("pocket-parks"), {"timeline": [{"status": "dreamt"}]}, key=key,
                       **{"If-Match": replaced["ETag"]}), 422)
    assert {e["field"] for e in bad["errors"]} >= {"timeline[0].status", "timeline[0].kind"}
    with new_changes() as changes:
        deleted = call(client, "DELETE", projects.url("pocket-parks"), key=key, **{"If-Match": replaced["ETag"]})
    assert deleted.status_code == 200
    assert sorted((c.resource, c.operation) for c in changes) == [("project", "delete"), ("project_status", "delete")]
    assert h.get(client, "/api/v1/project-statuses/" + timeline[0]["uid"] + "/").status_code == 410


@pytest.mark.django_db(transaction=True)
def test_every_write_is_in_the_change_feed_by_the_keys_name(client, world):
    from tests.write_helpers import settle

    row, secret = issue("feed-writer")
    settle()
    start = h.ok(client, "/api/v1/changes/?after=now")["next_cursor"]
    topics = BY_COLLECTION["topics"]
    made = call(client, "POST", topics.url(), topics.create, key=secret)
    patched = call(client, "PATCH", topics.url("transport"), topics.patch, key=secret, **{"If-Match": made["ETag"]})
    deleted = call(client, "DELETE", topics.url("transport"), key=secret, **{"If-Match": patched["ETag"]})
    call(client, "POST", topics.url("transport") + "restore/", key=secret, **{"If-Match": deleted["ETag"]})
    settle()
    feed = h.ok(client, f"/api/v1/changes/?after={start}")["results"]
    assert [(e["resource"], e["key"], e["operation"]) for e in feed] == [
        ("topic", "transport", op) for op in ("create", "update", "delete", "restore")]
    assert feed[1]["after"]["name_en"] == topics.patch["name_en"]
    actors = set(Change.objects.filter(key="transport").values_list("actor", flat=True))
    assert actors == {f"key {row.prefix} (feed-writer)"}
