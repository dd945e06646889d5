"""v1 views of indicators and observations, and of the observations nested under an indicator or a source; both
collections written through the indicators' services (opendata.base.api.writes), observations in bulk too."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view

from indicators import selectors, services
from indicators.api.v1.serializers import (
    IndicatorDetailSerializer,
    IndicatorSerializer,
    ObservationSerializer,
    TargetSerializer,
)
from indicators.filters import IndicatorFilterSet, ObservationFilterSet, TargetFilterSet
from indicators.models import Indicator, Observation
from opendata.base.api.views import Parent, PublicViewSet
from opendata.base.api.writes import BulkUpsertMixin, WritableMixin
from opendata.catalogue.models import Citation, Region, Source, Topic, Unit

OBSERVATION_TABLES = (Observation, Indicator, Region, Unit, Topic, Citation, Source)


@extend_schema_view(
    list=extend_schema(summary="List indicators", description="What is measured: GDP, grain output, ..."),
    retrieve=extend_schema(summary="Get an indicator", description=(
        "One indicator with `targets`: each target beside the result for the same region and period, and "
        "whether it was met.")),
)
class IndicatorViewSet(WritableMixin, PublicViewSet):
    entity, label, export_name = "indicator", "indicator", "indicators"
    writes, writer, resource_name = services.INDICATOR_WRITES, services.INDICATOR, "indicators"
    selector = staticmethod(selectors.indicator_list)
    serializer_class = IndicatorSerializer
    filterset_class = IndicatorFilterSet
    cache_models = OBSERVATION_TABLES

    def get_serializer_class(self):
        return IndicatorSerializer if self.action == "list" else IndicatorDetailSerializer  # writes answer as GET


@extend_schema_view(
    list=extend_schema(summary="List observations", description=(
        "Values of indicators, results (`actual`) and goals (`target`), each with its citations. Keyset pages; "
        "`format=csv` or `format=ndjson` streams every matching observation.")),
    retrieve=extend_schema(summary="Get an observation"),
)
class ObservationViewSet(BulkUpsertMixin, WritableMixin, PublicViewSet):
    entity, label, export_name = "observation", "observation", "observations"
    writes, writer, resource_name = services.OBSERVATION_WRITES, services.OBSERVATION, "observations"
    bulk_service = staticmethod(services.observation_bulk_upsert)
    selector = staticmethod(selectors.observation_list)
    serializer_class = ObservationSerializer
    filterset_class = ObservationFilterSet
    cache_models = OBSERVATION_TABLES


@extend_schema_view(list=extend_schema(summary="List an indicator's observations",
                                       description="The indicator's time series: the observations filters apply."))
class IndicatorObservationViewSet(ObservationViewSet):
    entity = "indicator_observations"
    parent = Parent(Indicator, "indicator", "indicator", "indicator", default_ordering=("period_start",))



@extend_schema_view(
    list=extend_schema(summary="List targets with their state", description=(
        "Every target (an observation of kind `target`) with the preferred results within its period, its "
        "progress and its state: met, not_met, on_track, achieved_early or unknown (`state_reason` says why). "
        "Filter by `state` to ask \"which targets were met?\". Read-only: a target is written as an observation.")),
    retrieve=extend_schema(summary="Get a target with its state"),
)
class TargetViewSet(PublicViewSet):
    entity, label, export_name = "target", "target", "targets"
    selector = staticmethod(selectors.target_list)
    serializer_class = TargetSerializer
    filterset_class = TargetFilterSet
    lookup_field = "uid"
    cache_models = OBSERVATION_TABLES
