"""The OpenAPI document of the REST writes (opendata/base/api/writes.py): request bodies built from
the fields the services read (each resource's `Writer`: its model fields, references by public key,
many-to-many lists, parts such as a source's periods, nested data such as a project's timeline),
the answers with their headers, every error, and the API key they need.

`WriteAutoSchema` is the schema class of the writable viewsets; it documents their GETs exactly as
the project's `AutoSchema` does (reading needs no key) and adds the writes.
"""

from __future__ import annotations

import functools

from django.db import models
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema_field
from rest_framework import serializers
from rest_framework.permissions import SAFE_METHODS

from opendata.base.api.auth import ReadAnonymousWriteWithKey
from opendata.base.api.errors import PROBLEM_MEDIA_TYPE, problem_type
from opendata.base.api.idempotency import IDEMPOTENCY_TTL
from opendata.base.api.idempotency import KEY_RE as IDEMPOTENCY_KEY_RE
from opendata.base.api.schema import RATE_LIMIT_HEADERS, AutoSchema, ProblemSerializer
from opendata.base.models import CODE_RE

#: The viewset actions that write (opendata/base/api/writes.py).
WRITE_ACTIONS = frozenset({"create", "upsert", "update", "destroy", "restore", "bulk_upsert"})

# -- request bodies ----------------------------------------------------------------------------------


@extend_schema_field({"type": "string", "format": "decimal", "pattern": r"^-?[0-9]+(\.[0-9]+)?$", "example": "259.9",
                      "description": "A number as text, exactly as stated (a JSON number is taken too)."})
class DecimalInputField(serializers.CharField):
    pass


CITATION_INPUT = {
    "type": "object",
    "description": "A citation written with the fact (created when new): the source, the character offset "
                   "and the verbatim quote of its text there.",
    "properties": {
        "source": {"type": "string", "description": "The source's slug."},
        "offset": {"type": "integer", "minimum": 0, "description": "Where the quote starts in the source's text, "
                                                                     "in Unicode characters."},
        "quote": {"type": "string", "description": "The source's text at that offset, verbatim."},
        "garbled": {"type": "boolean", "description": "The quote stands in a garbled passage."},
    },
    "required": ["source", "offset", "quote"],
}


@extend_schema_field({"oneOf": [{"type": "string", "format": "uuid", "description": "A citation's uid."},
                                CITATION_INPUT]})
class CitationInputField(serializers.JSONField):
    pass


def field_for(f: models.Field, *, required: bool, key_field: models.Field, identity: tuple[str, ...]):
    """The request field documenting a model field as the services read it."""
    help_text = str(f.help_text or "")
    common = {"required": required}
    if f is key_field:
        if identity:
            help_text = (f"Derived from the record's {', '.join(identity)}; optional: if sent, it must be that uid "
                         "(a record read from the API can be sent back).")
        else:
            help_text = "The record's public identifier; it never changes. On PUT, the URL's."
    if f.null or (f.blank and f.empty_strings_allowed and not f.is_relation):
        common["allow_null"] = True  # optional text: the writers take null as empty (Writer.parse)
    if f.is_relation:
        related = f.related_model
        common["help_text"] = f"The {related.resource}'s {related.public_key}" + (f". {help_text}" if help_text else ".")
        if isinstance(related._meta.get_field(related.public_key), models.UUIDField):
            return serializers.UUIDField(**common)
        return serializers.CharField(**common)
    common["help_text"] = help_text
    if f.choices:  # an enum component named after the model's choices (SPECTACULAR_SETTINGS ENUM_NAME_OVERRIDES)
        return serializers.ChoiceField(choices=f.flatchoices, allow_blank=f.blank, **common)
    if isinstance(f, models.DecimalField):
        return DecimalInputField(**common)
    if isinstance(f, models.DateField):
        return serializers.DateField(**common)
    if isinstance(f, models.BooleanField):
        return serializers.BooleanField(**common)
    if isinstance(f, models.UUIDField):
        return serializers.UUIDField(**common)
    if isinstance(f, (models.PositiveIntegerField, models.PositiveSmallIntegerField)):
        return serializers.IntegerField(min_value=0, **common)
    if isinstance(f, models.IntegerField):
        return serializers.IntegerField(**common)
    if isinstance(f, models.SlugField) and f is key_field:
        return serializers.RegexField(CODE_RE.pattern, max_length=f.max_length, **common)
    return serializers.CharField(max_length=f.max_length, allow_blank=f.blank, **common)


