"""v1 representations of indicators and observations, and of targets beside their results."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from indicators.models import TargetState
from indicators.selectors import (
    TARGETS_EMBEDDED,
    indicator_target_count,
    indicator_targets_with_results,
    targets_evaluated,
)
from opendata.base.api.serializers import (DecimalStringField, DynamicSerializer, FastRepresentation, LinkField,
                                           TimestampsMixin, link)
from opendata.base.models import decimal_text
from opendata.catalogue.api.v1.serializers import (
    RegionSummarySerializer,
    TopicSummarySerializer,
    UnitSummarySerializer,
    citations_expanded,
    citations_field,
)


class IndicatorSummarySerializer(serializers.Serializer):
    code = serializers.CharField(read_only=True)
    url = LinkField("indicator-detail", "code")
    name_zh = serializers.CharField(read_only=True)
    name_en = serializers.CharField(read_only=True)
    unit = serializers.CharField(source="unit.symbol", read_only=True)
    topic = serializers.CharField(source="topic.code", read_only=True)


class IndicatorSerializer(TimestampsMixin, DynamicSerializer):
    """A measurable quantity (GDP, grain output, high-tech enterprises…) with its unit and topic."""

    code = serializers.CharField(read_only=True, help_text="Public identifier, e.g. `grain-output`.")
    url = LinkField("indicator-detail", "code")
    name_zh = serializers.CharField(read_only=True)
    name_en = serializers.CharField(read_only=True)
    description = serializers.CharField(read_only=True)
    unit = serializers.CharField(source="unit.symbol", read_only=True,
                                 help_text="Default unit as written; the unit object with `expand=unit`.")
    topic = serializers.CharField(source="topic.code", read_only=True,
                                  help_text="Topic code; the topic object with `expand=topic`.")
    observations_url = LinkField("indicator-observations", "code", help_text="This indicator's observations.")

    expandable = {
        "unit": ("unit", lambda: UnitSummarySerializer(read_only=True)),
        "topic": ("topic", lambda: TopicSummarySerializer(read_only=True)),
    }


CITATION_EXAMPLE = {
    "source": "2025-work-report-plan",
    "source_url": "http://127.0.0.1:8000/api/v1/sources/2025-work-report-plan/",
    "quote": "粮食产量260亿斤以上", "offset": 31,
    "text_url": "http://127.0.0.1:8000/api/v1/sources/2025-work-report-plan/text/#char=31,42",
    "garbled": False,
}
OBSERVATION_EXAMPLE = {
    "uid": "769d8dfb-72d6-54a6-bb22-2ce0e7cbdd4a",
    "url": "http://127.0.0.1:8000/api/v1/observations/769d8dfb-72d6-54a6-bb22-2ce0e7cbdd4a/",
    "indicator": "grain-output", "region": "changchun", "period_start": "2025-01-01", "period_end": "2025-12-31",
    "period_label": "2025", "kind": "target", "comparator": "at_least", "value": "260", "unit": "亿斤",
    "citations": [CITATION_EXAMPLE],
    "created_at": "2025-03-01T02:00:00Z", "updated_at": "2025-03-01T02:00:00Z", "deleted_at": None,
}


@extend_schema_serializer(examples=[OpenApiExample("A target with its citation", value=OBSERVATION_EXAMPLE,
                                                   response_only=True)])
class ObservationSerializer(TimestampsMixin, DynamicSerializer):
    """One value of one indicator for one region and period, a result (`actual`) or a goal (`target`), with the citations that state it."""

    uid = serializers.UUIDField(read_only=True, help_text="Public identifier (stable across reloads).")
    url = LinkField("observation-detail", "uid")
    indicator = serializers.CharField(source="indicator.code", read_only=True,
                                      help_text="Indicator code; the indicator object with `expand=indicator`.")
    region = serializers.CharField(source="region.code", read_only=True,
                                   help_text="Region code; the region object with `expand=region`.")
    period_start = serializers.DateField(read_only=True, help_text="First day of the period.")
    period_end = serializers.DateField(read_only=True, help_text="Last day of the period.")
    period_label = serializers.CharField(read_only=True, help_text="The period as named, e.g. `2025`.")
    kind = serializers.CharField(read_only=True, help_text="`actual` (a result) or `target` (a goal).")
    comparator = serializers.CharField(read_only=True, help_text=(
        "How the text qualifies the value: exact, at_least (以上), at_most (以内), about (左右)."))
    value = DecimalStringField()
    unit = serializers.CharField(source="unit.symbol", read_only=True,
                                 help_text="Unit as written; the unit object with `expand=unit`.")
    measure = serializers.CharField(read_only=True, help_text=(
        "What the value of the period states: `level` (reached in the year, or by the period's end), `total` "
        "(over the period), `average` (e.g. an average annual growth), `change` (over the period), or "
        "`unspecified` (a multi-year statement that does not say which)."))
    disputed = serializers.BooleanField(read_only=True, help_text=(
        "Sources disagree on this fact: every figure is kept, each with its citations; `preferred` marks the "
        "one `mrv` and the targets' comparison read, `dispute_note` says why."))
    preferred = serializers.BooleanField(read_only=True, help_text=(
        "False for a disputed figure that is not the preferred one."))
    dispute_note = serializers.CharField(read_only=True, help_text="Why one figure is preferred (disputed facts).")
    assessment = serializers.CharField(read_only=True, help_text=(
        "What the text itself says about this result and a goal: `achieved_early` (\"提前完成…目标\", in a "
        "citation), or empty."))
    assessment_period_start = serializers.DateField(read_only=True, allow_null=True, help_text=(
        "First day of the period of the goal the assessment speaks of."))
    assessment_period_end = serializers.DateField(read_only=True, allow_null=True, help_text=(
        "Last day of the period of the goal the assessment speaks of."))
    citations = citations_field()

    expandable = {
        "indicator": ("indicator", lambda: IndicatorSummarySerializer(read_only=True)),
        "region": ("region", lambda: RegionSummarySerializer(read_only=True)),
        "unit": ("unit", lambda: UnitSummarySerializer(read_only=True)),
        "source": ("citations", citations_expanded),
    }


class ResultSummarySerializer(FastRepresentation):
    """A result as a target's evaluation names it (the observation itself at `url`)."""

    uid = serializers.UUIDField(read_only=True)
    url = LinkField("observation-detail", "uid")
    region = serializers.CharField(source="region.code", read_only=True)
    period_start = serializers.DateField(read_only=True)
    period_end = serializers.DateField(read_only=True)
    period_label = serializers.CharField(read_only=True)
    comparator = serializers.CharField(read_only=True)
    value = DecimalStringField()
    unit = serializers.CharField(source="unit.symbol", read_only=True)
    measure = serializers.CharField(read_only=True)
    disputed = serializers.BooleanField(read_only=True)


