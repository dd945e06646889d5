"""The statements of a bulk upsert of observations (set-based: `Writer.bulk_upsert`): the same number for
10, 100 and 1,000 rows, whether they create, update, or both, and whatever the citations they make
(docs/performance.md, "Bulk upsert"). On PostgreSQL every write is one statement (`bulk_batch_size`); on
SQLite Django splits the INSERTs and UPDATEs in batches of its 999 variables, and only those grow."""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from indicators.models import Observation
from indicators.services import observation_bulk_upsert
from opendata.base.models import Change
from opendata.catalogue.models import Citation
from tests.write_helpers import SOURCE, new_changes, quote

pytestmark = pytest.mark.django_db

#: On PostgreSQL, whatever the rows: the savepoint (2), the references (indicator, region, unit, citation
#: source and its periods: 5 at most), the citations (read, insert), the observations (read locked, their
#: citations prefetched), the INSERT, the UPDATE, the links (DELETE, INSERT), the change entries (txid,
#: the newer entries it follows, INSERT).
MAX_STATEMENTS = 22

COMPARATORS = ["exact", "at_least", "at_most", "about"]


def rows(n: int, label: str, *, first: int = 0) -> list[dict]:
    """`n` observations of 2024-2025 (the source's periods): the `first`+i-th of a series of distinct ones."""
    out = []
    for g in range(first, first + n):
        day = dt.date(2024, 1, 1) + dt.timedelta(days=g % 700)
        out.append({"indicator": "grain-output", "region": "changchun", "period_start": day.isoformat(),
                    "period_end": "2025-12-31", "period_label": f"{label} {g}", "kind": "target",
                    "comparator": COMPARATORS[g // 700], "value": "259.9",
                    "citations": [quote("粮食产量达到259.9亿斤")]})
    return out


def run(batch: list[dict]) -> tuple[int, Counter]:
    """(statements, writes by kind and table) of one bulk upsert."""
    with CaptureQueriesContext(connection) as q:
        writes = observation_bulk_upsert(rows=batch, actor="tester")
    assert len(writes) == len(batch)
    kinds = Counter()
    for x in q.captured_queries:
        sql = x["sql"]
        verb = sql.split(None, 1)[0].upper()
        if verb in ("INSERT", "UPDATE", "DELETE"):
            words = sql.split(None, 3)
            table = (words[2] if verb == "INSERT" else words[1] if verb == "UPDATE"
                     else sql.split(" FROM ", 1)[1].split()[0]).strip('"')
            kinds[(verb, table)] += 1
    return len(q), kinds


def batches(kinds: Counter) -> int:
    """Statements beyond one per kind of write (SQLite's batches)."""
    return sum(n - 1 for n in kinds.values())


def check(counts: dict[int, tuple[int, Counter]]) -> None:
    (first, first_kinds), *others = counts.values()
    for n, (total, kinds) in counts.items():
        assert set(kinds) == set(first_kinds), n
        if connection.vendor == "postgresql":
            assert total == first and batches(kinds) == 0, (n, kinds)
            assert total <= MAX_STATEMENTS
        else:  # Django's batches of 999 variables (at most 2 x 20 a row): only they grow
            assert total - batches(kinds) == first - batches(first_kinds), n
            assert all(count <= math.ceil(n * 40 / 999) for count in kinds.values()), (n, kinds)


@pytest.mark.parametrize("operation", ["create", "update", "mixed"])
def test_the_statements_do_not_grow_with_the_rows(world, operation):
    counts = {}
    first = 0
    for n in (10, 100, 1000):
        if operation == "update":  # the same observations, written again with another label
            observation_bulk_upsert(rows=rows(n, "first", first=first), actor="tester")
            batch = rows(n, "again", first=first)
        elif operation == "mixed":  # half of them new
            observation_bulk_upsert(rows=rows(n // 2, "first", first=first), actor="tester")
            batch = rows(n, "again", first=first)
        else:
            batch = rows(n, "new", first=first)
        counts[n] = run(batch)
        first += n
    check(counts)
    assert Observation.objects.count() == 1110


def test_citations_made_inline_cost_no_statement_a_row(world):
    """Rows citing citations given inline, some new (another clause around the value each), some twice,
    one with `garbled` as it is: one read and one INSERT of the citations, whatever the rows."""
    text = "粮食产量达到259.9亿斤"
    at = text.index("259.9")
    clauses = [text[a:b] for a in range(at + 1) for b in range(at + 5, len(text) + 1)]  # 21, each with 259.9
    counts = {}
    for n, start in ((10, 0), (100, 10)):
        batch = rows(n, "cited", first=start)
        for i, row in enumerate(batch):
            row["citations"] = [quote(clauses[(start + i) % len(clauses)]), {**quote(text), "garbled": False}]
        with new_changes() as changes:
            counts[n] = run(batch)
        made = [c.key for c in changes if c.resource == "citation"]
        assert made and len(made) == len(set(made)) and {c.operation for c in changes} == {"create"}
    check(counts)
    assert set(Citation.objects.filter(source__slug=SOURCE).values_list("quote", flat=True)) >= set(clauses)
    assert Change.objects.filter(resource="observation").count() == 110
