"""Curator's tool for fixture files: fill citation offsets, check drafts, merge drafts into fixtures.

    python scripts/fixtures.py locate FILE...   fill missing `offset`s in place (unique quotes only)
    python scripts/fixtures.py check FILE...    check drafts against the fixture rules; exit 1 on problems
    python scripts/fixtures.py merge DRAFT...   merge per-document drafts into fixtures/ (one fact, many citations)

`check` applies the rules the loader applies (the pydantic models of opendata/loader/schema.py, with
choices from the Django models' enums), so it sets up Django: run it from the project's virtualenv.
"""

from __future__ import annotations

import os
import sys
from collections import OrderedDict
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opendata.config.settings")
os.environ.setdefault("DJANGO_ALLOW_INSECURE_KEY", "1")  # a local tool: no secret is used

import django
from django.apps import apps

if not apps.ready:
    django.setup()

from opendata.loader.schema import (
    DEFAULT_COMPARATOR,
    DEFAULT_REGION,
    FixtureError,
    check_draft,
    draft_known,
    load_yaml,
    read_catalogue,
)


def _load(path: Path):
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def _dump(data, path: Path) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        yaml.dump(data, fh, allow_unicode=True, sort_keys=False, width=10_000, Dumper=_Dumper)


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(
    OrderedDict, lambda d, data: d.represent_mapping("tag:yaml.org,2002:map", data.items())
)


def source_texts() -> dict[str, str]:
    return read_catalogue(FIXTURES)[1].texts


def _as_draft(doc) -> dict:
    """A fixture file (a list of indicators or projects) seen as a draft mapping."""
    if isinstance(doc, list):
        if any("timeline" in r for r in doc):
            return {"projects": doc}
        return {"indicators": doc}
    return doc or {}


def iter_citations(doc):
    doc = _as_draft(doc)
    for ind in doc.get("indicators") or []:
        for obs in ind.get("observations") or []:
            for c in obs.get("citations") or []:
                yield c
    for proj in doc.get("projects") or []:
        for st in proj.get("timeline") or []:
            for c in st.get("citations") or []:
                yield c
    for ev in doc.get("events") or []:
        for c in ev.get("citations") or []:
            yield c


def locate(paths: list[Path]) -> int:
    texts = source_texts()
    problems = 0
    for path in paths:
        doc = _load(path)
        for c in iter_citations(doc):
            text = texts.get(c.get("source"))
            quote = c.get("quote") or ""
            if text is None:
                print(f"{path}: unknown source {c.get('source')!r}")
                problems += 1
                continue
            if c.get("offset") is not None:
                continue
            first = text.find(quote)
            if first < 0:
                print(f"{path}: quote not found in {c['source']}: {quote!r}")
                problems += 1
            elif text.find(quote, first + 1) >= 0:
                print(f"{path}: quote occurs more than once in {c['source']}, lengthen it: {quote!r}")
                problems += 1
            else:
                c["offset"] = first
        _dump(doc, path)
    return problems


def check(paths: list[Path]) -> int:
    """Report every problem of each draft (or fixture file), as the loader would name it."""
    try:
        known = draft_known(FIXTURES)
    except FixtureError as exc:
        print(f"the catalogue in fixtures/ does not load: {exc}")
        return 1
    errors: list[FixtureError] = []
    for path in paths:
        try:
            doc = load_yaml(path, str(path))
        except FixtureError as exc:
            errors.append(exc)
            continue
        errors += check_draft(_as_draft(doc), known, str(path))
    for e in errors:
        print(e)
    print(f"{len(errors)} problem(s) in {len(paths)} file(s)")
    return 1 if errors else 0


def _cite_key(c: dict) -> tuple:
    return (c["source"], c["offset"])


def _merge_citations(into: list[dict], more: list[dict]) -> None:
    have = {_cite_key(c) for c in into}
    for c in more:
        if _cite_key(c) not in have:
            into.append(c)
            have.add(_cite_key(c))


def _ordered(rec: dict, keys: list[str]) -> dict:
    out = {k: rec[k] for k in keys if k in rec and rec[k] not in (None, "", [])}
    out.update({k: v for k, v in rec.items() if k not in out and k not in keys and v not in (None, "", [])})
    return out


OBS_KEYS = ["region", "period", "period_label", "kind", "value", "value_as_written", "comparator", "unit", "measure", "disputed",
            "preferred", "dispute_note", "assessment", "assessment_period", "citations"]
CIT_KEYS = ["source", "quote", "offset", "garbled"]


