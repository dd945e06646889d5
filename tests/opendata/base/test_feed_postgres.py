"""The change feed on PostgreSQL under concurrent writers: transactions commit in another order than
the one they wrote in, and a reader following the feed with its cursor still gets every entry, none
skipped. Writers run in threads, each with its own connection (Django's connections are per thread)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from opendata.base.models import Change
from opendata.base.selectors import Cursor, change_horizon, change_list
from opendata.catalogue.services import topic_create
from tests.write_helpers import read_feed, settle

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]

WAIT = 30


def topic(code: str, actor: str) -> None:
    topic_create(data={"code": code, "name_zh": code, "name_en": code}, actor=actor)


def in_thread(target):
    """Run `target` in a thread with its own connection; re-raise its exception on join."""
    errors = []

    def run():
        try:
            target()
        except BaseException as exc:  # noqa: BLE001 - handed to the test's thread
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()

    def join():
        thread.join(WAIT)
        assert not thread.is_alive(), "writer thread hung"
        if errors:
            raise errors[0]

    return join


def test_an_entry_committed_while_an_older_transaction_runs_waits_for_it_and_none_is_skipped():
    topic("before", "setup")
    settle()
    start = change_list().next  # a reader that has read everything so far

    t1_wrote, t2_committed, t1_may_commit = threading.Event(), threading.Event(), threading.Event()
    txids = {}

    def t1():
        with transaction.atomic():
            topic("t1-first", "t1")  # T1 begins and writes...
            txids["t1"] = Change.objects.get(key="t1-first").txid
            t1_wrote.set()
            assert t2_committed.wait(WAIT)
            topic("t1-second", "t1")  # ...and writes again after T2 committed (a higher id than T2's entry)
            assert t1_may_commit.wait(WAIT)

    def t2():
        assert t1_wrote.wait(WAIT)
        with transaction.atomic():  # T2 begins after T1, writes and commits while T1 still runs
            topic("t2", "t2")
            txids["t2"] = Change.objects.get(key="t2").txid
        t2_committed.set()

    join_t1 = in_thread(t1)
    try:
        join_t2 = in_thread(t2)
        join_t2()
        assert t2_committed.is_set()
        # T2's entry is committed (a plain read sees it), T1's are not...
        assert Change.objects.filter(key="t2").exists() and not Change.objects.filter(actor="t1").exists()
        # ...and the feed shows nothing yet: T2's entry waits behind T1, still running.
        page = change_list(after=start)
        assert page.changes == [] and not page.more
        assert page.next <= Cursor(txids["t1"], 0), "the watermark must not pass a running transaction"
        cursor = page.next
        # Polling again while T1 runs changes nothing.
        assert change_list(after=cursor).changes == []
    finally:
        t1_may_commit.set()
    join_t1()

    entries, end = read_feed(after=cursor)
    assert [(e.key, e.actor) for e in entries] == [("t1-first", "t1"), ("t1-second", "t1"), ("t2", "t2")]
    t1_first, t1_second, t2_entry = entries
    assert t1_first.id < t2_entry.id < t1_second.id  # id order is not commit order; (txid, id) order is safe
    assert t1_first.txid == t1_second.txid == txids["t1"] < t2_entry.txid == txids["t2"]
    assert change_list(after=end).changes == []
    assert change_horizon() >= end


def test_a_rolled_back_transaction_leaves_no_entry_and_holds_nothing_back():
    settle()
    start = change_list().next

    class Undo(Exception):
        pass

    def writer():
        with pytest.raises(Undo), transaction.atomic():
            topic("rolled-back", "t1")
            raise Undo

    in_thread(writer)()
    topic("kept", "t2")
    entries, _ = read_feed(after=start)
    assert [e.key for e in entries] == ["kept"]


def replayed(entries) -> dict:
    """Each record's `after` in its last entry, in feed order: what a client following the feed holds."""
    return {(e.resource, e.key): e.after for e in entries}


def as_it_is(model, key) -> dict:
    from opendata.base.snapshots import snapshot

    return snapshot(model._base_manager.get(**{model.public_key: key}))


