"""OpenAPI generation: operation ids `<entity>_<action>`, the shared query parameters, response
headers, and the problem+json error responses of every operation."""

from __future__ import annotations

import inspect

import django_filters
from django.db import models
from drf_spectacular import openapi
from drf_spectacular.contrib.django_filters import DjangoFilterExtension
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_parameter_type
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from opendata.base.api.errors import PROBLEM_MEDIA_TYPE, problem_type
from opendata.base.filters import MAX_LIST_VALUES

#: No parameter takes a control character (C0 or DEL), nor an empty value: free text in the OpenAPI
#: document says so (opendata.base.api.views.check_edge refuses them).
TEXT_PATTERN = r"^[^\x00-\x1F\x7F]+$"
CODE_LIST_PATTERN = rf"^[A-Za-z0-9_-]{{1,150}}(,[A-Za-z0-9_-]{{1,150}}){{0,{MAX_LIST_VALUES - 1}}}$"
PERIOD_PATTERN = r"^[0-9]{4}(-[0-9]{2}-[0-9]{2})?$"


def names_pattern(names, *, signed: bool = False) -> str:
    """A comma-separated list of some of `names` (each one optionally after `-`), as a pattern."""
    one = ("-?" if signed else "") + "(" + "|".join(names) + ")"
    return f"^{one}(,{one})*$"


def text_schema(max_length: int | None = None) -> dict:
    schema = {"type": "string", "minLength": 1, "pattern": TEXT_PATTERN}
    return schema | ({"maxLength": max_length} if max_length else {})


class InvalidParamSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="The query parameter.")
    reason = serializers.CharField(help_text="What is wrong with it and what it accepts.")


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details."""

    type = serializers.CharField(help_text="URI identifying the kind of problem (`about:blank` for plain HTTP errors).")
    title = serializers.CharField(help_text="Short summary of the kind of problem.")
    status = serializers.IntegerField(help_text="HTTP status code.")
    detail = serializers.CharField(help_text="What went wrong in this request.")
    instance = serializers.CharField(help_text="The request path and query that failed.")
    how_to_fix = serializers.CharField(required=False, help_text="What to do about it.")
    request_id = serializers.CharField(required=False, help_text="Also in the X-Request-ID header; quote it in reports.")
    invalid_params = InvalidParamSerializer(many=True, required=False,
                                            help_text="400 only: each invalid or unknown parameter and why.")
    versions = serializers.ListField(child=serializers.CharField(), required=False,
                                     help_text="Unknown API version only: the versions that exist.")
    deleted_at = serializers.DateTimeField(required=False, help_text="410 only: when the record was withdrawn.")


def _problem_example(status: int, type_name: str | None, title: str, detail: str, instance: str, **extra) -> dict:
    return {"type": problem_type(type_name) if type_name else "about:blank", "title": title, "status": status,
            "detail": detail, "instance": instance, **extra}


ERRORS = {
    "400": ("Invalid or unknown query parameters (never an unfiltered list).", _problem_example(
        400, "invalid-parameters", "Invalid query parameters", "Invalid query parameters: kind. kind: maybe is not "
        "one of: actual, target.", "/api/v1/observations/?kind=maybe",
        invalid_params=[{"name": "kind", "reason": "maybe is not one of: actual, target."}])),
    "401": ("The request sent an API key that is not valid (unknown, revoked or expired); reading needs none.",
            _problem_example(401, "invalid-api-key", "Invalid API key", "The API key is not valid: no key issued by "
                             "this API matches it.", "/api/v1/observations/")),
    "404": ("No record with this identifier (or no such route).", _problem_example(
        404, "not-found", "Not Found", "No indicator with code 'gpd'.", "/api/v1/indicators/gpd/")),
    "406": ("The Accept header asks for a format this endpoint cannot produce.", _problem_example(
        406, "not-acceptable", "Not Acceptable", 'Could not satisfy the request Accept header.', "/api/v1/topics/",
        available_formats=["application/json", "text/csv", "application/x-ndjson"])),
    "410": ("The record was withdrawn (soft-deleted).", _problem_example(
        410, "gone", "Gone", "The indicator 'old-code' was deleted on 2025-03-01T02:00:00Z.",
        "/api/v1/indicators/old-code/", deleted_at="2025-03-01T02:00:00Z")),
    "429": (("Too many requests from this client (its API key, else its address), REST and GraphQL counted "
             "together; see Retry-After."), _problem_example(
        429, "rate-limited", "Too Many Requests",
        ("Too many requests: the anonymous quota is 10000 units per 3600 s; retry in 42 seconds."),
        "/api/v1/observations/")),
    "500": ("A fault of the server.", _problem_example(
        500, "server-error", "Internal Server Error", "The server failed to answer this request.",
        "/api/v1/observations/")),
    "503": ("The database is briefly unavailable (down, or the query timed out); see Retry-After.", _problem_example(
        503, "service-unavailable", "Service Unavailable",
        "The database did not answer in time; retry in 5 seconds.", "/api/v1/observations/")),
}

HEADERS = {
    "ETag": "Validator of this response; send it back in If-None-Match to get 304 when nothing changed.",
    "Last-Modified": "Latest change of the data behind this response; usable with If-Modified-Since.",
    "X-Request-ID": "Identifier of this request (yours, if you sent a valid one).",
}
# On every answer, errors included (opendata/base/ratelimit.py; draft-ietf-httpapi-ratelimit-headers-10).
RATE_LIMIT_HEADERS = {
    "RateLimit-Policy": 'The quota this request counts against: `"<tier>";q=<units>;w=<window in seconds>`.',
    "RateLimit": 'What is left of it: `"<tier>";r=<units left>;t=<seconds until the window resets>`.',
}


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    """API keys (opendata.base.api.auth) as an HTTP bearer scheme; reading needs none."""

    target_class = "opendata.base.api.auth.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": (
            "An API key issued by the API's administrators, sent as `Authorization: Bearer <key>`. Reading needs "
            "no key; a key gives its own rate limit (its tier), and writing needs one with the `write` scope. A "
            "key that is sent must be valid: an unknown, revoked or expired key is a 401, never anonymous reading.")}


#: Each resource's group of operations, as Swagger UI and Redoc show it, in this order, with what it holds
#: (SPECTACULAR_SETTINGS["TAGS"] reads TAGS).
TAGS = [
    ("api", "API root", "What this version serves, with links to the documentation, GraphQL and the website."),
    ("indicator", "Indicators", "What is measured (GDP growth, grain output...), each with its unit and topic; "
                                "its time series under `/indicators/{code}/observations/`."),
    ("observation", "Observations", "One value of one indicator for one region and period: a result (`actual`) "
                                    "or a target, with the quotes that state it."),
    ("project", "Projects", "Projects the documents announce, with their status timeline and events."),
    ("project_status", "Project timelines", "Dated statements of a project's status (started, completed...)."),
    ("event", "Events", "Meetings, expos, festivals and other events held or planned."),
    ("event_series", "Event series", "Recurring events (an expo held every year)."),
    ("source", "Sources", "The government documents every fact is quoted from, with their full text."),
    ("region", "Regions", "The city, its districts, counties and development zones."),
    ("topic", "Topics", "Policy areas grouping indicators and projects."),
    ("unit", "Units", "Units as written in the documents, with their conversion to a base unit."),
    ("change", "Change feed", "Every write, in order: poll it to keep a copy in sync."),
]

#: A record of the published fixtures (fixtures/) per resource: the example of its path's `{key}`, so
#: that Swagger UI's "Try it out" answers a record when run as it is (uids are deterministic).
KEY_EXAMPLES = {
    "indicator": "gdp-growth", "observation": "4f334c20-bbac-5cfd-bd0c-718edd57a9da",
    "project": "changchun-metro-line-6", "project_status": "a3bf9498-a798-572b-b3bf-4267813a80a9",
    "event": "changchun-marathon-2019", "event_series": "changchun-marathon", "source": "2025-work-report-plan",
    "region": "changchun", "topic": "agriculture", "unit": "亿元",
}


class AutoSchema(openapi.AutoSchema):
    def get_operation_id(self):
        entity, action = getattr(self.view, "entity", None), getattr(self.view, "action", None)
        if entity and action:
            return f"{entity}_{action}"
        if entity and self.method == "GET":  # a plain APIView (the API root)
            return f"{entity}_retrieve"
        return super().get_operation_id()

    def get_description(self):
        """The operation's own description: never a docstring a view inherits from the machinery."""
        if vars(type(self.view)).get("__doc__") is None and not getattr(self.view, "action", None):
            return ""
        description = super().get_description()
        if vars(type(self.view)).get("__doc__") is None and description == inspect.getdoc(type(self.view)):
            return ""
        return description

    def get_tags(self):
        """The group of the operation. The tag itself stays the v1 name (`indicator`, ...): generated clients
        name their classes after it; the name a person reads is the tag's x-displayName (tag_descriptions)."""
        return self._raw_tags()

    def _raw_tags(self):
        if getattr(self.view, "schema_tag", None):
            return [self.view.schema_tag]
        parent = getattr(self.view, "parent", None)
        if parent is not None:  # a nested collection is listed with the record it hangs from
            return [parent.tag]
        entity = getattr(self.view, "entity", None)
        return [entity] if entity else super().get_tags()

    def _is_resource(self) -> bool:
        from opendata.base.api.views import PublicViewSet

        return isinstance(self.view, PublicViewSet)

    def get_override_parameters(self):
        params = list(super().get_override_parameters())
        if self.method != "GET":
            return params
        for name, description in HEADERS.items():
            params.append(OpenApiParameter(name, OpenApiTypes.STR, OpenApiParameter.HEADER, response=[200, 304],
                                           description=description))
        for name, description in RATE_LIMIT_HEADERS.items():
            params.append(OpenApiParameter(name, OpenApiTypes.STR, OpenApiParameter.HEADER, response=[200, 304],
                                           description=description))
        if not self._is_resource() or self.view.action not in ("list", "retrieve"):
            return params
        serializer_class = self.view.get_serializer_class()
        field_names = ", ".join(f"`{f}`" for f in serializer_class.field_names())
        expandable = sorted(serializer_class.expandable)
        params += [
            OpenApiParameter("fields", {"type": "string", "pattern": names_pattern(serializer_class.field_names())},
                             description=(
                f"Comma-separated top-level fields to return (sparse fieldset). Fields: {field_names}. "
                f"Example: `{','.join(serializer_class.field_names()[:2])}`.")),
            OpenApiParameter("bom", OpenApiTypes.BOOL, default=False, description=(
                "CSV only: `true` starts the file with a UTF-8 byte order mark, so that spreadsheet programs "
                "read the Chinese text correctly.")),
            OpenApiParameter("If-None-Match", OpenApiTypes.STR, OpenApiParameter.HEADER, description=(
                "An ETag from an earlier response: 304 Not Modified (no body) when it still matches.")),
            OpenApiParameter("If-Modified-Since", OpenApiTypes.STR, OpenApiParameter.HEADER, description=(
                "An HTTP date: 304 Not Modified when the data has not changed since.")),
        ]
        if expandable:
            params.append(OpenApiParameter("expand", {"type": "string", "pattern": names_pattern(expandable)},
                                           description=(
                "Comma-separated related records to embed in place of their identifier, fetched in bulk (no "
                f"query per row). Values: {', '.join(f'`{e}`' for e in expandable)}.")))
        if self.view.action == "list":
            params.append(OpenApiParameter("Link", OpenApiTypes.STR, OpenApiParameter.HEADER, response=[200],
                                           description='RFC 8288 links: rel="first", rel="next", rel="prev".'))
            params.append(OpenApiParameter("X-Total-Count", OpenApiTypes.INT, OpenApiParameter.HEADER,
                                           response=[200], description="With `count=true`: the number of matches."))
        return params

    def _get_format_parameters(self):
        params = super()._get_format_parameters()
        for p in params:
            p["description"] = ("Response format, instead of an Accept header: `json` (default), `csv` "
                                "(text/csv, header row) or `ndjson` (application/x-ndjson, one record a line). "
                                "On a collection, csv and ndjson stream every matching record, not one page.")
        return params

    def _resolve_path_parameters(self, variables):
        """A record's key in the path as its model field says: a slug's pattern, a uid's format, a
        symbol's length (any other key is a 404)."""
        params = super()._resolve_path_parameters(variables)
        if not self._is_resource():
            return params
        parent = self.view.parent
        model, lookup = ((parent.model, parent.lookup_field) if parent is not None
                         else (self.view.filterset_class._meta.model, self.view.lookup_field))
        field = model._meta.get_field(lookup)
        label = parent.label if parent is not None else self.view.label
        if isinstance(field, models.SlugField):
            schema = {"type": "string", "pattern": rf"^[A-Za-z0-9_-]{{1,{field.max_length}}}$"}
        elif isinstance(field, models.UUIDField):
            schema = {"type": "string", "format": "uuid"}
        else:
            schema = text_schema(field.max_length)
        for param in params:
            if param["name"] == "key":
                param["schema"] = schema
                param["description"] = f"The {label}'s {lookup}."
                if self.method == "GET" and model.resource in KEY_EXAMPLES:
                    # pre-filled by Swagger UI's "Try it out": a published record, so that it answers one
                    param["examples"] = {"APublishedRecord": {"value": KEY_EXAMPLES[model.resource],
                                                              "summary": "a published record"}}
        return params

    def _get_filter_parameters(self):
        params = super()._get_filter_parameters()
        parent = getattr(self.view, "parent", None)
        if parent is not None:
            params = [p for p in params if p["name"] != parent.filter_param]
        return params

    def _map_serializer(self, serializer, direction, bypass_extensions=False):
        """Describe what `fields=` and `expand=` really return: any field may be left out by `fields=`
        (so none is `required`), and an expandable field is either its identifier or the embedded record."""
        from opendata.base.api.serializers import DynamicSerializer

        schema = super()._map_serializer(serializer, direction, bypass_extensions)
        serializer = serializer if not isinstance(serializer, type) else serializer()
        if not isinstance(serializer, DynamicSerializer) or "properties" not in schema:
            return schema
        schema.pop("required", None)
        props = schema["properties"]
        for name, (field_name, factory) in serializer.expandable.items():
            embedded_field = factory()
            plain = props.get(field_name)
            if plain is not None and isinstance(embedded_field, type(serializer.fields.get(field_name))):
                continue  # the same serializer (citations with their source): its own schema says it
            embedded_field.bind(field_name, serializer)
            embedded = self._map_serializer_field(embedded_field, direction)
            help_text = f"With `expand={name}`." if plain is None else plain.get("description", "")
            plain = None if plain is None else {k: v for k, v in plain.items() if k != "description"}
            props[field_name] = ({**embedded, "description": help_text} if plain is None
                                 else {"anyOf": [plain, embedded], "description": help_text})
        if type(serializer).__doc__ is None:  # not the machinery's docstring, inherited
            schema.pop("description", None)
        return schema

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if self.method != "GET":
            return responses
        problem_ref = self.resolve_serializer(ProblemSerializer, direction).ref
        ok = responses.get("200", {})
        content = ok.get("content", {})
        listing = self._is_resource() and self.view.action == "list"
        if "text/csv" in content:
            content["text/csv"] = {"schema": {"type": "string"}, "example": "code,name_zh\r\nagriculture,农业\r\n"}
        if "application/x-ndjson" in content:
            content["application/x-ndjson"] = {"schema": {"type": "string"},
                                               "example": '{"code":"agriculture","name_zh":"农业"}\n'}
        if ok and not ok.get("description"):
            ok["description"] = (
                "JSON: one page of records (follow `next`). CSV / NDJSON: every record matching the filters, "
                "streamed (header row; nested objects as dotted columns, lists as JSON cells)."
                if listing else "The record (CSV / NDJSON: the same fields, as one row or line).")
        responses["304"] = {"description": "Not Modified: the ETag (If-None-Match) or date (If-Modified-Since) "
                                           "still matches; no body.",
                            "headers": {k: {"schema": {"type": "string"}, "description": v} for k, v in HEADERS.items()}}
        codes = ["400", "401", "404", "406", "429", "500", "503"]
        if "{key}" in self.path:
            codes.insert(3, "410")
        for code in codes:
            description, example = ERRORS[code]
            responses[code] = {"description": description,
                               "content": {PROBLEM_MEDIA_TYPE: {"schema": problem_ref, "example": example}}}
        responses["401"]["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}, "description": (
            '`Bearer realm="api", error="invalid_token"` (RFC 6750).')}}
        responses["429"]["headers"] = {
            "Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait before retrying."},
            **{k: {"schema": {"type": "string"}, "description": v} for k, v in RATE_LIMIT_HEADERS.items()}}
        return responses


