"""Root fields of indicators and observations."""

from __future__ import annotations

import graphene

from indicators import selectors
from indicators.filters import IndicatorFilterSet, ObservationFilterSet, TargetFilterSet
from indicators.graphql.types import IndicatorType, ObservationType
from opendata.base.graphql.fields import PublicConnectionField, lookup_field


class Query(graphene.ObjectType):
    indicators = PublicConnectionField(IndicatorType, filterset_class=IndicatorFilterSet,
                                       queryset=selectors.indicator_list, description="What is measured: GDP, grain output...")
    indicator = lookup_field(IndicatorType, "code", "An indicator by code, e.g. `grain-output`.")
    observations = PublicConnectionField(ObservationType, filterset_class=ObservationFilterSet,
                                         queryset=selectors.observation_list,
                                         description="Values of indicators, results and targets, with their citations.")
    observation = lookup_field(ObservationType, "uid", "An observation by uid.")
    targets = PublicConnectionField(ObservationType, filterset_class=TargetFilterSet, queryset=selectors.target_list,
                                    description="Targets (observations of kind `target`), each with its "
                                                "`targetEvaluation`: results within its period, progress and "
                                                "state; filter by `state`.")
