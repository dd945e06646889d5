"""No N+1: the SQL queries of a query depend on its shape, never on the number of records it returns."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from indicators.models import Indicator
from opendata.catalogue.models import Citation
from tests.factories import ObservationFactory
from tests.opendata.base.graphql.helpers import nodes, post, world

pytestmark = pytest.mark.django_db

# Each query goes at least three levels deep, through connections, joins, lists and batch relations.
QUERIES = {
    "observations": """{ observations(first: 100) { nodes { uid value indicator { code topic { code } }
        region { code parent { code } } unit { symbol }
        citations(first: 3) { nodes { quote source { slug periods { label } } } } } } }""",
    "indicators": """{ indicators(first: 60) { totalCount edges { cursor node { code unit { symbol }
        targets { met target { uid citations(first: 2) { nodes { quote } } } result { uid region { code } } }
        observations(first: 10, kind: actual) { totalCount nodes { uid citations(first: 2) { nodes { source { slug } } } } } } } } }""",
    "projects": """{ projects(first: 60) { nodes { slug topic { code } regions { code parent { code } }
        timeline(first: 5) { nodes { status citations(first: 2) { nodes { quote source { slug } } } } }
        events(first: 5) { nodes { slug series { slug } region { code } } } } } }""",
    "sources": """{ sources(first: 2) { nodes { slug
        observations(first: 100) { nodes { uid indicator { code } citations(first: 2) { nodes { quote } } } }
        projectStatuses(first: 100) { nodes { uid project { slug regions { code } } } }
        events(first: 60) { nodes { slug citations(first: 2) { nodes { source { slug } } } } } } } }""",
    "event_series": """{ eventSeries(first: 2) { nodes { slug events(first: 60) { nodes { slug
        project { slug timeline(first: 3) { nodes { status } } } citations(first: 2) { nodes { source { slug } } } } } } } }""",
    "regions": """{ regions(first: 3) { nodes { code children(first: 3) { nodes { code
        observations(first: 100) { nodes { uid indicator { code } citations(first: 2) { nodes { quote } } } }
        projects(first: 60) { nodes { slug } } events(first: 60) { nodes { slug } } } } } } }""",
    "topics": """{ topics(first: 3) { nodes { code indicators(first: 60) { nodes { code
        observations(first: 3) { nodes { uid region { code } } } } } projects(first: 60) { nodes { slug } } } } }""",
}

# bench/wrk_bench.py's R4 (the GraphQL scenario of the benchmark), on the fast path (opendata.base.graphql.fastpath).
R4_QUERY = """query R4($ind: [Code!]) { observations(indicator: $ind, orderBy: ["period_start"], first: 100) {
  nodes { uid periodStart periodEnd periodLabel kind comparator value
          indicator { code nameEn }
          citations(first: 10) { nodes { quote source { slug } } } } } }"""

# The SQL queries of each: one per root page, one per nested list (a Prefetch or a batch), joins free.
QUERY_COUNTS = {"observations": 3, "indicators": 6, "projects": 5, "sources": 7, "event_series": 4, "regions": 6,
                "topics": 4}


def run(client, query: str) -> tuple[int, dict]:
    with CaptureQueriesContext(connection) as captured:
        response = post(client, query)
    payload = response.json()
    assert response.status_code == 200 and "errors" not in payload, payload
    return len(captured.captured_queries), payload["data"]


def count_leaves(data) -> int:
    """Records in a response: every object with a key (uid, code, slug, quote, status)."""
    if isinstance(data, list):
        return sum(count_leaves(x) for x in data)
    if isinstance(data, dict):
        own = 1 if {"uid", "code", "slug", "quote", "status"} & set(data) else 0
        return own + sum(count_leaves(v) for v in data.values())
    return 0


@pytest.mark.parametrize("name", QUERIES)
def test_same_number_of_queries_for_5_and_50_records(client, name):
    world(5)
    few_queries, few = run(client, QUERIES[name])
    world(45, start=5)
    many_queries, many = run(client, QUERIES[name])
    assert count_leaves(many) > 3 * count_leaves(few)  # many more records were returned...
    assert many_queries == few_queries == QUERY_COUNTS[name]  # ...with the same queries


def test_three_levels_deep_5_and_50_records(client):
    """indicator -> observations -> citations -> source, for 5 and for 50 indicators."""
    query = """{ indicators(first: 60) { nodes { code observations(first: 10) { nodes { uid
               citations(first: 5) { nodes { quote source { slug } } } } } } } }"""
    world(5)
    few_queries, few = run(client, query)
    world(45, start=5)
    many_queries, many = run(client, query)
    assert len(nodes(few["indicators"])) == 5 and len(nodes(many["indicators"])) == 50
    assert all(len(nodes(i["observations"])) == 2 for i in nodes(many["indicators"]))
    # indicators, their observations, the observations' citations (with their source, joined)
    assert few_queries == many_queries == 3


def test_lookup_and_node_queries_do_not_grow(client):
    query = """query($id: ID!) { node(id: $id) { ... on Source { slug observations(first: 100) { nodes { uid
               indicator { code } citations(first: 2) { nodes { quote } } } } } } }"""
    world(5)
    source_id = post(client, '{ source(slug: "world-source-0") { id } }').json()["data"]["source"]["id"]
    with CaptureQueriesContext(connection) as captured:
        few = post(client, query, {"id": source_id}).json()["data"]
    few_queries = len(captured.captured_queries)
    for _ in range(45):
        ObservationFactory().citations.add(*Citation.objects.filter(source__slug="world-source-0"))
    with CaptureQueriesContext(connection) as captured:
        many = post(client, query, {"id": source_id}).json()["data"]
    assert len(nodes(many["node"]["observations"])) == len(nodes(few["node"]["observations"])) + 45
    assert len(captured.captured_queries) == few_queries


def test_total_count_only_when_asked(client, django_assert_num_queries):
    world(3)
    with django_assert_num_queries(1):
        data = post(client, "{ observations(first: 2) { nodes { uid } pageInfo { hasNextPage } } }").json()["data"]
    assert data["observations"]["pageInfo"]["hasNextPage"] is True
    with CaptureQueriesContext(connection) as captured:
        data = post(client, "{ observations(first: 2) { totalCount nodes { uid } } }").json()["data"]
    assert data["observations"]["totalCount"] == 6
    assert len(captured.captured_queries) == 2
    assert "COUNT(" in captured.captured_queries[-1]["sql"].upper()


@pytest.mark.parametrize("fast", [True, False])
def test_r4_statements_do_not_depend_on_the_page_size(client, fast):
    """R4: the indicator's id (CodeListFilter), the page, the page's citations with their sources (joined):
    3 statements for a page of 3 observations and for one of 100, on the fast path and off it."""
    from django.test import override_settings

    world(2)
    code = post(client, "{ indicators(first: 1) { nodes { code } } }").json()["data"]["indicators"]["nodes"][0]["code"]
    indicator = Indicator.objects.get(code=code)
    for year in range(1800, 1920):
        ObservationFactory(indicator=indicator, period_start=dt.date(year, 1, 1), period_end=dt.date(year, 12, 31),
                           period_label=str(year)).citations.add(*Citation.objects.all()[:2])
    counts = []
    for first in (3, 100):
        with override_settings(GRAPHQL_FAST_PATH=fast), CaptureQueriesContext(connection) as captured:
            response = post(client, R4_QUERY.replace("first: 100", f"first: {first}"), {"ind": [code]})
        payload = response.json()
        assert response.status_code == 200 and "errors" not in payload, payload
        assert len(payload["data"]["observations"]["nodes"]) == first
        counts.append(len(captured.captured_queries))
    assert counts == [3, 3]
