"""Reads for projects (with their timelines) and events."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from opendata.catalogue.selectors import citations_prefetch
from projects.models import Event, EventSeries, Project, ProjectStatus


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


