"""Lists on the pages, selected by the resource's own FilterSet and sorted by its own `Sorting`, on
its own selector's queryset: a browse page shows exactly what the same parameters give on REST
(`/api/v1/indicators/?topic=economy`) and GraphQL. The pages add no rule of their own: facets are
counts of the records the FilterSet kept, grouped by a field the record already has."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.paginator import Paginator
from django.db.models import Count, QuerySet
from django.http import QueryDict

PAGE_SIZE = 50


@dataclass
class Listing:
    rows: QuerySet
    errors: dict[str, list[str]] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return self.rows.count()


def filtered(filterset_class, queryset: QuerySet, params: QueryDict | dict, *,
             allowed: tuple[str, ...] | None = None) -> Listing:
    """The records the FilterSet selects from the selector's queryset with these parameters (the
    ones the page offers; empty values dropped), in the FilterSet's default order. Invalid
    parameters select nothing and come back as errors, each with the FilterSet's own message."""
    names = allowed if allowed is not None else tuple(filterset_class.base_filters)
    given = {k: params.get(k) for k in names if params.get(k) not in (None, "")}
    filterset = filterset_class(given, queryset=queryset)
    if not filterset.is_valid():
        return Listing(queryset.none(), {k: [str(m) for m in v] for k, v in filterset.errors.items()}, given)
    _, keys = filterset_class.sorting.parse(None)
    return Listing(filterset.qs.order_by(*(k.order_expr() for k in keys)), {}, given)


def page_of(listing: Listing, number: str | None):
    return Paginator(listing.rows, PAGE_SIZE).get_page(number)


def facet(rows: QuerySet, path: str, *labels: str, live: tuple[str, ...] = (), limit: int = 30) -> list[dict]:
    """How many of `rows` have each value of `path` (a field or lookup: `topic__code`), with the
    label fields named after it, most frequent first. `live`: the related rows the path goes through
    that must not be soft-deleted (`observations`, `observations__citations`), as the filters read them."""
    fields = (path, *labels)
    alive = {f"{relation}__deleted_at__isnull": True for relation in live}
    counted = (rows.order_by().filter(**{f"{path}__isnull": False}, **alive).values(*fields)
               .annotate(n=Count("pk", distinct=True)).order_by("-n", path))
    return [{"value": r[path], "labels": [r[label] for label in labels], "count": r["n"]} for r in counted[:limit]]


def year_span(rows: QuerySet, start_path: str, end_path: str) -> tuple[int, int] | None:
    """The first and last year the dates of `rows` cover (None when there are none)."""
    from django.db.models import Max, Min

    found = rows.order_by().aggregate(first=Min(start_path), last=Max(end_path), last_start=Max(start_path))
    if found["first"] is None:
        return None
    last = max(d for d in (found["last"], found["last_start"]) if d is not None)
    return found["first"].year, last.year


def year_facet(filterset_class, queryset_of, params: dict, allowed: tuple[str, ...], span, *,
               most: int = 15) -> list[dict]:
    """For each year of the span (latest first, at most `most`), how many records the FilterSet keeps
    with the page's parameters and `date_from=<year>&date_to=<year>`: exactly what the year's link lists."""
    if span is None:
        return []
    out = []
    for year in range(span[1], span[0] - 1, -1)[:most]:
        given = {**params, "date_from": str(year), "date_to": str(year)}
        n = filtered(filterset_class, queryset_of(), given, allowed=allowed).count
        if n:
            out.append({"value": str(year), "labels": [str(year)], "count": n})
    return out


def counted_by_filterset(values: list[dict], param: str, filterset_class, queryset_of, params: dict,
                         allowed: tuple[str, ...]) -> list[dict]:
    """The facet's values counted again by the FilterSet itself, with the page's parameters and
    `param=<value>`: for a filter whose rule a group-by cannot say (a region includes its sub-regions),
    each count is exactly what the value's link lists. Most frequent first."""
    recounted = [{**v, "count": filtered(filterset_class, queryset_of(), {**params, param: v["value"]},
                                         allowed=allowed).count} for v in values]
    return sorted((v for v in recounted if v["count"]), key=lambda v: (-v["count"], v["value"]))
