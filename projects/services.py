"""Writes of projects (with their timelines), project statuses, event series and events, and the
events' rule, which the loader's fixture schema (opendata/loader/schema.py) applies too.

    project_create(*, data, actor)
    project_update(*, key, data, actor, partial=True, expected_version=None)
    project_upsert(*, data, actor)
    project_delete(*, key, actor, expected_version=None)
    project_restore(*, key, actor, expected_version=None)
    project_status_* / event_series_* / event_* (the same five, the same arguments)

See opendata.base.services for `data`, `key`, `actor`, the `Write` returned and the `WriteError`s.

- A project's `data` may hold its `timeline`: a list of status statements (project_status data
  without `project`). The project's live statements become exactly those: each upserted by its
  uid, the others soft-deleted, each with its own change entry; an error in one names
  `timeline[i].<field>`. Without `timeline`, the statements are left as they are.
- Deleting a project soft-deletes its live statements with it; restoring it brings back those
  deleted with it (each with its own change entry).
- A status statement's uid derives from its project, status, kind and dates (`project_status_uid`,
  as the loader derives it): those are fixed once it exists; its precision, label and citations change.
- `citations` of a statement or an event: citation uids or mappings (catalogue.services.citation_ensure).
- An event ends on or after its start; `end_precision` goes with `end_date` (empty without one).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from opendata.base.models import natural_uid
from opendata.base.services import Problem, Write, WriteError
from opendata.base.writers import Writer
from opendata.catalogue.services import CitedWriter
from projects.models import Event, EventSeries, Project, ProjectStatus


def event_problems(*, start_date: dt.date, end_date: dt.date | None, end_precision: str = "") -> list[Problem]:
    """An event ends on or after its start; an end date has a precision, no end date none."""
    if end_date is None:
        return [Problem("end_precision", "must be empty without an end_date")] if end_precision else []
    if end_date < start_date:
        return [Problem("end_date", "the event ends before it starts")]
    return [] if end_precision else [Problem("end_precision", "is required with an end_date")]


def project_status_uid(*, project: str, status: str, kind: str, date_start: dt.date, date_end: dt.date):
    """A status statement's uid: the same on every machine for the same statement."""
    return natural_uid("project-status", project, status, kind, date_start, date_end)


class ProjectWriter(Writer):
    nested = ("timeline",)
    owned = ("timeline",)

    def write_nested(self, record, name, value, actor):
        if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Sequence):
            raise WriteError.one("timeline", "expected a list of status statements")
        errors, kept = [], set()
        for i, item in enumerate(value):
            if not isinstance(item, Mapping):
                errors.append(Problem(f"timeline[{i}]", "expected a mapping"))
                continue
            if item.get("project", record.slug) != record.slug:
                errors.append(Problem(f"timeline[{i}].project", f"a statement of {record.slug}'s timeline is "
                                                                 f"{record.slug}'s"))
                continue
            try:
                kept.add(PROJECT_STATUS.upsert(data={**item, "project": record.slug}, actor=actor).record.pk)
            except WriteError as exc:
                errors += [Problem(f"timeline[{i}].{e['field']}", e["message"]) for e in exc.errors]
        if errors:
            raise WriteError(errors)
        for status in record.timeline.alive().exclude(pk__in=kept):
            PROJECT_STATUS.delete(key=status.uid, actor=actor)


class ProjectStatusWriter(CitedWriter):
    identity = ("project", "status", "kind", "date_start", "date_end")

    def natural_key(self, record):
        if record.project_id is None or None in (record.date_start, record.date_end) or not record.status \
                or not record.kind:
            return None
        return project_status_uid(project=record.project.slug, status=record.status, kind=record.kind,
                                  date_start=record.date_start, date_end=record.date_end)

    def check(self, record, links, parts):
        problems = super().check(record, links, parts)
        if record.date_end < record.date_start:
            problems.append(Problem("date_end", "ends before the date starts"))
        return problems


class EventWriter(CitedWriter):
    def check(self, record, links, parts):
        return super().check(record, links, parts) + event_problems(
            start_date=record.start_date, end_date=record.end_date, end_precision=record.end_precision)


