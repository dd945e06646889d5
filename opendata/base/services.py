"""Writes every public record shares: the service API, its errors and results, the change log,
soft deletion and restoring (the engine behind every app's services is opendata.base.writers).

The service API (each app's `services.py`; keyword-only arguments; REST, GraphQL, the admin and
the loader all write through it):

    <entity>_create(*, data, actor) -> Write
    <entity>_update(*, key, data, actor, partial=True, expected_version=None) -> Write
    <entity>_upsert(*, data, actor) -> Write
    <entity>_delete(*, key, actor, expected_version=None) -> Write
    <entity>_restore(*, key, actor, expected_version=None) -> Write
    observation_bulk_upsert(*, rows, actor) -> list[Write]       (all rows or none)

for every resource: topic, region, unit, source, citation (opendata/catalogue/services.py),
indicator, observation (indicators/services.py), project, project_status, event_series, event
(projects/services.py). Each module also bundles a resource's five as `<RESOURCE>_WRITES` (a
`Writes`: the model, the five functions and the fields an update cannot change), for interfaces
that handle every resource alike, as the admin does.

- `data` is a mapping of the resource's public fields, named and written as the REST API writes
  them: a foreign key as the related record's public key (`"indicator": "gdp"`), a many-to-many
  relation as a list of public keys, numbers as text (`"259.9"`; Decimals and ints are taken too),
  dates ISO. Model instances are taken for references too (the admin's forms hold them). An
  unknown field, or one the API only reads (`created_at`, `updated_at`, `deleted_at`, a value the
  service computes), is an error, never silently dropped.
- `key` is the record's public identifier (`Model.public_key`: code, slug, symbol or uid).
- `actor` says who writes: `loader`, an admin user's username, an API key's name. It is stored in
  each change entry.
- `update(partial=True)` changes the fields given (PATCH); `partial=False` replaces the record
  (PUT): a field left out takes its default, or is an error when it has none.
- `upsert` makes the record with the data's key equal to the data (a full write) and live: it
  creates it, updates it, or restores and updates it (one change entry: create, update or
  restore).
- A record's public key never changes. A resource keyed by uid (observation, project_status,
  citation) derives the uid from the record's natural key (`natural_uid`) the way the loader
  does, so the same fact gets the same uid through the API and through the fixtures; the fields it
  derives from are fixed once the record exists (`Writes.fixed`), and a uid in `data` must be that
  one (so a client may send back what it read).
- `delete` soft-deletes (the record stays, with `deleted_at`, for syncing clients); `restore`
  brings a soft-deleted record back after checking it against the rules again. Deleting a record
  that live records still refer to is refused (`RecordInUse`).
- `expected_version` (If-Match): the version (`record_version`) the client read; checked with the
  row locked, so that two clients cannot both update from the same version.
- Every call runs in one transaction (inside the caller's, when there is one) and writes one
  change entry (`Change`) per record it changes, in that transaction; a write that changes
  nothing writes no entry and returns `Write(record, change=None)`.

A write that breaks a rule raises a `WriteError` whose `errors` list each problem as
`{"index": None, "field": "value", "message": "..."}` (`index`: a bulk write's row). Its subclasses
say why, for interfaces that answer with different statuses: `RecordNotFound` (404),
`RecordGone` (410: soft-deleted, restore it first), `RecordExists` (409), `RecordInUse` (409),
`StaleVersion` (412); a plain `WriteError` is invalid data (400/422). `code` names each kind.

The rules are those the loader applies to the fixtures (docs/fixtures.md), each in one place: the
field types, choices (the model enums), lengths and references come from the models (the engine,
opendata.base.writers.Writer); the semantic rules are functions of the app that owns them
(`catalogue.services.citation_problems`, `indicators.services.observation_problems`, ...), which the
loader's schema calls too; the database constraints behind them are mapped back to the fields they
guard (`writers.integrity_problems`).

`dry_run(lambda: topic_update(...))` returns the errors a write would raise, and writes nothing
(the admin shows them on its form). `record_version(record)` is the version `expected_version`
compares (an ETag for If-Match).

`ChangeRecorder` is the one primitive every write records its change through (the services, soft
deletion, and the loader, which buffers a load's entries and inserts them at once).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from django.db import connection, transaction
from django.db.models import Max
from django.db.models.expressions import RawSQL
from django.utils import timezone

from opendata.base.models import Change, ChangeOperation, PublicModel, isoformat_utc
from opendata.base.snapshots import Keys, snapshot, tombstone

# -- errors ------------------------------------------------------------------------------------------


class Problem(NamedTuple):
    """One broken rule: the field to blame (a dotted path below the record: `citations[0].quote`)
    and what is wrong."""

    field: str
    message: str


class WriteError(Exception):
    """A write refused. `errors`: [{"index": row or None, "field": ..., "message": ...}]."""

    code = "invalid"

    def __init__(self, errors: Iterable[Mapping | Problem]):
        self.errors = [
            {"index": None, "field": e.field, "message": e.message} if isinstance(e, Problem)
            else {"index": e.get("index"), "field": e["field"], "message": e["message"]}
            for e in errors
        ]
        super().__init__(str(self))

    @classmethod
    def one(cls, field: str, message: str) -> WriteError:
        return cls([Problem(field, message)])

    def __str__(self) -> str:
        return "; ".join(("" if e["index"] is None else f"row {e['index']}: ") + f"{e['field']}: {e['message']}"
                         for e in self.errors)

    def at(self, index: int, prefix: str = "") -> list[dict]:
        """The errors as those of a bulk write's row `index` (fields below `prefix`)."""
        return [{**e, "index": index, "field": f"{prefix}{e['field']}"} for e in self.errors]


