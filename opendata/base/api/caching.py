"""HTTP validators for every GET: `Last-Modified` and `ETag` derived from the data, checked before
any data query, so that a revalidation (304) costs one small query.

The data stamp of a view is the latest `updated_at` of each table its responses are built from,
read in one SQL statement from the `updated_at` indexes (constant time). Every write moves
`updated_at`: `PublicModel.save()` sets it, soft deletion is a save, and the loader saves a record
whose citations change. Rows are never hard-deleted by the loader or the admin actions (soft
deletion is what lets syncing clients learn of a withdrawal), so no row count is needed; a
`COUNT(*)` per table was measured at ~55 ms per request on PostgreSQL with a million observations
(docs/performance.md) and left out. The ETag hashes the stamp with the request URL (parameters
sorted), the negotiated media type and the API contract (the committed OpenAPI document), so that a
deploy changing the representation also changes every ETag.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

from django.db import connections, router
from django.utils import timezone
from django.utils.cache import get_conditional_response
from django.utils.dateparse import parse_datetime
from django.utils.http import http_date

EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


@functools.cache
def contract_salt() -> str:
    """Digest of the committed OpenAPI documents (read once): representations change only with them."""
    from django.conf import settings

    digest = hashlib.sha256(settings.SPECTACULAR_SETTINGS.get("VERSION", "").encode())
    for path in sorted((Path(settings.BASE_DIR) / "docs" / "openapi").glob("*.yaml")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def data_stamp(models) -> tuple[dt.datetime, str]:
    """(latest change across `models`, an opaque fingerprint of it), in one index-only query."""
    if not models:
        return EPOCH, "static"
    # The database the request's data is read from (a replica, opendata/config/replicas.py): the
    # validators must describe the representation served, not a newer one on the primary.
    connection = connections[router.db_for_read(models[0])]
    qn = connection.ops.quote_name
    parts = [f"(SELECT MAX({qn('updated_at')}) FROM {qn(m._meta.db_table)})" for m in models]
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts))
        row = cursor.fetchone()
    latest = EPOCH
    for value in row:
        if value is None:
            continue
        if isinstance(value, str):
            value = parse_datetime(value)
        if timezone.is_naive(value):
            value = timezone.make_aware(value, dt.UTC)
        latest = max(latest, value)
    return latest, "|".join(str(v) for v in row)


def canonical_url(request) -> str:
    query = sorted(parse_qsl(request.META.get("QUERY_STRING", ""), keep_blank_values=True))
    return request.path + "?" + urlencode(query)


def validators_for(request, *, models, media_type: str, salt: str = "") -> tuple[str, dt.datetime]:
    latest, fingerprint = data_stamp(models)
    parts = [canonical_url(request), media_type, fingerprint, contract_salt(), salt]
    digest = hashlib.sha256("\n".join(parts).encode()).hexdigest()
    return f'"{digest[:32]}"', latest


def conditional_response(request, *, etag: str, last_modified: dt.datetime, cache_control: str | None = None):
    """A 304 response when the request's If-None-Match / If-Modified-Since match, else None."""
    response = get_conditional_response(request, etag=etag, last_modified=int(last_modified.timestamp()))
    if response is not None:
        set_validators(response, etag=etag, last_modified=last_modified, cache_control=cache_control)
    return response


REVALIDATE = "public, max-age=0, must-revalidate"


def shared_cache_control(request) -> str:
    """`Cache-Control` of a public read (docs/deployment.md, "The HTTP cache"): a shared cache (nginx, a
    CDN) may serve it `SHARED_CACHE_SECONDS` without asking (`s-maxage`), then revalidates it with its
    ETag (a 304 costs one small query); a browser revalidates every time (`max-age=0`). A request with
    credentials (`Authorization`) is answered `private`: no shared cache keeps it (its quota, its key)."""
    from django.conf import settings

    seconds = getattr(settings, "SHARED_CACHE_SECONDS", 0)
    if request.META.get("HTTP_AUTHORIZATION"):
        return "private, max-age=0, must-revalidate"
    if not seconds:
        return REVALIDATE
    return f"public, max-age=0, s-maxage={seconds}, must-revalidate"


def set_validators(response, *, etag: str, last_modified: dt.datetime, cache_control: str | None = None):
    response["ETag"] = etag
    response["Last-Modified"] = http_date(last_modified.timestamp())
    response["Cache-Control"] = cache_control or REVALIDATE
    return response
