"""`Idempotency-Key` on REST writes: a retry of a write, with the same key, the same body and the
same API key, gets the first answer again (status, body, `ETag`, `Location`) and writes nothing.

The answers live in the database (`IdempotentRequest`), never in a process's memory, so that every
server process agrees. A write runs in one transaction with the row that remembers its answer: the
row is inserted first (unique per client and key), the write runs, the answer is stored, and all of
it commits together, or nothing does. A concurrent retry with the same key blocks on that row's
unique index until the first commits, then replays its answer; it never writes too.

- Only successful answers (2xx) are remembered: a refused write (4xx) changed nothing and is rolled
  back with its row, so a retry is judged again (it may succeed once the client fixed the cause).
- The same key with another method, path or body is a 422 (`idempotency-key-reused`): a client
  reused a key for another request, a bug that must not pass silently.
- Keys are the client's (one namespace per API key) and kept `IDEMPOTENCY_TTL` (24 hours) after the
  first answer; after that the key is free again. Expired rows are purged as new keyed writes come.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from opendata.base.models import IdempotentRequest

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
IDEMPOTENCY_TTL = dt.timedelta(hours=24)
#: The headers of an answer that are replayed with it.
REPLAYED = ("ETag", "Location")
KEY_RE = re.compile(r"^[\x21-\x7e]([\x20-\x7e]{0,253}[\x21-\x7e])?$")


class InvalidIdempotencyKey(exceptions.APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    problem_type = "invalid-idempotency-key"
    title = "Invalid Idempotency-Key"
    how_to_fix = ("Send a key of 1 to 255 printable ASCII characters, unique per write (a random UUID), in "
                  "`Idempotency-Key`.")


class IdempotencyKeyReused(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    problem_type = "idempotency-key-reused"
    title = "Idempotency-Key reused for another request"
    how_to_fix = ("Use a new Idempotency-Key for each distinct write; resend exactly the same request (method, "
                  "URL and body) only to retry it.")


def parse_key(raw: str) -> str:
    """The key as sent, without the quotes of its structured-field form (`"abc"` and `abc` are one key)."""
    key = raw.strip()
    if len(key) >= 2 and key[0] == key[-1] == '"':
        key = key[1:-1]
    if not KEY_RE.match(key):
        raise InvalidIdempotencyKey("The Idempotency-Key must be 1 to 255 printable ASCII characters.")
    return key


def fingerprint(*, method: str, path: str, body: object, client: str) -> str:
    """What makes two requests the same request: method, path (with its query), body (as parsed JSON,
    so key order and spacing do not matter) and the client."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, cls=JSONEncoder)
    return hashlib.sha256(f"{method.upper()}\n{path}\n{client}\n{canonical}".encode()).hexdigest()


def replay(row: IdempotentRequest) -> Response:
    return Response(row.body, status=row.status, headers={**row.headers, REPLAYED_HEADER: "true"})


def purge_expired(now: dt.datetime | None = None) -> int:
    """Forget the answers older than IDEMPOTENCY_TTL (their keys may be used again)."""
    return IdempotentRequest.objects.filter(expires_at__lte=now or timezone.now()).delete()[0]


def run_idempotent(*, owner: str, key: str, method: str, path: str, request_hash: str,
                   write: Callable[[], Response]) -> Response:
    """Run `write` (which returns the answer) once for (owner, key): in one transaction with the row
    remembering its answer; the first answer again for a retry; 422 for a key reused otherwise."""
    now = timezone.now()
    purge_expired(now)
    with transaction.atomic():
        IdempotentRequest.objects.filter(owner=owner, key=key, expires_at__lte=now).delete()
        try:
            with transaction.atomic():
                row = IdempotentRequest.objects.create(
                    owner=owner, key=key, fingerprint=request_hash, method=method.upper(), path=path[:2000], status=0,
                    created_at=now, expires_at=now + IDEMPOTENCY_TTL)
        except IntegrityError:  # the key was used: its write committed (a running one was waited for)
            first = IdempotentRequest.objects.get(owner=owner, key=key)
            if first.fingerprint != request_hash:
                raise IdempotencyKeyReused(
                    f"The Idempotency-Key {key!r} was used for another request ({first.method} {first.path}, "
                    f"another body or client) within {IDEMPOTENCY_TTL.total_seconds() / 3600:g} hours.") from None
            return replay(first)
        response = write()
        if not 200 <= response.status_code < 300:  # not remembered: nothing was written
            transaction.set_rollback(True)
            return response
        row.status = response.status_code
        row.body = json.loads(json.dumps(response.data, cls=JSONEncoder, ensure_ascii=False))
        row.headers = {name: response[name] for name in REPLAYED if response.has_header(name)}
        row.save(update_fields=["status", "body", "headers"])
        return response
