"""One FilterSet per resource, shared by REST (django-filter backend) and GraphQL."""

from __future__ import annotations

import django_filters
from django.db.models import Exists, OuterRef

from indicators.models import Indicator, Observation, TargetState
from indicators.selectors import observation_most_recent, target_ids_in_state
from opendata.base.filters import (
    CitesSource,
    CitesSourceFilter,
    CodeListFilter,
    PeriodBoundFilter,
    PublicFilterSet,
    SearchFilter,
    Sorting,
    StrictBooleanFilter,
    StrictChoiceFilter,
    StrictIntegerFilter,
)
from opendata.catalogue.filters import RegionTreeFilter
from opendata.catalogue.selectors import region_with_descendants_ids

INDICATOR_SEARCH_FIELDS = ("code", "name_zh", "name_en", "description")


OBSERVATION_CITES = CitesSource(Observation.citations)
INDICATOR_CITES = CitesSource(Observation.citations, via="indicator")


class IndicatorFilterSet(PublicFilterSet):
    code = CodeListFilter(field_name="code", help_text="Indicator codes, comma-separated (e.g. `gdp,gdp-growth`).")
    topic = CodeListFilter(field_name="topic__code", help_text="Topic codes, comma-separated.")
    unit = django_filters.CharFilter(field_name="unit__symbol", help_text="Unit as written (e.g. `亿元`, `%`).")
    region = CodeListFilter(method="filter_region",
                            help_text="Indicators with observations in these regions or their sub-regions.")
    source = CitesSourceFilter(INDICATOR_CITES, help_text="Indicators with observations citing these sources.")
    has_target = StrictBooleanFilter(method="filter_has_target",
                                     help_text="Indicators that have (or lack) a target observation.")
    q = SearchFilter(fields=INDICATOR_SEARCH_FIELDS,
                     help_text="Search code, Chinese and English names and description: `地铁|轨道` finds either; Chinese matches as a substring, Latin words as whole words (`metro` is not Metropolitan).")

    class Meta:
        model = Indicator
        fields: list[str] = []

    sorting = Sorting({"code": "code", "name_en": "name_en", "updated_at": "updated_at"}, default=("code",))

    def filter_region(self, qs, name, value):
        ids = region_with_descendants_ids(value)
        return qs.filter(Exists(Observation.objects.alive().filter(indicator=OuterRef("pk"), region_id__in=ids)))


    def filter_has_target(self, qs, name, value):
        if value is None:
            return qs
        has = Exists(Observation.objects.alive().filter(indicator=OuterRef("pk"), kind=Observation.Kind.TARGET))
        return qs.filter(has if value else ~has)


class ObservationFilterSet(PublicFilterSet):
    indicator = CodeListFilter(field_name="indicator__code", help_text="Indicator codes, comma-separated.")
    topic = CodeListFilter(field_name="indicator__topic__code", help_text="Topic codes, comma-separated.")
    region = RegionTreeFilter(field_name="region_id",
                              help_text="Region codes, comma-separated; each includes its sub-regions.")
    region_exact = CodeListFilter(field_name="region__code", help_text="Region codes, without sub-regions.")
    kind = StrictChoiceFilter(choices=Observation.Kind, help_text="`actual` (a result) or `target` (a goal).")
    comparator = StrictChoiceFilter(choices=Observation.Comparator,
                                    help_text="How the value is qualified in the text.")
    source = CitesSourceFilter(OBSERVATION_CITES, help_text="Source slugs, comma-separated: facts citing them.")
    period_from = PeriodBoundFilter(field_name="period_end", lookup_expr="gte",
                                    help_text="Periods ending on or after this year (YYYY) or date (YYYY-MM-DD).")
    period_to = PeriodBoundFilter(field_name="period_start", lookup_expr="lte", upper=True,
                                  help_text="Periods starting on or before this year (YYYY) or date (YYYY-MM-DD).")
    mrv = StrictIntegerFilter(method="filter_mrv", min_value=1, max_value=100,
                                      help_text="Most recent values: the N latest observations per indicator, "
                                                "region and kind (after the other filters), preferred figures "
                                                "only: where sources disagree (`disputed`), the figure not "
                                                "preferred is left out.")
    q = SearchFilter(fields=tuple(f"indicator__{f}" for f in INDICATOR_SEARCH_FIELDS),
                     help_text="Search the indicator's code, names and description: `地铁|轨道` finds either; Chinese matches as a substring, Latin words as whole words (`metro` is not Metropolitan).")

    class Meta:
        model = Observation
        fields: list[str] = []

    # Each ordering is served by an index ending in id (see the obs_keyset_* indexes).
    sorting = Sorting({"indicator": "indicator_id", "period_start": "period_start", "updated_at": "updated_at"},
                      default=("indicator", "period_start"))


    def filter_mrv(self, qs, name, value):
        return qs  # applied last, in filter_queryset, so that it ranks what the other filters kept

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        n = self.form.cleaned_data.get("mrv")
        if n:
            queryset = observation_most_recent(queryset, n=n)
        return queryset


class TargetFilterSet(PublicFilterSet):
    """Targets (observations of kind `target`) with their state: "which of the city's targets were met?"."""

    indicator = CodeListFilter(field_name="indicator__code", help_text="Indicator codes, comma-separated.")
    topic = CodeListFilter(field_name="indicator__topic__code", help_text="Topic codes, comma-separated.")
    region = RegionTreeFilter(field_name="region_id",
                              help_text="Region codes, comma-separated; each includes its sub-regions.")
    comparator = StrictChoiceFilter(choices=Observation.Comparator,
                                    help_text="How the target's value is qualified in the text.")
    measure = StrictChoiceFilter(choices=Observation.Measure, help_text=(
        "What the target's value states: level, total, average, change or unspecified."))
    state = StrictChoiceFilter(choices=TargetState, method="filter_state", help_text=(
        "Targets in this state: met, not_met, on_track, achieved_early, unknown (computed from the "
        "preferred results within each target's period)."))
    source = CitesSourceFilter(OBSERVATION_CITES, help_text="Source slugs, comma-separated: targets citing them.")
    period_from = PeriodBoundFilter(field_name="period_end", lookup_expr="gte",
                                    help_text="Periods ending on or after this year (YYYY) or date (YYYY-MM-DD).")
    period_to = PeriodBoundFilter(field_name="period_start", lookup_expr="lte", upper=True,
                                  help_text="Periods starting on or before this year (YYYY) or date (YYYY-MM-DD).")
    q = SearchFilter(fields=tuple(f"indicator__{f}" for f in INDICATOR_SEARCH_FIELDS),
                     help_text="Search the indicator's code, names and description.")

    class Meta:
        model = Observation
        fields: list[str] = []

    sorting = Sorting({"indicator": "indicator_id", "period_start": "period_start", "updated_at": "updated_at"},
                      default=("indicator", "period_start"))

    def filter_state(self, qs, name, value):
        if not value:
            return qs
        return qs.filter(id__in=target_ids_in_state(qs, [value]))