#: A result summary or null, written so that OpenAPI 3.0 validators accept the null (a `nullable` beside an
#: `allOf` is not read by all of them).
NULLABLE_RESULT = {"oneOf": [{"$ref": "#/components/schemas/ResultSummary"},
                             {"type": "object", "nullable": True, "enum": [None]}]}

STATE_HELP = (
    "`met` / `not_met`: the result for the target's period (its last year for a level; every year for a total "
    "or an average) meets it or not; `achieved_early`: a result within the period already meets it, or the "
    "text says so (`stated_by`); `on_track`: a total or average whose known years keep pace, an at-most limit "
    "kept so far, or a level ahead of the straight line from the year before the period; `unknown`: anything "
    "else (`state_reason` says why). Only preferred figures are read (see `disputed`).")
PROGRESS_HELP = ("`compared_value` ÷ the target's value (4 decimal places); null without a result within the "
                 "period.")
COMPARED_HELP = ("The figure compared with the target, in the target's unit: the level at the end (or the latest "
                 "level), the sum of the yearly results (total), their mean (average).")


class TargetEvaluationFields(serializers.Serializer):
    """A target's results within its period, its progress and its state (indicators.selectors.evaluate_target)."""

    results = ResultSummarySerializer(many=True, read_only=True, help_text=(
        "The preferred results of the same indicator and region within the target's period, oldest first."))
    latest_result = ResultSummarySerializer(read_only=True, allow_null=True, help_text=(
        "The result within the period ending last."))
    result_at_end = ResultSummarySerializer(read_only=True, allow_null=True, help_text=(
        "The result for the period's last year (a level) or for the whole period; null while unknown."))
    compared_value = DecimalStringField(allow_null=True, help_text=COMPARED_HELP)
    progress = DecimalStringField(allow_null=True, help_text=PROGRESS_HELP)
    state = serializers.ChoiceField(choices=TargetState.values, read_only=True, help_text=STATE_HELP)
    state_reason = serializers.CharField(read_only=True, help_text="Why the state is what it is.")
    stated_by = ResultSummarySerializer(read_only=True, allow_null=True, help_text=(
        "The result whose citation states that the goal was achieved early, where the text says so."))


class TargetResultSerializer(TargetEvaluationFields):
    target = ObservationSerializer(read_only=True, help_text="An observation of kind `target`.")
    result = ObservationSerializer(read_only=True, allow_null=True, help_text=(
        "The preferred `actual` observation of the same indicator, region and period; null when none is known yet."))
    met = serializers.BooleanField(read_only=True, allow_null=True, help_text=(
        "Whether `result` meets the target read with its comparator (at_least: ≥, at_most: ≤, about: "
        "within ±5 %, exact: ≥); null without a result or when units do not convert."))

    def get_fields(self):  # the target and its result first, as before
        fields = super().get_fields()
        return {k: fields.pop(k) for k in ("target", "result", "met")} | fields


