"""Issue 14: `q` finds what people type: `|` between alternatives, English words matched as words."""

from __future__ import annotations

import pytest

from opendata.base.filters import text_search_q
from tests import api_helpers as h
from tests.opendata.base.graphql.helpers import gql

pytestmark = pytest.mark.django_db


def slugs(client, q, collection="projects"):
    return [r["slug" if collection == "projects" else "code"]
            for r in h.ok(client, f"/api/v1/{collection}/?q={q}&page_size=100")["results"]]


METRO = ["changchun-metro-line-2-east-extension", "changchun-metro-line-5", "changchun-metro-line-6",
         "changchun-metro-line-7"]


def test_or_between_alternatives(client, loaded_db):
    assert slugs(client, "地铁") == ["changchun-metro-line-6"]
    assert slugs(client, "地铁|轨道") == sorted({"changchun-metro-line-6", *slugs(client, "轨道")})
    assert "changchun-rail-transit-line-3-renovation" in slugs(client, "地铁|轨道")
    assert slugs(client, "地铁|") == slugs(client, "地铁")  # an empty alternative adds nothing


def test_english_words_match_as_words(client, loaded_db):
    assert slugs(client, "metro") == METRO  # not "changchun-modern-metropolitan-area"
    assert "changchun-modern-metropolitan-area" in slugs(client, "metropolitan")
    assert slugs(client, "METRO line") == METRO  # case-insensitive; every term must occur
    assert slugs(client, "changchun-metro-line-6") == ["changchun-metro-line-6"]
    assert "hongqi-green-intelligent-auto-town" in slugs(client, "汽车")  # 红旗绿色智能汽车小镇: a substring


def test_indicators_and_graphql_read_the_same_rule(client, loaded_db):
    growth = slugs(client, "grain|tourist", collection="indicators")
    assert "grain-output" in growth and "tourist-visits-growth" in growth
    data = gql(client, '{ projects(q: "metro|地铁") { nodes { slug } } }')
    assert [n["slug"] for n in data["projects"]["nodes"]] == METRO


def test_the_rule_builds_one_query_for_at_most_ten_terms():
    q = text_search_q("a b c d e f|g h i j k l m", ("name_en",))
    assert str(q).count("name_en__") == 10
