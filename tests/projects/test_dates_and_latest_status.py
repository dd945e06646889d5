"""Issue 14: an event's date says its precision (`date_label`), and a project's latest status, REST and GraphQL."""

from __future__ import annotations

import datetime as dt

import pytest

from projects.models import Event, ProjectStatus
from projects.selectors import latest_status
from tests import api_helpers as h
from tests.opendata.base.graphql.helpers import gql


def event(start, start_precision, end=None, end_precision=""):
    return Event(start_date=start, start_precision=start_precision, end_date=end, end_precision=end_precision)


@pytest.mark.parametrize(("e", "label", "precision", "first", "last"), [
    (event(dt.date(2025, 1, 1), "year"), "2025", "year", dt.date(2025, 1, 1), dt.date(2025, 12, 31)),
    (event(dt.date(2025, 3, 1), "month"), "2025-03", "month", dt.date(2025, 3, 1), dt.date(2025, 3, 31)),
    (event(dt.date(2025, 2, 28), "day"), "2025-02-28", "day", dt.date(2025, 2, 28), dt.date(2025, 2, 28)),
    (event(dt.date(2025, 8, 20), "day", dt.date(2025, 8, 24), "day"), "2025-08-20/2025-08-24", "day",
     dt.date(2025, 8, 20), dt.date(2025, 8, 24)),
    (event(dt.date(2024, 9, 1), "month", dt.date(2024, 9, 5), "day"), "2024-09/2024-09-05", "month",
     dt.date(2024, 9, 1), dt.date(2024, 9, 5)),
    (event(dt.date(2022, 1, 1), "year", dt.date(2026, 1, 1), "year"), "2022–2026", "period",
     dt.date(2022, 1, 1), dt.date(2026, 12, 31)),
])
def test_an_events_date_says_its_precision(e, label, precision, first, last):
    assert (e.date_label, e.date_precision, e.date_start, e.date_end) == (label, precision, first, last)


def status(stage, kind, year_start, year_end=None, pk=1):
    return ProjectStatus(id=pk, status=stage, kind=kind, date_start=dt.date(year_start, 1, 1),
                         date_end=dt.date(year_end or year_start, 12, 31))


def test_the_latest_status_is_the_latest_date_then_the_later_stage():
    rows = [status("construction_started", "actual", 2023, pk=1), status("completed", "actual", 2024, pk=2),
            status("in_operation", "actual", 2024, pk=3), status("in_operation", "target", 2026, pk=4)]
    assert latest_status(rows).id == 3
    assert latest_status(rows, kind="target").id == 4
    assert latest_status([]) is None


@pytest.mark.django_db
def test_a_projects_latest_status_is_on_the_project_and_filters_it(client, loaded_db):
    data = h.ok(client, "/api/v1/projects/?latest_status=trial_operation&fields=slug,latest_status")
    [train] = data["results"]
    assert train["slug"] == "crrc-hydrogen-suburban-train"
    assert train["latest_status"]["status"] == "trial_operation"
    assert train["latest_status"]["citations"][0]["quote"] == "中车长客首列氢能源市域列车试运行"
    one = h.ok(client, "/api/v1/projects/vehicle-road-cloud-integration-pilot/")
    assert (one["latest_status"]["status"], one["latest_planned_status"]["status"]) == ("selected", "under_construction")
    selected = h.ok(client, "/api/v1/projects/?latest_status=selected&fields=slug")["results"]
    assert [p["slug"] for p in selected] == ["lianhua-island-film-culture-industrial-park",
                                             "national-climate-adaptive-city-pilot",
                                             "vehicle-road-cloud-integration-pilot"]
    problem = h.problem(client, "/api/v1/projects/?latest_status=done", 400)
    assert "approved, selected, trial_operation" in problem["detail"]


@pytest.mark.django_db
def test_graphql_latest_status_and_event_dates(client, loaded_db, django_assert_max_num_queries):
    query = """{ projects(latestStatus: approved) { nodes { slug latestStatus { status dateLabel } } }
                 events(first: 50) { nodes { slug dateLabel datePrecision startDate dateEnd } } }"""
    with django_assert_max_num_queries(6):
        data = gql(client, query)
    assert data["projects"]["nodes"] == [
        {"slug": "sika-deer-industry-cluster", "latestStatus": {"status": "approved", "dateLabel": "2024"}}]
    campaign = next(e for e in data["events"]["nodes"] if e["slug"] == "work-safety-responsibility-year-2025")
    assert campaign == {"slug": "work-safety-responsibility-year-2025", "dateLabel": "2025", "datePrecision": "year",
                        "startDate": "2025-01-01", "dateEnd": "2025-12-31"}


@pytest.mark.django_db
def test_rest_events_carry_the_date_label(client, loaded_db):
    e = h.ok(client, "/api/v1/events/work-safety-responsibility-year-2025/")
    assert (e["start_date"], e["date_label"], e["date_precision"], e["date_end"]) == (
        "2025-01-01", "2025", "year", "2025-12-31")
