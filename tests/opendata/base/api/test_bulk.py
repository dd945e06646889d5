"""POST /api/v1/observations/bulk/: every row upserted, or none with each bad row named by its index
and field; a summary of what was created, updated, restored and left unchanged."""

from __future__ import annotations

import pytest

from indicators.models import Observation
from opendata.base.api.writes import BulkUpsertMixin
from tests import api_helpers as h
from tests.write_api import call, issue, problem
from tests.write_helpers import new_changes, quote

pytestmark = pytest.mark.django_db
URL = "/api/v1/observations/bulk/"


@pytest.fixture
def key(world):
    return issue("bulk-loader", resources="observations", tier="bulk")[1]


def row(**changes) -> dict:
    return {"indicator": "grain-output", "region": "changchun", "period_start": "2024-01-01",
            "period_end": "2024-12-31", "period_label": "2024", "kind": "actual", "value": "259.9",
            "citations": [quote("粮食产量达到259.9亿斤")], **changes}


def test_every_row_is_written_and_summarised(client, key):
    rows = [row(), row(kind="target", comparator="at_least", value="259.9", period_label="2024 target"),
            row(region="nanguan")]
    with new_changes() as changes:
        response = call(client, "POST", URL, {"rows": rows}, key=key)
    assert response.status_code == 200, response.content
    summary = response.json()
    assert (summary["created"], summary["updated"], summary["restored"], summary["unchanged"]) == (3, 0, 0, 0)
    assert [r["index"] for r in summary["results"]] == [0, 1, 2]
    assert {r["operation"] for r in summary["results"]} == {"create"}
    assert response["Cache-Control"] == "no-store"
    for result in summary["results"]:
        got = h.get(client, result["url"])
        assert got.status_code == 200 and got.json()["uid"] == result["uid"]
        assert got["ETag"].startswith(result["etag"][:-1] + ".")
    assert sorted(c.operation for c in changes if c.resource == "observation") == ["create"] * 3
    # again, with one changed, one deleted meanwhile and one as it is
    deleted = summary["results"][2]
    assert call(client, "DELETE", deleted["url"], key=key, **{"If-Match": deleted["etag"]}).status_code == 200
    rows[0] = row(period_label="2024 (year)")
    with new_changes() as changes:
        again = call(client, "POST", URL, {"rows": rows}, key=key).json()
    assert (again["created"], again["updated"], again["restored"], again["unchanged"]) == (0, 1, 1, 1)
    assert [r["operation"] for r in again["results"]] == ["update", "unchanged", "restore"]
    assert [r["uid"] for r in again["results"]] == [r["uid"] for r in summary["results"]]
    assert sorted(c.operation for c in changes) == ["restore", "update"]


def test_all_or_nothing_with_each_bad_row_named(client, key):
    rows = [row(), row(value="260", period_label="bad value"), row(region="atlantis"), row()]
    with new_changes() as changes:
        data = problem(call(client, "POST", URL, {"rows": rows}, key=key), 422)
    assert changes == [] and not Observation.objects.exists()
    assert data["type"].endswith("/invalid-data")
    errors = {(e["index"], e["field"]) for e in data["errors"]}
    assert {(1, "value"), (2, "region"), (3, "uid")} <= errors
    assert all(e["index"] is not None for e in data["errors"])
    assert "merge the rows" in next(e["message"] for e in data["errors"] if e["index"] == 3)


def test_the_envelope_and_its_limits(client, key, monkeypatch):
    assert problem(call(client, "POST", URL, [row()], key=key), 422)["errors"][0]["message"].startswith(
        'expected a JSON object {"rows"')
    missing = problem(call(client, "POST", URL, {"row": [row()]}, key=key), 422)
    assert {(e["field"], e["message"]) for e in missing["errors"]} == {
        ("row", "unknown field (fields: rows)"), ("rows", "is required")}
    not_a_list = problem(call(client, "POST", URL, {"rows": {"0": row()}}, key=key), 422)
    assert not_a_list["errors"][0]["field"] == "rows"
    monkeypatch.setattr(BulkUpsertMixin, "max_bulk_rows", 2)
    too_many = problem(call(client, "POST", URL, {"rows": [row()] * 3}, key=key), 422)
    assert too_many["errors"] == [{"index": None, "field": "rows",
                                   "message": "3 rows: at most 2 per request; split them"}]
    monkeypatch.setattr(BulkUpsertMixin, "max_bulk_bytes", 500)
    assert problem(call(client, "POST", URL, {"rows": [row()] * 2}, key=key), 413)
    assert call(client, "POST", URL, {"rows": []}, key=key).json()["created"] == 0


def test_bulk_takes_more_than_a_single_write_and_an_idempotency_key(client, key, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000  # a single write's limit; bulk has its own
    rows = [row(period_label="2024 " + "年" * 150), row(region="nanguan", period_label="2024 " + "年" * 150)]
    assert problem(call(client, "POST", "/api/v1/observations/", rows[0], key=key), 413)
    first = call(client, "POST", URL, {"rows": rows}, key=key, **{"Idempotency-Key": "bulk-1"})
    again = call(client, "POST", URL, {"rows": rows}, key=key, **{"Idempotency-Key": "bulk-1"})
    assert first.status_code == again.status_code == 200 and again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true" and Observation.objects.count() == 2


def test_only_a_key_for_observations_writes_in_bulk(client, world):
    _, topics_only = issue("catalogue", resources="topics")
    assert problem(call(client, "POST", URL, {"rows": [row()]}, key=topics_only), 403)
    assert problem(call(client, "GET", URL), 405)
