"""REST v1: indicators (with targets beside results) and observations: lists, details, every filter,
ordering, keyset pages, sparse fields and embedding, exports."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal

import pytest
from django.utils import timezone

from opendata.base.services import record_soft_delete
from tests import api_helpers as h
from tests.factories import IndicatorFactory, ObservationFactory, RegionFactory, SourceFactory, TopicFactory, UnitFactory

pytestmark = pytest.mark.django_db


def obs(indicator, year, kind="actual", value="1", comparator="exact", region=None, **kw):
    return ObservationFactory(indicator=indicator, kind=kind, value=Decimal(value), comparator=comparator,
                              period_start=dt.date(year, 1, 1), period_end=dt.date(year, 12, 31),
                              period_label=str(year), region=region or RegionFactory(), **kw)


@pytest.fixture
def world():
    agriculture = TopicFactory(code="agriculture", name_zh="农业", name_en="Agriculture")
    industry = TopicFactory(code="industry", name_zh="工业", name_en="Industry")
    city = RegionFactory()
    district = RegionFactory(code="chaoyang", name_zh="朝阳区", name_en="Chaoyang", kind="district", parent=city)
    grain = IndicatorFactory(code="grain-output", name_zh="粮食产量", name_en="Grain output", topic=agriculture)
    cars = IndicatorFactory(code="nev-output", name_zh="新能源汽车产量", name_en="New-energy vehicle output",
                            topic=industry, unit=UnitFactory(symbol="万辆", name_en="ten thousand vehicles",
                                                             base_unit="vehicles", factor=Decimal(10000)))
    plan = SourceFactory(slug="2025-plan")
    report = SourceFactory(slug="2024-report")
    g24 = obs(grain, 2024, value="259.9")
    g24.citations.add(*h.citations(report, 1))
    g25t = obs(grain, 2025, kind="target", value="260", comparator="at_least")
    g25t.citations.add(*h.citations(plan, 1))
    g24t = obs(grain, 2024, kind="target", value="250", comparator="at_least")
    g23 = obs(grain, 2023, value="250.1")
    c24 = obs(cars, 2024, value="20", region=district)
    return {"grain": grain, "cars": cars, "g24": g24, "g25t": g25t, "g24t": g24t, "g23": g23, "c24": c24,
            "plan": plan, "report": report, "district": district}


def uids(data) -> list[str]:
    return [r["uid"] for r in data["results"]]


# -- indicators ---------------------------------------------------------------------------------------

def test_indicator_list_and_detail(client, world):
    data = h.ok(client, "/api/v1/indicators/")
    assert [r["code"] for r in data["results"]] == ["grain-output", "nev-output"]
    detail = h.ok(client, "/api/v1/indicators/grain-output/")
    assert detail["name_zh"] == "粮食产量" and detail["unit"] == "亿斤" and detail["topic"] == "agriculture"
    assert detail["url"] == "http://testserver/api/v1/indicators/grain-output/"
    assert detail["observations_url"].endswith("/api/v1/indicators/grain-output/observations/")
    assert {"created_at", "updated_at", "deleted_at"} <= set(detail)


def test_indicator_detail_puts_each_target_beside_its_result(client, world):
    targets = h.ok(client, "/api/v1/indicators/grain-output/")["targets"]
    by_period = {t["target"]["period_label"]: t for t in targets}
    assert set(by_period) == {"2024", "2025"}
    met = by_period["2024"]
    assert met["result"]["uid"] == str(world["g24"].uid) and met["result"]["value"] == "259.9"
    assert met["met"] is True  # 259.9 ≥ 250 (at_least)
    pending = by_period["2025"]
    assert pending["result"] is None and pending["met"] is None
    assert pending["target"]["citations"][0]["source"] == "2025-plan"


def test_target_missed_with_at_least(client, world):
    obs(world["grain"], 2022, kind="target", value="300", comparator="at_least")
    obs(world["grain"], 2022, value="255")
    targets = h.ok(client, "/api/v1/indicators/grain-output/")["targets"]
    assert next(t for t in targets if t["target"]["period_label"] == "2022")["met"] is False


@pytest.mark.parametrize("query, expected", [
    ("code=nev-output", ["nev-output"]),
    ("topic=agriculture", ["grain-output"]),
    ("unit=万辆", ["nev-output"]),
    ("region=chaoyang", ["nev-output"]),
    ("source=2025-plan", ["grain-output"]),
    ("has_target=true", ["grain-output"]),
    ("has_target=false", ["nev-output"]),
    ("q=汽车", ["nev-output"]),
    ("q=粮食", ["grain-output"]),
    ("q=vehicle", ["nev-output"]),
])
def test_indicator_filters(client, world, query, expected):
    assert [r["code"] for r in h.ok(client, f"/api/v1/indicators/?{query}")["results"]] == expected


def test_indicator_expand_unit_and_topic(client, world):
    row = h.ok(client, "/api/v1/indicators/?expand=unit,topic&code=nev-output")["results"][0]
    assert row["unit"]["symbol"] == "万辆" and row["unit"]["factor"] == "10000"
    assert row["topic"] == {"code": "industry", "url": "http://testserver/api/v1/topics/industry/",
                            "name_zh": "工业", "name_en": "Industry"}


def test_invalid_boolean_filter_is_an_error_not_everything(client, world):
    data = h.problem(client, "/api/v1/indicators/?has_target=maybe", 400)
    assert data["invalid_params"][0]["name"] == "has_target"


# -- observations -------------------------------------------------------------------------------------

def test_observation_list_and_detail_carry_citations(client, world):
    data = h.ok(client, "/api/v1/observations/")
    assert len(data["results"]) == 5 and data["next"] is None and "count" not in data
    detail = h.ok(client, f"/api/v1/observations/{world['g24'].uid}/")
    assert detail["value"] == "259.9" and detail["kind"] == "actual" and detail["indicator"] == "grain-output"
    [citation] = detail["citations"]
    assert citation["source"] == "2024-report" and citation["quote"] == "粮食产量达到259.9亿斤"
    assert citation["offset"] == 2
    assert citation["source_url"] == "http://testserver/api/v1/sources/2024-report/"
    assert citation["text_url"] == "http://testserver/api/v1/sources/2024-report/text/#char=2,15"
    text = h.get(client, "/api/v1/sources/2024-report/text/").content.decode()
    assert text[2:15] == citation["quote"]


@pytest.mark.parametrize("query, expected", [
    ("indicator=nev-output", ["c24"]),
    ("indicator=grain-output,nev-output&kind=target", ["g24t", "g25t"]),
    ("topic=industry", ["c24"]),
    ("region=changchun&indicator=nev-output", ["c24"]),  # a region includes its sub-regions
    ("region_exact=changchun&indicator=nev-output", []),
    ("kind=target", ["g24t", "g25t"]),
    ("comparator=at_least", ["g24t", "g25t"]),
    ("source=2025-plan", ["g25t"]),
    ("period_from=2024&indicator=grain-output", ["g24", "g24t", "g25t"]),
    ("period_to=2023", ["g23"]),
    ("period_from=2024-06-30&period_to=2024-12-31&indicator=grain-output", ["g24", "g24t"]),
    ("mrv=1&indicator=grain-output", ["g24", "g25t"]),
    ("q=汽车", ["c24"]),
    ("q=粮食&kind=actual", ["g23", "g24"]),
])
def test_observation_filters(client, world, query, expected):
    got = set(uids(h.ok(client, f"/api/v1/observations/?{query}&page_size=100")))
    assert got == {str(world[k].uid) for k in expected}


@pytest.mark.parametrize("query, param", [
    ("kind=maybe", "kind"),
    ("comparator=roughly", "comparator"),
    ("period_from=last-year", "period_from"),
    ("period_to=0000", "period_to"),  # no calendar has a year 0: once a 500
    ("period_from=2025-02-30", "period_from"),
    ("mrv=0", "mrv"),
    ("mrv=many", "mrv"),
    ("indicator=no%20spaces", "indicator"),
    ("updated_since=yesterday", "updated_since"),
    ("include_deleted=perhaps", "include_deleted"),
    ("q=" + "x" * 201, "q"),
    ("page_size=0", "page_size"),
    ("page_size=1001", "page_size"),
    ("count=sure", "count"),
    ("ordering=value", "ordering"),
    ("cursor=garbage", "cursor"),
    ("fields=uid,colour", "fields"),
    ("expand=colour", "expand"),
    ("bom=perhaps", "bom"),
])
def test_invalid_parameters_are_400_naming_the_parameter(client, world, query, param):
    data = h.problem(client, f"/api/v1/observations/?{query}", 400)
    assert [p["name"] for p in data["invalid_params"]] == [param]
    assert data["invalid_params"][0]["reason"]
    assert param in data["detail"]


def test_unknown_parameter_is_400_naming_it(client, world):
    data = h.problem(client, "/api/v1/observations/?indicatr=gdp", 400)
    assert data["title"] == "Unknown query parameters"
    assert data["invalid_params"][0]["name"] == "indicatr"
    assert "indicator" in data["invalid_params"][0]["reason"]  # the list of valid parameters helps fix the typo


def test_updated_since_and_include_deleted_sync_deletions(client, world):
    before = timezone.now()
    record_soft_delete(record=world["g23"], actor="test")
    since = before.isoformat().replace("+00:00", "Z")
    live = uids(h.ok(client, f"/api/v1/observations/?updated_since={since}"))
    assert live == []
    changed = h.ok(client, f"/api/v1/observations/?updated_since={since}&include_deleted=true")["results"]
    assert [r["uid"] for r in changed] == [str(world["g23"].uid)] and changed[0]["deleted_at"] is not None


def test_deleted_observation_is_410_gone(client, world):
    record_soft_delete(record=world["g23"], actor="test")
    data = h.problem(client, f"/api/v1/observations/{world['g23'].uid}/", 410)
    assert data["deleted_at"]


def test_unknown_observation_is_404(client, world):
    h.problem(client, "/api/v1/observations/00000000-0000-0000-0000-000000000000/", 404)
    h.problem(client, "/api/v1/observations/not-a-uuid/", 404)


def test_ordering(client, world):
    rows = h.ok(client, "/api/v1/observations/?ordering=-period_start&fields=period_start")["results"]
    starts = [r["period_start"] for r in rows]
    assert starts == sorted(starts, reverse=True)
    rows = h.ok(client, "/api/v1/observations/?ordering=updated_at&fields=updated_at")["results"]
    assert [r["updated_at"] for r in rows] == sorted(r["updated_at"] for r in rows)


@pytest.mark.parametrize("ordering", ["", "-period_start", "updated_at", "indicator,-period_start"])
def test_keyset_pages_forward_and_back(client, ordering):
    grain = IndicatorFactory()
    for year in range(2000, 2023):
        obs(grain, year, region=RegionFactory())
        obs(grain, year, kind="target")  # ties on period_start: the tie-breaker keeps pages exact
    url = "/api/v1/observations/?page_size=5&count=true" + (f"&ordering={ordering}" if ordering else "")
    everything = uids(h.ok(client, url.replace("page_size=5", "page_size=1000")))
    assert len(everything) == 46

    pages, data = [], h.ok(client, url)
    assert data["count"] == 46 and data["previous"] is None
    while True:
        pages.append(uids(data))
        if not data["next"]:
            break
        data = h.ok(client, data["next"])
    assert [u for p in pages for u in p] == everything
    assert [len(p) for p in pages] == [5] * 9 + [1]

    back = [uids(data)]
    while data["previous"]:
        data = h.ok(client, data["previous"])
        back.append(uids(data))
    assert back[::-1] == pages


def test_link_header_matches_body_links(client, world):
    response = h.get(client, "/api/v1/observations/?page_size=2")
    data = response.json()
    assert f'<{data["next"]}>; rel="next"' in response["Link"]
    second = h.get(client, data["next"])
    assert 'rel="prev"' in second["Link"] and 'rel="first"' in second["Link"]


def test_cursor_from_another_ordering_is_rejected(client, world):
    nxt = h.ok(client, "/api/v1/observations/?page_size=2")["next"]
    h.problem(client, nxt + "&ordering=-period_start", 400)


def test_sparse_fields(client, world):
    row = h.ok(client, "/api/v1/observations/?fields=uid,value&indicator=nev-output")["results"][0]
    assert row == {"uid": str(world["c24"].uid), "value": "20"}


def test_expand_embeds_related_records(client, world):
    row = h.ok(client, f"/api/v1/observations/{world['g24'].uid}/?expand=indicator,region,unit,source")
    assert row["indicator"]["code"] == "grain-output" and row["indicator"]["name_zh"] == "粮食产量"
    assert row["region"]["code"] == "changchun" and row["unit"]["symbol"] == "亿斤"
    assert row["citations"][0]["source"]["slug"] == "2024-report"
    assert row["citations"][0]["source"]["title_zh"] == "政府工作报告"


def test_csv_export_is_streamed_complete_and_flattened(client, world):
    obs_extra = [obs(IndicatorFactory(), 1990 + i) for i in range(60)]
    response = h.get(client, "/api/v1/observations/?format=csv&page_size=1&expand=indicator")
    assert response.streaming and response["Content-Type"] == "text/csv; charset=utf-8"
    text = h.body(response).decode()
    assert not text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 5 + len(obs_extra)  # the whole collection, not one page
    assert "indicator.code" in rows[0] and "citations" in rows[0]
    grain = next(r for r in rows if r["uid"] == str(world["g24"].uid))
    assert grain["indicator.name_zh"] == "粮食产量"
    assert json.loads(grain["citations"])[0]["quote"] == "粮食产量达到259.9亿斤"


def test_csv_bom_and_accept_header(client, world):
    response = h.get(client, "/api/v1/observations/?bom=true&indicator=nev-output", Accept="text/csv")
    text = h.body(response).decode()
    assert text.startswith("\ufeffuid,url,indicator")
    assert len(text.strip().splitlines()) == 2


def test_csv_export_of_nothing_still_has_a_header(client, world):
    text = h.body(h.get(client, "/api/v1/observations/?format=csv&indicator=unknown")).decode()
    assert text.startswith("uid,url,indicator,region") and len(text.strip().splitlines()) == 1


def test_ndjson_export(client, world, monkeypatch):
    from opendata.base.api import renderers

    monkeypatch.setattr(renderers.iterate_in_chunks, "__kwdefaults__", {"chunk": 2})  # several keyset chunks
    response = h.get(client, "/api/v1/observations/", Accept="application/x-ndjson")
    assert response["Content-Type"] == "application/x-ndjson"
    lines = h.body(response).decode().splitlines()
    records = [json.loads(line) for line in lines]
    assert sorted(r["uid"] for r in records) == sorted(str(world[k].uid) for k in ("g24", "g25t", "g24t", "g23", "c24"))


def test_unknown_format_is_400(client, world):
    data = h.problem(client, "/api/v1/observations/?format=xml", 400)
    assert data["invalid_params"][0]["name"] == "format"


def test_unacceptable_accept_header_is_406(client, world):
    h.problem(client, "/api/v1/observations/", 406, Accept="application/xml")


def test_indicator_observations_nested(client, world):
    data = h.ok(client, "/api/v1/indicators/grain-output/observations/?kind=actual")
    assert uids(data) == [str(world["g23"].uid), str(world["g24"].uid)]  # a time series, by period
    h.problem(client, "/api/v1/indicators/nope/observations/", 404)
    problem = h.problem(client, "/api/v1/indicators/grain-output/observations/?indicator=nev-output", 400)
    assert "URL" in problem["invalid_params"][0]["reason"]
    record_soft_delete(record=world["cars"], actor="test")
    h.problem(client, "/api/v1/indicators/nev-output/observations/", 410)


def test_source_observations_nested(client, world):
    assert uids(h.ok(client, "/api/v1/sources/2025-plan/observations/")) == [str(world["g25t"].uid)]

