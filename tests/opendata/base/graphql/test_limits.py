"""Each limit of the public endpoint is a clear GraphQL error, given before any SQL runs, and every
query's cost is reported in `extensions`."""

import pytest

from opendata.base.graphql import limits
from tests.opendata.base.graphql.helpers import post

pytestmark = pytest.mark.django_db


def refused(client, django_assert_num_queries, query: str, variables: dict | None = None, status: int = 400):
    with django_assert_num_queries(0):
        response = post(client, query, variables)
    assert response.status_code == status, response.content
    payload = response.json()
    assert "data" not in payload
    return payload


def test_cost_is_reported_for_every_query(client):
    payload = post(client, "{ indicators(first: 10) { nodes { code observations(first: 5) { nodes { uid } } } } }").json()
    # 10 indicators, 5 observations each; two SQL queries (the page, the observations of the whole page)
    assert payload["extensions"] == {"cost": {"requested": 10 + 10 * 5 + 2 * limits.QUERY_COST,
                                              "limit": limits.MAX_COST}}


def test_connections_without_first_count_the_default_page(client):
    payload = post(client, "{ indicators { nodes { unit { symbol } } } }").json()
    size = limits.DEFAULT_PAGE_SIZE
    # the indicators, then one unit each (joined: no query of its own)
    assert payload["extensions"]["cost"]["requested"] == size + size + limits.QUERY_COST


def test_too_costly(client, django_assert_num_queries):
    query = ("{ indicators(first: 100) { nodes { observations(first: 100) { nodes { citations(first: 10) {"
             " nodes { quote } } } } } } }")
    payload = refused(client, django_assert_num_queries, query)
    error = payload["errors"][0]
    assert error["extensions"]["code"] == "QUERY_TOO_COSTLY"
    assert "first" in error["message"]
    records = 100 + 100 * 100 + 100 * 100 * 10
    assert payload["extensions"]["cost"] == {"requested": records + 3 * limits.QUERY_COST, "limit": limits.MAX_COST}


def test_cost_multiplies_through_fragments_and_variables(client, django_assert_num_queries):
    query = """query($n: Int) { indicators(first: $n) { ...I } }
               fragment I on IndicatorConnection { nodes { observations(first: $n) { nodes { uid } } } }"""
    payload = refused(client, django_assert_num_queries, query, {"n": 100})
    assert payload["extensions"]["cost"]["requested"] == 100 + 100 * 100 + 2 * limits.QUERY_COST
    assert post(client, query, {"n": 10}).status_code == 200


@pytest.mark.parametrize("argument", ["first: 101", "last: 500", "first: -1"])
def test_page_size_capped(client, django_assert_num_queries, argument):
    payload = refused(client, django_assert_num_queries, f"{{ observations({argument}) {{ nodes {{ uid }} }} }}")
    assert payload["errors"][0]["extensions"]["code"] == "PAGE_SIZE_OUT_OF_RANGE"
    assert "between 0 and 100" in payload["errors"][0]["message"]


def test_page_size_capped_through_variables(client, django_assert_num_queries):
    payload = refused(client, django_assert_num_queries,
                      "query($n: Int) { observations(first: $n) { nodes { uid } } }", {"n": 1000})
    assert payload["errors"][0]["extensions"]["code"] == "PAGE_SIZE_OUT_OF_RANGE"


def test_too_deep(client, django_assert_num_queries):
    # region -> parent -> parent ... : 12 levels of objects, one record each (cheap, but too deep)
    inner = "code"
    for _ in range(limits.MAX_DEPTH + 1):
        inner = f"parent {{ {inner} }}"
    payload = refused(client, django_assert_num_queries, f'{{ region(code: "x") {{ {inner} }} }}')
    assert payload["errors"][0]["extensions"]["code"] == "QUERY_TOO_DEEP"


def test_connection_wrappers_do_not_count_as_depth(client):
    query = ("{ indicators(first: 1) { edges { node { observations(first: 1) { edges { node { citations(first: 1) {"
             " edges { node { source { observations(first: 1) { edges { node { region { code } } } } } } } } } } } } } } }")
    assert post(client, query).status_code == 200


def test_too_many_fields(client, django_assert_num_queries):
    aliases = " ".join(f"c{i}: code" for i in range(limits.MAX_FIELDS + 1))
    payload = refused(client, django_assert_num_queries, f'{{ topic(code: "x") {{ {aliases} }} }}')
    assert payload["errors"][0]["extensions"]["code"] == "TOO_MANY_FIELDS"


def test_document_too_large(client, django_assert_num_queries):
    query = "{ topics { nodes { code } } }" + " " * limits.MAX_DOCUMENT_BYTES
    payload = refused(client, django_assert_num_queries, query)
    assert payload["errors"][0]["extensions"]["code"] == "QUERY_TOO_LARGE"
    assert str(limits.MAX_DOCUMENT_BYTES) in payload["errors"][0]["message"]


