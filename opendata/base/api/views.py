"""The base of every REST resource: strict query parameters, FilterSet filtering, keyset pages,
`fields`/`expand`, full exports, 404/410 by public identifier and HTTP validators.

A resource's viewset only names its selector, serializer, FilterSet, sort fields and the tables its
responses are built from; nested collections (an indicator's observations...) are the same viewset
with one filter pinned by the URL.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import NoReverseMatch, reverse
from django.utils.cache import patch_vary_headers
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from rest_framework import exceptions, viewsets
from rest_framework import serializers as drf_serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from opendata.base.api.caching import (conditional_response, contract_salt, set_validators, shared_cache_control,
                                       validators_for)
from opendata.base.api.errors import Gone, InvalidParameters, NotModified
from opendata.base.api.fastpath import plan_of
from opendata.base.api.pagination import KeysetPagination, decode_cursor, parse_bool, parse_ordering, parse_page_size
from opendata.base.api.renderers import (
    EXPORT_FORMATS,
    CSVRenderer,
    NDJSONRenderer,
    StrictContentNegotiation,
    UTF8JSONRenderer,
    XLSXRenderer,
    columns,
    export_response,
    iterate_in_chunks,
)
from opendata.base.api.sqlexport import export_stream
from opendata.base.api.versioning import add_deprecation_headers
from opendata.base.filters import control_character
from opendata.base.models import isoformat_utc

#: Parameters every GET accepts; `bom` only matters for CSV.
COMMON_PARAMS = {"format", "fields", "expand", "bom"}
LIST_PARAMS = {"cursor", "page_size", "count", "ordering"}
BOOT_TIME = dt.datetime.now(dt.UTC).replace(microsecond=0)


def split_list(raw: str | None) -> list[str]:
    """`a,b,c` as its items, exactly: a space or an empty item is an item no list accepts."""
    return raw.split(",") if raw else []


def check_edge(request, key: str | None = None, *, label: str = "record") -> None:
    """What no endpoint takes, refused before anything reads it: a control character (C0 or DEL) in
    the path's key (404: no record has such an identifier) or in a query parameter's name or value,
    a parameter given twice (none takes several values: lists are comma-separated) or given empty
    (leave it out to mean its default)."""
    if key is not None and (found := control_character(key)):
        raise exceptions.NotFound(f"No {label} with the identifier {key!r}: it holds a control character ({found}).")
    invalid = {}
    for name, values in request.query_params.lists():
        if found := control_character(name):
            invalid[name] = f"A parameter name with a control character ({found}) is no parameter of this API."
        elif found := next(filter(None, map(control_character, values)), None):
            invalid[name] = f"A control character ({found}) is in the value; no parameter takes one."
        elif len(values) > 1:
            invalid[name] = (f"Given {len(values)} times; give it once (a list is one value, comma-separated: "
                             f"{name}=a,b).")
        elif values[0] == "":
            invalid[name] = "Empty; give a value, or leave the parameter out for its default."
    if invalid:
        raise InvalidParameters(invalid)


class ConditionalGetMixin:
    """ETag/Last-Modified on every successful GET, and 304 before any data query when they match.

    `cache_models` are the tables the responses are built from (see opendata.base.api.caching)."""

    cache_models: tuple = ()

    def check_preconditions(self, request):
        if request.method not in ("GET", "HEAD"):
            return
        etag, last_modified = validators_for(request, models=self.cache_models,
                                             media_type=request.accepted_media_type or "")
        if not self.cache_models:  # a response that depends on the code only (the API root)
            last_modified = BOOT_TIME
        self._validators = (etag, last_modified)
        if request.headers.get("If-None-Match", "").strip() == "*":
            # `*` matches any representation that exists (RFC 9110 13.1.2), which only the answer knows: a
            # missing record is its 404, a deleted one its 410, bad parameters their 400, never a 304 (found by
            # the contract fuzzing). The request runs; a 200 becomes the 304 in finalize_response.
            self._star = True
            return
        not_modified = conditional_response(request._request, etag=etag, last_modified=last_modified,
                                            cache_control=shared_cache_control(request._request))
        if not_modified is not None:
            raise NotModified(not_modified)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        validators = getattr(self, "_validators", None)
        if validators and response.status_code == 200:
            cache_control = shared_cache_control(request._request)
            if getattr(self, "_star", False):
                response = conditional_response(request._request, etag=validators[0], last_modified=validators[1],
                                                cache_control=cache_control) or response
            set_validators(response, etag=validators[0], last_modified=validators[1], cache_control=cache_control)
        # A shared cache keeps one copy per media type, and none for a request with a key (its own quota).
        patch_vary_headers(response, ["Accept", "Authorization"])
        return add_deprecation_headers(response, getattr(request, "version", None))


@dataclass(frozen=True)
class Parent:
    """The record a nested collection hangs from: `/indicators/{key}/observations/`."""

    model: type
    filter_param: str   # the FilterSet parameter the URL pins to the parent's key
    label: str
    tag: str            # the OpenAPI tag the nested collection is listed under
    default_ordering: tuple[str, ...] = ()  # the collection's natural order under this parent, if not the FilterSet's

    @property
    def lookup_field(self) -> str:
        """The parent's public identifier in the URL: its model's `public_key`."""
        return self.model.public_key


class PinnedFilterBackend(DjangoFilterBackend):
    """The view's FilterSet over the query string, plus the filter a nested URL pins."""

    def get_filterset_kwargs(self, request, queryset, view):
        kwargs = super().get_filterset_kwargs(request, queryset, view)
        parent = getattr(view, "parent", None)
        if parent is not None:
            data = kwargs["data"].copy()
            data[parent.filter_param] = view.kwargs["key"]
            kwargs["data"] = data
        return kwargs


