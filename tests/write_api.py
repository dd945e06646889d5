"""Helpers for the REST write tests: API keys, requests with a key, and one write of each resource
over the small catalogue of tests/write_helpers.py."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from urllib.parse import quote as urlquote

from opendata.keys.models import ApiKey
from tests import api_helpers as h
from tests.write_helpers import quote


def issue(name: str = "ingest", **fields) -> tuple[ApiKey, str]:
    """An API key, as the admin issues it (the key model's manager): (row, the key)."""
    fields.setdefault("scope", "write")
    return ApiKey.objects.create_key(name=name, **fields)


def call(client, method: str, url: str, body=None, *, key: str | None = None, raw: bytes | None = None,
         content_type: str = "application/json", **headers):
    """One request with a JSON body (or `raw` bytes), `Authorization: Bearer <key>` when a key is given."""
    h.reset_rate_limits()
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    data = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
    return client.generic(method, url, data=data, content_type=content_type if data else None, headers=headers)


def problem(response, status: int) -> dict:
    assert response.status_code == status, (response.status_code, response.content[:800])
    assert response["Content-Type"] == h.PROBLEM, response["Content-Type"]
    data = response.json()
    assert data["status"] == status and {"type", "title", "detail", "instance"} <= set(data)
    return data


@dataclass
class Resource:
    """One collection's writes over the test catalogue: a record to create, a change, a full replacement."""

    collection: str      # as in the URL
    name: str            # as API keys and the root name it
    resource: str        # as the change feed names it
    key_field: str
    create: dict
    patch: dict
    replace: dict = field(default_factory=dict)  # PUT over the created record (the create's data by default)
    key: str = ""        # the created record's key, when the data does not give it (uids)

    def url(self, key: str | None = None) -> str:
        base = f"/api/v1/{self.collection}/"
        return base if key is None else base + urlquote(str(key), safe="") + "/"


TIMELINE_QUOTE = "地铁6号线开工建设"

RESOURCES = [
    Resource("topics", "topics", "topic", "code",
             {"code": "transport", "name_zh": "交通", "name_en": "Transport"},
             {"name_en": "Transport and roads"},
             {"name_zh": "交通运输", "name_en": "Transport", "description": "Roads, rail, metro."}),
    Resource("regions", "regions", "region", "code",
             {"code": "chaoyang", "name_zh": "朝阳区", "name_en": "Chaoyang", "kind": "district", "parent": "changchun"},
             {"name_en": "Chaoyang District"},
             {"name_zh": "朝阳区", "name_en": "Chaoyang", "kind": "district"}),
    Resource("units", "units", "unit", "symbol",
             {"symbol": "万人", "name_en": "ten thousand persons", "base_unit": "persons", "factor": "10000"},
             {"name_en": "ten thousand people"},
             {"name_en": "ten thousand persons (万人)", "base_unit": "persons", "factor": "1E+4"}),
    Resource("sources", "sources", "source", "slug",
             {"slug": "plan-2026", "title_zh": "计划", "title_en": "Plan", "date": "2026-01-08",
              "text": "明年新建口袋公园50处。", "periods": [{"start": "2026-01-01", "end": "2026-12-31", "label": "2026"}]},
             {"title_en": "The plan for 2026"},
             {"title_zh": "计划", "title_en": "Plan", "date": "2026-01-09", "date_precision": "day",
              "text": "明年新建口袋公园50处。", "periods": [{"start": "2026-01-01", "end": "2027-12-31", "label": "2026–2027"}]}),
    Resource("indicators", "indicators", "indicator", "code",
             {"code": "pocket-parks", "name_zh": "口袋公园", "name_en": "Pocket parks", "unit": "处",
              "topic": "agriculture"},
             {"description": "New pocket parks built in the year."},
             {"name_zh": "口袋公园", "name_en": "Pocket parks built", "unit": "处", "topic": "agriculture"}),
    Resource("observations", "observations", "observation", "uid",
             {"indicator": "grain-output", "region": "changchun", "period_start": "2024-01-01",
              "period_end": "2024-12-31", "period_label": "2024", "kind": "actual", "value": "259.9",
              "citations": [quote("粮食产量达到259.9亿斤")]},
             {"period_label": "2024年"},
             {"indicator": "grain-output", "region": "changchun", "period_start": "2024-01-01",
              "period_end": "2024-12-31", "period_label": "2024 (full year)", "kind": "actual", "value": "259.90",
              "citations": [quote("粮食产量达到259.9亿斤")]}),
    Resource("projects", "projects", "project", "slug",
             {"slug": "pocket-parks", "name_zh": "口袋公园", "name_en": "Pocket parks", "topic": "agriculture",
              "regions": ["changchun"]},
             {"description": "Small parks across the city."},
             {"name_zh": "口袋公园", "name_en": "Pocket parks", "topic": "agriculture", "regions": ["changchun", "nanguan"],
              "timeline": [{"status": "construction_started", "kind": "actual", "date_start": "2025-01-01",
                            "date_end": "2025-12-31", "date_precision": "year", "date_label": "2025",
                            "citations": [quote("新建口袋公园40处")]}]}),
    Resource("project-statuses", "project_statuses", "project_status", "uid",
             {"project": "metro-line-6", "status": "construction_started", "kind": "actual",
              "date_start": "2025-01-01", "date_end": "2025-12-31", "date_precision": "year", "date_label": "2025",
              "citations": [quote(TIMELINE_QUOTE)]},
             {"date_label": "2025年"},
             {"project": "metro-line-6", "status": "construction_started", "kind": "actual",
              "date_start": "2025-01-01", "date_end": "2025-12-31", "date_precision": "period",
              "date_label": "in 2025", "citations": [quote(TIMELINE_QUOTE)]}),
    Resource("event-series", "event_series", "event_series", "slug",
             {"slug": "optoelectronics-expo", "name_zh": "光博会", "name_en": "Optoelectronics Expo"},
             {"name_en": "China Optoelectronics Expo"},
             {"name_zh": "中国光博会", "name_en": "Optoelectronics Expo"}),
    Resource("events", "events", "event", "slug",
             {"slug": "expo-2024", "name_zh": "光博会", "name_en": "Expo 2024", "kind": "expo",
              "start_date": "2024-08-01", "start_precision": "month", "status": "held", "region": "changchun",
              "citations": [quote("光博会成功举办")]},
             {"description": "Held in August."},
             {"name_zh": "光博会", "name_en": "Expo 2024", "kind": "expo", "start_date": "2024-08-01",
              "start_precision": "month", "end_date": "2024-08-31", "end_precision": "month", "status": "held",
              "region": "changchun", "citations": [quote("光博会成功举办")]}),
]
BY_COLLECTION = {r.collection: r for r in RESOURCES}
