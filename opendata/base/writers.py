"""The engine behind every app's `<entity>_<verb>` services (the API is described in
opendata.base.services): reading public data into field values from the model's `_meta`, checking
references, choices and the entity's rules, saving in a savepoint (database constraints reported on
their fields), and recording the change, in one transaction.

An app's services module makes one `Writer` per resource, with the resource's rules as hooks, and
exposes its verbs as plain keyword-only functions (`topic_create(*, data, actor)`...).
"""

from __future__ import annotations

import contextvars
import datetime as dt
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

from opendata.base.models import CODE_RE, PublicModel, code_problem, isoformat_utc
from opendata.base.services import (
    ChangeRecorder,
    Problem,
    RecordExists,
    RecordGone,
    RecordInUse,
    RecordNotFound,
    StaleVersion,
    Write,
    WriteError,
    Writes,
    record_version,
)
from opendata.base.snapshots import BOOKKEEPING, part_snapshot, parts_of


def integrity_problems(model: type[models.Model], exc: IntegrityError) -> list[Problem]:
    """An IntegrityError as the fields the violated constraint guards (SQLite and PostgreSQL messages)."""
    text = str(exc)
    meta = model._meta
    for constraint in meta.constraints:
        if constraint.name in text:
            fields = list(getattr(constraint, "fields", ())) or _condition_fields(constraint)
            return [Problem(",".join(fields) or "-", _constraint_message(model, constraint, fields))]
    columns = {f.column: f.name for f in meta.concrete_fields}
    table = meta.db_table
    named = [name for column, name in columns.items()
             if f"{table}.{column}" in text or f'"{column}"' in text or f"{table}_{column}_key" in text]
    if "UNIQUE" in text.upper() or "duplicate key" in text:
        for constraint in meta.constraints:  # SQLite names the columns, not the constraint
            if isinstance(constraint, models.UniqueConstraint) and set(constraint.fields) == set(named):
                fields = list(constraint.fields)
                return [Problem(",".join(fields), _constraint_message(model, constraint, fields))]
        fields = named or ["-"]
        return [Problem(",".join(fields), f"another record already has this {' and '.join(fields)}")]
    return [Problem(",".join(named) or "-", f"rejected by the database: {text.splitlines()[0]}")]


def _condition_fields(constraint) -> list[str]:
    names: list[str] = []

    def walk(node):
        for child in getattr(node, "children", ()):
            if isinstance(child, tuple):
                name = child[0].split("__")[0]
                if name not in names:
                    names.append(name)
            else:
                walk(child)

    walk(getattr(constraint, "condition", None))
    return names[:1]


def _constraint_message(model, constraint, fields: list[str]) -> str:
    if isinstance(constraint, models.UniqueConstraint):
        return (f"another live {model.resource} has the same {', '.join(fields)}"
                if constraint.condition is not None else f"another {model.resource} has the same {', '.join(fields)}")
    return f"breaks the rule {constraint.name}"


_DEPENDENTS: dict[type, list[Callable[[PublicModel], list[Problem]]]] = {}


def depends_on(model: type[PublicModel]):
    """Register a check of records that depend on a `model` record and belong to another app (the
    observations within a source's periods): run, within the write, after each change of a `model`
    record. The dependent records' app registers it (from its AppConfig.ready()), so that the app of
    `model` never imports the apps built on it."""

    def register(check: Callable[[PublicModel], list[Problem]]):
        _DEPENDENTS.setdefault(model, []).append(check)
        return check

    return register


# -- references read once per bulk write ------------------------------------------------------------

_REFERENCES: contextvars.ContextVar[dict | None] = contextvars.ContextVar("references", default=None)


@contextmanager
def cached_references() -> Iterator[dict]:
    """Within the block, a reference (`Writer.resolve`) to the same record is read from the database
    once: a bulk write of many rows citing the same few indicators, regions and sources. The block
    must be one transaction; a record of a model saved inside it (`Writer._save`) drops that model's
    cached records, so a later reference reads it again. The dict is also for what the writers
    derive from referenced records (`reference_cache()`), under keys of their own."""
    token = _REFERENCES.set({})
    try:
        yield _REFERENCES.get()
    finally:
        _REFERENCES.reset(token)


def reference_cache() -> dict | None:
    """The current `cached_references()` block's dict (None outside one)."""
    return _REFERENCES.get()


def _forget(model: type) -> None:
    cache = _REFERENCES.get()
    if cache:
        for key in [k for k in cache if isinstance(k, tuple) and k and k[0] is model]:
            del cache[key]


class NotSetBased(Exception):
    """`Writer.bulk_upsert` declines the rows: a row that `upsert` would refuse, or a case it does not
    write set-based. The caller rolls back to its savepoint and upserts row by row, which writes the
    same or says exactly what is wrong."""


#: `cached_references()` keys of what a bulk write's preparation created (and has not yet logged).
_CREATED = ("created in bulk",)


