"""The set-based bulk upsert (`Writer.bulk_upsert`) writes exactly what `upsert` row by row writes: the same
`Write`s (records, operations, versions), the same rows, links and citations, the same change entries in
the same order (but for the moments they were taken), from the same state. Each case runs both paths on
the same state (one rolled back), and checks the set-based path did not decline."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from indicators.models import Observation
from indicators.services import OBSERVATION, _upsert_row_by_row, observation_bulk_upsert
from opendata.base.models import Change
from opendata.base.services import WriteError, record_version
from opendata.base.writers import NotSetBased, cached_references
from opendata.catalogue.models import Citation
from opendata.catalogue.services import citation_delete
from tests.write_helpers import ACTOR, new_changes, quote

pytestmark = pytest.mark.django_db
GRAIN = "粮食产量达到259.9亿斤"
MOMENTS = ("created_at", "updated_at", "deleted_at", "at")


def row(**changes) -> dict:
    return {"indicator": "grain-output", "region": "changchun", "period_start": "2024-01-01",
            "period_end": "2024-12-31", "period_label": "2024", "kind": "actual", "value": "259.9",
            "citations": [quote(GRAIN)], **changes}


def _moments(snapshot: dict | None) -> dict | None:
    """A snapshot with each moment as whether it is set (the two paths run at other instants)."""
    if snapshot is None:
        return None
    return {k: (v is not None if k in MOMENTS else v) for k, v in snapshot.items()}


def state() -> dict:
    """Every observation (by uid, with its citations' uids) and citation, without database ids or moments."""
    observations = {}
    for o in Observation.objects.prefetch_related("citations").select_related("indicator", "region", "unit"):
        fields = {f.attname: getattr(o, f.attname) for f in o._meta.concrete_fields
                  if not f.primary_key and not f.is_relation and f.name not in MOMENTS}
        observations[o.uid] = {**fields, "indicator": o.indicator.code, "region": o.region.code,
                               "unit": o.unit.symbol, "deleted": o.deleted_at is not None,
                               "citations": sorted(str(c.uid) for c in o.citations.all())}
    citations = {c.uid: (c.quote, c.offset, c.garbled, c.deleted_at is not None) for c in Citation.objects.all()}
    return {"observations": observations, "citations": citations}


def outcome(write) -> dict:
    with new_changes() as changes:
        writes = write()
    stored = dict(Observation.objects.values_list("uid", "updated_at"))
    for w in writes:  # the version answered is the stored record's (its ETag)
        assert record_version(w.record) == record_version(Observation(uid=w.record.uid, updated_at=stored[w.record.uid]))
    return {
        "writes": [(w.record.public_id, w.operation) for w in writes],
        "changes": [(c.resource, c.key, c.operation, c.actor, c.txid is None, _moments(c.before), _moments(c.after))
                    for c in changes],
        "state": state(),
    }


class _Undo(Exception):
    pass


def both(rows: list[dict]) -> tuple[dict, dict]:
    """(set-based, row by row) outcomes of the same rows from the same state; the state left is row by row's."""
    try:
        with transaction.atomic():
            with cached_references():
                set_based = outcome(lambda: OBSERVATION.bulk_upsert(rows, actor=ACTOR))
            raise _Undo
    except _Undo:
        pass
    with transaction.atomic(), cached_references():
        row_by_row = outcome(lambda: _upsert_row_by_row(rows, actor=ACTOR))
    return set_based, row_by_row


def test_creates(world):
    rows = [row(), row(kind="target", comparator="at_least", period_label="2024 target"), row(region="nanguan"),
            row(period_start="2025-01-01", period_end="2025-12-31", period_label="2025",
                citations=[str(world[GRAIN].uid)])]
    set_based, row_by_row = both(rows)
    assert set_based == row_by_row
    assert [op for _, op in set_based["writes"]] == ["create"] * 4


def test_updates_restores_unchanged_and_new_citations(world):
    first = observation_bulk_upsert(rows=[row(), row(region="nanguan"), row(kind="target", period_label="t"),
                                          row(period_start="2025-01-01", period_end="2025-12-31")], actor=ACTOR)
    deleted = first[1].record
    from indicators.services import observation_delete
    observation_delete(key=deleted.uid, actor=ACTOR)
    rows = [
        row(period_label="2024 (year)"),                                    # update
        row(region="nanguan"),                                              # restore
        row(kind="target", period_label="t"),                               # unchanged
        row(period_start="2025-01-01", period_end="2025-12-31",             # links: one new citation, made inline
            citations=[quote(GRAIN), quote("259.9亿斤"), {**quote(GRAIN), "garbled": False}]),
        row(period_start="2024-07-01", period_end="2024-12-31", period_label="H2", measure="total",
            citations=[quote("达到259.9")]),                                   # create, with a new citation
        row(period_start="2024-01-01", period_end="2024-06-30", preferred=False, disputed=True,
            dispute_note="another report", value="259.9", citations=[quote("259.9")]),  # an alternative figure
    ]
    set_based, row_by_row = both(rows)
    assert set_based == row_by_row
    assert [op for _, op in set_based["writes"]] == ["update", "restore", None, "update", "create", "create"]
    assert [c[:3] for c in set_based["changes"]][:4] == [
        ("observation", first[0].record.public_id, "update"), ("observation", deleted.public_id, "restore"),
        ("citation", set_based["changes"][2][1], "create"), ("observation", first[3].record.public_id, "update")]


def test_links_removed_and_added(world):
    observation_bulk_upsert(rows=[row(citations=[quote(GRAIN), quote("259.9亿斤")])], actor=ACTOR)
    set_based, row_by_row = both([row(citations=[quote("259.9亿斤"), quote("达到259.9")])])
    assert set_based == row_by_row and set_based["changes"][-1][2] == "update"


@pytest.mark.parametrize("case", ["bad row", "repeated row", "deleted citation", "garbled changed", "unknown key"])
def test_it_declines_what_it_does_not_write_as_upsert_does(world, case):
    """Declined, then written row by row: the same result as before (an error, or a write)."""
    rows = [row(citations=[quote("259.9亿斤")]), row(region="nanguan")]
    if case == "bad row":
        rows.append(row(value="260", period_label="bad"))
    elif case == "repeated row":
        rows.append(row(period_label="again"))
    elif case == "deleted citation":
        citation_delete(key=world[GRAIN].uid, actor=ACTOR)
    elif case == "garbled changed":
        rows[1]["citations"] = [{**quote(GRAIN), "garbled": True}]
    else:
        rows[1]["citations"] = [str(world[GRAIN].uid), "0b8e6a1f-0000-4000-8000-000000000000"]
    with pytest.raises(NotSetBased), transaction.atomic(), cached_references():
        OBSERVATION.bulk_upsert(rows, actor=ACTOR)
    citations = Citation.objects.count()
    with new_changes() as changes:
        try:
            writes = observation_bulk_upsert(rows=rows, actor=ACTOR)
        except WriteError as exc:
            assert case in ("bad row", "repeated row", "unknown key"), exc
            assert changes == [] and Citation.objects.count() == citations and not Observation.objects.exists()
            return
    assert case in ("deleted citation", "garbled changed")
    assert [w.operation for w in writes] == ["create", "create"]
    assert [c.resource for c in changes] == ["citation", "observation", "citation", "observation"]
    assert changes[2].operation == ("restore" if case == "deleted citation" else "update")


def test_the_same_change_feed_as_row_by_row_on_this_backend(world):
    """The entries' transaction ids: the writing transaction's (PostgreSQL), in one INSERT."""
    with new_changes() as changes:
        observation_bulk_upsert(rows=[row(), row(region="nanguan")], actor=ACTOR)
    txids = {c.txid for c in changes}
    assert len(txids) == 1 and (None in txids) == (connection.vendor != "postgresql")
    assert Change.objects.filter(resource="observation").count() == 2


def test_a_constraint_only_the_database_sees_is_reported_as_row_by_row_reports_it(world):
    """An alternative figure made the preferred one beside the fact's preferred figure breaks
    observation_unique_fact, which no rule checks before the database: the set-based UPDATE raises an
    IntegrityError, rolled back to its savepoint, and row by row names the row and its fields."""
    from django.db import IntegrityError

    alternative = dict(preferred=False, disputed=True, dispute_note="another report")
    preferred, other = observation_bulk_upsert(rows=[row(), row(**alternative)], actor=ACTOR)
    assert preferred.record.uid != other.record.uid
    rows = [row(region="nanguan"), row(uid=str(other.record.uid), preferred=True, disputed=True,
                                       dispute_note="another report")]
    with pytest.raises(IntegrityError), transaction.atomic(), cached_references():
        OBSERVATION.bulk_upsert(rows, actor=ACTOR)
    with new_changes() as changes, pytest.raises(WriteError) as refused:
        observation_bulk_upsert(rows=rows, actor=ACTOR)
    assert changes == [] and Observation.objects.count() == 2
    assert [(e["index"], e["field"]) for e in refused.value.errors] == [
        (1, "indicator,region,period_start,period_end,kind,comparator")]


def test_a_citation_repeated_with_a_value_of_another_type_is_refused_as_row_by_row_refuses_it(world):
    """`{"offset": True}` equals `{"offset": 1}` in Python, but an offset is no boolean: the row is refused."""
    good = quote("259.9亿斤")
    rows = [row(citations=[good]), row(region="nanguan", citations=[{**good, "offset": float(good["offset"])}])]
    with pytest.raises(WriteError) as refused:
        observation_bulk_upsert(rows=rows, actor=ACTOR)
    assert [e["index"] for e in refused.value.errors] == [1]
    assert not Observation.objects.exists()
