"""Output formats: JSON (default), CSV, newline-delimited JSON and XLSX, chosen by `Accept`,
`?format=` or a suffix (`/api/v1/observations.csv`).

The CSV columns are defined here once (`columns`, `flatten`, `CITATION_COLUMNS`): REST's CSV, its
XLSX and the bulk downloads (opendata/publish/downloads.py) all use them.

A CSV or NDJSON request of a collection is a full export: it is streamed, reading the filtered
queryset in keyset-ordered chunks (constant memory, constant queries per chunk), never capped by
the page size.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator

import orjson
from django.http import Http404, StreamingHttpResponse
from rest_framework import serializers
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.utils.encoders import JSONEncoder

from opendata.base.api.errors import InvalidParameters
from opendata.base.api.pagination import after_q, key_values
from opendata.base.filters import SortKey

EXPORT_CHUNK = 1000
CSV_MEDIA_TYPE = "text/csv"
NDJSON_MEDIA_TYPE = "application/x-ndjson"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXPORT_FORMATS = {"csv", "ndjson", "xlsx"}
# A list of citations is one JSON cell (`citations`, the v1 column) followed by these flat columns,
# for spreadsheets: how many, the first quote and its source, and every source (`; `-separated).
CITATION_COLUMNS = ("citation_count", "citation_first_quote", "citation_first_source", "citation_sources")


ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


class UTF8JSONRenderer(JSONRenderer):
    """JSON with Chinese text as is (not \\u-escaped).

    Written by orjson (several times faster than the json module on a page of 100 observations), to the
    same bytes as DRF's renderer: compact separators, text not escaped but for what JSON requires, U+2028
    and U+2029 escaped as DRF does, dates, times, decimals, lazy text... through DRF's encoder (`default`).
    What orjson would write differently goes through DRF's renderer: an indented answer (`Accept:
    application/json; indent=2`), an integer beyond 64 bits, a key that is no string, a lone surrogate.
    Floats would differ (`1e+16` / `1e16`): no representation has one (tests/opendata/base/api/test_renderers.py
    checks the serializers)."""

    ensure_ascii = False
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None or not self.compact or self.ensure_ascii:
            return super().render(data, accepted_media_type, renderer_context)
        if self.get_indent(accepted_media_type, renderer_context or {}) is not None:
            return super().render(data, accepted_media_type, renderer_context)
        try:
            out = orjson.dumps(data, default=_default, option=ORJSON_OPTIONS)
        except (TypeError, orjson.JSONEncodeError):
            return super().render(data, accepted_media_type, renderer_context)
        if b"\xe2\x80\xa8" in out or b"\xe2\x80\xa9" in out:
            out = out.replace("\u2028".encode(), b"\\u2028").replace("\u2029".encode(), b"\\u2029")
        return out


_ENCODER = JSONEncoder()


def _default(obj):
    value = _ENCODER.default(obj)
    if isinstance(value, float):  # a Decimal as DRF writes it: a float, which orjson would write differently
        raise TypeError("float")
    return value


class CSVRenderer(BaseRenderer):
    media_type = CSV_MEDIA_TYPE
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        rows = data if isinstance(data, list) else [data]
        flat = [flatten(r) for r in rows]
        header = list(dict.fromkeys(k for r in flat for k in r))
        return "".join(csv_lines(header, flat)).encode()


class NDJSONRenderer(BaseRenderer):
    media_type = NDJSON_MEDIA_TYPE
    format = "ndjson"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        rows = data if isinstance(data, list) else [data]
        return "".join(ndjson_line(r) for r in rows).encode()


class XLSXRenderer(BaseRenderer):
    """A workbook of one sheet (the rows, columns as CSV's) and a README sheet."""

    media_type = XLSX_MEDIA_TYPE
    format = "xlsx"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        from opendata.base.api.spreadsheet import workbook_bytes

        if isinstance(data, dict) and ("type" in data and "status" in data):   # a problem: JSON says it best
            return json.dumps(data, ensure_ascii=False).encode()
        rows = data if isinstance(data, list) else [data]
        flat = [flatten(r) for r in rows]
        header = list(dict.fromkeys(k for r in flat for k in r))
        view = (renderer_context or {}).get("view")
        request = (renderer_context or {}).get("request")
        title = getattr(view, "export_name", "") or getattr(view, "entity", "") or "data"
        return workbook_bytes([(title, header, ([r.get(c) for c in header] for r in flat))],
                              readme_rows(request.build_absolute_uri() if request else ""))


def readme_rows(url: str) -> list[list[str]]:
    return [
        ["Changchun Open Data API"],
        ["Exported from", url],
        ["Every fact carries citations: citation_count, the first quote and its source, every source; "
         "the full list is the JSON of the citations column."],
        ["Meaning of every column", "/api/v1/dictionary/ (docs: dictionary)"],
    ]


class StrictContentNegotiation(DefaultContentNegotiation):
    """An unknown `?format=` is a 400 naming the formats, not DRF's bare 404."""

    def select_renderer(self, request, renderers, format_suffix=None):
        try:
            return super().select_renderer(request, renderers, format_suffix)
        except Http404:
            formats = ", ".join(r.format for r in renderers)
            fmt = request.query_params.get(self.settings.URL_FORMAT_OVERRIDE)
            raise InvalidParameters({"format": f"{fmt!r} is not a format of this endpoint; use one of: {formats}."}) \
                from None


# -- flattening for CSV -----------------------------------------------------------------------------

def flatten(row: dict, prefix: str = "") -> dict:
    """Nested objects become dotted columns (`indicator.code`); lists one JSON cell; a list of
    citations also the flat CITATION_COLUMNS, last (the columns before them keep their places)."""
    out, extra = {}, {}
    for key, value in row.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, name + "."))
        else:
            out[name] = value
            if key == "citations" and isinstance(value, list):
                extra.update(citation_cells(value, prefix))
    out.update(extra)
    return out


def citation_cells(citations: list[dict], prefix: str = "") -> dict:
    first = citations[0] if citations else {}
    sources = list(dict.fromkeys(str(c.get("source", "")) for c in citations))
    values = (len(citations), first.get("quote"), first.get("source"), "; ".join(sources))
    return {prefix + name: value for name, value in zip(CITATION_COLUMNS, values, strict=True)}


def columns(serializer, prefix: str = "") -> list[str]:
    """CSV header from the serializer's fields (known before the first row, right for empty exports);
    a serializer with `citations` ends with the CITATION_COLUMNS."""
    if isinstance(serializer, serializers.ListSerializer):
        serializer = serializer.child
    cols, extra = [], []
    for name, field in serializer.fields.items():
        if isinstance(field, serializers.Serializer):
            cols.extend(columns(field, f"{prefix}{name}."))
        else:
            cols.append(prefix + name)
            if name == "citations":
                extra.extend(prefix + c for c in CITATION_COLUMNS)
    return cols + extra


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False, cls=JSONEncoder)
    return str(value)


class _Echo:
    def write(self, value):
        return value


def csv_lines(header: list[str], rows: Iterable[dict]) -> Iterator[str]:
    writer = csv.writer(_Echo(), lineterminator="\r\n")
    yield writer.writerow(header)
    for row in rows:
        yield writer.writerow([_cell(row.get(col)) for col in header])


def ndjson_line(row) -> str:
    return json.dumps(row, ensure_ascii=False, cls=JSONEncoder, separators=(",", ":")) + "\n"


# -- streamed export -------------------------------------------------------------------------------

def iterate_in_chunks(queryset, keys: list[SortKey], *, chunk: int = EXPORT_CHUNK) -> Iterator[list]:
    """The queryset in order, `chunk` rows per query, each chunk found by keyset from the last."""
    ordered = queryset.order_by(*[k.order_expr() for k in keys])
    last = None
    while True:
        qs = ordered if last is None else ordered.filter(after_q(keys, last))
        rows = list(qs[:chunk])
        if rows:
            yield rows
        if len(rows) < chunk:
            return
        last = key_values(rows[-1], keys)


def export_response(*, fmt: str, serialize, chunks: Iterable[list], header: list[str], filename: str,
                    bom: bool = False, url: str = "", body: Iterable[bytes] | None = None):
    """Stream `chunks` of model rows, serialized chunk by chunk with `serialize(rows) -> list[dict]`
    (XLSX, a zip, is built whole: bounded by a sheet's rows). `body`: the CSV or NDJSON bytes already
    written (by PostgreSQL, opendata.base.api.sqlexport), BOM and header included; same headers."""
    def records():
        for rows in chunks:
            yield from serialize(rows)

    if fmt == "xlsx":
        from django.http import HttpResponse

        from opendata.base.api.spreadsheet import workbook_bytes

        body = workbook_bytes([(filename, header, ([flat.get(c) for c in header]
                                                   for flat in (flatten(r) for r in records())))],
                              readme_rows(url))
        response = HttpResponse(body, content_type=XLSX_MEDIA_TYPE)
        response["Content-Disposition"] = f'attachment; filename="{filename}.xlsx"'
        return response
    if fmt == "csv":
        def lines():
            if bom:
                yield "\ufeff"
            yield from csv_lines(header, (flatten(r) for r in records()))
        response = StreamingHttpResponse(body if body is not None else (s.encode() for s in lines()),
                                         content_type=f"{CSV_MEDIA_TYPE}; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    else:
        response = StreamingHttpResponse(body if body is not None else (ndjson_line(r).encode() for r in records()),
                                         content_type=NDJSON_MEDIA_TYPE)
        response["Content-Disposition"] = f'inline; filename="{filename}.ndjson"'
    return response
