"""Over a real socket: headers, conditional GET, CORS and a streamed CSV export, read with urllib."""

from __future__ import annotations

import csv
import io
import json
import urllib.error
import urllib.request

import pytest

from tests import api_helpers as h


def fetch(url: str, **headers):
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


@pytest.fixture
def rows(transactional_db):
    made = h.observations(30)
    return made


def test_headers_and_conditional_get_over_http(live_server, rows):
    url = f"{live_server.url}/api/v1/observations/?page_size=10&count=true"
    status, headers, payload = fetch(url, Origin="https://app.example")
    assert status == 200
    data = json.loads(payload)
    assert data["count"] == 30 and len(data["results"]) == 10
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert headers["X-Request-ID"] and headers["ETag"] and headers["Last-Modified"]
    assert headers["X-Total-Count"] == "30"
    assert f'<{data["next"]}>; rel="next"' in headers["Link"]
    status, headers304, payload = fetch(url, **{"If-None-Match": headers["ETag"]})
    assert status == 304 and payload == b"" and headers304["ETag"] == headers["ETag"]


def test_streamed_csv_export_over_http(live_server, rows):
    status, headers, payload = fetch(f"{live_server.url}/api/v1/observations/?format=csv&bom=true&page_size=1")
    assert status == 200
    assert headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "Content-Length" not in headers  # streamed, not buffered
    assert 'filename="observations.csv"' in headers["Content-Disposition"]
    text = payload.decode("utf-8")
    assert text.startswith("\ufeff")
    records = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert len(records) == 30 and records[0]["value"] == "259.9"


def test_problem_over_http(live_server, rows):
    status, headers, payload = fetch(f"{live_server.url}/api/v2/observations/")
    assert status == 404 and headers["Content-Type"] == "application/problem+json"
    assert json.loads(payload)["versions"] == ["/api/v1/"]
