"""RFC 9457 problem details for every 4xx and 5xx of the API, and the unknown-version 404."""

from __future__ import annotations

import pytest

from indicators.api.v1.views import ObservationViewSet
from opendata.base.api.errors import handler500
from tests import api_helpers as h

pytestmark = pytest.mark.django_db


def test_unknown_api_version_names_the_versions(client):
    data = h.problem(client, "/api/v2/observations/?indicator=gdp", 404)
    assert data["title"] == "Unknown API version"
    assert data["versions"] == ["/api/v1/"]
    assert "v1" in data["detail"] and data["instance"] == "/api/v2/observations/?indicator=gdp"
    assert data["how_to_fix"] == "Use /api/v1/observations/"


def test_unknown_route_under_api_is_a_problem(client):
    data = h.problem(client, "/api/v1/indicatorz/", 404)
    assert "/api/v1/" in data["detail"]


def test_non_api_404_stays_html(client):
    response = h.get(client, "/no-such-page/")
    assert response.status_code == 404 and "problem" not in response["Content-Type"]


def test_unknown_record_says_what_was_looked_for(client):
    data = h.problem(client, "/api/v1/indicators/gpd/", 404)
    assert data["detail"] == "No indicator with code 'gpd'."
    assert data["type"].endswith("/not-found") and data["request_id"]


def test_method_not_allowed(client):
    response = client.put("/api/v1/indicators/", {})  # a collection takes GET and POST (a write: docs/rest.md)
    assert response.status_code == 405 and response["Content-Type"] == h.PROBLEM
    assert response["Allow"] == "GET, POST, HEAD, OPTIONS"
    assert client.post("/api/v1/sources/s/text/").status_code == 405


def test_validation_problem_lists_every_invalid_parameter(client):
    data = h.problem(client, "/api/v1/observations/?kind=maybe&period_from=soon", 400)
    assert {p["name"] for p in data["invalid_params"]} == {"kind", "period_from"}
    assert data["how_to_fix"] and data["type"].endswith("/invalid-parameters")


def test_rate_limit_is_429_with_retry_after(client, settings):
    settings.API_RATE_LIMITS = {**settings.API_RATE_LIMITS, "anonymous": "1/min"}
    h.get(client, "/api/v1/topics/")
    response = client.get("/api/v1/topics/")
    assert response.status_code == 429 and response["Content-Type"] == h.PROBLEM
    assert response.json()["type"].endswith("/rate-limited") and response.json()["how_to_fix"]
    assert 0 < int(response["Retry-After"]) <= 60


def test_server_error_is_a_problem(client, monkeypatch):
    def boom():
        raise RuntimeError("database on fire")

    monkeypatch.setattr(ObservationViewSet, "selector", staticmethod(boom))
    client.raise_request_exception = False
    response = h.get(client, "/api/v1/observations/")
    assert response.status_code == 500 and response["Content-Type"] == h.PROBLEM
    data = response.json()
    assert data["status"] == 500 and "fire" not in response.content.decode()  # no internals leak
    assert response["X-Request-ID"] == data["request_id"]


def test_handler500_outside_api_is_django_default(rf):
    assert "problem" not in handler500(rf.get("/admin/")).get("Content-Type", "")
