"""REST and GraphQL: the targets collection with each target's state, on the real fixtures (issue 14)."""

from __future__ import annotations

import pytest

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests import api_helpers as h
from tests.opendata.base.graphql.helpers import gql

pytestmark = pytest.mark.django_db


def test_which_targets_were_met(client, loaded_db):
    data = h.ok(client, "/api/v1/targets/?state=met")
    assert [(t["indicator"], t["period_label"], t["value"], t["state"]) for t in data["results"]] == [
        ("livelihood-projects", "2024", "51", "met")]
    met = data["results"][0]
    assert met["kind"] == "target" and met["progress"] == "1" and met["compared_value"] == "51"
    assert [r["value"] for r in met["results"]] == ["51"]
    assert met["result_at_end"]["period_label"] == "2024"
    assert met["citations"][0]["quote"] == "年初承诺的51件民生实事"


def test_every_target_has_a_state_and_the_states_filter(client, loaded_db):
    everything = h.ok(client, "/api/v1/targets/?page_size=500&fields=uid,state,progress,results")["results"]
    assert len(everything) == 152
    assert {t["state"] for t in everything} <= {"met", "not_met", "on_track", "achieved_early", "unknown"}
    assert all(t["progress"] is not None for t in everything if t["results"])
    early = h.ok(client, "/api/v1/targets/?state=achieved_early&fields=indicator,state_reason,stated_by")["results"]
    assert [(t["indicator"], t["stated_by"] and t["stated_by"]["value"]) for t in early] == [
        ("county-gdp-share", "24.1"), ("high-tech-enterprises", None)]
    assert h.ok(client, "/api/v1/targets/?state=not_met")["results"] == []


def test_a_bad_state_is_a_problem_naming_the_states(client, loaded_db):
    problem = h.problem(client, "/api/v1/targets/?state=done", 400)
    assert "met, not_met, on_track, achieved_early, unknown" in problem["detail"]


def test_a_target_and_the_indicator_show_the_same_evaluation(client, loaded_db):
    listed = h.ok(client, "/api/v1/targets/?indicator=grain-output&period_from=2026")["results"]
    assert [(t["value"], t["measure"], t["progress"], t["state"]) for t in listed] == [("270", "level", "0.9626", "unknown")]
    one = h.ok(client, f"/api/v1/targets/{listed[0]['uid']}/")
    assert one["progress"] == "0.9626" and one["latest_result"]["value"] == "259.9"  # the preferred figure
    indicator = h.ok(client, "/api/v1/indicators/grain-output/")
    pair = next(t for t in indicator["targets"] if t["target"]["uid"] == one["uid"])
    assert (pair["progress"], pair["state"], pair["state_reason"]) == (one["progress"], one["state"], one["state_reason"])


def test_a_page_of_targets_costs_the_same_queries_whatever_its_size(client, loaded_db):
    """The page, its citations, the results of its targets' indicators (one query) and their citations."""
    counts = []
    for size in (20, 200):
        with CaptureQueriesContext(connection) as ctx:
            h.ok(client, f"/api/v1/targets/?page_size={size}")
        counts.append(len(ctx.captured_queries))
    assert counts == [5, 5]


def test_observations_say_disputed_and_mrv_reads_the_preferred_figure(client, loaded_db):
    rows = h.ok(client, "/api/v1/observations/?indicator=tourist-visits-growth&period_from=2024&period_to=2024")["results"]
    assert sorted((r["value"], r["disputed"], r["preferred"]) for r in rows) == [("15.6", True, True), ("17", True, False)]
    assert all("preferred" in r["dispute_note"] for r in rows)
    latest = h.ok(client, "/api/v1/observations/?indicator=tourist-visits-growth,grain-output&kind=actual&mrv=1")
    assert sorted((r["indicator"], r["value"]) for r in latest["results"]) == [
        ("grain-output", "259.9"), ("tourist-visits-growth", "15.6")]


def test_graphql_targets_with_their_evaluation(client, loaded_db):
    data = gql(client, """{ targets(state: met) { nodes { value indicator { code }
        targetEvaluation { state progress comparedValue stateReason results { value periodLabel } } } }
        indicator(code: "county-gdp-share") { targets { state statedBy { value citations { nodes { quote } } } } } }""")
    node = data["targets"]["nodes"][0]
    assert (node["indicator"]["code"], node["value"]) == ("livelihood-projects", "51")
    assert node["targetEvaluation"]["state"] == "met" and node["targetEvaluation"]["progress"] == "1"
    assert node["targetEvaluation"]["results"] == [{"value": "51", "periodLabel": "2024"}]
    [county] = data["indicator"]["targets"]
    assert county["state"] == "achieved_early"
    assert "提前完成" in county["statedBy"]["citations"]["nodes"][0]["quote"]
