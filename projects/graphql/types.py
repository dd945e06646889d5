"""GraphQL types of projects, their timeline statements, events and event series."""

from __future__ import annotations

import graphene
from graphql import get_named_type

from opendata.base.graphql.fields import (
    BatchedList,
    Join,
    Planned,
    PublicConnectionField,
    PublicObjectType,
    RelatedList,
    Selected,
    list_key,
    plan_rows,
    rows_of,
)
from opendata.base.models import TIMESTAMPS, FactKind
from opendata.catalogue.filters import CITATION_SORTING
from opendata.catalogue.graphql.types import CitationType, RegionType, TopicType
from opendata.catalogue.selectors import citation_queryset, region_list
from projects import selectors
from projects.filters import EventFilterSet, ProjectStatusFilterSet
from projects.models import Event, EventSeries, Project, ProjectStatus


class ProjectStatusType(PublicObjectType):
    class Meta:
        model = ProjectStatus
        name = "ProjectStatus"
        description = "One dated statement of a project's status, reported (`actual`) or planned (`target`)."
        fields = ("uid", "status", "kind", "date_start", "date_end", "date_precision", "date_label", *TIMESTAMPS)


    project = Join("projects.graphql.types.ProjectType", required=True)
    citations = PublicConnectionField(CitationType, relation="citations", queryset=citation_queryset,
                                      sorting=CITATION_SORTING, description="The quotes stating this status.")

    @classmethod
    def rows(cls):
        return selectors.project_status_list()


class EventType(PublicObjectType):
    class Meta:
        model = Event
        name = "Event"
        description = "A congress session, an expo, a marathon..., held or planned."
        fields = ("slug", "name_zh", "name_en", "description", "kind", "start_date", "start_precision", "end_date",
                  "end_precision", "status", *TIMESTAMPS)


    series = Join("projects.graphql.types.EventSeriesType", description="The recurring event this is one of.")
    region = Join(RegionType, required=True)
    project = Join("projects.graphql.types.ProjectType", description="The project the event belongs to.")
    citations = PublicConnectionField(CitationType, relation="citations", queryset=citation_queryset,
                                      sorting=CITATION_SORTING, description="The quotes stating this event.")

    date_start = graphene.Date(required=True, description="First day the event may cover.")
    date_end = graphene.Date(required=True, description=(
        "Last day the event may cover, at the precision of its dates (an event of \"2025\" ends 2025-12-31)."))
    date_precision = graphene.String(required=True, description="day, month, year or period.")
    date_label = graphene.String(required=True, description=(
        "The event's date as precise as it is known (`2025`, `2025-03`, `2025-08-20/2025-08-24`); show this, "
        "not `startDate` (deprecated name), when the precision is not a day."))
    start_label = graphene.String(required=True, description="The start as precise as it is known.")
    end_label = graphene.String(required=True, description="The end as precise as it is known; empty without one.")

    @classmethod
    def rows(cls):
        return selectors.event_list()


class LatestStatusField(Planned, graphene.Field):
    """A project's latest status statement of one kind, loaded for all the projects of a page at once."""

    def __init__(self, kind: str, **kwargs):
        super().__init__(ProjectStatusType, **kwargs)
        self.kind = kind

    def wrap_resolve(self, parent_resolver):
        return self.resolve

    def add_to_plan(self, plan, selected: Selected) -> None:
        child = plan_rows(selected.info, get_named_type(selected.definition.type), selected.nodes)
        child.columns |= {"project", "kind", "status", "date_start", "date_end"}
        key = list_key(selected.nodes)
        kind = self.kind
        plan.batches[key] = BatchedList(
            key, child.shape(selectors.project_status_list().alive()), child,
            load=lambda parents, queryset: selectors.latest_statuses_of(parents, queryset, kind=kind))

    def resolve(self, root, info, **_args):
        rows = rows_of(self, root, info)
        return rows[0] if rows else None


class ProjectType(PublicObjectType):
    class Meta:
        model = Project
        name = "Project"
        description = "A named project with its status timeline."
        fields = ("slug", "name_zh", "name_en", "description", *TIMESTAMPS)


    topic = Join(TopicType, required=True)
    regions = RelatedList(RegionType, relation="regions", queryset=lambda: region_list().alive().order_by("code"),
                          description="Regions the project is located in.")
    timeline = PublicConnectionField(ProjectStatusType, relation="timeline", filterset_class=ProjectStatusFilterSet,
                                     queryset=selectors.project_status_list, description="The project's status statements, in date order.")
    events = PublicConnectionField(EventType, relation="events", filterset_class=EventFilterSet,
                                   queryset=selectors.event_list, description="Events of this project.")
    latest_status = LatestStatusField(FactKind.ACTUAL, description=(
        "The latest reported (`actual`) status statement: the one whose date ends last (on the same date, the "
        "later stage); null when none is reported."))
    latest_planned_status = LatestStatusField(FactKind.TARGET, description=(
        "The latest planned (`target`) status statement, read the same way."))

    @classmethod
    def rows(cls):
        return selectors.project_list()


class EventSeriesType(PublicObjectType):
    class Meta:
        model = EventSeries
        name = "EventSeries"
        description = "A recurring event (an expo held every year)."
        fields = ("slug", "name_zh", "name_en", *TIMESTAMPS)


    events = PublicConnectionField(EventType, relation="events", filterset_class=EventFilterSet,
                                   queryset=selectors.event_list, description="The events of the series.")

    @classmethod
    def rows(cls):
        return selectors.event_series_list()
