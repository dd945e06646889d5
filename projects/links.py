"""Projects, their timeline statements and events listed under the catalogue's records (see
opendata.base.links)."""

from opendata.base.links import Link, register
from opendata.catalogue.models import Region, Source, Topic
from projects import selectors
from projects.filters import EventFilterSet, ProjectFilterSet, ProjectStatusFilterSet

PROJECT = "projects.graphql.types.ProjectType"
EVENT = "projects.graphql.types.EventType"

SOURCE_PROJECT_STATUSES = Link(
    Source, "project_statuses", "projects.graphql.types.ProjectStatusType", ProjectStatusFilterSet,
    selectors.project_status_list, description="Project timeline statements citing this source.",
    filter_param="source", rest_summary="List the project statuses citing a source")
SOURCE_EVENTS = Link(
    Source, "events", EVENT, EventFilterSet, selectors.event_list, description="Events citing this source.",
    filter_param="source", rest_summary="List the events citing a source")
REGION_PROJECTS = Link(
    Region, "projects", PROJECT, ProjectFilterSet, selectors.project_list,
    description="Projects located in this region.", relation="projects")
REGION_EVENTS = Link(
    Region, "events", EVENT, EventFilterSet, selectors.event_list, description="Events held in this region.",
    relation="events")
TOPIC_PROJECTS = Link(
    Topic, "projects", PROJECT, ProjectFilterSet, selectors.project_list,
    description="Projects of this topic.", relation="projects")

register(TOPIC_PROJECTS, REGION_PROJECTS, REGION_EVENTS, SOURCE_PROJECT_STATUSES, SOURCE_EVENTS)
