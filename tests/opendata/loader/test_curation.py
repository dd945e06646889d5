"""The curation workflow (docs/curation.md): every quantitative statement captured or explained, and
candidate facts of a new text."""

from __future__ import annotations

from io import StringIO

import pytest
import yaml
from django.conf import settings
from django.core.management import CommandError, call_command

from opendata.loader.curation import candidates, statements


def test_no_statement_of_the_five_texts_is_left_unexplained():
    out = StringIO()
    call_command("curation_coverage", "--check", stdout=out)
    lines = out.getvalue().splitlines()
    assert len(lines) == 5 and all(line.endswith(" 0 only inside another fact's quote, 0 unexplained")
                                   for line in lines), lines


def test_a_statement_neither_captured_nor_explained_fails_the_check(tmp_path):
    doc = tmp_path / "fixtures.md"
    doc.write_text("# no table of statements left out\n", encoding="utf-8")
    out = StringIO()
    with pytest.raises(CommandError, match="neither captured nor explained"):
        call_command("curation_coverage", "--check", "--explanations", str(doc), "--source", "2021-party-congress",
                     stdout=out)
    assert "unexplained    2647  1个" in out.getvalue()  # 建设1个万亿级世界级汽车产业基地


def test_the_finder_reads_digits_and_chinese_numerals_and_skips_names():
    text = "经济总量超万亿,粮食产量260亿斤以上,增长5.5%,“两个确立”,九台区,第八批,2024年,一个重大课题,当年完成投资接近百亿元"
    found = [(st.text, str(st.value())) for st in statements(text, "t")]
    assert found == [("260亿斤", "260"), ("5.5%", "5.5"), ("百亿元", "10000000000")]
    assert [st.text for st in statements("常住人口超千万人", "t")] == ["千万人"]


def test_candidates_parse_value_unit_comparator_quote_and_suggest_kind_and_period():
    text = "2024年,粮食产量达到259.9亿斤。今年力争城镇新增就业9万人以上,CPI涨幅控制在2%以内,接近百亿元"
    found = candidates(text, "t", year=2025)
    got = [(c["value"], c["unit"], c["comparator"], c["kind_suggested"], c["period_suggested"]) for c in found]
    assert got == [("259.9", "亿斤", "exact", "actual", "2024"), ("9", "万人", "at_least", "target", "2025"),
                   ("2", "%", "at_most", "target", "2025"), ("10000000000", "元", "about", "target", "2025")]
    for c in found:
        assert text[c["offset"]:c["offset"] + len(c["quote"])] == c["quote"]
    assert found[-1]["value_as_written"] == "百亿"


def test_curation_draft_writes_a_file_for_a_curator(tmp_path):
    source = settings.FIXTURES_DIR / "sources" / "003_213cfd93907cc342.txt"
    target = tmp_path / "candidates" / "003.yaml"
    call_command("curation_draft", str(source), "--source", "2025-work-report-plan", "--year", "2025",
                 "--kind", "target", "--output", str(target), stdout=StringIO())
    data = yaml.safe_load(target.read_text(encoding="utf-8"))
    first = data["candidates"][0]
    assert (first["quote"], first["value"], first["comparator"], first["kind_suggested"], first["period_suggested"]) == (
        "全市经济社会发展主要预期目标是:地区生产总值增长5.5%以上", "5.5", "at_least", "target", "2025")
    assert len(data["candidates"]) == 79
    with pytest.raises(CommandError, match="does not exist"):
        call_command("curation_draft", str(tmp_path / "missing.txt"), "--source", "x", stdout=StringIO())