def required_field(writer, f: models.Field) -> bool:
    """What Writer.parse asks for in a full write."""
    return not f.has_default() and not f.blank and not f.null and f.name not in writer.optional


@functools.cache
def part_serializer(writer, part_name: str) -> type[serializers.Serializer]:
    """A part of the record written with it (a source's periods), as Writer.parse_parts reads it."""
    rel = writer.parts[part_name]
    attrs: dict[str, object] = {"__module__": __name__}
    for f in rel.related_model._meta.concrete_fields:
        if not f.primary_key and f is not rel.field:
            attrs[f.name] = field_for(f, required=not (f.has_default() or f.blank or f.null), key_field=None,
                                      identity=())
    return type(f"{writer.model.__name__}{part_name.title()}Input", (serializers.Serializer,), attrs)


@functools.cache
def input_serializer(writer, name: str, *, key_required: bool, without: str = "",
                     nested: tuple[tuple[str, object], ...] = ()) -> type[serializers.Serializer]:
    """A serializer class documenting the data `writer` reads (named `name`; `without`: a foreign key
    left out, as in a project's timeline statements)."""
    model = writer.model
    key_field = model._meta.get_field(model.public_key)
    attrs: dict[str, object] = {"__module__": __name__, "__doc__": (
        f"The writable fields of the {model._meta.verbose_name}, named and written as its representation "
        "writes them (references by public identifier).")}
    for f in writer.fields:
        if f.name == without:
            continue
        required = (key_required and not writer.identity) if f is key_field else required_field(writer, f)
        attrs[f.name] = field_for(f, required=required, key_field=key_field, identity=writer.identity)
    for f in writer.m2m:
        related = f.related_model
        if f.name == "citations":
            child = CitationInputField()
            help_text = ("Where the documents state this fact (at least one): citation uids, or citations as "
                         "{source, offset, quote}, created when new.")
        else:
            child = serializers.CharField()
            help_text = f"The {related._meta.verbose_name_plural}' {related.public_key}s."
        attrs[f.name] = serializers.ListField(child=child, required=not f.blank, help_text=help_text)
    for part_name in writer.parts:
        attrs[part_name] = serializers.ListField(child=part_serializer(writer, part_name)(), required=True, help_text=(
            f"The {model.resource}'s {part_name}, all of them (at least one)."))
    for nested_name, nested_writer in nested:
        child = input_serializer(nested_writer, f"{model.__name__}{nested_name.title()}Entry", key_required=False,
                                 without=next(f.name for f in nested_writer.fields if f.related_model is model))
        attrs[nested_name] = serializers.ListField(child=child(), required=False, help_text=(
            f"Optional: the {model.resource}'s {nested_name}, all of it (entries left out are deleted; without "
            f"`{nested_name}`, it is left as it is)."))
    return type(name, (serializers.Serializer,), attrs)


@functools.cache
def bulk_rows_serializer(row: type[serializers.Serializer], max_rows: int) -> type[serializers.Serializer]:
    return type(row.__name__.removesuffix("Write") + "BulkRows", (serializers.Serializer,), {
        "__module__": __name__,
        "rows": serializers.ListField(child=row(), max_length=max_rows, help_text=(
            f"The records to write (at most {max_rows}), each as POST takes it.")),
    })


class BulkResultSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="The row.")
    uid = serializers.UUIDField(help_text="The observation's uid.")
    operation = serializers.ChoiceField(choices=["create", "update", "restore", "unchanged"])
    url = serializers.URLField()
    etag = serializers.CharField(help_text="The observation's ETag (for If-Match).")


class BulkSummarySerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    restored = serializers.IntegerField(help_text="Rows that brought back a deleted observation.")
    unchanged = serializers.IntegerField(help_text="Rows equal to the observation as it was (no change entry).")
    results = BulkResultSerializer(many=True, help_text="One per row, in the order of the rows.")


class WriteErrorSerializer(serializers.Serializer):
    index = serializers.IntegerField(allow_null=True, help_text="The row of a bulk write; null otherwise.")
    field = serializers.CharField(help_text="The field to blame, a dotted path below the record "
                                            "(`citations[0].quote`, `timeline[1].status`); `-` for the body.")
    message = serializers.CharField()


class WriteProblemSerializer(ProblemSerializer):
    """RFC 9457 problem details of a write."""

    errors = WriteErrorSerializer(many=True, required=False, help_text=(
        "A refused write (422, 404, 409, 410, 412 from the services): each problem, by field."))


# -- answers and errors ------------------------------------------------------------------------------

def _example(status: int, type_name: str, title: str, detail: str, instance: str, **extra) -> dict:
    return {"type": problem_type(type_name), "title": title, "status": status, "detail": detail,
            "instance": instance, **extra}


WRITE_ERRORS = {
    "400": ("The body is empty or not JSON, or the request has a query parameter, an Idempotency-Key or an "
            "If-None-Match it cannot take.",
            _example(400, "malformed-body", "Malformed body", "The body is not valid JSON: JSON parse error - "
                     "Expecting value: line 1 column 1 (char 0)", "/api/v1/topics/")),
    "401": ("No API key, or one that is not valid (unknown, revoked or expired).",
            _example(401, "api-key-required", "API key required", "Changing data needs an API key with the write "
                     "scope; this request sent none.", "/api/v1/topics/")),
    "403": ("The API key may only read, or may change other collections only.",
            _example(403, "insufficient-scope", "Insufficient scope", "The API key AbCd1234 (dashboard) may only "
                     "read.", "/api/v1/topics/")),
    "404": ("No record with this identifier.", _example(404, "not-found", "Not Found",
                                                         "No topic with code 'nowhere'.", "/api/v1/topics/nowhere/")),
    "409": ("The record exists already (create), or live records still refer to it (delete).",
            _example(409, "record-in-use", "Record in use", "Record in use: indicators: live indicator records refer "
                     "to this topic (grain-output): delete them or point them elsewhere first",
                     "/api/v1/topics/agriculture/", errors=[{"index": None, "field": "indicators", "message": (
                         "live indicator records refer to this topic (grain-output): delete them or point them "
                         "elsewhere first")}])),
    "410": ("The record is deleted: restore it first (the ETag header holds its version).",
            _example(410, "gone", "Gone", "Gone: code: the topic transport was deleted on 2025-03-01T02:00:00Z: "
                     "restore it first", "/api/v1/topics/transport/",
                     errors=[{"index": None, "field": "code", "message": (
                         "the topic transport was deleted on 2025-03-01T02:00:00Z: restore it first")}])),
    "412": (("If-Match does not hold the record's current version (the ETag header holds it), or If-None-Match: * "
             "and the record exists."),
            _example(412, "precondition-failed", "Precondition Failed", "The topic 'agriculture' changed since the "
                     "version in If-Match (\"4c1d…\"); its ETag is now \"9a0b…\".", "/api/v1/topics/agriculture/")),
    "413": ("The body is larger than the endpoint takes (1 MB; bulk: 5 MB).",
            _example(413, "body-too-large", "Content Too Large", "The body is larger than 1000000 bytes, the limit "
                     "of this endpoint.", "/api/v1/topics/")),
    "415": ("The body is not `application/json`.", _example(
        415, "unsupported-media-type", "Unsupported Media Type", "The body must be JSON (`Content-Type: "
        "application/json`), not application/x-www-form-urlencoded.", "/api/v1/topics/")),
    "422": (("The data breaks a rule: `errors` lists each field (and, in bulk, each row). Also: an "
             "Idempotency-Key already used for another request."),
            _example(422, "invalid-data", "Invalid data", "Invalid data: value: 260 does not appear in the quote "
                     "'粮食产量达到259.9亿斤'", "/api/v1/observations/", errors=[{
                         "index": None, "field": "value",
                         "message": "260 does not appear in the quote '粮食产量达到259.9亿斤'"}])),
    "428": ("The record exists and the request has no If-Match: send the record's ETag.", _example(
        428, "precondition-required", "Precondition Required", "The topic 'agriculture' exists: changing it needs "
        "its ETag in If-Match, so that no change made since you read it is overwritten.",
        "/api/v1/topics/agriculture/")),
    "429": ("Too many requests from this API key; see Retry-After.", _example(
        429, "rate-limited", "Too Many Requests", "Too many requests: the standard quota is 100000 units per "
        "3600 s; retry in 42 seconds.", "/api/v1/topics/")),
}

