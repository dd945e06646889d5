"""XLSX as a REST format (`?format=xlsx`, `Accept`, `/api/v1/<collection>.xlsx`), the format suffix
URLs, and the flat citation columns of CSV and XLSX (renderers.CITATION_COLUMNS), on the real data."""

from __future__ import annotations

import csv
import io
import json

import pytest
from openpyxl import load_workbook

from opendata.base.api.renderers import CITATION_COLUMNS, XLSX_MEDIA_TYPE

pytestmark = pytest.mark.usefixtures("loaded_db")


def sheet_rows(content: bytes, title: str) -> list[tuple]:
    wb = load_workbook(io.BytesIO(content), read_only=True)
    assert wb.sheetnames == ["README", title]
    return list(wb[title].iter_rows(values_only=True))


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_a_filtered_collection_as_a_workbook(client):
    count = client.get("/api/v1/observations/?kind=target&count=true&page_size=1").json()["count"]
    response = client.get("/api/v1/observations/?kind=target&format=xlsx")
    assert response.status_code == 200 and response["Content-Type"] == XLSX_MEDIA_TYPE
    assert 'filename="observations.xlsx"' in response["Content-Disposition"]
    rows = sheet_rows(response.content, "observations")
    header, records = rows[0], rows[1:]
    assert len(records) == count > 50   # a full export, not one page
    kind = header.index("kind")
    assert {r[kind] for r in records} == {"target"}
    assert set(CITATION_COLUMNS) <= set(header)
    # the same bytes again: nothing in the file depends on the time it was made
    assert client.get("/api/v1/observations/?kind=target&format=xlsx").content == response.content


def test_accept_header_and_suffix_url_give_the_same_workbook(client):
    by_param = sheet_rows(client.get("/api/v1/topics/?format=xlsx").content, "topics")
    assert len(by_param) > 10
    assert sheet_rows(client.get("/api/v1/topics/", HTTP_ACCEPT=XLSX_MEDIA_TYPE).content, "topics") == by_param
    assert sheet_rows(client.get("/api/v1/topics.xlsx").content, "topics") == by_param   # README: its own URL


@pytest.mark.parametrize("suffix, media", [("csv", "text/csv"), ("ndjson", "application/x-ndjson"),
                                           ("json", "application/json")])
def test_suffix_urls_of_every_collection(client, suffix, media):
    for name in ("sources", "regions", "topics", "units", "indicators", "observations", "projects",
                 "project-statuses", "events", "event-series"):
        response = client.get(f"/api/v1/{name}.{suffix}?page_size=5")
        assert response.status_code == 200, (name, body(response)[:200])
        assert response["Content-Type"].startswith(media)
    assert client.get("/api/v1/observations.pdf").status_code == 404


def test_a_detail_as_a_workbook(client):
    rows = sheet_rows(client.get("/api/v1/indicators/grain-output/?format=xlsx").content, "indicators")
    assert len(rows) == 2 and rows[1][rows[0].index("code")] == "grain-output"


def test_an_error_stays_a_problem(client):
    response = client.get("/api/v1/observations.xlsx?kind=maybe")
    assert response.status_code == 400 and response["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize("path", ["/api/v1/observations/", "/api/v1/project-statuses/", "/api/v1/events/"])
def test_csv_has_flat_citation_columns_beside_the_json(client, path):
    text = body(client.get(f"{path}?format=csv")).decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows
    for row in rows:
        citations = json.loads(row["citations"])
        assert int(row["citation_count"]) == len(citations) >= 1
        assert row["citation_first_quote"] == citations[0]["quote"]
        assert row["citation_first_source"] == citations[0]["source"]
        assert row["citation_sources"].split("; ") == list(dict.fromkeys(c["source"] for c in citations))
    # and the page-sized (non-export) CSV of a single record has them too
    one = json.loads(client.get(f"{path}?page_size=1").content)["results"][0]
    detail = list(csv.DictReader(io.StringIO(client.get(f"{one['url']}?format=csv").content.decode())))
    assert detail[0]["citation_count"] == str(len(one["citations"]))
