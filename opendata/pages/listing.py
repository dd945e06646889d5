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


def facet(rows: QuerySet, path: str, *labels: str, limit: int = 30) -> list[dict]:
    """How many of `rows` have each value of `path` (a field or lookup: `topic__code`), with the
    label fields named after it, most frequent first."""
    fields = (path, *labels)
    counted = (rows.order_by().exclude(**{f"{path}__isnull": True}).values(*fields)
               .annotate(n=Count("pk", distinct=True)).order_by("-n", path))
    return [{"value": r[path], "labels": [r[label] for label in labels], "count": r["n"]} for r in counted[:limit]]


def year_facet(rows: QuerySet, date_path: str) -> list[dict]:
    """Counts of `rows` by the year of a date field, latest year first."""
    from django.db.models.functions import ExtractYear

    counted = (rows.order_by().annotate(_year=ExtractYear(date_path)).values("_year")
               .annotate(n=Count("pk", distinct=True)).order_by("-_year"))
    return [{"value": str(r["_year"]), "labels": [str(r["_year"])], "count": r["n"]} for r in counted
            if r["_year"] is not None]