class PublicViewSet(ConditionalGetMixin, viewsets.GenericViewSet):
    lookup_field: str                    # the model's `public_key` (see __init_subclass__), never repeated here
    lookup_url_kwarg = "key"
    entity: str = ""                     # operation ids: <entity>_<action>
    label: str = ""                      # in messages: "indicator"
    selector = None                      # () -> QuerySet, including soft-deleted rows
    parent: Parent | None = None
    export_name: str = ""

    pagination_class = KeysetPagination
    filter_backends = [PinnedFilterBackend]
    renderer_classes = [UTF8JSONRenderer, CSVRenderer, NDJSONRenderer, XLSXRenderer]
    content_negotiation_class = StrictContentNegotiation

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        filterset = getattr(cls, "filterset_class", None)
        if filterset is not None:  # a record's URL names it by its model's public identifier
            cls.lookup_field = filterset._meta.model.public_key

    def get_queryset(self):
        return type(self).selector()

    @property
    def sorting(self):
        """The resource's sorting (declared on its FilterSet), in a nested collection with its parent's
        natural order as default."""
        sorting = self.filterset_class.sorting
        if self.parent is not None and self.parent.default_ordering:
            sorting = sorting.with_default(*self.parent.default_ordering)
        return sorting

    # -- request checks ------------------------------------------------------------------------
    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if request.method in ("GET", "HEAD"):
            check_edge(request, self.kwargs.get(self.lookup_url_kwarg),
                       label=self.parent.label if self.parent is not None else self.label)
            self.check_query_params(request)
            if self.parent is not None:
                self.check_parent()
        self.check_preconditions(request)

    def allowed_params(self) -> set[str]:
        allowed = set(COMMON_PARAMS)
        if self.action == "list":
            allowed |= LIST_PARAMS | set(self.filterset_class.base_filters)
            if self.parent is not None:
                allowed.discard(self.parent.filter_param)
        return allowed

    def check_query_params(self, request):
        allowed = self.allowed_params()
        unknown = [p for p in request.query_params if p not in allowed]
        if unknown:
            listing = ", ".join(sorted(allowed))
            why = {p: f"Unknown parameter for this endpoint. Parameters: {listing}." for p in unknown}
            if self.parent is not None and self.parent.filter_param in unknown:
                why[self.parent.filter_param] = (f"The {self.parent.label} is already given by the URL; "
                                                 f"use the top-level collection to choose another.")
            raise InvalidParameters(why, kind="unknown-parameters")
        serializer_class = self.get_serializer_class()
        invalid = {}
        names = set(serializer_class.field_names())
        fields = split_list(request.query_params.get("fields"))
        if bad := [f for f in fields if f not in names]:
            invalid["fields"] = f"Unknown field(s) {', '.join(bad)}; fields: {', '.join(sorted(names))}."
        expandable = set(serializer_class.expandable)
        expand = split_list(request.query_params.get("expand"))
        if bad := [e for e in expand if e not in expandable]:
            invalid["expand"] = (f"Cannot expand {', '.join(bad)}; expandable: "
                                 f"{', '.join(sorted(expandable)) or 'nothing on this endpoint'}.")
        try:
            parse_bool("bom", request.query_params.get("bom"))
        except InvalidParameters as exc:
            invalid.update({k: v[0] for k, v in exc.invalid.items()})
        if invalid:
            raise InvalidParameters(invalid)
        self.selected_fields = set(fields) or None
        self.expand = set(expand)

    def check_parent(self):
        key = self.kwargs["key"]
        row = self.parent.model.objects.filter(**{self.parent.lookup_field: key}).values("deleted_at").first()
        if row is None:
            raise exceptions.NotFound(f"No {self.parent.label} {key!r}.")
        if row["deleted_at"] is not None:
            raise Gone(f"The {self.parent.label} {key!r} has been deleted.", deleted_at=row["deleted_at"])

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["fields"] = getattr(self, "selected_fields", None)
        context["expand"] = getattr(self, "expand", set())
        return context

    # -- actions -------------------------------------------------------------------------------
    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        fmt = request.accepted_renderer.format
        if fmt in EXPORT_FORMATS:
            ordering, keys = parse_ordering(request.query_params.get("ordering"), self.sorting)
            # An export is every row: the page's parameters do nothing, but a bad value is the 400 it is on a
            # page, not ignored (found by the contract fuzzing: count=-1&format=ndjson was a 200).
            params = request.query_params
            parse_page_size(params.get("page_size"))
            parse_bool("count", params.get("count"))
            if token := params.get("cursor"):
                decode_cursor(token, scope=request.path, ordering=ordering, keys=keys, model=queryset.model)
            serialize = lambda rows: self.get_serializer(rows, many=True).data  # noqa: E731
            serializer = self.get_serializer()
            header, bom, body = columns(serializer), parse_bool("bom", request.query_params.get("bom")), None
            if (plan := plan_of(self)) is not None:  # the fast path: values, written by the compiled plan
                context = self.get_serializer_context()
                # On PostgreSQL, the same plan written by the database: one COPY (None if it cannot be).
                body = export_stream(plan=plan, serializer=serializer, queryset=queryset, keys=keys, fmt=fmt,
                                     context=context, header=header, bom=bom)
                queryset = plan.read(queryset, extra=tuple(k.attr for k in keys))
                serialize = lambda rows: plan.render(rows, context)  # noqa: E731
            return export_response(
                fmt=fmt,
                serialize=serialize,
                chunks=iterate_in_chunks(queryset, keys),
                header=header,
                filename=self.export_name or self.entity,
                bom=bom,
                url=request.build_absolute_uri(),
                body=body,
            )
        if fmt == "json" and (plan := plan_of(self)) is not None:
            # The fast path: rows as values, written by the plan compiled from the serializer (byte-identical).
            try:
                _, keys = parse_ordering(request.query_params.get("ordering"), self.sorting)
            except InvalidParameters:
                keys = None  # the pagination reports it, after the page size, as it always has
            if keys is not None:
                page = self.paginate_queryset(plan.read(queryset, extra=tuple(k.attr for k in keys)))
                return self.get_paginated_response(plan.render(page, self.get_serializer_context()))
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        return Response(self.get_serializer(self.get_object()).data)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        renderer = getattr(request, "accepted_renderer", None)
        if (isinstance(response, Response) and response.status_code == 200 and getattr(renderer, "format", "") == "csv"
                and parse_bool("bom", request.query_params.get("bom"))):
            response.render()
            response.content = b"\xef\xbb\xbf" + response.content
        return response

    def get_object(self):
        key = self.kwargs[self.lookup_url_kwarg]
        try:
            obj = self.get_queryset().filter(**{self.lookup_field: key}).first()
        except (DjangoValidationError, ValueError):
            obj = None
        if obj is None:
            raise exceptions.NotFound(f"No {self.label} with {self.lookup_field} {key!r}.")
        if obj.deleted_at is not None:
            raise Gone(f"The {self.label} {key!r} was deleted on {isoformat_utc(obj.deleted_at)}.",
                       deleted_at=obj.deleted_at)
        return obj


