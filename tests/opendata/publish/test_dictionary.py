"""The data dictionary: generated from the code, committed in docs/ (no drift), served at
/api/v1/dictionary/, and complete: every field of every serializer, every filter of every FilterSet."""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings

from opendata.publish import dictionary
from opendata.publish.resources import collections

DOCS = Path(settings.BASE_DIR) / "docs"


def test_the_committed_dictionary_is_the_generated_one():
    data = dictionary.build()
    assert (DOCS / "dictionary.json").read_text(encoding="utf-8") == dictionary.to_json(data), \
        "docs/dictionary.json is stale: run `make schema`"
    assert (DOCS / "dictionary.md").read_text(encoding="utf-8") == dictionary.to_markdown(data), \
        "docs/dictionary.md is stale: run `make schema`"


def test_every_field_and_filter_is_in_the_dictionary():
    data = {r["name"]: r for r in dictionary.build()["resources"]}
    assert set(data) == {c.name for c in collections()}
    for c in collections():
        fields = {f["name"] for f in data[c.name]["fields"]}
        assert fields == set(c.serializer_class(context={"request": None}).fields), c.name
        assert {f["name"] for f in data[c.name]["filters"]} == set(c.filterset_class.base_filters) | {"ordering"}
    observation = {f["name"]: f for f in data["observations"]["fields"]}
    assert [v["value"] for v in observation["comparator"]["allowed_values"]] == ["exact", "at_least", "at_most",
                                                                                  "about"]
    assert observation["value"]["type"] == "decimal (string)"
    citation = {f["name"]: f for f in observation["citations"]["fields"]}
    assert citation["garbled"]["type"] == "boolean" and "garbled" in dictionary.build()["garbled"]


def test_units_come_from_the_fixtures():
    units = {u["symbol"]: u for u in dictionary.build()["units"]}
    assert units["亿元"] == {"symbol": "亿元", "name_en": "hundred million yuan", "base_unit": "CNY",
                            "factor": "100000000"}


def test_every_field_has_a_meaning():
    def walk(fields, at):
        for f in fields:
            assert f["description"], f"{at}.{f['name']} has no meaning: give it a help_text"
            walk(f.get("fields", []), f"{at}.{f['name']}")
    for r in dictionary.build()["resources"]:
        walk(r["fields"], r["name"])


def test_every_filter_is_in_the_rest_guide():
    """docs/rest.md names every filter of every collection (has_target was missing)."""
    text = (DOCS / "rest.md").read_text(encoding="utf-8")
    guide = text[text.index("## Filtering"):text.index("## Pages, ordering, counts")]
    missing = sorted({f["name"] for r in dictionary.build()["resources"] for f in r["filters"]
                      if f"`{f['name']}" not in guide})
    assert not missing, f"docs/rest.md does not mention: {missing}"
    assert "`garbled: true`" in text


def test_served_at_the_api(client):
    response = client.get("/api/v1/dictionary/")
    assert response.status_code == 200
    assert json.loads(response.content) == json.loads(dictionary.to_json(dictionary.build()))
    assert client.get("/api/v1/dictionary/", HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304
    bad = client.get("/api/v1/dictionary/?page=2")
    assert bad.status_code == 400 and bad["Content-Type"] == "application/problem+json"
