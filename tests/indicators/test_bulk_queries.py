"""The statements of a bulk upsert of observations: the records its rows refer to (indicator, region,
unit, source and its periods, the citations) are read once per request, whatever the number of rows;
what remains is a fixed number of statements per row (its observation read, locked and written, its
citations linked, its change entry, and the savepoints that keep a bad row from undoing the others).
Not yet constant in the number of rows: see docs/performance.md ("Bulk upsert")."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from indicators.services import observation_bulk_upsert
from tests.write_helpers import quote

pytestmark = pytest.mark.django_db

#: Statements per row (create or update): the observation read (locked), its INSERT/UPDATE, its citation
#: links (INSERT, or read and replaced), its change entry, 2 savepoints (the row's, and the save's that
#: reports a constraint on its field: 4 statements).
PER_ROW = 8
REFERENCES = ("opendata_region", "indicators_indicator", "opendata_unit", "opendata_source",
              "opendata_sourceperiod", "opendata_citation")


def rows(n: int, label: str, first: int = 0) -> list[dict]:
    day = dt.date(2024, 1, 1) + dt.timedelta(days=first)
    return [{"indicator": "grain-output", "region": "changchun", "period_start": (day + dt.timedelta(days=i)).isoformat(),
             "period_end": "2025-12-31", "period_label": f"{label} {i}", "kind": "target", "comparator": "at_least",
             "value": "259.9", "citations": [quote("粮食产量达到259.9亿斤")]} for i in range(n)]


def statements(n: int, label: str, first: int) -> tuple[int, int]:
    """(statements, of which reads of referenced records) of one bulk upsert of `n` rows."""
    with CaptureQueriesContext(connection) as q:
        writes = observation_bulk_upsert(rows=rows(n, label, first), actor="tester")
    assert len(writes) == n
    references = sum(1 for x in q.captured_queries if x["sql"].startswith("SELECT") and " FROM " in x["sql"]
                     and x["sql"].split(" FROM ", 1)[1].split()[0].strip('"') in REFERENCES
                     and "observation_citations" not in x["sql"])  # not an observation's own links
    return len(q), references


@pytest.mark.parametrize("operation", ["create", "update"])
def test_references_are_read_once_and_each_row_costs_the_same(world, operation):
    if operation == "update":  # the same observations, written again with another label
        observation_bulk_upsert(rows=rows(110, "first"), actor="tester")
    ten, ten_references = statements(10, operation, 0)
    hundred, hundred_references = statements(100, operation, 10)
    assert ten_references == hundred_references <= 8
    assert hundred - ten == 90 * PER_ROW
