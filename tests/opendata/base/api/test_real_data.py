"""The real fixtures through the API: every collection lists, the first record of each has a working
detail, every citation's quote is found at its offset of the source text served by the API."""

from __future__ import annotations

import pytest

from tests import api_helpers as h

COLLECTIONS = ["sources", "regions", "topics", "units", "indicators", "observations", "projects",
               "project-statuses", "events", "event-series"]


@pytest.mark.parametrize("collection", COLLECTIONS)
def test_every_collection_and_its_first_detail(client, loaded_db, collection):
    rows = h.ok(client, f"/api/v1/{collection}/?page_size=5")["results"]
    if rows:
        assert h.get(client, rows[0]["url"]).status_code == 200


def test_citations_point_at_their_quotes(client, loaded_db):
    texts: dict[str, str] = {}
    data = h.ok(client, "/api/v1/observations/?page_size=1000")
    for row in data["results"]:
        for c in row["citations"]:
            if c["source"] not in texts:
                texts[c["source"]] = h.get(client, c["text_url"].split("#")[0]).content.decode()
            text = texts[c["source"]]
            assert text[c["offset"]:c["offset"] + len(c["quote"])] == c["quote"]
