"""Curator's tool for fixture files: fill citation offsets, check drafts, merge drafts into fixtures.

    python scripts/fixtures.py locate FILE...   fill missing `offset`s in place (unique quotes only)
    python scripts/fixtures.py check FILE...    check citations, values, codes; exit 1 on problems
    python scripts/fixtures.py merge DRAFT...   merge per-document drafts into fixtures/ (one fact, many citations)

Standalone (PyYAML only) so that extraction can run before the Django project is installed.
"""

from __future__ import annotations

import re
import sys
from collections import OrderedDict
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"

KINDS = {"actual", "target"}
COMPARATORS = {"exact", "at_least", "at_most", "about"}
STATUSES = {"proposed", "construction_started", "under_construction", "completed", "in_operation"}
EVENT_KINDS = {"meeting", "expo", "sports", "festival", "forum", "competition", "other"}
EVENT_STATUSES = {"held", "planned"}
CODE_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
PERIOD_RE = re.compile(r"^(\d{4})(?:/(\d{4}))?$|^(\d{4}-\d{2}-\d{2})/(\d{4}-\d{2}-\d{2})$")
DATE_RE = re.compile(r"^\d{4}(?:-\d{2}(?:-\d{2})?)?$|^\d{4}/\d{4}$")
NEGATIVE_WORDS = ("下降", "减少", "降低", "回落", "负增长")


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
    texts = {}
    for src in _load(FIXTURES / "sources.yaml"):
        texts[src["slug"]] = (FIXTURES / "sources" / src["file"]).read_text(encoding="utf-8")
    return texts


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


