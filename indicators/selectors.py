"""Reads for indicators and observations: querysets shaped with their related rows, and the
targets-beside-results comparison."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import F, QuerySet, Window, prefetch_related_objects
from django.db.models.functions import RowNumber

from indicators.models import Indicator, Observation, TargetState
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
    """The `n` most recent observations per indicator, region and kind (World Bank `mrv`), of the
    preferred figures only: where sources disagree (`disputed`), the figure not preferred is left out."""
    queryset = queryset.filter(preferred=True)
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
    """A target beside its results: `result` is the actual of the same period (the original pairing);
    `evaluation` reads every preferred result within the target's period (see `evaluate_target`)."""

    target: Observation
    result: Observation | None
    evaluation: TargetEvaluation | None = None

    @property
    def met(self) -> bool | None:
        return target_met(target=self.target, result=self.result)

    def __getattr__(self, name):  # state, progress, results... read from the evaluation
        if name.startswith("_") or self.evaluation is None:
            raise AttributeError(name)
        return getattr(self.evaluation, name)


@dataclass(frozen=True)
class TargetEvaluation:
    """How a target stands, from the results within its period (preferred figures only).

    - `results`: the actual observations of the same indicator and region whose period lies within
      the target's, in a unit convertible to the target's (same base unit), oldest first;
    - `latest_result`: the one ending last; `result_at_end`: the one for the target's last year (a
      level) or for the whole period (a total, an average, a change);
    - `compared_value`: the figure compared with the target, in the target's unit: the level at the
      end (or the latest level), the sum of the yearly results (a total), their mean (an average);
    - `progress`: compared_value / target value (4 decimal places), where both are known;
    - `state`: met / not_met (the period's result is known), achieved_early (a result within the
      period already meets it, or the text says so), on_track (a total or average whose known years
      keep pace, an at-most limit kept so far, or a level ahead of the straight line from the year
      before the period), unknown (anything else; `state_reason` says why).
    """

    results: list[Observation]
    latest_result: Observation | None
    result_at_end: Observation | None
    compared_value: Decimal | None
    progress: Decimal | None
    state: str
    state_reason: str
    stated_by: Observation | None = None  # the result whose citation says the goal was achieved early


ABOUT_TOLERANCE = Decimal("0.05")
PROGRESS_PLACES = Decimal("0.0001")


def _meets(value: Decimal, target: Observation) -> bool:
    if target.comparator == Observation.Comparator.AT_MOST:
        return value <= target.value
    if target.comparator == Observation.Comparator.ABOUT:
        return abs(value - target.value) <= abs(target.value) * ABOUT_TOLERANCE
    return value >= target.value


def _converted(result: Observation, target: Observation) -> Decimal | None:
    """The result's value in the target's unit; None when the units do not convert (another base)."""
    if result.unit_id == target.unit_id:
        return result.value
    if result.unit.base_unit != target.unit.base_unit:
        return None
    return result.value * result.unit.factor / target.unit.factor


def target_met(*, target: Observation, result: Observation | None) -> bool | None:
    """Whether a result meets its target, reading the target's comparator:

    - at_least: result ≥ target; at_most: result ≤ target;
    - about: result within ±5 % of the target;
    - exact: result ≥ target (a plain target is a level to reach, as in "增长3%").
    None when there is no result, or when the units do not convert.
    """
    if result is None:
        return None
    value = _converted(result, target)
    return None if value is None else _meets(value, target)


def _years(start, end) -> int:
    return end.year - start.year + 1


def _is_year(o: Observation) -> bool:
    return o.period_start.month == 1 and o.period_start.day == 1 and o.period_end.month == 12 \
        and o.period_end.day == 31 and o.period_start.year == o.period_end.year


def _ratio(a: Decimal | None, b: Decimal) -> Decimal | None:
    if a is None or not b:
        return None
    return (a / b).quantize(PROGRESS_PLACES)


