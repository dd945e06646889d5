"""GET /api/v1/changes/: the change feed over REST, paged with a `next` watermark in every page (an
empty one included), filtered by resource, with strict parameters and conditional GETs."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from django.conf import settings
from openapi_schema_validator import OAS30Validator

from opendata.base.models import Change
from opendata.base.snapshots import snapshot
from opendata.catalogue.models import Topic
from opendata.catalogue.services import topic_update
from tests import api_helpers as h
from tests.write_helpers import build_world, settle

pytestmark = pytest.mark.django_db(transaction=True)
URL = "/api/v1/changes/"


@pytest.fixture
def feed_world(transactional_db):
    build_world()
    settle()


def follow(client, url: str) -> tuple[list[dict], dict]:
    """Every entry from `url` on, following `next` while `more`: (entries, the last page)."""
    entries = []
    while True:
        page = h.ok(client, url)
        entries += page["results"]
        if not page["more"]:
            return entries, page
        url = page["next"]


def test_pages_follow_next_to_every_entry_in_order(client, feed_world):
    first = h.get(client, f"{URL}?page_size=4")
    assert first.status_code == 200
    page = first.json()
    assert len(page["results"]) == 4 and page["more"] is True
    assert page["next"] == f"http://testserver{URL}?after={page['next_cursor']}&page_size=4"
    assert page["next_cursor"] == page["results"][-1]["cursor"]
    assert first["Link"] == f'<{page["next"]}>; rel="next"'
    entries, last = follow(client, page["next"])
    entries = page["results"] + entries
    stored = list(Change.objects.order_by("id"))
    assert [(e["resource"], e["key"], e["operation"]) for e in entries] == \
           [(c.resource, c.key, c.operation) for c in stored]
    entry = entries[0]
    assert set(entry) == {"cursor", "at", "resource", "key", "operation", "before", "after"}  # no actor: public
    assert entry["at"].endswith("Z") and entry["before"] is None
    topic = next(e for e in entries if e["resource"] == "topic")
    assert topic["after"] == snapshot(Topic.objects.get(code=topic["key"]))
    assert last["results"] == [] or not last["more"]


def test_an_empty_page_still_says_where_to_poll_from(client, feed_world):
    _, last = follow(client, URL)
    empty = h.ok(client, last["next"])
    assert empty["results"] == [] and empty["more"] is False and empty["next"] and empty["next_cursor"]
    topic_update(key="agriculture", data={"name_en": "Farming"}, actor="someone")
    settle()
    news = h.ok(client, empty["next"])
    assert [(e["key"], e["operation"]) for e in news["results"]] == [("agriculture", "update")]
    assert news["results"][0]["before"]["name_en"] == "Agriculture"
    assert news["results"][0]["after"]["name_en"] == "Farming"


def test_after_now_starts_at_the_present(client, feed_world):
    now = h.ok(client, f"{URL}?after=now")
    assert now["results"] == [] and not now["more"]
    topic_update(key="agriculture", data={"description": "Farming"}, actor="someone")
    settle()
    assert [e["key"] for e in h.ok(client, now["next"])["results"]] == ["agriculture"]


def test_resource_filter_takes_a_comma_list(client, feed_world):
    entries, last = follow(client, f"{URL}?resource=topic,unit&page_size=2")
    assert {e["resource"] for e in entries} == {"topic", "unit"}
    assert len(entries) == Change.objects.filter(resource__in=["topic", "unit"]).count()
    assert "resource=topic%2Cunit" in last["next"] or "resource=topic,unit" in last["next"]
    assert h.ok(client, last["next"])["results"] == []


@pytest.mark.parametrize("query, param", [
    ("resource=topic,galaxy", "resource"),
    ("after=nonsense", "after"),
    ("page_size=0", "page_size"),
    ("page_size=1001", "page_size"),
    ("since=2025-01-01", "since"),
    # Found by the contract fuzzing (tests/test_contract_fuzz.py): the feed took what every other endpoint refuses.
    ("resource=", "resource"),
    ("after=", "after"),
    ("page_size=5&page_size=6", "page_size"),
    ("resource=topic%01", "resource"),
])
def test_bad_parameters_are_400_problems_naming_them(client, transactional_db, query, param):
    response = h.get(client, f"{URL}?{query}")
    assert response.status_code == 400 and response["Content-Type"] == h.PROBLEM
    assert [p["name"] for p in response.json()["invalid_params"]] == [param]


def test_an_unchanged_page_is_304_with_its_etag(client, feed_world):
    first = h.get(client, f"{URL}?page_size=3")
    etag = first["ETag"]
    again = h.get(client, f"{URL}?page_size=3", **{"If-None-Match": etag})
    assert again.status_code == 304
    other = h.get(client, f"{URL}?page_size=4", **{"If-None-Match": etag})
    assert other.status_code == 200


def test_responses_conform_to_the_committed_schema(client, feed_world):
    spec = yaml.safe_load((Path(settings.BASE_DIR) / "docs" / "openapi" / "v1.yaml").read_text())
    op = spec["paths"][URL]["get"]
    for url, code in ((f"{URL}?page_size=5", "200"), (f"{URL}?after=now", "200"), (f"{URL}?after=x", "400")):
        response = h.get(client, url)
        assert str(response.status_code) == code
        media = "application/problem+json" if code == "400" else "application/json"
        schema = dict(op["responses"][code]["content"][media]["schema"], components=spec["components"])
        OAS30Validator(schema).validate(response.json())


@pytest.mark.parametrize("size", [1, 1000])
def test_a_page_costs_two_queries_whatever_its_size(client, feed_world, django_assert_num_queries, size):
    with django_assert_num_queries(2):  # the horizon, then the page
        assert h.get(client, f"{URL}?page_size={size}&resource=topic,citation").status_code == 200


def test_who_made_a_change_is_shown_to_key_holders_only(client, feed_world):
    """The issue's entry says who made the change; anonymous readers do not learn curators' names
    (as in GraphQL's `changes`). The ETag and Vary tell the two answers apart."""
    from opendata.keys.models import ApiKey

    _, key = ApiKey.objects.create_key(name="sync-reader")
    topic_update(key="agriculture", data={"name_en": "Farming"}, actor="curator-ann")
    settle()
    anonymous = client.get("/api/v1/changes/?resource=topic&page_size=1000", headers={"Accept": "application/json"})
    keyed = client.get("/api/v1/changes/?resource=topic&page_size=1000",
                       headers={"Accept": "application/json", "Authorization": f"Bearer {key}"})
    assert all("actor" not in e for e in anonymous.json()["results"])
    assert keyed.json()["results"][-1]["actor"] == "curator-ann"
    assert anonymous["ETag"] != keyed["ETag"] and "Authorization" in keyed["Vary"]
