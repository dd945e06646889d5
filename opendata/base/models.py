"""The base of every public record: timestamps for syncing clients, soft deletion, deterministic uids."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from decimal import Decimal
from typing import ClassVar

from django.apps import apps
from django.db import models
from django.utils import timezone

# Namespace for deterministic public identifiers (uuid5 of a record's natural key), so that the
# same fact gets the same identifier on every machine that loads the same fixtures.
OPENDATA_NAMESPACE = uuid.UUID("5b0c7d0e-43a9-4f7e-9a39-2f5b5f1c0c51")


def natural_uid(*parts: object) -> uuid.UUID:
    return uuid.uuid5(OPENDATA_NAMESPACE, "|".join(str(p) for p in parts))


#: The bookkeeping fields every public record has, as the interfaces list them.
TIMESTAMPS = ("created_at", "updated_at", "deleted_at")


def isoformat_utc(value: dt.datetime) -> str:
    """A moment as every interface writes it: RFC 3339 in UTC with `Z` (`2025-01-08T02:00:00Z`), the
    same in REST, GraphQL and error bodies, and safe to paste into a URL (no `+`)."""
    text = value.astimezone(dt.UTC).isoformat()
    return text.removesuffix("+00:00") + "Z"


#: A code or slug, the public identifier of most records: lower-case kebab-case ASCII (`grain-output`).
CODE_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def code_problem(value: object) -> str:
    return f"{value!r} must be lower-case kebab-case ASCII"


def decimal_text(value: Decimal) -> str:
    """A number as every interface writes it: exact, without exponent or trailing zeros (`259.9`,
    `50000000`), as text so that no precision is lost."""
    return format(value.normalize(), "f")


class PublicQuerySet(models.QuerySet):
    def alive(self):
        return self.filter(deleted_at__isnull=True)

    def deleted(self):
        return self.filter(deleted_at__isnull=False)


class PublicModel(models.Model):
    """A record the API publishes: timestamps for syncing clients and soft deletion.

    A soft-deleted record leaves the API's lists but stays in the database, so that a syncing
    client asking for changes since a date learns of the deletion.

    Each concrete model declares, once, the field that identifies it publicly (`public_key`: REST
    URLs, GraphQL ids, references between records in writes, snapshots and the change feed; never
    the database id) and its resource name (`resource`: the change feed's `resource`, write errors).
    """

    public_key: ClassVar[str] = ""
    resource: ClassVar[str] = ""

    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)
    updated_at = models.DateTimeField(default=timezone.now, db_index=True)
    deleted_at = models.DateTimeField(null=True, blank=True, db_index=True)

    objects = PublicQuerySet.as_manager()

    class Meta:
        abstract = True

    @property
    def public_id(self) -> str:
        """The record's public identifier as text (a uid as its canonical string)."""
        return str(getattr(self, self.public_key))

    def save(self, *args, **kwargs):
        self.updated_at = timezone.now()
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "updated_at"}
        super().save(*args, **kwargs)


def public_models() -> dict[str, type[PublicModel]]:
    """Every installed public model by resource name (`observation` -> Observation)."""
    return {m.resource: m for m in apps.get_models() if issubclass(m, PublicModel)}


# Choice lists live here and in the apps' models.py as module-level TextChoices, so that a model's
# field, its CheckConstraint (`.values`, in a nested Meta that cannot see the model's body) and the
# fixture schema (opendata/loader/schema.py) share one list.


class DatePrecision(models.TextChoices):
    DAY = "day", "day"
    MONTH = "month", "month"
    YEAR = "year", "year"


class FactKind(models.TextChoices):
    """Whether a document reports a fact (`actual`) or plans it (`target`)."""

    ACTUAL = "actual", "actual"
    TARGET = "target", "target"


class ChangeOperation(models.TextChoices):
    CREATE = "create", "create"
    UPDATE = "update", "update"
    DELETE = "delete", "delete"
    RESTORE = "restore", "restore"


class Change(models.Model):
    """One change of one public record: the outbox the change feed reads and the audit log the
    admin shows, one row for both.

    Written by the services (opendata.base.services.ChangeRecorder) in the transaction of the change
    itself, so a change and its entry commit, or roll back, together. `after` is the record's
    public snapshot (opendata.base.snapshots) after the change (for a delete: its last state with
    `deleted_at` set), `before` the one before it (null for a create). `txid` is the writing
    transaction on PostgreSQL (or a later one's, whose entry of the same record this one follows:
    ChangeRecorder), which orders the feed (opendata.base.selectors.change_list).
    """

    Operation = ChangeOperation

    txid = models.BigIntegerField(null=True, blank=True, editable=False, help_text=(
        "PostgreSQL: the writing transaction (pg_current_xact_id()); null on SQLite, where writes are serial"))
    at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)
    resource = models.CharField(max_length=32, editable=False)
    key = models.CharField(max_length=200, editable=False, help_text="The record's public identifier")
    operation = models.CharField(max_length=8, choices=ChangeOperation.choices, editable=False)
    actor = models.CharField(max_length=150, editable=False, db_index=True, help_text=(
        "Who wrote it: `loader`, an admin user's username, an API key's name"))
    before = models.JSONField(null=True, blank=True, editable=False)
    after = models.JSONField(editable=False)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(operation__in=ChangeOperation.values),
                                   name="change_operation_valid"),
            models.CheckConstraint(
                condition=models.Q(operation=ChangeOperation.CREATE, before__isnull=True)
                | (~models.Q(operation=ChangeOperation.CREATE) & models.Q(before__isnull=False)),
                name="change_before_unless_create",
            ),
        ]
        indexes = [
            # The feed: (txid, id) after a cursor, optionally for some resources only.
            models.Index(fields=["txid", "id"], name="change_feed"),
            models.Index(fields=["resource", "txid", "id"], name="change_feed_resource"),
            # One record's history (admin).
            models.Index(fields=["resource", "key", "id"], name="change_record_history"),
        ]

    def __str__(self) -> str:
        return f"{self.operation} {self.resource} {self.key}"


class IdempotentRequest(models.Model):
    """A write answered under an `Idempotency-Key` (opendata/base/api/idempotency.py): a retry with
    the same key, by the same client, gets this answer again instead of writing twice.

    Stored in the database, in the transaction of the write itself, so that every server process
    agrees and a write and its remembered answer commit together; the unique (owner, key) makes a
    concurrent retry wait for the first and then replay it. Kept `IDEMPOTENCY_TTL` (24 h)."""

    owner = models.CharField(max_length=150, editable=False, help_text="The client: its API key's prefix")
    key = models.CharField(max_length=255, editable=False, help_text="The Idempotency-Key header as sent")
    fingerprint = models.CharField(max_length=64, editable=False, help_text=(
        "SHA-256 of the method, path, body and client of the first request"))
    method = models.CharField(max_length=8, editable=False)
    path = models.CharField(max_length=2000, editable=False)
    status = models.PositiveSmallIntegerField(editable=False)
    body = models.JSONField(null=True, editable=False)
    headers = models.JSONField(default=dict, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField(db_index=True, editable=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "key"], name="idempotent_request_owner_key")]

    def __str__(self) -> str:
        return f"{self.owner} {self.key}: {self.method} {self.path} -> {self.status}"