@pytest.mark.parametrize("buffered", [False, True], ids=["services", "loader-buffered"])
def test_a_record_changed_by_an_older_transaction_after_a_newer_one_ends_on_the_older_ones_state(buffered):
    """T2 takes its transaction id first (it writes topic a), T1 then changes topic x and commits, and
    T2 changes x after it: x is as T2 left it, and so is the last entry of x in feed order."""
    from opendata.base.services import ChangeRecorder
    from opendata.catalogue.models import Topic
    from opendata.catalogue.services import topic_update

    for code in ("a", "x"):
        topic(code, "setup")
    settle()
    start = change_list().next
    t2_wrote, t1_committed = threading.Event(), threading.Event()

    def t2_update(code, name):
        if not buffered:
            topic_update(key=code, data={"name_en": name}, actor="t2")
            return
        record = Topic.objects.select_for_update().get(code=code)  # as the loader writes: save, record, flush
        before = recorder.snapshot(record)
        record.name_en = name
        record.save()
        recorder.record(record, before=before)

    recorder = ChangeRecorder(actor="t2", buffered=buffered)

    def t2():
        with transaction.atomic():
            t2_update("a", "a by t2")  # T2 takes its transaction id
            t2_wrote.set()
            assert t1_committed.wait(WAIT)
            t2_update("x", "x by t2")  # after T1 (a higher id) committed its change of x
            recorder.flush()

    def t1():
        assert t2_wrote.wait(WAIT)
        topic_update(key="x", data={"name_en": "x by t1"}, actor="t1")
        t1_committed.set()

    join_t2 = in_thread(t2)
    in_thread(t1)()
    join_t2()

    entries, _ = read_feed(after=start)
    assert [(e.key, e.actor) for e in entries] == [("a", "t2"), ("x", "t1"), ("x", "t2")]
    assert entries[0].txid < entries[1].txid == entries[2].txid  # T2's entry of x follows T1's
    assert Topic.objects.get(code="x").name_en == "x by t2"
    assert replayed(entries)[("topic", "x")] == as_it_is(Topic, "x")


def wait_for_a_lock_wait() -> None:
    """Until a session of this database waits for a lock."""
    import time

    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                           "AND wait_event_type = 'Lock'")
            if cursor.fetchone()[0]:
                return
        time.sleep(0.02)
    raise AssertionError("no session waited for a lock")


def test_a_project_deleted_while_its_status_is_changed_deletes_the_status_as_changed():
    """The statuses deleted with a project are read locked: a status changed by a transaction still
    running when the deletion starts is tombstoned as that transaction left it."""
    from projects.models import ProjectStatus
    from projects.services import project_delete, project_status_update, project_update
    from tests.write_helpers import build_world, quote

    build_world()
    project_update(key="metro-line-6", data={"timeline": [{
        "status": "construction_started", "kind": "actual", "date_start": "2025-01-01", "date_end": "2025-12-31",
        "date_precision": "year", "date_label": "2025", "citations": [quote("地铁6号线开工建设")]}]}, actor="setup")
    status = ProjectStatus.objects.get(project__slug="metro-line-6")
    settle()
    start = change_list().next
    t1_wrote, t2_waits = threading.Event(), threading.Event()

    def t1():
        with transaction.atomic():
            project_status_update(key=status.uid, data={"date_label": "in 2025"}, actor="t1")
            t1_wrote.set()
            assert t2_waits.wait(WAIT)

    def t2():
        assert t1_wrote.wait(WAIT)
        project_delete(key="metro-line-6", actor="t2")

    join_t1 = in_thread(t1)
    try:
        assert t1_wrote.wait(WAIT)
        join_t2 = in_thread(t2)
        wait_for_a_lock_wait()  # T2 waits for T1's lock on the status
    finally:
        t2_waits.set()
    join_t1()
    join_t2()

    entries, _ = read_feed(after=start)
    assert [(e.resource, e.operation, e.actor) for e in entries] == [
        ("project_status", "update", "t1"), ("project_status", "delete", "t2"), ("project", "delete", "t2")]
    tombstone = entries[1]
    assert tombstone.before == entries[0].after  # the status as T1 left it, not as T2 first read it
    assert tombstone.after["date_label"] == "in 2025"
    assert replayed(entries)[("project_status", str(status.uid))] == as_it_is(ProjectStatus, status.uid)