def check_doc(path: Path, doc: dict, texts: dict[str, str], catalogue: dict) -> list[str]:
    errors: list[str] = []
    where = str(path)

    def cit_errors(rec_name: str, citations) -> None:
        if not citations:
            errors.append(f"{where}: {rec_name}: no citations")
            return
        for c in citations:
            text = texts.get(c.get("source"))
            if text is None:
                errors.append(f"{where}: {rec_name}: unknown source {c.get('source')!r}")
                continue
            quote, off = c.get("quote") or "", c.get("offset")
            if not quote:
                errors.append(f"{where}: {rec_name}: empty quote")
            elif off is None:
                errors.append(f"{where}: {rec_name}: no offset (run `locate`) for {quote!r}")
            elif text[off : off + len(quote)] != quote:
                errors.append(f"{where}: {rec_name}: quote is not at offset {off} of {c['source']}: {quote!r}")

    regions = catalogue["regions"] | {r["code"] for r in doc.get("regions") or []}
    units = catalogue["units"] | {u["symbol"] for u in doc.get("units") or []}
    for ind in doc.get("indicators") or []:
        code = ind.get("code", "?")
        name = f"indicator {code}"
        if not CODE_RE.match(str(code)):
            errors.append(f"{where}: {name}: code must be kebab-case ASCII")
        for f in ("name_zh", "name_en", "unit", "topic"):
            if not ind.get(f):
                errors.append(f"{where}: {name}: missing {f}")
        if ind.get("topic") not in catalogue["topics"]:
            errors.append(f"{where}: {name}: unknown topic {ind.get('topic')!r}")
        if ind.get("unit") not in units:
            errors.append(f"{where}: {name}: unknown unit {ind.get('unit')!r} (add it to units)")
        for i, obs in enumerate(ind.get("observations") or []):
            oname = f"{name} observation #{i} ({obs.get('period')}, {obs.get('kind')})"
            if obs.get("kind") not in KINDS:
                errors.append(f"{where}: {oname}: kind must be one of {sorted(KINDS)}")
            if obs.get("comparator", "exact") not in COMPARATORS:
                errors.append(f"{where}: {oname}: comparator must be one of {sorted(COMPARATORS)}")
            if not PERIOD_RE.match(str(obs.get("period", ""))):
                errors.append(f"{where}: {oname}: period must be YYYY, YYYY/YYYY or DATE/DATE")
            if obs.get("region", "changchun") not in regions:
                errors.append(f"{where}: {oname}: unknown region {obs.get('region')!r}")
            if obs.get("unit") and obs["unit"] not in units:
                errors.append(f"{where}: {oname}: unknown unit {obs['unit']!r}")
            value = obs.get("value")
            if not isinstance(value, str) or not re.match(r"^-?\d+(\.\d+)?$", value):
                errors.append(f"{where}: {oname}: value must be a string of digits, got {value!r}")
            else:
                digits = value.lstrip("-")
                quotes = [c.get("quote") or "" for c in obs.get("citations") or []]
                for q in quotes:
                    if digits not in q:
                        errors.append(f"{where}: {oname}: value {value} not in quote {q!r}")
                if value.startswith("-") and not any(w in q for q in quotes for w in NEGATIVE_WORDS):
                    errors.append(f"{where}: {oname}: negative value without 下降/减少 in the quote")
            cit_errors(oname, obs.get("citations"))
    for proj in doc.get("projects") or []:
        name = f"project {proj.get('slug')}"
        if not CODE_RE.match(str(proj.get("slug"))):
            errors.append(f"{where}: {name}: slug must be kebab-case ASCII")
        for f in ("name_zh", "name_en", "topic"):
            if not proj.get(f):
                errors.append(f"{where}: {name}: missing {f}")
        if proj.get("topic") not in catalogue["topics"]:
            errors.append(f"{where}: {name}: unknown topic {proj.get('topic')!r}")
        for r in proj.get("regions") or []:
            if r not in regions:
                errors.append(f"{where}: {name}: unknown region {r!r}")
        if not proj.get("timeline"):
            errors.append(f"{where}: {name}: empty timeline")
        for i, st in enumerate(proj.get("timeline") or []):
            sname = f"{name} status #{i}"
            if st.get("status") not in STATUSES:
                errors.append(f"{where}: {sname}: status must be one of {sorted(STATUSES)}")
            if st.get("kind") not in KINDS:
                errors.append(f"{where}: {sname}: kind must be one of {sorted(KINDS)}")
            if not DATE_RE.match(str(st.get("date", ""))):
                errors.append(f"{where}: {sname}: date must be YYYY, YYYY-MM, YYYY-MM-DD or YYYY/YYYY")
            cit_errors(sname, st.get("citations"))
    series = catalogue["series"] | {s["slug"] for s in doc.get("series") or []}
    for ev in doc.get("events") or []:
        name = f"event {ev.get('slug')}"
        if not CODE_RE.match(str(ev.get("slug"))):
            errors.append(f"{where}: {name}: slug must be kebab-case ASCII")
        for f in ("name_zh", "name_en", "kind", "start", "status"):
            if not ev.get(f):
                errors.append(f"{where}: {name}: missing {f}")
        if ev.get("kind") not in EVENT_KINDS:
            errors.append(f"{where}: {name}: kind must be one of {sorted(EVENT_KINDS)}")
        if ev.get("status") not in EVENT_STATUSES:
            errors.append(f"{where}: {name}: status must be one of {sorted(EVENT_STATUSES)}")
        if ev.get("series") and ev["series"] not in series:
            errors.append(f"{where}: {name}: unknown series {ev['series']!r}")
        for f in ("start", "end"):
            if ev.get(f) and not re.match(r"^\d{4}(?:-\d{2}(?:-\d{2})?)?$", str(ev[f])):
                errors.append(f"{where}: {name}: {f} must be YYYY, YYYY-MM or YYYY-MM-DD")
        if ev.get("region", "changchun") not in regions:
            errors.append(f"{where}: {name}: unknown region {ev.get('region')!r}")
        cit_errors(name, ev.get("citations"))
    return errors


def base_catalogue() -> dict:
    cat = {
        "topics": {t["code"] for t in _load(FIXTURES / "topics.yaml")},
        "units": {u["symbol"] for u in _load(FIXTURES / "units.yaml")},
        "regions": {r["code"] for r in _load(FIXTURES / "regions.yaml")},
        "series": set(),
    }
    events = FIXTURES / "events.yaml"
    if events.exists():
        cat["series"] = {s["slug"] for s in (_load(events) or {}).get("series") or []}
    return cat


def check(paths: list[Path]) -> int:
    texts = source_texts()
    cat = base_catalogue()
    errors = []
    for path in paths:
        errors += check_doc(path, _load(path) or {}, texts, cat)
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


OBS_KEYS = ["region", "period", "period_label", "kind", "value", "comparator", "unit", "citations"]
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
                obs.setdefault("region", "changchun")
                obs.setdefault("comparator", "exact")
                if obs.get("unit") == base.get("unit"):
                    obs.pop("unit")
                key = (code, obs["region"], str(obs["period"]), obs["kind"], obs["comparator"])
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
            for key, o in sorted(observations.items(), key=lambda kv: (kv[0][2], kv[0][1], kv[0][3], kv[0][4]))
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
