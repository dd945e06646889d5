"""The change feed (opendata.base.selectors.change_list): every write of the services and the loader
is in it, in an order a cursor can follow without skipping; replaying it from the start gives every
record as it is. The feed reads committed data, so these tests commit (transaction=True)."""

from __future__ import annotations

import shutil

import pytest
import yaml
from django.conf import settings
from django.core.management import call_command

from indicators.models import Observation
from indicators.services import observation_delete, observation_update, observation_upsert
from opendata.base.models import Change, public_models
from opendata.base.selectors import Cursor, InvalidCursor, change_horizon, change_list
from opendata.base.snapshots import Keys, parts_of, snapshot
from opendata.catalogue.services import topic_update
from projects.services import project_update
from tests.write_helpers import ACTOR, build_world, quote, read_feed, settle

pytestmark = pytest.mark.django_db(transaction=True)


def load(directory=None, *args):
    call_command("load_opendata", *(["--fixtures", str(directory)] if directory else []), *args, verbosity=0,
                 stdout=open("/dev/null", "w"))  # noqa: SIM115


def every_snapshot() -> dict:
    keys = Keys()
    out = {}
    for resource, model in public_models().items():
        keys.preload(model)
        related = [f.name for f in model._meta.many_to_many] + [r.get_accessor_name() for r in parts_of(model)]
        for record in model.objects.prefetch_related(*related):
            out[(resource, record.public_id)] = snapshot(record, keys=keys)
    return out


def replay(entries, store=None) -> dict:
    store = {} if store is None else store
    for entry in entries:
        store[(entry.resource, entry.key)] = entry.after
    return store


def test_the_loaders_changes_are_in_the_feed_and_a_second_load_adds_none():
    load()
    entries, cursor = read_feed()
    assert len(entries) == Change.objects.count() > 1000
    assert {e.actor for e in entries} == {"loader"} and {e.operation for e in entries} == {"create"}
    counts = {resource: model.objects.count() for resource, model in public_models().items()}
    assert {r: sum(e.resource == r for e in entries) for r in counts} == counts
    load()
    assert read_feed(after=cursor)[0] == []
    assert Change.objects.count() == len(entries)


def test_replaying_the_feed_from_the_start_gives_every_record_as_it_is(tmp_path):
    load()
    world = build_world()  # records of the services beside the loader's
    obs = observation_upsert(data={
        "indicator": "grain-output", "region": "changchun", "period_start": "2024-01-01", "period_end": "2024-12-31",
        "period_label": "2024", "kind": "actual", "value": "259.9",
        "citations": [str(world["粮食产量达到259.9亿斤"].uid)]}, actor=ACTOR).record
    observation_update(key=obs.uid, data={"citations": [quote("粮食产量达到259.9亿斤")]}, actor=ACTOR)
    topic_update(key="agriculture", data={"description": "Farming, forestry and fishing"}, actor="someone")
    project_update(key="metro-line-6", data={"timeline": [{
        "status": "construction_started", "kind": "actual", "date_start": "2025-01-01", "date_end": "2025-12-31",
        "date_precision": "year", "date_label": "2025", "citations": [quote("地铁6号线开工建设")]}]}, actor=ACTOR)
    observation_delete(key=obs.uid, actor=ACTOR)

    # and the loader again, with one record changed and one indicator (with its observations) gone
    fixtures = tmp_path / "fixtures"
    shutil.copytree(settings.FIXTURES_DIR, fixtures, ignore=shutil.ignore_patterns("drafts"))
    topics = yaml.safe_load((fixtures / "topics.yaml").read_text(encoding="utf-8"))
    topics[0]["name_en"] += " (renamed)"
    (fixtures / "topics.yaml").write_text(yaml.safe_dump(topics, allow_unicode=True, sort_keys=False), "utf-8")
    path = sorted((fixtures / "indicators").glob("*.yaml"))[0]
    indicators = yaml.safe_load(path.read_text(encoding="utf-8"))
    gone = indicators.pop(0)
    path.write_text(yaml.safe_dump(indicators, allow_unicode=True, sort_keys=False), "utf-8")
    load(fixtures, "--allow-deletions")  # it also deletes the world's source: 1 of 6, over the loader's 10 %

    entries, _ = read_feed(page_size=97)
    assert {e.operation for e in entries} == {"create", "update", "delete", "restore"}
    # the observation deleted through the services is a fixture's: the loader brought it back
    assert [(e.operation, e.actor) for e in entries if e.key == str(obs.uid)][-2:] == [("delete", ACTOR),
                                                                                        ("restore", "loader")]
    assert Observation.objects.deleted().filter(indicator__code=gone["code"]).exists()
    assert replay(entries) == every_snapshot()


def test_a_cursor_pages_on_and_a_resource_filter_keeps_moving_it():
    build_world()
    settle()
    first = change_list(limit=3)
    assert len(first.changes) == 3 and first.more
    assert first.next == Cursor.of(first.changes[-1])
    rest = change_list(after=first.next, limit=1000)
    assert not rest.more
    everything = first.changes + rest.changes
    assert [c.id for c in everything] == [c.id for c in Change.objects.order_by("id")]
    assert rest.next >= Cursor.of(everything[-1])
    assert change_list(after=rest.next).changes == []

    sources = change_list(resource=["source"], limit=1000)
    assert [c.resource for c in sources.changes] == ["source"] and not sources.more
    empty = change_list(after=sources.next, resource=["source"])
    assert empty.changes == [] and empty.next >= sources.next
    topic_update(key="agriculture", data={"name_en": "Farming"}, actor=ACTOR)
    settle()
    later = change_list(after=empty.next, resource=["topic", "source"])
    assert [(c.resource, c.key, c.operation) for c in later.changes] == [("topic", "agriculture", "update")]
    assert change_horizon() >= later.next


def test_cursors_are_opaque_and_checked():
    cursor = Cursor(1234, 42)
    assert Cursor.decode(cursor.encode()) == cursor
    assert "." not in cursor.encode() and "=" not in cursor.encode()
    for bad in ("", "nonsense", "MTIzNA", Cursor(-1, 2).encode()):
        with pytest.raises(InvalidCursor):
            Cursor.decode(bad)
