"""Reads for indicators and observations: querysets shaped with their related rows, and the
targets-beside-results comparison."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import F, QuerySet, Window, prefetch_related_objects
from django.db.models.functions import RowNumber

from indicators.models import Indicator, Observation
from opendata.catalogue.selectors import citations_prefetch


def indicator_list() -> QuerySet[Indicator]:
    return Indicator.objects.all().select_related("unit", "topic")


def observation_list() -> QuerySet[Observation]:
    """Observations with indicator, unit, region and citations (with their source) in a constant
    number of queries, whatever the page size."""
    return (
        Observation.objects.all()
        .select_related("indicator", "indicator__unit", "indicator__topic", "region", "unit")
        .prefetch_related(citations_prefetch())
    )


def observation_most_recent(queryset: QuerySet[Observation], *, n: int) -> QuerySet[Observation]:
    """The `n` most recent observations per indicator, region and kind (World Bank `mrv`)."""
    ranked = queryset.annotate(
        _recency=Window(
            RowNumber(),
            partition_by=[F("indicator_id"), F("region_id"), F("kind")],
            order_by=[F("period_end").desc(), F("period_start").desc(), F("id").desc()],
        )
    )
    ids = ranked.filter(_recency__lte=n).values("id")
    return queryset.filter(id__in=ids)


@dataclass(frozen=True)
class TargetResult:
    """A target and, where one exists, the result for the same indicator, region and period."""

    target: Observation
    result: Observation | None

    @property
    def met(self) -> bool | None:
        return target_met(target=self.target, result=self.result)


ABOUT_TOLERANCE = Decimal("0.05")


def target_met(*, target: Observation, result: Observation | None) -> bool | None:
    """Whether a result meets its target, reading the target's comparator:

    - at_least: result ≥ target; at_most: result ≤ target;
    - about: result within ±5 % of the target;
    - exact: result ≥ target (a plain target is a level to reach, as in "增长3%").
    None when there is no result, or when the units differ.
    """
    if result is None or result.unit_id != target.unit_id:
        return None
    if target.comparator == Observation.Comparator.AT_MOST:
        return result.value <= target.value
    if target.comparator == Observation.Comparator.ABOUT:
        return abs(result.value - target.value) <= abs(target.value) * ABOUT_TOLERANCE
    return result.value >= target.value


#: An indicator's detail embeds at most this many targets (issue 13: a detail is bounded, and costs no more than a page of 100 observations); the rest are
#: in its observations collection (`kind=target`), paged.
TARGETS_EMBEDDED = 25
TARGET_ORDER = ("period_start", "period_end", "id")


def indicator_targets_with_results(*, indicator: Indicator, limit: int | None = None,
                                   read=None) -> list[TargetResult]:
    """The live targets of the indicator (the first `limit` in period order, or all), each beside the
    result for the same region and period: three queries (targets, their results, the citations of both)
    whatever the number of observations.

    `read(queryset)` may read the rows otherwise (the REST fast path reads them as values, with the
    attributes the pairing uses; it then fetches the citations itself)."""
    live = observation_list().alive().filter(indicator=indicator)
    targets = live.filter(kind=Observation.Kind.TARGET).order_by(*TARGET_ORDER)
    if limit is not None:
        targets = targets[:limit]
    fetch = read or (lambda qs: list(qs.prefetch_related(None)))
    targets = fetch(targets)
    if not targets:
        return []
    keys = {(t.region_id, t.period_start, t.period_end) for t in targets}
    candidates = fetch(live.filter(kind=Observation.Kind.ACTUAL, region_id__in={k[0] for k in keys},
                                   period_start__in={k[1] for k in keys}).order_by(*TARGET_ORDER))
    actuals = [a for a in candidates if (a.region_id, a.period_start, a.period_end) in keys]
    if read is None:
        prefetch_related_objects([*targets, *actuals], citations_prefetch())
    return targets_with_results([*actuals, *targets])


def indicator_target_count(*, indicator: Indicator) -> int:
    return observation_list().alive().filter(indicator=indicator, kind=Observation.Kind.TARGET).count()


def targets_with_results(rows: list[Observation]) -> list[TargetResult]:
    """Pair targets and results already fetched (no query): the result for a target is the actual
    observation with the same indicator, region and period (exact comparator preferred)."""
    actuals: dict[tuple, Observation] = {}
    for o in rows:
        if o.kind == Observation.Kind.ACTUAL:
            key = (o.indicator_id, o.region_id, o.period_start, o.period_end)
            if key not in actuals or o.comparator == Observation.Comparator.EXACT:
                actuals[key] = o
    return [
        TargetResult(target=o, result=actuals.get((o.indicator_id, o.region_id, o.period_start, o.period_end)))
        for o in rows
        if o.kind == Observation.Kind.TARGET
    ]