class RecordNotFound(WriteError):
    code = "not_found"


class RecordGone(WriteError):
    """The record is soft-deleted: restore it before changing it."""

    code = "gone"


class RecordExists(WriteError):
    code = "exists"


class RecordInUse(WriteError):
    """Live records still refer to the record to delete."""

    code = "in_use"


class StaleVersion(WriteError):
    code = "stale_version"


# -- the change log ----------------------------------------------------------------------------------


def _txid_sql(resource: str, key: str) -> RawSQL | None:
    """An entry's `txid`, taken by the INSERT itself (PostgreSQL only): the writing transaction's id,
    or the record's latest entry's `txid` when that is higher (see `ChangeRecorder`)."""
    if connection.vendor == "postgresql":
        return RawSQL(f"GREATEST(pg_current_xact_id()::text::bigint, (SELECT MAX(txid) FROM {Change._meta.db_table} "
                      "WHERE resource = %s AND key = %s))", (resource, key))
    return None


def _follow_records(entries: list[Change], txid: int) -> None:
    """Raise the `txid` of buffered entries to their record's latest entry's, when higher: the entries
    of newer transactions (txid above this one's) that committed while this one ran, in one query."""
    newer = {(resource, key): top for resource, key, top in (
        Change.objects.filter(txid__gt=txid).order_by().values("resource", "key").annotate(top=Max("txid"))
        .values_list("resource", "key", "top"))}
    for entry in entries:
        entry.txid = max(txid, newer.get((entry.resource, entry.key), txid))


def insert_values(model, records: list) -> None:
    """PostgreSQL: INSERT many records in one `INSERT ... VALUES ... RETURNING` a batch of 65,535
    parameters, their ids set. Django's bulk_create sends each column as an array (UNNEST), whose text
    psycopg escapes with a regular expression: ~1 ms a change entry for its JSON snapshots."""
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    qn = connection.ops.quote_name
    first = "(" + ", ".join(f"%s::{f.db_type(connection)}" for f in fields) + ")"
    other = "(" + ", ".join("%s" for _ in fields) + ")"
    step = 65_535 // len(fields)
    with connection.cursor() as cursor:
        for at in range(0, len(records), step):
            chunk = records[at:at + step]
            params = [f.get_db_prep_save(f.pre_save(r, True), connection) for r in chunk for f in fields]  # as bulk_create
            cursor.execute(
                f"INSERT INTO {qn(meta.db_table)} ({', '.join(qn(f.column) for f in fields)}) "
                f"VALUES {first}{(', ' + other) * (len(chunk) - 1)} RETURNING {qn(meta.pk.column)}", params)
            for record, (pk,) in zip(chunk, cursor.fetchall(), strict=True):
                record.pk = pk
                record._state.adding, record._state.db = False, connection.alias


def current_txid() -> int | None:
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_xact_id()::text::bigint")
        return cursor.fetchone()[0]


def operation_of(before: dict | None, after: dict) -> str:
    if before is None:
        return ChangeOperation.CREATE
    if before.get("deleted_at") is None and after.get("deleted_at") is not None:
        return ChangeOperation.DELETE
    if before.get("deleted_at") is not None and after.get("deleted_at") is None:
        return ChangeOperation.RESTORE
    return ChangeOperation.UPDATE


def check_actor(actor: str) -> str:
    if not isinstance(actor, str) or not actor.strip() or len(actor) > 150:
        raise ValueError(f"actor must be a name of 1 to 150 characters (who writes), got {actor!r}")
    return actor


