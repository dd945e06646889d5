"""Mutations of the catalogue: topics, regions, units, sources (with their periods) and citations,
through the catalogue's write services (opendata/base/graphql/mutations.py makes them)."""

from __future__ import annotations

from opendata.base.graphql.mutations import mutation_type, write_mutations
from opendata.catalogue import services
from opendata.catalogue.graphql.types import CitationType, RegionType, SourceType, TopicType, UnitType

TOPICS = write_mutations(writes=services.TOPIC_WRITES, writer=services.TOPIC, type=TopicType, collection="topics")
REGIONS = write_mutations(writes=services.REGION_WRITES, writer=services.REGION, type=RegionType, collection="regions")
UNITS = write_mutations(writes=services.UNIT_WRITES, writer=services.UNIT, type=UnitType, collection="units")
SOURCES = write_mutations(writes=services.SOURCE_WRITES, writer=services.SOURCE, type=SourceType, collection="sources")
CITATIONS = write_mutations(writes=services.CITATION_WRITES, writer=services.CITATION, type=CitationType,
                            collection="citations")

Mutation = mutation_type("CatalogueMutation", TOPICS, REGIONS, UNITS, SOURCES, CITATIONS)
