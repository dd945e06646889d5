"""HTTP validators on every GET: ETag and Last-Modified, 304 on a match before any data query."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests import api_helpers as h
from tests.factories import ObservationFactory, TopicFactory

pytestmark = pytest.mark.django_db

URLS = ["/api/v1/", "/api/v1/observations/", "/api/v1/topics/", "/api/v1/topics/t/", "/api/v1/sources/s/text/",
        "/api/v1/schema/", "/api/v1/docs/", "/api/v1/redoc/", "/api/v1/observations/?format=csv"]


@pytest.fixture
def data():
    from tests.factories import SourceFactory

    ObservationFactory()
    TopicFactory(code="t")
    SourceFactory(slug="s")


@pytest.mark.parametrize("url", URLS)
def test_every_get_has_validators_and_answers_304(client, data, url):
    first = h.get(client, url)
    assert first.status_code == 200
    etag, last_modified = first["ETag"], first["Last-Modified"]
    again = h.get(client, url, **{"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again["ETag"] == etag
    assert h.get(client, url, **{"If-Modified-Since": last_modified}).status_code == 304
    assert h.get(client, url, **{"If-None-Match": '"something-else"'}).status_code == 200


def test_304_costs_one_small_query(client, data):
    etag = h.get(client, "/api/v1/observations/?expand=indicator")["ETag"]
    with CaptureQueriesContext(connection) as ctx:
        assert h.get(client, "/api/v1/observations/?expand=indicator", **{"If-None-Match": etag}).status_code == 304
    assert len(ctx.captured_queries) == 1
    assert "MAX" in ctx.captured_queries[0]["sql"].upper()


def test_etag_changes_with_the_data_the_url_and_the_format(client, data):
    url = "/api/v1/observations/"
    etag = h.get(client, url)["ETag"]
    assert h.get(client, url + "?kind=actual")["ETag"] != etag
    assert h.get(client, url, Accept="text/csv")["ETag"] != etag
    assert h.get(client, url + "?page_size=50")["ETag"] != etag
    # the order of parameters does not matter
    assert h.get(client, url + "?kind=actual&page_size=5")["ETag"] == h.get(client, url + "?page_size=5&kind=actual")["ETag"]
    ObservationFactory(period_label="2023")
    changed = h.get(client, url, **{"If-None-Match": etag})
    assert changed.status_code == 200 and changed["ETag"] != etag


def test_etag_changes_when_a_cited_source_changes(client, data):
    from opendata.catalogue.models import Source

    etag = h.get(client, "/api/v1/observations/")["ETag"]
    source = Source.objects.get(slug="s")
    source.title_en = "Renamed"
    source.save()
    assert h.get(client, "/api/v1/observations/", **{"If-None-Match": etag}).status_code == 200


def test_errors_carry_no_validators(client, data):
    response = h.get(client, "/api/v1/observations/?kind=maybe")
    assert response.status_code == 400 and "ETag" not in response


def test_if_none_match_star_is_304_only_for_a_record_that_exists(client, data):
    """Found by the contract fuzzing: `If-None-Match: *` made any key a 304 (a missing record included), and
    any list a 304 whatever its parameters."""
    from opendata.catalogue.services import topic_delete

    star = {"If-None-Match": "*"}
    assert h.get(client, "/api/v1/topics/t/", **star).status_code == 304
    assert h.get(client, "/api/v1/topics/no-such-topic/", **star).status_code == 404
    assert h.get(client, "/api/v1/regions/%C2%9D/", **star).status_code == 404
    assert h.get(client, "/api/v1/topics/", **star).status_code == 304
    assert h.get(client, "/api/v1/topics/?cursor=d%C3%A5v", **star).status_code == 400  # bad parameters: their 400
    assert h.get(client, "/api/v1/sources/?date_to=nope", **star).status_code == 400
    topic_delete(key="t", actor="test")
    assert h.get(client, "/api/v1/topics/t/", **star).status_code == 410
