"""Indicators and observations listed under the catalogue's records (see opendata.base.links)."""

from indicators import selectors
from indicators.filters import IndicatorFilterSet, ObservationFilterSet
from opendata.base.links import Link, register
from opendata.catalogue.models import Region, Source, Topic

OBSERVATION = "indicators.graphql.types.ObservationType"

SOURCE_OBSERVATIONS = Link(
    Source, "observations", OBSERVATION, ObservationFilterSet, selectors.observation_list,
    description="Observations citing this source.", filter_param="source",
    rest_summary="List the observations citing a source")
REGION_OBSERVATIONS = Link(
    Region, "observations", OBSERVATION, ObservationFilterSet, selectors.observation_list,
    description="Observations of this region itself (for its sub-regions too, use the root `observations` "
                "with `region`).", relation="observations")
TOPIC_INDICATORS = Link(
    Topic, "indicators", "indicators.graphql.types.IndicatorType", IndicatorFilterSet,
    selectors.indicator_list, description="Indicators of this topic.", relation="indicators")

register(TOPIC_INDICATORS, REGION_OBSERVATIONS, SOURCE_OBSERVATIONS)
