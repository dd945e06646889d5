""""Records citing a source" is one rule (opendata.base.filters.CitesSource): a record cites a source
through a *live* citation of it. REST's `source=` filter, REST's `/sources/{slug}/…` collections and
GraphQL's `source` argument and `Source.…` connections return the same records for every resource,
soft-deleted citations included."""

import pytest
from django.db.models import Count, Q

from indicators.models import Observation
from opendata.base.services import record_soft_delete
from projects.models import Event, ProjectStatus
from tests import api_helpers as h
from tests.opendata.base.graphql.helpers import post

SOURCE = "2025-npc-session"

# (REST collection, GraphQL root field, identifier, GraphQL field of Source or None)
RESOURCES = [
    ("observations", "observations", "uid", "observations"),
    ("indicators", "indicators", "code", None),
    ("project-statuses", "projectStatuses", "uid", "projectStatuses"),
    ("projects", "projects", "slug", None),
    ("events", "events", "slug", "events"),
]


def rest_all(client, url: str, identifier: str) -> list[str]:
    found = []
    while url:
        h.reset_rate_limits()
        response = client.get(url, headers={"Accept": "application/json"})
        assert response.status_code == 200, response.content[:300]
        body = response.json()
        found += [str(r[identifier]) for r in body["results"]]
        url = body["next"]
    return sorted(found)


def graphql_all(client, selection: str, path: list[str], identifier: str) -> list[str]:
    query = ("query($after: String) { " + selection.replace("ARGS", "first: 100, after: $after")
             + f" {{ nodes {{ {identifier} }} pageInfo {{ hasNextPage endCursor }} }}" + " }" * (1 + selection.count("{")))
    found, after = [], None
    while True:
        payload = post(client, query, {"after": after}).json()
        assert not payload.get("errors"), payload
        connection = payload["data"]
        for key in path:
            connection = connection[key]
        found += [str(n[identifier]) for n in connection["nodes"]]
        if not connection["pageInfo"]["hasNextPage"]:
            return sorted(found)
        after = connection["pageInfo"]["endCursor"]


def withdraw_one_citation_each(source_slug: str) -> dict[str, str]:
    """Soft-delete, for an observation, a project status and an event, the only citation of the source
    they have: each then no longer cites the source. Returns their identifiers."""
    gone = {}
    for model, key in ((Observation, "uid"), (ProjectStatus, "uid"), (Event, "slug")):
        record = (model.objects.alive()
                  .annotate(n=Count("citations", filter=Q(citations__source__slug=source_slug)))
                  .filter(n=1).order_by("pk").first())
        assert record is not None, f"no {model.__name__} with a single citation of {source_slug}"
        record_soft_delete(record=record.citations.get(source__slug=source_slug), actor="test")
        gone[model.__name__] = str(getattr(record, key))
    return gone


@pytest.fixture
def withdrawn(loaded_db):
    return withdraw_one_citation_each(SOURCE)


@pytest.mark.parametrize("collection, field, identifier, nested", RESOURCES)
def test_filter_by_source_is_the_same_in_rest_and_graphql(client, withdrawn, collection, field, identifier, nested):
    rest = rest_all(client, f"/api/v1/{collection}/?source={SOURCE}&page_size=1000", identifier)
    assert rest, "the case selects records"
    assert graphql_all(client, f'{field}(ARGS, source: ["{SOURCE}"])', [field], identifier) == rest
    assert not set(withdrawn.values()) & set(rest), "a record whose only citation of the source was withdrawn"


@pytest.mark.parametrize("collection, field, identifier, nested", [r for r in RESOURCES if r[3]])
def test_records_of_a_source_are_the_same_in_rest_and_graphql(client, withdrawn, collection, field, identifier,
                                                              nested):
    filtered = rest_all(client, f"/api/v1/{collection}/?source={SOURCE}&page_size=1000", identifier)
    rest = rest_all(client, f"/api/v1/sources/{SOURCE}/{collection}/?page_size=1000", identifier)
    graphql = graphql_all(client, f'source(slug: "{SOURCE}") {{ {nested}(ARGS)', ["source", nested], identifier)
    assert rest == graphql == filtered
    assert not set(withdrawn.values()) & set(rest)
