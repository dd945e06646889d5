"""Reads for sources, regions, topics and citations: querysets already shaped for their consumers."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from opendata.base.filters import descendants_ids
from opendata.catalogue.models import Citation, Region, Source, SourcePeriod, Topic, Unit


def citation_queryset() -> QuerySet[Citation]:
    """Live citations with their source's identifiers (never the source's full text)."""
    return (
        Citation.objects.alive()
        .select_related("source")
        .only("id", "uid", "quote", "offset", "garbled", "source__id", "source__slug", "source__title_en",
              "source__title_zh", "source__date", "source__date_precision")
        .order_by("source__date", "source__slug", "offset")
    )


def citations_prefetch(lookup: str = "citations") -> Prefetch:
    return Prefetch(lookup, queryset=citation_queryset())


def source_list(*, with_text: bool = False) -> QuerySet[Source]:
    """All sources (including soft-deleted ones: FilterSets decide), periods prefetched; the full
    text is deferred unless asked for."""
    qs = Source.objects.all().prefetch_related(Prefetch("periods", queryset=SourcePeriod.objects.order_by("start")))
    return qs if with_text else qs.defer("text")


def region_list() -> QuerySet[Region]:
    return Region.objects.all().select_related("parent")


def region_with_descendants_ids(codes: list[str]) -> list[int]:
    """Ids of the named regions and of every region below them: what a `region` filter matches."""
    return descendants_ids(Region, codes)


def topic_list() -> QuerySet[Topic]:
    return Topic.objects.all()


def unit_list(*, include_deleted: bool = False) -> QuerySet[Unit]:
    """Live units; with include_deleted=True all of them, for callers whose FilterSet decides (REST)."""
    return Unit.objects.all() if include_deleted else Unit.objects.alive()


def source_period_list() -> QuerySet[SourcePeriod]:
    return SourcePeriod.objects.order_by("start", "end")
