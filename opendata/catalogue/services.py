"""Writes of the catalogue (topics, regions, units, sources with their periods, citations), and the
catalogue's rules, which the loader's fixture schema (opendata/loader/schema.py) applies too.

Every resource has the same five services (see opendata.base.services for `data`, `key`, `actor`,
the `Write` they return and the `WriteError`s they raise):

    topic_create(*, data, actor)
    topic_update(*, key, data, actor, partial=True, expected_version=None)
    topic_upsert(*, data, actor)
    topic_delete(*, key, actor, expected_version=None)
    topic_restore(*, key, actor, expected_version=None)

and likewise region_*, unit_*, source_*, citation_*. `TOPIC_WRITES`... bundle them per resource.

- A source's `data` holds its `periods` ([{"start", "end", "label"}], at least one) and its `text`;
  `sha256` is computed from the text. Changing the text re-checks every live citation of the source
  (its quote must stay the text at its offset); changing the periods re-checks the observations
  citing it (indicators.services registers that check).
- A citation is its source, offset and quote: its uid derives from them (`citation_uid`), so they
  are fixed once it exists; only `garbled` changes. Its quote must be the source's text at its offset.
- The facts' writers (`CitedWriter`) take `citations` as citation uids or as mappings
  {"source", "offset", "quote", "garbled"?}: a citation given as a mapping is created when it does
  not exist yet (`citation_ensure`), with its own change entry.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal

from django.utils import timezone

from opendata.base.models import natural_uid
from opendata.base.services import ChangeRecorder, Problem, Write, WriteError
from opendata.base.writers import NotSetBased, Writer, reference_cache
from opendata.catalogue.models import Citation, Region, Source, Topic, Unit

# -- the rules -----------------------------------------------------------------------------------------


def citation_problems(*, text: str, source: str, offset: int, quote: str) -> list[Problem]:
    """A citation's quote is the source's text at its offset, verbatim."""
    if text[offset:offset + len(quote)] != quote:
        found = text.find(quote)
        hint = f" (it occurs at offset {found})" if found >= 0 else " (it does not occur in the text)"
        return [Problem("quote", f"is not the text of {source} at offset {offset}{hint}")]
    return []


def cited_problems(citations: Sequence) -> list[Problem]:
    """A fact (an observation, a status statement, an event) stands on at least one citation."""
    return [] if citations else [Problem("citations", "every fact needs at least one citation")]


def source_problems(*, periods: Sequence[tuple[dt.date, dt.date]]) -> list[Problem]:
    """A source says which periods it covers (every observation citing it lies within one)."""
    if not periods:
        return [Problem("periods", "a source must say which periods it covers")]
    return [Problem(f"periods[{i}].end", "ends before it starts") for i, (a, b) in enumerate(periods) if b < a]


def unit_problems(*, factor: Decimal) -> list[Problem]:
    return [] if factor > 0 else [Problem("factor", f"{factor} must be positive")]


def region_problems(region: Region) -> list[Problem]:
    """A region is not its own ancestor."""
    seen, parent = {region.pk} if region.pk else set(), region.parent
    while parent is not None:
        if parent.pk in seen or parent.code == region.code:
            return [Problem("parent", f"{parent.code} is {region.code} or below it: regions would form a cycle")]
        seen.add(parent.pk)
        parent = parent.parent
    return []


def citation_uid(*, source: str, offset: int, quote: str):
    """A citation's uid: the same on every machine for the same source, offset and quote."""
    return natural_uid("citation", source, offset, quote)


def source_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# -- writers -------------------------------------------------------------------------------------------


class RegionWriter(Writer):
    def check(self, record, links, parts):
        return region_problems(record)


class UnitWriter(Writer):
    def check(self, record, links, parts):
        return unit_problems(factor=record.factor)


class SourceWriter(Writer):
    derived = ("sha256",)

    def complete(self, record, links, parts):
        record.sha256 = source_sha256(record.text)

    def check(self, record, links, parts):
        return source_problems(periods=[(p["start"], p["end"]) for p in _dates(parts["periods"])])

    def check_dependents(self, record):
        problems = []
        for c in record.citations.alive().order_by("offset"):
            problems += [Problem("text", f"citation {c.uid} at offset {c.offset}: {p.message}")
                         for p in citation_problems(text=record.text, source=record.slug, offset=c.offset,
                                                    quote=c.quote)]
        return problems[:10]


def _dates(rows: Iterable[Mapping]) -> list[dict]:
    """Parts as snapshots (ISO text) or as parsed rows (dates): with dates."""
    return [{**r, "start": _date(r["start"]), "end": _date(r["end"])} for r in rows]


