"""v1 views of projects, their timeline statements, events and event series (and their nested collections);
each collection written through the projects' services (opendata.base.api.writes)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view

from opendata.base.api.views import Parent, PublicViewSet
from opendata.base.api.writes import WritableMixin
from opendata.catalogue.models import Citation, Region, Source, Topic
from projects import selectors, services
from projects.api.v1.serializers import (
    EventSerializer,
    EventSeriesSerializer,
    ProjectSerializer,
    ProjectStatusSerializer,
)
from projects.filters import EventFilterSet, EventSeriesFilterSet, ProjectFilterSet, ProjectStatusFilterSet
from projects.models import Event, EventSeries, Project, ProjectStatus

PROJECT_TABLES = (Project, ProjectStatus, Topic, Region, Citation, Source)
EVENT_TABLES = (Event, EventSeries, Region, Project, Citation, Source)


@extend_schema_view(
    list=extend_schema(summary="List projects", description="Named projects, each with its status timeline."),
    retrieve=extend_schema(summary="Get a project"),
)
class ProjectViewSet(WritableMixin, PublicViewSet):
    entity, label, export_name = "project", "project", "projects"
    writes, writer, resource_name = services.PROJECT_WRITES, services.PROJECT, "projects"
    nested_writers = (("timeline", services.PROJECT_STATUS),)  # a project's data may hold its timeline
    selector = staticmethod(selectors.project_list)
    serializer_class = ProjectSerializer
    filterset_class = ProjectFilterSet
    cache_models = PROJECT_TABLES


@extend_schema_view(
    list=extend_schema(summary="List project statuses", description=(
        "Timeline statements of every project: a status at a date, reported (`actual`) or planned (`target`).")),
    retrieve=extend_schema(summary="Get a project status"),
)
class ProjectStatusViewSet(WritableMixin, PublicViewSet):
    entity, label, export_name = "project_status", "project status", "project-statuses"
    writes, writer, resource_name = services.PROJECT_STATUS_WRITES, services.PROJECT_STATUS, "project_statuses"
    selector = staticmethod(selectors.project_status_list)
    serializer_class = ProjectStatusSerializer
    filterset_class = ProjectStatusFilterSet
    cache_models = (ProjectStatus, Project, Citation, Source)


@extend_schema_view(list=extend_schema(summary="List a project's timeline"))
class ProjectTimelineViewSet(ProjectStatusViewSet):
    entity = "project_timeline"
    parent = Parent(Project, "project", "project", "project")


@extend_schema_view(
    list=extend_schema(summary="List events", description="Congress sessions, expos, marathons..., held or planned."),
    retrieve=extend_schema(summary="Get an event"),
)
class EventViewSet(WritableMixin, PublicViewSet):
    entity, label, export_name = "event", "event", "events"
    writes, writer, resource_name = services.EVENT_WRITES, services.EVENT, "events"
    selector = staticmethod(selectors.event_list)
    serializer_class = EventSerializer
    filterset_class = EventFilterSet
    cache_models = EVENT_TABLES


@extend_schema_view(list=extend_schema(summary="List a project's events"))
class ProjectEventViewSet(EventViewSet):
    entity = "project_events"
    parent = Parent(Project, "project", "project", "project")


@extend_schema_view(list=extend_schema(summary="List the events of a series"))
class EventSeriesEventViewSet(EventViewSet):
    entity = "event_series_events"
    parent = Parent(EventSeries, "series", "event series", "event")


@extend_schema_view(list=extend_schema(summary="List event series", description="Recurring events (an expo every year)."),
                    retrieve=extend_schema(summary="Get an event series"))
class EventSeriesViewSet(WritableMixin, PublicViewSet):
    entity, label, export_name = "event_series", "event series", "event-series"
    writes, writer, resource_name = services.EVENT_SERIES_WRITES, services.EVENT_SERIES, "event_series"
    selector = staticmethod(selectors.event_series_list)
    serializer_class = EventSeriesSerializer
    filterset_class = EventSeriesFilterSet
    cache_models = (EventSeries,)