def test_too_many_tokens(client, django_assert_num_queries):
    query = "{ topics { nodes { " + "a " * limits.MAX_TOKENS + "} } }"  # small in bytes, many tokens
    payload = refused(client, django_assert_num_queries, query)
    assert "tokens" in payload["errors"][0]["message"]


def test_invalid_documents_are_refused_before_sql(client, django_assert_num_queries):
    payload = refused(client, django_assert_num_queries, "{ indicators { nodes { nope } } }")
    assert "Cannot query field 'nope'" in payload["errors"][0]["message"]


def test_introspection_is_allowed_at_a_fixed_cost(client):
    from graphql import get_introspection_query

    response = post(client, get_introspection_query(descriptions=True))  # what GraphiQL sends
    assert response.status_code == 200
    assert response.json()["extensions"]["cost"]["requested"] == limits.INTROSPECTION_COST


def test_connections_and_edges_are_known_by_their_graphene_types_not_their_names():
    """A connection named `Page` (its edge `PageEdge`) is still a connection: its page size counts,
    and its edges and node add no depth."""
    import graphene
    from graphql import parse

    class Item(graphene.ObjectType):
        name = graphene.String()

    class Page(graphene.relay.Connection):
        class Meta:
            node = Item
            name = "Page"  # not the PageConnection graphene would make it

    class Query(graphene.ObjectType):
        items = graphene.relay.ConnectionField(Page)

    schema = graphene.Schema(query=Query).graphql_schema
    cost = limits.measure(schema, parse("{ items(first: 3) { edges { node { name } } } }"), None, None)
    assert (cost.depth, cost.records, cost.queries) == (2, 3, 1)


# -- what cannot be gamed ---------------------------------------------------------------------------

