"""Input at the edge of the REST API: what no endpoint takes is refused, naming what was wrong, before
anything reads it (issue 12). Every case here once answered 200 (or 500)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml
from django.conf import settings

from tests import api_helpers as h
from tests.factories import (
    EventFactory,
    IndicatorFactory,
    ObservationFactory,
    ProjectStatusFactory,
    RegionFactory,
    SourceFactory,
)

pytestmark = pytest.mark.django_db

SPEC = yaml.safe_load((Path(settings.BASE_DIR) / "docs" / "openapi" / "v1.yaml").read_text())
KEY_ROUTES = sorted(path for path, item in SPEC["paths"].items() if "{key}" in path and "get" in item)  # reads


@pytest.fixture
def world():
    grain = IndicatorFactory(code="grain-output")
    for year in (2020, 2024):
        ObservationFactory(indicator=grain, period_start=dt.date(year, 1, 1), period_end=dt.date(year, 12, 31))
    SourceFactory(slug="2024-report")
    RegionFactory(code="changchun")
    EventFactory()
    ProjectStatusFactory()
    return grain


def invalid(client, url: str) -> list[str]:
    """The parameters a 400 problem names."""
    return [p["name"] for p in h.problem(client, url, 400)["invalid_params"]]


# -- control characters ---------------------------------------------------------------------------

def test_every_key_route_is_checked():
    assert len(KEY_ROUTES) >= 10


@pytest.mark.parametrize("path", KEY_ROUTES)
@pytest.mark.parametrize("key", ["a%00b", "a%1Fb", "%7F", "x%0Ay"])
def test_a_control_character_in_a_path_key_is_404(client, world, path, key):
    """`/api/v1/indicators/a%00b/` was a 500 on PostgreSQL (a NUL reached the database) on ten routes."""
    data = h.problem(client, path.replace("{key}", key), 404)
    assert "control character" in data["detail"]


@pytest.mark.parametrize("query, name", [
    ("q=grain%00", "q"),
    ("indicator=grain-output%01", "indicator"),
    ("kind=actual%7F", "kind"),
    ("cursor=abc%00", "cursor"),
    ("fields=uid%0A", "fields"),
    ("ordering=period_start%09", "ordering"),
    ("updated_since=2025-01-01T00:00:00Z%00", "updated_since"),
    ("a%00b=1", "a\x00b"),
])
def test_a_control_character_in_a_parameter_is_400_naming_it(client, world, query, name):
    data = h.problem(client, f"/api/v1/observations/?{query}", 400)
    assert [p["name"] for p in data["invalid_params"]] == [name]
    assert "control character" in data["invalid_params"][0]["reason"]


def test_the_api_root_refuses_control_characters(client):
    assert invalid(client, "/api/v1/?format=json%00") == ["format"]


# -- strict values ----------------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["yes", "1", "0", "no", "True", "TRUE", "%20true"])
def test_booleans_are_exactly_true_or_false(client, world, value):
    for name in ("count", "include_deleted", "bom"):
        assert invalid(client, f"/api/v1/observations/?{name}={value}") == [name]
    assert invalid(client, f"/api/v1/indicators/?has_target={value}") == ["has_target"]


def test_true_and_false_are_booleans(client, world):
    assert h.ok(client, "/api/v1/observations/?count=true")["count"] == 2
    assert "count" not in h.ok(client, "/api/v1/observations/?count=false&include_deleted=false")


@pytest.mark.parametrize("query", ["page_size=%205", "page_size=5%20", "page_size=%2B5", "page_size=5.0",
                                   "page_size=%D9%A5", "page_size=1e2", "mrv=%201", "mrv=1.5", "mrv=%2B1",
                                   "mrv=%D9%A1"])
def test_integers_are_decimal_digits_only(client, world, query):
    assert invalid(client, f"/api/v1/observations/?{query}") == [query.split("=")[0]]


def test_integers_in_range_are_read(client, world):
    assert len(h.ok(client, "/api/v1/observations/?page_size=1&mrv=1")["results"]) == 1


@pytest.mark.parametrize("name", ["updated_since", "q", "ordering", "cursor", "page_size", "fields", "kind",
                                  "indicator", "format"])
def test_an_empty_value_is_400(client, world, name):
    data = h.problem(client, f"/api/v1/observations/?{name}=", 400)
    assert [p["name"] for p in data["invalid_params"]] == [name]
    assert "Empty" in data["invalid_params"][0]["reason"]


@pytest.mark.parametrize("query, name", [
    ("kind=actual&kind=target", "kind"),
    ("indicator=a&indicator=b", "indicator"),
    ("page_size=1&page_size=2", "page_size"),
    ("format=json&format=csv", "format"),
])
def test_a_repeated_parameter_is_400_naming_it(client, world, query, name):
    data = h.problem(client, f"/api/v1/observations/?{query}", 400)
    assert [p["name"] for p in data["invalid_params"]] == [name]
    assert "2 times" in data["invalid_params"][0]["reason"]


@pytest.mark.parametrize("url, name", [
    ("/api/v1/observations/?period_from=2026&period_to=2020", "period_from"),
    ("/api/v1/observations/?period_from=2024-07-01&period_to=2024-06-30", "period_from"),
    ("/api/v1/indicators/grain-output/observations/?period_from=2026&period_to=2020", "period_from"),
    ("/api/v1/sources/?date_from=2026&date_to=2020", "date_from"),
    ("/api/v1/events/?date_from=2026&date_to=2020", "date_from"),
    ("/api/v1/projects/?date_from=2026&date_to=2020", "date_from"),
    ("/api/v1/project-statuses/?date_from=2026&date_to=2020", "date_from"),
])
def test_a_reversed_range_is_400(client, world, url, name):
    data = h.problem(client, url, 400)
    assert [p["name"] for p in data["invalid_params"]] == [name]
    assert "after" in data["invalid_params"][0]["reason"]


def test_a_range_of_one_year_is_a_range(client, world):
    assert len(h.ok(client, "/api/v1/observations/?period_from=2024&period_to=2024")["results"]) == 1


@pytest.mark.parametrize("query", [
    "indicator=grain-output,%20gdp", "indicator=grain-output,", "indicator=,grain-output", "indicator=a,,b",
    "fields=uid,%20value", "fields=uid,", "expand=indicator,,region", "ordering=period_start,,indicator",
    "ordering=%20period_start", "period_from=%202024", "period_from=20240101", "period_from=2024-W01-1",
    "period_to=2024-06-30%20",
])
def test_lists_and_periods_are_read_exactly(client, world, query):
    """Comma-separated lists have no spaces and no empty items, periods are YYYY or YYYY-MM-DD: what
    the OpenAPI document says, and nothing the server would read some other way."""
    assert invalid(client, f"/api/v1/observations/?{query}") == [query.split("=")[0]]


# -- paths ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path, location", [
    ("/api/v1/indicators?q=grain", "/api/v1/indicators/?q=grain"),
    ("/api/v1/indicators/grain-output", "/api/v1/indicators/grain-output/"),
    ("/api/v1/sources/2024-report/observations?page_size=1", "/api/v1/sources/2024-report/observations/?page_size=1"),
    ("/api/v1", "/api/v1/"),
])
def test_a_path_without_its_trailing_slash_redirects(client, world, path, location):
    response = h.get(client, path)
    assert response.status_code == 301 and response["Location"] == location
    assert h.get(client, location).status_code == 200


def test_an_unknown_path_without_a_slash_is_still_404(client, world):
    h.problem(client, "/api/v1/indicatorz", 404)
    assert client.head("/api/v1/indicators").status_code == 301


@pytest.mark.parametrize("query", ["indicator=%20grain-output", "indicator=grain-output%20"])
def test_codes_are_not_trimmed(client, world, query):
    assert invalid(client, f"/api/v1/observations/?{query}") == ["indicator"]


# -- cursors ----------------------------------------------------------------------------------------

def cursor_of(url: str) -> str:
    from urllib.parse import parse_qs, urlsplit

    return parse_qs(urlsplit(url).query)["cursor"][0]


@pytest.fixture
def cited(world):
    source = SourceFactory(slug="2025-plan")
    cites = h.citations(source, 1)
    for observation in world.observations.all():
        observation.citations.add(*cites)
    return source


@pytest.mark.parametrize("elsewhere", ["/api/v1/sources/2025-plan/observations/",
                                       "/api/v1/indicators/grain-output/observations/?ordering=indicator,period_start",
                                       "/api/v1/indicators/"])
def test_a_cursor_is_refused_by_another_collection(client, cited, elsewhere):
    cursor = cursor_of(h.ok(client, "/api/v1/observations/?page_size=1")["next"])
    separator = "&" if "?" in elsewhere else "?"
    data = h.problem(client, f"{elsewhere}{separator}cursor={cursor}", 400)
    assert [p["name"] for p in data["invalid_params"]] == ["cursor"]
    assert "/api/v1/observations/" in data["invalid_params"][0]["reason"]


def test_a_cursor_is_valid_under_its_own_parent_only(client, cited):
    SourceFactory(slug="other")
    nxt = h.ok(client, "/api/v1/sources/2025-plan/observations/?page_size=1")["next"]
    assert len(h.ok(client, nxt)["results"]) == 1
    cursor = cursor_of(nxt)
    reason = h.problem(client, f"/api/v1/sources/other/observations/?cursor={cursor}", 400)["invalid_params"][0]
    assert "/api/v1/sources/2025-plan/observations/" in reason["reason"]


def test_a_crafted_cursor_never_reaches_the_database(client, world, django_assert_max_num_queries):
    """The old unsigned format, with a key value out of any column's range, and a signed cursor
    whose payload was edited: refused by their signature, before any data query."""
    import base64
    import json

    payload = {"o": "indicator,period_start", "v": [2 ** 70, "2024-01-01", 2 ** 70], "b": 0}
    unsigned = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")
    real = cursor_of(h.ok(client, "/api/v1/observations/?page_size=1")["next"])
    _, signature = real.rsplit(".", 1)
    forged = base64.urlsafe_b64encode(json.dumps({"s": "/api/v1/observations/", **payload}).encode()).decode()
    for token in (unsigned, f"{forged.rstrip('=')}.{signature}", "x" * 5000):
        with django_assert_max_num_queries(1):  # the 304 check's one small query, no data query
            data = h.problem(client, f"/api/v1/observations/?cursor={token}", 400)
        assert data["invalid_params"][0]["name"] == "cursor"
        assert "Not a cursor of this API" in data["invalid_params"][0]["reason"]


@pytest.mark.django_db
@pytest.mark.parametrize("query, param", [
    ("count=-1&format=ndjson", "count"),
    ("page_size=5000&format=csv", "page_size"),
    ("cursor=JQsIDzW5R&format=ndjson", "cursor"),
])
def test_an_export_refuses_bad_page_parameters_it_does_not_use(client, query, param):
    """Found by the contract fuzzing: an export ignored the page's parameters, bad values included."""
    from tests import api_helpers as h

    data = h.problem(client, f"/api/v1/observations/?{query}", 400)
    assert [p["name"] for p in data["invalid_params"]] == [param]
    assert h.get(client, "/api/v1/observations/?count=true&page_size=5&format=ndjson").status_code == 200
