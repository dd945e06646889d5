"""REST v1 catalogue: API root, sources (with their text and facts), regions (with children), topics, units."""

from __future__ import annotations

import pytest

from opendata.base.services import record_soft_delete
from tests import api_helpers as h
from tests.factories import RegionFactory, SourceFactory, TopicFactory, UnitFactory

pytestmark = pytest.mark.django_db


def test_api_root_links_every_collection(client):
    data = h.ok(client, "/api/v1/")
    assert data["version"] == "v1"
    assert set(data["collections"]) == {"sources", "regions", "topics", "units", "indicators", "observations",
                                        "projects", "project_statuses", "events", "event_series", "changes"}
    for url in data["collections"].values():
        assert h.get(client, url).status_code == 200
    assert data["documentation"]["openapi"] == "http://testserver/api/v1/schema/"


def test_api_versions_listing(client):
    assert h.ok(client, "/api/")["versions"] == {"v1": "http://testserver/api/v1/"}


def test_sources_list_detail_and_text(client):
    SourceFactory(slug="b-report")
    SourceFactory(slug="a-plan", title_zh="规划纲要", title_en="Outline plan")
    data = h.ok(client, "/api/v1/sources/")
    assert [s["slug"] for s in data["results"]] == ["a-plan", "b-report"]  # by date, then slug
    assert "text" not in data["results"][0]
    detail = h.ok(client, "/api/v1/sources/a-plan/")
    assert detail["periods"] == [{"start": "2024-01-01", "end": "2025-12-31", "label": "2024–2025"}]
    assert detail["text_url"] == "http://testserver/api/v1/sources/a-plan/text/"
    assert "text" not in detail
    with_text = h.ok(client, "/api/v1/sources/a-plan/?expand=text")
    assert with_text["text"].startswith("全市粮食产量")
    text = h.get(client, "/api/v1/sources/a-plan/text/")
    assert text["Content-Type"] == "text/plain; charset=utf-8" and text.content.decode() == with_text["text"]
    assert [s["slug"] for s in h.ok(client, "/api/v1/sources/?q=规划")["results"]] == ["a-plan"]
    assert [s["slug"] for s in h.ok(client, "/api/v1/sources/?q=outline")["results"]] == ["a-plan"]


def test_source_filters_and_ordering(client):
    import datetime as dt

    SourceFactory(slug="old", date=dt.date(2020, 1, 1))
    SourceFactory(slug="new", date=dt.date(2025, 3, 1))
    assert [s["slug"] for s in h.ok(client, "/api/v1/sources/?date_from=2024")["results"]] == ["new"]
    assert [s["slug"] for s in h.ok(client, "/api/v1/sources/?date_to=2020")["results"]] == ["old"]
    assert [s["slug"] for s in h.ok(client, "/api/v1/sources/?slug=old,new&ordering=-date")["results"]] == ["new", "old"]


def test_deleted_source_detail_and_text_are_gone(client):
    source = SourceFactory(slug="withdrawn")
    record_soft_delete(record=source, actor="test")
    h.problem(client, "/api/v1/sources/withdrawn/", 410)
    h.problem(client, "/api/v1/sources/withdrawn/text/", 410)
    h.problem(client, "/api/v1/sources/withdrawn/observations/", 410)
    h.problem(client, "/api/v1/sources/missing/text/", 404)
    assert h.ok(client, "/api/v1/sources/")["results"] == []
    assert len(h.ok(client, "/api/v1/sources/?include_deleted=true")["results"]) == 1


