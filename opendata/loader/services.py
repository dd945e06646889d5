"""Loading the fixtures: every app's tables made equal to fixtures/, in one transaction.

The loader writes through the services' change-recording primitive (opendata.base.services.
ChangeRecorder, actor `loader`): each record it creates, updates, soft-deletes or brings back gets
its change entry, in the load's transaction, so the change feed shows every load. It does not go
through the `<entity>_<verb>` services one record at a time: the fixture schema has already applied
the same rules (it calls the services' rule functions) to the whole set of files at once, and a
load compares each table with its records in bulk. A second load of the same fixtures changes
nothing and writes no entry."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, connection, transaction

from indicators.models import Indicator, Observation
from indicators.services import observation_uid
from opendata.base.services import ChangeRecorder
from opendata.base.snapshots import Keys
from opendata.catalogue.models import Citation, Region, Source, Topic, Unit
from opendata.catalogue.services import citation_uid
from opendata.loader.schema import FixtureError, read_fixtures
from projects.models import Event, EventSeries, Project, ProjectStatus
from projects.services import project_status_uid

#: Who the change entries of a load name.
LOADER = "loader"

#: The PostgreSQL advisory lock a load holds for its whole transaction (`pg_advisory_xact_lock`): two
#: loads run one after the other, the second reading what the first committed. Any constant will do as
#: long as nothing else in the database takes it: 0x6f646c6f = "odlo".
LOAD_LOCK = 0x6F646C6F


class DeletionRefused(Exception):
    """A load would soft-delete more than the allowed share of a resource's live records."""

    def __init__(self, over: dict[str, tuple[int, int]], share: float):
        over = {str(name): counts for name, counts in over.items()}  # names may be lazy translations
        self.over, self.share = over, share
        counts = "; ".join(f"{name}: {deleted} of {live} live records" for name, (deleted, live) in over.items())
        super().__init__(
            f"the fixtures would delete more than {share:.0%} of the live records of {', '.join(over)} ({counts}). "
            "If that is meant (a file or section removed on purpose), run again with --allow-deletions."
        )


#: How long a load waits for another load's lock (seconds): longer than any load, unlike the
#: statements' DATABASE_LOCK_TIMEOUT (2 s), which would otherwise make the second load fail.
LOAD_LOCK_WAIT = 600


