"""Root fields of the catalogue: sources, regions, topics, units."""

from __future__ import annotations

import graphene

from opendata.base.graphql.fields import PublicConnectionField, lookup_field
from opendata.catalogue import selectors
from opendata.catalogue.filters import RegionFilterSet, SourceFilterSet, TopicFilterSet, UnitFilterSet
from opendata.catalogue.graphql.types import RegionType, SourceType, TopicType, UnitType


class Query(graphene.ObjectType):
    sources = PublicConnectionField(SourceType, filterset_class=SourceFilterSet, queryset=selectors.source_list,
                                    description="The documents every fact is quoted from.")
    source = lookup_field(SourceType, "slug", "A source by slug.")
    regions = PublicConnectionField(RegionType, filterset_class=RegionFilterSet, queryset=selectors.region_list,
                                    description="The city, its districts, counties, zones.")
    region = lookup_field(RegionType, "code", "A region by code.")
    topics = PublicConnectionField(TopicType, filterset_class=TopicFilterSet, queryset=selectors.topic_list,
                                   description="Policy areas.")
    topic = lookup_field(TopicType, "code", "A topic by code.")
    units = PublicConnectionField(UnitType, filterset_class=UnitFilterSet,
                                  queryset=lambda: selectors.unit_list(include_deleted=True),
                                  description="Units as written, with conversion factors.")
    unit = lookup_field(UnitType, "symbol", "A unit by its symbol as written (e.g. 亿元).")
