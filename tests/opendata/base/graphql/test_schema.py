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


def test_the_schema_is_read_only():
    from opendata.config.schema import schema

    assert schema.graphql_schema.mutation_type is None
    assert schema.graphql_schema.subscription_type is None
