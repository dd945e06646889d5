"""The write services of every resource: each create, update, upsert, delete and restore writes
exactly one change entry, with the record's snapshot before and after and who wrote it; a write
that changes nothing writes none; refused writes name the field and write nothing."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from indicators.models import Observation
from indicators.services import INDICATOR_WRITES, OBSERVATION_WRITES, observation_uid
from opendata.base.models import Change, public_models
from opendata.base.services import (
    RecordExists,
    RecordGone,
    RecordInUse,
    RecordNotFound,
    StaleVersion,
    WriteError,
    dry_run,
    record_restore,
    record_soft_delete,
    record_version,
)
from opendata.base.snapshots import snapshot
from opendata.base.writers import integrity_problems
from opendata.catalogue.services import (
    CITATION_WRITES,
    REGION_WRITES,
    SOURCE_WRITES,
    TOPIC_WRITES,
    UNIT_WRITES,
    topic_delete,
    topic_update,
    unit_delete,
)
from projects.services import EVENT_SERIES_WRITES, EVENT_WRITES, PROJECT_STATUS_WRITES, PROJECT_WRITES
from tests.factories import TEXT
from tests.write_helpers import ACTOR, SOURCE, new_changes, quote

pytestmark = pytest.mark.django_db


def cite(world, text):
    return str(world[text].uid)


# resource: (its services, data of a new record, a partial update of it)
CASES = {
    "topic": (TOPIC_WRITES, lambda w: {"code": "energy", "name_zh": "能源", "name_en": "Energy"},
              {"description": "Power and heat"}),
    "region": (REGION_WRITES, lambda w: {"code": "chaoyang", "name_zh": "朝阳区", "name_en": "Chaoyang",
                                         "kind": "district", "parent": "changchun"}, {"name_en": "Chaoyang District"}),
    "unit": (UNIT_WRITES, lambda w: {"symbol": "个", "name_en": "items", "base_unit": "items", "factor": "1"},
             {"factor": "1.5"}),
    "source": (SOURCE_WRITES, lambda w: {"slug": "report-2024", "title_zh": "报告", "title_en": "Report",
                                         "date": "2024-01-20", "text": TEXT,
                                         "periods": [{"start": "2023-01-01", "end": "2023-12-31", "label": "2023"}]},
               {"title_en": "Report of 2024"}),
    "citation": (CITATION_WRITES, lambda w: quote("地区生产总值增长5.5%以上"), {"garbled": True}),
    "indicator": (INDICATOR_WRITES, lambda w: {"code": "pocket-parks", "name_zh": "口袋公园", "name_en": "Pocket parks",
                                               "unit": "处", "topic": "agriculture"}, {"name_en": "New pocket parks"}),
    "observation": (OBSERVATION_WRITES, lambda w: {
        "indicator": "grain-output", "region": "changchun", "period_start": "2024-01-01", "period_end": "2024-12-31",
        "period_label": "2024", "kind": "actual", "value": "259.9", "citations": [cite(w, "粮食产量达到259.9亿斤")]},
        {"period_label": "2024年"}),
    "project": (PROJECT_WRITES, lambda w: {"slug": "pocket-parks-2025", "name_zh": "口袋公园", "name_en": "Pocket parks",
                                           "topic": "agriculture", "regions": ["nanguan", "changchun"]},
                {"regions": ["nanguan"]}),
    "project_status": (PROJECT_STATUS_WRITES, lambda w: {
        "project": "metro-line-6", "status": "construction_started", "kind": "actual", "date_start": "2025-01-01",
        "date_end": "2025-12-31", "date_precision": "year", "date_label": "2025",
        "citations": [cite(w, "地铁6号线开工建设")]}, {"date_label": "2025年"}),
    "event_series": (EVENT_SERIES_WRITES, lambda w: {"slug": "expo", "name_zh": "光博会", "name_en": "Expo"},
                     {"name_en": "Optoelectronics Expo"}),
    "event": (EVENT_WRITES, lambda w: {
        "slug": "expo-2025", "name_zh": "光博会", "name_en": "Expo 2025", "kind": "expo", "start_date": "2025-01-01",
        "start_precision": "year", "status": "held", "region": "changchun", "citations": [cite(w, "光博会成功举办")]},
        {"end_date": "2025-12-31", "end_precision": "year"}),
}


def test_every_public_resource_has_its_services():
    assert set(CASES) == set(public_models())


def only(got: list[Change]) -> Change:
    assert len(got) == 1, [(c.resource, c.key, c.operation) for c in got]
    return got[0]


def current(writes, key):
    return writes.model.objects.get(**{writes.model.public_key: key})


@pytest.mark.parametrize("resource", list(CASES))
def test_create_update_upsert_delete_restore_write_one_entry_each(world, resource):
    writes, new, change = CASES[resource]
    data = new(world)

    with new_changes() as got:
        created = writes.create(data=data, actor=ACTOR)
    entry = only(got)
    record = created.record
    key = record.public_id
    assert created.change == entry and created.created
    assert (entry.resource, entry.key, entry.operation, entry.actor) == (resource, key, "create", ACTOR)
    assert entry.before is None
    assert entry.after == snapshot(current(writes, key))

    with new_changes() as got:
        updated = writes.update(key=key, data=change, actor="someone-else")
    entry = only(got)
    assert (entry.operation, entry.actor, updated.operation) == ("update", "someone-else", "update")
    assert entry.before == created.change.after
    assert entry.after == snapshot(current(writes, key))
    assert {k for k in entry.after if entry.after[k] != entry.before[k]} == set(change) | {"updated_at"}

    with new_changes() as got:  # the same data again: nothing to do
        assert writes.update(key=key, data=change, actor=ACTOR).change is None
        assert writes.upsert(data={**data, **change}, actor=ACTOR).change is None
    assert got == []

    with new_changes() as got:  # a full write back to the first data
        upserted = writes.upsert(data=data, actor=ACTOR)
    entry = only(got)
    assert upserted.operation == "update" and upserted.record.pk == record.pk
    assert {k: v for k, v in entry.after.items() if k != "updated_at"} == \
           {k: v for k, v in created.change.after.items() if k != "updated_at"}

    with new_changes() as got:
        deleted = writes.delete(key=key, actor=ACTOR)
    entry = only(got)
    assert deleted.operation == "delete" and entry.after["deleted_at"] is not None
    assert entry.after == snapshot(current(writes, key))
    assert {k for k in entry.after if entry.after[k] != entry.before[k]} == {"deleted_at", "updated_at"}
    with new_changes() as got:
        assert writes.delete(key=key, actor=ACTOR).change is None  # already deleted
        with pytest.raises(RecordGone):
            writes.update(key=key, data=change, actor=ACTOR)
    assert got == []

    with new_changes() as got:
        restored = writes.restore(key=key, actor=ACTOR)
    entry = only(got)
    assert restored.operation == "restore" and entry.after["deleted_at"] is None
    assert entry.after == snapshot(current(writes, key))

    with new_changes() as got:  # upsert brings a deleted record back: one entry, a restore
        writes.delete(key=key, actor=ACTOR)
        writes.upsert(data=data, actor=ACTOR)
    assert [c.operation for c in got] == ["delete", "restore"]


@pytest.mark.parametrize("resource", list(CASES))
def test_refused_writes_name_the_field_and_write_nothing(world, resource):
    writes, new, _ = CASES[resource]
    data = new(world)
    with new_changes() as got:
        with pytest.raises(WriteError) as err:
            writes.create(data={**data, "colour": "green", "created_at": "2025-01-01T00:00:00Z"}, actor=ACTOR)
        assert {e["field"]: e["message"] for e in err.value.errors} == {
            "colour": err.value.errors[0]["message"], "created_at": "is read-only"}
        assert "unknown field" in err.value.errors[0]["message"]
        required = next(f.name for f in writes.model._meta.concrete_fields
                        if f.name in data and not f.has_default() and not f.blank and not f.null
                        and f.name != "uid")
        with pytest.raises(WriteError) as err:
            writes.create(data={k: v for k, v in data.items() if k != required}, actor=ACTOR)
        assert {"index": None, "field": required, "message": "is required"} in err.value.errors
    assert got == []
    if writes.model.public_key != "uid":
        assert not writes.model.objects.filter(**{writes.model.public_key: data[writes.model.public_key]}).exists()


def test_keys_references_and_choices_are_checked(world):
    obs = CASES["observation"][1](world)
    with pytest.raises(WriteError) as err:
        OBSERVATION_WRITES.create(data={**obs, "indicator": "gdp", "region": "nowhere", "kind": "prophecy",
                                        "value": "many", "citations": ["not-a-uid"]}, actor=ACTOR)
    fields = {e["field"]: e["message"] for e in err.value.errors}
    assert fields["indicator"] == "unknown indicator gdp"
    assert fields["region"] == "unknown region nowhere"
    assert fields["kind"].startswith("'prophecy' is not allowed: expected one of actual, target")
    assert "value" in fields and fields["citations[0]"] == "unknown citation not-a-uid"
    with pytest.raises(WriteError, match="must be lower-case kebab-case ASCII"):
        TOPIC_WRITES.create(data={"code": "Energy_Sector", "name_zh": "能源", "name_en": "Energy"}, actor=ACTOR)
    with pytest.raises(WriteError, match="expected a mapping"):
        TOPIC_WRITES.create(data=["energy"], actor=ACTOR)


def test_a_reference_to_a_deleted_record_is_refused(world):
    TOPIC_WRITES.create(data={"code": "energy", "name_zh": "能源", "name_en": "Energy"}, actor=ACTOR)
    topic_delete(key="energy", actor=ACTOR)
    with pytest.raises(WriteError) as err:
        INDICATOR_WRITES.create(data={"code": "power", "name_zh": "电", "name_en": "Power", "unit": "亿斤",
                                      "topic": "energy"}, actor=ACTOR)
    assert err.value.errors == [{"index": None, "field": "topic", "message": "the topic energy is deleted"}]


def test_what_live_records_use_cannot_be_deleted(world):
    with new_changes() as got, pytest.raises(RecordInUse) as err:
        unit_delete(key="亿斤", actor=ACTOR)
    assert got == []
    assert err.value.errors[0]["field"] == "indicators"
    assert "grain-output" in err.value.errors[0]["message"]
    with pytest.raises(RecordInUse, match="children"):
        REGION_WRITES.delete(key="changchun", actor=ACTOR)


def test_restoring_a_record_that_refers_to_a_deleted_one_is_refused(world):
    INDICATOR_WRITES.create(data={"code": "power", "name_zh": "电", "name_en": "Power", "unit": "处",
                                  "topic": "agriculture"}, actor=ACTOR)
    INDICATOR_WRITES.delete(key="power", actor=ACTOR)
    UNIT_WRITES.delete(key="处", actor=ACTOR)
    with pytest.raises(WriteError, match="the unit 处 is deleted"):
        INDICATOR_WRITES.restore(key="power", actor=ACTOR)


def test_not_found_exists_and_stale_version(world):
    with pytest.raises(RecordNotFound):
        topic_update(key="nothing", data={"name_en": "x"}, actor=ACTOR)
    with pytest.raises(RecordNotFound):
        OBSERVATION_WRITES.delete(key="not-a-uid", actor=ACTOR)
    with pytest.raises(RecordExists) as err:
        TOPIC_WRITES.create(data={"code": "agriculture", "name_zh": "农业", "name_en": "Agriculture"}, actor=ACTOR)
    assert err.value.code == "exists"
    topic = current(TOPIC_WRITES, "agriculture")
    version = record_version(topic)
    topic_update(key="agriculture", data={"name_en": "Farming"}, actor=ACTOR, expected_version=version)
    with pytest.raises(StaleVersion):
        topic_update(key="agriculture", data={"name_en": "Agriculture"}, actor=ACTOR, expected_version=version)
    assert current(TOPIC_WRITES, "agriculture").name_en == "Farming"


def test_a_public_key_never_changes(world):
    with pytest.raises(WriteError, match="the code of a topic cannot change"):
        topic_update(key="agriculture", data={"code": "farming"}, actor=ACTOR)
    obs = OBSERVATION_WRITES.create(data=CASES["observation"][1](world), actor=ACTOR).record
    with pytest.raises(WriteError) as err:
        OBSERVATION_WRITES.update(key=obs.uid, data={"period_end": "2024-06-30"}, actor=ACTOR)
    assert err.value.errors[0]["field"] == "period_end" and "cannot change" in err.value.errors[0]["message"]


def test_a_full_update_resets_what_it_leaves_out(world):
    TOPIC_WRITES.create(data={"code": "energy", "name_zh": "能源", "name_en": "Energy", "description": "Power"},
                        actor=ACTOR)
    write = topic_update(key="energy", data={"name_zh": "能源", "name_en": "Energy"}, actor=ACTOR, partial=False)
    assert write.record.description == "" and write.change.before["description"] == "Power"
    with pytest.raises(WriteError, match="name_zh: is required"):
        topic_update(key="energy", data={"name_en": "Energy"}, actor=ACTOR, partial=False)


def test_uid_of_a_fact_is_the_loaders(world):
    data = CASES["observation"][1](world)
    obs = OBSERVATION_WRITES.create(data=data, actor=ACTOR).record
    assert obs.uid == observation_uid(indicator="grain-output", region="changchun", period_start=obs.period_start,
                                      period_end=obs.period_end, kind="actual", comparator="exact")
    assert obs.unit.symbol == "亿斤"  # the indicator's unit, when none is given
    with pytest.raises(RecordExists):
        OBSERVATION_WRITES.create(data=data, actor=ACTOR)
    with pytest.raises(WriteError, match="is derived from the observation's"):
        OBSERVATION_WRITES.create(data={**data, "period_label": "2024年", "uid": "5b0c7d0e-43a9-4f7e-9a39-2f5b5f1c0c51",
                                        "kind": "target"}, actor=ACTOR)
    again = OBSERVATION_WRITES.upsert(data={**data, "uid": str(obs.uid), "value": "259.9"}, actor=ACTOR)
    assert again.record.pk == obs.pk and again.change is None


def test_soft_delete_and_restore_primitives_record_their_change():
    from tests.factories import TopicFactory

    topic = TopicFactory(code="energy")
    with new_changes() as got:
        record_soft_delete(record=topic, actor="admin-user")
        record_soft_delete(record=topic, actor="admin-user")  # already deleted: nothing
        record_restore(record=topic, actor="loader")
    assert [(c.operation, c.actor, c.key) for c in got] == [("delete", "admin-user", "energy"),
                                                            ("restore", "loader", "energy")]
    assert got[0].after == {**got[0].before, "deleted_at": got[0].after["deleted_at"],
                            "updated_at": got[0].after["updated_at"]}
    assert got[1].after == snapshot(topic)
    with pytest.raises(ValueError, match="actor"):
        record_soft_delete(record=topic, actor="")


def test_dry_run_reports_the_errors_and_writes_nothing(world):
    with new_changes() as got:
        assert dry_run(lambda: topic_update(key="agriculture", data={"name_en": "Farming"}, actor=ACTOR)) == []
        errors = dry_run(lambda: topic_update(key="agriculture", data={"name_en": ""}, actor=ACTOR))
    assert got == [] and errors[0]["field"] == "name_en"
    assert current(TOPIC_WRITES, "agriculture").name_en == "Agriculture"


def test_database_constraints_are_reported_on_their_fields(world):
    obs = OBSERVATION_WRITES.create(data=CASES["observation"][1](world), actor=ACTOR).record
    twin = Observation(uid="5b0c7d0e-43a9-4f7e-9a39-2f5b5f1c0c51", **{
        f: getattr(obs, f) for f in ("indicator", "region", "period_start", "period_end", "period_label", "kind",
                                     "comparator", "value", "unit")})
    with pytest.raises(IntegrityError) as err, transaction.atomic():
        twin.save()
    problems = integrity_problems(Observation, err.value)
    assert problems[0].field == "indicator,region,period_start,period_end,kind,comparator"
    assert "another live observation" in problems[0].message
    twin.period_end = obs.period_start.replace(year=2023)
    with pytest.raises(IntegrityError) as err, transaction.atomic():
        twin.save()
    assert integrity_problems(Observation, err.value)[0].field == "period_end"


def test_source_text_and_periods_must_keep_their_citations_and_observations_true(world):
    OBSERVATION_WRITES.create(data=CASES["observation"][1](world), actor=ACTOR)
    with new_changes() as got:
        with pytest.raises(WriteError) as err:
            SOURCE_WRITES.update(key=SOURCE, data={"text": "前言。" + TEXT}, actor=ACTOR)
        assert err.value.errors[0]["field"] == "text"
        assert "is not the text of report-2025 at offset" in err.value.errors[0]["message"]
        with pytest.raises(WriteError) as err:
            SOURCE_WRITES.update(key=SOURCE, data={"periods": [{"start": "2025-01-01", "end": "2025-12-31",
                                                                "label": "2025"}]}, actor=ACTOR)
        assert err.value.errors[0]["field"] == "periods"
        assert "would lie outside the periods report-2025 covers" in err.value.errors[0]["message"]
        with pytest.raises(WriteError, match="a source must say which periods it covers"):
            SOURCE_WRITES.update(key=SOURCE, data={"periods": []}, actor=ACTOR)
    assert got == []
    write = SOURCE_WRITES.update(key=SOURCE, data={"text": TEXT + "附录。", "periods": [
        {"start": "2024-01-01", "end": "2025-12-31", "label": "2024–2025"},
        {"start": "2026-01-01", "end": "2026-12-31", "label": "2026"}]}, actor=ACTOR)
    assert write.change.after["periods"][1] == {"start": "2026-01-01", "end": "2026-12-31", "label": "2026"}
    assert write.record.sha256 != write.change.before["sha256"]


def test_values_of_the_wrong_type_are_refused_not_turned_into_text(world):
    with pytest.raises(WriteError) as err:
        TOPIC_WRITES.create(data={"code": "energy", "name_zh": {"zh": "能源"}, "name_en": ["Energy"],
                                  "description": None}, actor=ACTOR)
    assert {e["field"]: e["message"] for e in err.value.errors} == {"name_zh": "expected text, got dict",
                                                                   "name_en": "expected text, got list"}
    with pytest.raises(WriteError) as err:
        CITATION_WRITES.create(data={**quote("光博会成功举办"), "offset": "41", "garbled": "yes"}, actor=ACTOR)
    assert {e["field"] for e in err.value.errors} == {"offset", "garbled"}
    with pytest.raises(WriteError, match="kind: \\['actual'\\] is not allowed|kind: expected text"):
        OBSERVATION_WRITES.create(data={**CASES["observation"][1](world), "kind": ["actual"]}, actor=ACTOR)
    topic = TOPIC_WRITES.create(data={"code": "energy", "name_zh": "能源", "name_en": "Energy", "description": None},
                                actor=ACTOR).record
    assert topic.description == ""
