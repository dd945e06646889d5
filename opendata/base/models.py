"""The base of every public record: timestamps for syncing clients, soft deletion, deterministic uids."""

from __future__ import annotations

import datetime as dt
import uuid
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

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

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