PROJECT = ProjectWriter(Project)
PROJECT_STATUS = ProjectStatusWriter(ProjectStatus)
EVENT_SERIES = Writer(EventSeries)
EVENT = EventWriter(Event)


def project_create(*, data: Mapping, actor: str) -> Write:
    return PROJECT.create(data=data, actor=actor)


def project_update(*, key: str, data: Mapping, actor: str, partial: bool = True,
                   expected_version: str | None = None) -> Write:
    return PROJECT.update(key=key, data=data, actor=actor, partial=partial, expected_version=expected_version)


def project_upsert(*, data: Mapping, actor: str) -> Write:
    return PROJECT.upsert(data=data, actor=actor)


def project_delete(*, key: str, actor: str, expected_version: str | None = None) -> Write:
    return PROJECT.delete(key=key, actor=actor, expected_version=expected_version)


def project_restore(*, key: str, actor: str, expected_version: str | None = None) -> Write:
    return PROJECT.restore(key=key, actor=actor, expected_version=expected_version)


def project_status_create(*, data: Mapping, actor: str) -> Write:
    return PROJECT_STATUS.create(data=data, actor=actor)


def project_status_update(*, key: str, data: Mapping, actor: str, partial: bool = True,
                          expected_version: str | None = None) -> Write:
    return PROJECT_STATUS.update(key=key, data=data, actor=actor, partial=partial, expected_version=expected_version)


def project_status_upsert(*, data: Mapping, actor: str) -> Write:
    return PROJECT_STATUS.upsert(data=data, actor=actor)


def project_status_delete(*, key: str, actor: str, expected_version: str | None = None) -> Write:
    return PROJECT_STATUS.delete(key=key, actor=actor, expected_version=expected_version)


def project_status_restore(*, key: str, actor: str, expected_version: str | None = None) -> Write:
    return PROJECT_STATUS.restore(key=key, actor=actor, expected_version=expected_version)


def event_series_create(*, data: Mapping, actor: str) -> Write:
    return EVENT_SERIES.create(data=data, actor=actor)


def event_series_update(*, key: str, data: Mapping, actor: str, partial: bool = True,
                        expected_version: str | None = None) -> Write:
    return EVENT_SERIES.update(key=key, data=data, actor=actor, partial=partial, expected_version=expected_version)


def event_series_upsert(*, data: Mapping, actor: str) -> Write:
    return EVENT_SERIES.upsert(data=data, actor=actor)


def event_series_delete(*, key: str, actor: str, expected_version: str | None = None) -> Write:
    return EVENT_SERIES.delete(key=key, actor=actor, expected_version=expected_version)


def event_series_restore(*, key: str, actor: str, expected_version: str | None = None) -> Write:
    return EVENT_SERIES.restore(key=key, actor=actor, expected_version=expected_version)


def event_create(*, data: Mapping, actor: str) -> Write:
    return EVENT.create(data=data, actor=actor)


def event_update(*, key: str, data: Mapping, actor: str, partial: bool = True,
                 expected_version: str | None = None) -> Write:
    return EVENT.update(key=key, data=data, actor=actor, partial=partial, expected_version=expected_version)


def event_upsert(*, data: Mapping, actor: str) -> Write:
    return EVENT.upsert(data=data, actor=actor)


def event_delete(*, key: str, actor: str, expected_version: str | None = None) -> Write:
    return EVENT.delete(key=key, actor=actor, expected_version=expected_version)


def event_restore(*, key: str, actor: str, expected_version: str | None = None) -> Write:
    return EVENT.restore(key=key, actor=actor, expected_version=expected_version)


PROJECT_WRITES = PROJECT.writes(project_create, project_update, project_upsert, project_delete, project_restore)
PROJECT_STATUS_WRITES = PROJECT_STATUS.writes(project_status_create, project_status_update, project_status_upsert,
                                              project_status_delete, project_status_restore)
EVENT_SERIES_WRITES = EVENT_SERIES.writes(event_series_create, event_series_update, event_series_upsert,
                                          event_series_delete, event_series_restore)
EVENT_WRITES = EVENT.writes(event_create, event_update, event_upsert, event_delete, event_restore)
