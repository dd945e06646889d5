"""GraphQL arguments at the edge: a bad argument is refused as a whole (400, an error naming it, no
SQL run), never a field error in a 200 nor an internal message (issue 12)."""

import base64
import json

import pytest

from tests.factories import IndicatorFactory, ObservationFactory
from tests.opendata.base.graphql.helpers import gql, post

pytestmark = pytest.mark.django_db


@pytest.fixture
def indicators():
    made = [IndicatorFactory(code=f"ind-{i}") for i in range(3)]
    for indicator in made:
        ObservationFactory(indicator=indicator)
    return made


def refused(client, django_assert_num_queries, query: str, variables: dict | None = None) -> dict:
    with django_assert_num_queries(0):
        response = post(client, query, variables)
    payload = response.json()
    assert response.status_code == 400 and "data" not in payload, payload
    return payload["errors"][0]


# -- cursors ----------------------------------------------------------------------------------------

def end_cursor(client, query: str, path: tuple[str, ...]) -> str:
    data = gql(client, query)
    for key in path:
        data = data[key]
    return data["pageInfo"]["endCursor"]


def test_a_crafted_cursor_is_invalid_not_an_internal_error(client, django_assert_num_queries):
    """`arrayconnection:<a number past any integer column>` reached the database: `bigint out of
    range` on PostgreSQL, `datatype mismatch` on SQLite, as a field error."""
    crafted = base64.b64encode(b"arrayconnection:99999999999999999999999").decode()
    for argument in ("after", "before"):
        query = f'{{ observations({argument}: "{crafted}") {{ nodes {{ uid }} }} }}'
        error = refused(client, django_assert_num_queries, query)
        assert error["extensions"] == {"code": "INVALID_CURSOR", "argument": argument}
        assert "Not a cursor of this API" in error["message"]


def test_an_empty_cursor_is_invalid(client, django_assert_num_queries):
    error = refused(client, django_assert_num_queries, '{ observations(after: "") { nodes { uid } } }')
    assert error["extensions"]["code"] == "INVALID_CURSOR"


@pytest.mark.parametrize("elsewhere", [
    '{ indicators(first: 1, after: "%s") { nodes { code } } }',
    '{ indicator(code: "ind-0") { observations(first: 1, after: "%s") { nodes { uid } } } }',
    '{ observations(first: 1, after: "%s", orderBy: ["-period_start"]) { nodes { uid } } }',
])
def test_a_cursor_is_bound_to_its_connection_and_order(client, indicators, django_assert_num_queries, elsewhere):
    cursor = end_cursor(client, "{ observations(first: 1) { pageInfo { endCursor } } }", ("observations",))
    here = gql(client, f'{{ observations(first: 1, after: "{cursor}") {{ nodes {{ uid }} }} }}')
    assert here["observations"]["nodes"]
    error = refused(client, django_assert_num_queries, elsewhere.replace("%s", cursor))
    assert error["extensions"]["code"] == "INVALID_CURSOR"
    assert "Query.observations" in error["message"] or "orderBy" in error["message"]


def test_a_nested_cursor_pages_its_own_connection(client, indicators):
    query = '{ indicator(code: "ind-0") { observations(first: 1%s) { nodes { uid } pageInfo { endCursor } } } }'
    cursor = end_cursor(client, query % "", ("indicator", "observations"))
    assert gql(client, query % f', after: "{cursor}"')["indicator"]["observations"]["nodes"] == []


# -- control characters -----------------------------------------------------------------------------

@pytest.mark.parametrize("query, variables, argument", [
    (r'{ observations(q: "grain\u0000") { nodes { uid } } }', None, "q"),
    (r'{ unit(symbol: "亿\u0001元") { symbol } }', None, "symbol"),
    (r'{ units(baseUnit: "CNY\u007f") { nodes { symbol } } }', None, "baseUnit"),
    (r'{ observations(orderBy: ["period_start\u000a"]) { nodes { uid } } }', None, "orderBy"),
    ("query($q: String) { indicators(q: $q) { nodes { code } } }", {"q": "a\x00b"}, "q"),
    ("query($c: String) { observations(after: $c) { nodes { uid } } }", {"c": "abc\x1f"}, "after"),
])
def test_a_control_character_in_an_argument_is_refused(client, django_assert_num_queries, query, variables, argument):
    error = refused(client, django_assert_num_queries, query, variables)
    assert error["extensions"] == {"code": "INVALID_ARGUMENT", "argument": argument}
    assert "control character" in error["message"]


@pytest.mark.parametrize("query", [r'{ indicator(code: "a\u0000b") { code } }',
                                   r'{ observations(indicator: ["gdp\u0000"]) { nodes { uid } } }'])
def test_a_control_character_in_a_code_fails_validation(client, django_assert_num_queries, query):
    assert "Code" in refused(client, django_assert_num_queries, query)["message"]


# -- typed arguments --------------------------------------------------------------------------------

def test_enum_values_are_rest_strings(client, indicators):
    query = "query($k: FactKind, $c: Comparator) { observations(kind: $k, comparator: $c) { nodes { kind } } }"
    assert gql(client, query, {"k": "actual", "c": "exact"})["observations"]["nodes"]
    assert gql(client, "{ observations(kind: target) { nodes { kind } } }")["observations"]["nodes"] == []


def test_an_enum_variable_out_of_its_values_is_refused(client, django_assert_num_queries):
    query = "query($k: FactKind) { observations(kind: $k) { nodes { kind } } }"
    message = refused(client, django_assert_num_queries, query, {"k": "maybe"})["message"]
    assert "'maybe' does not exist in 'FactKind'" in message


@pytest.mark.parametrize("global_id", ["", "garbage", base64.b64encode(b"Nothing:1").decode(),
                                       base64.b64encode(b"Indicator:").decode(),
                                       base64.b64encode(b"IndicatorConnection:x").decode()])
def test_a_node_id_that_is_no_global_id_is_refused(client, django_assert_num_queries, global_id):
    """An empty global id was a "server error" inside a 200."""
    error = refused(client, django_assert_num_queries, f'{{ node(id: "{global_id}") {{ id }} }}')
    assert error["extensions"] == {"code": "INVALID_ARGUMENT", "argument": "id"}


def test_a_global_id_of_no_record_is_null(client, indicators):
    global_id = base64.b64encode(b"Indicator:nope").decode()
    assert gql(client, f'{{ node(id: "{global_id}") {{ id }} }}') == {"node": None}


def test_order_by_is_checked_before_anything_runs(client, django_assert_num_queries):
    error = refused(client, django_assert_num_queries, '{ observations(orderBy: ["colour"]) { nodes { uid } } }')
    assert error["extensions"] == {"code": "INVALID_ARGUMENT", "argument": "orderBy"}


def test_only_the_operation_that_runs_is_checked(client, indicators):
    query = """query Good { indicators(first: 1) { nodes { code } } }
               query Bad { observations(orderBy: ["colour"]) { nodes { uid } } }"""
    response = client.post("/graphql/", json.dumps({"query": query, "operationName": "Good"}),
                           content_type="application/json")
    assert response.status_code == 200 and response.json()["data"]["indicators"]["nodes"]
