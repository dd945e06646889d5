"""Writes of indicators and observations (with their citations), and the observations' rules, which
the loader's fixture schema (opendata/loader/schema.py) applies too.

    indicator_create(*, data, actor)
    indicator_update(*, key, data, actor, partial=True, expected_version=None)
    indicator_upsert(*, data, actor)
    indicator_delete(*, key, actor, expected_version=None)
    indicator_restore(*, key, actor, expected_version=None)
    observation_create / _update / _upsert / _delete / _restore (the same arguments)
    observation_bulk_upsert(*, rows, actor) -> list[Write]

See opendata.base.services for `data`, `key`, `actor`, the `Write` returned and the `WriteError`s.

- An observation's uid derives from its indicator, region, period (start and end), kind and
  comparator (`observation_uid`, as the loader derives it): those fields are fixed once it exists;
  its value, unit, period label and citations change. `unit` defaults to the indicator's unit.
  `citations` are citation uids or mappings {"source", "offset", "quote", "garbled"?}
  (catalogue.services.citation_ensure).
- `observation_bulk_upsert`: every row upserted in one transaction, all or nothing. When any row
  is refused, nothing is written and one WriteError lists each problem of each bad row
  (`{"index": row, "field": ..., "message": ...}`); a row repeating an earlier row's observation is
  an error too. Written set-based (`Writer.bulk_upsert`: the same result as `upsert` row by row, in a
  number of statements that does not grow with the rows); a request it declines (a bad row, a citation
  to restore or change) is written row by row, as the errors come from there.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal

from django.db import IntegrityError, transaction

from indicators.models import Indicator, Observation
from indicators.numerals import parse_chinese_numeral
from opendata.base.models import decimal_text, natural_uid
from opendata.base.services import Problem, Write, WriteError
from opendata.base.writers import NotSetBased, Writer, cached_references, depends_on, reference_cache
from opendata.catalogue.models import Source, SourcePeriod
from opendata.catalogue.services import CitedWriter

#: A negative value is stated as a fall: one of these words is in its quote.
NEGATIVE_WORDS = ("下降", "减少", "降低", "回落", "负增长")
PERIOD = "period_start,period_end"


def period_covered(start: dt.date, end: dt.date, covers: Iterable[tuple[dt.date, dt.date]]) -> bool:
    return any(a <= start and end <= b for a, b in covers)


def observation_problems(*, value: str, period_start: dt.date, period_end: dt.date, period_label: str,
                         citations: Sequence[tuple[str, str]],
                         covers: Mapping[str, Sequence[tuple[dt.date, dt.date]]],
                         value_as_written: str = "") -> list[Problem]:
    """An observation agrees with its quotes: `value` (the number as written, or as the API writes
    it: `decimal_text`) appears in each quote, or, for a number written in Chinese numerals,
    `value_as_written` appears in each quote and reads as `value` (indicators.numerals); the period
    lies within a period each quote's source covers; a negative value has a word of a fall in a
    quote. `citations`: (source key, quote)."""
    digits = value.lstrip("-")
    if value_as_written:
        try:
            read = parse_chinese_numeral(value_as_written)
        except ValueError as exc:
            return [Problem("value_as_written", str(exc))]
        if read != Decimal(digits):
            return [Problem("value_as_written", f"{value_as_written} reads as {decimal_text(read)}, not {digits}")]
        digits = value_as_written
    for source, quote in citations:
        if digits not in quote:
            return [Problem("value", f"{digits} does not appear in the quote {quote!r}")]
        if not period_covered(period_start, period_end, covers.get(source, ())):
            return [Problem(PERIOD, f"{period_label} lies outside the periods {source} covers")]
    if value.startswith("-") and not any(w in quote for _, quote in citations for w in NEGATIVE_WORDS):
        return [Problem("value", f"a negative value needs {'/'.join(NEGATIVE_WORDS)} in its quote")]
    return []


def observation_uid(*, indicator: str, region: str, period_start: dt.date, period_end: dt.date, kind: str,
                    comparator: str, alternative: str | None = None):
    """An observation's uid: the same on every machine for the same fact. A disputed figure that is not
    the preferred one (`alternative`: its value as written) has a uid of its own; the preferred figure
    keeps the fact's uid."""
    if alternative is not None:
        return natural_uid("observation", indicator, region, period_start, period_end, kind, comparator,
                           "alternative", alternative)
    return natural_uid("observation", indicator, region, period_start, period_end, kind, comparator)