def test_regions_children_and_sub_region_filters(client):
    city = RegionFactory()
    RegionFactory(code="chaoyang", name_zh="朝阳区", name_en="Chaoyang", kind="district", parent=city)
    RegionFactory(code="nong-an", name_zh="农安县", name_en="Nong'an", kind="county", parent=city)
    RegionFactory(code="jilin", name_zh="吉林省", name_en="Jilin", kind="province")
    assert [r["code"] for r in h.ok(client, "/api/v1/regions/changchun/children/")["results"]] == ["chaoyang", "nong-an"]
    detail = h.ok(client, "/api/v1/regions/chaoyang/?expand=parent")
    assert detail["parent"]["code"] == "changchun" and detail["kind"] == "district"
    assert h.ok(client, "/api/v1/regions/chaoyang/")["parent"] == "changchun"
    assert h.ok(client, "/api/v1/regions/jilin/")["parent"] is None
    assert [r["code"] for r in h.ok(client, "/api/v1/regions/?kind=county")["results"]] == ["nong-an"]
    assert [r["code"] for r in h.ok(client, "/api/v1/regions/?q=朝阳")["results"]] == ["chaoyang"]
    assert [r["code"] for r in h.ok(client, "/api/v1/regions/?parent=changchun&ordering=-code")["results"]] == [
        "nong-an", "chaoyang"]
    h.problem(client, "/api/v1/regions/?kind=village", 400)
    h.problem(client, "/api/v1/regions/atlantis/children/", 404)


def test_topics(client):
    TopicFactory(code="agriculture", name_zh="农业", name_en="Agriculture")
    TopicFactory(code="transport", name_zh="交通", name_en="Transport")
    assert [t["code"] for t in h.ok(client, "/api/v1/topics/?q=交通")["results"]] == ["transport"]
    assert h.ok(client, "/api/v1/topics/agriculture/")["name_en"] == "Agriculture"
    assert [t["code"] for t in h.ok(client, "/api/v1/topics/?ordering=-code")["results"]] == ["transport", "agriculture"]
    h.problem(client, "/api/v1/topics/none/", 404)


def test_units_by_symbol_as_written(client):
    from decimal import Decimal

    UnitFactory(symbol="亿元", name_en="hundred million yuan", base_unit="CNY", factor=Decimal("1e8"))
    UnitFactory(symbol="%", name_en="percent", base_unit="%", factor=Decimal(1))
    detail = h.ok(client, "/api/v1/units/%E4%BA%BF%E5%85%83/")
    assert detail["factor"] == "100000000" and detail["url"] == "http://testserver/api/v1/units/%E4%BA%BF%E5%85%83/"
    assert h.ok(client, "/api/v1/units/%25/")["name_en"] == "percent"
    assert [u["symbol"] for u in h.ok(client, "/api/v1/units/?base_unit=CNY")["results"]] == ["亿元"]
    assert [u["symbol"] for u in h.ok(client, "/api/v1/units/?q=percent")["results"]] == ["%"]


def test_catalogue_csv(client):
    TopicFactory(code="agriculture", name_zh="农业", name_en="Agriculture")
    text = h.body(h.get(client, "/api/v1/topics/?format=csv&fields=code,name_zh")).decode()
    assert text == "code,name_zh\r\nagriculture,农业\r\n"
    one = h.get(client, "/api/v1/topics/agriculture/?format=csv&fields=code,name_zh&bom=true")
    assert one.content.decode("utf-8") == "\ufeffcode,name_zh\r\nagriculture,农业\r\n"


@pytest.mark.parametrize("accept", ["text/plain", "text/plain; charset=utf-8", "text/*", "*/*", None])
def test_source_text_answers_a_client_asking_for_text_plain(client, accept):
    SourceFactory(slug="a-plan")
    response = h.get(client, "/api/v1/sources/a-plan/text/", **({"Accept": accept} if accept else {}))
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content.decode().startswith("全市粮食产量")
    assert response["ETag"] and "Accept" in response["Vary"]


def test_source_text_refuses_json_naming_the_one_format_it_has(client):
    SourceFactory(slug="a-plan")
    problem = h.problem(client, "/api/v1/sources/a-plan/text/", 406, Accept="application/json")
    assert problem["available_formats"] == ["text/plain"] and "text/plain" in problem["how_to_fix"]
