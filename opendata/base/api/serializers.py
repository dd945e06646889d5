"""Serializer machinery shared by every resource: `fields=`/`expand=`, links, decimals as text."""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable
from decimal import Decimal
from urllib.parse import quote

from django.core.exceptions import ObjectDoesNotExist
from django.db import models
from django.urls import NoReverseMatch, reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from opendata.base.api.fastpath import Fallback, instance_writer
from opendata.base.api.versioning import CURRENT_VERSION
from opendata.base.models import decimal_text

KEY_PLACEHOLDER = "__key__"


def link(request, name: str, key: str | None = None, *, fragment: str = "") -> str:
    """Absolute URL of the route `name` of the request's API version, for the record `key`.

    The route is reversed once per request and name; each row then only substitutes its key, so a
    page of a thousand rows does not reverse a thousand times."""
    version = getattr(request, "version", None) or CURRENT_VERSION
    django_request = getattr(request, "_request", request)
    cache = getattr(django_request, "_api_links", None)
    if cache is None:
        cache = {}
        if django_request is not None:
            django_request._api_links = cache
    template = cache.get((version, name, key is None))
    if template is None:
        kwargs = {"version": version} if key is None else {"version": version, "key": KEY_PLACEHOLDER}
        try:
            path = reverse(f"{version}:{name}", kwargs=kwargs)
        except NoReverseMatch:
            path = reverse(f"{CURRENT_VERSION}:{name}", kwargs={**kwargs, "version": CURRENT_VERSION})
        template = django_request.build_absolute_uri(path) if django_request is not None else path
        cache[(version, name, key is None)] = template
    url = template if key is None else template.replace(KEY_PLACEHOLDER, _quoted(str(key)))
    return url + (f"#{fragment}" if fragment else "")


@functools.lru_cache(maxsize=4096)
def _quoted(key: str) -> str:
    """A key as one path segment; a page links the same few keys many times (100 rows, one indicator)."""
    return quote(key, safe="")


@extend_schema_field(OpenApiTypes.URI)
class LinkField(serializers.Field):
    """A link to a route of this API, keyed by one attribute of the record (`source="*"`), or of a record it
    refers to (`source.slug`)."""

    def __init__(self, route: str, key_attr: str, **kwargs):
        self.route, self.key_attr = route, key_attr
        self._key = operator.attrgetter(key_attr)
        kwargs.setdefault("read_only", True)
        kwargs["source"] = "*"
        super().__init__(**kwargs)

    def to_representation(self, obj):
        return self.fast_value(self.context, self._key(obj))

    # The fast path (opendata.base.api.fastpath) reads these columns and calls fast_value with their values.
    @property
    def fast_columns(self) -> tuple[str, ...]:
        return (self.key_attr,)

    def fast_value(self, context, key):
        return link(context.get("request"), self.route, key)

    # An export written by PostgreSQL (opendata.base.api.sqlexport) writes fast_value in SQL, from the same columns.
    def sql_value(self, context, key):
        from opendata.base.api.sqlexport import link_sql

        return link_sql(context.get("request"), self.route, key)


class QuoteLinkField(LinkField):
    """A link to a source's text locating a quote with an RFC 5147 fragment (`#char=start,end`); the record
    has `offset` and `quote`, its source is `key_attr`."""

    def to_representation(self, obj):
        return self.fast_value(self.context, self._key(obj), obj.offset, obj.quote)

    @property
    def fast_columns(self) -> tuple[str, ...]:
        return (self.key_attr, "offset", "quote")

    def fast_value(self, context, key, offset, quote):
        return link(context.get("request"), self.route, key, fragment=f"char={offset},{offset + len(quote)}")

    def sql_value(self, context, key, offset, quote):
        from opendata.base.api.sqlexport import Sql, link_sql

        return link_sql(context.get("request"), self.route, key, fragment=(
            "char=", Sql("{}::text", offset), ",", Sql("({} + char_length({}))::text", offset, quote)))


@extend_schema_field({"type": "string", "format": "decimal", "example": "259.9",
                      "description": "The number exactly as stated (a string, so no precision is lost)."})
class DecimalStringField(serializers.Field):
    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, value: Decimal) -> str:
        return decimal_text(value)


class FastRepresentation(serializers.Serializer):
    """A record written by a function generated from this serializer's fields (opendata.base.api.fastpath:
    instance_writer) instead of DRF's field-by-field machinery, to the same representation; DRF writes what the
    generated function cannot (a field it does not know, a null on the way to a value). Nested records and
    lists are written by the same function. `tests/opendata/base/api/test_fastpath.py` compares both."""

    def to_representation(self, instance):
        if isinstance(instance, models.Model):
            # A nested serializer writes every row of its parent: its writer is kept on it, found once.
            model, writer = self.__dict__.get("_fast_writer", (None, None))
            if model is not type(instance):
                model, writer = type(instance), instance_writer(self, type(instance))
                self.__dict__["_fast_writer"] = (model, writer)
            if writer is not None:
                try:
                    return writer(instance, self.context)
                except (Fallback, ObjectDoesNotExist, AttributeError):
                    pass
        return super().to_representation(instance)


class DynamicSerializer(FastRepresentation):
    """A read-only serializer honouring `fields=` (top-level fields to keep) and `expand=` (related
    records to embed in place of their identifier).

    `expandable` maps an `expand` name to (the field it replaces, a factory of the embedded field).
    Embedding never costs a query per row: the selectors already fetch what can be embedded.
    `optional_fields` are left out unless `fields=` or `expand=` names them.
    """

    expandable: dict[str, tuple[str, Callable[[], serializers.Field]]] = {}
    optional_fields: tuple[str, ...] = ()

    def __init__(self, *args, expand: set[str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        ctx = self._context
        expand = set(ctx.get("expand") or ()) if expand is None else expand
        for name, (field_name, factory) in self.expandable.items():
            if name in expand:
                self.fields[field_name] = factory()
        for name in ("created_at", "updated_at", "deleted_at"):  # bookkeeping last, after the record's own fields
            if name in self.fields:
                raw = self.fields.fields  # the BindingDict's dict: re-inserting moves it last, already bound
                raw[name] = raw.pop(name)
        only = ctx.get("fields")
        for name in self.optional_fields:
            if name not in expand and not (only and name in only):
                self.fields.pop(name, None)
        if only:
            for name in list(self.fields):
                if name not in only:
                    self.fields.pop(name)

    @classmethod
    def field_names(cls) -> list[str]:
        return list(cls._declared_fields)


TIMESTAMP_HELP = {
    "created_at": "When the record was first published by this API.",
    "updated_at": "When the record last changed (soft deletion included): sync with `updated_since`.",
    "deleted_at": "When the record was withdrawn; null while it is live. Listed only with `include_deleted=true`.",
}


class TimestampsMixin(serializers.Serializer):
    created_at = serializers.DateTimeField(read_only=True, help_text=TIMESTAMP_HELP["created_at"])
    updated_at = serializers.DateTimeField(read_only=True, help_text=TIMESTAMP_HELP["updated_at"])
    deleted_at = serializers.DateTimeField(read_only=True, allow_null=True, help_text=TIMESTAMP_HELP["deleted_at"])