def nested_viewset(viewset_class: type[PublicViewSet], link) -> type[PublicViewSet]:
    """The REST collection of a link between apps (opendata.base.links): `viewset_class` with the
    link's FilterSet parameter pinned to the parent's key by the URL."""
    label = link.parent._meta.verbose_name
    cls = type(f"{link.parent.__name__}{viewset_class.__name__}", (viewset_class,), {
        "__module__": viewset_class.__module__,
        "entity": f"{link.parent_name}_{link.name}",
        "parent": Parent(link.parent, link.filter_param, label, link.parent_name),
    })
    return extend_schema_view(list=extend_schema(summary=link.rest_summary))(cls)


def link_route(link, viewset_class: type[PublicViewSet]):
    """The URL pattern of a link's REST collection: `sources/<key>/observations/`."""
    from django.urls import path

    return path(link.rest_path, nested_viewset(viewset_class, link).as_view({"get": "list"}), name=link.route_name)


@extend_schema(
    summary="API root", description="The collections of this version and the documentation, with links: the OpenAPI document, Swagger UI, Redoc, GraphQL (GraphiQL in a browser), the documentation site, the downloads and the website.",
    responses=inline_serializer("ApiRoot", {
        "version": drf_serializers.CharField(),
        "collections": drf_serializers.DictField(child=drf_serializers.URLField()),
        "documentation": drf_serializers.DictField(child=drf_serializers.URLField()),
    }),
)
class RootView(ConditionalGetMixin, APIView):
    """What this API version serves, with links."""

    entity, schema_tag = "api_root", "api"
    renderer_classes = [UTF8JSONRenderer]
    content_negotiation_class = StrictContentNegotiation
    collections: dict[str, str] = {}  # name -> route name, given to as_view() by each version's URL map

    def get(self, request, *args, **kwargs):
        from opendata.base.api.serializers import link

        check_edge(request)
        unknown = [p for p in request.query_params if p != "format"]
        if unknown:
            raise InvalidParameters({p: "Unknown parameter; the API root takes none." for p in unknown},
                                    kind="unknown-parameters")
        return Response({
            "version": request.version,
            "collections": {name: link(request, route) for name, route in self.collections.items()},
            "documentation": {
                "openapi": link(request, "schema"),
                "swagger_ui": link(request, "swagger-ui"),
                "redoc": link(request, "redoc"),
                **site_links(request),
            },
        })

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self.check_preconditions(request)


def site_links(request) -> dict[str, str]:
    """The rest of what serves this data, beside REST: GraphQL (its GraphiQL in a browser), the
    documentation site and the downloads (settings.DOCS_URL, DOWNLOADS_URL), the pages (`/`)."""
    found = {}
    for name, route in (("graphql", "graphql"), ("website", "pages:home")):
        try:
            found[name] = request.build_absolute_uri(reverse(route))
        except NoReverseMatch:
            pass
    for name, setting in (("docs", "DOCS_URL"), ("downloads", "DOWNLOADS_URL")):
        if getattr(settings, setting, ""):
            found[name] = request.build_absolute_uri(getattr(settings, setting))
    return found


def static_etag(request, *args, **kwargs) -> str:
    """Documentation pages and the schema change only with the contract."""
    return hashlib.sha256(f"{request.get_full_path()}|{contract_salt()}".encode()).hexdigest()[:32]


def static_last_modified(request, *args, **kwargs):
    return BOOT_TIME