def _date(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


class CitationWriter(Writer):
    identity = ("source", "offset", "quote")

    def queryset(self):
        return super().queryset().defer("source__text")

    def natural_key(self, record):
        if record.source_id is None or record.offset is None or not record.quote:
            return None
        return citation_uid(source=record.source.slug, offset=record.offset, quote=record.quote)

    def check(self, record, links, parts):
        source = record.source if Citation.source.is_cached(record) and "text" in vars(record.source) else (
            Source.objects.only("slug", "text").get(pk=record.source_id))  # resolve() read it whole
        return citation_problems(text=source.text, source=source.slug, offset=record.offset, quote=record.quote)


TOPIC = Writer(Topic)
REGION = RegionWriter(Region)
UNIT = UnitWriter(Unit)
SOURCE = SourceWriter(Source)
CITATION = CitationWriter(Citation)


class CitedWriter(Writer):
    """A fact standing on citations (an observation, a status statement, an event)."""

    def link_item(self, field, item, actor):
        if field.name != "citations":
            return super().link_item(field, item, actor)
        return citation_ensure(data=item, actor=actor)

    def bulk_prepare(self, rows, actor, recorder):
        super().bulk_prepare(rows, actor, recorder)
        citations_ensure([item for row in rows if isinstance(raw := row.get("citations"), (list, tuple))
                          for item in raw if isinstance(item, Mapping)], actor=actor, recorder=recorder)

    def check(self, record, links, parts):
        return cited_problems(links["citations"])


def citation_ensure(*, data: Mapping, actor: str) -> Citation:
    """The live citation {"source", "offset", "quote", "garbled"?}: found by its uid, restored when
    deleted, created when new (each with its change entry); `garbled`, when given, is set."""
    cache = reference_cache()  # within a bulk write: a citation read live stays so until a citation is saved
    uid = cache.get((Citation, "uid of", id(data))) if cache is not None else None  # citations_ensure's
    uid = uid if uid is not None else CITATION.natural_key_of(data, actor=actor)
    if cache is not None and (ensured := cache.get((Citation, "ensured", str(uid)))) is not None:
        return ensured  # made or checked by citations_ensure
    cached = (Citation, str(uid))
    existing = cache.get(cached) if cache is not None and uid is not None else None
    if existing is None:
        existing = CITATION.find(uid) if uid is not None else None
    if existing is None:
        return CITATION.create(data=data, actor=actor).record
    if existing.deleted_at is None and "garbled" not in data:  # nothing to change: the record as read
        if cache is not None:
            cache[cached] = existing
        return existing
    if existing.deleted_at is not None:
        CITATION.restore(key=uid, actor=actor)
    if "garbled" in data:
        CITATION.update(key=uid, data={"garbled": data["garbled"]}, actor=actor)
    return CITATION.get(uid, lock=False)


def citations_ensure(items: Sequence[Mapping], *, actor: str, recorder: ChangeRecorder) -> None:
    """`citation_ensure` of many citations given inline, set-based (`Writer.bulk_upsert`'s preparation,
    within its `cached_references()` block): their sources read in one query, the existing citations in
    one, the new ones checked and inserted in one (their change entries logged before the first row
    citing them); `citation_ensure` then finds each in the block. NotSetBased for a citation that
    `citation_ensure` would refuse, restore or change (`garbled`): upsert row by row does those."""
    if not items:
        return
    cache = reference_cache()
    CITATION.read_references(items)
    wanted: dict[object, list[Mapping]] = {}
    uids: dict[tuple, object] = {}  # the same mapping repeated by many rows: its uid derived once
    for item in items:
        try:
            same = tuple((k, type(v), v) for k, v in sorted(item.items()))  # 1.0 == 1, but not as an offset
            uid = uids[same] if same in uids else uids.setdefault(same, CITATION.natural_key_of(item, actor=actor))
        except TypeError:  # unhashable values: the parse says what is wrong
            uid = CITATION.natural_key_of(item, actor=actor)
        if uid is None:
            raise NotSetBased("a citation without its source, offset or quote")
        wanted.setdefault(uid, []).append(item)
        cache[(Citation, "uid of", id(item))] = uid  # the rows, and so the items, live as long as the block
    existing = {c.uid: c for c in CITATION.queryset().filter(uid__in=list(wanted))}
    new = []
    for uid, given in wanted.items():
        citation = existing.get(uid)
        if citation is None:
            try:
                citation, links, parts, _ = CITATION._new(given[0], actor)
                CITATION._validate(citation, links, parts)
            except WriteError as exc:
                raise NotSetBased(str(exc)) from None
            citation.updated_at = timezone.now()  # as save() sets it
            new.append(citation)
        elif citation.deleted_at is not None:
            raise NotSetBased("a deleted citation to restore")
        if any("garbled" in item and item["garbled"] is not citation.garbled for item in given):
            raise NotSetBased("a citation's garbled to change")
        cache[(Citation, str(uid))] = cache[(Citation, "ensured", str(uid))] = citation
    CITATION.bulk_create_prepared(new, recorder)


# -- the services --------------------------------------------------------------------------------------


def topic_create(*, data: Mapping, actor: str) -> Write:
    return TOPIC.create(data=data, actor=actor)


def topic_update(*, key: str, data: Mapping, actor: str, partial: bool = True,
                 expected_version: str | None = None) -> Write:
    return TOPIC.update(key=key, data=data, actor=actor, partial=partial, expected_version=expected_version)


def topic_upsert(*, data: Mapping, actor: str) -> Write:
    return TOPIC.upsert(data=data, actor=actor)


def topic_delete(*, key: str, actor: str, expected_version: str | None = None) -> Write:
    return TOPIC.delete(key=key, actor=actor, expected_version=expected_version)


def topic_restore(*, key: str, actor: str, expected_version: str | None = None) -> Write:
    return TOPIC.restore(key=key, actor=actor, expected_version=expected_version)


def region_create(*, data: Mapping, actor: str) -> Write:
    return REGION.create(data=data, actor=actor)


def region_update(*, key: str, data: Mapping, actor: str, partial: bool = True,
                  expected_version: str | None = None) -> Write:
    return REGION.update(key=key, data=data, actor=actor, partial=partial, expected_version=expected_version)


def region_upsert(*, data: Mapping, actor: str) -> Write:
    return REGION.upsert(data=data, actor=actor)


def region_delete(*, key: str, actor: str, expected_version: str | None = None) -> Write:
    return REGION.delete(key=key, actor=actor, expected_version=expected_version)


def region_restore(*, key: str, actor: str, expected_version: str | None = None) -> Write:
    return REGION.restore(key=key, actor=actor, expected_version=expected_version)


def unit_create(*, data: Mapping, actor: str) -> Write:
    return UNIT.create(data=data, actor=actor)


def unit_update(*, key: str, data: Mapping, actor: str, partial: bool = True,
                expected_version: str | None = None) -> Write:
    return UNIT.update(key=key, data=data, actor=actor, partial=partial, expected_version=expected_version)


def unit_upsert(*, data: Mapping, actor: str) -> Write:
    return UNIT.upsert(data=data, actor=actor)


def unit_delete(*, key: str, actor: str, expected_version: str | None = None) -> Write:
    return UNIT.delete(key=key, actor=actor, expected_version=expected_version)


def unit_restore(*, key: str, actor: str, expected_version: str | None = None) -> Write:
    return UNIT.restore(key=key, actor=actor, expected_version=expected_version)


def source_create(*, data: Mapping, actor: str) -> Write:
    return SOURCE.create(data=data, actor=actor)


def source_update(*, key: str, data: Mapping, actor: str, partial: bool = True,
                  expected_version: str | None = None) -> Write:
    return SOURCE.update(key=key, data=data, actor=actor, partial=partial, expected_version=expected_version)


def source_upsert(*, data: Mapping, actor: str) -> Write:
    return SOURCE.upsert(data=data, actor=actor)


def source_delete(*, key: str, actor: str, expected_version: str | None = None) -> Write:
    return SOURCE.delete(key=key, actor=actor, expected_version=expected_version)


def source_restore(*, key: str, actor: str, expected_version: str | None = None) -> Write:
    return SOURCE.restore(key=key, actor=actor, expected_version=expected_version)


def citation_create(*, data: Mapping, actor: str) -> Write:
    return CITATION.create(data=data, actor=actor)


def citation_update(*, key: str, data: Mapping, actor: str, partial: bool = True,
                    expected_version: str | None = None) -> Write:
    return CITATION.update(key=key, data=data, actor=actor, partial=partial, expected_version=expected_version)


def citation_upsert(*, data: Mapping, actor: str) -> Write:
    return CITATION.upsert(data=data, actor=actor)


def citation_delete(*, key: str, actor: str, expected_version: str | None = None) -> Write:
    return CITATION.delete(key=key, actor=actor, expected_version=expected_version)


def citation_restore(*, key: str, actor: str, expected_version: str | None = None) -> Write:
    return CITATION.restore(key=key, actor=actor, expected_version=expected_version)


TOPIC_WRITES = TOPIC.writes(topic_create, topic_update, topic_upsert, topic_delete, topic_restore)
REGION_WRITES = REGION.writes(region_create, region_update, region_upsert, region_delete, region_restore)
UNIT_WRITES = UNIT.writes(unit_create, unit_update, unit_upsert, unit_delete, unit_restore)
SOURCE_WRITES = SOURCE.writes(source_create, source_update, source_upsert, source_delete, source_restore)
CITATION_WRITES = CITATION.writes(citation_create, citation_update, citation_upsert, citation_delete, citation_restore)
