"""Issue 14 on the real fixtures: targets that can be checked, facts that disagree kept and marked.

These tests load the project's fixtures and read the same selectors as REST, GraphQL and the data report,
so they list the targets whose state the documents themselves decide."""

from __future__ import annotations

from decimal import Decimal

import pytest
import yaml
from django.conf import settings

from indicators.models import Observation
from indicators.selectors import observation_most_recent, target_list, targets_evaluated

FIX = settings.FIXTURES_DIR


def _evaluated():
    targets = list(target_list().alive())
    ev = targets_evaluated(targets)
    return {(t.indicator.code, t.region.code, t.period_label, t.value.normalize()): ev[t.pk] for t in targets}


@pytest.mark.django_db
def test_the_targets_whose_state_the_documents_decide(loaded_db):
    ev = _evaluated()
    states = {key: tr.evaluation.state for key, tr in ev.items() if tr.evaluation.state != "unknown"}
    assert states == {
        # 年初承诺的51件民生实事 (2024 target) beside 51件民生实事全部完成 (its result): met.
        ("livelihood-projects", "changchun", "2024", Decimal("51")): "met",
        # 提前完成占比超过22%的三年攻坚目标: the text says so, and 24.1 % meets it.
        ("county-gdp-share", "changchun", "three-year campaign (2023–2025) target", Decimal("22")): "achieved_early",
        # 高新技术企业达3000户以上 (2022–2026) and 突破3300户 in 2024.
        ("high-tech-enterprises", "changchun", "2022–2026 (the next five years)", Decimal("3000")): "achieved_early",
    }
    met = ev[("livelihood-projects", "changchun", "2024", Decimal("51"))]
    assert met.met is True and met.result.value == 51 and met.evaluation.progress == Decimal("1")


@pytest.mark.django_db
def test_every_target_with_results_within_its_period_has_a_progress_figure(loaded_db):
    with_results = {key: (tr.evaluation.progress, tr.evaluation.state)
                    for key, tr in _evaluated().items() if tr.evaluation.results}
    assert with_results == {
        ("beef-cattle-herd", "changchun", "2022–2026 (the next five years)", Decimal("300")):
            (Decimal("0.6067"), "unknown"),
        ("county-gdp-share", "changchun", "three-year campaign (2023–2025) target", Decimal("22")):
            (Decimal("1.0955"), "achieved_early"),
        # 经济总量超万亿 (a Chinese numeral, 2022–2026) against 7632.2 亿元 in 2024.
        ("gdp", "changchun", "2022–2026 (the next five years)", Decimal("10000")): (Decimal("0.7632"), "unknown"),
        ("good-air-quality-days-ratio", "changchun", "2022–2026 (the next five years)", Decimal("90")):
            (Decimal("0.9956"), "unknown"),
        ("grain-output", "changchun", "2022–2026 (the next five years)", Decimal("270")):
            (Decimal("0.9626"), "unknown"),  # the preferred 259.9, not the disputed "about 260"
        ("high-tech-enterprises", "changchun", "2022–2026 (the next five years)", Decimal("3000")):
            (Decimal("1.1000"), "achieved_early"),
        ("livelihood-projects", "changchun", "2024", Decimal("51")): (Decimal("1.0000"), "met"),
        # 1万公里 over three years (a total) against 4440 公里 in 2024: converted through the units' base.
        ("rural-roads-built-maintained", "changchun", "Three-year campaign (2023–2025)", Decimal("1")):
            (Decimal("0.4440"), "unknown"),
        # 旅游业总收入达3000亿元 over 2022–2026 does not say level or total: progress, but no state.
        ("tourism-revenue", "changchun", "2022–2026 (the next five years)", Decimal("3000")):
            (Decimal("1.0000"), "unknown"),
    }


@pytest.mark.django_db
def test_the_texts_statements_that_goals_were_achieved_early_are_cited_facts(loaded_db):
    stated = Observation.objects.alive().filter(assessment="achieved_early").prefetch_related("citations")
    got = {}
    for o in stated:
        assert (o.assessment_period_start.year, o.assessment_period_end.year) == (2023, 2025)
        quotes = [c.quote for c in o.citations.all()]
        assert any("提前完成" in q and format(o.value.normalize(), "f") in q for q in quotes), quotes
        got[o.indicator.code] = o.value.normalize()
    assert got == {"pharmaceutical-health-industry-output-value": Decimal("1100"),
                   "culture-tourism-industry-scale": Decimal("3026.1"),
                   "high-tech-enterprises": Decimal("3300"), "county-gdp-share": Decimal("24.1")}


