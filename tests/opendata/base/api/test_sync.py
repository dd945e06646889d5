"""Sync support on every collection: `updated_since`, `include_deleted`, the three timestamps, and
410 for a withdrawn record's detail."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from opendata.base.services import record_soft_delete
from tests import api_helpers as h
from tests.factories import (
    CitationFactory,
    EventSeriesFactory,
    ObservationFactory,
    IndicatorFactory,
    ProjectFactory,
    RegionFactory,
    SourceFactory,
    TopicFactory,
    UnitFactory,
)

pytestmark = pytest.mark.django_db

COLLECTIONS = {
    # url, factory of two records, identifier field
    "sources": (lambda: [SourceFactory(), SourceFactory()], "slug"),
    "regions": (lambda: [RegionFactory(code="a"), RegionFactory(code="b")], "code"),
    "topics": (lambda: [TopicFactory(), TopicFactory()], "code"),
    "units": (lambda: [UnitFactory(symbol="a"), UnitFactory(symbol="b")], "symbol"),
    "indicators": (lambda: [IndicatorFactory(), IndicatorFactory()], "code"),
    "observations": (lambda: h.observations(2), "uid"),
    "projects": (lambda: [ProjectFactory(), ProjectFactory()], "slug"),
    "project-statuses": (lambda: h.project_statuses(2), "uid"),
    "events": (lambda: h.events(2), "slug"),
    "event-series": (lambda: [EventSeriesFactory(), EventSeriesFactory()], "slug"),
}


@pytest.mark.parametrize("collection", list(COLLECTIONS))
def test_updated_since_include_deleted_and_gone(client, collection):
    make, key = COLLECTIONS[collection]
    first, second = make()
    url = f"/api/v1/{collection}/"
    rows = h.ok(client, url)["results"]
    assert {"created_at", "updated_at", "deleted_at"} <= set(rows[0])
    before = timezone.now()
    record_soft_delete(record=second, actor="test")
    since = before.isoformat()
    assert h.ok(client, f"{url}?updated_since={since.replace('+', '%2B')}")["results"] == []
    changed = h.ok(client, f"{url}?updated_since={since.replace('+', '%2B')}&include_deleted=true")["results"]
    assert [str(r[key]) for r in changed] == [str(getattr(second, key))]
    assert changed[0]["deleted_at"] is not None
    future = (timezone.now() + dt.timedelta(days=1)).isoformat().replace("+", "%2B")
    assert h.ok(client, f"{url}?updated_since={future}&include_deleted=true")["results"] == []
    assert [str(r[key]) for r in h.ok(client, url)["results"]] == [str(getattr(first, key))]
    h.problem(client, f"{url}{getattr(second, key)}/", 410)
    h.ok(client, f"{url}{getattr(first, key)}/")


@pytest.mark.parametrize("query, expected", [
    ("project=p-a", ["a1"]),
    ("status=completed", ["b1"]),
    ("kind=target", ["b1"]),
    ("date_from=2025", ["b1"]),
    ("date_to=2024", ["a1"]),
    ("source=cited", ["a1"]),
])
def test_project_status_filters(client, query, expected):
    from tests.factories import ProjectStatusFactory

    a1 = ProjectStatusFactory(project=ProjectFactory(slug="p-a"))
    a1.citations.add(*h.citations(SourceFactory(slug="cited"), 1))
    b1 = ProjectStatusFactory(project=ProjectFactory(slug="p-b"), status="completed", kind="target",
                              date_start=dt.date(2026, 1, 1), date_end=dt.date(2026, 12, 31), date_label="2026")
    made = {"a1": str(a1.uid), "b1": str(b1.uid)}
    got = [r["uid"] for r in h.ok(client, f"/api/v1/project-statuses/?{query}")["results"]]
    assert got == [made[k] for k in expected]


@pytest.mark.parametrize("url, expected", [
    ("/api/v1/regions/?code=b", ["b"]),
    ("/api/v1/topics/?code=t-b", ["t-b"]),
    ("/api/v1/event-series/?slug=s-b", ["s-b"]),
    ("/api/v1/event-series/?q=博览", ["s-b"]),
])
def test_code_filters_of_small_collections(client, url, expected):
    RegionFactory(code="a"), RegionFactory(code="b")
    TopicFactory(code="t-a"), TopicFactory(code="t-b")
    EventSeriesFactory(slug="s-a"), EventSeriesFactory(slug="s-b", name_zh="博览会")
    key = "code" if "regions" in url or "topics" in url else "slug"
    assert [r[key] for r in h.ok(client, url)["results"]] == expected


@pytest.mark.django_db
def test_every_timestamp_is_utc_with_z_in_rest_graphql_and_410(client):
    from tests.opendata.base.graphql.helpers import post

    obs = ObservationFactory()
    rest = h.ok(client, f"/api/v1/observations/{obs.uid}/")
    assert rest["updated_at"].endswith("Z") and "+" not in rest["updated_at"]
    graphql = post(client, f'{{ observation(uid: "{obs.uid}") {{ updatedAt createdAt }} }}').json()
    assert graphql["data"]["observation"]["updatedAt"] == rest["updated_at"]
    record_soft_delete(record=obs, actor="test")
    h.reset_rate_limits()
    gone = client.get(f"/api/v1/observations/{obs.uid}/", headers={"Accept": "application/json"})
    assert gone.status_code == 410 and gone.json()["deleted_at"].endswith("Z")
    assert "Z" in gone.json()["detail"] and "+00:00" not in gone.json()["detail"]


@pytest.mark.django_db
def test_updated_since_is_inclusive_and_takes_a_plus_sent_as_a_space(client):
    obs = ObservationFactory()
    stamp = h.ok(client, f"/api/v1/observations/{obs.uid}/")["updated_at"]
    assert [r["uid"] for r in h.ok(client, f"/api/v1/observations/?updated_since={stamp}")["results"]] == [str(obs.uid)]
    # The same moment written with an offset whose '+' was pasted unencoded (it arrives as a space).
    local = timezone.localtime(obs.updated_at, dt.timezone(dt.timedelta(hours=8))).isoformat()
    assert "+08:00" in local
    found = h.ok(client, "/api/v1/observations/?updated_since=" + local.replace("+", "%20"))["results"]
    assert [r["uid"] for r in found] == [str(obs.uid)]
    h.reset_rate_limits()
    naive = client.get("/api/v1/observations/?updated_since=2025-01-01T00:00:00", headers={"Accept": "application/json"})
    assert naive.status_code == 400 and "time zone" in naive.json()["invalid_params"][0]["reason"]


@pytest.mark.django_db
def test_a_record_deleted_with_its_citation_still_reaches_the_sources_syncing_clients(client):
    citation = CitationFactory()
    obs = ObservationFactory()
    obs.citations.add(citation)
    slug = citation.source.slug
    since = h.ok(client, f"/api/v1/observations/{obs.uid}/")["updated_at"]
    record_soft_delete(record=citation, actor="test")
    record_soft_delete(record=obs, actor="test")
    url = f"/api/v1/sources/{slug}/observations/?updated_since={since}"
    assert h.ok(client, url)["results"] == []
    changed = h.ok(client, url + "&include_deleted=true")["results"]
    assert [(r["uid"], r["deleted_at"] is not None) for r in changed] == [(str(obs.uid), True)]
