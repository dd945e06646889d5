"""Mutations of projects (with their timelines), project statuses, event series and events, through
the projects' write services (opendata/base/graphql/mutations.py makes them)."""

from __future__ import annotations

import graphene

from opendata.base.graphql.mutations import input_type, mutation_type, reference_input, write_mutations
from opendata.catalogue.services import CITATION
from projects import services
from projects.graphql.types import EventSeriesType, EventType, ProjectStatusType, ProjectType

CITED = {"citations": reference_input(CITATION)}

TimelineStatementInput = input_type(
    services.PROJECT_STATUS, "TimelineStatementInput", partial=False, exclude=("project",), references=CITED,
    description="A status statement of a project's timeline, written with the project: a ProjectStatusInput "
                "without `project`.")

PROJECTS = write_mutations(
    writes=services.PROJECT_WRITES, writer=services.PROJECT, type=ProjectType, collection="projects",
    nested={"timeline": graphene.InputField(graphene.List(graphene.NonNull(TimelineStatementInput)), description=(
        "The project's status statements, all of them: each is upserted by its uid and the live ones left out are "
        "deleted, each with its own change entry. Left out: the timeline stays as it is."))})
PROJECT_STATUSES = write_mutations(writes=services.PROJECT_STATUS_WRITES, writer=services.PROJECT_STATUS,
                                   type=ProjectStatusType, collection="project_statuses", references=CITED)
EVENT_SERIES = write_mutations(writes=services.EVENT_SERIES_WRITES, writer=services.EVENT_SERIES,
                               type=EventSeriesType, collection="event_series")
EVENTS = write_mutations(writes=services.EVENT_WRITES, writer=services.EVENT, type=EventType, collection="events",
                         references=CITED)

Mutation = mutation_type("ProjectMutation", PROJECTS, PROJECT_STATUSES, EVENT_SERIES, EVENTS)