@pytest.mark.django_db
def test_disputed_facts_keep_both_figures_and_mrv_reads_the_preferred_one(loaded_db):
    rows = (Observation.objects.alive().filter(disputed=True).select_related("indicator")
            .prefetch_related("citations__source"))
    figures = {(o.indicator.code, o.period_label, o.value.normalize(), o.preferred,
                frozenset(c.source.slug for c in o.citations.all())) for o in rows}
    assert figures == {
        ("tourist-visits-growth", "2024", Decimal("15.6"), True, frozenset({"2025-npc-session"})),
        ("tourist-visits-growth", "2024", Decimal("17"), False, frozenset({"2025-mobilisation-meeting"})),
        ("grain-output", "2024", Decimal("259.9"), True, frozenset({"2025-mobilisation-meeting"})),
        ("grain-output", "2024", Decimal("2.6E+2"), False, frozenset({"2025-npc-session"})),
    }
    assert all(o.dispute_note for o in rows)
    latest = observation_most_recent(Observation.objects.alive().filter(
        indicator__code__in=["grain-output", "tourist-visits-growth"], kind="actual"), n=1)
    assert sorted((o.indicator.code, o.value.normalize()) for o in latest) == [
        ("grain-output", Decimal("259.9")), ("tourist-visits-growth", Decimal("15.6"))]


def test_multi_year_values_say_what_they_measure_or_that_the_text_does_not():
    measures = {}
    for path in sorted((FIX / "indicators").glob("*.yaml")):
        for ind in yaml.safe_load(path.read_text(encoding="utf-8")):
            for o in ind.get("observations") or []:
                if "/" in str(o["period"]) and not str(o["period"]).startswith("2025-01-01"):
                    measures[(ind["code"], str(o["period"]), o["kind"])] = o.get("measure", "level")
    assert measures[("tourism-revenue", "2022/2026", "target")] == "unspecified"
    assert measures[("rural-roads-built-maintained", "2023/2025", "target")] == "total"
    assert measures[("rd-expenditure-growth", "2022/2026", "target")] == "average"
    assert measures[("graduates-staying-in-changchun", "2022/2026", "target")] == "total"
    assert measures[("revitalised-idle-assets", "2023/2024", "actual")] == "total"
    assert measures[("gdp-increase", "2023/2024", "actual")] == "change"


def _draft_problems(**obs_keys) -> list[str]:
    from opendata.loader.schema import check_draft, draft_known

    draft = {"indicators": [{
        "code": "tourist-visits-growth", "name_zh": "接待游客人次增长", "name_en": "Growth of tourist visits",
        "unit": "%", "topic": "culture-tourism",
        "observations": [{"period": "2024", "kind": "actual", "value": "17", **obs_keys, "citations": [
            {"source": "2025-mobilisation-meeting", "quote": "全市接待游客人次同比增长17%", "offset": 3482}]}]}]}
    return [f"{e.field}: {e.message}" for e in check_draft(draft, draft_known(FIX), "draft.yaml")]


def test_the_fixture_rules_of_disputes_and_assessments():
    text = (FIX / "sources" / "000_94e2b28827499c91.txt").read_text(encoding="utf-8")
    assert text.index("全市接待游客人次同比增长17%") == 3482
    assert _draft_problems(disputed=True, preferred=False, dispute_note="the meeting's figure") == []
    assert _draft_problems(preferred=False) == [
        "preferred: a figure that is not preferred must be marked disputed"]
    assert _draft_problems(disputed=True) == [
        "dispute_note: a disputed figure needs a note saying which figure is preferred and why"]
    assert _draft_problems(assessment="achieved_early") == [
        "assessment_period_start: an assessment needs the period of the goal it speaks of"]
    assert _draft_problems(assessment="achieved_early", assessment_period="2025/2026") == [
        "assessment_period_start: the result must fall within the goal's period"]
    assert _draft_problems(measure="sum")[0].startswith("measure: 'sum' is not allowed")