def evaluate_target(target: Observation, rows: list[Observation]) -> TargetEvaluation:
    """A target's results, progress and state, from `rows` (observations already fetched, of the same
    indicator; the rows of other indicators or regions are ignored). No query."""
    M, S = Observation.Measure, TargetState
    same = [o for o in rows if o.kind == Observation.Kind.ACTUAL and o.preferred and o.deleted_at is None
            and o.indicator_id == target.indicator_id and o.region_id == target.region_id]
    inside = [o for o in same if target.period_start <= o.period_start and o.period_end <= target.period_end
              and _converted(o, target) is not None]
    inside.sort(key=lambda o: (o.period_end, o.period_start, o.comparator != Observation.Comparator.EXACT, o.id))
    latest = inside[-1] if inside else None
    stated = next((o for o in inside if o.assessment == Observation.Assessment.ACHIEVED_EARLY
                   and o.assessment_period_start == target.period_start
                   and o.assessment_period_end == target.period_end), None)
    whole = [o for o in inside if o.period_start == target.period_start and o.period_end == target.period_end
             and o.measure == target.measure]
    yearly = {}
    for o in inside:
        if _is_year(o) and o.measure == M.LEVEL:
            yearly.setdefault(o.period_start.year, o)  # one per year: the exact figure first (sorted above)
    n_years = _years(target.period_start, target.period_end)

    def done(at_end, value, reason_met, reason_not):
        met = _meets(value, target)
        return TargetEvaluation(inside, latest, at_end, value, _ratio(value, target.value),
                                S.MET if met else S.NOT_MET, reason_met if met else reason_not, stated)

    def early(reason, at_end=None, value=None):
        return TargetEvaluation(inside, latest, at_end, value, _ratio(value, target.value), S.ACHIEVED_EARLY,
                                reason, stated)

    def state(st, reason, value=None, at_end=None):
        return TargetEvaluation(inside, latest, at_end, value, _ratio(value, target.value), st, reason, stated)

    said = "the text states that the goal was achieved early"
    if target.measure in (M.LEVEL, M.UNSPECIFIED, M.CHANGE) and whole and (
            target.measure != M.LEVEL or n_years == 1):
        at_end = whole[0]
        return done(at_end, _converted(at_end, target), "the result for the target's period meets it",
                    "the result for the target's period falls short of it")
    if not inside:
        return state(S.UNKNOWN, "no result within the target's period yet")

    if target.measure == M.LEVEL:
        last_year = yearly.get(target.period_end.year)
        if last_year is not None:
            return done(last_year, _converted(last_year, target), "the level in the period's last year meets it",
                        "the level in the period's last year falls short of it")
        value = _converted(latest, target)
        if stated is not None:
            return early(said, value=value)
        if target.comparator == Observation.Comparator.AT_MOST:
            if all(_meets(_converted(o, target), target) for o in inside):
                return state(S.ON_TRACK, "every result so far keeps within the limit", value)
            return state(S.UNKNOWN, "a result within the period exceeds the limit; the period has not ended", value)
        if _meets(value, target):
            return early(f"the {latest.period_label} result already meets it", value=value)
        base = next((o for o in same if _is_year(o) and o.measure == M.LEVEL
                     and o.period_start.year == target.period_start.year - 1), None)
        if base is not None and target.value != _converted(base, target):
            share = (value - _converted(base, target)) / (target.value - _converted(base, target))
            elapsed = Decimal(_years(target.period_start, latest.period_end)) / n_years
            if share >= elapsed:
                return state(S.ON_TRACK, f"ahead of the straight line from {base.period_label} to the target", value)
            return state(S.UNKNOWN, f"behind the straight line from {base.period_label} to the target; "
                                    "the period has not ended", value)
        return state(S.UNKNOWN, "not yet reached, and no result for the year before the period to measure the "
                                "pace from; the period has not ended", value)

    if target.measure in (M.TOTAL, M.AVERAGE):
        values = [_converted(o, target) for o in yearly.values()]
        if not values:
            if stated is not None:
                return early(said)
            return state(S.UNKNOWN, "no yearly result within the period to add up")
        known = sorted(yearly)
        value = sum(values) if target.measure == M.TOTAL else (sum(values) / len(values))
        what = "sum" if target.measure == M.TOTAL else "mean"
        if len(known) == n_years:
            return done(None, value, f"the {what} of every year of the period meets it",
                        f"the {what} of every year of the period falls short of it")
        if stated is not None:
            return early(said, value=value)
        if target.measure == M.TOTAL and target.comparator != Observation.Comparator.AT_MOST \
                and value >= target.value:
            return early("the years known already add up to it", value=value)
        elapsed = max(known) - target.period_start.year + 1
        if known == list(range(target.period_start.year, max(known) + 1)):
            on_pace = (value >= target.value * elapsed / n_years) if target.measure == M.TOTAL \
                else _meets(value, target)
            if on_pace:
                return state(S.ON_TRACK, f"every year so far is known and the {what} keeps pace", value)
            return state(S.UNKNOWN, f"the {what} of the years so far is behind the pace; the period has not ended",
                         value)
        return state(S.UNKNOWN, f"results known for {len(known)} of {n_years} years ({', '.join(map(str, known))})",
                     value)

    value = _converted(latest, target)
    if stated is not None:
        return early(said, value=value)
    if target.measure == M.UNSPECIFIED:
        return state(S.UNKNOWN, "the text does not say whether the value is a level to reach by the end of the "
                                "period or a total over it; progress compares the latest result with it", value)
    return state(S.UNKNOWN, "a change over the period is known only at its end", value)


