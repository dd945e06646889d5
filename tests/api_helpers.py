"""Helpers for the REST API tests: requests, problem+json checks and small worlds of related rows."""

from __future__ import annotations

import datetime as dt
import json

from opendata.base.models import natural_uid
from opendata.base.ratelimit import LIMITER
from opendata.catalogue.models import Citation
from tests.factories import (
    EventFactory,
    EventSeriesFactory,
    IndicatorFactory,
    ObservationFactory,
    ProjectFactory,
    ProjectStatusFactory,
    RegionFactory,
    SourceFactory,
)

PROBLEM = "application/problem+json"


def reset_rate_limits():
    """Full quotas again: the counters (in this process, or in Redis) outlive a request, and tests make many."""
    LIMITER.reset()


def get(client, url: str, **headers):
    reset_rate_limits()
    return client.get(url, headers=headers)


def body(response):
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def ok(client, url: str, **headers) -> dict:
    response = get(client, url, **headers)
    assert response.status_code == 200, (url, response.status_code, body(response)[:500])
    return response.json()


def problem(client, url: str, status: int, **headers) -> dict:
    response = get(client, url, **headers)
    assert response.status_code == status, (url, response.status_code, body(response)[:500])
    assert response["Content-Type"] == PROBLEM
    data = json.loads(response.content)
    assert data["status"] == status
    assert {"type", "title", "status", "detail", "instance"} <= set(data)
    return data


def citations(source=None, n: int = 2) -> list[Citation]:
    source = source or SourceFactory()
    quotes = ["粮食产量达到259.9亿斤", "地区生产总值增长5.5%以上", "新建口袋公园40处", "光博会成功举办"][:n]
    return [
        Citation.objects.get_or_create(source=source, quote=q, offset=source.text.find(q),
                                       defaults={"uid": natural_uid("citation", source.slug, source.text.find(q), q)})[0]
        for q in quotes
    ]


def observations(n: int, *, indicator=None, cites=None, start_year: int = 1900):
    """n observations with two citations each; one indicator (distinct periods) or one indicator each."""
    cites = cites if cites is not None else citations()
    made = []
    for i in range(n):
        year = start_year + i
        kwargs = {"indicator": indicator} if indicator else {}
        o = ObservationFactory(period_start=dt.date(year, 1, 1), period_end=dt.date(year, 12, 31),
                               period_label=str(year), **kwargs)
        o.citations.add(*cites)
        made.append(o)
    return made


def projects(n: int, *, cites=None):
    cites = cites if cites is not None else citations()
    region = RegionFactory()
    made = []
    for _ in range(n):
        p = ProjectFactory()
        p.regions.add(region)
        for status in ("proposed", "under_construction"):
            ProjectStatusFactory(project=p, status=status).citations.add(*cites)
        made.append(p)
    return made


def project_statuses(n: int, *, project=None, cites=None, start_year: int = 1900):
    cites = cites if cites is not None else citations()
    project = project or ProjectFactory()
    made = []
    for i in range(n):
        year = start_year + i
        s = ProjectStatusFactory(project=project, date_start=dt.date(year, 1, 1),
                                 date_end=dt.date(year, 12, 31), date_label=str(year))
        s.citations.add(*cites)
        made.append(s)
    return made


def events(n: int, *, series=None, project=None, cites=None, start_year: int = 1900):
    cites = cites if cites is not None else citations()
    series = series or EventSeriesFactory()
    project = project or ProjectFactory()
    made = []
    for i in range(n):
        e = EventFactory(series=series, project=project, start_date=dt.date(start_year + i, 1, 1))
        e.citations.add(*cites)
        made.append(e)
    return made


def indicators(n: int):
    return [IndicatorFactory() for _ in range(n)]


def http(method: str, url: str, *, headers: dict | None = None, body: dict | None = None, timeout: float = 10):
    """A real HTTP request (urllib): (status, headers, parsed JSON body or raw bytes)."""
    import urllib.error
    import urllib.request

    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={
        **({"Content-Type": "application/json"} if data is not None else {}), **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, head, raw = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        status, head, raw = error.code, error.headers, error.read()
    try:
        return status, head, json.loads(raw) if raw else None
    except ValueError:
        return status, head, raw