def doubling_fragments(levels: int) -> str:
    """Each fragment spreads the next one twice: 2**levels fields once expanded, in a few lines."""
    fragments = [f"fragment F{i} on Region {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels)]
    last = f"fragment F{levels} on Region {{ code }}"
    return '{ region(code: "changchun") { ...F0 } } ' + " ".join(fragments) + " " + last


@pytest.mark.parametrize("levels", [21, 60])
def test_exponential_fragments_are_refused(client, django_assert_num_queries, levels):
    payload = refused(client, django_assert_num_queries, doubling_fragments(levels))
    assert payload["errors"][0]["extensions"]["code"] == "TOO_MANY_FIELDS"  # 21 levels once answered 200


class Runaway(BaseException):
    """Raised from the profiler: nothing on the path catches it, so a runaway walk fails instead of hanging."""


def calls_to_refuse(levels: int, cap: int) -> int:
    """The Python calls (not the seconds, which a busy machine stretches) made to parse, validate and
    measure a document of `levels` doubling fragments: what a request does before it is refused."""
    import sys

    from opendata.base.graphql.views import parsed_and_validated
    from opendata.config.schema import schema

    count = 0

    def profile(_frame, event, _arg):
        nonlocal count
        if event in ("call", "c_call"):
            count += 1
            if count > cap:
                raise Runaway(f"over {cap} calls for {levels} levels")

    graphql_schema = schema.graphql_schema
    sys.setprofile(profile)
    try:
        document, errors, _ = parsed_and_validated.__wrapped__(graphql_schema, doubling_fragments(levels))
        refusal = limits.check_limits(graphql_schema, document, {}, None, limits.QueryCost())
    finally:
        sys.setprofile(None)
    assert not errors and refusal[0].extensions["code"] == "TOO_MANY_FIELDS"
    return count


def test_the_work_of_refusing_grows_with_the_text_not_with_the_expansion():
    """21 levels once took 2.25 s (every expansion walked); the work must grow like the document's text,
    about 2.9 times from 21 to 60 levels (less, with the fixed part), not 2**39 times."""
    calls_to_refuse(21, cap=10**7)  # imports and caches warmed
    at_21 = calls_to_refuse(21, cap=10**7)
    assert calls_to_refuse(60, cap=3 * at_21) <= 3 * at_21


def test_each_fragment_is_measured_once():
    from graphql import parse

    from opendata.config.schema import schema

    calls = []

    class Counting(limits._Walk):
        def fragment(self, name, parent):
            calls.append(name) if name not in self.measured else None
            return super().fragment(name, parent)

    document = parse(doubling_fragments(8))
    fragments = {d.name.value: d for d in document.definitions if hasattr(d, "type_condition")}
    walk = Counting(schema.graphql_schema, fragments, {})
    measured = walk.selection_set(schema.graphql_schema.query_type, document.definitions[0].selection_set)
    assert sorted(calls) == sorted(f"F{i}" for i in range(9))
    assert measured.fields == 1 + 2 ** 8  # region, and the code of every expansion


def test_fragments_cost_what_their_expansion_costs():
    """A fragment's measure, scaled by the page sizes above each spread, is the measure of the query
    with the fragment written out in place."""
    from graphql import parse

    from opendata.config.schema import schema

    with_fragments = """{ indicators(first: 7) { nodes { ...I } } a: observations(first: 3) { nodes { ...O } } }
        fragment I on Indicator { code observations(first: 4) { nodes { ...O } } targets { met } }
        fragment O on Observation { uid citations(first: 2) { totalCount nodes { quote source { slug } } } }"""
    written_out = """{ indicators(first: 7) { nodes { code observations(first: 4) { nodes { uid citations(first: 2) {
        totalCount nodes { quote source { slug } } } } } targets { met } } }
        a: observations(first: 3) { nodes { uid citations(first: 2) {
        totalCount nodes { quote source { slug } } } } } }"""
    measured = [limits.measure(schema.graphql_schema, parse(q), None, None) for q in (with_fragments, written_out)]
    assert [(c.requested, c.records, c.queries, c.depth, c.fields) for c in measured] == [
        (measured[1].requested, measured[1].records, measured[1].queries, measured[1].depth, measured[1].fields)] * 2
    # 7 indicators, 28 observations, 56 citations and sources, 70 targets; 3 observations, 6 citations and sources
    assert measured[0].records == 7 + 28 + 56 * 2 + 70 + 3 + 6 * 2
    # indicators, their observations, their citations (+ count), targets; observations, citations (+ count)
    assert measured[0].queries == 8


def test_aliased_introspection_is_refused(client, django_assert_num_queries):
    aliases = " ".join(f"a{i}: __schema {{ types {{ name fields {{ name }} }} }}" for i in range(50))
    payload = refused(client, django_assert_num_queries, f"{{ {aliases} }}")
    assert payload["errors"][0]["extensions"]["code"] == "QUERY_TOO_COSTLY"
    assert payload["extensions"]["cost"]["requested"] > limits.MAX_COST


def test_nested_introspection_lists_are_refused(client, django_assert_num_queries):
    query = "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }"
    payload = refused(client, django_assert_num_queries, query)  # by graphql-core's own rule
    assert "introspection depth" in payload["errors"][0]["message"]


def test_introspection_fields_count(client, django_assert_num_queries):
    names = " ".join(f"n{i}: name" for i in range(limits.MAX_FIELDS))
    payload = refused(client, django_assert_num_queries, f'{{ __type(name: "Indicator") {{ {names} }} }}')
    assert payload["errors"][0]["extensions"]["code"] == "TOO_MANY_FIELDS"


def test_aliased_look_ups_are_refused(client, django_assert_num_queries):
    """Each look-up is an SQL query of its own: 240 of them cost more than the limit."""
    aliases = " ".join(f'a{i}: indicator(code: "grain-output") {{ code }}' for i in range(240))
    payload = refused(client, django_assert_num_queries, f"{{ {aliases} }}")
    assert payload["errors"][0]["extensions"]["code"] == "QUERY_TOO_COSTLY"
    aliases = " ".join(f'a{i}: node(id: "SW5kaWNhdG9yOmdkcA==") {{ id }}' for i in range(240))
    assert refused(client, django_assert_num_queries, f"{{ {aliases} }}")["errors"][0]["extensions"]["code"] == (
        "QUERY_TOO_COSTLY")


def test_aliased_nested_connections_count_their_queries(client, django_assert_num_queries):
    aliases = " ".join(f"a{i}: observations(first: 1) {{ nodes {{ uid }} }}" for i in range(160))
    payload = refused(client, django_assert_num_queries, f'{{ indicator(code: "gdp") {{ {aliases} }} }}')
    assert payload["errors"][0]["extensions"]["code"] == "QUERY_TOO_COSTLY"


def test_a_few_look_ups_are_cheap(client):
    aliases = " ".join(f'a{i}: indicator(code: "grain-output") {{ code }}' for i in range(10))
    payload = post(client, f"{{ {aliases} }}").json()
    assert payload["extensions"]["cost"]["requested"] == 10 * (1 + limits.QUERY_COST)


def test_a_page_size_variable_left_out_counts_the_default_page(client):
    response = post(client, "query($n: Int) { observations(first: $n) { nodes { uid } } }")
    assert response.status_code == 200, response.content
    assert response.json()["extensions"]["cost"]["requested"] == limits.DEFAULT_PAGE_SIZE + limits.QUERY_COST
