"""A record's public snapshot: public fields as the API writes them, references by public key, lists
of references sorted, a source's periods with it; never a database id."""

from __future__ import annotations

import pytest

from indicators.models import Observation
from indicators.services import observation_create
from opendata.base.models import public_models
from opendata.base.snapshots import snapshot
from opendata.catalogue.models import Source, Unit
from projects.models import Project
from tests.write_helpers import ACTOR, SOURCE, quote

pytestmark = pytest.mark.django_db


def test_an_observation_as_the_api_writes_it(world):
    obs = observation_create(data={
        "indicator": "grain-output", "region": "changchun", "period_start": "2024-01-01", "period_end": "2024-12-31",
        "period_label": "2024", "kind": "actual", "value": "259.900", "unit": "亿斤",
        "citations": [quote("产量达到259.9"), str(world["粮食产量达到259.9亿斤"].uid)]}, actor=ACTOR).record
    snap = snapshot(Observation.objects.get(pk=obs.pk))
    uids = sorted(str(c.uid) for c in obs.citations.all())
    assert len(uids) == 2
    assert {k: v for k, v in snap.items() if k not in ("created_at", "updated_at")} == {
        "uid": str(obs.uid), "indicator": "grain-output", "region": "changchun", "period_start": "2024-01-01",
        "period_end": "2024-12-31", "period_label": "2024", "kind": "actual", "comparator": "exact",
        "value": "259.9", "unit": "亿斤", "citations": uids, "deleted_at": None,
        # issue 14: what a value states, disputes, the text's assessment, a Chinese numeral as written
        "value_as_written": "", "measure": "level", "disputed": False, "preferred": True, "dispute_note": "",
        "assessment": "", "assessment_period_start": None, "assessment_period_end": None}
    assert snap["created_at"].endswith("Z") and snap["updated_at"].endswith("Z")
    assert list(snap)[-3:] == ["created_at", "updated_at", "deleted_at"]


def test_a_source_with_its_periods_and_a_unit_with_its_factor(world):
    snap = snapshot(Source.objects.get(slug=SOURCE))
    assert snap["periods"] == [{"start": "2024-01-01", "end": "2025-12-31", "label": "2024–2025"}]
    assert snap["date"] == "2025-01-08" and len(snap["sha256"]) == 64 and snap["text"].startswith("全市")
    assert snapshot(Unit.objects.get(symbol="亿斤"))["factor"] == "50000000"
    assert snapshot(Project.objects.get(slug="metro-line-6"))["regions"] == ["changchun"]


def test_no_database_id_ever_appears(world):
    for model in public_models().values():
        for record in model.objects.all():
            snap = snapshot(record)
            expected = ({f.name for f in model._meta.concrete_fields if not f.primary_key}
                        | {f.name for f in model._meta.many_to_many}
                        | {r.get_accessor_name() for r in model._meta.related_objects
                           if r.one_to_many and r.related_model._meta.model_name == "sourceperiod"})
            assert set(snap) == expected, model
            assert "id" not in snap and not any(k.endswith("_id") for k in snap)
            for f in model._meta.concrete_fields:
                if f.is_relation and snap[f.name] is not None:
                    assert snap[f.name] == getattr(record, f.name).public_id


def test_a_loaded_record_costs_no_query(world, django_assert_num_queries):
    obs = observation_create(data={
        "indicator": "grain-output", "region": "changchun", "period_start": "2024-01-01", "period_end": "2024-12-31",
        "period_label": "2024", "kind": "actual", "value": "259.9",
        "citations": [str(world["粮食产量达到259.9亿斤"].uid)]}, actor=ACTOR).record
    loaded = (Observation.objects.select_related("indicator", "region", "unit").prefetch_related("citations")
              .get(pk=obs.pk))
    with django_assert_num_queries(0):
        snapshot(loaded)