def dispute_problems(*, disputed: bool, preferred: bool, dispute_note: str, assessment: str = "",
                     assessment_period: tuple[dt.date | None, dt.date | None] = (None, None),
                     period_end: dt.date | None = None) -> list[Problem]:
    """A figure that is not preferred is disputed; a disputed figure says why one figure is preferred;
    an assessment names the period of the goal it speaks of, which the result's period ends within."""
    if not preferred and not disputed:
        return [Problem("preferred", "a figure that is not preferred must be marked disputed")]
    if disputed and not dispute_note.strip():
        return [Problem("dispute_note", "a disputed figure needs a note saying which figure is preferred and why")]
    start, end = assessment_period
    if assessment and (start is None or end is None):
        return [Problem("assessment_period_start", "an assessment needs the period of the goal it speaks of")]
    if not assessment and (start is not None or end is not None):
        return [Problem("assessment", "a goal period without an assessment")]
    if assessment and period_end is not None and not (start <= period_end <= end):
        return [Problem("assessment_period_start", "the result must fall within the goal's period")]
    return []


def _covers(source_ids) -> dict[int, tuple[str, list[tuple[dt.date, dt.date]]]]:
    """(slug, periods) of each source, in two queries (none for sources already read in the current
    `cached_references()` block: a bulk upsert does not change sources)."""
    cache = reference_cache()
    wanted = set(source_ids)
    out: dict[int, tuple[str, list]] = {}
    if cache is not None:
        out = {pk: cache[("covers", pk)] for pk in wanted if ("covers", pk) in cache}
        wanted -= set(out)
    if not wanted:
        return out
    read: dict[int, tuple[str, list]] = {}
    for source_id, slug in Source.objects.filter(pk__in=wanted).values_list("pk", "slug"):
        read[source_id] = (slug, [])
    for source_id, start, end in SourcePeriod.objects.filter(source_id__in=read).values_list("source_id", "start",
                                                                                              "end"):
        read[source_id][1].append((start, end))
    if cache is not None:
        cache.update({("covers", pk): v for pk, v in read.items()})
    return {**out, **read}


class ObservationWriter(CitedWriter):
    identity = ("indicator", "region", "period_start", "period_end", "kind", "comparator")
    optional = ("unit",)

    def queryset(self):
        return super().queryset().select_related("indicator__unit")

    def complete(self, record, links, parts):
        if record.unit_id is None and record.indicator_id is not None:
            record.unit = record.indicator.unit

    def natural_key(self, record):
        if None in (record.indicator_id, record.region_id, record.period_start, record.period_end) \
                or not record.kind or not record.comparator:
            return None
        return observation_uid(indicator=record.indicator.code, region=record.region.code,
                               period_start=record.period_start, period_end=record.period_end, kind=record.kind,
                               comparator=record.comparator,
                               alternative=None if record.preferred else decimal_text(record.value))

    def check(self, record, links, parts):
        problems = super().check(record, links, parts)
        if record.period_end < record.period_start:
            problems.append(Problem("period_end", "ends before the period starts"))
        problems += dispute_problems(
            disputed=record.disputed, preferred=record.preferred, dispute_note=record.dispute_note,
            assessment=record.assessment,
            assessment_period=(record.assessment_period_start, record.assessment_period_end),
            period_end=record.period_end)
        if problems:
            return problems
        citations = links["citations"]
        covers = _covers(c.source_id for c in citations)
        return observation_problems(
            value=decimal_text(record.value), period_start=record.period_start, period_end=record.period_end,
            period_label=record.period_label, citations=[(covers[c.source_id][0], c.quote) for c in citations],
            covers=dict(covers.values()), value_as_written=record.value_as_written)


INDICATOR = Writer(Indicator)
OBSERVATION = ObservationWriter(Observation)