class ChangeRecorder:
    """Writes the change entries of one actor, in the transaction of the changes.

    `record(record, before=...)` writes one entry (nothing when the snapshot did not change); by
    default each entry is inserted at once, with the transaction id taken by the INSERT. With
    `buffered=True` (the loader) entries wait for `flush()`, one bulk insert at the end of the
    transaction. `keys` remembers related records' public keys across snapshots.

    On PostgreSQL an entry's `txid` is the writing transaction's id, unless the record's latest entry
    has a higher one: then that one. A transaction's id is taken at its first write, so a transaction
    may change a record after a newer one (a higher id) committed its own change of it (the record's
    row lock orders the two: the older transaction wrote something else first, then waited for the
    lock). With its own id, its entry would come first in the feed, and replaying the feed would end
    on the newer transaction's state, which is no longer the record's. Following the record's latest
    entry keeps each record's entries in the order they were written; the feed's guarantee holds,
    since every cursor handed out while this transaction runs is below its own id (selectors.py)."""

    def __init__(self, *, actor: str, keys: Keys | None = None, buffered: bool = False):
        self.actor = check_actor(actor)
        self.keys = keys if keys is not None else Keys()
        self.buffered = buffered
        self.pending: list[Change] = []

    def snapshot(self, record: PublicModel, **kwargs) -> dict:
        return snapshot(record, keys=self.keys, **kwargs)

    def record(self, record: PublicModel, *, before: dict | None, after: dict | None = None) -> Change | None:
        after = self.snapshot(record) if after is None else after
        if before == after:
            return None
        entry = Change(resource=record.resource, key=record.public_id, operation=operation_of(before, after),
                       actor=self.actor, before=before, after=after)
        if self.buffered:
            self.pending.append(entry)
            return entry
        entry.txid = _txid_sql(entry.resource, entry.key)
        entry.save(force_insert=True)
        if entry.txid is not None:
            del entry.__dict__["txid"]  # the expression's value: read from the row if asked for
        return entry

    def flush(self, *, batch_size: int | None = 500) -> int:
        entries, self.pending = self.pending, []
        if entries:
            txid = current_txid()
            if txid is not None:
                _follow_records(entries, txid)
            if batch_size is None and connection.vendor == "postgresql":
                insert_values(Change, entries)
            else:
                Change.objects.bulk_create(entries, batch_size=batch_size)
        return len(entries)

    def soft_delete(self, record: PublicModel, *, before: dict | None = None, at=None) -> Change | None:
        if record.deleted_at is not None:
            return None
        before = self.snapshot(record) if before is None else before
        record.deleted_at = at or timezone.now()
        record.save(update_fields=["deleted_at"])
        return self.record(record, before=before,
                           after=tombstone(before, deleted_at=record.deleted_at, updated_at=record.updated_at))

    def restore(self, record: PublicModel, *, before: dict | None = None) -> Change | None:
        if record.deleted_at is None:
            return None
        before = self.snapshot(record) if before is None else before
        record.deleted_at = None
        record.save(update_fields=["deleted_at"])
        return self.record(record, before=before,
                           after={**before, "deleted_at": None, "updated_at": isoformat_utc(record.updated_at)})


def record_soft_delete(*, record: PublicModel, actor: str) -> Change | None:
    """Remove a record from the API while keeping it (and its deletion time) for syncing clients,
    with its change entry. No check of what refers to it: the services' `<entity>_delete` check
    that (this is the primitive they, and the loader, share)."""
    with transaction.atomic():
        return ChangeRecorder(actor=actor).soft_delete(record)


def record_restore(*, record: PublicModel, actor: str) -> Change | None:
    """Bring a soft-deleted record back, with its change entry (the primitive; `<entity>_restore`
    checks the record against the rules first)."""
    with transaction.atomic():
        return ChangeRecorder(actor=actor).restore(record)


def record_version(record: PublicModel) -> str:
    """An opaque version of the record's current state, for If-Match / `expected_version`: it
    changes with every write of the record (each moves `updated_at`)."""
    raw = f"{record.resource}|{record.public_id}|{isoformat_utc(record.updated_at)}"
    return hashlib.sha256(raw.encode()).hexdigest()[:20]


# -- the result of a write ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Write:
    """What a service did: the record as written, and its change entry (None: nothing changed)."""

    record: PublicModel
    change: Change | None

    @property
    def operation(self) -> str | None:
        return self.change.operation if self.change is not None else None

    @property
    def created(self) -> bool:
        return self.operation == ChangeOperation.CREATE


@dataclass(frozen=True)
class Writes:
    """A resource's five services, for interfaces that handle every resource alike (the admin, and
    REST or GraphQL write views built on one pattern)."""

    model: type[PublicModel]
    create: Callable[..., Write]
    update: Callable[..., Write]
    upsert: Callable[..., Write]
    delete: Callable[..., Write]
    restore: Callable[..., Write]
    fixed: tuple[str, ...] = ()  # fields an update cannot change (the public key, or what a uid derives from)

    @property
    def resource(self) -> str:
        return self.model.resource


def dry_run(write: Callable[[], Any]) -> list[dict]:
    """Run a write and roll it back: the errors it would raise ([] when it would succeed). The admin
    shows them on its form before saving."""

    class _Undo(Exception):
        pass

    try:
        with transaction.atomic():
            write()
            raise _Undo
    except _Undo:
        return []
    except WriteError as exc:
        return exc.errors