#: The errors each write may answer with.
ERRORS_OF = {
    "create": ["400", "401", "403", "409", "413", "415", "422", "429"],
    "upsert": ["400", "401", "403", "409", "412", "413", "415", "422", "428", "429"],
    "update": ["400", "401", "403", "404", "410", "412", "413", "415", "422", "428", "429"],
    "destroy": ["400", "401", "403", "404", "409", "412", "428", "429"],
    "restore": ["400", "401", "403", "404", "412", "422", "428", "429"],
    "bulk_upsert": ["400", "401", "403", "413", "415", "422", "429"],
}

IF_MATCH = ("The record's ETag, from a GET of it or from your last write of it: the write is refused (412) if the "
            "record changed since. Required to change an existing record (428 without it); `*`: whatever its "
            "version.")
IDEMPOTENCY = (f"A key of yours for this write (a random UUID): a retry with the same key and body gets the first "
               f"answer and writes nothing (kept {IDEMPOTENCY_TTL.total_seconds() / 3600:g} hours; the same key "
               f"with another body is a 422).")
KEY_SCOPE = ("Needs an API key with the `write` scope for the collection `{name}` (`Authorization: Bearer <key>`).")


class WriteAutoSchema(AutoSchema):
    """The project's AutoSchema for a writable viewset: its GETs as before, and its writes."""

    def _is_write(self) -> bool:
        return getattr(self.view, "action", None) in WRITE_ACTIONS

    def get_auth(self):
        auths = super().get_auth()
        perms = [type(p) for p in self.view.get_permissions()]
        if ReadAnonymousWriteWithKey in perms and self.method in SAFE_METHODS and {} not in auths:
            auths.append({})  # reading needs no key
        return auths

    def get_operation_id(self):
        operation_id = super().get_operation_id()
        return operation_id.removesuffix("_destroy") + "_delete" if operation_id.endswith("_destroy") else operation_id

    def get_filter_backends(self):
        return [] if self._is_write() else super().get_filter_backends()

    # -- text --------------------------------------------------------------------------------------
    def get_summary(self):
        if not self._is_write():
            return super().get_summary()
        label = self.view.label
        return {"create": f"Create a {label}", "upsert": f"Create or replace a {label}",
                "update": f"Change a {label}", "destroy": f"Delete a {label}", "restore": f"Restore a {label}",
                "bulk_upsert": f"Create or update {self.view.export_name} in bulk"}[self.view.action]

    def get_description(self):
        if not self._is_write():
            return super().get_description()
        label, key = self.view.label, self.view.writes.model.public_key
        scope = KEY_SCOPE.format(name=self.view.resource_name)
        descriptions = {
            "create": (f"Creates the {label} from the body: the fields of its representation, references by "
                       f"public identifier, numbers as text. 201 with the {label}, its ETag and Location; 409 if "
                       f"it exists. {scope}"),
            "upsert": (f"Makes the {label} at this URL equal to the body (the {key} is the URL's): creates it "
                       f"(201; `If-None-Match: *` to insist on creating), or replaces it whole (200; fields left "
                       f"out take their default), restoring it if it was deleted. Replacing needs its ETag in "
                       f"If-Match. {scope}"),
            "update": (f"Changes the fields sent, leaves the others. Needs the {label}'s ETag in If-Match; a "
                       f"deleted {label} is 410 (restore it first). {scope}"),
            "destroy": (f"Soft-deletes the {label}: it leaves the lists and its GET answers 410, but stays for "
                        f"syncing clients (the change feed, `include_deleted=true`). 200 with the deleted {label} "
                        f"and its ETag (to restore it); deleting it again changes nothing. 409 while live records "
                        f"refer to it. Needs its ETag in If-Match. {scope}"),
            "restore": (f"Brings a deleted {label} back, checked against the rules again (422 if it refers to a "
                        f"deleted record). Needs its ETag in If-Match (the ETag of its DELETE, or of its 410). "
                        f"{scope}"),
            "bulk_upsert": lambda: (
                f"Upserts each row (an observation as POST takes it) by its uid, derived from the indicator, "
                f"region, period, kind and comparator: created, updated, restored or left as it is. All rows or "
                f"none: a bad row makes the whole request a 422 listing each bad row by `index` and field. At most "
                f"{self.view.max_bulk_rows} rows and {self.view.max_bulk_bytes // 1_000_000} MB per request. No "
                f"If-Match: the rows are written whatever the versions (use PUT with If-Match to guard one). "
                f"{scope}"),
        }
        text = descriptions[self.view.action]
        return text() if callable(text) else text

    # -- bodies ------------------------------------------------------------------------------------
    def _map_serializer(self, serializer, direction, bypass_extensions=False):
        schema = super()._map_serializer(serializer, direction, bypass_extensions)
        if direction == "request" and type(serializer).__module__ == __name__:
            schema["additionalProperties"] = False  # the writers refuse an unknown field, never ignore it
        return schema

    def _inputs(self, *, key_required: bool) -> type[serializers.Serializer]:
        view = self.view
        nested = tuple(getattr(view, "nested_writers", ()))
        suffix = "Create" if key_required else "Write"
        return input_serializer(view.writer, f"{view.writer.model.__name__}{suffix}", key_required=key_required,
                                nested=nested)

    def get_request_serializer(self):
        if not self._is_write():
            return super().get_request_serializer()
        action = self.view.action
        if action == "create":
            return self._inputs(key_required=True)
        if action == "upsert":
            return self._inputs(key_required=False)
        if action == "update":
            return self._inputs(key_required=False)(partial=True)
        if action == "bulk_upsert":
            return bulk_rows_serializer(self._inputs(key_required=False), self.view.max_bulk_rows)
        return None

    def get_response_serializers(self):
        if not self._is_write():
            return super().get_response_serializers()
        action, label = self.view.action, self.view.label
        if action == "bulk_upsert":
            return {200: OpenApiResponse(BulkSummarySerializer, description=(
                "Every row written: how many were created, updated, restored and unchanged, and each row's "
                "observation."))}
        record = self.view.get_serializer_class()
        if action == "create":
            return {201: OpenApiResponse(record, description=f"The {label} created.")}
        if action == "upsert":
            return {200: OpenApiResponse(record, description=f"The {label} replaced (or unchanged)."),
                    201: OpenApiResponse(record, description=f"The {label} created.")}
        described = {"update": f"The {label} changed (or unchanged).",
                     "destroy": f"The {label} deleted (`deleted_at` set); deleting it again answers the same.",
                     "restore": f"The {label} restored (or already live)."}
        return {200: OpenApiResponse(record, description=described[action])}

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if not self._is_write():
            return responses
        problem_ref = self.resolve_serializer(WriteProblemSerializer, direction).ref
        for code in ERRORS_OF[self.view.action]:
            description, example = WRITE_ERRORS[code]
            responses[code] = {"description": description,
                               "content": {PROBLEM_MEDIA_TYPE: {"schema": problem_ref, "example": example}}}
            if code in ("410", "412"):
                responses[code]["headers"] = {"ETag": {"schema": {"type": "string"}, "description": (
                    "The record's current version, for If-Match.")}}
        for code, links in self._links().items():
            if code in responses:
                responses[code]["links"] = links
        responses["401"]["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}, "description": (
            '`Bearer realm="api"` without a key; `Bearer realm="api", error="invalid_token"` for a bad one.')}}
        responses["403"]["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}, "description": (
            '`Bearer realm="api", error="insufficient_scope", scope="write"`.')}}
        responses["429"]["headers"] = {
            "Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait before retrying."},
            **{k: {"schema": {"type": "string"}, "description": v} for k, v in RATE_LIMIT_HEADERS.items()}}
        return responses

    def _links(self) -> dict[str, dict]:
        """OpenAPI links from a write's answer to what a client does next with the record: read it, change,
        replace or delete it with the ETag just received (If-Match), restore it once deleted. The record is
        named by its public key in the answer's body (`Model.public_key`)."""
        action, entity = self.view.action, self.view.entity
        key = {"key": f"$response.body#/{self.view.writes.model.public_key}"}
        guarded = {**key, "header.If-Match": "$response.header.ETag"}

        def link(operation: str, parameters: dict, description: str) -> dict:
            return {"operationId": f"{entity}_{operation}", "parameters": parameters, "description": description}

        live = {
            "Get": link("retrieve", key, f"Read the {self.view.label} written."),
            "Change": link("update", guarded, "Change some of its fields, from the version just written."),
            "Replace": link("upsert", guarded, "Replace it whole, from the version just written."),
            "Delete": link("delete", guarded, "Delete it, from the version just written."),
        }
        if action == "create":
            return {"201": live}
        if action == "upsert":
            return {"200": live, "201": live}
        if action in ("update", "restore"):
            return {"200": live}
        if action == "destroy":
            return {"200": {
                "Get": link("retrieve", key, f"Read the {self.view.label} deleted (410, its ETag)."),
                "Restore": link("restore", guarded, "Bring it back, from the version just deleted."),
            }}
        return {}

    def get_override_parameters(self):
        params = list(super().get_override_parameters())
        if not self._is_write():
            return params
        action = self.view.action
        ok = [201] if action == "create" else [200, 201] if action == "upsert" else [200]
        if action in ("upsert", "update", "destroy", "restore"):
            params.append(OpenApiParameter("If-Match", OpenApiTypes.STR, OpenApiParameter.HEADER, description=IF_MATCH,
                                           examples=[OpenApiExample("an ETag", value='"4c1d2e3f5a6b7c8d9e0f"'),
                                                     OpenApiExample("any version", value="*")]))
        if action == "upsert":
            params.append(OpenApiParameter("If-None-Match", OpenApiTypes.STR, OpenApiParameter.HEADER,
                                           enum=["*"], description=(
                                               "`*`: create the record only; 412 if it exists.")))
        params.append(OpenApiParameter("Idempotency-Key", {"type": "string", "minLength": 1, "maxLength": 255,
                                                         "pattern": IDEMPOTENCY_KEY_RE.pattern},
                                       OpenApiParameter.HEADER, description=IDEMPOTENCY))
        if action != "bulk_upsert":
            params.append(OpenApiParameter("ETag", OpenApiTypes.STR, OpenApiParameter.HEADER, response=ok,
                                           description='The record\'s version, `"<version>"`: send it in If-Match '
                                                       'to change the record again.'))
        if 201 in ok:
            params.append(OpenApiParameter("Location", OpenApiTypes.URI, OpenApiParameter.HEADER, response=[201],
                                           description="The URL of the record created."))
        params.append(OpenApiParameter("Idempotent-Replayed", OpenApiTypes.STR, OpenApiParameter.HEADER,
                                       response=ok, enum=["true"], description=(
                                           "Present when this is the stored answer to an earlier request with the "
                                           "same Idempotency-Key (nothing was written again).")))
        params.append(OpenApiParameter("Cache-Control", OpenApiTypes.STR, OpenApiParameter.HEADER, response=ok,
                                       enum=["no-store"], description="Write answers are never cached."))
        for name, description in RATE_LIMIT_HEADERS.items():
            params.append(OpenApiParameter(name, OpenApiTypes.STR, OpenApiParameter.HEADER, response=ok,
                                           description=description))
        return params
