"""REST v1: projects with their timelines, timeline statements, events and event series."""

from __future__ import annotations

import datetime as dt

import pytest

from opendata.base.services import record_soft_delete
from tests import api_helpers as h
from tests.factories import (
    EventFactory,
    EventSeriesFactory,
    ProjectFactory,
    ProjectStatusFactory,
    RegionFactory,
    SourceFactory,
    TopicFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    city = RegionFactory()
    district = RegionFactory(code="kuancheng", name_zh="宽城区", name_en="Kuancheng", kind="district", parent=city)
    transport = TopicFactory(code="transport", name_zh="交通", name_en="Transport")
    metro = ProjectFactory(slug="metro-line-6", name_zh="长春地铁6号线", name_en="Changchun Metro Line 6", topic=transport)
    metro.regions.add(district)
    car = ProjectFactory(slug="nev-plant", name_zh="新能源汽车产业园", name_en="New-energy vehicle park")
    car.regions.add(city)
    plan, report = SourceFactory(slug="plan"), SourceFactory(slug="report")
    started = ProjectStatusFactory(project=metro, status="construction_started", kind="actual",
                                   date_start=dt.date(2023, 1, 1), date_end=dt.date(2023, 12, 31), date_label="2023")
    started.citations.add(*h.citations(report, 1))
    opening = ProjectStatusFactory(project=metro, status="in_operation", kind="target",
                                   date_start=dt.date(2026, 1, 1), date_end=dt.date(2026, 12, 31), date_label="2026")
    opening.citations.add(*h.citations(plan, 1))
    proposed = ProjectStatusFactory(project=car, status="proposed", kind="actual",
                                    date_start=dt.date(2024, 1, 1), date_end=dt.date(2024, 12, 31), date_label="2024")
    series = EventSeriesFactory(slug="expo", name_zh="光博会", name_en="Optoelectronics Expo")
    expo = EventFactory(slug="expo-2025", kind="expo", series=series, status="planned", start_date=dt.date(2025, 8, 1),
                        start_precision="month", region=city)
    expo.citations.add(*h.citations(plan, 1))
    marathon = EventFactory(slug="marathon-2024", name_zh="长春马拉松", name_en="Changchun Marathon", kind="sports",
                            status="held", start_date=dt.date(2024, 5, 19), start_precision="day",
                            end_date=dt.date(2024, 5, 19), end_precision="day", region=district, project=metro)
    return locals()


def slugs(data):
    return [r["slug"] for r in data["results"]]


def test_project_list_and_detail_with_timeline(client, world):
    assert slugs(h.ok(client, "/api/v1/projects/")) == ["metro-line-6", "nev-plant"]
    detail = h.ok(client, "/api/v1/projects/metro-line-6/")
    assert detail["regions"] == ["kuancheng"] and detail["topic"] == "transport"
    assert [(s["status"], s["kind"], s["date_label"]) for s in detail["timeline"]] == [
        ("construction_started", "actual", "2023"), ("in_operation", "target", "2026")]
    assert detail["timeline"][0]["citations"][0]["source"] == "report"
    assert "project" not in detail["timeline"][0]
    assert detail["timeline_url"].endswith("/api/v1/projects/metro-line-6/timeline/")


@pytest.mark.parametrize("query, expected", [
    ("topic=transport", ["metro-line-6"]),
    ("region=changchun", ["metro-line-6", "nev-plant"]),  # sub-regions included
    ("region=kuancheng", ["metro-line-6"]),
    ("status=proposed", ["nev-plant"]),
    ("status=in_operation&status_kind=target", ["metro-line-6"]),
    ("status=in_operation&status_kind=actual", []),
    ("source=plan", ["metro-line-6"]),
    ("date_from=2025", ["metro-line-6"]),
    ("date_to=2023", ["metro-line-6"]),
    ("q=地铁", ["metro-line-6"]),
    ("q=汽车", ["nev-plant"]),
    ("slug=nev-plant", ["nev-plant"]),
])
def test_project_filters(client, world, query, expected):
    assert slugs(h.ok(client, f"/api/v1/projects/?{query}")) == expected


def test_project_expand(client, world):
    row = h.ok(client, "/api/v1/projects/metro-line-6/?expand=regions,topic,source")
    assert row["regions"][0]["name_zh"] == "宽城区" and row["topic"]["name_en"] == "Transport"
    assert row["timeline"][0]["citations"][0]["source"]["slug"] == "report"


def test_project_timeline_and_statuses(client, world):
    timeline = h.ok(client, "/api/v1/projects/metro-line-6/timeline/")["results"]
    assert [s["status"] for s in timeline] == ["construction_started", "in_operation"]
    assert timeline[0]["project"] == "metro-line-6"
    statuses = h.ok(client, "/api/v1/project-statuses/?kind=actual&ordering=-date_start")["results"]
    assert [s["status"] for s in statuses] == ["proposed", "construction_started"]
    assert [s["status"] for s in h.ok(client, "/api/v1/project-statuses/?status=proposed")["results"]] == ["proposed"]
    assert [s["status"] for s in h.ok(client, "/api/v1/project-statuses/?date_from=2025")["results"]] == ["in_operation"]
    uid = world["opening"].uid
    one = h.ok(client, f"/api/v1/project-statuses/{uid}/?expand=project")
    assert one["project"]["name_zh"] == "长春地铁6号线"
    assert [s["uid"] for s in h.ok(client, "/api/v1/sources/plan/project-statuses/")["results"]] == [str(uid)]
    h.problem(client, "/api/v1/project-statuses/?status=demolished", 400)


def test_project_events_and_gone_project(client, world):
    assert slugs(h.ok(client, "/api/v1/projects/metro-line-6/events/")) == ["marathon-2024"]
    record_soft_delete(record=world["car"], actor="test")
    h.problem(client, "/api/v1/projects/nev-plant/", 410)
    h.problem(client, "/api/v1/projects/nev-plant/timeline/", 410)
    assert slugs(h.ok(client, "/api/v1/projects/")) == ["metro-line-6"]


def test_events_list_detail_and_expand(client, world):
    assert slugs(h.ok(client, "/api/v1/events/")) == ["marathon-2024", "expo-2025"]
    detail = h.ok(client, "/api/v1/events/expo-2025/?expand=series,region,project")
    assert detail["series"]["slug"] == "expo" and detail["region"]["code"] == "changchun"
    assert detail["project"] is None and detail["start_precision"] == "month" and detail["end_date"] is None
    assert h.ok(client, "/api/v1/events/marathon-2024/")["project"] == "metro-line-6"


@pytest.mark.parametrize("query, expected", [
    ("kind=sports", ["marathon-2024"]),
    ("status=planned", ["expo-2025"]),
    ("status=held", ["marathon-2024"]),
    ("series=expo", ["expo-2025"]),
    ("region=kuancheng", ["marathon-2024"]),
    ("region=changchun", ["marathon-2024", "expo-2025"]),
    ("project=metro-line-6", ["marathon-2024"]),
    ("source=plan", ["expo-2025"]),
    ("date_from=2025", ["expo-2025"]),
    ("date_to=2024-12-31", ["marathon-2024"]),
    ("q=马拉松", ["marathon-2024"]),
    ("ordering=-start_date", ["expo-2025", "marathon-2024"]),
])
def test_event_filters(client, world, query, expected):
    assert slugs(h.ok(client, f"/api/v1/events/?{query}")) == expected


def test_event_series_and_their_events(client, world):
    assert slugs(h.ok(client, "/api/v1/event-series/")) == ["expo"]
    assert h.ok(client, "/api/v1/event-series/expo/")["events_url"].endswith("/api/v1/event-series/expo/events/")
    assert slugs(h.ok(client, "/api/v1/event-series/expo/events/")) == ["expo-2025"]
    assert slugs(h.ok(client, "/api/v1/sources/plan/events/")) == ["expo-2025"]
    h.problem(client, "/api/v1/events/?kind=party", 400)
    h.problem(client, "/api/v1/events/?date_from=soon", 400)
