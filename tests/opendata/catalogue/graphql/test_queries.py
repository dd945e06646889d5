"""GraphQL root fields of the catalogue: sources (and the facts citing them), regions, topics, units."""

import datetime as dt

import pytest
from graphql_relay import to_global_id

from opendata.catalogue.models import Region
from tests.factories import (
    CitationFactory,
    EventFactory,
    IndicatorFactory,
    ObservationFactory,
    ProjectStatusFactory,
    RegionFactory,
    SourceFactory,
    TopicFactory,
    UnitFactory,
)
from tests.opendata.base.graphql.helpers import gql, gql_errors, keys, nodes

pytestmark = pytest.mark.django_db


@pytest.fixture
def data():
    city = RegionFactory(code="changchun")
    district = RegionFactory(code="nanguan", name_zh="南关区", name_en="Nanguan", kind=Region.Kind.DISTRICT, parent=city)
    agriculture = TopicFactory(code="agriculture")
    UnitFactory(symbol="亿元", name_en="hundred million yuan", base_unit="CNY", factor=100000000)
    report = SourceFactory(slug="report-2025", title_zh="2025年政府工作报告", date=dt.date(2025, 1, 8))
    plan = SourceFactory(slug="plan-2021", title_zh="十四五规划", date=dt.date(2021, 3, 1))
    grain = CitationFactory(source=report)
    parks = CitationFactory(source=report, quote="新建口袋公园40处")
    observation = ObservationFactory(indicator=IndicatorFactory(code="grain-output", topic=agriculture), region=district)
    observation.citations.add(grain, parks)  # two quotes of one source: the observation is listed once
    ProjectStatusFactory().citations.add(parks)
    EventFactory(slug="expo-2024", region=district).citations.add(CitationFactory(source=plan, quote="光博会成功举办"))
    return {"observation": observation}


def test_sources_with_their_facts(client, data):
    result = gql(client, """{ sources(first: 10) { nodes { slug date periods { label start end }
        citations(first: 10) { totalCount nodes { quote offset } }
        observations(first: 10) { nodes { uid } } projectStatuses(first: 10) { totalCount }
        events(first: 10) { nodes { slug } } } } }""")
    plan, report = nodes(result["sources"])  # ordered by date
    assert plan["slug"] == "plan-2021" and keys(plan["events"], "slug") == ["expo-2024"]
    assert report["periods"] == [{"label": "2024–2025", "start": "2024-01-01", "end": "2025-12-31"}]
    assert report["citations"]["totalCount"] == 2
    assert keys(report["observations"], "uid") == [str(data["observation"].uid)]
    assert report["projectStatuses"]["totalCount"] == 1 and plan["observations"]["nodes"] == []


def test_source_lookup_text_only_when_asked(client, data):
    result = gql(client, '{ source(slug: "report-2025") { titleZh text } other: source(slug: "nope") { slug } }')
    assert result["source"]["text"].startswith("全市粮食产量")
    assert result["other"] is None


def test_source_filters(client, data):
    def slugs(arguments):
        return keys(gql(client, f"{{ sources({arguments}) {{ nodes {{ slug }} }} }}")["sources"], "slug")

    assert slugs('dateFrom: "2024"') == ["report-2025"]
    assert slugs('q: "十四五"') == ["plan-2021"]
    assert slugs('orderBy: ["-date"]') == ["report-2025", "plan-2021"]
    errors, _ = gql_errors(client, '{ sources(dateTo: "later") { nodes { slug } } }')
    assert "Period" in errors[0]["message"]
    errors, _ = gql_errors(client, '{ sources(dateFrom: "2025", dateTo: "2024") { nodes { slug } } }')
    assert "dateFrom" in errors[0]["extensions"]["arguments"]


def test_regions_children_and_observations(client, data):
    result = gql(client, """{ region(code: "changchun") { nameZh parent { code } children { nodes { code
        parent { code } observations { nodes { indicator { code } } } } } }
        regions(kind: district) { nodes { code } } }""")
    city = result["region"]
    assert city["parent"] is None
    assert nodes(city["children"]) == [{"code": "nanguan", "parent": {"code": "changchun"},
                                        "observations": {"nodes": [{"indicator": {"code": "grain-output"}}]}}]
    assert keys(result["regions"], "code") == ["nanguan"]
    errors, _ = gql_errors(client, '{ regions(kind: village) { nodes { code } } }')
    assert "RegionKind" in errors[0]["message"]


def test_topics_and_units(client, data):
    result = gql(client, """{ topic(code: "agriculture") { indicators { nodes { code } } }
        topics(code: "agriculture", q: "agriculture") { nodes { code } } units(baseUnit: "CNY") { nodes { symbol factor } }
        unit(symbol: "亿元") { nameEn } }""")
    assert keys(result["topic"]["indicators"], "code") == ["grain-output"]
    assert keys(result["topics"], "code") == ["agriculture"]
    assert keys(result["units"], "symbol") == ["亿元"]
    assert result["unit"] == {"nameEn": "hundred million yuan"}
    # A Latin term matches whole words (issue 14: `metro` is not Metropolitan), so a fragment finds nothing.
    assert keys(gql(client, '{ topics(q: "Agri") { nodes { code } } }')["topics"], "code") == []


def test_citation_node(client, data):
    uid = str(nodes(gql(client, '{ source(slug: "plan-2021") { citations { nodes { uid } } } }')["source"]["citations"])[0]["uid"])
    result = gql(client, "query($id: ID!) { node(id: $id) { ... on Citation { quote source { slug } } } }",
                 {"id": to_global_id("Citation", uid)})
    assert result["node"] == {"quote": "光博会成功举办", "source": {"slug": "plan-2021"}}


def test_unknown_node_is_null_and_garbage_id_is_an_error(client, data):
    assert gql(client, 'query($id: ID!) { node(id: $id) { id } }', {"id": to_global_id("Region", "nowhere")})["node"] is None
    errors, _ = gql_errors(client, '{ node(id: "garbage") { id } }')
    assert errors


def test_source_text_is_loaded_only_when_selected(client, data):
    """The selector (catalogue.selectors.source_list) defers the text; the plan loads it, in the same
    query, exactly when a query selects it."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for query, wanted in (("{ sources { nodes { slug } } }", False), ("{ sources { nodes { slug text } } }", True),
                          ('{ source(slug: "report-2025") { slug } }', False)):
        with CaptureQueriesContext(connection) as captured:
            gql(client, query)
        assert len(captured.captured_queries) == 1
        assert ('"opendata_source"."text"' in captured.captured_queries[0]["sql"]) is wanted, query


def test_citation_source_columns_beyond_the_selector_come_in_the_same_query(client, data, django_assert_num_queries):
    """The citation selector loads only some columns (only()); what a query selects beyond them (the
    source's text, timestamps) is added to the citations' query, never fetched row by row."""
    query = """{ observations { nodes { citations { nodes { quote end createdAt
        source { slug text publisherZh createdAt } } } } } }"""
    with django_assert_num_queries(2):  # the observations; their citations with their source, joined
        result = gql(client, query)
    citations = nodes(nodes(result["observations"])[0]["citations"])
    assert len(citations) == 2
    for citation in citations:
        assert citation["source"]["text"].startswith("全市粮食产量")
        assert citation["createdAt"] and citation["source"]["createdAt"]
        assert citation["end"] == citation["source"]["text"].find(citation["quote"]) + len(citation["quote"])
