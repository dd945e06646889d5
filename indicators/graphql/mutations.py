"""Mutations of indicators and observations (with `bulkUpsertObservations`), through the indicators'
write services (opendata/base/graphql/mutations.py makes them)."""

from __future__ import annotations

from indicators import services
from indicators.graphql.types import IndicatorType, ObservationType
from opendata.base.graphql.mutations import mutation_type, reference_input, write_mutations
from opendata.catalogue.services import CITATION

INDICATORS = write_mutations(writes=services.INDICATOR_WRITES, writer=services.INDICATOR, type=IndicatorType,
                             collection="indicators")
OBSERVATIONS = write_mutations(
    writes=services.OBSERVATION_WRITES, writer=services.OBSERVATION, type=ObservationType, collection="observations",
    references={"citations": reference_input(CITATION)},
).bulk_upsert(services.observation_bulk_upsert, name="bulk_upsert_observations")

Mutation = mutation_type("IndicatorMutation", INDICATORS, OBSERVATIONS)
