"""Projects with their timelines, status statements and events through their write services."""

from __future__ import annotations

import pytest

from opendata.base.services import WriteError
from projects.models import ProjectStatus
from projects.services import event_create, event_update, project_create, project_status_update, project_update
from tests.write_helpers import ACTOR, new_changes, quote

pytestmark = pytest.mark.django_db

STARTED = {"status": "construction_started", "kind": "actual", "date_start": "2025-01-01", "date_end": "2025-12-31",
           "date_precision": "year", "date_label": "2025", "citations": [quote("地铁6号线开工建设")]}
PLANNED = {**STARTED, "status": "completed", "kind": "target", "date_label": "2025 (planned)"}


def test_a_project_is_written_with_its_timeline(world):
    with new_changes() as got:
        project = project_create(data={"slug": "metro-line-7", "name_zh": "地铁7号线", "name_en": "Metro line 7",
                                       "topic": "agriculture", "timeline": [STARTED, PLANNED]}, actor=ACTOR).record
    assert [(c.resource, c.operation) for c in got] == [("project", "create"), ("project_status", "create"),
                                                        ("project_status", "create")]
    assert project.timeline.alive().count() == 2
    with new_changes() as got:  # the timeline given again, without the plan: the plan is soft-deleted
        assert project_update(key="metro-line-7", data={"timeline": [STARTED]}, actor=ACTOR).change is None
    assert [(c.resource, c.operation) for c in got] == [("project_status", "delete")]
    assert project.timeline.alive().get().status == "construction_started"
    with new_changes() as got, pytest.raises(WriteError) as err:
        project_update(key="metro-line-7", data={"timeline": [{**STARTED, "status": "dreamt"}, PLANNED]},
                       actor=ACTOR)
    assert got == [] and err.value.errors[0]["field"] == "timeline[0].status"


def test_a_status_statement_is_fixed_by_what_its_uid_derives_from(world):
    project_update(key="metro-line-6", data={"timeline": [STARTED]}, actor=ACTOR)
    status = ProjectStatus.objects.get()
    assert project_status_update(key=status.uid, data={"date_label": "2025年"}, actor=ACTOR).change is not None
    with pytest.raises(WriteError, match="cannot change"):
        project_status_update(key=status.uid, data={"kind": "target"}, actor=ACTOR)


def test_an_event_ends_after_it_starts(world):
    data = {"slug": "expo-2025", "name_zh": "光博会", "name_en": "Expo", "kind": "expo", "start_date": "2025-06-01",
            "start_precision": "month", "status": "held", "region": "changchun",
            "citations": [str(world["光博会成功举办"].uid)]}
    with pytest.raises(WriteError) as err:
        event_create(data={**data, "end_date": "2025-05-01", "end_precision": "day"}, actor=ACTOR)
    assert err.value.errors == [{"index": None, "field": "end_date", "message": "the event ends before it starts"}]
    with pytest.raises(WriteError, match="end_precision: is required with an end_date"):
        event_create(data={**data, "end_date": "2025-06-30"}, actor=ACTOR)
    event_create(data=data, actor=ACTOR)
    with pytest.raises(WriteError, match="end_precision: must be empty without an end_date"):
        event_update(key="expo-2025", data={"end_precision": "day"}, actor=ACTOR)
    assert event_update(key="expo-2025", data={"end_date": "2025-06-30", "end_precision": "day"},
                        actor=ACTOR).operation == "update"


def test_a_project_is_deleted_and_restored_with_its_timeline(world):
    from projects.services import project_delete, project_restore, project_status_delete

    project_create(data={"slug": "metro-line-7", "name_zh": "地铁7号线", "name_en": "Metro line 7",
                         "topic": "agriculture", "timeline": [STARTED, PLANNED]}, actor=ACTOR)
    earlier = ProjectStatus.objects.get(project__slug="metro-line-7", status="completed")
    project_status_delete(key=earlier.uid, actor=ACTOR)  # deleted on its own, before the project
    with new_changes() as got:
        project_delete(key="metro-line-7", actor=ACTOR)
    assert [(c.resource, c.operation) for c in got] == [("project_status", "delete"), ("project", "delete")]
    assert got[0].after["deleted_at"] == got[1].after["deleted_at"]
    with new_changes() as got:
        project_restore(key="metro-line-7", actor=ACTOR)
    assert [(c.resource, c.operation) for c in got] == [("project", "restore"), ("project_status", "restore")]
    assert ProjectStatus.objects.alive().filter(project__slug="metro-line-7").get().status == "construction_started"
