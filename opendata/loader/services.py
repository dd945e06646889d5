"""Loading the fixtures: every app's tables made equal to fixtures/, in one transaction."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from django.db import IntegrityError, transaction

from indicators.models import Indicator, Observation
from opendata.base.models import natural_uid
from opendata.base.services import record_soft_delete
from opendata.catalogue.models import Citation, Region, Source, SourcePeriod, Topic, Unit
from opendata.loader.schema import FixtureError, read_fixtures
from projects.models import Event, EventSeries, Project, ProjectStatus


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
    """Makes one model's rows equal to the fixture records, touching only rows that differ."""

    def __init__(self, report: LoadReport):
        self.report = report

    def sync(self, model, key: str, records: list[dict], *, where: str, m2m: tuple[str, ...] = (),
             self_ref: str | None = None):
        """Upsert `records` by `key`; soft-delete rows no longer in the fixtures.

        `self_ref` names a field that refers to another record of the same model by key (records
        must come parents first).
        """
        name = model._meta.verbose_name_plural
        existing = {getattr(obj, key): obj for obj in model.objects.prefetch_related(*m2m)}
        result = {}
        new_links: dict[str, list] = {rel: [] for rel in m2m}  # through rows of new records, inserted in bulk
        for rec in records:
            k = rec[key]
            fields = {f: v for f, v in rec.items() if f not in m2m and not f.startswith("_")}
            if self_ref and fields.get(self_ref) is not None:
                fields[self_ref] = result[fields[self_ref]]
            obj = existing.get(k)
            try:
                if obj is None:
                    obj = model(**fields)
                    obj.save()
                    for rel in m2m:
                        field = model._meta.get_field(rel)
                        new_links[rel] += [field.remote_field.through(**{field.m2m_column_name(): obj.pk,
                                                                           field.m2m_reverse_name(): pk})
                                           for pk in dict.fromkeys(rec[rel])]  # once each, like .set()
                    self.report.created[name] += 1
                else:
                    dirty = [f for f, v in fields.items() if _differs(obj, f, v)]
                    m2m_dirty = [rel for rel in m2m if set(rec[rel]) != {x.pk for x in getattr(obj, rel).all()}]
                    if dirty or m2m_dirty or obj.deleted_at is not None:
                        for f in dirty:
                            setattr(obj, f, fields[f])
                        obj.deleted_at = None
                        obj.save()
                        for rel in m2m_dirty:
                            getattr(obj, rel).set(rec[rel])
                        self.report.updated[name] += 1
                    else:
                        self.report.unchanged[name] += 1
            except IntegrityError as exc:
                raise FixtureError(rec.get("_where", where), str(k), "-", f"rejected by the database: {exc}") from None
            result[k] = obj
        for rel, rows in new_links.items():
            model._meta.get_field(rel).remote_field.through.objects.bulk_create(rows)
        for k, obj in existing.items():
            if k not in result and obj.deleted_at is None:
                record_soft_delete(record=obj, actor="loader")
                self.report.deleted[name] += 1
        return result


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


@transaction.atomic
def fixtures_load(*, directory: Path) -> LoadReport:
    """Load fixtures/ into the database in one transaction: all of it, or nothing.

    Running it twice changes nothing. Records that left the fixtures are soft-deleted.
    """
    fx = read_fixtures(directory)
    report = LoadReport()
    sync = _Syncer(report)

    topics = sync.sync(Topic, "code", fx.topics, where="fixtures/topics.yaml")
    units = sync.sync(Unit, "symbol", fx.units, where="fixtures/units.yaml")
    regions = sync.sync(Region, "code", _parents_first(fx.regions), where="fixtures/regions.yaml", self_ref="parent")
    sources = sync.sync(
        Source, "slug", [{k: v for k, v in s.items() if k != "periods"} for s in fx.sources],
        where="fixtures/sources.yaml",
    )
    for s in fx.sources:
        src = sources[s["slug"]]
        wanted = {(a, b): label for a, b, label in s["periods"]}
        current = {(p.start, p.end): p for p in src.periods.all()}
        for key, p in current.items():
            if key not in wanted:
                p.delete()
        for (a, b), label in wanted.items():
            p = current.get((a, b))
            if p is None:
                SourcePeriod.objects.create(source=src, start=a, end=b, label=label)
            elif p.label != label:
                p.label = label
                p.save()

    citations = sync.sync(
        Citation, "uid",
        [
            {"uid": natural_uid("citation", src, off, quote), "source": sources[src], "quote": quote,
             "offset": off, "garbled": c["garbled"]}
            for (src, off, quote), c in fx.citations.items()
        ],
        where="fixtures (citations)",
    )

    def cit_pks(keys):
        return [citations[natural_uid("citation", *k)].pk for k in keys]

    indicators = sync.sync(
        Indicator, "code",
        [{**i, "topic": topics[i["topic"]], "unit": units[i["unit"]]} for i in fx.indicators],
        where="fixtures/indicators",
    )
    sync.sync(
        Observation, "uid",
        [
            {
                "uid": natural_uid("observation", o["indicator"], o["region"], o["period_start"], o["period_end"],
                                   o["kind"], o["comparator"]),
                "indicator": indicators[o["indicator"]], "region": regions[o["region"]],
                "period_start": o["period_start"], "period_end": o["period_end"], "period_label": o["period_label"],
                "kind": o["kind"], "comparator": o["comparator"], "value": o["value"], "unit": units[o["unit"]],
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
            {**s, "uid": natural_uid("project-status", s["project"], s["status"], s["kind"], s["date_start"],
                                     s["date_end"]),
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
    return report
