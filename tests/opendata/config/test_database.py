"""The PostgreSQL backend's fast timestamptz loader gives exactly the values of Django's own loader."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

pytestmark = [
    pytest.mark.postgres,  # the timestamptz loader is PostgreSQL's (tests/conftest.py skips it elsewhere)
    pytest.mark.django_db,
]

VALUES = ["2025-03-01 02:00:00+00", "2025-03-01 02:00:00.5+00", "2025-03-01 02:00:00.123456+00",
          "0001-01-01 00:00:00+00", "9999-12-31 23:59:59.999999+00", "2024-02-29 23:59:59.000001+08",
          "1999-12-31 16:00:00-08:00", "1970-01-01 00:00:00+00"]


def django_loaded(text: str):
    """The value as Django's loader (psycopg's pure-Python one, in Django's time zone) reads it."""
    from django.db.backends.postgresql.psycopg_any import BaseTzLoader

    class Reference(BaseTzLoader):
        timezone = connection.timezone

    loader = Reference(connection.connection.adapters.types["timestamptz"].oid, connection.connection)
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::timestamptz::text", [text])
        return loader.load(cursor.fetchone()[0].encode())


def test_the_fast_loader_is_used_and_reads_what_django_s_loader_reads():
    from opendata.config.postgresql.base import FastTimestamptzLoader

    connection.ensure_connection()
    loader = connection.connection.adapters.get_loader(connection.connection.adapters.types["timestamptz"].oid, 0)
    assert issubclass(loader, FastTimestamptzLoader) and loader.timezone == connection.timezone
    for text in VALUES:
        with connection.cursor() as cursor:
            cursor.execute("SELECT %s::timestamptz", [text])
            got = cursor.fetchone()[0]
        expected = django_loaded(text)
        assert got == expected and got.tzinfo is expected.tzinfo and got.utcoffset() == dt.timedelta(0), text


def test_an_infinite_timestamp_is_refused_as_django_s_loader_refuses_it():
    from django.db import DataError

    with pytest.raises(DataError), connection.cursor() as cursor:
        cursor.execute("SELECT 'infinity'::timestamptz")
        cursor.fetchone()
