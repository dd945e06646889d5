"""Reads for projects (with their timelines) and events."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Case, IntegerField, OuterRef, Prefetch, QuerySet, Subquery, Value, When

from opendata.base.models import FactKind
from opendata.catalogue.selectors import citations_prefetch
from projects.models import STAGE_ORDER, Event, EventSeries, Project, ProjectStatus


def project_status_list() -> QuerySet[ProjectStatus]:
    return (
        ProjectStatus.objects.all()
        .select_related("project")
        .prefetch_related(citations_prefetch())
        .order_by("date_start", "date_end", "id")
    )


def project_list() -> QuerySet[Project]:
    return (
        Project.objects.all()
        .select_related("topic")
        .prefetch_related(
            "regions",
            Prefetch("timeline", queryset=project_status_list().alive()),
        )
    )


def event_series_list() -> QuerySet[EventSeries]:
    return EventSeries.objects.all()


def event_list() -> QuerySet[Event]:
    return (
        Event.objects.all()
        .select_related("series", "region", "project")
        .prefetch_related(citations_prefetch())
    )




def _latest_key(status: ProjectStatus) -> tuple:
    return (status.date_end, status.date_start, STAGE_ORDER.get(status.status, -1), status.id)


def latest_status(statuses: Iterable[ProjectStatus], *, kind: str = FactKind.ACTUAL) -> ProjectStatus | None:
    """A project's latest status statement of `kind` (already fetched, no query): the one whose date ends
    last; on the same date, the later stage (completed after construction started)."""
    rows = [s for s in statuses if s.kind == kind and s.deleted_at is None]
    return max(rows, key=_latest_key) if rows else None


def latest_status_subquery(*, kind: str = FactKind.ACTUAL, field: str = "status") -> Subquery:
    """`field` of each project's latest live status statement of `kind` (the order of `latest_status`)."""
    rank = Case(*(When(status=stage, then=Value(n)) for stage, n in STAGE_ORDER.items()), default=Value(-1),
                output_field=IntegerField())
    rows = (ProjectStatus.objects.alive().filter(project_id=OuterRef("pk"), kind=kind)
            .annotate(_rank=rank).order_by("-date_end", "-date_start", "-_rank", "-id"))
    return Subquery(rows.values(field)[:1])


def latest_statuses_of(projects: list[Project], queryset: QuerySet[ProjectStatus], *,
                       kind: str = FactKind.ACTUAL) -> dict:
    """Each project's latest status statement of `kind`, from `queryset` (one query for all the projects)."""
    by_project: dict[int, list[ProjectStatus]] = {}
    for row in queryset.filter(project_id__in=[p.pk for p in projects], kind=kind):
        by_project.setdefault(row.project_id, []).append(row)
    out = {}
    for project in projects:
        latest = latest_status(by_project.get(project.pk, ()), kind=kind)
        out[project.pk] = [latest] if latest is not None else []
    return out
