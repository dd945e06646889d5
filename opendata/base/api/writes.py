"""REST writes of every resource: the HTTP side of the write services (opendata.base.services).

A resource's viewset adds `WritableMixin` and names its services (`writes = TOPIC_WRITES`, the
`Writer` behind them for the OpenAPI document, `resource_name`, the collection as API keys name it):

    POST   /<collection>/                 create                 201, Location, ETag
    PUT    /<collection>/{key}/           create or replace      201 (created) or 200, ETag
    PATCH  /<collection>/{key}/           change the fields sent 200, ETag
    DELETE /<collection>/{key}/           soft-delete            200 with the deleted record, ETag
    POST   /<collection>/{key}/restore/   restore                200, ETag
    POST   /observations/bulk/            upsert many rows       200 with a summary (BulkUpsertMixin)

The rules are the services'; this module only reads the request, maps their answers and errors to
HTTP, and guards concurrent writers:

- Bodies are JSON objects with the fields of the REST representation (references by public key,
  numbers as text), passed to the service as they are; the service refuses an unknown or read-only
  field. On PUT the key in the URL is the record's (a key in the body must be the same).
- A record's ETag is `"<record_version>"` (opendata.base.services.record_version), in every write
  answer; the ETag of `GET /<collection>/{key}/` is `"<record_version>.<validator>"` (the record's
  version, then the cache validator of that representation). `If-Match` takes either: its version
  part is compared, with the record locked, to the record's current version.
- Changing an existing record (PUT over it, PATCH, DELETE, restore) needs `If-Match`: 428 without
  it, 412 (with the current ETag) when it is stale; `If-Match: *` writes whatever the version. A PUT
  that creates needs none; `If-None-Match: *` insists on creating (412 when the record exists).
- Errors are problem+json: a refused write (`WriteError`) is 422 with `errors` listing each
  `{index, field, message}`; its subclasses are 404, 410, 409 (exists, in use) and 412. A body that
  is not JSON is 400, another Content-Type 415, a body over the size limit 413.
- `Idempotency-Key` (any write): see opendata.base.api.idempotency.
- Write answers are never cached (`Cache-Control: no-store`); every write moves `updated_at`, which
  changes the ETags of the GETs (opendata.base.api.caching).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from urllib.parse import quote

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from rest_framework import exceptions, status
from rest_framework.parsers import JSONParser
from rest_framework.permissions import SAFE_METHODS
from rest_framework.response import Response

from opendata.base.api.auth import ReadAnonymousWriteWithKey, actor_of
from opendata.base.api.caching import conditional_response, shared_cache_control, validators_for
from opendata.base.api.errors import InvalidParameters, NotModified
from opendata.base.api.idempotency import HEADER as IDEMPOTENCY_HEADER
from opendata.base.api.idempotency import fingerprint, parse_key, run_idempotent
from opendata.base.api.renderers import UTF8JSONRenderer
from opendata.base.api.write_schema import WRITE_ACTIONS, WriteAutoSchema
from opendata.base.services import Write, WriteError, Writes, record_version

#: Query parameters a write takes (none changes what is written).
WRITE_PARAMS = {"format"}

# -- problems ----------------------------------------------------------------------------------------

#: A WriteError's `code` -> (status, problem type, title, how to fix).
WRITE_PROBLEMS = {
    "invalid": (422, "invalid-data", "Invalid data", (
        "Correct the fields listed in `errors` (in a bulk write, each with its row `index`) and send the write "
        "again; the API documentation lists each resource's fields.")),
    "not_found": (404, "not-found", "Not Found", (
        "Check the identifier (codes and slugs are case-sensitive); the collection lists every record.")),
    "gone": (410, "gone", "Gone", (
        "The record is deleted: restore it (POST <record URL>restore/ with its ETag in If-Match) before changing "
        "it, or PUT it whole (with If-Match), which restores it too.")),
    "exists": (409, "record-exists", "Record exists", (
        "Change the existing record instead (PUT or PATCH on its URL, with its ETag in If-Match), or restore it "
        "if it is deleted.")),
    "in_use": (409, "record-in-use", "Record in use", (
        "Delete the live records listed in `errors` that refer to it, or point them elsewhere, first.")),
    "stale_version": (412, "precondition-failed", "Precondition Failed", (
        "The record changed since you read it: read it again (GET), reapply your change and send its new ETag "
        "in If-Match.")),
}


def etag_of(record) -> str:
    """A record's ETag in write answers: its version, quoted."""
    return f'"{record_version(record)}"'


