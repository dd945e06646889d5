"""Keyset (cursor) pagination: a page deep into a million rows costs what the first page costs.

A cursor is an opaque token holding the sort-key values of the row at a page's edge, the direction
and the ordering it was made for, signed and bound to its collection (opendata.base.cursors): a
cursor of `/observations/` is refused by `/sources/{slug}/observations/` and by `/indicators/`, and
one made up never reaches the database. The next page is the rows whose keys come after it, read from an
index that matches the ordering (see the `obs_keyset_*` indexes), never an OFFSET. Counts are
computed only on request (`count=true`). Links to the next and previous pages are in the body and
in the `Link` header.
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from decimal import Decimal

from django.db import connection
from django.db.models import F, Q
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan, TupleLessThan
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from opendata.base.api.errors import InvalidParameters
from opendata.base.cursors import MAX_CURSOR_LENGTH, InvalidCursor, make_cursor, read_cursor
from opendata.base.filters import INTEGER, InvalidSort, Sorting, SortKey, StrictBooleanField

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000


def parse_ordering(raw: str | None, sorting: Sorting) -> tuple[str, list[SortKey]]:
    """The `ordering` parameter (`-period_start,indicator`) as sort keys (see Sorting.parse)."""
    try:
        return sorting.parse(raw)
    except InvalidSort as exc:
        raise InvalidParameters({"ordering": str(exc)}) from None


def key_values(obj, keys: list[SortKey]) -> list:
    if isinstance(obj, dict):  # a row of the fast path (opendata.base.api.fastpath), read with the sort keys
        return [obj[k.attr] for k in keys]
    return [getattr(obj, k.attr) for k in keys]


def after_q(keys: list[SortKey], values: list, *, reverse: bool = False) -> Q:
    """Rows strictly after `values` in the order of `keys` (before, with reverse=True).

    On a backend with row-value comparisons and a uniform direction, `(a, b, id) > (x, y, z)`,
    which PostgreSQL answers with one index range scan; otherwise the expanded form, led by a bound
    on the first key so that the index still narrows the scan."""
    first = keys[0]
    bound = Q(**{f"{first.attr}__{'lte' if first.descending != reverse else 'gte'}": values[0]})
    directions = {k.descending != reverse for k in keys}
    if len(directions) == 1 and connection.features.supports_tuple_lookups and connection.vendor == "postgresql":
        lookup = TupleLessThan if directions.pop() else TupleGreaterThan
        # The bound on the first key too: PostgreSQL uses a row comparison as an index condition only on an
        # index that starts with its columns, so under a filter (`indicator_id = 101`, index (indicator_id,
        # period_start, id)) it read all the indicator's rows and dropped those before the cursor (R2: 2,000
        # rows read for 100); with the bound it reads from the cursor on.
        return bound & Q(lookup(Tuple(*[F(k.attr) for k in keys]), tuple(values)))
    q = Q()
    for i in reversed(range(len(keys))):
        k, v = keys[i], values[i]
        op = "lt" if k.descending != reverse else "gt"
        step = Q(**{f"{k.attr}__{op}": v})
        q = step if i == len(keys) - 1 else step | (Q(**{k.attr: v}) & q)
    return bound & q


def _encode_value(v):
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    if isinstance(v, Decimal):
        return str(v)
    return v


def encode_cursor(scope: str, ordering: str, values: list, *, backwards: bool) -> str:
    return make_cursor(scope, o=ordering, v=[_encode_value(v) for v in values], b=int(backwards))


def decode_cursor(token: str, *, scope: str, ordering: str, keys: list[SortKey], model) -> tuple[list, bool]:
    """The sort-key values and direction of a cursor made for this collection (`scope`) and ordering."""
    try:
        payload = read_cursor(token, scope)
    except InvalidCursor as exc:
        raise InvalidParameters({"cursor": str(exc)}) from None
    bad = InvalidParameters({"cursor": "Not a cursor of this API: use the next/previous links as given."})
    if payload.get("o") != ordering:
        raise InvalidParameters({"cursor": f"This cursor was made for ordering={payload.get('o')!r}, not "
                                           f"{ordering!r}: start again without a cursor."})
    values = payload.get("v")
    if not isinstance(values, list) or len(values) != len(keys):
        raise bad
    fields = {f.attname: f for f in model._meta.concrete_fields}
    converted = []
    for k, v in zip(keys, values, strict=True):
        field = model._meta.pk if k.attr == "pk" else fields[k.attr]
        try:
            converted.append(field.to_python(v))
        except Exception:
            raise bad from None
    return converted, bool(payload.get("b"))


def parse_page_size(raw) -> int:
    if raw is None:
        return DEFAULT_PAGE_SIZE
    size = int(raw) if INTEGER.fullmatch(raw) else 0
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise InvalidParameters({"page_size": f"{raw!r} is not a whole number from 1 to {MAX_PAGE_SIZE}."})
    return size


def parse_bool(name: str, raw) -> bool:
    try:
        return bool(StrictBooleanField(required=False).clean(raw))
    except Exception as exc:
        raise InvalidParameters({name: " ".join(getattr(exc, "messages", [str(exc)]))}) from None


class KeysetPagination(BasePagination):
    cursor_query_param = "cursor"
    page_size_query_param = "page_size"
    count_query_param = "count"
    ordering_query_param = "ordering"

    def paginate_queryset(self, queryset, request, view=None):
        params = request.query_params
        self.request = request
        self.page_size = parse_page_size(params.get(self.page_size_query_param))
        self.ordering, self.keys = parse_ordering(params.get(self.ordering_query_param), view.sorting)
        self.scope = request.path  # the collection: a cursor is valid here only
        token = params.get(self.cursor_query_param)
        values, backwards = (decode_cursor(token, scope=self.scope, ordering=self.ordering, keys=self.keys,
                                           model=queryset.model) if token else (None, False))
        self.count = queryset.count() if parse_bool("count", params.get(self.count_query_param)) else None

        qs = queryset.order_by(*[k.order_expr(reverse=backwards) for k in self.keys])
        if values is not None:
            qs = qs.filter(after_q(self.keys, values, reverse=backwards))
        rows = list(qs[: self.page_size + 1])
        more = len(rows) > self.page_size
        rows = rows[: self.page_size]
        if backwards:
            rows.reverse()
        self.has_next = more if not backwards else True
        self.has_previous = (values is not None) if not backwards else more
        if not rows:  # past either end: only the way back makes sense
            self.has_next, self.has_previous = backwards, not backwards and values is not None
        self.first_values = key_values(rows[0], self.keys) if rows else values
        self.last_values = key_values(rows[-1], self.keys) if rows else values
        return rows

    # -- links ---------------------------------------------------------------------------------
    def _url(self, cursor: str | None) -> str:
        url = self.request.build_absolute_uri()
        if cursor is None:
            return remove_query_param(url, self.cursor_query_param)
        return replace_query_param(url, self.cursor_query_param, cursor)

    def get_next_link(self):
        if not self.has_next or self.last_values is None:
            return None
        return self._url(encode_cursor(self.scope, self.ordering, self.last_values, backwards=False))

    def get_previous_link(self):
        if not self.has_previous or self.first_values is None:
            return None
        return self._url(encode_cursor(self.scope, self.ordering, self.first_values, backwards=True))

    def get_first_link(self):
        return self._url(None)

    def link_header(self) -> str:
        links = [(self.get_first_link(), "first"), (self.get_next_link(), "next"), (self.get_previous_link(), "prev")]
        return ", ".join(f'<{url}>; rel="{rel}"' for url, rel in links if url)

    def get_paginated_response(self, data):
        body = OrderedDict()
        if self.count is not None:
            body["count"] = self.count
        body["next"] = self.get_next_link()
        body["previous"] = self.get_previous_link()
        body["results"] = data
        headers = {"Link": self.link_header()}
        if self.count is not None:
            headers["X-Total-Count"] = str(self.count)
        return Response(body, headers=headers)

    # -- schema --------------------------------------------------------------------------------
    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["next", "previous", "results"],
            "properties": {
                "count": {"type": "integer", "example": 123,
                          "description": "Number of records matching the filters; present only with `count=true`."},
                "next": {"type": "string", "format": "uri", "nullable": True,
                         "description": "The next page (also in the `Link` header, rel=\"next\"); null on the last page.",
                         "example": "http://127.0.0.1:8000/api/v1/observations/?cursor=eyJvIjoiaW5kaWNhdG9yIn0"},
                "previous": {"type": "string", "format": "uri", "nullable": True, "example": None,
                             "description": "The previous page (rel=\"prev\"); null on the first page."},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        from opendata.base.api.schema import names_pattern
        fields = ", ".join(f"`{f}`" for f in sorted(view.sorting.fields))
        default = ",".join(view.sorting.default)
        return [
            {"name": self.cursor_query_param, "in": "query", "required": False,
             "schema": {"type": "string", "pattern": "^[A-Za-z0-9_.-]+$", "maxLength": MAX_CURSOR_LENGTH},
             "description": "Opaque position, taken from the `next` or `previous` link of a page. Do not build it."},
            {"name": self.page_size_query_param, "in": "query", "required": False,
             "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": DEFAULT_PAGE_SIZE},
             "description": f"Records per page, at most {MAX_PAGE_SIZE}. CSV and NDJSON exports are not paged."},
            {"name": self.count_query_param, "in": "query", "required": False,
             "schema": {"type": "boolean", "default": False},
             "description": "`true` adds `count` (records matching the filters) to the body and an "
                            "`X-Total-Count` header. Counting costs a query; ask only when needed."},
            {"name": self.ordering_query_param, "in": "query", "required": False,
             "schema": {"type": "string", "default": default,
                        "pattern": names_pattern(view.sorting.fields, signed=True)},
             "example": "-" + view.sorting.default[0].lstrip("-"),
             "description": f"Comma-separated sort fields, `-` for descending. Fields: {fields}. Default `{default}`."},
        ]
