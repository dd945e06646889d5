"""The benchmark's hot paths (docs/performance.md, R1-R6) issue a fixed number of SQL statements, pinned
here; and an indicator's detail is bounded (R3)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import override_settings

from indicators.models import Observation
from indicators.selectors import TARGETS_EMBEDDED
from tests import api_helpers as h
from tests.factories import IndicatorFactory, ObservationFactory, RegionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def series():
    """An indicator with 120 targets beside 120 results, two citations each; another indicator beside."""
    indicator, region = IndicatorFactory(), RegionFactory()
    cites = h.citations()
    for year in range(1900, 1900 + 120):
        for kind in ("target", "actual"):
            o = ObservationFactory(indicator=indicator, region=region, kind=kind, period_start=dt.date(year, 1, 1),
                                   period_end=dt.date(year, 12, 31), period_label=str(year),
                                   value=100 + (year % 7) if kind == "actual" else 103)
            o.citations.add(*cites)
    h.observations(5)
    return indicator


def test_r1_and_r2_a_page_of_one_indicator_is_four_statements(client, series, django_assert_num_queries):
    url = f"/api/v1/observations/?indicator={series.code}&ordering=period_start&page_size=100"
    # the data stamp (ETag), the indicator's id, the page, its citations
    with django_assert_num_queries(4):
        page = h.ok(client, url)
    assert len(page["results"]) == 100 and all(len(r["citations"]) == 2 for r in page["results"])
    with django_assert_num_queries(4):
        deeper = h.ok(client, page["next"])
    assert len(deeper["results"]) == 100
    with django_assert_num_queries(5):  # and the parent's check
        h.ok(client, f"/api/v1/indicators/{series.code}/observations/?page_size=100")


def test_r5_a_revalidation_is_one_statement(client, series, django_assert_num_queries):
    url = f"/api/v1/observations/?indicator={series.code}&ordering=period_start&page_size=100"
    etag = h.get(client, url)["ETag"]
    with django_assert_num_queries(1):
        assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304


def test_r3_an_indicator_s_detail_embeds_at_most_25_targets_with_their_count_and_link(
        client, series, django_assert_num_queries):
    # the record's version and the data stamp (ETag), the indicator, its first targets, the results within
    # their periods, the citations of the targets and of the results paired with them (one query), the count
    with django_assert_num_queries(7):
        detail = h.ok(client, f"/api/v1/indicators/{series.code}/")
    assert len(detail["targets"]) == TARGETS_EMBEDDED == 25
    assert detail["targets_count"] == 120
    assert detail["targets_url"].endswith(f"/api/v1/indicators/{series.code}/observations/?kind=target")
    years = [t["target"]["period_label"] for t in detail["targets"]]
    assert years == [str(y) for y in range(1900, 1925)]  # the first 25 in period order
    assert all(t["result"] and t["result"]["period_label"] == t["target"]["period_label"] for t in detail["targets"])
    with override_settings(API_FAST_PATH=False):  # DRF's serializers write the same bytes
        assert client.get(f"/api/v1/indicators/{series.code}/").content == h.get(
            client, f"/api/v1/indicators/{series.code}/").content
    listed = h.ok(client, detail["targets_url"] + "&page_size=1000")["results"]
    assert len(listed) == 120 and {r["kind"] for r in listed} == {"target"}


def test_r3_a_short_list_is_counted_without_a_query(client, db, django_assert_num_queries):
    indicator = IndicatorFactory()
    ObservationFactory(indicator=indicator, kind=Observation.Kind.TARGET)
    ObservationFactory(indicator=indicator, kind=Observation.Kind.ACTUAL)
    with django_assert_num_queries(6):
        detail = h.ok(client, f"/api/v1/indicators/{indicator.code}/")
    assert detail["targets_count"] == 1 and detail["targets"][0]["met"] is True
    without = IndicatorFactory()
    with django_assert_num_queries(4):  # the version, the stamp, the indicator, no target (no result to look for)
        assert h.ok(client, f"/api/v1/indicators/{without.code}/")["targets"] == []
