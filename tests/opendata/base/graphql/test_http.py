"""The endpoint over HTTP: POST for clients, GET for cacheable queries, GraphiQL for browsers, CORS."""

import json

import pytest
from django.test import Client

from tests.factories import TopicFactory
from tests.opendata.base.graphql.helpers import URL, post

QUERY = "{ topics { nodes { code } } }"


@pytest.fixture
def topic(db):
    return TopicFactory(code="agriculture")


def test_post_json(client, topic):
    response = post(client, QUERY)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["data"] == {"topics": {"nodes": [{"code": "agriculture"}]}}


def test_post_application_graphql_body(client, topic):
    response = client.post(URL, QUERY, content_type="application/graphql")
    assert response.json()["data"]["topics"]["nodes"] == [{"code": "agriculture"}]


def test_get_query_with_variables(client, topic):
    response = client.get(URL, {"query": "query($c: Code!) { topic(code: $c) { code } }",
                                "variables": json.dumps({"c": "agriculture"})}, headers={"Accept": "application/json"})
    assert response.status_code == 200
    assert response.json()["data"] == {"topic": {"code": "agriculture"}}
    assert not response.cookies  # nothing keeps a shared cache from storing it


def test_get_never_runs_a_mutation(client, db):
    response = client.get(URL, {"query": "mutation { x }"}, headers={"Accept": "application/json"})
    assert response.status_code == 405
    assert "POST" in response.json()["errors"][0]["message"]


def test_post_from_another_origin_needs_no_csrf_token(topic):
    client = Client(enforce_csrf_checks=True)
    response = post(client, QUERY, Origin="https://example.org")
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    assert not response.cookies  # cookies are not headers of a test response: "Set-Cookie" in it is always false


@pytest.mark.parametrize("accept", ["application/json", "text/html"])
def test_no_response_sets_a_cookie(client, topic, accept):
    """GraphQLView.dispatch would set a CSRF cookie (ensure_csrf_cookie): neither a query by GET nor
    the GraphiQL page sets one."""
    response = client.get(URL, {"query": QUERY} if accept == "application/json" else {}, headers={"Accept": accept})
    assert response.status_code == 200 and response["Content-Type"].startswith(accept)
    assert not response.cookies


def test_cors_preflight(client):
    response = client.options(URL, headers={"Origin": "https://example.org", "Access-Control-Request-Method": "POST",
                                            "Access-Control-Request-Headers": "content-type"})
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "POST" in response["Access-Control-Allow-Methods"]


def test_browser_gets_graphiql(client, db):
    response = client.get(URL, headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert b"graphiql" in response.content.lower()


def test_missing_query_is_a_400(client, db):
    response = client.get(URL, headers={"Accept": "application/json"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == "Must provide query string."


def test_syntax_error_is_a_400_without_data(client, db):
    response = post(client, "{ topics { ")
    assert response.status_code == 400
    assert "data" not in response.json()
    assert "Syntax Error" in response.json()["errors"][0]["message"]


def test_methods_other_than_get_and_post_are_refused(client, db):
    assert client.put(URL, QUERY, content_type="application/graphql").status_code == 405


@pytest.mark.parametrize("body, name", [
    ({"query": 5}, "query"),
    ({"query": ["{ topics { totalCount } }"]}, "query"),
    ({"query": "{ topics { totalCount } }", "variables": [1]}, "variables"),
    ({"query": "{ topics { totalCount } }", "operationName": {"a": 1}}, "operationName"),
])
def test_ill_typed_request_is_a_400_naming_the_member(client, db, body, name):
    response = client.post(URL, data=json.dumps(body), content_type="application/json")
    assert response.status_code == 400
    assert f"`{name}` must be" in response.json()["errors"][0]["message"]


def test_rate_limit_is_429_with_retry_after_and_shares_the_rest_budget(client, topic, settings):
    settings.API_RATE_LIMITS = {**settings.API_RATE_LIMITS, "anonymous": "2/min"}
    client.get("/api/v1/topics/")
    assert post(client, QUERY).status_code == 200
    response = post(client, QUERY)
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert response.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"


def test_graphiql_page_loads_only_files_of_this_api_whose_bytes_match_their_integrity_hashes(client, db):
    """The GraphiQL scripts are vendored (opendata/static/graphiql/): the page names no other origin, and
    each file is byte for byte the npm release graphene-django's integrity hash was computed from."""
    import base64
    import hashlib
    import re

    from django.contrib.staticfiles import finders

    html = client.get(URL, headers={"Accept": "text/html"}).content.decode()
    assert "https://" not in html and "http://" not in html.replace("http://www.w3.org", "")
    assets = re.findall(r'(?:src|href)="/static/([^"]+)"\s+integrity="(sha256-[^"]+)"', html)
    assert len(assets) == 8, assets
    for path, integrity in assets:
        digest = hashlib.sha256(open(finders.find(path), "rb").read()).digest()
        assert integrity == "sha256-" + base64.b64encode(digest).decode(), path
