"""Every list endpoint issues the same number of SQL queries for 10 rows as for 100, with and without
`expand`: related rows are fetched in bulk per page, never per row."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests import api_helpers as h
from tests.factories import (
    EventSeriesFactory,
    IndicatorFactory,
    ProjectFactory,
    RegionFactory,
    SourceFactory,
    TopicFactory,
    UnitFactory,
)

pytestmark = pytest.mark.django_db


class World:
    """Grows one collection n rows at a time (distinct periods/dates, so no unique fact collides)."""

    def __init__(self):
        self.made = 0
        self.parents: dict = {}

    def year(self, n):
        start = 1000 + self.made
        self.made += n
        return start

    def parent(self, name, factory):
        if name not in self.parents:
            self.parents[name] = factory()
        return self.parents[name]


def _regions(w, n):
    root = w.parent("root", lambda: RegionFactory(code="root", name_zh="根", name_en="Root"))
    start = w.year(n)
    for i in range(start, start + n):
        RegionFactory(code=f"r{i:04d}", parent=root)
    return "root"


def _units(w, n):
    start = w.year(n)
    for i in range(start, start + n):
        UnitFactory(symbol=f"u{i:04d}")


def _source_facts(kind):
    def grow(w, n):
        source = w.parent("source", SourceFactory)
        cites = w.parent("cites", lambda: h.citations(source))
        if kind == "observations":
            h.observations(n, cites=cites, start_year=w.year(n))
        elif kind == "statuses":
            h.project_statuses(n, project=w.parent("project", ProjectFactory), cites=cites, start_year=w.year(n))
        else:
            h.events(n, cites=cites, start_year=w.year(n))
        return source.slug
    return grow


def _indicator_observations(w, n):
    indicator = w.parent("indicator", IndicatorFactory)
    h.observations(n, indicator=indicator, start_year=w.year(n))
    return indicator.code


def _project_timeline(w, n):
    project = w.parent("project", ProjectFactory)
    h.project_statuses(n, project=project, start_year=w.year(n))
    return project.slug


def _project_events(w, n):
    project = w.parent("project", ProjectFactory)
    h.events(n, project=project, start_year=w.year(n))
    return project.slug


def _series_events(w, n):
    series = w.parent("series", EventSeriesFactory)
    h.events(n, series=series, start_year=w.year(n))
    return series.slug


CASES = {
    "sources": ("/api/v1/sources/", lambda w, n: [SourceFactory() for _ in range(n)], ["text"]),
    "regions": ("/api/v1/regions/", _regions, ["parent"]),
    "region children": ("/api/v1/regions/{key}/children/", _regions, ["parent"]),
    "topics": ("/api/v1/topics/", lambda w, n: [TopicFactory() for _ in range(n)], []),
    "units": ("/api/v1/units/", _units, []),
    "indicators": ("/api/v1/indicators/", lambda w, n: h.indicators(n), ["unit", "topic"]),
    "observations": ("/api/v1/observations/", lambda w, n: h.observations(n, start_year=w.year(n)),
                     ["indicator", "region", "unit", "source"]),
    "indicator observations": ("/api/v1/indicators/{key}/observations/", _indicator_observations,
                               ["indicator", "region", "unit", "source"]),
    "source observations": ("/api/v1/sources/{key}/observations/", _source_facts("observations"),
                            ["indicator", "region", "unit", "source"]),
    "source project statuses": ("/api/v1/sources/{key}/project-statuses/", _source_facts("statuses"),
                                ["project", "source"]),
    "source events": ("/api/v1/sources/{key}/events/", _source_facts("events"),
                      ["series", "region", "project", "source"]),
    "projects": ("/api/v1/projects/", lambda w, n: h.projects(n), ["topic", "regions", "source"]),
    "project statuses": ("/api/v1/project-statuses/",
                         lambda w, n: h.project_statuses(n, project=ProjectFactory(), start_year=w.year(n)),
                         ["project", "source"]),
    "project timeline": ("/api/v1/projects/{key}/timeline/", _project_timeline, ["project", "source"]),
    "project events": ("/api/v1/projects/{key}/events/", _project_events,
                       ["series", "region", "project", "source"]),
    "events": ("/api/v1/events/", lambda w, n: h.events(n, start_year=w.year(n)), ["series", "region", "project", "source"]),
    "event series": ("/api/v1/event-series/", lambda w, n: [EventSeriesFactory() for _ in range(n)], []),
    "series events": ("/api/v1/event-series/{key}/events/", _series_events, ["series", "region", "project", "source"]),
}


def count_queries(client, url) -> tuple[int, int]:
    h.get(client, "/api/v1/")  # warm-up: URL resolver and content types
    with CaptureQueriesContext(connection) as ctx:
        response = h.get(client, url)
    assert response.status_code == 200, (url, response.content[:300])
    return len(ctx.captured_queries), len(response.json()["results"])


@pytest.mark.parametrize("with_expand", [False, True], ids=["plain", "expand"])
@pytest.mark.parametrize("name", list(CASES))
def test_list_queries_do_not_grow_with_rows(client, name, with_expand):
    template, grow, expandable = CASES[name]
    world = World()
    key = grow(world, 10)
    query = "?page_size=100" + (f"&expand={','.join(expandable)}" if with_expand and expandable else "")
    url = template.format(key=key) + query
    few, rows_few = count_queries(client, url)
    grow(world, 90)
    many, rows_many = count_queries(client, url)
    assert rows_few >= 10 and rows_many == 100, (rows_few, rows_many)
    assert few == many, f"{name}: {few} queries for {rows_few} rows, {many} for {rows_many}"
