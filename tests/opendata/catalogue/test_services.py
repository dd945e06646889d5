"""The catalogue's write services and rules: a citation's quote is the source's text at its offset,
a citation is what it quotes, regions form a tree, factors are positive, a source's hash is its
text's."""

from __future__ import annotations

import hashlib

import pytest

from indicators.services import observation_create
from opendata.base.services import WriteError
from opendata.catalogue.models import Citation
from opendata.catalogue.services import (
    citation_create,
    citation_problems,
    citation_uid,
    citation_update,
    region_update,
    source_create,
    unit_create,
)
from tests.factories import TEXT
from tests.write_helpers import ACTOR, SOURCE, new_changes, quote

pytestmark = pytest.mark.django_db


def test_a_quote_not_at_its_offset_is_refused(world):
    with new_changes() as got:
        with pytest.raises(WriteError) as err:
            citation_create(data={"source": SOURCE, "offset": 3, "quote": "光博会成功举办"}, actor=ACTOR)
        assert err.value.errors == [{"index": None, "field": "quote", "message": (
            f"is not the text of {SOURCE} at offset 3 (it occurs at offset {TEXT.index('光博会成功举办')})")}]
        with pytest.raises(WriteError, match=r"does not occur in the text"):
            citation_create(data={"source": SOURCE, "offset": 0, "quote": "不存在的句子"}, actor=ACTOR)
        with pytest.raises(WriteError) as err:
            citation_create(data={"source": SOURCE, "offset": -1, "quote": ""}, actor=ACTOR)
        assert {e["field"] for e in err.value.errors} == {"offset", "quote"}
    assert got == []


def test_the_rule_is_one_function():
    assert citation_problems(text=TEXT, source="s", offset=TEXT.index("光博会"), quote="光博会") == []
    assert citation_problems(text=TEXT, source="s", offset=0, quote="光博会")[0].field == "quote"


def test_a_citation_is_what_it_quotes(world):
    citation = world["光博会成功举办"]
    assert citation.uid == citation_uid(source=SOURCE, offset=citation.offset, quote=citation.quote)
    with pytest.raises(WriteError) as err:
        citation_update(key=citation.uid, data={"quote": "光博会", "offset": citation.offset}, actor=ACTOR)
    assert err.value.errors[0]["field"] == "quote" and "cannot change" in err.value.errors[0]["message"]
    assert citation_update(key=citation.uid, data={"garbled": True}, actor=ACTOR).change.after["garbled"] is True


def test_a_fact_may_bring_its_citations_along(world):
    with new_changes() as got:
        obs = observation_create(data={
            "indicator": "grain-output", "region": "changchun", "period_start": "2024-01-01",
            "period_end": "2024-12-31", "period_label": "2024", "kind": "actual", "value": "259.9",
            "citations": [quote("产量达到259.9亿斤"), quote("粮食产量达到259.9亿斤")]}, actor=ACTOR).record
    assert [(c.resource, c.operation) for c in got] == [("citation", "create"), ("observation", "create")]
    new = Citation.objects.get(quote="产量达到259.9亿斤")
    assert sorted(got[1].after["citations"]) == sorted([str(new.uid), str(world["粮食产量达到259.9亿斤"].uid)])
    assert obs.citations.count() == 2
    with pytest.raises(WriteError) as err:  # an inline citation that is not in the text
        observation_create(data={
            "indicator": "grain-output", "region": "nanguan", "period_start": "2024-01-01",
            "period_end": "2024-12-31", "period_label": "2024", "kind": "actual", "value": "259.9",
            "citations": [{"source": SOURCE, "offset": 0, "quote": "259.9"}]}, actor=ACTOR)
    assert err.value.errors[0]["field"] == "citations[0].quote"
    with pytest.raises(WriteError, match="every fact needs at least one citation"):
        observation_create(data={
            "indicator": "grain-output", "region": "nanguan", "period_start": "2024-01-01",
            "period_end": "2024-12-31", "period_label": "2024", "kind": "actual", "value": "259.9",
            "citations": []}, actor=ACTOR)


def test_regions_form_a_tree(world):
    with pytest.raises(WriteError) as err:
        region_update(key="changchun", data={"parent": "nanguan"}, actor=ACTOR)
    assert err.value.errors[0]["field"] == "parent" and "cycle" in err.value.errors[0]["message"]
    with pytest.raises(WriteError, match="cycle"):
        region_update(key="changchun", data={"parent": "changchun"}, actor=ACTOR)


def test_a_factor_is_positive(world):
    with pytest.raises(WriteError) as err:
        unit_create(data={"symbol": "个", "name_en": "items", "base_unit": "items", "factor": "0"}, actor=ACTOR)
    assert err.value.errors == [{"index": None, "field": "factor", "message": "0 must be positive"}]


def test_a_sources_hash_is_its_texts(world):
    data = {"slug": "report-2024", "title_zh": "报告", "title_en": "Report", "date": "2024-01-20", "text": "正文。",
            "periods": [{"start": "2023-01-01", "end": "2023-12-31", "label": "2023"}]}
    write = source_create(data=data, actor=ACTOR)
    assert write.record.sha256 == hashlib.sha256("正文。".encode()).hexdigest() == write.change.after["sha256"]
    with pytest.raises(WriteError, match="sha256: is read-only"):
        source_create(data={**data, "slug": "report-2023", "sha256": "0" * 64}, actor=ACTOR)
    with pytest.raises(WriteError) as err:
        source_create(data={**data, "slug": "report-2022", "periods": [{"start": "2023-12-31", "end": "2023-01-01",
                                                                        "label": "x"}, {"start": "2023"}]},
                      actor=ACTOR)
    assert {e["field"] for e in err.value.errors} == {"periods[1].start", "periods[1].end", "periods[1].label"}
