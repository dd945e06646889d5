"""v1 representations of indicators and observations, and of targets beside their results."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from indicators.models import Observation
from indicators.selectors import (
    TARGETS_EMBEDDED,
    indicator_target_count,
    indicator_targets_with_results,
    observation_list,
)
from opendata.base.api.fastpath import plan_for_serializer
from opendata.base.api.serializers import DecimalStringField, DynamicSerializer, LinkField, TimestampsMixin, link
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
    citations = citations_field()

    expandable = {
        "indicator": ("indicator", lambda: IndicatorSummarySerializer(read_only=True)),
        "region": ("region", lambda: RegionSummarySerializer(read_only=True)),
        "unit": ("unit", lambda: UnitSummarySerializer(read_only=True)),
        "source": ("citations", citations_expanded),
    }


class TargetResultSerializer(serializers.Serializer):
    target = ObservationSerializer(read_only=True, help_text="An observation of kind `target`.")
    result = ObservationSerializer(read_only=True, allow_null=True, help_text=(
        "The `actual` observation of the same indicator, region and period; null when none is known yet."))
    met = serializers.BooleanField(read_only=True, allow_null=True, help_text=(
        "Whether the result meets the target read with its comparator (at_least: ≥, at_most: ≤, about: "
        "within ±5 %, exact: ≥); null without a result or when units differ."))


#: What the pairing of targets and results reads from an observation (indicators.selectors.target_met).
PAIRING_COLUMNS = ("pk", "kind", "indicator_id", "region_id", "period_start", "period_end", "comparator", "value",
                   "unit_id")


class Row(dict):
    """A row read as values, whose columns are also attributes (what the pairing reads)."""

    __getattr__ = dict.__getitem__


def observation_plan():
    """The fast path's plan of an embedded observation (no fields/expand choice: always the full one), or None."""
    return plan_for_serializer(ObservationSerializer, Observation, observation_list)


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
        plan = observation_plan()
        if plan is None:
            pairs = indicator_targets_with_results(indicator=obj, limit=TARGETS_EMBEDDED)
            self._embedded_targets = (obj.pk, len(pairs))
            return TargetResultSerializer(pairs, many=True, context=self.context).data
        # The fast path (opendata.base.api.fastpath): the observations as values, written by the plan compiled
        # from ObservationSerializer, their citations in one query; byte-identical (tests/.../test_fastpath.py).
        rows: list[Row] = []

        def read(queryset):
            read_rows = [Row(r) for r in plan.read(queryset, extra=PAIRING_COLUMNS)]
            rows.extend(read_rows)
            return read_rows

        pairs = indicator_targets_with_results(indicator=obj, limit=TARGETS_EMBEDDED, read=read)
        self._embedded_targets = (obj.pk, len(pairs))
        written = {id(r): out for r, out in zip(rows, plan.render(rows, self.context), strict=True)}
        met = TargetResultSerializer._declared_fields["met"].to_representation
        return [{"target": written[id(p.target)], "result": None if p.result is None else written[id(p.result)],
                 "met": None if p.met is None else met(p.met)} for p in pairs]

    @extend_schema_field(OpenApiTypes.INT)
    def get_targets_count(self, obj) -> int:
        pk, embedded = getattr(self, "_embedded_targets", (None, None))
        if pk == obj.pk and embedded < TARGETS_EMBEDDED:
            return embedded  # the list is whole: no query to count it
        return indicator_target_count(indicator=obj)

    @extend_schema_field(OpenApiTypes.URI)
    def get_targets_url(self, obj) -> str:
        return link(self.context.get("request"), "indicator-observations", obj.code) + "?kind=target"
