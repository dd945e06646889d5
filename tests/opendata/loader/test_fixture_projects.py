"""Issue 14: projects reviewed against the documented definition (docs/fixtures.md), statuses the texts
state, district links only where the text names the district."""

from __future__ import annotations

from pathlib import Path

import yaml
from django.conf import settings

FIX: Path = settings.FIXTURES_DIR
PROJECTS = {p["slug"]: p for p in yaml.safe_load((FIX / "projects.yaml").read_text(encoding="utf-8"))}
EVENTS = {e["slug"]: e for e in yaml.safe_load((FIX / "events.yaml").read_text(encoding="utf-8"))["events"]}
SOURCES = {s["slug"]: (FIX / "sources" / s["file"]).read_text(encoding="utf-8")
           for s in yaml.safe_load((FIX / "sources.yaml").read_text(encoding="utf-8"))}
REGIONS = {r["code"]: r for r in yaml.safe_load((FIX / "regions.yaml").read_text(encoding="utf-8"))}


def test_slogans_car_models_and_title_bids_are_no_projects():
    withdrawn = {"six-upgrading-actions", "audi-ppe-battery-electric-models", "volkswagen-hybrid-models",
                 "national-double-support-model-city-bid", "lianhuashan-national-tourist-resort",
                 "carbon-peaking-pilot-city", "work-safety-responsibility-year"}
    assert withdrawn.isdisjoint(PROJECTS)
    docs = (settings.BASE_DIR / "docs" / "fixtures.md").read_text(encoding="utf-8")
    assert all(slug in docs for slug in withdrawn), "each withdrawn project is listed with its reason"


def test_a_one_year_campaign_is_an_event():
    campaign = EVENTS["work-safety-responsibility-year-2025"]
    assert (campaign["kind"], campaign["start"], campaign["status"]) == ("other", "2025", "planned")
    assert {c["source"] for c in campaign["citations"]} == {
        "2025-mobilisation-meeting", "2025-npc-session", "2025-work-report-plan"}


def test_statuses_say_what_the_text_says():
    words = {"获批": "approved", "入选": "selected", "试运行": "trial_operation"}
    stated = {}
    for slug, p in PROJECTS.items():
        for st in p["timeline"]:
            for c in st["citations"]:
                for word, status in words.items():
                    if word in c["quote"]:
                        assert st["status"] == status, (slug, st["status"], c["quote"])
                        stated[slug] = status
    assert stated == {
        "crrc-hydrogen-suburban-train": "trial_operation",
        "lianhua-island-film-culture-industrial-park": "selected",
        "national-climate-adaptive-city-pilot": "selected",
        "sika-deer-industry-cluster": "approved",
        "vehicle-road-cloud-integration-pilot": "selected",
    }


#: How the texts name a region besides its full name (abbreviations they use).
ALIASES = {"qikai": ["汽开区"], "changchun-new-area": ["长春新区", "新区"], "jingyue": ["净月"], "gaoxin": ["高新"],
           "jingkai": ["经开"], "xinglong-bonded-zone": ["兴隆综保区"], "sino-korean-demo-zone": ["中韩"],
           "yushu": ["榆树", "长榆"], "lianhuashan": ["莲花山"]}
WINDOW = 400  # characters around a citation: the clause and the sentence or list it stands in


def test_district_links_only_where_the_text_names_the_district():
    unstated = []
    for slug, p in PROJECTS.items():
        for code in set(p.get("regions") or []) - {"changchun"}:
            region = REGIONS[code]
            names = [region["name_zh"], region["name_zh"].rstrip("区市县"), *ALIASES.get(code, [])]
            near = [SOURCES[c["source"]][max(0, c["offset"] - WINDOW):c["offset"] + len(c["quote"]) + WINDOW]
                    for st in p["timeline"] for c in st["citations"]]
            if not any(name in text for name in names for text in near):
                unstated.append((slug, code))
    assert unstated == []