class WriteRefused(exceptions.APIException):
    """A `WriteError` of the services as an HTTP problem, with its `errors`."""

    def __init__(self, error: WriteError, *, etag: str | None = None):
        code = error.code if error.code in WRITE_PROBLEMS else "invalid"
        self.status_code, self.problem_type, self.title, self.how_to_fix = WRITE_PROBLEMS[code]
        self.problem_extensions = {"errors": error.errors}
        self.problem_headers = {"ETag": etag} if etag and self.status_code in (410, 412) else {}
        super().__init__(f"{self.title}: {error}")


class PreconditionRequired(exceptions.APIException):
    status_code = status.HTTP_428_PRECONDITION_REQUIRED
    problem_type = "precondition-required"
    title = "Precondition Required"
    how_to_fix = ("Read the record (GET its URL, or take the ETag of your last write of it) and send its ETag "
                  "back as `If-Match: \"<etag>\"`; `If-Match: *` overwrites whatever version is there.")


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    problem_type = "precondition-failed"
    title = "Precondition Failed"
    how_to_fix = WRITE_PROBLEMS["stale_version"][3]

    def __init__(self, detail: str, *, etag: str | None = None, how_to_fix: str | None = None):
        self.problem_headers = {"ETag": etag} if etag else {}
        if how_to_fix:
            self.how_to_fix = how_to_fix
        super().__init__(detail)


class MalformedBody(exceptions.ParseError):
    problem_type = "malformed-body"
    title = "Malformed body"
    how_to_fix = "Send the body as one JSON object (UTF-8), with `Content-Type: application/json`."


class UnsupportedBody(exceptions.UnsupportedMediaType):
    problem_type = "unsupported-media-type"
    title = "Unsupported Media Type"
    how_to_fix = "Send the body as JSON with `Content-Type: application/json`."

    def __init__(self, media_type: str):
        super().__init__(media_type, detail=(f"The body must be JSON (`Content-Type: application/json`), "
                                             f"not {media_type or 'without a Content-Type'}."))


class BodyTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    problem_type = "body-too-large"
    title = "Content Too Large"
    how_to_fix = "Send less in one request: split a bulk write into several requests."


# -- preconditions -----------------------------------------------------------------------------------

_TAG = re.compile(r'\s*(W/)?"([^"]*)"\s*|\s*([^,\s]+)\s*')


def if_match_versions(raw: str) -> set[str] | None:
    """The record versions an If-Match header accepts; None for `*`. A weak tag (`W/"..."`) never
    matches (If-Match compares strongly); a tag from a GET (`"<version>.<validator>"`) gives its version."""
    if raw.strip() == "*":
        return None
    versions = set()
    for part in raw.split(","):
        found = _TAG.fullmatch(part)
        if not found or found.group(1):
            continue
        tag = found.group(2) if found.group(2) is not None else found.group(3)
        versions.add(tag.split(".", 1)[0])
    return versions


def same_key(a: object, b: object) -> bool:
    if str(a) == str(b):
        return True
    try:
        return uuid.UUID(str(a)) == uuid.UUID(str(b))
    except ValueError:
        return False


# -- the viewset mixin -------------------------------------------------------------------------------

