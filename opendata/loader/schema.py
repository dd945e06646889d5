"""The fixture rules, declared once: pydantic models of every record of fixtures/ (docs/fixtures.md).

Each fixture file is a list (or a mapping of lists) of records; each record is a pydantic model with
`extra="forbid"`, its choices taken from the Django models' enums. The rules that need more than one
record (a quote must be the source's text at its offset, a value must appear in its quote, a period
must lie within what the source covers, references must be known, keys unique, one fact per key)
are validators that read the catalogue from the validation context (`Known`).

The file format is this module's (keys, types, periods as written, references by key within the
files, one record per key); the rules on what records state are the services' own functions
(`catalogue.services.citation_problems`, `indicators.services.observation_problems`...), which the
validators here call, so that the loader, the curator's script and every write through the API
apply one rule.

Two callers share these rules: the loader (`read_fixtures`, then opendata/loader/services.py writes
the records) and the curator's script (scripts/fixtures.py `check`, through `check_draft`). Every
problem is a `FixtureError(file, record, field, message)` that names where to look.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import re
import types
import typing
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    PrivateAttr,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    model_validator,
)
from pydantic_core import PydanticCustomError

from indicators.models import Assessment, Comparator, Measure
from indicators.services import dispute_problems, observation_problems
from opendata.base.models import CODE_RE, FactKind, code_problem
from opendata.base.services import Problem
from opendata.catalogue.models import RegionKind
from opendata.catalogue.services import citation_problems, cited_problems, source_problems, unit_problems
from projects.models import EventKind, EventStatus, ProjectStage
from projects.services import event_problems

# libyaml's loader parses the fixtures several times faster than the pure-Python one (same safe subset).
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

VALUE_RE = re.compile(r"^-?\d+(?:\.\d+)?$")
DEFAULT_REGION = "changchun"
DEFAULT_COMPARATOR = Comparator.EXACT.value
NESTED = ("observations", "timeline")  # nested records: an error there names e.g. `gdp.observations[3]`


@dataclass
class FixtureError(Exception):
    file: str
    record: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: record {self.record}: field {self.field!r}: {self.message}"


# -- periods and dates -------------------------------------------------------------------------------


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


# -- the validation context: what records may refer to ----------------------------------------------


@dataclass
class Known:
    """The catalogue records are checked against, passed to pydantic as `context={"known": ...}`."""

    directory: Path | None = None  # the fixture directory (source texts are in its sources/)
    topics: set[str] = field(default_factory=set)
    units: set[str] = field(default_factory=set)
    regions: set[str] = field(default_factory=set)
    series: set[str] = field(default_factory=set)
    projects: set[str] = field(default_factory=set)
    texts: dict[str, str] = field(default_factory=dict)  # source slug -> text
    covers: dict[str, list[Period]] = field(default_factory=dict)  # source slug -> periods it covers

    def context(self) -> dict:
        return {"known": self}


def _known(info: ValidationInfo) -> Known:
    known = (info.context or {}).get("known")
    if known is None:
        raise RuntimeError("fixture records are validated with context={'known': Known(...)}")
    return known


def _keys(records: object, key: str) -> set[str]:
    """The keys a raw (not yet validated) list of records declares, for references within one file."""
    if not isinstance(records, list):
        return set()
    return {r[key] for r in records if isinstance(r, dict) and isinstance(r.get(key), str)}


def _rule(message: str, *at: str | int) -> PydanticCustomError:
    """A broken cross-record rule; `at` is the path, below the validated object, of the field to blame."""
    return PydanticCustomError("fixture_rule", "{message}", {"message": message, "at": at})


#: The services' field names as the fixtures name them.
FIXTURE_FIELDS = {"periods": "covers", "period_start,period_end": "period", "end_date": "end"}


def _first(problems: list[Problem]) -> PydanticCustomError | None:
    """The first problem a service rule found, as a fixture rule error (None: no problem)."""
    if not problems:
        return None
    return _rule(problems[0].message, FIXTURE_FIELDS.get(problems[0].field, problems[0].field))


# -- field types -------------------------------------------------------------------------------------


def _code(v: object) -> str:
    if not isinstance(v, str) or not CODE_RE.match(v):
        raise ValueError(code_problem(v))
    return v


def _text(v: object) -> str:
    if isinstance(v, str) and v.strip():
        return v
    raise ValueError("is required" if v is None or isinstance(v, str) else f"{v!r} must be text")


def _optional_text(v: object) -> str:
    if v is None or isinstance(v, str):
        return v or ""
    raise ValueError(f"{v!r} must be text")


def _quoted_number(v: object) -> str:
    if not isinstance(v, str) or not VALUE_RE.match(v):
        raise ValueError(f'{v!r} must be a quoted number as written, e.g. "5.5"')
    return v


def _factor(v: object) -> Decimal:
    try:
        d = Decimal(str(v))
    except InvalidOperation:
        raise ValueError(f"{v!r} is not a number") from None
    problems = unit_problems(factor=d)
    if problems:
        raise ValueError(problems[0].message)
    return d


def _ref(kind: str, what: str, hint: str):
    """A reference to a record of the catalogue (`Known.<kind>`)."""

    def check(v: str, info: ValidationInfo) -> str:
        if v not in getattr(_known(info), kind):
            raise ValueError(f"unknown {what} {v!r}{hint}")
        return v

    return AfterValidator(check)


def _none_as(default):
    return BeforeValidator(lambda v: default() if v is None else v)


Code = Annotated[str, PlainValidator(_code)]
Text = Annotated[str, PlainValidator(_text)]
OptionalText = Annotated[str, PlainValidator(_optional_text)]
QuotedNumber = Annotated[str, PlainValidator(_quoted_number)]
Factor = Annotated[Decimal, PlainValidator(_factor)]
PeriodOf = Annotated[Period, PlainValidator(parse_period)]
DateOf = Annotated[Period, PlainValidator(parse_date)]
DateOrPeriodOf = Annotated[Period, PlainValidator(lambda v: parse_date(v, allow_period=True))]
TopicRef = Annotated[str, _ref("topics", "topic", " (see topics.yaml)")]
UnitRef = Annotated[str, _ref("units", "unit", " (add it to units.yaml)")]
RegionRef = Annotated[str, _ref("regions", "region", " (see regions.yaml)")]
SourceRef = Annotated[str, _ref("texts", "source", " (see sources.yaml)")]
SeriesRef = Annotated[str, _ref("series", "series", " (see the series in events.yaml)")]
ProjectRef = Annotated[str, _ref("projects", "project", " (see projects.yaml)")]


# -- records -----------------------------------------------------------------------------------------


class Record(BaseModel):
    """A fixture record: every key is declared (an unknown key is an error); choices are stored as text."""

    model_config = ConfigDict(extra="forbid", use_enum_values=True)


class TopicRecord(Record):
    code: Code
    name_zh: Text
    name_en: Text
    description: OptionalText = ""


class UnitRecord(Record):
    symbol: Text
    name_en: Text
    base_unit: Text
    factor: Factor


class RegionRecord(Record):
    code: Code
    name_zh: Text
    name_en: Text
    kind: RegionKind
    parent: RegionRef | None = None


class CoverRecord(Record):
    period: PeriodOf
    label: OptionalText = ""


class SourceRecord(Record):
    slug: Code
    file: Text
    title_zh: Text
    title_en: Text
    publisher_zh: OptionalText = ""
    publisher_en: OptionalText = ""
    date: DateOf
    date_note: OptionalText = ""
    covers: list[CoverRecord]
    _text: str = PrivateAttr("")
    _sha256: str = PrivateAttr("")

    @model_validator(mode="after")
    def _has_its_text(self, info: ValidationInfo) -> SourceRecord:
        if error := _first(source_problems(periods=[(c.period.start, c.period.end) for c in self.covers])):
            raise error
        directory = _known(info).directory
        path = directory / "sources" / self.file
        shown = f"{directory.name}/sources/{self.file}"
        if not path.is_file():
            raise _rule(f"{shown} does not exist", "file")
        raw = path.read_bytes()
        try:
            self._text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise _rule(f"{shown} is not UTF-8", "file") from None
        self._sha256 = hashlib.sha256(raw).hexdigest()
        return self

    @property
    def text(self) -> str:
        return self._text

    @property
    def periods(self) -> list[Period]:
        return [Period(c.period.start, c.period.end, c.label or c.period.label, c.period.precision)
                for c in self.covers]

    def record(self) -> dict:
        return {
            "slug": self.slug, "title_zh": self.title_zh, "title_en": self.title_en,
            "publisher_zh": self.publisher_zh, "publisher_en": self.publisher_en,
            "date": self.date.start, "date_precision": self.date.precision, "date_note": self.date_note,
            "file_name": self.file, "text": self._text, "sha256": self._sha256,
            "periods": [(p.start, p.end, p.label) for p in self.periods],
        }


class CitationRecord(Record):
    source: SourceRef
    offset: Annotated[int, Field(strict=True, ge=0)]
    quote: Annotated[str, Field(strict=True, min_length=1)]
    garbled: bool = False

    @model_validator(mode="after")
    def _is_verbatim(self, info: ValidationInfo) -> CitationRecord:
        text = _known(info).texts[self.source]
        if error := _first(citation_problems(text=text, source=self.source, offset=self.offset, quote=self.quote)):
            raise error
        return self

    @property
    def key(self) -> tuple[str, int, str]:
        return (self.source, self.offset, self.quote)


def _cited(citations: list[CitationRecord]) -> list[CitationRecord]:
    if problems := cited_problems(citations):
        raise ValueError(problems[0].message)
    return citations


Citations = Annotated[list[CitationRecord], AfterValidator(_cited)]


class ObservationRecord(Record):
    region: RegionRef = DEFAULT_REGION
    period: PeriodOf
    period_label: OptionalText = ""
    kind: FactKind
    comparator: Comparator = DEFAULT_COMPARATOR
    value: QuotedNumber
    value_as_written: OptionalText = ""  # the number in Chinese numerals as the quote writes it ("千万")
    unit: UnitRef | None = None  # when it differs from the indicator's
    measure: Measure = Measure.LEVEL.value
    disputed: Annotated[bool, Field(strict=True)] = False
    preferred: Annotated[bool, Field(strict=True)] = True
    dispute_note: OptionalText = ""
    assessment: Assessment = Assessment.NONE.value
    assessment_period: PeriodOf | None = None
    citations: Citations

    @model_validator(mode="after")
    def _agrees_with_its_quotes(self, info: ValidationInfo) -> ObservationRecord:
        a = self.assessment_period
        if error := _first(dispute_problems(
                disputed=self.disputed, preferred=self.preferred, dispute_note=self.dispute_note,
                assessment=self.assessment, assessment_period=(a.start, a.end) if a else (None, None),
                period_end=self.period.end)):
            raise error
        covers = _known(info).covers
        problems = observation_problems(
            value=self.value, period_start=self.period.start, period_end=self.period.end,
            period_label=self.period.label, citations=[(c.source, c.quote) for c in self.citations],
            covers={c.source: [(p.start, p.end) for p in covers[c.source]] for c in self.citations},
            value_as_written=self.value_as_written)
        if error := _first(problems):
            raise error
        return self

    @property
    def fact(self) -> tuple:
        """What one observation states once: two records with the same fact must be merged (a disputed
        figure that is not preferred stands beside the preferred one, one per value)."""
        return (self.region, self.period.start, self.period.end, self.kind, self.comparator,
                None if self.preferred else self.value)


class IndicatorRecord(Record):
    code: Code
    name_zh: Text
    name_en: Text
    description: OptionalText = ""
    unit: UnitRef
    topic: TopicRef
    observations: Annotated[list[ObservationRecord], _none_as(list)] = []

    @model_validator(mode="after")
    def _one_observation_per_fact(self) -> IndicatorRecord:
        facts: dict[tuple, int] = {}
        for j, obs in enumerate(self.observations):
            if obs.fact in facts:
                raise _rule(
                    f"same indicator, region, period, kind and comparator as observations[{facts[obs.fact]}]: "
                    "merge them into one observation with several citations", "observations", j, "period",
                )
            facts[obs.fact] = j
        return self


class StatusRecord(Record):
    status: ProjectStage
    kind: FactKind
    date: DateOrPeriodOf
    date_label: OptionalText = ""
    citations: Citations


class ProjectRecord(Record):
    slug: Code
    name_zh: Text
    name_en: Text
    description: OptionalText = ""
    topic: TopicRef
    regions: Annotated[list[RegionRef], BeforeValidator(lambda v: v or [DEFAULT_REGION])] = [DEFAULT_REGION]
    timeline: list[StatusRecord]

    @model_validator(mode="after")
    def _a_timeline_without_repeats(self) -> ProjectRecord:
        if not self.timeline:
            raise _rule("a project needs at least one dated status statement", "timeline")
        seen = set()
        for j, st in enumerate(self.timeline):
            key = (st.status, st.kind, st.date.start, st.date.end)
            if key in seen:
                raise _rule("duplicate status statement: merge the citations", "timeline", j, "date")
            seen.add(key)
        return self


class SeriesRecord(Record):
    slug: Code
    name_zh: Text
    name_en: Text


class EventRecord(Record):
    slug: Code
    name_zh: Text
    name_en: Text
    description: OptionalText = ""
    kind: EventKind
    series: SeriesRef | None = None
    start: DateOf
    end: Annotated[DateOf | None, BeforeValidator(lambda v: v or None)] = None
    status: EventStatus
    region: Annotated[RegionRef, _none_as(lambda: DEFAULT_REGION)] = DEFAULT_REGION
    project: ProjectRef | None = None
    citations: Citations

    @model_validator(mode="after")
    def _ends_after_it_starts(self) -> EventRecord:
        if self.end is not None and (error := _first(event_problems(
                start_date=self.start.start, end_date=self.end.start, end_precision=self.end.precision))):
            raise error
        return self


# -- files -------------------------------------------------------------------------------------------


def _not_empty(records: list) -> list:
    if not records:
        raise ValueError("has no records: an empty list would withdraw every record it held")
    return records


def _unique(key: str, what: str):
    def check(records: list) -> list:
        seen: dict[Any, int] = {}
        for i, rec in enumerate(records):
            k = getattr(rec, key)
            if k in seen:
                raise _rule(f"duplicate {what} (also record #{seen[k]})", i, key)
            seen[k] = i
        return records

    return AfterValidator(check)


def _list_of(model, key: str, what: str, *, required: bool = True):
    checks = [AfterValidator(_not_empty)] if required else [_none_as(list)]
    return Annotated[list[model], *checks, _unique(key, what)]


# A fixture file: its records, at least one, each key once. (A section of a draft may be empty.)
TopicsFile = _list_of(TopicRecord, "code", "code")
UnitsFile = _list_of(UnitRecord, "symbol", "symbol")
RegionsFile = _list_of(RegionRecord, "code", "code")
SourcesFile = _list_of(SourceRecord, "slug", "slug")
IndicatorsFile = _list_of(IndicatorRecord, "code", "indicator code")
ProjectsFile = _list_of(ProjectRecord, "slug", "slug")
EventList = _list_of(EventRecord, "slug", "slug")
SeriesSection = _list_of(SeriesRecord, "slug", "series slug", required=False)
RegionSection = _list_of(RegionRecord, "code", "code", required=False)
UnitSection = _list_of(UnitRecord, "symbol", "symbol", required=False)
IndicatorSection = _list_of(IndicatorRecord, "code", "indicator code", required=False)
ProjectSection = _list_of(ProjectRecord, "slug", "slug", required=False)
EventSection = _list_of(EventRecord, "slug", "slug", required=False)


class EventsFile(Record):
    """events.yaml: both sections are required; `series` may be an empty list."""

    series: SeriesSection
    events: EventList


class DraftFile(Record):
    """fixtures/drafts/<NNN>.yaml: what one document states, in the same records as the fixture files;
    `regions`, `units` and `series` hold only entries not yet in the catalogues. Every section is optional."""

    regions: RegionSection = []
    units: UnitSection = []
    series: SeriesSection = []
    indicators: IndicatorSection = []
    projects: ProjectSection = []
    events: EventSection = []


_ADAPTERS: dict[Any, TypeAdapter] = {}


def _adapter(shape) -> TypeAdapter:
    if shape not in _ADAPTERS:
        _ADAPTERS[shape] = TypeAdapter(shape)
    return _ADAPTERS[shape]


# -- pydantic errors as FixtureErrors ----------------------------------------------------------------


def _label(rec: object, index: int, section: str | None) -> str:
    if isinstance(rec, dict):
        for key in ("code", "slug", "symbol"):
            v = rec.get(key)
            if isinstance(v, str) and (key == "symbol" and v.strip() or CODE_RE.match(v)):
                return v
    return f"{section} #{index}" if section else f"#{index}"


def _path(loc: list) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "-"


def _unwrap(tp):
    while True:
        origin = typing.get_origin(tp)
        if origin is Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            tp = next(a for a in typing.get_args(tp) if a is not type(None))
        else:
            return tp


def _fields_at(shape, loc: tuple) -> list[str]:
    """The keys a record at `loc` of a file of `shape` may have (for 'unknown key' messages)."""
    tp = shape
    for part in loc:
        tp = _unwrap(tp)
        if isinstance(part, int) and typing.get_origin(tp) is list:
            tp = typing.get_args(tp)[0]
        elif isinstance(tp, type) and issubclass(tp, BaseModel) and part in tp.model_fields:
            tp = tp.model_fields[part].annotation
        else:
            return []
    tp = _unwrap(tp)
    return list(tp.model_fields) if isinstance(tp, type) and issubclass(tp, BaseModel) else []


def _message(err: dict, shape, loc: tuple) -> str:
    kind, ctx = err["type"], err.get("ctx") or {}
    if kind == "fixture_rule":
        return ctx["message"]
    if kind == "missing":
        hint = " (run `python scripts/fixtures.py locate`)" if loc and loc[-1] == "offset" else ""
        return f"is required{hint}"
    if kind == "extra_forbidden":
        allowed = _fields_at(shape, loc[:-1])
        return "unknown key: not part of the fixture format" + (f" (allowed: {', '.join(allowed)})" if allowed else "")
    if kind == "value_error":
        return str(ctx["error"])
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"expected a mapping of keys to values, got {type(err['input']).__name__}"
    if kind == "list_type":
        return f"expected a list, got {type(err['input']).__name__}"
    if kind in ("enum", "literal_error"):
        return f"{err['input']!r} is not allowed: expected {ctx['expected']}"
    got = repr(err["input"])
    return f"{err['msg']} (got {got if len(got) <= 80 else got[:77] + '...'})"


def fixture_errors(file: str, raw: object, exc: ValidationError, shape) -> list[FixtureError]:
    """Each pydantic error as a FixtureError naming the file, the record (code/slug or #index, with
    `.observations[j]`/`.timeline[j]` for a nested record) and the field path within it."""
    out = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"]) + tuple((err.get("ctx") or {}).get("at", ()))
        rest, node, section = list(loc), raw, None
        if rest and isinstance(rest[0], str) and isinstance(raw, dict):  # a section of a mapping file
            section = rest.pop(0)
            node = raw.get(section)
        if not rest or not isinstance(rest[0], int):
            out.append(FixtureError(file, "-", _path([section, *rest] if section else rest), _message(err, shape, loc)))
            continue
        i = rest.pop(0)
        record = _label(node[i] if isinstance(node, list) and i < len(node) else None, i, section)
        while len(rest) >= 2 and rest[0] in NESTED and isinstance(rest[1], int):
            record += f".{rest[0]}[{rest[1]}]"
            rest = rest[2:]
        out.append(FixtureError(file, record, _path(rest), _message(err, shape, loc)))
    return out


#: C0 control characters but tab and newline: no fixture value may hold one (YAML lets a quoted
#: string write them as escapes, "\0" or "\x01"; a raw one in the file is already a YAML error).
FORBIDDEN_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f]")


def _control_character(node: object, loc: tuple = ()) -> tuple[tuple, str] | None:
    """The path and code point (`U+0000`) of the first control character in a key or value of `node`."""
    if isinstance(node, str):
        found = FORBIDDEN_CONTROL.search(node)
        return (loc, f"U+{ord(found.group()):04X}") if found else None
    if isinstance(node, dict):
        for key, value in node.items():
            hit = _control_character(key, loc) or _control_character(value, (*loc, str(key)))
            if hit:
                return hit
    elif isinstance(node, list):
        for i, value in enumerate(node):
            hit = _control_character(value, (*loc, i))
            if hit:
                return hit
    return None


def control_character_error(file: str, raw: object) -> FixtureError | None:
    """A FixtureError naming the file, record and field of the first forbidden control character in `raw`."""
    hit = _control_character(raw)
    if hit is None:
        return None
    loc, char = hit
    rest, node, section = list(loc), raw, None
    if rest and isinstance(rest[0], str) and isinstance(raw, dict):
        section = rest.pop(0)
        node = raw.get(section)
    message = f"control character {char} is not allowed (only tab and newline are)"
    if not rest or not isinstance(rest[0], int):
        return FixtureError(file, "-", _path([section, *rest] if section else rest), message)
    i = rest.pop(0)
    record = _label(node[i] if isinstance(node, list) and i < len(node) else None, i, section)
    while len(rest) >= 2 and rest[0] in NESTED and isinstance(rest[1], int):
        record += f".{rest[0]}[{rest[1]}]"
        rest = rest[2:]
    return FixtureError(file, record, _path(rest) or "-", message)


def validate(shape, raw: object, known: Known, file: str) -> Any:
    """Validate raw YAML data as `shape`; raise the first problem as a FixtureError (a forbidden
    control character anywhere in the file first)."""
    control = control_character_error(file, raw)
    if control is not None:
        raise control
    try:
        return _adapter(shape).validate_python(raw, context=known.context())
    except ValidationError as exc:
        raise fixture_errors(file, raw, exc, shape)[0] from None


# -- reading fixtures/ -------------------------------------------------------------------------------


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

    def cite(self, citations: list[CitationRecord]) -> list[tuple]:
        """Register a fact's citations (one row per source, offset and quote) and return their keys."""
        for c in citations:
            prev = self.citations.get(c.key)
            self.citations[c.key] = {"source": c.source, "offset": c.offset, "quote": c.quote,
                                     "garbled": c.garbled or bool(prev and prev["garbled"])}
        return [c.key for c in citations]