@depends_on(Source)
def observations_within_their_sources(source: Source) -> list[Problem]:
    """After a source changes: the live observations citing it still lie within a period it covers."""
    periods = list(source.periods.values_list("start", "end"))
    rows = (Observation.objects.alive().filter(citations__source=source, citations__deleted_at__isnull=True)
            .distinct().order_by("uid").values_list("uid", "period_start", "period_end", "period_label"))
    return [Problem("periods", f"observation {uid} ({label}) would lie outside the periods {source.slug} covers")
            for uid, start, end, label in rows if not period_covered(start, end, periods)][:10]


def indicator_create(*, data: Mapping, actor: str) -> Write:
    return INDICATOR.create(data=data, actor=actor)


def indicator_update(*, key: str, data: Mapping, actor: str, partial: bool = True,
                     expected_version: str | None = None) -> Write:
    return INDICATOR.update(key=key, data=data, actor=actor, partial=partial, expected_version=expected_version)


def indicator_upsert(*, data: Mapping, actor: str) -> Write:
    return INDICATOR.upsert(data=data, actor=actor)


def indicator_delete(*, key: str, actor: str, expected_version: str | None = None) -> Write:
    return INDICATOR.delete(key=key, actor=actor, expected_version=expected_version)


def indicator_restore(*, key: str, actor: str, expected_version: str | None = None) -> Write:
    return INDICATOR.restore(key=key, actor=actor, expected_version=expected_version)


def observation_create(*, data: Mapping, actor: str) -> Write:
    return OBSERVATION.create(data=data, actor=actor)


def observation_update(*, key: str, data: Mapping, actor: str, partial: bool = True,
                       expected_version: str | None = None) -> Write:
    return OBSERVATION.update(key=key, data=data, actor=actor, partial=partial, expected_version=expected_version)


def observation_upsert(*, data: Mapping, actor: str) -> Write:
    return OBSERVATION.upsert(data=data, actor=actor)


def observation_delete(*, key: str, actor: str, expected_version: str | None = None) -> Write:
    return OBSERVATION.delete(key=key, actor=actor, expected_version=expected_version)


def observation_restore(*, key: str, actor: str, expected_version: str | None = None) -> Write:
    return OBSERVATION.restore(key=key, actor=actor, expected_version=expected_version)


def observation_bulk_upsert(*, rows: Sequence[Mapping], actor: str) -> list[Write]:
    """Upsert every row in one transaction: all of them, or none and one WriteError naming each bad
    row (`index`) and field.

    Set-based first (`Writer.bulk_upsert`: a number of statements that does not grow with the rows);
    when it declines (a bad row, a row repeating another, a citation to restore or change, a concurrent
    writer), rolled back and done row by row with `upsert`, which writes the same or names each bad row."""
    if isinstance(rows, (str, bytes, Mapping)) or not isinstance(rows, Sequence):
        raise WriteError.one("rows", "expected a list of observations")
    with transaction.atomic(), cached_references() as cache:
        try:
            with transaction.atomic():
                return OBSERVATION.bulk_upsert(rows, actor=actor)
        except (NotSetBased, IntegrityError):
            cache.clear()  # what it read or made is rolled back
        return _upsert_row_by_row(rows, actor=actor)


def _upsert_row_by_row(rows: Sequence[Mapping], *, actor: str) -> list[Write]:
    errors: list[dict] = []
    writes: list[Write] = []
    seen: dict[object, int] = {}
    for i, row in enumerate(rows):
        try:
            write = OBSERVATION.upsert(data=row, actor=actor)
        except WriteError as exc:
            errors += exc.at(i)
            continue
        if write.record.pk in seen:
            errors.append({"index": i, "field": "uid", "message": (
                f"the same observation as row {seen[write.record.pk]} ({write.record.uid}): merge the rows")})
        seen.setdefault(write.record.pk, i)
        writes.append(write)
    if errors:
        raise WriteError(errors)
    return writes


INDICATOR_WRITES = INDICATOR.writes(indicator_create, indicator_update, indicator_upsert,
                                    indicator_delete, indicator_restore)
OBSERVATION_WRITES = OBSERVATION.writes(observation_create, observation_update, observation_upsert,
                                        observation_delete, observation_restore)
