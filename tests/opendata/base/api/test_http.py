"""CORS for any origin and X-Request-ID on every response of the API, including errors and exports;
the Content Security Policy of the HTML pages; the site root."""

from __future__ import annotations

import pytest

from tests import api_helpers as h

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", ["/api/v1/observations/", "/api/v1/observations/?kind=maybe", "/api/v2/",
                                 "/api/v1/observations/?format=csv"])
def test_any_origin_may_read(client, url):
    response = h.get(client, url, Origin="https://hackathon.example")
    assert response["Access-Control-Allow-Origin"] == "*"
    exposed = response["Access-Control-Expose-Headers"]
    for header in ("ETag", "Link", "X-Request-ID", "X-Total-Count"):
        assert header in exposed


def test_preflight(client):
    response = client.options("/api/v1/observations/", headers={
        "Origin": "https://app.example", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "if-none-match"})
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "GET" in response["Access-Control-Allow-Methods"]
    assert "if-none-match" in response["Access-Control-Allow-Headers"]


@pytest.mark.parametrize("url", ["/api/v1/", "/api/v1/observations/?format=ndjson", "/api/v9/", "/api/v1/topics/x/"])
def test_request_id_on_every_response(client, url):
    generated = h.get(client, url)["X-Request-ID"]
    assert len(generated) == 32
    assert h.get(client, url, **{"X-Request-ID": "client-trace-42"})["X-Request-ID"] == "client-trace-42"
    assert h.get(client, url, **{"X-Request-ID": "bad id with spaces"})["X-Request-ID"] != "bad id with spaces"


def test_vary_accept(client):
    assert "Accept" in h.get(client, "/api/v1/topics/")["Vary"]


def test_deprecated_version_announces_deprecation_and_sunset(client, monkeypatch):
    from opendata.base.api import versioning

    assert "Deprecation" not in h.get(client, "/api/v1/topics/")
    monkeypatch.setitem(versioning.DEPRECATED_VERSIONS, "v1", ("@1767225600", "Wed, 01 Jul 2026 00:00:00 GMT"))
    response = h.get(client, "/api/v1/topics/")
    assert response["Deprecation"] == "@1767225600"
    assert response["Sunset"] == "Wed, 01 Jul 2026 00:00:00 GMT"
    assert 'rel="deprecation"' in response["Link"]


def test_head_has_the_headers_of_get(client):
    response = client.head("/api/v1/topics/")
    assert response.status_code == 200 and response["ETag"] and response.content == b""


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/api/v1/docs/", "/api/v1/redoc/", "/graphql/", "/admin/login/"])
def test_html_pages_allow_no_third_party_origin(client, url):
    response = client.get(url, headers={"Accept": "text/html"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "fonts.googleapis.com" not in response.content.decode()


@pytest.mark.django_db
def test_json_responses_carry_no_page_policy(client):
    assert "Content-Security-Policy" not in client.get("/api/v1/", headers={"Accept": "application/json"})


@pytest.mark.django_db
def test_the_site_root_is_the_landing_page_linking_the_api_root(client):
    response = client.get("/")
    assert response.status_code == 200 and 'href="/api/v1/"' in response.content.decode()
    assert "Content-Security-Policy" in response
    assert client.get("/favicon.ico").status_code == 301