def merge(paths: list[Path], out: Path = FIXTURES) -> int:
    """Merge drafts into fixtures/ (or `out`): one indicator per code, one observation per fact, with
    the union of citations; conflicting values are reported, never silently dropped."""
    problems: list[str] = []
    regions = {r["code"]: r for r in _load(FIXTURES / "regions.yaml")}
    units = {u["symbol"]: u for u in _load(FIXTURES / "units.yaml")}
    indicators: dict[str, dict] = {}
    observations: dict[tuple, dict] = {}
    projects: dict[str, dict] = {}
    statuses: dict[tuple, dict] = {}
    series: dict[str, dict] = {}
    events: dict[str, dict] = {}
    for path in paths:
        doc = _load(path) or {}
        for r in doc.get("regions") or []:
            if r["code"] in regions and (regions[r["code"]].get("name_zh") != r.get("name_zh")):
                problems.append(f"{path}: region {r['code']} differs from the catalogue: {r} vs {regions[r['code']]}")
            regions.setdefault(r["code"], r)
        for u in doc.get("units") or []:
            units.setdefault(u["symbol"], u)
        for s in doc.get("series") or []:
            series.setdefault(s["slug"], s)
        for ind in doc.get("indicators") or []:
            code = ind["code"]
            base = indicators.setdefault(code, {k: v for k, v in ind.items() if k != "observations"})
            if base.get("unit") != ind.get("unit"):
                problems.append(f"{path}: indicator {code}: unit {ind.get('unit')} vs {base.get('unit')} elsewhere")
            for obs in ind.get("observations") or []:
                obs = dict(obs)
                obs.setdefault("region", DEFAULT_REGION)
                obs.setdefault("comparator", DEFAULT_COMPARATOR)
                if obs.get("unit") == base.get("unit"):
                    obs.pop("unit")
                key = (code, obs["region"], str(obs["period"]), obs["kind"], obs["comparator"],
                       "" if obs.get("preferred", True) else obs["value"])  # a disputed alternative: its own
                prev = observations.get(key)
                if prev is None:
                    observations[key] = obs
                elif prev["value"] != obs["value"] or prev.get("unit") != obs.get("unit"):
                    problems.append(f"{path}: {key}: value {obs['value']}{obs.get('unit') or ''} conflicts with "
                                    f"{prev['value']}{prev.get('unit') or ''}")
                else:
                    _merge_citations(prev["citations"], obs["citations"])
                    if obs.get("period_label") and not prev.get("period_label"):
                        prev["period_label"] = obs["period_label"]
        for proj in doc.get("projects") or []:
            slug = proj["slug"]
            base = projects.setdefault(slug, {k: v for k, v in proj.items() if k != "timeline"})
            for r in proj.get("regions") or []:
                if r not in base.setdefault("regions", []):
                    base["regions"].append(r)
            for st in proj.get("timeline") or []:
                key = (slug, st["status"], st["kind"], str(st["date"]))
                if key in statuses:
                    _merge_citations(statuses[key]["citations"], st["citations"])
                else:
                    statuses[key] = dict(st)
        for ev in doc.get("events") or []:
            if ev["slug"] in events:
                prev = events[ev["slug"]]
                for f in ("start", "end", "status", "kind"):
                    if str(prev.get(f)) != str(ev.get(f)) and ev.get(f) is not None and prev.get(f) is not None:
                        problems.append(f"{path}: event {ev['slug']}: {f} {ev.get(f)} vs {prev.get(f)}")
                _merge_citations(prev["citations"], ev["citations"])
            else:
                events[ev["slug"]] = dict(ev)
    for p in problems:
        print(p)
    if problems:
        print(f"{len(problems)} conflict(s): resolve them in the drafts, then merge again. Nothing written.")
        return 1

    def cits(lst):
        return [_ordered(c, CIT_KEYS) for c in sorted(lst, key=lambda c: (c["source"], c["offset"]))]

    _dump(list(regions.values()), out / "regions.yaml")
    _dump(list(units.values()), out / "units.yaml")
    by_topic: dict[str, list] = {}
    for code, ind in sorted(indicators.items()):
        obs = [
            _ordered({**o, "citations": cits(o["citations"])}, OBS_KEYS)
            for key, o in sorted(observations.items(), key=lambda kv: (kv[0][2], kv[0][1], kv[0][3], kv[0][4], kv[0][5]))
            if key[0] == code
        ]
        by_topic.setdefault(ind["topic"], []).append({**ind, "observations": obs})
    out_dir = out / "indicators"
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("*.yaml"):
        old.unlink()
    for topic, inds in sorted(by_topic.items()):
        _dump(inds, out_dir / f"{topic}.yaml")
    proj_out = []
    for slug, proj in sorted(projects.items()):
        timeline = [
            _ordered({**st, "citations": cits(st["citations"])}, ["status", "kind", "date", "date_label", "citations"])
            for key, st in sorted(statuses.items(), key=lambda kv: (kv[0][3], kv[0][1], kv[0][2]))
            if key[0] == slug
        ]
        proj_out.append({**proj, "timeline": timeline})
    _dump(proj_out, out / "projects.yaml")
    ev_out = [
        _ordered({**ev, "citations": cits(ev["citations"])},
                 ["slug", "name_zh", "name_en", "description", "kind", "series", "start", "end", "status", "region",
                  "project", "citations"])
        for ev in sorted(events.values(), key=lambda e: (str(e["start"]), e["slug"]))
    ]
    _dump({"series": sorted(series.values(), key=lambda s: s["slug"]), "events": ev_out}, out / "events.yaml")
    print(f"merged {len(paths)} draft(s): {len(indicators)} indicators, {len(observations)} observations, "
          f"{len(projects)} projects, {len(statuses)} status statements, {len(events)} events, {len(series)} series")
    return 0


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[0] not in {"locate", "check", "merge"}:
        print(__doc__)
        return 2
    paths = [Path(p) for p in argv[1:]]
    if argv[0] == "locate":
        return 1 if locate(paths) else 0
    if argv[0] == "merge":
        return merge(paths)
    return check(paths)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
