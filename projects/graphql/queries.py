"""Root fields of projects, timeline statements, events and event series."""

from __future__ import annotations

import graphene

from opendata.base.graphql.fields import PublicConnectionField, lookup_field
from projects import selectors
from projects.filters import EventFilterSet, EventSeriesFilterSet, ProjectFilterSet, ProjectStatusFilterSet
from projects.graphql.types import EventSeriesType, EventType, ProjectStatusType, ProjectType


class Query(graphene.ObjectType):
    projects = PublicConnectionField(ProjectType, filterset_class=ProjectFilterSet, queryset=selectors.project_list,
                                     description="Named projects with their timelines.")
    project = lookup_field(ProjectType, "slug", "A project by slug.")
    project_statuses = PublicConnectionField(ProjectStatusType, filterset_class=ProjectStatusFilterSet,
                                             queryset=selectors.project_status_list, description="Timeline statements of every project.")
    project_status = lookup_field(ProjectStatusType, "uid", "A timeline statement by uid.")
    events = PublicConnectionField(EventType, filterset_class=EventFilterSet, queryset=selectors.event_list,
                                   description="Congress sessions, expos, marathons..., held or planned.")
    event = lookup_field(EventType, "slug", "An event by slug.")
    event_series = PublicConnectionField(EventSeriesType, filterset_class=EventSeriesFilterSet,
                                         queryset=selectors.event_series_list, description="Recurring events.")
    series = lookup_field(EventSeriesType, "slug", "An event series by slug.")
