"""Observations' write services and rules (a value stated by its quotes, within the periods its
sources cover, a fall said as a fall), and the bulk upsert: all rows or none."""

from __future__ import annotations

import pytest

from indicators.models import Observation
from indicators.services import observation_bulk_upsert, observation_create, observation_problems, observation_update
from opendata.base.models import Change
from opendata.base.services import WriteError
from opendata.catalogue.services import source_create
from tests.write_helpers import ACTOR, new_changes, quote

pytestmark = pytest.mark.django_db


def row(world, **changes) -> dict:
    return {"indicator": "grain-output", "region": "changchun", "period_start": "2024-01-01",
            "period_end": "2024-12-31", "period_label": "2024", "kind": "actual", "value": "259.9",
            "citations": [str(world["粮食产量达到259.9亿斤"].uid)], **changes}


def test_the_value_is_in_its_quotes_and_the_period_within_its_sources(world):
    with pytest.raises(WriteError) as err:
        observation_create(data=row(world, value="260"), actor=ACTOR)
    assert err.value.errors == [{"index": None, "field": "value",
                                 "message": "260 does not appear in the quote '粮食产量达到259.9亿斤'"}]
    with pytest.raises(WriteError) as err:
        observation_create(data=row(world, period_start="2023-01-01", period_end="2023-12-31", period_label="2023"),
                           actor=ACTOR)
    assert err.value.errors == [{"index": None, "field": "period_start,period_end",
                                 "message": "2023 lies outside the periods report-2025 covers"}]
    with pytest.raises(WriteError) as err:
        observation_create(data=row(world, period_end="2023-12-31"), actor=ACTOR)
    assert err.value.errors[0]["field"] == "period_end"
    obs = observation_create(data=row(world, value="259.90"), actor=ACTOR)
    assert obs.change.after["value"] == "259.9"
    with pytest.raises(WriteError, match="value: 259.8 does not appear"):
        observation_update(key=obs.record.uid, data={"value": "259.8"}, actor=ACTOR)


def test_a_negative_value_needs_a_fall_in_its_quote(world):
    text = "单位生产总值能耗下降3.5%，能耗3.5吨。"
    source_create(data={"slug": "energy-report", "title_zh": "能耗", "title_en": "Energy", "date": "2025-01-08",
                        "text": text, "periods": [{"start": "2024-01-01", "end": "2024-12-31", "label": "2024"}]},
                  actor=ACTOR)
    falls = {"source": "energy-report", "offset": text.index("能耗下降3.5%"), "quote": "能耗下降3.5%"}
    flat = {"source": "energy-report", "offset": text.index("能耗3.5吨"), "quote": "能耗3.5吨"}
    with pytest.raises(WriteError, match="a negative value needs 下降/减少/降低/回落/负增长 in its quote"):
        observation_create(data=row(world, value="-3.5", citations=[flat]), actor=ACTOR)
    assert observation_create(data=row(world, value="-3.5", citations=[falls]), actor=ACTOR).change is not None


def test_the_loader_and_the_services_share_the_rule():
    import datetime as dt

    problems = observation_problems(value="5", period_start=dt.date(2024, 1, 1), period_end=dt.date(2024, 12, 31),
                                    period_label="2024", citations=[("s", "增长6%")],
                                    covers={"s": [(dt.date(2024, 1, 1), dt.date(2024, 12, 31))]})
    assert [(p.field, p.message) for p in problems] == [("value", "5 does not appear in the quote '增长6%'")]


def test_bulk_upsert_writes_every_row(world):
    rows = [row(world), row(world, kind="target", comparator="at_least"),
            row(world, region="nanguan", citations=[quote("粮食产量达到259.9亿斤")])]
    with new_changes() as got:
        writes = observation_bulk_upsert(rows=rows, actor="etl")
    assert [w.operation for w in writes] == ["create"] * 3
    assert [(c.resource, c.operation, c.actor) for c in got] == [("observation", "create", "etl")] * 3
    with new_changes() as got:  # again, one value changed: one update
        writes = observation_bulk_upsert(rows=[*rows[:2], {**rows[2], "period_label": "2024年"}], actor="etl")
    assert [w.operation for w in writes] == [None, None, "update"] and len(got) == 1


def test_bulk_upsert_is_all_or_nothing_and_names_each_bad_row(world):
    rows = [row(world), row(world, value="260", kind="prophecy"), row(world, region="nanguan"),
            row(world, indicator="gdp"), "not a row"]
    with new_changes() as got, pytest.raises(WriteError) as err:
        observation_bulk_upsert(rows=rows, actor="etl")
    assert got == [] and not Observation.objects.exists()
    errors = err.value.errors
    assert {(e["index"], e["field"]) for e in errors} == {(1, "kind"), (3, "indicator"), (4, "-")}
    assert all(e["index"] is not None for e in errors)
    assert "row 1: kind: 'prophecy' is not allowed" in str(err.value)


def test_bulk_upsert_refuses_a_row_that_repeats_another(world):
    with pytest.raises(WriteError) as err:
        observation_bulk_upsert(rows=[row(world), row(world, period_label="2024年")], actor="etl")
    assert [(e["index"], e["field"]) for e in err.value.errors] == [(1, "uid")]
    assert "the same observation as row 0" in err.value.errors[0]["message"]
    assert not Observation.objects.exists() and not Change.objects.filter(actor="etl").exists()
    with pytest.raises(WriteError, match="expected a list"):
        observation_bulk_upsert(rows={"a": 1}, actor="etl")
