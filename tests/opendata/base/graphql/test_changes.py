"""The change feed in GraphQL (`changes`): the same entries, in the same order, as REST's
`GET /api/v1/changes/`, with cursors that work in both; `endCursor` as the watermark in every page,
an empty one included; the actor shown to key holders only."""

from __future__ import annotations

import pytest

from opendata.base.graphql.limits import MAX_PAGE_SIZE
from opendata.base.models import Change
from opendata.base.selectors import START, Cursor, change_horizon
from opendata.catalogue.services import topic_update
from opendata.keys.models import ApiKey
from tests import api_helpers as h
from tests.opendata.base.graphql.helpers import post
from tests.write_helpers import ACTOR, build_world, settle

pytestmark = pytest.mark.django_db(transaction=True)
REST = "/api/v1/changes/"
FEED = """query($after: String, $resource: [String!], $first: Int) {
  changes(after: $after, resource: $resource, first: $first) {
    edges { cursor node { cursor at resource key operation actor data before } }
    pageInfo { endCursor hasNextPage startCursor hasPreviousPage } } }"""


@pytest.fixture
def feed_world(transactional_db):
    build_world()
    topic_update(key="agriculture", data={"name_en": "Farming"}, actor=ACTOR)
    settle()


def page(client, headers: dict | None = None, **variables) -> dict:
    h.reset_rate_limits()
    response = post(client, FEED, variables, **(headers or {}))
    payload = response.json()
    assert response.status_code == 200 and "errors" not in payload, payload
    return payload["data"]["changes"]


def graphql_feed(client, *, first: int = MAX_PAGE_SIZE, **variables) -> tuple[list[dict], dict]:
    """Every entry from `after` on, following `endCursor` while `hasNextPage`: (nodes, the last page)."""
    nodes = []
    while True:
        got = page(client, first=first, **variables)
        assert [e["cursor"] for e in got["edges"]] == [e["node"]["cursor"] for e in got["edges"]]
        nodes += [e["node"] for e in got["edges"]]
        variables["after"] = got["pageInfo"]["endCursor"]
        if not got["pageInfo"]["hasNextPage"]:
            return nodes, got


def rest_feed(client, url: str) -> tuple[list[dict], dict]:
    entries = []
    while True:
        got = h.ok(client, url)
        entries += got["results"]
        if not got["more"]:
            return entries, got
        url = got["next"]


def as_rest(node: dict) -> dict:
    """A GraphQL node as REST writes the entry (REST leaves the actor out)."""
    return {"cursor": node["cursor"], "at": node["at"], "resource": node["resource"], "key": node["key"],
            "operation": node["operation"], "before": node["before"], "after": node["data"]}


def test_the_same_entries_in_the_same_order_as_rest(client, feed_world):
    nodes, last = graphql_feed(client, first=7)
    entries, rest_last = rest_feed(client, f"{REST}?page_size=5")
    assert len(nodes) == Change.objects.count() > 7
    assert [as_rest(n) for n in nodes] == entries
    assert last["pageInfo"]["endCursor"] == rest_last["next_cursor"]  # the same watermark
    update = next(n for n in nodes if n["operation"] == "update")
    assert update["before"]["name_en"] == "Agriculture" and update["data"]["name_en"] == "Farming"
    events, _ = graphql_feed(client, resource=["topic", "unit"])
    rest_events, _ = rest_feed(client, f"{REST}?resource=topic,unit")
    assert [as_rest(n) for n in events] == rest_events and {n["resource"] for n in events} == {"topic", "unit"}