class FilterSetExtension(DjangoFilterExtension):
    """Documents the shared filter types (code lists, period bounds, strict booleans) and their
    example values, which drf-spectacular cannot guess from the model."""

    target_class = "opendata.base.api.views.PinnedFilterBackend"
    priority = 1

    # Records of the published fixtures, so that an example tried as it is returns data.
    EXAMPLES = {
        "indicator": "grain-output,gdp-growth", "topic": "agriculture", "region": "changchun",
        "region_exact": "changchun", "source": "2025-work-report-plan", "code": "changchun",
        "slug": "changchun-metro-line-6", "parent": "changchun", "project": "changchun-metro-line-6",
        "series": "optoelectronics-expo",
        ("Indicator", "code"): "grain-output,gdp-growth", ("Topic", "code"): "agriculture",
        ("Source", "slug"): "2025-work-report-plan", ("Event", "slug"): "changchun-marathon-2019",
        ("EventSeries", "slug"): "changchun-marathon",
    }

    def resolve_filter_field(self, auto_schema, model, filterset_class, field_name, filter_field):
        from opendata.base.filters import (
            CodeListFilter,
            PeriodBoundFilter,
            SearchFilter,
            StrictBooleanFilter,
            StrictIntegerFilter,
        )

        if isinstance(filter_field, StrictIntegerFilter):
            low, high = filter_field.bounds
            schema, example = {"type": "integer", "minimum": low, "maximum": high}, low
        elif isinstance(filter_field, CodeListFilter):
            schema = {"type": "string", "pattern": CODE_LIST_PATTERN}
            example = self.EXAMPLES.get(field_name, "code-a,code-b")
        elif isinstance(filter_field, PeriodBoundFilter):
            schema = {"type": "string", "pattern": PERIOD_PATTERN}
            example = "2021" if not filter_field.extra.get("upper") else "2025-06-30"
        elif isinstance(filter_field, StrictBooleanFilter):
            schema, example = {"type": "boolean"}, "true"
        elif type(filter_field) in (django_filters.CharFilter, SearchFilter):  # free text
            schema = text_schema(filter_field.extra.get("max_length"))
            example = "粮食" if field_name == "q" else None
        else:
            return super().resolve_filter_field(auto_schema, model, filterset_class, field_name, filter_field)
        # The example goes in the description, not in `example`: Swagger UI fills every parameter with its
        # example when "Try it out" is pressed, and all of a collection's filters together match nothing.
        example = self.EXAMPLES.get((model.__name__, field_name), example)
        description = str(filter_field.extra.get("help_text") or "")
        if example is not None:
            description = f"{description} Example: `{example}`.".strip()
        return [build_parameter_type(name=field_name, required=False, location=OpenApiParameter.QUERY,
                                     description=description, schema=schema, examples=None)]


def tag_descriptions(result, generator, request, public):
    """A drf-spectacular postprocessing hook: the groups of operations in the order of TAGS, each with
    what it holds (Swagger UI and Redoc show them in this order, with the description)."""
    used = {tag for path in result.get("paths", {}).values() for op in path.values() if isinstance(op, dict)
            for tag in op.get("tags", ())}
    result["tags"] = [{"name": raw, "x-displayName": name, "description": f"**{name}.** {description}"}
                      for raw, name, description in TAGS if raw in used]
    return result
