"""The server's side of the sync client's tests: its public content, and writes through the services.

In the test process (PostgreSQL: the test database, read by a server subprocess too), or, for a
server on a SQLite file of its own, in a subprocess on that file:

    DATABASE_URL=sqlite:///db.sqlite3 python -m tests.examples.server_side content > content.json
    DATABASE_URL=sqlite:///db.sqlite3 python -m tests.examples.server_side writes
"""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

ACTOR = "sync-test"


def public_content() -> dict[tuple[str, str], dict]:
    """Every public record, live and deleted, as its snapshot (opendata.base.snapshots): what a
    mirror built from the change feed must hold."""
    from opendata.base.models import public_models
    from opendata.base.snapshots import Keys, parts_of, snapshot

    keys = Keys()
    out = {}
    for resource, model in public_models().items():
        keys.preload(model)
        related = [f.name for f in model._meta.many_to_many] + [r.get_accessor_name() for r in parts_of(model)]
        for record in model._base_manager.prefetch_related(*related):
            out[(resource, record.public_id)] = snapshot(record, keys=keys)
    return out


def mirror_content(path: Path) -> dict[tuple[str, str], dict]:
    """The example client's mirror, in the same form; each row's `deleted` must agree with its snapshot."""
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT resource, key, deleted, snapshot FROM records").fetchall()
    out = {}
    for resource, key, deleted, text in rows:
        record = json.loads(text)
        assert bool(deleted) == (record["deleted_at"] is not None), (resource, key, deleted)
        out[(resource, key)] = record
    return out


def differences(mirror: dict, content: dict, limit: int = 5) -> list[str]:
    """What differs, briefly (for assertion messages)."""
    out = [f"missing {k}" for k in content.keys() - mirror.keys()]
    out += [f"extra {k}" for k in mirror.keys() - content.keys()]
    out += [f"{k}: {f}: mirror {mirror[k].get(f)!r}, server {content[k].get(f)!r}"
            for k in content.keys() & mirror.keys() if mirror[k] != content[k]
            for f in sorted(set(mirror[k]) | set(content[k])) if mirror[k].get(f) != content[k].get(f)]
    return out[:limit] + ([f"... {len(out) - limit} more"] if len(out) > limit else [])


def some_writes() -> list[str]:
    """A few writes of every kind over the loaded fixtures: updates, a creation, deletions (a project
    with its timeline), a restore. Returns what it did."""
    from indicators.models import Observation
    from indicators.services import indicator_update, observation_delete
    from opendata.base.services import WriteError
    from opendata.catalogue.models import Topic
    from opendata.catalogue.services import topic_create, topic_delete, topic_update
    from projects.models import Project
    from projects.services import project_delete, project_restore

    topic = Topic.objects.alive().order_by("code").first()
    topic_update(key=topic.code, data={"description": "Updated by the sync test"}, actor=ACTOR)
    indicator = topic.indicators.alive().order_by("code").first()
    indicator_update(key=indicator.code, data={"name_en": indicator.name_en + " (renamed)"}, actor=ACTOR)
    topic_create(data={"code": "sync-test", "name_zh": "同步", "name_en": "Sync test"}, actor=ACTOR)
    topic_delete(key="sync-test", actor=ACTOR)
    done = [f"update topic {topic.code}", f"update indicator {indicator.code}", "create and delete topic sync-test"]
    observation = Observation.objects.alive().order_by("uid").first()
    observation_delete(key=observation.uid, actor=ACTOR)
    done.append(f"delete observation {observation.uid}")
    deleted = []
    for project in Project.objects.alive().filter(timeline__isnull=False).distinct().order_by("slug"):
        try:
            project_delete(key=project.slug, actor=ACTOR)
        except WriteError:  # still referred to by a live record
            continue
        deleted.append(project.slug)
        if len(deleted) == 2:
            break
    project_restore(key=deleted[0], actor=ACTOR)
    done += [f"delete projects {deleted} with their timelines", f"restore project {deleted[0]}"]
    return done


def main(command: str) -> None:
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opendata.config.settings")
    django.setup()
    if command == "content":
        json.dump([[list(k), v] for k, v in public_content().items()], sys.stdout, ensure_ascii=False)
    elif command == "writes":
        for line in some_writes():
            print(line)
    else:
        raise SystemExit(f"unknown command {command!r}")


def subprocess_content(text: str) -> dict[tuple[str, str], dict]:
    """`content`'s output, read back."""
    return {tuple(k): v for k, v in json.loads(text)}


if __name__ == "__main__":
    main(sys.argv[1])
