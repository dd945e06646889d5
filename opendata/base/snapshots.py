"""A record's public snapshot: the JSON the change feed carries as `before` and `after`.

Built from the model's `_meta`, with no code per model:

- every concrete field but the database id, as JSON-safe values: Decimals as exact text, the way the
  REST API writes them (`"259.9"`), dates ISO (`"2025-01-08"`), moments in UTC with `Z`
  (`isoformat_utc`), uids as text;
- a foreign key as the related record's public key (`"indicator": "gdp"`, `"parent": null`);
- a many-to-many relation (an observation's citations, a project's regions) as the sorted list of the
  related records' public keys; a link to a soft-deleted record stays listed, because the link is
  this record's state (the related record's deletion is that record's own change);
- a record's *parts*, rows of a non-public model that belong to it (a ForeignKey to it with
  `on_delete=CASCADE`: a source's periods), as a sorted list of their fields.

So no database id ever appears, and replaying `after` of every change in feed order gives, for
every record, exactly `snapshot(record)` (tests/opendata/base/test_changes.py).

Reading a related record's public key costs no query when the record is loaded (select_related,
prefetch_related) or already known to the `Keys` passed along (the loader passes one for a whole
load); otherwise one query per relation.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from decimal import Decimal

from django.db import models

from opendata.base.models import PublicModel, decimal_text, isoformat_utc

#: The bookkeeping fields of a snapshot: set by the database layer, never written by a client.
BOOKKEEPING = ("created_at", "updated_at", "deleted_at")


class Keys:
    """Public keys of records by model and primary key, remembered once read."""

    def __init__(self):
        self._known: dict[type, dict[object, str]] = defaultdict(dict)

    def learn(self, records: Iterable[models.Model]) -> None:
        for record in records:
            if record is not None and record.pk is not None:
                self._known[type(record)][record.pk] = str(getattr(record, record.public_key))

    def preload(self, model: type[PublicModel]) -> None:
        """Read the keys of a whole table at once (the loader: a few hundred rows a table)."""
        self._known[model].update((pk, str(key)) for pk, key in
                                  model._base_manager.values_list("pk", model.public_key))

    def of(self, model: type[PublicModel], pks: Iterable[object]) -> list[str]:
        pks = list(pks)
        known = self._known[model]
        missing = [pk for pk in pks if pk not in known]
        if missing:
            known.update((pk, str(key)) for pk, key in
                         model._base_manager.filter(pk__in=missing).values_list("pk", model.public_key))
        return [known[pk] for pk in pks]


def json_value(field: models.Field, value: object) -> object:
    """A field's value as JSON, the way the API writes it."""
    if isinstance(value, str) and not isinstance(field, (models.CharField, models.TextField)):
        value = field.to_python(value)
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, dt.datetime):
        return isoformat_utc(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"{field.model.__name__}.{field.name}: no JSON form for {type(value).__name__}")


def parts_of(model: type[models.Model]) -> list[models.ManyToOneRel]:
    """The relations holding a record's parts: rows of a non-public model that die with it."""
    return [rel for rel in model._meta.related_objects
            if rel.one_to_many and not issubclass(rel.related_model, PublicModel) and rel.on_delete is models.CASCADE]


def part_snapshot(row: models.Model | Mapping, rel: models.ManyToOneRel) -> dict:
    fields = [f for f in rel.related_model._meta.concrete_fields if not f.primary_key and f is not rel.field]
    if isinstance(row, Mapping):
        return {f.name: json_value(f, row[f.name]) for f in fields}
    return {f.name: json_value(f, getattr(row, f.attname)) for f in fields}


def _sorted_parts(rows: list[dict]) -> list[dict]:
    return sorted(rows, key=lambda row: [("" if v is None else str(v)) for v in row.values()])


def snapshot(record: PublicModel, *, keys: Keys | None = None, links: Mapping[str, Iterable[object]] | None = None,
             parts: Mapping[str, Iterable[Mapping]] | None = None) -> dict:
    """The record's public snapshot (see the module docstring).

    `links` gives many-to-many relations as primary keys of the related records, and `parts` a
    record's parts as mappings of their fields, where the caller knows them better than the
    database does yet (the loader, before its bulk insert of link rows); otherwise they are read
    from what was prefetched, or queried.
    """
    keys = keys if keys is not None else Keys()
    meta = record._meta
    out: dict[str, object] = {}
    own = [f for f in meta.concrete_fields if f.name not in BOOKKEEPING]
    bookkeeping = [f for f in meta.concrete_fields if f.name in BOOKKEEPING]
    for field in own:
        if field.primary_key:
            continue
        if field.is_relation:
            pk = getattr(record, field.attname)
            if pk is None:
                out[field.name] = None
            elif field.is_cached(record) and field.get_cached_value(record) is not None:
                related = field.get_cached_value(record)
                keys.learn([related])
                out[field.name] = str(getattr(related, related.public_key))
            else:
                out[field.name] = keys.of(field.related_model, [pk])[0]
        else:
            out[field.name] = json_value(field, getattr(record, field.attname))
    prefetched = getattr(record, "_prefetched_objects_cache", {})
    for field in meta.many_to_many:
        related = field.related_model
        if links is not None and field.name in links:
            values = keys.of(related, dict.fromkeys(links[field.name]))
        elif field.name in prefetched:
            objs = list(prefetched[field.name])
            keys.learn(objs)
            values = [str(getattr(o, related.public_key)) for o in objs]
        elif record.pk is None:
            values = []
        else:
            values = [str(v) for v in getattr(record, field.name).values_list(related.public_key, flat=True)]
        out[field.name] = sorted(set(values))
    for rel in parts_of(type(record)):
        name = rel.get_accessor_name()
        if parts is not None and name in parts:
            rows = [part_snapshot(row, rel) for row in parts[name]]
        elif record.pk is None:
            rows = []
        else:
            rows = [part_snapshot(row, rel) for row in getattr(record, name).all()]
        out[name] = _sorted_parts(rows)
    for field in bookkeeping:  # last, as the REST API writes them
        out[field.name] = json_value(field, getattr(record, field.attname))
    return out


def tombstone(before: dict, *, deleted_at: dt.datetime, updated_at: dt.datetime) -> dict:
    """A soft-deleted record's snapshot: its last state, with `deleted_at` (and the change time) set."""
    return {**before, "deleted_at": isoformat_utc(deleted_at), "updated_at": isoformat_utc(updated_at)}
