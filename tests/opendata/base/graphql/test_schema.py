"""The committed SDL (docs/graphql/schema.graphql) is the contract: it must match the code."""

from pathlib import Path

from django.conf import settings
from django.core.management import call_command

COMMITTED = Path(settings.BASE_DIR) / "docs" / "graphql" / "schema.graphql"


def test_committed_sdl_matches_the_code(tmp_path):
    generated = tmp_path / "schema.graphql"
    call_command("graphql_schema", schema="opendata.config.schema.schema", out=str(generated), stdout=open("/dev/null", "w"))
    assert generated.read_text(encoding="utf-8") == COMMITTED.read_text(encoding="utf-8"), (
        "The GraphQL schema changed: run `make schema-graphql` and commit docs/graphql/schema.graphql "
        "(only additive changes; deprecate, never remove, a field)."
    )


def test_the_schema_writes_only_through_mutations():
    """Writes are mutations (opendata/base/graphql/mutations.py): the five of every resource and the bulk
    upsert of observations; no subscriptions."""
    from opendata.config.schema import schema

    mutation = schema.graphql_schema.mutation_type
    resources = ["Topic", "Region", "Unit", "Source", "Citation", "Indicator", "Observation", "Project",
                 "ProjectStatus", "EventSeries", "Event"]
    expected = {f"{verb}{resource}" for verb in ("create", "update", "upsert", "delete", "restore")
                for resource in resources} | {"bulkUpsertObservations"}
    assert set(mutation.fields) == expected
    assert schema.graphql_schema.subscription_type is None
