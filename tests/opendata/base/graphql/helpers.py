"""Helpers for the GraphQL tests: requests to /graphql/ and their checks."""

from __future__ import annotations

import json

URL = "/graphql/"


def post(client, query: str, variables: dict | None = None, **headers):
    body = {"query": query, **({"variables": variables} if variables is not None else {})}
    return client.post(URL, json.dumps(body), content_type="application/json", headers=headers)


def gql(client, query: str, variables: dict | None = None) -> dict:
    """The data of a query that must succeed."""
    response = post(client, query, variables)
    payload = response.json()
    assert response.status_code == 200 and "errors" not in payload, payload
    return payload["data"]


def gql_errors(client, query: str, variables: dict | None = None) -> tuple[list[dict], dict]:
    """The errors of a query that must fail (and whatever data came with them)."""
    payload = post(client, query, variables).json()
    assert payload.get("errors"), payload
    return payload["errors"], payload


def nodes(connection: dict) -> list[dict]:
    return [edge["node"] for edge in connection["edges"]] if "edges" in connection else connection["nodes"]


def keys(connection: dict, key: str) -> list:
    return [n[key] for n in nodes(connection)]


def world(n: int, *, start: int = 0):
    """n indicators (each with a result and a target citing two quotes of one source), n projects
    (two cited timeline statements each, in a sub-region) and n events of one series."""
    import datetime as dt

    from indicators.models import Observation
    from opendata.catalogue.models import Region
    from tests.factories import (
        CitationFactory,
        EventFactory,
        EventSeriesFactory,
        IndicatorFactory,
        ObservationFactory,
        ProjectFactory,
        ProjectStatusFactory,
        RegionFactory,
        SourceFactory,
        TopicFactory,
    )

    city = RegionFactory(code="changchun")
    district = RegionFactory(code="chaoyang", name_zh="朝阳区", name_en="Chaoyang", kind=Region.Kind.DISTRICT, parent=city)
    source = SourceFactory(slug=f"world-source-{start}")
    cites = [CitationFactory(source=source), CitationFactory(source=source, quote="新建口袋公园40处")]
    series = EventSeriesFactory()
    topic = TopicFactory(code="economy", name_zh="经济", name_en="Economy")
    for i in range(start, start + n):
        indicator = IndicatorFactory(topic=topic)
        for kind in (Observation.Kind.ACTUAL, Observation.Kind.TARGET):
            ObservationFactory(indicator=indicator, region=district if i % 2 else city, kind=kind,
                               period_start=dt.date(2000 + i % 20, 1, 1), period_end=dt.date(2000 + i % 20, 12, 31),
                               ).citations.add(*cites)
        project = ProjectFactory(topic=topic)
        project.regions.add(district)
        for status in ("proposed", "under_construction"):
            ProjectStatusFactory(project=project, status=status).citations.add(*cites)
        EventFactory(series=series, project=project, region=district).citations.add(*cites)
