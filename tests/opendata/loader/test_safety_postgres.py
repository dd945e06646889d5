"""Loader safety on PostgreSQL (issue 12): concurrent loads wait for each other, and a connection broken in
the middle of a bulk write leaves nothing of it. Each writer runs in a thread with its own connection
(Django's connections are per thread). Skipped elsewhere; CI's PostgreSQL run allows no skip."""

from __future__ import annotations

import contextlib
import datetime as dt
import queue
import threading
import time
from collections import Counter

import pytest
from django.conf import settings
from django.db import connection

from indicators.models import Observation
from indicators.services import observation_bulk_upsert
from opendata.base.models import Change
from opendata.loader.services import fixtures_load

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]

WAIT = 120  # two full loads on a busy 2-core machine


def in_thread(target, *args):
    """Run `target(*args)` in a thread with its own connection; `join()` returns its result or re-raises."""
    out: dict = {}

    def run():
        try:
            out["result"] = target(*args)
        except BaseException as exc:  # noqa: BLE001 - handed to the test's thread
            out["error"] = exc
        finally:
            with contextlib.suppress(Exception):  # a terminated connection may fail to close cleanly
                connection.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()

    def join():
        thread.join(WAIT)
        assert not thread.is_alive(), "thread hung"
        if "error" in out:
            raise out["error"]
        return out["result"]

    return join


def test_two_concurrent_loads_on_an_empty_database_both_succeed_and_create_each_record_once():
    start = threading.Barrier(2, timeout=WAIT)

    def load():
        start.wait()
        return fixtures_load(directory=settings.FIXTURES_DIR)

    joins = [in_thread(load) for _ in range(2)]
    reports = [join() for join in joins]  # today: one fails, "rejected by the database: duplicate key"
    assert sorted(r.changed for r in reports) == [False, True], "the second load finds nothing to change"
    creates = Counter(Change.objects.filter(operation="create").values_list("resource", "key"))
    assert creates and set(creates.values()) == {1}
    assert Change.objects.exclude(operation="create").count() == 0
    assert Observation.objects.count() == creates_of("observation", creates) > 0


def creates_of(resource: str, creates: Counter) -> int:
    return sum(n for (r, _), n in creates.items() if r == resource)


def test_the_lock_is_the_loads_and_held_until_its_transaction_ends():
    from django.db import transaction

    from opendata.loader.services import LOAD_LOCK, _lock_for_load

    with transaction.atomic():
        _lock_for_load()
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = %s "
                           "AND pid = pg_backend_pid()", [LOAD_LOCK])
            assert cursor.fetchone()[0] == 1
    with connection.cursor() as cursor:
        # Advisory locks belong to a database: other databases of the server (other test runs) may hold theirs.
        cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = %s AND database = "
                       "(SELECT oid FROM pg_database WHERE datname = current_database())", [LOAD_LOCK])
        assert cursor.fetchone()[0] == 0


def test_a_load_waits_for_another_load_longer_than_the_statements_lock_timeout():
    from django.db import transaction

    from opendata.loader.services import LOAD_LOCK

    with connection.cursor() as cursor:
        cursor.execute("SHOW lock_timeout")
        (lock_timeout,) = cursor.fetchone()
    held, release = threading.Event(), threading.Event()

    def other_load():  # holds the load's lock as a long load would
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOAD_LOCK])
            held.set()
            assert release.wait(WAIT)

    holder = in_thread(other_load)
    assert held.wait(WAIT)
    loader = in_thread(lambda: fixtures_load(directory=settings.FIXTURES_DIR))
    time.sleep(3.5)  # longer than DATABASE_LOCK_TIMEOUT (2 s): a plain lock wait would have failed by now
    assert not Change.objects.exists(), f"the load waited (lock_timeout {lock_timeout})"
    release.set()
    holder()
    assert loader().changed
    assert Change.objects.filter(operation="create").exists()


# -- a connection broken in the middle of a bulk write ----------------------------------------------------

ROWS = 300
ACTOR = "fault-writer"


def rows(world) -> list[dict]:
    uid = str(world["粮食产量达到259.9亿斤"].uid)
    days = [dt.date(2024, 1, 1) + dt.timedelta(days=i) for i in range(ROWS)]
    return [{"indicator": "grain-output", "region": "changchun", "period_start": d.isoformat(),
             "period_end": d.isoformat(), "period_label": d.isoformat(), "kind": "actual", "value": "259.9",
             "citations": [uid]} for d in days]


@pytest.fixture
def slow_inserts():
    """Each observation inserted bumps a sequence (seen at once by other connections: sequences are not
    transactional) and sleeps a little, so the test can see the writer is half-way. In the test database
    only; dropped afterwards."""
    table = connection.ops.quote_name(Observation._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute("CREATE SEQUENCE fault_rows_written")
        cursor.execute("""CREATE FUNCTION fault_slow_insert() RETURNS trigger LANGUAGE plpgsql AS $$
                          BEGIN PERFORM nextval('fault_rows_written'); PERFORM pg_sleep(0.01); RETURN NEW; END $$""")
        cursor.execute(f"CREATE TRIGGER fault_slow_insert AFTER INSERT ON {table} "
                       "FOR EACH ROW EXECUTE FUNCTION fault_slow_insert()")
    yield
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TRIGGER IF EXISTS fault_slow_insert ON {table}")
        cursor.execute("DROP FUNCTION IF EXISTS fault_slow_insert()")
        cursor.execute("DROP SEQUENCE IF EXISTS fault_rows_written")


def rows_written() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM fault_rows_written")
        return cursor.fetchone()[0]


def test_a_connection_broken_in_the_middle_of_a_bulk_write_leaves_nothing_of_it(world, slow_inserts):
    from django.db import DatabaseError, InterfaceError

    batch = rows(world)
    pids: queue.Queue = queue.Queue()

    def write():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pids.put(cursor.fetchone()[0])
        return observation_bulk_upsert(rows=batch, actor=ACTOR)

    join = in_thread(write)
    pid = pids.get(timeout=WAIT)
    deadline = time.monotonic() + WAIT
    while rows_written() < 20:  # it has written some rows, not all
        assert time.monotonic() < deadline, "the writer wrote nothing"
        time.sleep(0.02)
    written = rows_written()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        assert cursor.fetchone()[0] is True
    with pytest.raises((DatabaseError, InterfaceError)):
        join()
    assert 20 <= written < ROWS, "terminated half-way"
    assert not Observation.objects.filter(indicator__code="grain-output").exists()
    assert not Change.objects.filter(actor=ACTOR).exists()
    assert not Change.objects.filter(resource="observation").exists()
    # the table still takes the same batch afterwards, on a fresh connection
    assert len(observation_bulk_upsert(rows=batch[:5], actor=ACTOR)) == 5