def rel(directory: Path, path: Path) -> str:
    """`fixtures/indicators/economy.yaml`: a path as the curator sees it, from the fixtures' parent."""
    try:
        return str(path.relative_to(directory.parent))
    except ValueError:
        return str(path)


def load_yaml(path: Path, shown: str) -> object:
    """A fixture file's data; a missing, undecodable (not UTF-8), unparsable or empty file is a FixtureError."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise FixtureError(shown, "-", "-", "file is missing") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise FixtureError(shown, "-", "-", f"not UTF-8: undecodable byte 0x{raw[exc.start]:02x} at byte offset "
                                            f"{exc.start} (line {line})") from None
    try:
        data = yaml.load(text, Loader=_SafeLoader)
    except yaml.YAMLError as exc:
        raise FixtureError(shown, "-", "-", f"not valid YAML: {exc}") from None
    if data is None:
        raise FixtureError(shown, "-", "-", "file is empty: it must hold its records (see docs/fixtures.md)")
    return data


def read_catalogue(directory: Path) -> tuple[Fixtures, Known]:
    """topics.yaml, units.yaml, regions.yaml and sources.yaml: what every fact refers to."""
    directory = Path(directory)
    fx, known = Fixtures(), Known(directory=directory)

    def read(name: str, shape, declared: str | None = None):
        path = directory / name
        where = rel(directory, path)
        raw = load_yaml(path, where)
        if declared:  # a region's parent may come later in the same file
            setattr(known, declared, _keys(raw, "code"))
        return validate(shape, raw, known, where)

    topics = read("topics.yaml", TopicsFile)
    fx.topics = [t.model_dump() for t in topics]
    known.topics = {t.code for t in topics}
    units = read("units.yaml", UnitsFile)
    fx.units = [u.model_dump() for u in units]
    known.units = {u.symbol for u in units}
    regions = read("regions.yaml", RegionsFile, declared="regions")
    fx.regions = [r.model_dump() for r in regions]
    sources = read("sources.yaml", SourcesFile)
    fx.sources = [s.record() for s in sources]
    known.texts = {s.slug: s.text for s in sources}
    known.covers = {s.slug: s.periods for s in sources}
    return fx, known


def read_fixtures(directory: Path) -> Fixtures:
    """Read and validate every fixture file; raise FixtureError on the first problem."""
    directory = Path(directory)
    fx, known = read_catalogue(directory)

    codes: dict[str, str] = {}
    paths = sorted((directory / "indicators").glob("*.yaml"))
    if not paths:
        raise FixtureError(rel(directory, directory / "indicators"), "-", "-", "no indicator files (*.yaml)")
    for path in paths:
        where = rel(directory, path)
        for ind in validate(IndicatorsFile, load_yaml(path, where), known, where):
            if ind.code in codes:
                raise FixtureError(where, ind.code, "code", f"duplicate indicator code (also in {codes[ind.code]})")
            codes[ind.code] = where
            fx.indicators.append({"code": ind.code, "topic": ind.topic, "unit": ind.unit, "name_zh": ind.name_zh,
                                  "name_en": ind.name_en, "description": ind.description})
            for j, o in enumerate(ind.observations):
                fx.observations.append({
                    "indicator": ind.code, "region": o.region, "period_start": o.period.start,
                    "period_end": o.period.end, "period_label": o.period_label or o.period.label, "kind": o.kind,
                    "comparator": o.comparator, "value": Decimal(o.value), "unit": o.unit or ind.unit,
                    "value_as_written": o.value_as_written, "measure": o.measure, "disputed": o.disputed, "preferred": o.preferred,
                    "dispute_note": o.dispute_note, "assessment": o.assessment,
                    "assessment_period_start": o.assessment_period.start if o.assessment_period else None,
                    "assessment_period_end": o.assessment_period.end if o.assessment_period else None,
                    "_alternative": None if o.preferred else o.value,
                    "citations": fx.cite(o.citations), "_where": f"{where} {ind.code}.observations[{j}]",
                })

    path = directory / "projects.yaml"
    where = rel(directory, path)
    for p in validate(ProjectsFile, load_yaml(path, where), known, where):
        fx.projects.append({"slug": p.slug, "topic": p.topic, "regions": list(dict.fromkeys(p.regions)),
                            "name_zh": p.name_zh, "name_en": p.name_en, "description": p.description})
        for st in p.timeline:
            fx.statuses.append({
                "project": p.slug, "status": st.status, "kind": st.kind, "date_start": st.date.start,
                "date_end": st.date.end, "date_precision": st.date.precision,
                "date_label": st.date_label or st.date.label, "citations": fx.cite(st.citations),
            })
    known.projects = {p["slug"] for p in fx.projects}

    path = directory / "events.yaml"
    where = rel(directory, path)
    raw = load_yaml(path, where)
    known.series = _keys(raw.get("series") if isinstance(raw, dict) else None, "slug")
    events = validate(EventsFile, raw, known, where)
    fx.series = [s.model_dump() for s in events.series]
    for e in events.events:
        fx.events.append({
            "slug": e.slug, "name_zh": e.name_zh, "name_en": e.name_en, "description": e.description,
            "kind": e.kind, "status": e.status, "series": e.series, "region": e.region, "project": e.project,
            "start_date": e.start.start, "start_precision": e.start.precision,
            "end_date": e.end.start if e.end else None, "end_precision": e.end.precision if e.end else "",
            "citations": fx.cite(e.citations),
        })
    return fx


# -- drafts (scripts/fixtures.py check) --------------------------------------------------------------


def draft_known(directory: Path) -> Known:
    """What a draft may refer to besides its own sections: the catalogue of fixtures/, and the series
    and projects that fixtures/ already holds (drafts of other documents add to them)."""
    directory = Path(directory)
    _, known = read_catalogue(directory)
    events = load_yaml(directory / "events.yaml", rel(directory, directory / "events.yaml"))
    known.series = _keys(events.get("series") if isinstance(events, dict) else None, "slug")
    known.projects = _keys(load_yaml(directory / "projects.yaml", rel(directory, directory / "projects.yaml")), "slug")
    return known


def check_draft(data: object, known: Known, file: str) -> list[FixtureError]:
    """Every problem of one draft (a mapping of sections, see DraftFile), checked by the same record
    models as the fixture files; the draft's own regions, units, series and projects count as known."""
    if data is None:
        return [FixtureError(file, "-", "-", "file is empty: a draft holds at least one section")]
    control = control_character_error(file, data)
    if control is not None:
        return [control]
    if isinstance(data, dict):
        known = Known(
            directory=known.directory, topics=known.topics, texts=known.texts, covers=known.covers,
            units=known.units | _keys(data.get("units"), "symbol"),
            regions=known.regions | _keys(data.get("regions"), "code"),
            series=known.series | _keys(data.get("series"), "slug"),
            projects=known.projects | _keys(data.get("projects"), "slug"),
        )
    try:
        _adapter(DraftFile).validate_python(data, context=known.context())
    except ValidationError as exc:
        return fixture_errors(file, data, exc, DraftFile)
    return []
