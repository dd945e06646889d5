"""The OpenAPI contract: the committed docs/openapi/v1.yaml is what the code generates, it is valid
OpenAPI 3, it documents every route, and real responses conform to it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.core.management import call_command
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate

from tests import api_helpers as h
from tests.factories import EventFactory, ObservationFactory, ProjectStatusFactory, RegionFactory

COMMITTED = Path(settings.BASE_DIR) / "docs" / "openapi" / "v1.yaml"
FIX = "regenerate it with `make schema` and review the diff"


@pytest.fixture(scope="module")
def spec():
    return yaml.safe_load(COMMITTED.read_text())


def test_committed_schema_matches_the_code(tmp_path):
    generated = tmp_path / "v1.yaml"
    call_command("spectacular", "--api-version", "v1", "--file", str(generated))
    assert generated.read_text() == COMMITTED.read_text(), f"docs/openapi/v1.yaml is out of date: {FIX}"


def test_committed_schema_is_valid_openapi(spec):
    validate(spec)
    assert spec["openapi"].startswith("3.")


def test_every_operation_is_documented_with_id_errors_and_descriptions(spec):
    ids = []
    for path, item in spec["paths"].items():
        assert path.startswith("/api/v1/")
        if "get" not in item:  # a write-only route (restore, bulk): see test_every_write_is_documented
            continue
        op = item["get"]
        ids.append(op["operationId"])
        assert re.fullmatch(r"[a-z_]+_(list|retrieve)", op["operationId"]), op["operationId"]
        assert op.get("summary"), path
        for code in ("200", "304", "400", "404", "500"):
            assert code in op["responses"], (path, code)
        assert "application/problem+json" in op["responses"]["400"]["content"]
        for p in op.get("parameters", []):
            assert p.get("description") or p["in"] == "path", (path, p["name"])
        if "{key}" in path:
            assert "410" in op["responses"], path
    assert len(ids) == len(set(ids))
    assert {"observation_list", "observation_retrieve", "indicator_observations_list", "source_text_retrieve",
            "project_timeline_list", "region_children_list", "api_root_retrieve"} <= set(ids)


def test_the_contract_declares_api_keys_as_bearer_and_the_rate_limit_headers(spec):
    assert spec["components"]["securitySchemes"]["ApiKey"]["type"] == "http"
    assert spec["components"]["securitySchemes"]["ApiKey"]["scheme"] == "bearer"
    for item in spec["paths"].values():
        if "get" not in item:
            continue
        op = item["get"]
        assert op["security"] == [{"ApiKey": []}, {}]  # a key, or none: reading is open
        assert {"RateLimit", "RateLimit-Policy"} <= set(op["responses"]["200"]["headers"])
        assert {"Retry-After", "RateLimit", "RateLimit-Policy"} <= set(op["responses"]["429"]["headers"])
        assert "WWW-Authenticate" in op["responses"]["401"]["headers"]


def test_list_operations_document_pagination_filters_and_formats(spec):
    op = spec["paths"]["/api/v1/observations/"]["get"]
    names = {p["name"] for p in op["parameters"]}
    assert {"cursor", "page_size", "count", "ordering", "fields", "expand", "format", "bom", "indicator", "region",
            "period_from", "period_to", "mrv", "q", "updated_since", "include_deleted"} <= names
    page_size = next(p for p in op["parameters"] if p["name"] == "page_size")
    assert page_size["schema"]["maximum"] == 1000
    content = op["responses"]["200"]["content"]
    assert {"application/json", "text/csv", "application/x-ndjson"} <= set(content)
    assert {"Link", "ETag", "Last-Modified"} <= set(op["responses"]["200"]["headers"])
    nested = spec["paths"]["/api/v1/indicators/{key}/observations/"]["get"]
    assert "indicator" not in {p["name"] for p in nested["parameters"]}  # pinned by the URL


def test_every_url_route_is_in_the_schema(spec):
    from indicators.api.v1.urls import urlpatterns as indicators
    from opendata.catalogue.api.v1.urls import urlpatterns as catalogue
    from opendata.config.urls_v1 import urlpatterns as root
    from projects.api.v1.urls import urlpatterns as projects

    documented = {re.sub(r"\{[^}]+\}", "X", p) for p in spec["paths"]}

    for pattern in [*root, *catalogue, *indicators, *projects]:
        route = str(getattr(pattern, "pattern", ""))
        if not hasattr(pattern, "callback") or route in ("schema/", "docs/", "redoc/"):
            continue
        if str(getattr(pattern, "name", "")).endswith("-suffix"):
            # `/api/v1/observations.csv`: the collection's list with the format from the suffix, the
            # same operation as `?format=csv` (documented in docs/rest.md, Formats).
            base = re.match(r"\^(.+)\\\.", route).group(1)
            assert f"/api/v1/{base}/" in documented, route
            continue
        assert "/api/v1/" + re.sub(r"<[^>]+>", "X", route) in documented, route


@pytest.mark.django_db
@pytest.mark.parametrize("url, path", [
    ("/api/v1/observations/?expand=indicator,region,unit,source&count=true", "/api/v1/observations/"),
    ("/api/v1/observations/", "/api/v1/observations/"),
    ("/api/v1/regions/?expand=parent", "/api/v1/regions/"),
    ("/api/v1/projects/?expand=topic,regions,source", "/api/v1/projects/"),
    ("/api/v1/events/?expand=series,region,project", "/api/v1/events/"),
    ("/api/v1/events/", "/api/v1/events/"),
    ("/api/v1/project-statuses/", "/api/v1/project-statuses/"),
    ("/api/v1/sources/", "/api/v1/sources/"),
    ("/api/v1/indicators/", "/api/v1/indicators/"),
    ("/api/v1/", "/api/v1/"),
    ("/api/v1/observations/?kind=maybe", "/api/v1/observations/"),
    ("/api/v1/indicators/none/", "/api/v1/indicators/{key}/"),
    ("/api/v1/observations/?fields=value,created_at", "/api/v1/observations/"),
    ("/api/v1/sources/?fields=slug&expand=text", "/api/v1/sources/"),
    ("/api/v1/indicators/?expand=unit,topic&fields=code,unit", "/api/v1/indicators/"),
    ("/api/v1/project-statuses/?expand=project,source", "/api/v1/project-statuses/"),
    ("/api/v1/projects/?date_to=0000", "/api/v1/projects/"),
])
def test_responses_conform_to_the_committed_schema(client, spec, url, path):
    """Zulip-style: real responses are validated against the contract, sparse (`fields=`) and
    expanded (`expand=`) ones included."""
    obs = ObservationFactory()
    obs.citations.add(*h.citations())
    ProjectStatusFactory().project.regions.add(RegionFactory())
    EventFactory()
    response = h.get(client, url)
    code = str(response.status_code)
    op = spec["paths"][path]["get"]
    media = "application/problem+json" if code.startswith("4") else "application/json"
    schema = dict(op["responses"][code]["content"][media]["schema"], components=spec["components"])
    instance = response.json()
    OAS30Validator(schema).validate(instance)


@pytest.mark.django_db
def test_documentation_pages_are_served_without_a_cdn(client):
    schema = h.get(client, "/api/v1/schema/")
    assert schema.status_code == 200 and b"observation_list" in schema.content
    for url in ("/api/v1/docs/", "/api/v1/redoc/"):
        page = h.get(client, url)
        assert page.status_code == 200
        html = page.content.decode()
        assert "cdn.jsdelivr" not in html and "unpkg.com" not in html
        assert "/static/drf_spectacular_sidecar/" in html


def test_every_query_and_path_parameter_is_constrained(spec):
    """Issue 12: every parameter says what it takes (an enum, a pattern, a format, bounds), so that a
    client, a validator or a fuzzer knows what the server refuses."""
    loose = set()
    for path, item in spec["paths"].items():
        for p in [p for op in item.values() for p in op.get("parameters", [])]:
            if p["in"] == "header":
                continue
            s = p["schema"]
            if not ("enum" in s or "pattern" in s or s.get("format") in ("date-time", "uuid") or s["type"] == "boolean"
                    or (s["type"] == "integer" and {"minimum", "maximum"} <= set(s))):
                loose.add((path, p["name"]))
    assert not loose


@pytest.mark.django_db
@pytest.mark.parametrize("name, value, accepted", [
    ("indicator", "grain-output,gdp", True), ("indicator", "gdp, x", False), ("indicator", "gdp,", False),
    ("fields", "uid,value", True), ("fields", "uid, value", False), ("fields", "colour", False),
    ("expand", "indicator,region", True), ("expand", "indicator,", False),
    ("ordering", "-period_start,indicator", True), ("ordering", "period_start,,indicator", False),
    ("ordering", "value", False), ("period_from", "2024", True), ("period_from", "2024-06-30", True),
    ("period_from", "20240630", False), ("period_from", " 2024", False), ("q", "粮食", True), ("q", "a\x00b", False),
    ("q", "", False), ("kind", "actual", True), ("kind", "maybe", False), ("cursor", "abc\x00", False),
    ("updated_since", "2025-01-01T00:00:00Z", True),
])
def test_the_schema_and_the_server_agree(client, spec, name, value, accepted):
    from urllib.parse import urlencode

    op = spec["paths"]["/api/v1/observations/"]["get"]
    schema = next(p for p in op["parameters"] if p["name"] == name)["schema"]
    documented = not list(OAS30Validator(schema, format_checker=OAS30Validator.FORMAT_CHECKER).iter_errors(value))
    status = h.get(client, "/api/v1/observations/?" + urlencode({name: value})).status_code
    assert (documented, status) == (accepted, 200 if accepted else 400)


WRITES = {"post": ("create", "restore", "bulk_upsert"), "put": ("upsert",), "patch": ("update",), "delete": ("delete",)}
WRITABLE = ["sources", "regions", "topics", "units", "indicators", "observations", "projects", "project-statuses",
            "events", "event-series"]


def test_every_write_is_documented(spec):
    """Each writable collection has its five writes (observations a bulk one too), each with its body, its
    answer and headers, every error as problem+json, If-Match where a record exists, Idempotency-Key, and
    the API key it needs (no anonymous access)."""
    found = set()
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method not in WRITES:
                continue
            action = next(a for a in WRITES[method] if op["operationId"].endswith("_" + a))
            found.add((path, method))
            assert op["security"] == [{"ApiKey": []}], path  # a key, never anonymous
            assert op.get("summary") and "write` scope" in op["description"], (path, method)
            headers = {p["name"] for p in op.get("parameters", []) if p["in"] == "header"}
            assert "Idempotency-Key" in headers, (path, method)
            codes = set(op["responses"])
            assert {"400", "401", "403", "429"} <= codes, (path, method)
            if action in ("upsert", "update", "delete", "restore"):
                assert "If-Match" in headers and {"412", "428"} <= codes, (path, method)
            if action in ("create", "upsert", "update", "bulk_upsert"):
                assert op["requestBody"]["content"]["application/json"]["schema"]["$ref"], (path, method)
                assert {"415", "422"} <= codes, (path, method)
            if action in ("update", "delete", "restore"):
                assert {"404", "412"} <= codes, (path, method)
            if action == "update":
                assert "410" in codes, path  # a deleted record is restored first
            for code, response in op["responses"].items():
                if code.startswith(("4", "5")):
                    assert response["content"]["application/problem+json"]["schema"]["$ref"].endswith(
                        "/WriteProblem"), (path, method, code)
                else:
                    assert {"RateLimit", "Cache-Control"} <= set(response["headers"]), (path, method, code)
                    assert action == "bulk_upsert" or "ETag" in response["headers"], (path, method, code)
            if "201" in op["responses"]:
                assert "Location" in op["responses"]["201"]["headers"]
    for collection in WRITABLE:
        base = f"/api/v1/{collection}/"
        assert {(base, "post"), (base + "{key}/", "put"), (base + "{key}/", "patch"), (base + "{key}/", "delete"),
                (base + "{key}/restore/", "post")} <= found, collection
    assert ("/api/v1/observations/bulk/", "post") in found
    body = spec["components"]["schemas"]["ObservationCreateRequest"]
    assert {"indicator", "region", "period_start", "value", "citations"} <= set(body["required"])
    assert "created_at" not in body["properties"] and body["properties"]["value"]["type"] == "string"
    assert "required" not in spec["components"]["schemas"]["PatchedTopicWriteRequest"]
    assert spec["components"]["schemas"]["TopicCreateRequest"]["required"] == ["code", "name_en", "name_zh"]
    assert "code" not in spec["components"]["schemas"]["TopicWriteRequest"]["required"]  # PUT: the URL's


@pytest.mark.django_db
def test_write_responses_conform_to_the_committed_schema(client, spec, world):
    """The answers of writes, successes and problems, validated against the contract."""
    from tests.write_api import BY_COLLECTION, call, issue

    _, key = issue("contract")
    topics, observations = BY_COLLECTION["topics"], BY_COLLECTION["observations"]

    def check(response, path: str, method: str):
        code = str(response.status_code)
        op = spec["paths"][path][method]
        assert code in op["responses"], (path, method, code)
        media = "application/problem+json" if code.startswith("4") else "application/json"
        schema = dict(op["responses"][code]["content"][media]["schema"], components=spec["components"])
        OAS30Validator(schema).validate(response.json())
        return response

    made = check(call(client, "POST", topics.url(), topics.create, key=key), "/api/v1/topics/", "post")
    detail = "/api/v1/topics/{key}/"
    check(call(client, "POST", topics.url(), topics.create, key=key), "/api/v1/topics/", "post")  # 409
    check(call(client, "POST", topics.url(), {"code": "x"}, key=key), "/api/v1/topics/", "post")  # 422
    check(call(client, "POST", topics.url(), raw=b"{", key=key), "/api/v1/topics/", "post")  # 400
    check(call(client, "POST", topics.url(), topics.create), "/api/v1/topics/", "post")  # 401
    check(call(client, "PATCH", topics.url("transport"), topics.patch, key=key), detail, "patch")  # 428
    check(call(client, "PATCH", topics.url("transport"), topics.patch, key=key, **{"If-Match": '"x"'}), detail,
          "patch")  # 412
    patched = check(call(client, "PATCH", topics.url("transport"), topics.patch, key=key,
                         **{"If-Match": made["ETag"]}), detail, "patch")
    check(call(client, "PUT", topics.url("roads"), {"name_zh": "道路", "name_en": "Roads"}, key=key), detail, "put")
    deleted = check(call(client, "DELETE", topics.url("transport"), key=key, **{"If-Match": patched["ETag"]}),
                    detail, "delete")
    check(call(client, "PATCH", topics.url("transport"), topics.patch, key=key, **{"If-Match": "*"}), detail,
          "patch")  # 410
    check(call(client, "POST", topics.url("transport") + "restore/", key=key, **{"If-Match": deleted["ETag"]}),
          "/api/v1/topics/{key}/restore/", "post")
    check(call(client, "POST", observations.url(), observations.create, key=key), "/api/v1/observations/", "post")
    bulk = "/api/v1/observations/bulk/"
    check(call(client, "POST", bulk, {"rows": [observations.create]}, key=key), bulk, "post")
    check(call(client, "POST", bulk, {"rows": [{**observations.create, "value": "1"}]}, key=key), bulk, "post")
