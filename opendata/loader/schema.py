"""Reading and validating fixture files (docs/fixtures.md) into plain records, without touching the DB.

Every problem is reported as `FixtureError(file, record, field, message)` so that a curator can find
it. Pure Python (PyYAML only): the curator's script and the loader share these rules.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

import yaml

# libyaml's loader parses the fixtures several times faster than the pure-Python one (same safe subset).
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

CODE_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
VALUE_RE = re.compile(r"^-?\d+(?:\.\d+)?$")
NEGATIVE_WORDS = ("下降", "减少", "降低", "回落", "负增长")
KINDS = ("actual", "target")
COMPARATORS = ("exact", "at_least", "at_most", "about")
STATUSES = ("proposed", "construction_started", "under_construction", "completed", "in_operation")
EVENT_KINDS = ("meeting", "expo", "sports", "festival", "forum", "competition", "other")
EVENT_STATUSES = ("held", "planned")
REGION_KINDS = (
    "province", "city", "district", "county_city", "county", "development_zone", "national_platform", "other",
)


@dataclass
class FixtureError(Exception):
    file: str
    record: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: record {self.record}: field {self.field!r}: {self.message}"


@dataclass
class Period:
    start: dt.date
    end: dt.date
    label: str
    precision: str  # day | month | year | period


def _year_end(y: int) -> dt.date:
    return dt.date(y, 12, 31)


def parse_period(raw: object) -> Period:
    """'2024' | '2022/2026' | '2025-01-01/2025-06-30' -> Period."""
    s = str(raw).strip()
    m = re.fullmatch(r"(\d{4})", s)
    if m:
        y = int(m[1])
        return Period(dt.date(y, 1, 1), _year_end(y), s, "year")
    m = re.fullmatch(r"(\d{4})/(\d{4})", s)
    if m:
        a, b = int(m[1]), int(m[2])
        if b < a:
            raise ValueError(f"period {s!r} ends before it starts")
        return Period(dt.date(a, 1, 1), _year_end(b), f"{a}–{b}", "period")
    m = re.fullmatch(r"(\d{4}-\d{2}-\d{2})/(\d{4}-\d{2}-\d{2})", s)
    if m:
        a, b = dt.date.fromisoformat(m[1]), dt.date.fromisoformat(m[2])
        if b < a:
            raise ValueError(f"period {s!r} ends before it starts")
        return Period(a, b, s, "period")
    raise ValueError(f"{s!r} is not a period: write YYYY, YYYY/YYYY or YYYY-MM-DD/YYYY-MM-DD")


def parse_date(raw: object, *, allow_period: bool = False) -> Period:
    """'2024' | '2024-05' | '2024-05-03' (and 'YYYY/YYYY' if allowed) -> Period with precision."""
    s = str(raw).strip()
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", s)
    if m:
        d = dt.date.fromisoformat(s)
        return Period(d, d, s, "day")
    m = re.fullmatch(r"(\d{4})-(\d{2})", s)
    if m:
        y, mo = int(m[1]), int(m[2])
        if not 1 <= mo <= 12:
            raise ValueError(f"{s!r}: month must be 01-12")
        return Period(dt.date(y, mo, 1), dt.date(y, mo, calendar.monthrange(y, mo)[1]), s, "month")
    m = re.fullmatch(r"(\d{4})", s)
    if m:
        y = int(m[1])
        return Period(dt.date(y, 1, 1), _year_end(y), s, "year")
    if allow_period and re.fullmatch(r"\d{4}/\d{4}", s):
        return parse_period(s)
    allowed = "YYYY, YYYY-MM, YYYY-MM-DD" + (" or YYYY/YYYY" if allow_period else "")
    raise ValueError(f"{s!r} is not a date: write {allowed}")


@dataclass
class Fixtures:
    """Everything in fixtures/, validated; cross-references resolved by code."""

    topics: list[dict] = field(default_factory=list)
    units: list[dict] = field(default_factory=list)
    regions: list[dict] = field(default_factory=list)
    sources: list[dict] = field(default_factory=list)
    indicators: list[dict] = field(default_factory=list)
    observations: list[dict] = field(default_factory=list)
    projects: list[dict] = field(default_factory=list)
    statuses: list[dict] = field(default_factory=list)
    series: list[dict] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)
    citations: dict[tuple, dict] = field(default_factory=dict)


class _Reader:
    def __init__(self, directory: Path):
        self.dir = Path(directory)
        self.fx = Fixtures()
        self.texts: dict[str, str] = {}
        self.source_periods: dict[str, list[Period]] = {}

    # -- helpers ---------------------------------------------------------------------------------
    def rel(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.dir.parent))
        except ValueError:
            return str(path)

    def load(self, path: Path):
        try:
            with open(path, encoding="utf-8") as fh:
                return yaml.load(fh, Loader=_SafeLoader)
        except FileNotFoundError:
            raise FixtureError(self.rel(path), "-", "-", "file is missing") from None
        except yaml.YAMLError as exc:
            raise FixtureError(self.rel(path), "-", "-", f"not valid YAML: {exc}") from None

    def records(self, path: Path, key: str | None = None) -> list[dict]:
        data = self.load(path)
        if key is not None:
            data = (data or {}).get(key) if isinstance(data, dict) else None
        if data is None:
            return []
        if not isinstance(data, list):
            raise FixtureError(self.rel(path), "-", key or "-", "expected a list of records")
        for i, rec in enumerate(data):
            if not isinstance(rec, dict):
                raise FixtureError(self.rel(path), f"#{i}", "-", "expected a mapping")
        return data

    @staticmethod
    def req(rec: dict, name: str, where: str, record: str) -> str:
        value = rec.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            raise FixtureError(where, record, name, "is required")
        return value

    @staticmethod
    def code(rec: dict, name: str, where: str, record: str) -> str:
        value = rec.get(name)
        if not isinstance(value, str) or not CODE_RE.match(value):
            raise FixtureError(where, record, name, f"{value!r} must be lower-case kebab-case ASCII")
        return value

    @staticmethod
    def choice(rec: dict, name: str, choices, where: str, record: str, default=None) -> str:
        value = rec.get(name, default)
        if value not in choices:
            raise FixtureError(where, record, name, f"{value!r} is not one of {', '.join(choices)}")
        return value

    def citations(self, rec: dict, where: str, record: str) -> list[tuple]:
        cits = rec.get("citations")
        if not isinstance(cits, list) or not cits:
            raise FixtureError(where, record, "citations", "every fact needs at least one citation")
        keys = []
        for j, c in enumerate(cits):
            fname = f"citations[{j}]"
            if not isinstance(c, dict):
                raise FixtureError(where, record, fname, "expected a mapping with source, quote, offset")
            src = c.get("source")
            if src not in self.texts:
                raise FixtureError(where, record, f"{fname}.source", f"unknown source {src!r}")
            quote = c.get("quote")
            if not isinstance(quote, str) or not quote:
                raise FixtureError(where, record, f"{fname}.quote", "is required")
            offset = c.get("offset")
            if not isinstance(offset, int) or offset < 0:
                raise FixtureError(where, record, f"{fname}.offset", f"{offset!r} must be a non-negative integer")
            text = self.texts[src]
            if text[offset : offset + len(quote)] != quote:
                found = text.find(quote)
                hint = f" (it occurs at offset {found})" if found >= 0 else " (it does not occur in the text)"
                raise FixtureError(
                    where, record, f"{fname}.quote", f"is not the text of {src} at offset {offset}{hint}"
                )
            key = (src, offset, quote)
            garbled = bool(c.get("garbled", False))
            prev = self.fx.citations.get(key)
            self.fx.citations[key] = {"source": src, "offset": offset, "quote": quote,
                                      "garbled": garbled or bool(prev and prev["garbled"])}
            keys.append(key)
        return keys

    # -- catalogues ------------------------------------------------------------------------------
    def read_catalogues(self) -> None:
        path = self.dir / "topics.yaml"
        seen = set()
        for i, rec in enumerate(self.records(path)):
            where, r = self.rel(path), f"#{i}"
            code = self.code(rec, "code", where, r)
            r = code
            if code in seen:
                raise FixtureError(where, r, "code", "duplicate code")
            seen.add(code)
            self.fx.topics.append({
                "code": code,
                "name_zh": self.req(rec, "name_zh", where, r),
                "name_en": self.req(rec, "name_en", where, r),
                "description": rec.get("description") or "",
            })

        path = self.dir / "units.yaml"
        seen = set()
        for i, rec in enumerate(self.records(path)):
            where, r = self.rel(path), f"#{i}"
            symbol = str(self.req(rec, "symbol", where, r))
            r = symbol
            if symbol in seen:
                raise FixtureError(where, r, "symbol", "duplicate symbol")
            seen.add(symbol)
            try:
                factor = Decimal(str(self.req(rec, "factor", where, r)))
            except InvalidOperation:
                raise FixtureError(where, r, "factor", f"{rec.get('factor')!r} is not a number") from None
            self.fx.units.append({
                "symbol": symbol,
                "name_en": self.req(rec, "name_en", where, r),
                "base_unit": self.req(rec, "base_unit", where, r),
                "factor": factor,
            })

        path = self.dir / "regions.yaml"
        seen = set()
        regions = self.records(path)
        for i, rec in enumerate(regions):
            where, r = self.rel(path), f"#{i}"
            code = self.code(rec, "code", where, r)
            r = code
            if code in seen:
                raise FixtureError(where, r, "code", "duplicate code")
            seen.add(code)
            self.fx.regions.append({
                "code": code,
                "name_zh": self.req(rec, "name_zh", where, r),
                "name_en": self.req(rec, "name_en", where, r),
                "kind": self.choice(rec, "kind", REGION_KINDS, where, r),
                "parent": rec.get("parent"),
            })
        for rec in self.fx.regions:
            if rec["parent"] is not None and rec["parent"] not in seen:
                raise FixtureError(self.rel(path), rec["code"], "parent", f"unknown region {rec['parent']!r}")

        path = self.dir / "sources.yaml"
        seen = set()
        for i, rec in enumerate(self.records(path)):
            where, r = self.rel(path), f"#{i}"
            slug = self.code(rec, "slug", where, r)
            r = slug
            if slug in seen:
                raise FixtureError(where, r, "slug", "duplicate slug")
            seen.add(slug)
            fname = self.req(rec, "file", where, r)
            tpath = self.dir / "sources" / fname
            if not tpath.is_file():
                raise FixtureError(where, r, "file", f"{self.rel(tpath)} does not exist")
            raw = tpath.read_bytes()
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise FixtureError(where, r, "file", f"{self.rel(tpath)} is not UTF-8") from None
            try:
                date = parse_date(self.req(rec, "date", where, r))
            except ValueError as exc:
                raise FixtureError(where, r, "date", str(exc)) from None
            periods = []
            for j, cov in enumerate(rec.get("covers") or []):
                try:
                    p = parse_period(cov.get("period"))
                except (ValueError, AttributeError) as exc:
                    raise FixtureError(where, r, f"covers[{j}].period", str(exc)) from None
                p.label = cov.get("label") or p.label
                periods.append(p)
            if not periods:
                raise FixtureError(where, r, "covers", "a source must say which periods it covers")
            self.texts[slug] = text
            self.source_periods[slug] = periods
            self.fx.sources.append({
                "slug": slug,
                "title_zh": self.req(rec, "title_zh", where, r),
                "title_en": self.req(rec, "title_en", where, r),
                "publisher_zh": rec.get("publisher_zh") or "",
                "publisher_en": rec.get("publisher_en") or "",
                "date": date.start,
                "date_precision": date.precision,
                "date_note": rec.get("date_note") or "",
                "file_name": fname,
                "text": text,
                "sha256": hashlib.sha256(raw).hexdigest(),
                "periods": [(p.start, p.end, p.label) for p in periods],
            })

    # -- facts -----------------------------------------------------------------------------------
    def read_indicators(self) -> None:
        topics = {t["code"] for t in self.fx.topics}
        units = {u["symbol"] for u in self.fx.units}
        regions = {r["code"] for r in self.fx.regions}
        codes: dict[str, str] = {}
        facts: dict[tuple, str] = {}
        for path in sorted((self.dir / "indicators").glob("*.yaml")):
            where = self.rel(path)
            for i, rec in enumerate(self.records(path)):
                code = self.code(rec, "code", where, f"#{i}")
                r = code
                if code in codes:
                    raise FixtureError(where, r, "code", f"duplicate indicator code (also in {codes[code]})")
                codes[code] = where
                topic = self.req(rec, "topic", where, r)
                if topic not in topics:
                    raise FixtureError(where, r, "topic", f"unknown topic {topic!r} (see topics.yaml)")
                unit = str(self.req(rec, "unit", where, r))
                if unit not in units:
                    raise FixtureError(where, r, "unit", f"unknown unit {unit!r} (add it to units.yaml)")
                self.fx.indicators.append({
                    "code": code, "topic": topic, "unit": unit,
                    "name_zh": self.req(rec, "name_zh", where, r),
                    "name_en": self.req(rec, "name_en", where, r),
                    "description": rec.get("description") or "",
                })
                obs_list = rec.get("observations") or []
                if not isinstance(obs_list, list):
                    raise FixtureError(where, r, "observations", "expected a list")
                for j, obs in enumerate(obs_list):
                    self.read_observation(obs, code, unit, where, f"{code}.observations[{j}]", regions, units, facts)

    def read_observation(self, obs, code, default_unit, where, r, regions, units, facts) -> None:
        if not isinstance(obs, dict):
            raise FixtureError(where, r, "-", "expected a mapping")
        region = obs.get("region", "changchun")
        if region not in regions:
            raise FixtureError(where, r, "region", f"unknown region {region!r} (see regions.yaml)")
        try:
            period = parse_period(self.req(obs, "period", where, r))
        except ValueError as exc:
            raise FixtureError(where, r, "period", str(exc)) from None
        label = obs.get("period_label") or period.label
        kind = self.choice(obs, "kind", KINDS, where, r)
        comparator = self.choice(obs, "comparator", COMPARATORS, where, r, default="exact")
        unit = str(obs.get("unit") or default_unit)
        if unit not in units:
            raise FixtureError(where, r, "unit", f"unknown unit {unit!r} (add it to units.yaml)")
        value = obs.get("value")
        if not isinstance(value, str) or not VALUE_RE.match(value):
            raise FixtureError(where, r, "value", f"{value!r} must be a quoted number as written, e.g. \"5.5\"")
        keys = self.citations(obs, where, r)
        digits = value.lstrip("-")
        for src, off, quote in keys:
            if digits not in quote:
                raise FixtureError(where, r, "value", f"{value} does not appear in the quote {quote!r}")
            if not any(p.start <= period.start and period.end <= p.end for p in self.source_periods[src]):
                raise FixtureError(
                    where, r, "period", f"{period.label} lies outside the periods {src} covers"
                )
        if value.startswith("-") and not any(w in q for _, _, q in keys for w in NEGATIVE_WORDS):
            raise FixtureError(where, r, "value", "a negative value needs 下降/减少/降低/回落 in its quote")
        fact = (code, region, period.start, period.end, kind, comparator)
        if fact in facts:
            raise FixtureError(
                where, r, "period",
                f"same indicator, region, period, kind and comparator as {facts[fact]}: "
                "merge them into one observation with several citations",
            )
        facts[fact] = r
        self.fx.observations.append({
            "indicator": code, "region": region, "period_start": period.start, "period_end": period.end,
            "period_label": label, "kind": kind, "comparator": comparator, "value": Decimal(value),
            "unit": unit, "citations": keys, "_where": f"{where} {r}",
        })

    def read_projects(self) -> None:
        path = self.dir / "projects.yaml"
        if not path.exists():
            return
        where = self.rel(path)
        topics = {t["code"] for t in self.fx.topics}
        regions = {r["code"] for r in self.fx.regions}
        seen = set()
        for i, rec in enumerate(self.records(path)):
            slug = self.code(rec, "slug", where, f"#{i}")
            r = slug
            if slug in seen:
                raise FixtureError(where, r, "slug", "duplicate slug")
            seen.add(slug)
            topic = self.req(rec, "topic", where, r)
            if topic not in topics:
                raise FixtureError(where, r, "topic", f"unknown topic {topic!r}")
            regs = rec.get("regions") or ["changchun"]
            for reg in regs:
                if reg not in regions:
                    raise FixtureError(where, r, "regions", f"unknown region {reg!r}")
            self.fx.projects.append({
                "slug": slug, "topic": topic, "regions": list(dict.fromkeys(regs)),
                "name_zh": self.req(rec, "name_zh", where, r),
                "name_en": self.req(rec, "name_en", where, r),
                "description": rec.get("description") or "",
            })
            timeline = rec.get("timeline")
            if not isinstance(timeline, list) or not timeline:
                raise FixtureError(where, r, "timeline", "a project needs at least one dated status statement")
            keys = set()
            for j, st in enumerate(timeline):
                sr = f"{slug}.timeline[{j}]"
                status = self.choice(st, "status", STATUSES, where, sr)
                kind = self.choice(st, "kind", KINDS, where, sr)
                try:
                    date = parse_date(self.req(st, "date", where, sr), allow_period=True)
                except ValueError as exc:
                    raise FixtureError(where, sr, "date", str(exc)) from None
                key = (status, kind, date.start, date.end)
                if key in keys:
                    raise FixtureError(where, sr, "date", "duplicate status statement: merge the citations")
                keys.add(key)
                self.fx.statuses.append({
                    "project": slug, "status": status, "kind": kind, "date_start": date.start,
                    "date_end": date.end, "date_precision": date.precision,
                    "date_label": st.get("date_label") or date.label,
                    "citations": self.citations(st, where, sr),
                })

    def read_events(self) -> None:
        path = self.dir / "events.yaml"
        if not path.exists():
            return
        where = self.rel(path)
        regions = {r["code"] for r in self.fx.regions}
        projects = {p["slug"] for p in self.fx.projects}
        series = set()
        for i, rec in enumerate(self.records(path, "series")):
            slug = self.code(rec, "slug", where, f"series #{i}")
            if slug in series:
                raise FixtureError(where, slug, "slug", "duplicate series slug")
            series.add(slug)
            self.fx.series.append({
                "slug": slug,
                "name_zh": self.req(rec, "name_zh", where, slug),
                "name_en": self.req(rec, "name_en", where, slug),
            })
        seen = set()
        for i, rec in enumerate(self.records(path, "events")):
            slug = self.code(rec, "slug", where, f"#{i}")
            r = slug
            if slug in seen:
                raise FixtureError(where, r, "slug", "duplicate slug")
            seen.add(slug)
            try:
                start = parse_date(self.req(rec, "start", where, r))
            except ValueError as exc:
                raise FixtureError(where, r, "start", str(exc)) from None
            end = None
            if rec.get("end"):
                try:
                    end = parse_date(rec["end"])
                except ValueError as exc:
                    raise FixtureError(where, r, "end", str(exc)) from None
                if end.start < start.start:
                    raise FixtureError(where, r, "end", "the event ends before it starts")
            ser = rec.get("series")
            if ser is not None and ser not in series:
                raise FixtureError(where, r, "series", f"unknown series {ser!r}")
            region = rec.get("region") or "changchun"
            if region not in regions:
                raise FixtureError(where, r, "region", f"unknown region {region!r}")
            project = rec.get("project")
            if project is not None and project not in projects:
                raise FixtureError(where, r, "project", f"unknown project {project!r}")
            self.fx.events.append({
                "slug": slug,
                "name_zh": self.req(rec, "name_zh", where, r),
                "name_en": self.req(rec, "name_en", where, r),
                "description": rec.get("description") or "",
                "kind": self.choice(rec, "kind", EVENT_KINDS, where, r),
                "status": self.choice(rec, "status", EVENT_STATUSES, where, r),
                "series": ser, "region": region, "project": project,
                "start_date": start.start, "start_precision": start.precision,
                "end_date": end.start if end else None, "end_precision": end.precision if end else "",
                "citations": self.citations(rec, where, r),
            })


def read_fixtures(directory: Path) -> Fixtures:
    """Read and validate every fixture file; raise FixtureError on the first problem."""
    reader = _Reader(directory)
    reader.read_catalogues()
    reader.read_indicators()
    reader.read_projects()
    reader.read_events()
    return reader.fx
