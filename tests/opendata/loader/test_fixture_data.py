"""Every record in fixtures/ is checked against its source: the data is the product (issue 3).

These tests read the YAML files directly, so they name the file and record that is wrong.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml
from django.conf import settings

from opendata.loader.schema import parse_date, parse_period

FIX: Path = settings.FIXTURES_DIR


def _load(name):
    return yaml.safe_load((FIX / name).read_text(encoding="utf-8"))


SOURCES = {s["slug"]: s for s in _load("sources.yaml")}
TEXTS = {slug: (FIX / "sources" / s["file"]).read_text(encoding="utf-8") for slug, s in SOURCES.items()}
COVERS = {slug: [parse_period(c["period"]) for c in s["covers"]] for slug, s in SOURCES.items()}
INDICATORS = [(p.name, ind) for p in sorted((FIX / "indicators").glob("*.yaml")) for ind in _load(f"indicators/{p.name}")]
OBSERVATIONS = [(f"{f}:{ind['code']}[{i}]", ind, o) for f, ind in INDICATORS for i, o in enumerate(ind.get("observations") or [])]
PROJECTS = _load("projects.yaml") or []
EVENTS_DOC = _load("events.yaml") or {}
EVENTS = EVENTS_DOC.get("events") or []
SERIES = EVENTS_DOC.get("series") or []


def all_citations():
    for rid, _ind, o in OBSERVATIONS:
        for c in o["citations"]:
            yield rid, c
    for p in PROJECTS:
        for j, st in enumerate(p["timeline"]):
            for c in st["citations"]:
                yield f"projects.yaml:{p['slug']}.timeline[{j}]", c
    for e in EVENTS:
        for c in e["citations"]:
            yield f"events.yaml:{e['slug']}", c


def test_every_quote_is_verbatim_at_its_offset():
    bad = [
        (rid, c["source"], c["offset"], c["quote"])
        for rid, c in all_citations()
        if TEXTS[c["source"]][c["offset"] : c["offset"] + len(c["quote"])] != c["quote"]
    ]
    assert not bad, bad[:10]


def test_every_observation_value_appears_in_each_of_its_quotes_as_written():
    # A number written in Chinese numerals appears as written (`value_as_written`: 万 in 超万亿); that it
    # reads as the value is test_fixture_audit's.
    bad = [(rid, o["value"], c["quote"]) for rid, _i, o in OBSERVATIONS for c in o["citations"]
           if (o.get("value_as_written") or o["value"].lstrip("-")) not in c["quote"]]
    assert not bad, bad[:10]


def test_every_observation_period_lies_within_what_each_cited_source_covers():
    bad = []
    for rid, _ind, o in OBSERVATIONS:
        p = parse_period(o["period"])
        for c in o["citations"]:
            if not any(cov.start <= p.start and p.end <= cov.end for cov in COVERS[c["source"]]):
                bad.append((rid, o["period"], c["source"]))
    assert not bad, bad[:10]


def _fact(ind, o):
    return (ind["code"], o.get("region", "changchun"), parse_period(o["period"]).start, parse_period(o["period"]).end,
            o["kind"], o.get("comparator", "exact"))


def test_no_two_observations_state_the_same_fact():
    """One preferred figure per fact; a figure of another source that disagrees is kept beside it only as a
    disputed alternative (preferred: false) with another value (issue 14)."""
    keys = Counter(_fact(ind, o) for _rid, ind, o in OBSERVATIONS if o.get("preferred", True))
    assert [k for k, n in keys.items() if n > 1] == []
    alternatives = Counter((_fact(ind, o), o["value"]) for _rid, ind, o in OBSERVATIONS if not o.get("preferred", True))
    assert [k for k, n in alternatives.items() if n > 1] == []


def test_indicator_codes_and_slugs_are_unique():
    for name, items in (("indicator", [i["code"] for _f, i in INDICATORS]), ("project", [p["slug"] for p in PROJECTS]),
                        ("event", [e["slug"] for e in EVENTS]), ("series", [s["slug"] for s in SERIES])):
        dupes = [k for k, n in Counter(items).items() if n > 1]
        assert not dupes, f"duplicate {name}: {dupes}"


def test_every_record_has_its_english_name():
    records = (
        [("indicator", i["code"], i) for _f, i in INDICATORS]
        + [("project", p["slug"], p) for p in PROJECTS]
        + [("event", e["slug"], e) for e in EVENTS]
        + [("series", s["slug"], s) for s in SERIES]
        + [("region", r["code"], r) for r in _load("regions.yaml")]
        + [("topic", t["code"], t) for t in _load("topics.yaml")]
    )
    missing = [(kind, key) for kind, key, r in records if not (r.get("name_en") or "").strip()]
    assert not missing, missing
    missing_zh = [(kind, key) for kind, key, r in records if not (r.get("name_zh") or "").strip()]
    assert not missing_zh, missing_zh
    assert all((s.get("title_en") or "").strip() for s in SOURCES.values())


def test_units_say_their_base_and_factor():
    for u in _load("units.yaml"):
        assert u["name_en"] and u["base_unit"] and float(u["factor"]) > 0, u
    symbols = {u["symbol"]: u for u in _load("units.yaml")}
    assert symbols["%"]["base_unit"] != symbols["个百分点"]["base_unit"], "percent and percentage points differ"
    assert float(symbols["亿元"]["factor"]) == 1e8


def test_project_and_event_dates_parse_and_events_end_after_start():
    for p in PROJECTS:
        for st in p["timeline"]:
            parse_date(st["date"], allow_period=True)
    for e in EVENTS:
        start = parse_date(e["start"])
        if e.get("end"):
            assert parse_date(e["end"]).start >= start.start, e["slug"]


def indicators_with_target_and_result() -> list[str]:
    both = []
    for _f, ind in INDICATORS:
        kinds = {o["kind"] for o in ind.get("observations") or []}
        if {"actual", "target"} <= kinds:
            both.append(ind["code"])
    return sorted(both)


def test_at_least_25_indicators_have_both_a_target_and_a_result():
    both = indicators_with_target_and_result()
    print(f"\n{len(both)} indicators with both a target and a result:\n  " + "\n  ".join(both))
    assert len(both) >= 25, both


def _periods(code):
    ind = next(i for _f, i in INDICATORS if i["code"] == code)
    return {(str(o["period"]), o["kind"]) for o in ind["observations"]}


def test_grain_output_lines_up_across_documents():
    """The 2024 result, the 2025 target and the congress's goal for 2022–2026 share one code. (The 2020
    report states no grain figure for 2019, so none is recorded.)"""
    periods = _periods("grain-output")
    assert {("2024", "actual"), ("2025", "target"), ("2022/2026", "target")} <= periods


@pytest.mark.parametrize("code, expected", [
    ("gdp-growth", {("2020", "target"), ("2024", "actual"), ("2025", "target")}),
    ("new-urban-jobs", {("2020", "target"), ("2024", "actual"), ("2025", "target")}),
    # The 2025 target counts person-times (万人次), not persons: another indicator (issue 14).
    ("rural-labour-transferred-employment", {("2019", "actual"), ("2024", "actual")}),
    ("high-tech-enterprises", {("2022/2026", "target"), ("2024", "actual"), ("2025", "target")}),
])
def test_results_and_targets_of_different_documents_share_a_code(code, expected):
    assert expected <= _periods(code)


def test_coverage_floors():
    cited = Counter(c["source"] for _rid, c in all_citations())
    assert len(OBSERVATIONS) >= 220, len(OBSERVATIONS)
    assert len(INDICATORS) >= 120, len(INDICATORS)
    assert len(PROJECTS) >= 70, len(PROJECTS)
    assert len(EVENTS) >= 25, len(EVENTS)
    assert all(cited[slug] >= 15 for slug in SOURCES), cited


@pytest.mark.django_db
def test_everything_loads_and_a_second_load_changes_nothing():
    from io import StringIO

    from django.core.management import call_command

    from indicators.models import Observation

    call_command("load_opendata", stdout=StringIO())
    assert Observation.objects.alive().count() == len(OBSERVATIONS)
    out = StringIO()
    call_command("load_opendata", stdout=out)
    assert "Nothing changed" in out.getvalue()


def test_fixtures_are_exactly_the_merge_of_the_drafts(tmp_path):
    """fixtures/ is generated from fixtures/drafts/ (docs/fixtures.md): an edit made to one and not the
    other would be undone by the next merge, so the two must agree."""
    import importlib.util
    import io
    from contextlib import redirect_stdout

    spec = importlib.util.spec_from_file_location("curator_fixtures", settings.BASE_DIR / "scripts" / "fixtures.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    drafts = sorted((FIX / "drafts").glob("*.yaml"))
    with redirect_stdout(io.StringIO()) as out:
        assert tool.merge(drafts, out=tmp_path) == 0, out.getvalue()
    generated = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.yaml"))
    assert [str(p) for p in generated] == sorted(
        str(p.relative_to(FIX)) for p in [*FIX.glob("indicators/*.yaml"),
                                          *(FIX / n for n in ("regions.yaml", "units.yaml", "projects.yaml",
                                                              "events.yaml"))])
    stale = [str(p) for p in generated if (tmp_path / p).read_text(encoding="utf-8") != (FIX / p).read_text(
        encoding="utf-8")]
    assert not stale, f"regenerate with `python scripts/fixtures.py merge fixtures/drafts/*.yaml`: {stale}"