def bulk_batch_size(fields: int) -> int | None:
    """Rows per INSERT or UPDATE of `fields` parameters a row: all of them within PostgreSQL's 65,535
    parameters a statement (a bulk write's 1,000 rows: one statement); None on other backends, whose
    own limit Django applies (SQLite's 999 variables: several statements)."""
    if connection.vendor == "postgresql":
        return max(1, 65_535 // max(1, fields))
    return None


def update_rows(model: type[models.Model], records: list[models.Model], columns: list[str]) -> None:
    """UPDATE the `columns` of many records to their values on the instances: on PostgreSQL one
    `UPDATE ... FROM (VALUES ...)` a batch of 65,535 parameters (Django's bulk_update builds a CASE of
    every row for every column: ~30 ms a row at 1,000 rows); elsewhere Django's bulk_update."""
    if connection.vendor != "postgresql":
        model._base_manager.bulk_update(records, columns, batch_size=None)
        return
    meta = model._meta
    fields = [meta.pk, *(meta.get_field(name) for name in columns)]
    qn = connection.ops.quote_name
    first = "(" + ", ".join(f"%s::{f.db_type(connection)}" for f in fields) + ")"
    other = "(" + ", ".join("%s" for _ in fields) + ")"
    names = ", ".join(qn(f.column) for f in fields)
    sets = ", ".join(f"{qn(f.column)} = v.{qn(f.column)}" for f in fields[1:])
    step = bulk_batch_size(len(fields))
    with connection.cursor() as cursor:
        for at in range(0, len(records), step):
            chunk = records[at:at + step]
            params = [f.get_db_prep_save(getattr(r, f.attname), connection) for r in chunk for f in fields]
            cursor.execute(
                f"UPDATE {qn(meta.db_table)} AS t SET {sets} FROM (VALUES {first}{(', ' + other) * (len(chunk) - 1)}) "
                f"AS v({names}) WHERE t.{qn(meta.pk.column)} = v.{qn(meta.pk.column)}", params)


# -- the engine --------------------------------------------------------------------------------------


def _text(value: object) -> str:
    return ", ".join(value.messages) if isinstance(value, ValidationError) else str(value)


def nul_problems(data: object, path: str = "") -> list[Problem]:
    """Every text of the data holding a NUL character (U+0000): no field takes one, and PostgreSQL cannot
    store or even compare it, so it is refused before any query (field names as `citations[0].quote`)."""
    if isinstance(data, str):
        return [Problem(path or "-", "contains a NUL character (U+0000), which no field takes")] if "\x00" in data else []
    problems: list[Problem] = []
    if isinstance(data, Mapping):
        for name, value in data.items():
            if isinstance(name, str) and "\x00" in name:
                problems.append(Problem(path or "-", "a field name contains a NUL character (U+0000)"))
            else:
                problems += nul_problems(value, f"{path}.{name}" if path else str(name))
    elif isinstance(data, (list, tuple)):
        for index, value in enumerate(data):
            problems += nul_problems(value, f"{path}[{index}]")
    return problems


def _is_key(value: object) -> bool:
    return isinstance(value, (str, int)) and not isinstance(value, bool) or hasattr(value, "hex")


#: The Python types a field takes in `data` (JSON's, and what the admin's forms hold): anything else
#: is an error rather than text made of it.
_TYPES = [
    (models.BooleanField, (bool,), "true or false"),
    (models.DecimalField, (str, int, float, Decimal), "a number (as text)"),
    (models.IntegerField, (int,), "an integer"),
    (models.DateField, (str, dt.date), "a date (YYYY-MM-DD)"),
    (models.UUIDField, (str, uuid.UUID), "a uid"),
    ((models.CharField, models.TextField), (str,), "text"),
]


def _type_problem(field: models.Field, raw: object) -> str | None:
    for kind, types, what in _TYPES:
        if isinstance(field, kind):
            ok = isinstance(raw, types) and not (isinstance(raw, bool) and bool not in types)
            return None if ok else f"expected {what}, got {type(raw).__name__}"
    return None


def _is_choice(field: models.Field, raw: object) -> bool:
    try:
        return raw in {value for value, _ in field.flatchoices} or (field.blank and raw == "")
    except TypeError:  # unhashable
        return False


class Writer:
    """How one resource is written: the generic engine behind `<entity>_<verb>`, with the entity's
    rules and derived values as hooks. An app's services module makes one Writer per resource and
    exposes its verbs as plain keyword-only functions.

    A record's public key never changes. A uid-keyed resource derives its uid from its natural key
    (`natural_key`, the same `natural_uid` the loader gives), so the fields of that key
    (`identity`) are fixed once the record exists, and a uid given in `data` must be that one.

    Hooks (all optional):
      `derived`          fields the service computes; in `data` they are errors
      `optional`         required model fields the service fills when left out (`complete`)
      `complete(record, links, parts)`  set derived values on the record about to be written
      `check(record, links, parts)`     the entity's rules on the record as it would be -> [Problem]
      `check_dependents(record)`        rules of other records that depend on this one, read from
                                        the database after the write -> [Problem]
      `link_item(field, item, actor)`   a many-to-many item given as a mapping (a citation written
                                        inline) -> the related record
      `nested`/`write_nested(record, name, value, actor)`  data that is written as other records
                                        (a project's timeline), after the record is saved
      `owned`            reverse relations to records that are soft-deleted with the record (at the
                         same moment) and restored with it (those deleted at that moment)
    """

    derived: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    identity: tuple[str, ...] = ()
    nested: tuple[str, ...] = ()
    owned: tuple[str, ...] = ()

    def __init__(self, model: type[PublicModel]):
        self.model = model
        meta = model._meta
        self.key_field = meta.get_field(model.public_key)
        self.fields = [f for f in meta.concrete_fields
                       if not f.primary_key and f.name not in BOOKKEEPING and f.name not in self.derived
                       and (f.editable or f is self.key_field)]
        self.m2m = list(meta.many_to_many)
        self.parts = {rel.get_accessor_name(): rel for rel in parts_of(model)}

    @property
    def fixed(self) -> tuple[str, ...]:
        """The fields an update cannot change: the public key, or the fields a uid derives from."""
        return self.identity or (self.model.public_key,)

    def writes(self, create, update, upsert, delete, restore) -> Writes:
        """The resource's five services as one bundle (for the admin and other generic interfaces)."""
        return Writes(self.model, create, update, upsert, delete, restore, fixed=self.fixed)

    # -- hooks ---------------------------------------------------------------------------------
    def complete(self, record: PublicModel, links: dict[str, list], parts: dict[str, list[dict]]) -> None:
        pass

    def check(self, record: PublicModel, links: dict[str, list], parts: dict[str, list[dict]]) -> list[Problem]:
        return []

    def check_dependents(self, record: PublicModel) -> list[Problem]:
        return []

    def link_item(self, field: models.ManyToManyField, item: Mapping, actor: str) -> PublicModel:
        raise WriteError.one(field.name, f"expected {field.related_model.resource} keys, got a mapping")

    def write_nested(self, record: PublicModel, name: str, value: object, actor: str) -> None:
        raise NotImplementedError

    def natural_key(self, record: PublicModel) -> object | None:
        """A uid-keyed record's uid derived from its natural key (None: the key must be given)."""
        return None

    def queryset(self) -> models.QuerySet:
        """Rows with their foreign keys joined, so that a snapshot reads related keys without a query."""
        fks = [f.name for f in self.model._meta.concrete_fields if f.is_relation]
        return self.model._base_manager.select_related(*fks)

    # -- reading a record ----------------------------------------------------------------------
    @property
    def resource(self) -> str:
        return self.model.resource

    def find(self, key: object, *, lock: bool = False) -> PublicModel | None:
        if isinstance(key, str) and "\x00" in key:
            return None  # no key holds one (see nul_problems), and PostgreSQL refuses to compare it
        qs = self.queryset()
        if lock:
            qs = qs.select_for_update(of=("self",))
        try:
            return qs.filter(**{self.model.public_key: key}).first()
        except (ValidationError, ValueError):
            return None

    def get(self, key: object, *, lock: bool = True, live: bool = True) -> PublicModel:
        record = self.find(key, lock=lock)
        if record is None:
            raise RecordNotFound.one(self.model.public_key, f"no {self.resource} {key!s}")
        if live and record.deleted_at is not None:
            raise RecordGone.one(self.model.public_key, f"the {self.resource} {key!s} was deleted on "
                                                        f"{isoformat_utc(record.deleted_at)}: restore it first")
        return record

    @staticmethod
    def check_version(record: PublicModel, expected: str | None) -> None:
        if expected is not None and expected != record_version(record):
            raise StaleVersion.one(record.public_key, f"the {record.resource} changed since version {expected} "
                                                      f"(now {record_version(record)}): read it again")

    # -- parsing data --------------------------------------------------------------------------
    @staticmethod
    def lookup(model: type[PublicModel], keys: list) -> dict[str, PublicModel]:
        """The records of `model` with these public keys, in one query (by key as text)."""
        if not keys:
            return {}
        try:
            rows = list(model._base_manager.filter(**{f"{model.public_key}__in": keys}))
        except (ValidationError, ValueError):
            return {}
        return {r.public_id: r for r in rows}

    def resolve(self, model: type[PublicModel], value: object, field: str) -> PublicModel:
        """A reference: the live record of `model` with this public key (or the instance given)."""
        if isinstance(value, model):
            record = value
        elif _is_key(value):
            if isinstance(value, str) and "\x00" in value:
                raise WriteError.one(field, f"unknown {model.resource}: {nul_problems(value)[0].message}")
            cache = _REFERENCES.get()
            cached = (model, str(value))
            record = cache.get(cached) if cache is not None else None
            if record is None:
                try:
                    record = model._base_manager.filter(**{model.public_key: value}).first()
                except (ValidationError, ValueError):
                    record = None
                if record is not None and cache is not None:
                    cache[cached] = record
            if record is None:
                raise WriteError.one(field, f"unknown {model.resource} {value!s}")
        else:
            raise WriteError.one(field, f"expected a {model.resource} {model.public_key}, got {value!r}")
        if record.deleted_at is not None:
            raise WriteError.one(field, f"the {model.resource} {record.public_id} is deleted")
        return record

    def parse(self, data: Mapping, *, record: PublicModel | None, partial: bool, actor: str, fields_only: bool = False
              ) -> tuple[dict, dict[str, list], dict[str, list[dict]], dict[str, object]]:
        """(field values, many-to-many lists of records, parts, nested data) from public data; every
        problem of every field at once as a WriteError. `fields_only`: the record's own columns only."""
        if not isinstance(data, Mapping):
            raise WriteError.one("-", f"expected a mapping of fields, got {type(data).__name__}")
        if problems := nul_problems(data):
            raise WriteError(problems)
        problems: list[Problem] = []
        known = {f.name for f in self.fields} | {f.name for f in self.m2m} | set(self.parts) | set(self.nested)
        for name in data:
            if fields_only and name in known and name not in {f.name for f in self.fields}:
                continue
            if name not in known:
                why = ("is read-only" if name in BOOKKEEPING or name in self.derived
                       else f"unknown field (fields: {', '.join(sorted(known))})")
                problems.append(Problem(str(name), why))
        values: dict[str, object] = {}
        for f in self.fields:
            if f.name not in data:
                if partial or (f is self.key_field and (record is not None or not f.editable)):
                    continue
                if not f.has_default() and not f.blank and not f.null and f.name not in self.optional:
                    problems.append(Problem(f.name, "is required"))
                    continue
                if f.name not in self.optional:
                    values[f.name] = f.get_default()
                continue
            raw = data[f.name]
            if raw is None and not f.null and f.blank and f.empty_strings_allowed:
                raw = ""  # null for optional text: empty
            try:
                if raw is None and not f.null:
                    problems.append(Problem(f.name, "is required"))
                elif f.is_relation:
                    values[f.name] = None if raw is None else self.resolve(f.related_model, raw, f.name)
                elif raw is not None and (why := _type_problem(f, raw)):
                    problems.append(Problem(f.name, why))
                elif f.choices and not _is_choice(f, raw):
                    allowed = ", ".join(str(v) for v, _ in f.flatchoices)
                    problems.append(Problem(f.name, f"{raw!r} is not allowed: expected one of {allowed}"))
                else:
                    if isinstance(raw, float) and isinstance(f, models.DecimalField):
                        raw = Decimal(repr(raw))
                    values[f.name] = f.clean(raw, record)
                    if f is self.key_field and isinstance(f, models.SlugField) and not CODE_RE.match(values[f.name]):
                        problems.append(Problem(f.name, code_problem(values[f.name])))
            except WriteError as exc:
                problems += [Problem(e["field"], e["message"]) for e in exc.errors]
            except ValidationError as exc:
                problems.append(Problem(f.name, _text(exc)))
        links: dict[str, list] = {}
        parts: dict[str, list[dict]] = {}
        nested = {name: data[name] for name in self.nested if name in data}
        if fields_only:
            if problems:
                raise WriteError(problems)
            return values, links, parts, {}
        for f in self.m2m:
            if f.name not in data:
                if not partial and not f.blank:
                    problems.append(Problem(f.name, "is required"))
                elif not partial:
                    links[f.name] = []
                continue
            raw = data[f.name]
            if isinstance(raw, (str, bytes, Mapping)) or not isinstance(raw, Iterable):
                problems.append(Problem(f.name, f"expected a list of {f.related_model.resource} keys"))
                continue
            raw = list(raw)
            model = f.related_model
            cache = _REFERENCES.get() or {}  # keys read already (a bulk write reads them all at once)
            found = self.lookup(model, [x for x in raw if _is_key(x) and not isinstance(x, model)
                                        and (model, str(x)) not in cache])
            items = []
            for i, item in enumerate(raw):
                try:
                    if isinstance(item, Mapping):
                        items.append(self.link_item(f, item, actor))
                    else:
                        items.append(self.resolve(model, found.get(str(item), item), f"{f.name}[{i}]"))
                except WriteError as exc:
                    problems += [Problem(e["field"] if e["field"].startswith(f.name) else f"{f.name}[{i}].{e['field']}",
                                         e["message"]) for e in exc.errors]
            links[f.name] = list({x.pk: x for x in items}.values())
        for name, rel in self.parts.items():
            if name not in data:
                if not partial:
                    parts[name] = []
                continue
            parsed, part_problems = self.parse_parts(rel, data[name])
            problems += part_problems
            parts[name] = parsed
        if problems:
            raise WriteError(problems)
        return values, links, parts, nested

    def parse_parts(self, rel: models.ManyToOneRel, raw: object) -> tuple[list[dict], list[Problem]]:
        name = rel.get_accessor_name()
        fields = [f for f in rel.related_model._meta.concrete_fields if not f.primary_key and f is not rel.field]
        if isinstance(raw, (str, bytes, Mapping)) or not isinstance(raw, Iterable):
            return [], [Problem(name, "expected a list of mappings")]
        rows, problems = [], []
        for i, item in enumerate(raw):
            if not isinstance(item, Mapping):
                problems.append(Problem(f"{name}[{i}]", "expected a mapping"))
                continue
            row = {}
            for key in item:
                if key not in {f.name for f in fields}:
                    problems.append(Problem(f"{name}[{i}].{key}", "unknown field"))
            for f in fields:
                if f.name not in item:
                    if f.has_default() or f.blank or f.null:
                        row[f.name] = f.get_default()
                    else:
                        problems.append(Problem(f"{name}[{i}].{f.name}", "is required"))
                    continue
                if why := _type_problem(f, item[f.name]):
                    problems.append(Problem(f"{name}[{i}].{f.name}", why))
                    continue
                try:
                    row[f.name] = f.clean(item[f.name], None)
                except ValidationError as exc:
                    problems.append(Problem(f"{name}[{i}].{f.name}", _text(exc)))
            rows.append(row)
        return rows, problems

    # -- saving --------------------------------------------------------------------------------
    def _save(self, record: PublicModel) -> None:
        _forget(type(record))
        try:
            with transaction.atomic():
                record.save()
        except IntegrityError as exc:
            problems = integrity_problems(self.model, exc)
            if [p.field for p in problems] == [self.model.public_key]:  # created meanwhile by another writer
                raise RecordExists(problems) from None
            raise WriteError(problems) from None

    def _store(self, record, links: dict[str, list], parts: dict[str, list[dict]], *, before: dict | None) -> None:
        for name, items in links.items():
            if before is None:  # a new record has no links to read and replace
                getattr(record, name).add(*items)
            elif sorted(before[name]) != sorted(r.public_id for r in items):
                getattr(record, name).set(items)
        for name, rows in parts.items():
            rel = self.parts[name]
            wanted = [part_snapshot(row, rel) for row in rows]
            if before is not None and _same_parts(before[name], wanted):
                continue
            getattr(record, name).all().delete()
            rel.related_model._base_manager.bulk_create(
                [rel.related_model(**{rel.field.name: record, **row}) for row in rows])
            getattr(record, "_prefetched_objects_cache", {}).pop(name, None)

    @staticmethod
    def _snapshot(record, recorder: ChangeRecorder, links: dict[str, list], parts: dict[str, list[dict]]) -> dict:
        for items in links.values():
            recorder.keys.learn(items)
        return recorder.snapshot(record, links={n: [r.pk for r in items] for n, items in links.items()},
                                 parts=parts)

    def _current(self, record) -> tuple[dict[str, list], dict[str, list[dict]]]:
        links = {f.name: list(getattr(record, f.name).all()) for f in self.m2m}
        parts = {name: [part_snapshot(row, rel) for row in getattr(record, name).all()]
                 for name, rel in self.parts.items()}
        return links, parts

    def _validate(self, record, links, parts) -> None:
        problems = self.check(record, links, parts)
        if problems:
            raise WriteError(problems)

    def _finish(self, record: PublicModel) -> None:
        problems = self.check_dependents(record)
        for check in _DEPENDENTS.get(self.model, ()):
            problems += check(record)
        if problems:
            raise WriteError(problems)

    # -- the verbs -----------------------------------------------------------------------------
    def _new(self, data: Mapping, actor: str) -> tuple[PublicModel, dict[str, list], dict[str, list[dict]], dict]:
        """A new record from `data`, unsaved, with its derived values and its key (create's first half,
        which writes nothing but the citations given inline: `link_item`)."""
        values, links, parts, nested = self.parse(data, record=None, partial=False, actor=actor)
        record = self.model(**values)
        parts = {n: [part_snapshot(r, self.parts[n]) for r in rows] for n, rows in parts.items()}
        self.complete(record, links, parts)
        uid = self.natural_key(record)
        if uid is not None:
            given = getattr(record, self.model.public_key)
            if given is not None and given != uid:
                raise WriteError.one(self.model.public_key, (
                    f"is derived from the {self.resource}'s {', '.join(self.identity)}: {uid}, not {given}"))
            setattr(record, self.model.public_key, uid)
        return record, links, parts, nested

    def create(self, *, data: Mapping, actor: str, _absent: object = None) -> Write:
        """(`_absent`: upsert's call, inside its savepoint, having found no record with this key.)"""
        recorder = ChangeRecorder(actor=actor)
        with transaction.atomic(savepoint=_absent is None):
            record, links, parts, nested = self._new(data, actor)
            key = getattr(record, self.model.public_key)
            existing = None if _absent is not None and str(_absent) == str(key) else self.find(key)
            if existing is not None:
                deleted = existing.deleted_at is not None
                raise RecordExists.one(self.model.public_key, (
                    f"the {self.resource} {existing.public_id} exists{' (deleted)' if deleted else ''}: "
                    f"{'restore or ' if deleted else ''}update it"))
            self._validate(record, links, parts)
            self._save(record)
            self._store(record, links, parts, before=None)
            change = recorder.record(record, before=None, after=self._snapshot(record, recorder, links, parts))
            for name, value in nested.items():
                self.write_nested(record, name, value, actor)
            self._finish(record)
            return Write(record, change)

    def _changed(self, record: PublicModel, data: Mapping, actor: str, *, recorder: ChangeRecorder, partial: bool,
                 revive: bool) -> tuple[dict[str, list], dict[str, list[dict]], dict, dict, dict]:
        """Update's first half, which writes nothing but the citations given inline (`link_item`): the
        record's fields set from `data`; (links, parts, nested, snapshot before, snapshot after)."""
        current_links, current_parts = self._current(record)
        before = self._snapshot(record, recorder, current_links, current_parts)
        values, links, parts, nested = self.parse(data, record=record, partial=partial, actor=actor)
        new_key = values.pop(self.model.public_key, getattr(record, self.model.public_key))
        if str(new_key) != record.public_id:
            raise WriteError.one(self.model.public_key, f"the {self.model.public_key} of a {self.resource} cannot "
                                                        "change: create a new record and delete this one")
        for name, value in values.items():
            setattr(record, name, value)
        links = {**current_links, **links}
        parts = {**current_parts, **{n: [part_snapshot(r, self.parts[n]) for r in rows]
                                     for n, rows in parts.items()}}
        if revive:
            record.deleted_at = None
        self.complete(record, links, parts)
        after = self._snapshot(record, recorder, links, parts)
        fixed = [Problem(name, f"cannot change: the {self.resource}'s {self.model.public_key} derives from its "
                               f"{', '.join(self.identity)}; create a new {self.resource} and delete this one")
                 for name in self.identity if before[name] != after[name]]
        if fixed:
            raise WriteError(fixed)
        return links, parts, nested, before, after

    def update(self, *, key: object, data: Mapping, actor: str, partial: bool = True,
               expected_version: str | None = None, revive: bool = False, _record: PublicModel | None = None
               ) -> Write:
        """(`_record`: upsert's call, inside its savepoint, with the record it read locked.)"""
        recorder = ChangeRecorder(actor=actor)
        with transaction.atomic(savepoint=_record is None):
            record = self.get(key, live=not revive) if _record is None else _record
            self.check_version(record, expected_version)
            links, parts, nested, before, after = self._changed(record, data, actor, recorder=recorder,
                                                                partial=partial, revive=revive)
            if _same(before, after):
                for name, value in nested.items():
                    self.write_nested(record, name, value, actor)
                return Write(record, None)
            self._validate(record, links, parts)
            self._save(record)
            self._store(record, links, parts, before=before)
            change = recorder.record(record, before=before,
                                     after={**after, "updated_at": isoformat_utc(record.updated_at)})
            for name, value in nested.items():
                self.write_nested(record, name, value, actor)
            self._finish(record)
            return Write(record, change)

    def upsert(self, *, data: Mapping, actor: str) -> Write:
        with transaction.atomic():
            key = data.get(self.model.public_key) if isinstance(data, Mapping) else None
            if key is None and isinstance(data, Mapping):
                key = self.natural_key_of(data, actor=actor)
            existing = self.find(key, lock=True) if key is not None else None
            # create and update run inside this block's savepoint (an error rolls back to it) and do not
            # read again what was just read
            if existing is None:
                return self.create(data=data, actor=actor, _absent=key)
            return self.update(key=key, data={**data, self.model.public_key: existing.public_id}, actor=actor,
                               partial=False, revive=True, _record=existing)

    # -- set-based bulk upsert -----------------------------------------------------------------
    def bulk_prepare(self, rows: list[Mapping], actor: str, recorder: ChangeRecorder) -> None:
        """Hook of `bulk_upsert`, after the references are read: read or make, set-based, what the rows
        hold inline (a fact's citations), so that parsing each row makes no query. Raise NotSetBased to
        decline."""

    def read_references(self, rows: list[Mapping]) -> None:
        """The records the rows refer to by key (foreign keys, many-to-many keys), read in one query per
        model into the `cached_references()` block, where `resolve` finds them. NotSetBased when a key
        names no record (upsert row by row says which, or finds one made by an earlier row)."""
        cache = _REFERENCES.get()
        wanted: dict[type, set[str]] = {}
        for f in self.fields:
            if f.is_relation:
                for row in rows:
                    if _is_key(value := row.get(f.name)):
                        wanted.setdefault(f.related_model, set()).add(str(value))
        for f in self.m2m:
            for row in rows:
                if isinstance(raw := row.get(f.name), (list, tuple)):
                    wanted.setdefault(f.related_model, set()).update(str(v) for v in raw if _is_key(v))
        for model, values in wanted.items():
            values = {v for v in values if (model, v) not in cache}
            if not values:
                continue
            try:
                found = {r.public_id: r for r in model._base_manager.filter(**{f"{model.public_key}__in": values})}
            except (ValidationError, ValueError):
                raise NotSetBased(f"a {model.resource} key that is none") from None
            if not values <= set(found):
                raise NotSetBased(f"unknown {model.resource} keys")
            cache.update({(model, v): found[v] for v in values})

    def bulk_create_prepared(self, records: list[PublicModel], recorder: ChangeRecorder) -> None:
        """Insert records made by `_new` (and checked) in one statement, to be logged (`_log_created`)
        before the first row that links to them: where upsert row by row logs them."""
        if not records:
            return
        self.model._base_manager.bulk_create(records, batch_size=bulk_batch_size(len(self.model._meta.concrete_fields)))
        pending = _REFERENCES.get().setdefault(_CREATED, {})
        for record in records:
            pending[(type(record), record.pk)] = (
                record, self._snapshot(record, recorder, {f.name: [] for f in self.m2m}, {}))

    @staticmethod
    def _log_created(links: dict[str, list], recorder: ChangeRecorder) -> None:
        pending = (_REFERENCES.get() or {}).get(_CREATED)
        if pending:
            for items in links.values():
                for item in items:
                    if (made := pending.pop((type(item), item.pk), None)) is not None:
                        recorder.record(made[0], before=None, after=made[1])

    def bulk_upsert(self, rows: list[Mapping], *, actor: str) -> list[Write]:
        """`upsert` of every row, set-based: the same records, `Write`s and change entries (in the same
        order) as `upsert` row by row, in a number of statements that does not grow with the rows
        (within the backend's parameters a statement: `bulk_batch_size`). The rules are the same hooks
        (`parse`, `complete`, `check`, `natural_key`) run on each row in Python; the existing records
        are read in one query (locked), the new ones inserted in one, the changed ones updated in one,
        their links and their change entries each written in one.

        Runs inside a `cached_references()` block and a savepoint. It raises NotSetBased, having
        written nothing or something the caller rolls back, whenever a row would be refused (or
        repeats another's record) and for what it does not write set-based (parts, nested data,
        dependents, a citation to restore or change); an IntegrityError (a concurrent writer) likewise.
        The caller then upserts row by row: the same result, or the errors of each bad row."""
        cache = _REFERENCES.get()
        if cache is None:
            raise RuntimeError("bulk_upsert runs within a cached_references() block")
        if (self.nested or self.parts or self.owned or _DEPENDENTS.get(self.model)
                or type(self).check_dependents is not Writer.check_dependents
                or type(self).write_nested is not Writer.write_nested):
            raise NotSetBased(f"a {self.resource} has parts, nested data or dependents")
        rows = list(rows)
        if not all(isinstance(row, Mapping) for row in rows) or any(nul_problems(row) for row in rows):
            raise NotSetBased("a row is no mapping, or holds a NUL")
        recorder = ChangeRecorder(actor=actor, buffered=True)
        self.read_references(rows)
        self.bulk_prepare(rows, actor, recorder)
        pk = self.model.public_key
        keys = []
        for row in rows:
            key = row.get(pk)
            if key is None:
                key = self.natural_key_of(row, actor=actor)
            try:
                key = None if key is None else self.key_field.to_python(key)
            except ValidationError:
                key = None
            if key is None:
                raise NotSetBased("a row without a key")
            keys.append(key)
        if len(set(keys)) != len(keys):
            raise NotSetBased("rows repeating a record")
        existing = self.queryset().select_for_update(of=("self",)).filter(**{f"{pk}__in": keys}).order_by("pk")
        if self.m2m:
            existing = existing.prefetch_related(*(f.name for f in self.m2m))
        existing = {getattr(r, pk): r for r in existing}
        writes: list[Write] = []
        created: list[tuple[PublicModel, dict]] = []
        changed: list[tuple[PublicModel, dict]] = []
        try:
            for row, key in zip(rows, keys, strict=True):
                record = existing.get(key)
                if record is None:
                    record, links, parts, _ = self._new(row, actor)
                    if getattr(record, pk) != key:
                        raise NotSetBased("a key that is not the record's")
                    self._log_created(links, recorder)
                    self._validate(record, links, parts)
                    record.updated_at = timezone.now()  # as save() sets it
                    change = recorder.record(record, before=None, after=self._snapshot(record, recorder, links, parts))
                    created.append((record, links))
                else:
                    links, parts, _, before, after = self._changed(
                        record, {**row, pk: record.public_id}, actor, recorder=recorder, partial=False, revive=True)
                    self._log_created(links, recorder)
                    if _same(before, after):
                        writes.append(Write(record, None))
                        continue
                    self._validate(record, links, parts)
                    record.updated_at = timezone.now()
                    change = recorder.record(record, before=before,
                                             after={**after, "updated_at": isoformat_utc(record.updated_at)})
                    changed.append((record, links))
                writes.append(Write(record, change))
        except WriteError as exc:
            raise NotSetBased(str(exc)) from None
        if (cache.get(_CREATED)):
            raise NotSetBased("a record made for a row that none links to")  # upsert row by row logs it
        self._bulk_store(created, changed)
        recorder.flush(batch_size=None)  # one statement on PostgreSQL (insert_values)
        return writes

    def _bulk_store(self, created: list[tuple[PublicModel, dict]], changed: list[tuple[PublicModel, dict]]) -> None:
        """The rows of `bulk_upsert`: one INSERT of the new records, one UPDATE of the changed ones (every
        column save() writes), one DELETE and one INSERT of the links that changed (as `_store`)."""
        meta = self.model._meta
        _forget(self.model)
        if created:
            self.model._base_manager.bulk_create([r for r, _ in created],
                                                 batch_size=bulk_batch_size(len(meta.concrete_fields)))
        if changed:
            columns = [f.name for f in meta.concrete_fields if not f.primary_key and f.name != "created_at"]
            update_rows(self.model, [r for r, _ in changed], columns)
        for f in self.m2m:
            through = f.remote_field.through
            own, other = f"{f.m2m_field_name()}_id", f"{f.m2m_reverse_field_name()}_id"
            add = [through(**{own: record.pk, other: item.pk}) for record, links in created for item in links[f.name]]
            remove = models.Q()
            for record, links in changed:
                old = {item.pk for item in getattr(record, f.name).all()}  # prefetched
                new = {item.pk for item in links[f.name]}
                if old != new:
                    add += [through(**{own: record.pk, other: pk}) for pk in sorted(new - old)]
                    if old - new:
                        remove |= models.Q(**{own: record.pk, f"{other}__in": sorted(old - new)})
                getattr(record, "_prefetched_objects_cache", {}).pop(f.name, None)
            if remove:
                through._base_manager.filter(remove).delete()
            if add:
                through._base_manager.bulk_create(add, batch_size=bulk_batch_size(2))

    def natural_key_of(self, data: Mapping, *, actor: str) -> object | None:
        """The uid the data's record would get (None when the data cannot say)."""
        try:
            values, *_ = self.parse(data, record=None, partial=False, actor=actor, fields_only=True)
        except WriteError:
            return None
        return self.natural_key(self.model(**values))

    def delete(self, *, key: object, actor: str, expected_version: str | None = None) -> Write:
        recorder = ChangeRecorder(actor=actor)
        with transaction.atomic():
            record = self.get(key, live=False)
            self.check_version(record, expected_version)
            if record.deleted_at is not None:
                return Write(record, None)
            at = timezone.now()
            for name in self.owned:  # deleted with it, at the same moment (see restore), read locked as they are
                for child in getattr(record, name).alive().order_by("pk").select_for_update():
                    recorder.soft_delete(child, at=at)
            problems = live_referrers(record)
            if problems:
                raise RecordInUse(problems)
            return Write(record, recorder.soft_delete(record, at=at))

    def restore(self, *, key: object, actor: str, expected_version: str | None = None) -> Write:
        recorder = ChangeRecorder(actor=actor)
        with transaction.atomic():
            record = self.get(key, live=False)
            self.check_version(record, expected_version)
            if record.deleted_at is None:
                return Write(record, None)
            links, parts = self._current(record)
            before = self._snapshot(record, recorder, links, parts)
            problems = dead_references(record, links)
            if problems:
                raise WriteError(problems)
            self._validate(record, links, parts)
            deleted_at, record.deleted_at = record.deleted_at, None
            self._save(record)
            change = recorder.record(record, before=before, after={
                **before, "deleted_at": None, "updated_at": isoformat_utc(record.updated_at)})
            for name in self.owned:  # what was deleted with it comes back with it
                for child in getattr(record, name).filter(deleted_at=deleted_at).order_by("pk").select_for_update():
                    child_links = {f.name: list(getattr(child, f.name).all()) for f in child._meta.many_to_many}
                    problems = [Problem(f"{name}.{p.field}", f"{child.public_id}: {p.message}")
                                for p in dead_references(child, child_links)]
                    if problems:
                        raise WriteError(problems)
                    try:
                        with transaction.atomic():
                            recorder.restore(child)
                    except IntegrityError as exc:
                        raise WriteError([Problem(f"{name}.{p.field}", f"{child.public_id}: {p.message}")
                                          for p in integrity_problems(type(child), exc)]) from None
            self._finish(record)
            return Write(record, change)


def _same(before: dict, after: dict) -> bool:
    """Equal but for the change time."""
    return ({k: v for k, v in before.items() if k != "updated_at"}
            == {k: v for k, v in after.items() if k != "updated_at"})


def _same_parts(a: list[dict], b: list[dict]) -> bool:
    key = lambda row: [("" if v is None else str(v)) for v in row.values()]
    return sorted(a, key=key) == sorted(b, key=key)


def live_referrers(record: PublicModel) -> list[Problem]:
    """The live records that refer to `record` (by foreign key or many-to-many), one problem per relation."""
    problems = []
    for rel in record._meta.related_objects:
        model = rel.related_model
        if not (isinstance(model, type) and issubclass(model, PublicModel)):
            continue
        rows = model.objects.alive().filter(**{rel.field.name: record})
        keys = [str(k) for k in rows.order_by(model.public_key).values_list(model.public_key, flat=True)[:4]]
        if keys:
            more = ", ..." if len(keys) > 3 else ""
            problems.append(Problem(rel.get_accessor_name(), (
                f"live {model.resource} records refer to this {record.resource} ({', '.join(keys[:3])}{more}): "
                "delete them or point them elsewhere first")))
    return problems


def dead_references(record: PublicModel, links: dict[str, list]) -> list[Problem]:
    """The references of `record` to soft-deleted records (restoring it would publish them)."""
    problems = []
    for f in record._meta.concrete_fields:
        if f.is_relation and getattr(record, f.attname) is not None:
            related = getattr(record, f.name)
            if isinstance(related, PublicModel) and related.deleted_at is not None:
                problems.append(Problem(f.name, f"the {related.resource} {related.public_id} is deleted"))
    for name, items in links.items():
        for item in items:
            if item.deleted_at is not None:
                problems.append(Problem(name, f"the {item.resource} {item.public_id} is deleted"))
    return problems