class TargetSerializer(ObservationSerializer):
    """A target (an observation of kind `target`) with its results within its period, its progress and its
    state. Evaluated once per page: the first row asks `targets_evaluated` for every row of the page (one
    query for their results)."""

    state = serializers.SerializerMethodField(help_text=STATE_HELP)
    state_reason = serializers.SerializerMethodField(help_text="Why the state is what it is.")
    progress = serializers.SerializerMethodField(allow_null=True, help_text=PROGRESS_HELP)
    compared_value = serializers.SerializerMethodField(allow_null=True, help_text=COMPARED_HELP)
    latest_result = serializers.SerializerMethodField(allow_null=True, help_text="The result within the period ending last.")
    result_at_end = serializers.SerializerMethodField(allow_null=True, help_text=(
        "The result for the period's last year (a level) or for the whole period; null while unknown."))
    results = serializers.SerializerMethodField(help_text=(
        "The preferred results of the same indicator and region within the target's period, oldest first."))
    stated_by = serializers.SerializerMethodField(allow_null=True, help_text=(
        "The result whose citation states that the goal was achieved early, where the text says so."))

    def _evaluation(self, obj):
        cache = self.context.setdefault("_target_evaluations", {})
        if obj.pk not in cache:
            page = getattr(self.parent, "instance", None)
            rows = [r for r in page if r.pk not in cache] if isinstance(page, list) and obj in page else [obj]
            cache.update(targets_evaluated(rows))
        return cache[obj.pk].evaluation

    def _summary(self, row):
        return None if row is None else ResultSummarySerializer(row, context=self.context).data  # plain Serializer

    @extend_schema_field(serializers.ChoiceField(choices=TargetState.values))
    def get_state(self, obj) -> str:
        return self._evaluation(obj).state

    def get_state_reason(self, obj) -> str:
        return self._evaluation(obj).state_reason

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_progress(self, obj):
        value = self._evaluation(obj).progress
        return None if value is None else decimal_text(value)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_compared_value(self, obj):
        value = self._evaluation(obj).compared_value
        return None if value is None else decimal_text(value)

    @extend_schema_field(NULLABLE_RESULT)
    def get_latest_result(self, obj):
        return self._summary(self._evaluation(obj).latest_result)

    @extend_schema_field(NULLABLE_RESULT)
    def get_result_at_end(self, obj):
        return self._summary(self._evaluation(obj).result_at_end)

    @extend_schema_field(ResultSummarySerializer(many=True))
    def get_results(self, obj):
        return ResultSummarySerializer(self._evaluation(obj).results, many=True, context=self.context).data

    @extend_schema_field(NULLABLE_RESULT)
    def get_stated_by(self, obj):
        return self._summary(self._evaluation(obj).stated_by)


@extend_schema_serializer(examples=[OpenApiExample("Grain output, a target beside its result", response_only=True, value={
    "code": "grain-output", "url": "http://127.0.0.1:8000/api/v1/indicators/grain-output/",
    "name_zh": "粮食产量", "name_en": "Grain output", "description": "", "unit": "亿斤", "topic": "agriculture",
    "observations_url": "http://127.0.0.1:8000/api/v1/indicators/grain-output/observations/",
    "targets": [{"target": {**OBSERVATION_EXAMPLE, "period_start": "2024-01-01", "period_end": "2024-12-31",
                            "period_label": "2024", "value": "250"},
                 "result": {**OBSERVATION_EXAMPLE, "kind": "actual", "comparator": "exact", "period_start": "2024-01-01",
                            "period_end": "2024-12-31", "period_label": "2024", "value": "259.9"},
                 "met": True}],
    "targets_count": 1, "targets_url": "http://127.0.0.1:8000/api/v1/indicators/grain-output/observations/?kind=target",
    "created_at": "2025-03-01T02:00:00Z", "updated_at": "2025-03-01T02:00:00Z", "deleted_at": None,
})])
class IndicatorDetailSerializer(IndicatorSerializer):
    """An indicator with its targets, each beside the result for the same region and period: at most
    25 embedded (a detail is bounded), all of them counted and linked."""

    targets = serializers.SerializerMethodField(help_text=(
        f"The indicator's targets beside the result for the same region and period, in period order: at most "
        f"{TARGETS_EMBEDDED} (see `targets_count`; every target is in `targets_url`, paged)."))
    targets_count = serializers.SerializerMethodField(help_text=(
        "How many live targets the indicator has; more than the length of `targets` when the list is cut at "
        f"{TARGETS_EMBEDDED}."))
    targets_url = serializers.SerializerMethodField(help_text=(
        "Every target of the indicator, paged (its observations of kind `target`); each one's result is "
        "the `actual` observation of the same region and period."))

    @extend_schema_field(TargetResultSerializer(many=True))
    def get_targets(self, obj):
        pairs = indicator_targets_with_results(indicator=obj, limit=TARGETS_EMBEDDED)
        self._embedded_targets = (obj.pk, len(pairs))
        return TargetResultSerializer(pairs, many=True, context=self.context).data

    @extend_schema_field(OpenApiTypes.INT)
    def get_targets_count(self, obj) -> int:
        pk, embedded = getattr(self, "_embedded_targets", (None, None))
        if pk == obj.pk and embedded < TARGETS_EMBEDDED:
            return embedded  # the list is whole: no query to count it
        return indicator_target_count(indicator=obj)

    @extend_schema_field(OpenApiTypes.URI)
    def get_targets_url(self, obj) -> str:
        return link(self.context.get("request"), "indicator-observations", obj.code) + "?kind=target"
