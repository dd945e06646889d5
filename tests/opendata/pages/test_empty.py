"""The pages on a database with nothing loaded yet (a fresh `make migrate`): they answer, and say so."""

import pytest

pytestmark = pytest.mark.django_db


def test_the_landing_page_counts_nothing_and_offers_no_made_up_request(client):
    page = client.get("/").content.decode()
    assert "<strong>0</strong> indicators" in page
    assert "A first request" not in page


@pytest.mark.parametrize("path", ["/indicators/", "/projects/", "/events/", "/sources/", "/regions/"])
def test_the_pages_answer_on_an_empty_database(client, path):
    response = client.get(path)
    assert response.status_code == 200
