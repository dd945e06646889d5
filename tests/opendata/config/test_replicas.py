"""The replica settings and the router's rules, in process (the behaviour against a real primary and
replica: test_cluster.py). Without DATABASE_REPLICA_URLS there is one database and no router."""

from __future__ import annotations

import pytest
from django.db import transaction

from opendata.base.models import Change, IdempotentRequest
from opendata.catalogue.models import Topic
from opendata.config import replicas
from tests.opendata.config.test_settings import settings_in_subprocess


def test_without_replica_urls_there_is_one_database_and_no_router():
    out = settings_in_subprocess({"SECRET_KEY": "x", "DATABASE_URL": "postgres://u@127.0.0.1:5432/x"},
                                 "list(settings.DATABASES), settings.DATABASE_ROUTERS")
    assert out.stdout.strip() == "['default'] []", out.stderr


def test_each_replica_url_is_an_alias_with_the_primary_s_settings_mirrored_in_tests():
    out = settings_in_subprocess(
        {"SECRET_KEY": "x", "DATABASE_URL": "postgres://u@127.0.0.1:5432/x", "DATABASE_STATEMENT_TIMEOUT": "7",
         "DATABASE_REPLICA_URLS": "postgres://u@127.0.0.1:5441/x, postgres://u@127.0.0.1:5442/x"},
        "[(a, d['PORT'], d['TEST']['MIRROR'], d['OPTIONS']['options']) for a, d in settings.DATABASES.items() "
        "if a != 'default'], settings.DATABASE_ROUTERS")
    assert out.stdout.strip() == (
        "[('replica_0', 5441, 'default', '-c statement_timeout=7000 -c lock_timeout=2000'), "
        "('replica_1', 5442, 'default', '-c statement_timeout=7000 -c lock_timeout=2000')] "
        "['opendata.config.replicas.PrimaryReplicaRouter']"), out.stderr


def test_a_replica_must_be_postgresql():
    out = settings_in_subprocess({"SECRET_KEY": "x", "DATABASE_URL": "postgres://u@127.0.0.1:5432/x",
                                  "DATABASE_REPLICA_URLS": "sqlite:////tmp/x.sqlite3"}, "settings.DATABASES")
    assert out.returncode != 0 and "replicas are PostgreSQL streaming replicas" in out.stderr


@pytest.fixture
def reads_on_replica():
    token = replicas._read_alias.set("replica_0")
    yield
    replicas._read_alias.reset(token)


def test_outside_a_request_reads_stay_on_the_primary():
    assert replicas.PrimaryReplicaRouter().db_for_read(Topic) == "default"


def test_the_router_s_rules(reads_on_replica):
    router = replicas.PrimaryReplicaRouter()
    assert router.db_for_read(Topic) == "replica_0"
    # always on the primary: the change feed, idempotency answers, keys, the admin's tables
    for model in (Change, IdempotentRequest):
        assert router.db_for_read(model) == "default"
    from django.apps import apps

    for label in ("keys.ApiKey", "sessions.Session", "auth.User", "axes.AccessAttempt"):
        assert router.db_for_read(apps.get_model(label)) == "default", label
    assert router.db_for_write(Topic) == "default"
    assert router.allow_migrate("default", "opendata") and not router.allow_migrate("replica_0", "opendata")


@pytest.mark.django_db(transaction=True)
def test_inside_a_transaction_on_the_primary_reads_stay_in_it(reads_on_replica):
    router = replicas.PrimaryReplicaRouter()
    assert router.db_for_read(Topic) == "replica_0"
    with transaction.atomic():  # a write's transaction: what it reads must be what it locks and changes
        assert router.db_for_read(Topic) == "default"