class WritableMixin:
    """Create, upsert (PUT), update (PATCH), delete and restore through the resource's services;
    put before `PublicViewSet` in the bases."""

    writes: Writes | None = None        # the resource's five services (`<RESOURCE>_WRITES`)
    writer = None                       # the services' Writer, whose fields document the request bodies
    nested_writers: tuple = ()          # (name, Writer) of nested data a record's body may hold (documentation)
    resource_name: str = ""             # the collection, as API keys' `resources` name it (auth.resource_of)
    max_body_bytes: int | None = None   # None: settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    permission_classes = (ReadAnonymousWriteWithKey,)
    parser_classes = (JSONParser,)
    schema = WriteAutoSchema()          # its GETs as AutoSchema documents them, and its writes

    # -- the request -----------------------------------------------------------------------------
    def initial(self, request, *args, **kwargs):
        if self.action is None:  # before asking for a key: a method this URL never takes
            raise exceptions.MethodNotAllowed(request.method)
        super().initial(request, *args, **kwargs)
        if self.action in WRITE_ACTIONS:
            self.actor_name = str(actor_of(request))
            unknown = [p for p in request.query_params if p not in WRITE_PARAMS]
            if unknown:
                raise InvalidParameters({p: "Unknown parameter: a write takes none (its data is the body)."
                                         for p in unknown}, kind="unknown-parameters")
            none_match = request.headers.get("If-None-Match")
            if self.action == "upsert" and none_match is not None and none_match.strip() != "*":
                raise InvalidParameters({"If-None-Match": (
                    f"{none_match.strip()!r} is not `*`: a PUT takes `If-None-Match: *` (create only) or no "
                    f"If-None-Match; to guard a change, send the record's ETag in If-Match.")})

    def get_renderers(self):
        if self.action in WRITE_ACTIONS:
            return [UTF8JSONRenderer()]
        return super().get_renderers()

    def read_body(self, request, *, limit: int | None = None) -> object:
        """The JSON body (any JSON value: the service says what it expects), within the size limit."""
        django_request = request._request
        limit = limit or self.max_body_bytes or settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            length = int(django_request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        too_large = BodyTooLarge(f"The body is larger than {limit} bytes, the limit of this endpoint.")
        if length > limit:
            raise too_large
        if length and not django_request._read_started and not hasattr(django_request, "_body"):
            body = django_request.read(limit + 1)  # Django's own limit is for forms; ours is per endpoint
            if len(body) > limit:
                raise too_large
            django_request._body = body
        if not length and not django_request.META.get("HTTP_TRANSFER_ENCODING"):
            if self.action == "update":
                return {}  # a PATCH changes the fields sent: none, nothing (its body is optional)
            raise MalformedBody("The body is empty: send the data as one JSON object.")
        if length and not request.content_type:
            raise UnsupportedBody("")
        try:
            return request.data
        except exceptions.UnsupportedMediaType:
            raise UnsupportedBody(request.content_type.split(";")[0].strip()) from None
        except exceptions.ParseError as exc:
            raise MalformedBody(f"The body is not valid JSON: {exc.detail}") from None

    # -- preconditions ---------------------------------------------------------------------------
    @property
    def public_key(self) -> str:
        return self.writes.model.public_key

    def lock(self, key: str):
        """The record with this key, locked until the write's transaction ends (None: no such record)."""
        try:
            record = self.writes.model._base_manager.select_for_update().filter(**{self.public_key: key}).first()
        except (ValueError, DjangoValidationError):
            return None
        self.current_etag = etag_of(record) if record is not None else None
        return record

    def lock_existing(self, key: str):
        record = self.lock(key)
        if record is None:
            raise exceptions.NotFound(f"No {self.label} with {self.public_key} {key!r}.")
        return record

    def expected_version(self, request, record) -> str | None:
        """The version If-Match holds the write to (None for `*`): 428 without If-Match, 412 when stale."""
        raw = request.headers.get("If-Match")
        key = record.public_id
        if raw is None:
            raise PreconditionRequired(
                f"The {self.label} {key!r} exists: changing it needs its ETag in If-Match, so that no change made "
                f"since you read it is overwritten. Its ETag is in the ETag header of GET {request.path} and of "
                f"every write answer.")
        versions = if_match_versions(raw)
        current = record_version(record)
        if versions is None or current in versions:
            return None if versions is None else current
        raise PreconditionFailed(
            f"The {self.label} {key!r} changed since the version in If-Match ({raw.strip()}); its ETag is now "
            f"{etag_of(record)}.", etag=etag_of(record))

    def check_if_none_match(self, request, record) -> None:
        if request.headers.get("If-None-Match", "").strip() == "*":
            raise PreconditionFailed(
                f"The {self.label} {record.public_id!r} exists, and If-None-Match: * asked to create it only.",
                etag=etag_of(record),
                how_to_fix="Leave If-None-Match out and send the record's ETag in If-Match to replace it.")

    # -- running a write -------------------------------------------------------------------------
    def perform_write(self, request, body: object, write: Callable[[], Response]) -> Response:
        """`write` in one transaction; once per Idempotency-Key when one is sent."""
        raw_key = request.headers.get(IDEMPOTENCY_HEADER)
        if raw_key is None:
            with transaction.atomic():
                return write()
        key = parse_key(raw_key)
        owner = actor_of(request).prefix
        path = request.get_full_path()
        return run_idempotent(owner=owner, key=key, method=request.method, path=path, write=write,
                              request_hash=fingerprint(method=request.method, path=path, body=body, client=owner))

    def answer(self, done: Write, *, status_code: int = 200) -> Response:
        """The record as GET shows it (through the view's selector), with its ETag."""
        record = self.get_queryset().filter(pk=done.record.pk).first() or done.record
        response = Response(self.get_serializer(record).data, status=status_code,
                            headers={"ETag": etag_of(record)})
        if status_code == status.HTTP_201_CREATED:
            path = self.request.path
            if self.action == "create":
                path += quote(record.public_id, safe="") + "/"
            response["Location"] = self.request.build_absolute_uri(path)
        return response

    def with_url_key(self, data: object, key: str) -> object:
        """A PUT's data with the key of its URL (a key in the body must be that one)."""
        if not isinstance(data, Mapping):
            return data  # the service says what it expected
        if self.public_key in data and not same_key(data[self.public_key], key):
            raise WriteError.one(self.public_key, (
                f"is {key} in the URL, not {data[self.public_key]}: the URL names the record; leave "
                f"{self.public_key} out of the body or send the same"))
        return {**data, self.public_key: key}

    # -- the actions -----------------------------------------------------------------------------
    def create(self, request, *args, **kwargs):
        data = self.read_body(request)
        return self.perform_write(request, data, lambda: self.answer(
            self.writes.create(data=data, actor=self.actor_name), status_code=status.HTTP_201_CREATED))

    def upsert(self, request, *args, **kwargs):
        key = self.kwargs[self.lookup_url_kwarg]
        data = self.with_url_key(self.read_body(request), key)

        def write():
            record = self.lock(key)
            if record is None:
                if request.headers.get("If-Match") is not None:
                    raise PreconditionFailed(
                        f"No {self.label} {key!r} exists to match If-Match.",
                        how_to_fix="Send no If-Match to create the record (If-None-Match: * to create it only).")
                return self.answer(self.writes.create(data=data, actor=self.actor_name),
                                   status_code=status.HTTP_201_CREATED)
            self.check_if_none_match(request, record)
            self.expected_version(request, record)  # the row stays locked: no one writes it in between
            return self.answer(self.writes.upsert(data=data, actor=self.actor_name))

        return self.perform_write(request, data, write)

    def update(self, request, *args, **kwargs):
        key = self.kwargs[self.lookup_url_kwarg]
        data = self.read_body(request)

        def write():
            record = self.lock_existing(key)
            expected = self.expected_version(request, record) if record.deleted_at is None else None
            return self.answer(self.writes.update(key=key, data=data, actor=self.actor_name, partial=True,
                                                  expected_version=expected))

        return self.perform_write(request, data, write)

    def destroy(self, request, *args, **kwargs):
        return self._change(request, self.writes.delete)

    def restore(self, request, *args, **kwargs):
        return self._change(request, self.writes.restore)

    def _change(self, request, service):
        key = self.kwargs[self.lookup_url_kwarg]

        def write():
            record = self.lock_existing(key)
            expected = self.expected_version(request, record)
            return self.answer(service(key=key, actor=self.actor_name, expected_version=expected))

        return self.perform_write(request, None, write)

    # -- answers ---------------------------------------------------------------------------------
    def handle_exception(self, exc):
        if isinstance(exc, WriteError):
            exc = WriteRefused(exc, etag=getattr(self, "current_etag", None))
        return super().handle_exception(exc)

    def check_preconditions(self, request):
        """A record's GET: its ETag starts with the record's version (for If-Match), then the cache
        validator of the representation (ConditionalGetMixin's), and 304 when it matches."""
        if self.action != "retrieve" or request.method not in ("GET", "HEAD"):
            return super().check_preconditions(request)
        key = self.kwargs[self.lookup_url_kwarg]
        try:
            row = self.writes.model._base_manager.filter(**{self.public_key: key}).values_list(
                self.public_key, "updated_at").first()
        except (ValueError, DjangoValidationError):
            row = None
        if row is None:
            return super().check_preconditions(request)  # the GET answers 404
        version = record_version(self.writes.model(**{self.public_key: row[0], "updated_at": row[1]}))
        self.current_etag = f'"{version}"'
        etag, last_modified = validators_for(request, models=self.cache_models,
                                             media_type=request.accepted_media_type or "")
        etag = f'"{version}.{etag.strip(chr(34))}"'
        self._validators = (etag, last_modified)
        if request.headers.get("If-None-Match", "").strip() == "*":
            self._star = True  # as for every GET: the answer decides (a deleted record is its 410, not a 304)
            return
        not_modified = conditional_response(request._request, etag=etag, last_modified=last_modified,
                                            cache_control=shared_cache_control(request._request))
        if not_modified is not None:
            raise NotModified(not_modified)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if request.method not in SAFE_METHODS:
            response["Cache-Control"] = "no-store"
        elif response.status_code == status.HTTP_410_GONE and getattr(self, "current_etag", None):
            response["ETag"] = self.current_etag  # a deleted record's version: what restoring it needs
        return response


class BulkUpsertMixin:
    """`POST /<collection>/bulk/ {"rows": [...]}`: every row upserted by the service's bulk upsert,
    all or none (422 naming each bad row's index and field); a summary on success."""

    bulk_service: Callable | None = None   # staticmethod(observation_bulk_upsert)
    # The service upserts set-based (~2-4 ms a row on a busy machine, docs/performance.md "Bulk upsert"), but
    # a request with a bad row is written row by row to name each problem (~10-30 ms a row): 1,000 rows keep
    # that within a worker's timeout (30 s).
    max_bulk_rows = 1_000
    max_bulk_bytes = 5_000_000

    def bulk_upsert(self, request, *args, **kwargs):
        body = self.read_body(request, limit=self.max_bulk_bytes)
        if not isinstance(body, Mapping):
            raise WriteError.one("-", 'expected a JSON object {"rows": [...]}')
        problems = [{"index": None, "field": str(name), "message": "unknown field (fields: rows)"}
                    for name in body if name != "rows"]
        rows = body.get("rows")
        if "rows" not in body:
            problems.append({"index": None, "field": "rows", "message": "is required"})
        elif isinstance(rows, list) and len(rows) > self.max_bulk_rows:
            problems.append({"index": None, "field": "rows", "message": (
                f"{len(rows)} rows: at most {self.max_bulk_rows} per request; split them")})
        if problems:
            raise WriteError(problems)

        def write():
            done = type(self).bulk_service(rows=rows, actor=self.actor_name)
            return Response(self.bulk_summary(request, done))

        return self.perform_write(request, body, write)

    def bulk_summary(self, request, done: list[Write]) -> dict:
        collection = request.path.removesuffix("bulk/")
        results = []
        counts = {"create": 0, "update": 0, "restore": 0, None: 0}
        for index, write in enumerate(done):
            counts[write.operation] = counts.get(write.operation, 0) + 1
            key = write.record.public_id
            results.append({"index": index, self.public_key: key, "operation": write.operation or "unchanged",
                            "url": request.build_absolute_uri(collection + quote(key, safe="") + "/"),
                            "etag": etag_of(write.record)})
        return {"created": counts["create"], "updated": counts["update"], "restored": counts["restore"],
                "unchanged": counts[None], "results": results}



#: The actions of a writable collection's routes (`as_view(...)` copies them).
COLLECTION_ACTIONS = {"get": "list", "post": "create"}
RECORD_ACTIONS = {"get": "retrieve", "put": "upsert", "patch": "update", "delete": "destroy"}
RESTORE_ACTIONS = {"post": "restore"}
BULK_ACTIONS = {"post": "bulk_upsert"}


def write_routes(prefix: str, viewset, name: str) -> list:
    """The routes of a writable collection: `<prefix>/` (list, create), `<prefix>/<key>/` (retrieve,
    upsert, update, delete) and `<prefix>/<key>/restore/`, named `<name>-list`, `-detail`, `-restore`."""
    from django.urls import path

    return [
        path(f"{prefix}/", viewset.as_view(dict(COLLECTION_ACTIONS)), name=f"{name}-list"),
        path(f"{prefix}/<str:key>/", viewset.as_view(dict(RECORD_ACTIONS)), name=f"{name}-detail"),
        path(f"{prefix}/<str:key>/restore/", viewset.as_view(dict(RESTORE_ACTIONS)), name=f"{name}-restore"),
    ]
