"""GraphQL types of projects, their timeline statements, events and event series."""

from __future__ import annotations

from opendata.base.graphql.fields import Join, PublicConnectionField, PublicObjectType, RelatedList
from opendata.base.models import TIMESTAMPS
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

    @classmethod
    def rows(cls):
        return selectors.event_list()


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
