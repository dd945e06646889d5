"""GraphQL types of indicators, observations and targets beside their results."""

from __future__ import annotations

import graphene

from indicators import selectors
from indicators.filters import ObservationFilterSet
from indicators.models import Indicator, Observation
from graphql import get_named_type

from opendata.base.graphql.fastpath import column_resolver
from opendata.base.graphql.fields import (
    BatchedList,
    Join,
    Planned,
    PublicConnectionField,
    PublicObjectType,
    RelatedList,
    Selected,
    list_key,
    plan_rows,
    rows_of,
    sub_fields,
)
from opendata.base.models import TIMESTAMPS
from opendata.catalogue.filters import CITATION_SORTING
from opendata.catalogue.graphql.types import CitationType, RegionType, TopicType, UnitType
from opendata.catalogue.selectors import citation_queryset


def _results_of_targets(parents: list[Observation], queryset) -> dict:
    """The actual observations of each target's indicator (one query for a page of targets)."""
    targets = [p for p in parents if p.kind == Observation.Kind.TARGET]
    rows = list(queryset.filter(indicator_id__in={t.indicator_id for t in targets}))
    by_indicator: dict[int, list[Observation]] = {}
    for row in rows:
        by_indicator.setdefault(row.indicator_id, []).append(row)
    return {t.pk: by_indicator.get(t.indicator_id, []) for t in targets}


class TargetEvaluationField(Planned, graphene.Field):
    """An observation's evaluation as a target (null for a result): its results are loaded for all the
    targets of a page at once (a BatchedList of the indicators' results), then `evaluate_target` reads them."""

    def __init__(self, **kwargs):
        super().__init__("indicators.graphql.types.TargetResultType", **kwargs)

    def wrap_resolve(self, parent_resolver):
        return self.resolve

    def add_to_plan(self, plan, selected: Selected) -> None:
        info, nodes = selected.info, selected.nodes
        item_type = get_named_type(selected.definition.type)
        row_nodes = [node for sub in sub_fields(info, item_type, nodes).values()
                     if sub[0].name.value in {"result", "results", "latestResult", "resultAtEnd", "statedBy"}
                     for node in sub]
        child = plan_rows(info, info.schema.get_type("Observation"), row_nodes)
        key = list_key(nodes)
        queryset = selectors.observation_list().alive().filter(kind=Observation.Kind.ACTUAL).order_by("id")
        plan.batches[key] = BatchedList(key, child.shape(queryset), child, load=_results_of_targets)

    def resolve(self, root, info, **_args):
        if root.kind != Observation.Kind.TARGET:
            return None
        return selectors.targets_with_results([root, *rows_of(self, root, info)])[0]


class ObservationType(PublicObjectType):
    class Meta:
        model = Observation
        name = "Observation"
        description = "One value of an indicator for a region and period: a result (`actual`) or a goal (`target`)."
        fields = ("uid", "period_start", "period_end", "period_label", "kind", "comparator", "value", "measure",
                  "disputed", "preferred", "dispute_note", "assessment", "assessment_period_start",
                  "assessment_period_end", *TIMESTAMPS)


    indicator = Join("indicators.graphql.types.IndicatorType", required=True)
    region = Join(RegionType, required=True)
    unit = Join(UnitType, required=True, description="The unit as written for this value.")
    citations = PublicConnectionField(CitationType, relation="citations", queryset=citation_queryset,
                                      sorting=CITATION_SORTING, description="The quotes stating this value.")

    @classmethod
    def rows(cls):
        return selectors.observation_list()

    target_evaluation = TargetEvaluationField(description=(
        "For a target: its results within its period, its progress and its state (null for a result)."))

    # As REST writes it: 260, not 2.6E+2 or 260.000000 (a resolver the fast path knows: opendata.base.graphql.fastpath).
    resolve_value = column_resolver("value", lambda value: format(value.normalize(), "f"))


def _decimal(value):
    return None if value is None else format(value.normalize(), "f")


#: The fields of a TargetResult that show observations (their selections are planned as observations').
TARGET_ROW_FIELDS = ("target", "result", "results", "latestResult", "resultAtEnd", "statedBy")


class TargetResultType(graphene.ObjectType):
    class Meta:
        name = "TargetResult"
        description = ("A target beside its results: the result of the same period, every preferred result within "
                       "its period, its progress and its state.")

    target = graphene.Field(ObservationType, required=True, description="An observation of kind `target`.")
    result = graphene.Field(ObservationType, description="The preferred `actual` observation of the same indicator, "
                                                         "region and period; null while none is known.")
    met = graphene.Boolean(description="Whether `result` meets the target read with its comparator (at_least: ≥, "
                                       "at_most: ≤, about: within ±5 %, exact: ≥); null without a result or when "
                                       "units do not convert.")
    results = graphene.List(graphene.NonNull(ObservationType), required=True, description=(
        "The preferred results of the same indicator and region within the target's period, oldest first."))
    latest_result = graphene.Field(ObservationType, description="The result within the period ending last.")
    result_at_end = graphene.Field(ObservationType, description=(
        "The result for the period's last year (a level) or for the whole period; null while unknown."))
    compared_value = graphene.String(description=(
        "The figure compared with the target, in the target's unit: the level at the end (or the latest level), "
        "the sum of the yearly results (total), their mean (average)."))
    progress = graphene.String(description="`comparedValue` ÷ the target's value (4 decimal places); null without "
                                           "a result within the period.")
    state = graphene.String(required=True, description=(
        "met / not_met (the period's result is known), achieved_early (a result within the period already meets "
        "it, or the text says so: `statedBy`), on_track, unknown (`stateReason` says why)."))
    state_reason = graphene.String(required=True, description="Why the state is what it is.")
    stated_by = graphene.Field(ObservationType, description=(
        "The result whose citation states that the goal was achieved early, where the text says so."))

    def resolve_compared_value(self, info):
        return _decimal(self.compared_value)

    def resolve_progress(self, info):
        return _decimal(self.progress)


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
        transform=selectors.targets_with_results, rows_type=ObservationType, item_fields=TARGET_ROW_FIELDS,
        description="Every target of the indicator beside its results, with its progress and state.")

    @classmethod
    def rows(cls):
        return selectors.indicator_list()