def test_a_cursor_works_in_both(client, feed_world):
    rest_page = h.ok(client, f"{REST}?page_size=3")
    assert rest_page["more"]
    from_rest = page(client, after=rest_page["next_cursor"], first=4)
    assert [e["node"]["cursor"] for e in from_rest["edges"]] == [
        e["cursor"] for e in h.ok(client, f"{REST}?page_size=4&after={rest_page['next_cursor']}")["results"]]
    gql_page = page(client, first=5)
    assert gql_page["pageInfo"]["hasNextPage"] and gql_page["pageInfo"]["startCursor"] == gql_page["edges"][0]["cursor"]
    from_graphql = h.ok(client, f"{REST}?page_size=2&after={gql_page['pageInfo']['endCursor']}")
    assert [e["cursor"] for e in from_graphql["results"]] == [
        e["cursor"] for e in page(client, first=2, after=gql_page["pageInfo"]["endCursor"])["edges"]]
    entry = gql_page["edges"][1]["node"]["cursor"]  # an entry's cursor reads on after that entry
    assert page(client, first=1, after=entry)["edges"][0]["cursor"] == gql_page["edges"][2]["cursor"]


def test_end_cursor_is_a_watermark_even_on_an_empty_page(client, feed_world):
    _, last = graphql_feed(client)
    end = last["pageInfo"]["endCursor"]
    assert Cursor.decode(end) >= Cursor.of(Change.objects.order_by("-id").first())
    empty = page(client, after=end)
    assert empty["edges"] == [] and empty["pageInfo"]["hasNextPage"] is False
    assert Cursor.decode(empty["pageInfo"]["endCursor"]) >= Cursor.decode(end)  # it never moves back
    assert empty["pageInfo"]["startCursor"] is None
    # No event yet: the filtered page is empty, but its endCursor moves past every other entry.
    none = page(client, resource=["event"])
    assert none["edges"] == [] and Cursor.decode(none["pageInfo"]["endCursor"]) >= Cursor.decode(end)
    now = page(client, after="now")
    assert now["edges"] == [] and Cursor.decode(now["pageInfo"]["endCursor"]) >= Cursor.decode(end)
    topic_update(key="agriculture", data={"name_en": "Agriculture"}, actor=ACTOR)
    settle()
    for cursor in (end, none["pageInfo"]["endCursor"], now["pageInfo"]["endCursor"]):
        news, _ = graphql_feed(client, after=cursor)
        assert [(n["resource"], n["key"], n["operation"]) for n in news] == [("topic", "agriculture", "update")]
    assert h.ok(client, f"{REST}?after={end}")["results"][0]["cursor"] == news[0]["cursor"]


def test_an_empty_list_of_resources_or_a_zero_page_stays_put(client, feed_world):
    for variables in ({"resource": []}, {"first": 0}, {"first": 0, "after": "now"}):
        got = page(client, **variables)
        assert got["edges"] == [] and got["pageInfo"]["hasNextPage"] is False
    assert page(client, resource=[])["pageInfo"]["endCursor"] == START.encode()
    assert Cursor.decode(page(client, first=0, after="now")["pageInfo"]["endCursor"]) <= change_horizon()


def test_the_actor_is_shown_to_key_holders_only(client, feed_world):
    assert {n["actor"] for n in graphql_feed(client)[0]} == {None}
    _, secret = ApiKey.objects.create_key(name="dashboard", scope="read")
    got = page(client, {"Authorization": f"Bearer {secret}"}, first=3)
    assert {e["node"]["actor"] for e in got["edges"]} == {ACTOR}


@pytest.mark.parametrize("variables, code", [
    ({"after": "not-a-cursor"}, "INVALID_CURSOR"),
    ({"after": "LTEuMg"}, "INVALID_CURSOR"),  # "-1.2"
    ({"resource": ["observation", "nonsense"]}, "INVALID_ARGUMENT"),
])
def test_bad_arguments_are_errors_on_the_field(client, db, variables, code):
    payload = post(client, FEED, variables).json()
    assert payload["errors"][0]["extensions"]["code"] == code and payload["errors"][0]["path"] == ["changes"]
    assert payload["data"] is None


def test_page_size_is_capped_before_anything_runs(client, db, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = post(client, FEED, {"first": MAX_PAGE_SIZE + 1})
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "PAGE_SIZE_OUT_OF_RANGE"
    cost = post(client, FEED, {"first": 3}).json()["extensions"]["cost"]
    assert cost["requested"] == 3 + 100  # a page of 3 entries, in one SQL query