#: An indicator's detail embeds at most this many targets (issue 13: a detail is bounded, and costs no more
#: than a page of 100 observations); the rest are in its observations collection (`kind=target`), paged.
TARGETS_EMBEDDED = 25
TARGET_ORDER = ("period_start", "period_end", "id")


def indicator_targets_with_results(*, indicator: Indicator, limit: int | None = None) -> list[TargetResult]:
    """The live targets of the indicator (the first `limit` in period order, or all), each beside its
    results (the preferred figures) and its evaluation. The results read are those of the targets' regions
    from the year before the earliest target to the end of the latest (what `evaluate_target` reads): a
    bounded number of queries whatever the number of observations. Every row is given `indicator` (already
    read); only the targets and the results paired with them are written with their citations, so only
    theirs are read (an evaluation reads none)."""
    live = Observation.objects.alive().filter(indicator=indicator).select_related("region", "unit")
    targets = live.filter(kind=Observation.Kind.TARGET).order_by(*TARGET_ORDER)
    if limit is not None:
        targets = targets[:limit]
    targets = list(targets)
    if not targets:
        return []
    start = min(t.period_start for t in targets)
    actuals = list(live.filter(
        kind=Observation.Kind.ACTUAL, region_id__in={t.region_id for t in targets},
        period_start__gte=start.replace(year=start.year - 1, month=1, day=1),
        period_end__lte=max(t.period_end for t in targets)).order_by(*TARGET_ORDER))
    for row in (*actuals, *targets):
        row.indicator = indicator
    pairs = targets_with_results([*actuals, *targets])
    written = {id(o): o for o in (*targets, *(p.result for p in pairs if p.result is not None))}
    prefetch_related_objects(list(written.values()), citations_prefetch())
    return pairs


def indicator_target_count(*, indicator: Indicator) -> int:
    return observation_list().alive().filter(indicator=indicator, kind=Observation.Kind.TARGET).count()


def targets_with_results(rows: list[Observation]) -> list[TargetResult]:
    """Pair targets and results already fetched (no query): the `result` of a target is the preferred
    actual observation with the same indicator, region and period (exact comparator preferred); its
    evaluation reads every preferred result within its period."""
    actuals: dict[tuple, Observation] = {}
    for o in rows:
        if o.kind == Observation.Kind.ACTUAL and o.preferred:
            key = (o.indicator_id, o.region_id, o.period_start, o.period_end)
            if key not in actuals or o.comparator == Observation.Comparator.EXACT:
                actuals[key] = o
    return [
        TargetResult(target=o, result=actuals.get((o.indicator_id, o.region_id, o.period_start, o.period_end)),
                     evaluation=evaluate_target(o, rows))
        for o in rows
        if o.kind == Observation.Kind.TARGET
    ]


def target_list() -> QuerySet[Observation]:
    """Every target observation (live or not: the FilterSet decides), shaped as observation_list."""
    return observation_list().filter(kind=Observation.Kind.TARGET)


def targets_evaluated(targets: list[Observation]) -> dict[int, TargetResult]:
    """Each target (already fetched) beside its results and evaluation: one query (with its
    citations' prefetch) for the results of the targets' indicators."""
    if not targets:
        return {}
    actuals = list(observation_list().alive().filter(
        kind=Observation.Kind.ACTUAL, indicator_id__in={t.indicator_id for t in targets}))
    by_indicator: dict[int, list[Observation]] = {}
    for o in actuals:
        by_indicator.setdefault(o.indicator_id, []).append(o)
    out = {}
    for t in targets:
        rows = [t, *by_indicator.get(t.indicator_id, [])]
        out[t.pk] = targets_with_results(rows)[0]
    return out


def target_ids_in_state(queryset: QuerySet[Observation], states: list[str]) -> list[int]:
    """The ids of the targets of `queryset` whose state is one of `states` (two queries)."""
    targets = list(queryset.filter(kind=Observation.Kind.TARGET).select_related("unit"))
    evaluated = targets_evaluated(targets)
    return [pk for pk, tr in evaluated.items() if tr.evaluation.state in states]