def _lock_for_load() -> None:
    """Serialise loads: the first statement of the load's transaction takes a lock held until it ends.

    PostgreSQL: the transaction-level advisory lock LOAD_LOCK; a second load waits for it, then (READ
    COMMITTED) reads what the first committed and finds nothing to change. SQLite: a write transaction
    is exclusive, but Django starts it DEFERRED (a reader until the first write, and two such readers
    cannot both become writers); a write that changes nothing takes SQLite's write lock at once, so a
    second load waits for it before it reads anything. Either waits up to LOAD_LOCK_WAIT, then the
    connection's own lock timeout applies again."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT current_setting('lock_timeout')")
            (previous,) = cursor.fetchone()
            cursor.execute("SELECT set_config('lock_timeout', %s, true)", [f"{LOAD_LOCK_WAIT}s"])
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOAD_LOCK])
            cursor.execute("SELECT set_config('lock_timeout', %s, true)", [previous])
        elif connection.vendor == "sqlite":
            from opendata.base.models import Change

            cursor.execute("PRAGMA busy_timeout")
            (previous,) = cursor.fetchone()
            cursor.execute(f"PRAGMA busy_timeout = {LOAD_LOCK_WAIT * 1000}")
            try:
                cursor.execute(f"UPDATE {connection.ops.quote_name(Change._meta.db_table)} SET id = id WHERE 0")
            finally:
                cursor.execute(f"PRAGMA busy_timeout = {int(previous)}")


@dataclass
class LoadReport:
    created: Counter = field(default_factory=Counter)
    updated: Counter = field(default_factory=Counter)
    deleted: Counter = field(default_factory=Counter)
    unchanged: Counter = field(default_factory=Counter)

    @property
    def changed(self) -> bool:
        return bool(sum(self.created.values()) + sum(self.updated.values()) + sum(self.deleted.values()))

    def lines(self) -> list[str]:
        names = sorted(set(self.created) | set(self.updated) | set(self.deleted) | set(self.unchanged))
        return [
            f"{name:<16} created {self.created[name]:>4}  updated {self.updated[name]:>4}  "
            f"deleted {self.deleted[name]:>4}  unchanged {self.unchanged[name]:>4}"
            for name in names
        ]


class _Syncer:
    """Makes one model's rows equal to the fixture records, touching only rows that differ, and
    records each change (buffered: one bulk insert of the entries at the end of the load)."""

    def __init__(self, report: LoadReport, recorder: ChangeRecorder):
        self.report = report
        self.recorder = recorder
        self.live: dict[str, int] = {}  # live records of each resource before the load

    def sync(self, model, key: str, records: list[dict], *, where: str, m2m: tuple[str, ...] = (),
             parts: tuple[str, ...] = (), self_ref: str | None = None):
        """Upsert `records` by `key`; soft-delete rows no longer in the fixtures.

        `m2m` fields hold lists of primary keys; `parts` fields lists of the field mappings of the
        record's parts (a source's periods), which are made equal to them. `self_ref` names a field
        that refers to another record of the same model by key (records must come parents first).
        """
        name = model._meta.verbose_name_plural
        existing = {getattr(obj, key): obj for obj in model.objects.prefetch_related(*m2m, *parts)}
        self.live[name] = sum(obj.deleted_at is None for obj in existing.values())
        self.recorder.keys.learn(existing.values())
        result = {}
        new_links: dict[str, list] = {rel: [] for rel in m2m}  # through rows of new records, inserted in bulk
        for rec in records:
            k = rec[key]
            fields = {f: v for f, v in rec.items() if f not in m2m and f not in parts and not f.startswith("_")}
            if self_ref and fields.get(self_ref) is not None:
                fields[self_ref] = result[fields[self_ref]]
            links = {rel: list(dict.fromkeys(rec[rel])) for rel in m2m}  # once each, like .set()
            obj = existing.get(k)
            try:
                if obj is None:
                    obj = model(**fields)
                    obj.save()
                    for rel in m2m:
                        field = model._meta.get_field(rel)
                        new_links[rel] += [field.remote_field.through(**{field.m2m_column_name(): obj.pk,
                                                                           field.m2m_reverse_name(): pk})
                                           for pk in links[rel]]
                    for part in parts:
                        _sync_parts(obj, part, rec[part])
                    self.recorder.record(obj, before=None, after=self.recorder.snapshot(
                        obj, links=links, parts={part: rec[part] for part in parts}))
                    self.report.created[name] += 1
                else:
                    dirty = [f for f, v in fields.items() if _differs(obj, f, v)]
                    m2m_dirty = [rel for rel in m2m if set(rec[rel]) != {x.pk for x in getattr(obj, rel).all()}]
                    parts_dirty = [part for part in parts
                                   if _part_rows(getattr(obj, part).all()) != _part_rows(rec[part])]
                    if dirty or m2m_dirty or parts_dirty or obj.deleted_at is not None:
                        before = self.recorder.snapshot(obj)
                        for f in dirty:
                            setattr(obj, f, fields[f])
                        obj.deleted_at = None
                        obj.save()
                        for rel in m2m_dirty:
                            getattr(obj, rel).set(rec[rel])
                        for part in parts_dirty:
                            _sync_parts(obj, part, rec[part])
                        self.recorder.record(obj, before=before, after=self.recorder.snapshot(
                            obj, links=links, parts={part: rec[part] for part in parts}))
                        self.report.updated[name] += 1
                    else:
                        self.report.unchanged[name] += 1
            except IntegrityError as exc:
                raise FixtureError(rec.get("_where", where), str(k), "-", f"rejected by the database: {exc}") from None
            result[k] = obj
        self.recorder.keys.learn(result.values())
        for rel, rows in new_links.items():
            model._meta.get_field(rel).remote_field.through.objects.bulk_create(rows)
        for k, obj in existing.items():
            if k not in result and obj.deleted_at is None:
                self.recorder.soft_delete(obj)
                self.report.deleted[name] += 1
        return result


def _part_rows(rows) -> list[tuple]:
    """A source's periods, from the database or the fixtures, comparable."""
    return sorted((r.start, r.end, r.label) if not isinstance(r, dict) else (r["start"], r["end"], r["label"])
                  for r in rows)


def _sync_parts(obj, part: str, wanted: list[dict]) -> None:
    manager = getattr(obj, part)
    rows = {(p.start, p.end): p for p in manager.all()}
    for key, row in rows.items():
        if key not in {(w["start"], w["end"]) for w in wanted}:
            row.delete()
    for w in wanted:
        row = rows.get((w["start"], w["end"]))
        if row is None:
            manager.create(**w)
        elif row.label != w["label"]:
            row.label = w["label"]
            row.save()
    getattr(obj, "_prefetched_objects_cache", {}).pop(part, None)


def _differs(obj, name: str, wanted) -> bool:
    field = obj._meta.get_field(name)
    if field.is_relation:  # compare the key column: no query for the related row
        return getattr(obj, field.attname) != (wanted.pk if wanted is not None else None)
    return getattr(obj, name) != wanted


def _parents_first(regions: list[dict]) -> list[dict]:
    done: dict[str, dict] = {}
    pending = list(regions)
    while pending:
        progressed = [r for r in pending if r["parent"] is None or r["parent"] in done]
        if not progressed:
            raise FixtureError("fixtures/regions.yaml", pending[0]["code"], "parent", "regions form a cycle")
        for r in progressed:
            done[r["code"]] = r
        pending = [r for r in pending if r["code"] not in done]
    return list(done.values())


