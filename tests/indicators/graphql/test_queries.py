"""GraphQL root fields of indicators and observations: look-ups, filters, pagination, targets."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone
from graphql_relay import to_global_id

from indicators.models import Observation
from opendata.catalogue.models import Region
from tests.factories import CitationFactory, IndicatorFactory, ObservationFactory, RegionFactory, SourceFactory
from tests.opendata.base.graphql.helpers import gql, gql_errors, keys, nodes, post

pytestmark = pytest.mark.django_db


@pytest.fixture
def data():
    city = RegionFactory(code="changchun")
    district = RegionFactory(code="chaoyang", name_zh="朝阳区", name_en="Chaoyang", kind=Region.Kind.DISTRICT,
                             parent=city)
    other = RegionFactory(code="jilin", name_zh="吉林省", name_en="Jilin", kind=Region.Kind.PROVINCE)
    grain = IndicatorFactory(code="grain-output", name_zh="粮食产量", name_en="Grain output")
    cars = IndicatorFactory(code="nev-output", name_zh="新能源汽车产量", name_en="NEV output")
    source = SourceFactory(slug="report-2025")
    cite = CitationFactory(source=source)
    made = {
        "grain-2023": ObservationFactory(indicator=grain, region=city, period_start=dt.date(2023, 1, 1),
                                         period_end=dt.date(2023, 12, 31), value=Decimal("250")),
        "grain-2024": ObservationFactory(indicator=grain, region=district, period_start=dt.date(2024, 1, 1),
                                         period_end=dt.date(2024, 12, 31), value=Decimal("259.9")),
        "grain-2024-target": ObservationFactory(indicator=grain, region=district, kind=Observation.Kind.TARGET,
                                                comparator=Observation.Comparator.AT_LEAST,
                                                period_start=dt.date(2024, 1, 1), period_end=dt.date(2024, 12, 31),
                                                value=Decimal("255")),
        "grain-2025-target": ObservationFactory(indicator=grain, region=city, kind=Observation.Kind.TARGET,
                                                period_start=dt.date(2025, 1, 1), period_end=dt.date(2025, 12, 31),
                                                value=Decimal("260")),
        "cars-2024": ObservationFactory(indicator=cars, region=other, period_start=dt.date(2024, 1, 1),
                                        period_end=dt.date(2024, 12, 31), value=Decimal("10")),
    }
    made["grain-2024"].citations.add(cite)
    return made


def uids(*names, data):
    return sorted(str(data[n].uid) for n in names)


def observation_uids(client, arguments: str) -> list[str]:
    result = gql(client, f"{{ observations({arguments}) {{ nodes {{ uid }} }} }}")
    return sorted(keys(result["observations"], "uid"))


def test_indicators_and_lookup(client, data):
    result = gql(client, """{ indicators { nodes { code nameZh unit { symbol } topic { code } } }
                              indicator(code: "grain-output") { code nameEn observations { nodes { periodLabel } } }
                              missing: indicator(code: "nope") { code } }""")
    assert keys(result["indicators"], "code") == ["grain-output", "nev-output"]
    assert result["indicator"]["nameEn"] == "Grain output"
    assert len(nodes(result["indicator"]["observations"])) == 4
    assert result["missing"] is None


def test_observation_lookup_by_uid(client, data):
    uid = str(data["grain-2024"].uid)
    result = gql(client, f"""{{ observation(uid: "{uid}") {{ uid value kind comparator periodStart
        indicator {{ code }} region {{ code parent {{ code }} }} unit {{ symbol }}
        citations {{ nodes {{ quote offset end source {{ slug titleZh }} }} }} }} }}""")
    observation = result["observation"]
    assert observation["value"] == "259.9" and observation["kind"] == "actual"
    assert observation["region"] == {"code": "chaoyang", "parent": {"code": "changchun"}}
    assert nodes(observation["citations"]) == [{"quote": "粮食产量达到259.9亿斤", "offset": 2, "end": 15,
                                                "source": {"slug": "report-2025", "titleZh": "政府工作报告"}}]
    refused = post(client, '{ observation(uid: "not-a-uuid") { uid } }')  # not a uid at all: invalid
    assert refused.status_code == 400 and "UUID" in refused.json()["errors"][0]["message"]


def test_node_by_global_id(client, data):
    uid = str(data["grain-2024"].uid)
    result = gql(client, """query($a: ID!, $b: ID!) {
        a: node(id: $a) { id ... on Indicator { code } }
        b: node(id: $b) { id ... on Observation { uid indicator { code } } } }""",
                 {"a": to_global_id("Indicator", "grain-output"), "b": to_global_id("Observation", uid)})
    assert result["a"] == {"id": to_global_id("Indicator", "grain-output"), "code": "grain-output"}
    assert result["b"]["uid"] == uid and result["b"]["indicator"] == {"code": "grain-output"}


def test_global_ids_round_trip(client, data):
    ids = [n["id"] for n in nodes(gql(client, "{ observations { nodes { id } } }")["observations"])]
    for global_id in ids:
        assert gql(client, "query($id: ID!) { node(id: $id) { id } }", {"id": global_id})["node"]["id"] == global_id


def test_filter_by_indicator_code(client, data):
    assert observation_uids(client, 'indicator: "nev-output"') == uids("cars-2024", data=data)
    assert observation_uids(client, 'indicator: ["nev-output", "grain-output"]') == uids(*data, data=data)


def test_filter_region_includes_sub_regions(client, data):
    everything_in_city = uids("grain-2023", "grain-2024", "grain-2024-target", "grain-2025-target", data=data)
    assert observation_uids(client, 'region: "changchun"') == everything_in_city
    assert observation_uids(client, 'regionExact: "changchun"') == uids("grain-2023", "grain-2025-target", data=data)


def test_filter_period_range(client, data):
    assert observation_uids(client, 'periodFrom: "2024", periodTo: "2024"') == uids(
        "grain-2024", "grain-2024-target", "cars-2024", data=data)
    assert observation_uids(client, 'periodFrom: "2024-07-01"') == uids(
        "grain-2024", "grain-2024-target", "grain-2025-target", "cars-2024", data=data)


def test_filter_kind(client, data):
    assert observation_uids(client, 'kind: target') == uids("grain-2024-target", "grain-2025-target", data=data)


def test_filter_q_chinese_substring(client, data):
    assert observation_uids(client, 'q: "汽车"') == uids("cars-2024", data=data)
    assert keys(gql(client, '{ indicators(q: "粮食") { nodes { code } } }')["indicators"], "code") == ["grain-output"]


def test_filter_source(client, data):
    assert observation_uids(client, 'source: "report-2025"') == uids("grain-2024", data=data)
    assert keys(gql(client, '{ indicators(source: "report-2025") { nodes { code } } }')["indicators"],
                "code") == ["grain-output"]


def test_filter_updated_since_and_deleted(client, data):
    later = timezone.now() + dt.timedelta(seconds=1)
    assert observation_uids(client, f'updatedSince: "{later.isoformat()}"') == []
    data["cars-2024"].deleted_at = timezone.now()
    data["cars-2024"].save()
    assert observation_uids(client, 'indicator: "nev-output"') == []
    since = (timezone.now() - dt.timedelta(minutes=1)).isoformat()
    result = gql(client, f'{{ observations(updatedSince: "{since}", includeDeleted: true, indicator: "nev-output")'
                         ' { nodes { uid deletedAt } } }')
    assert nodes(result["observations"])[0]["deletedAt"] is not None


def test_filters_on_nested_connections(client, data):
    result = gql(client, '{ indicator(code: "grain-output") { observations(kind: target, periodFrom: "2025") {'
                         ' nodes { uid } } } }')
    assert keys(result["indicator"]["observations"], "uid") == uids("grain-2025-target", data=data)


@pytest.mark.parametrize("arguments, type_name", [
    ("kind: maybe", "FactKind"),
    ('kind: "actual"', "FactKind"),  # an enum value, not a string
    ("comparator: roughly", "Comparator"),
    ('periodFrom: "soon"', "Period"),
    ('periodTo: "20240630"', "Period"),
    ('indicator: "bad code!"', "Code"),
    ('indicator: ["gdp", ""]', "Code"),
    ('updatedSince: "yesterday"', "DateTime"),
    ('updatedSince: "2025-01-01T00:00:00"', "DateTime"),  # no offset
    ('mrv: "1"', "Int"),
])
def test_a_value_of_the_wrong_form_fails_validation(client, data, django_assert_num_queries, arguments, type_name):
    with django_assert_num_queries(0):
        response = post(client, f"{{ observations({arguments}) {{ nodes {{ uid }} }} }}")
    assert response.status_code == 400 and "data" not in response.json()
    assert type_name in response.json()["errors"][0]["message"]


@pytest.mark.parametrize("arguments, argument", [
    ("mrv: 0", "mrv"),
    ("mrv: 101", "mrv"),
    ('periodFrom: "2026", periodTo: "2020"', "periodFrom"),
    ('q: "' + "x" * 201 + '"', "q"),
    ("indicator: []", "indicator"),
])
def test_an_invalid_filter_is_refused_before_anything_runs(client, data, django_assert_num_queries, arguments,
                                                           argument):
    """Not an unfiltered list, nor a field error in a 200: a 400 naming the argument, no SQL run."""
    with django_assert_num_queries(0):
        response = post(client, f"{{ observations({arguments}) {{ nodes {{ uid }} }} }}")
    payload = response.json()
    assert response.status_code == 400 and "data" not in payload
    assert payload["errors"][0]["extensions"]["code"] == "INVALID_FILTER"
    assert argument in payload["errors"][0]["extensions"]["arguments"]


def test_invalid_nested_filter_is_refused(client, data):
    response = post(client, '{ indicator(code: "grain-output") { observations(mrv: 0) { nodes { uid } } } }')
    assert response.status_code == 400 and "data" not in response.json()
    assert response.json()["errors"][0]["extensions"]["code"] == "INVALID_FILTER"


def test_wrong_argument_type_is_an_error(client, data):
    errors, _ = gql_errors(client, "{ indicators(hasTarget: maybe) { nodes { code } } }")
    assert "Boolean" in errors[0]["message"]


def test_has_target(client, data):
    assert keys(gql(client, "{ indicators(hasTarget: true) { nodes { code } } }")["indicators"],
                "code") == ["grain-output"]


def test_mrv(client, data):
    result = gql(client, '{ observations(indicator: "grain-output", kind: actual, regionExact: "changchun", mrv: 1)'
                         ' { nodes { periodLabel periodStart } } }')
    assert [n["periodStart"] for n in nodes(result["observations"])] == ["2023-01-01"]


def test_order_by(client, data):
    result = gql(client, '{ observations(orderBy: ["-period_start"]) { nodes { periodStart } } }')
    starts = [n["periodStart"] for n in nodes(result["observations"])]
    assert starts == sorted(starts, reverse=True)
    errors, _ = gql_errors(client, '{ observations(orderBy: ["value"]) { nodes { uid } } }')
    assert "period_start" in errors[0]["message"]


def test_targets_beside_results(client, data):
    result = gql(client, '{ indicator(code: "grain-output") { targets { met target { value periodLabel }'
                         ' result { value } } } }')
    assert result["indicator"]["targets"] == [
        {"met": True, "target": {"value": "255", "periodLabel": "2024"}, "result": {"value": "259.9"}},
        {"met": None, "target": {"value": "260", "periodLabel": "2024"}, "result": None},
    ]


PAGE = "{ observations(%s) { edges { cursor node { uid } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"


def page(client, arguments: str) -> dict:
    return gql(client, PAGE % arguments)["observations"]


def test_pagination_forward(client, data):
    everything = [e["node"]["uid"] for e in page(client, "first: 100")["edges"]]
    assert len(everything) == 5
    first = page(client, "first: 2")
    assert [e["node"]["uid"] for e in first["edges"]] == everything[:2]
    assert first["pageInfo"]["hasNextPage"] is True and first["pageInfo"]["hasPreviousPage"] is False
    second = page(client, f'first: 2, after: "{first["pageInfo"]["endCursor"]}"')
    assert [e["node"]["uid"] for e in second["edges"]] == everything[2:4]
    third = page(client, f'first: 2, after: "{second["pageInfo"]["endCursor"]}"')
    assert [e["node"]["uid"] for e in third["edges"]] == everything[4:]
    assert third["pageInfo"]["hasNextPage"] is False and third["pageInfo"]["hasPreviousPage"] is True


def test_pagination_backward(client, data):
    everything = [e["node"]["uid"] for e in page(client, "first: 100")["edges"]]
    last = page(client, "last: 2")
    assert [e["node"]["uid"] for e in last["edges"]] == everything[-2:]
    assert last["pageInfo"]["hasPreviousPage"] is True and last["pageInfo"]["hasNextPage"] is False
    before = page(client, f'last: 2, before: "{last["pageInfo"]["startCursor"]}"')
    assert [e["node"]["uid"] for e in before["edges"]] == everything[1:3]
    start = page(client, f'last: 2, before: "{before["pageInfo"]["startCursor"]}"')
    assert [e["node"]["uid"] for e in start["edges"]] == everything[:1]
    assert start["pageInfo"]["hasPreviousPage"] is False and start["pageInfo"]["hasNextPage"] is True


def test_nested_pagination(client, data):
    query = '{ indicator(code: "grain-output") { observations(first: 2%s) { totalCount nodes { periodStart } ' \
            'pageInfo { endCursor hasNextPage } } } }'
    first = gql(client, query % "")["indicator"]["observations"]
    assert first["totalCount"] == 4 and first["pageInfo"]["hasNextPage"] is True
    rest = gql(client, query % f', after: "{first["pageInfo"]["endCursor"]}"')["indicator"]["observations"]
    assert [n["periodStart"][:4] for n in first["nodes"] + rest["nodes"]] == ["2023", "2024", "2024", "2025"]
    assert rest["pageInfo"]["hasNextPage"] is False


def test_invalid_cursor(client, data):
    errors, _ = gql_errors(client, '{ observations(after: "nope") { nodes { uid } } }')
    assert errors[0]["extensions"]["code"] == "INVALID_CURSOR"
