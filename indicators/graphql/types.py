"""GraphQL types of indicators, observations and targets beside their results."""

from __future__ import annotations

import graphene

from indicators import selectors
from indicators.filters import ObservationFilterSet
from indicators.models import Indicator, Observation
from opendata.base.graphql.fields import Join, PublicConnectionField, PublicObjectType, RelatedList
from opendata.base.models import TIMESTAMPS
from opendata.catalogue.filters import CITATION_SORTING
from opendata.catalogue.graphql.types import CitationType, RegionType, TopicType, UnitType
from opendata.catalogue.selectors import citation_queryset


class ObservationType(PublicObjectType):
    class Meta:
        model = Observation
        name = "Observation"
        description = "One value of an indicator for a region and period: a result (`actual`) or a goal (`target`)."
        fields = ("uid", "period_start", "period_end", "period_label", "kind", "comparator", "value", *TIMESTAMPS)


    indicator = Join("indicators.graphql.types.IndicatorType", required=True)
    region = Join(RegionType, required=True)
    unit = Join(UnitType, required=True, description="The unit as written for this value.")
    citations = PublicConnectionField(CitationType, relation="citations", queryset=citation_queryset,
                                      sorting=CITATION_SORTING, description="The quotes stating this value.")

    @classmethod
    def rows(cls):
        return selectors.observation_list()

    def resolve_value(self, info):
        return format(self.value.normalize(), "f")  # as REST writes it: 260, not 2.6E+2 or 260.000000


class TargetResultType(graphene.ObjectType):
    class Meta:
        name = "TargetResult"
        description = "A target beside the result for the same indicator, region and period."

    target = graphene.Field(ObservationType, required=True, description="An observation of kind `target`.")
    result = graphene.Field(ObservationType, description="The `actual` observation of the same indicator, region "
                                                         "and period; null while none is known.")
    met = graphene.Boolean(description="Whether the result meets the target read with its comparator (at_least: ≥, "
                                       "at_most: ≤, about: within ±5 %, exact: ≥); null without a result or when "
                                       "units differ.")


class IndicatorType(PublicObjectType):
    class Meta:
        model = Indicator
        name = "Indicator"
        description = "What is measured: GDP, grain output..."
        fields = ("code", "name_zh", "name_en", "description", *TIMESTAMPS)


    unit = Join(UnitType, required=True, description="Default unit.")
    topic = Join(TopicType, required=True)
    observations = PublicConnectionField(ObservationType, relation="observations", filterset_class=ObservationFilterSet,
                                         queryset=selectors.observation_list, default_ordering=("period_start",),
                                         description="The indicator's time series.")
    targets = RelatedList(
        TargetResultType, relation="observations",
        queryset=lambda: selectors.observation_list().alive().order_by("period_start", "period_end", "id"),
        transform=selectors.targets_with_results, rows_type=ObservationType, item_fields=("target", "result"),
        description="Every target of the indicator beside the result for the same region and period.")

    @classmethod
    def rows(cls):
        return selectors.indicator_list()
