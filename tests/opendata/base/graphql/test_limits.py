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
    assert payload["extensions"] == {"cost": {"requested": 10 + 10 * 5, "limit": limits.MAX_COST}}


def test_connections_without_first_count_the_default_page(client):
    payload = post(client, "{ indicators { nodes { unit { symbol } } } }").json()
    size = limits.DEFAULT_PAGE_SIZE
    assert payload["extensions"]["cost"]["requested"] == size + size  # the indicators, then one unit each


def test_too_costly(client, django_assert_num_queries):
    query = ("{ indicators(first: 100) { nodes { observations(first: 100) { nodes { citations(first: 10) {"
             " nodes { quote } } } } } } }")
    payload = refused(client, django_assert_num_queries, query)
    error = payload["errors"][0]
    assert error["extensions"]["code"] == "QUERY_TOO_COSTLY"
    assert "first" in error["message"]
    assert payload["extensions"]["cost"] == {"requested": 100 + 100 * 100 + 100 * 100 * 10, "limit": limits.MAX_COST}


def test_cost_multiplies_through_fragments_and_variables(client, django_assert_num_queries):
    query = """query($n: Int) { indicators(first: $n) { ...I } }
               fragment I on IndicatorConnection { nodes { observations(first: $n) { nodes { uid } } } }"""
    payload = refused(client, django_assert_num_queries, query, {"n": 100})
    assert payload["extensions"]["cost"]["requested"] == 100 + 100 * 100
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


def test_introspection_is_free_and_allowed(client):
    from graphql import get_introspection_query

    response = post(client, get_introspection_query(descriptions=True))
    assert response.status_code == 200
    assert response.json()["extensions"]["cost"]["requested"] == 0


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
    assert (cost.depth, cost.requested) == (2, 3)


def test_a_page_size_variable_left_out_counts_the_default_page(client):
    response = post(client, "query($n: Int) { observations(first: $n) { nodes { uid } } }")
    assert response.status_code == 200, response.content
    assert response.json()["extensions"]["cost"]["requested"] == limits.DEFAULT_PAGE_SIZE
