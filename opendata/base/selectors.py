"""Reads of the shared base: the change feed.

`change_list(after=cursor, resource=[...])` pages through the change log (opendata.base.models.Change)
in an order that never lets an entry appear behind a cursor already handed out, even though
transactions commit in another order than the one they wrote in:

- On PostgreSQL an entry's position is (`txid`, `id`): the writing transaction's id, then the
  entry's. (When a transaction changes a record after a newer transaction committed its own change
  of it, its entry takes the newer one's `txid`, so that each record's entries come in the order
  they were written: services.ChangeRecorder. An entry's `txid` is never below its transaction's.)
  A page shows only entries whose `txid` is below the *horizon*, the oldest transaction still
  running when the page is read (`pg_snapshot_xmin(pg_current_snapshot())`). Every transaction
  below it has ended, so all its entries are visible, and every transaction still to commit has an
  id at or above it, so its entries will sort after any position handed out so far. An entry of a
  transaction that committed while an older one still runs waits, unseen, until the older one
  ends; then both appear, in txid order, after the reader's cursor.
- On SQLite writes are serial (one writer holds the database lock until it commits), so ids are
  allocated in commit order: the position is (0, `id`), and the horizon is the highest id committed.

Every page carries `next`: the position after its last entry, or, when the page holds everything
visible after the cursor, the horizon itself (a *watermark*: nothing will ever appear before it).
A client stores `next` and reads from it again, now or later (positions never expire); an empty
page still moves `next` forward past entries of other resources when `resource` filters.

The horizon is read in its own statement before the page: whatever committed in between has a
position at or above it and is left for the next read, never skipped.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection
from django.db.models import F, Max, Q
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan

from opendata.base.models import Change, public_models

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


class InvalidCursor(ValueError):
    pass


@dataclass(frozen=True, order=True)
class Cursor:
    """A position in the feed: after the entry (txid, id). Opaque to clients (`encode`)."""

    txid: int
    id: int

    def encode(self) -> str:
        return base64.urlsafe_b64encode(f"{self.txid}.{self.id}".encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> Cursor:
        try:
            txid, id_ = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("ascii").split(".")
            cursor = cls(int(txid), int(id_))
        except (ValueError, UnicodeDecodeError, binascii.Error):
            raise InvalidCursor(f"{token!r} is not a position in the change feed") from None
        if cursor.txid < 0 or cursor.id < 0:
            raise InvalidCursor(f"{token!r} is not a position in the change feed")
        return cursor

    @classmethod
    def of(cls, change: Change) -> Cursor:
        return cls(change.txid or 0, change.id)


START = Cursor(0, 0)


@dataclass(frozen=True)
class ChangePage:
    """Entries after a cursor, in feed order, and where to read on from."""

    changes: list[Change]
    next: Cursor
    more: bool  # entries after `next` were already visible: read on at once (else poll later)


def change_horizon() -> Cursor:
    """The watermark now: every entry that will ever be visible before it is visible already."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
            return Cursor(cursor.fetchone()[0], 0)
    return Cursor(0, Change.objects.aggregate(top=Max("id"))["top"] or 0)


def change_list(*, after: Cursor | None = None, resource: Iterable[str] | None = None,
                limit: int = DEFAULT_LIMIT) -> ChangePage:
    """Up to `limit` entries after `after` (from the start when None), of the given resources only
    (all when None), in feed order; see the module docstring for the order and the horizon."""
    after = after or START
    limit = max(1, min(int(limit), MAX_LIMIT))
    horizon = change_horizon()
    qs = Change.objects.all()
    if connection.vendor == "postgresql":
        qs = qs.filter(txid__lt=horizon.txid)
        if after != START:
            qs = qs.filter(Q(TupleGreaterThan(Tuple(F("txid"), F("id")), (after.txid, after.id))))
        qs = qs.order_by("txid", "id")
    else:
        qs = qs.filter(Q(id__lte=horizon.id) & Q(id__gt=after.id)).order_by("id")
    if resource is not None:
        qs = qs.filter(resource__in=list(resource))
    rows = list(qs[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    if more:
        position = Cursor.of(rows[-1])
    else:  # everything visible after `after` is on this page: move on to the horizon
        position = max(after, horizon, *(Cursor.of(c) for c in rows[-1:]))
    return ChangePage(rows, position, more)


def change_resources() -> list[str]:
    """The resources the feed can be filtered by."""
    return sorted(public_models())
