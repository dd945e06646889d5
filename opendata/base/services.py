"""Writes every public record shares: soft deletion and restoring."""

from __future__ import annotations

from django.utils import timezone

from opendata.base.models import PublicModel


def record_soft_delete(*, record: PublicModel) -> None:
    """Remove a record from the API while keeping it (and its deletion time) for syncing clients."""
    if record.deleted_at is None:
        record.deleted_at = timezone.now()
        record.save(update_fields=["deleted_at"])


def record_restore(*, record: PublicModel) -> None:
    if record.deleted_at is not None:
        record.deleted_at = None
        record.save(update_fields=["deleted_at"])
