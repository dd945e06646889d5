"""Issue 14: the audit's findings fixed in the fixtures, read from the YAML files (naming file and record)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from django.conf import settings

from indicators.numerals import parse_chinese_numeral
from indicators.services import observation_problems
from opendata.loader.schema import parse_period

FIX: Path = settings.FIXTURES_DIR
INDICATORS = {ind["code"]: ind for p in sorted((FIX / "indicators").glob("*.yaml"))
              for ind in yaml.safe_load(p.read_text(encoding="utf-8"))}
UNITS = {u["symbol"]: u for u in yaml.safe_load((FIX / "units.yaml").read_text(encoding="utf-8"))}


def observations(code):
    ind = INDICATORS[code]
    return [(o["period"], o["kind"], o["value"], o.get("unit", ind["unit"]), o) for o in ind["observations"]]


def test_one_code_one_unit_persons_and_person_times_apart():
    """农村劳动力转移就业: 万人 (2019, 2024 results) and 万人次 (the 2025 target) are different counts."""
    assert {u for *_, u, _o in observations("rural-labour-transferred-employment")} == {"万人"}
    assert [(p, k, v, u) for p, k, v, u, _o in observations("rural-labour-transferred-employment-person-times")] == [
        ("2025", "target", "100", "万人次")]
    # No indicator mixes units of different base units (a target beside a result must be comparable).
    mixed = {code: units for code, ind in INDICATORS.items()
             if len(units := {UNITS[o.get("unit", ind["unit"])]["base_unit"] for o in ind["observations"]}) > 1}
    assert mixed == {}, mixed


def test_newly_started_and_carried_out_projects_are_two_indicators():
    started = observations("projects-over-50m-yuan-started")
    carried = observations("projects-over-50m-yuan")
    assert all("新开工" in c["quote"] for *_, o in started for c in o["citations"])
    assert all("实施投资" in c["quote"] for *_, o in carried for c in o["citations"])
    assert [(p, k, v) for p, k, v, _u, _o in started] == [("2024", "actual", "1381"), ("2025", "target", "1400")]
    assert [(p, k, v) for p, k, v, _u, _o in carried] == [("2024", "actual", "1381"), ("2025", "target", "1400")]


def test_the_science_fund_is_one_indicator():
    assert "sci-tech-fund-matrix-scale" not in INDICATORS
    assert [(p, k, v) for p, k, v, _u, _o in observations("sci-tech-fund-scale")] == [
        ("2024", "actual", "240"), ("2025", "target", "300")]


@pytest.mark.parametrize(("written", "value"), [
    ("万", 10**4), ("千万", 10**7), ("万亿", 10**12), ("百", 100), ("两", 2), ("五", 5), ("十五", 15),
    ("三千五百万", 35 * 10**6), ("一亿五千万", 15 * 10**7), ("一百零五", 105), ("十万亿", 10**13)])
def test_chinese_numerals_read_as_numbers(written, value):
    assert parse_chinese_numeral(written) == Decimal(value)


@pytest.mark.parametrize("bad", ["", "12", "万元", "三五"])
def test_what_is_no_chinese_numeral_is_refused(bad):
    with pytest.raises(ValueError):
        parse_chinese_numeral(bad)


def test_statements_in_chinese_numerals_are_captured_with_the_numeral_as_written():
    written = {(code, o["period"], o["value_as_written"], o["value"], o.get("unit", ind["unit"]))
               for code, ind in INDICATORS.items() for o in ind["observations"] if o.get("value_as_written")}
    assert written == {
        ("gdp", "2022/2026", "万", "10000", "亿元"),                   # 经济总量超万亿
        ("resident-population", "2022/2026", "千万", "10000000", "人"),  # 常住人口超千万
        ("trillion-yuan-industry-clusters", "2020", "两", "2", "个"),     # “两个万亿级”…产业集群
        ("hundred-billion-yuan-industry-clusters", "2020", "五", "5", "个"),
        ("yongchun-biomedical-city-investment", "2024", "百", "100", "亿元"),  # 当年完成投资接近百亿元
    }
    for code, ind in INDICATORS.items():
        for o in ind["observations"]:
            if o.get("value_as_written"):
                assert parse_chinese_numeral(o["value_as_written"]) == Decimal(o["value"]), code
                assert all(o["value_as_written"] in c["quote"] for c in o["citations"]), code


def test_the_rule_of_values_in_quotes_reads_chinese_numerals():
    period = parse_period("2022/2026")
    args = dict(period_start=period.start, period_end=period.end, period_label="2022–2026",
                citations=[("2021-party-congress", "经济总量超万亿")],
                covers={"2021-party-congress": [(period.start, period.end)]})
    assert observation_problems(value="10000", value_as_written="万", **args) == []
    assert observation_problems(value="10000", **args)[0].message.startswith("10000 does not appear")
    assert observation_problems(value="1000", value_as_written="万", **args)[0].message == "万 reads as 10000, not 1000"
    assert observation_problems(value="100", value_as_written="百", **args)[0].message.startswith("百 does not appear")