def fixtures_load(*, directory: Path, allow_deletions: bool = False,
                  max_deletion_share: float | None = None) -> LoadReport:
    """Load fixtures/ into the database in one transaction: all of it, or nothing.

    Running it twice changes nothing. Records that left the fixtures are soft-deleted; a load that
    would soft-delete more than `max_deletion_share` (default: settings.LOADER_MAX_DELETION_SHARE) of
    the live records of any one resource raises DeletionRefused and writes nothing, unless
    `allow_deletions`. Loads are serialised by a database lock (see _lock_for_load).
    """
    fx = read_fixtures(directory)  # the files first: a bad file takes no lock and opens no transaction
    share = settings.LOADER_MAX_DELETION_SHARE if max_deletion_share is None else max_deletion_share
    with transaction.atomic():
        _lock_for_load()
        return _load(fx, allow_deletions=allow_deletions, share=share)


def _load(fx, *, allow_deletions: bool, share: float) -> LoadReport:
    report = LoadReport()
    recorder = ChangeRecorder(actor=LOADER, keys=Keys(), buffered=True)
    sync = _Syncer(report, recorder)

    topics = sync.sync(Topic, "code", fx.topics, where="fixtures/topics.yaml")
    units = sync.sync(Unit, "symbol", fx.units, where="fixtures/units.yaml")
    regions = sync.sync(Region, "code", _parents_first(fx.regions), where="fixtures/regions.yaml", self_ref="parent")
    sources = sync.sync(
        Source, "slug",
        [{**s, "periods": [{"start": a, "end": b, "label": label} for a, b, label in s["periods"]]}
         for s in fx.sources],
        where="fixtures/sources.yaml", parts=("periods",),
    )

    citations = sync.sync(
        Citation, "uid",
        [
            {"uid": citation_uid(source=src, offset=off, quote=quote), "source": sources[src], "quote": quote,
             "offset": off, "garbled": c["garbled"]}
            for (src, off, quote), c in fx.citations.items()
        ],
        where="fixtures (citations)",
    )

    def cit_pks(keys):
        return [citations[citation_uid(source=src, offset=off, quote=quote)].pk for src, off, quote in keys]

    indicators = sync.sync(
        Indicator, "code",
        [{**i, "topic": topics[i["topic"]], "unit": units[i["unit"]]} for i in fx.indicators],
        where="fixtures/indicators",
    )
    sync.sync(
        Observation, "uid",
        [
            {
                "uid": observation_uid(indicator=o["indicator"], region=o["region"], period_start=o["period_start"],
                                       period_end=o["period_end"], kind=o["kind"], comparator=o["comparator"],
                                       alternative=o["_alternative"]),
                "indicator": indicators[o["indicator"]], "region": regions[o["region"]],
                "period_start": o["period_start"], "period_end": o["period_end"], "period_label": o["period_label"],
                "kind": o["kind"], "comparator": o["comparator"], "value": o["value"], "unit": units[o["unit"]],
                **{f: o[f] for f in ("value_as_written", "measure", "disputed", "preferred", "dispute_note", "assessment",
                                     "assessment_period_start", "assessment_period_end")},
                "citations": cit_pks(o["citations"]), "_where": o["_where"],
            }
            for o in fx.observations
        ],
        where="fixtures/indicators", m2m=("citations",),
    )
    projects = sync.sync(
        Project, "slug",
        [{**p, "topic": topics[p["topic"]], "regions": [regions[r].pk for r in p["regions"]]} for p in fx.projects],
        where="fixtures/projects.yaml", m2m=("regions",),
    )
    sync.sync(
        ProjectStatus, "uid",
        [
            {**s, "uid": project_status_uid(project=s["project"], status=s["status"], kind=s["kind"],
                                            date_start=s["date_start"], date_end=s["date_end"]),
             "project": projects[s["project"]], "citations": cit_pks(s["citations"])}
            for s in fx.statuses
        ],
        where="fixtures/projects.yaml", m2m=("citations",),
    )
    series = sync.sync(EventSeries, "slug", fx.series, where="fixtures/events.yaml")
    sync.sync(
        Event, "slug",
        [
            {**e, "series": series[e["series"]] if e["series"] else None, "region": regions[e["region"]],
             "project": projects[e["project"]] if e["project"] else None, "citations": cit_pks(e["citations"])}
            for e in fx.events
        ],
        where="fixtures/events.yaml", m2m=("citations",),
    )
    if not allow_deletions:
        over = {name: (deleted, sync.live[name]) for name, deleted in sorted(report.deleted.items())
                if deleted and deleted > share * sync.live[name]}
        if over:
            raise DeletionRefused(over, share)  # rolls the load's transaction back: nothing is written
    recorder.flush()
    return report
