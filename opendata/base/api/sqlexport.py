"""CSV and NDJSON exports written by PostgreSQL: one `COPY (SELECT line ...) TO STDOUT`, streamed.

The representation is still described once, by the serializer: `export_stream` takes the plan the fast
path compiled from it (opendata.base.api.fastpath, after `fields=`/`expand=` trimmed it) and turns each
entry into SQL that writes the text its Python writer writes (`csv_lines`/`flatten`/`citation_cells`,
`ndjson_line`): one text value per row, the whole line. The filtered queryset (after the FilterSet) keeps
its WHERE, joins and the export's keyset order; Django compiles it, the line annotated on it.

What is written, per serializer field (anything else: `NotCompilable`, and the Python writer serves it):

| field | SQL | as Python writes it |
|---|---|---|
| CharField of a text column | the column | `str(value)` |
| UUIDField (hex_verbose) | `uuid::text` | `str(uuid)` |
| IntegerField | `int::text` | `str(int)` |
| BooleanField | `true`/`false` | `_cell`, JSON |
| DateField (ISO 8601) | `to_char(d, 'YYYY-MM-DD')` | `date.isoformat()` |
| DateTimeField (ISO 8601, current time zone UTC) | `to_char(t AT TIME ZONE 'UTC', ...)`, `.US` when not whole seconds, `Z` | `...isoformat() + "Z"` |
| DecimalStringField | `trim_scale(n)::text` | `format(value.normalize(), "f")` |
| LinkField, QuoteLinkField | their `sql_value`: the link's template around the key, percent-encoded as `quote(key, safe="")` | `link()` |
| a nested serializer | its fields; null when its foreign key is | `flatten`, JSON |
| a list (citations, periods) | one correlated aggregate per row, in the Prefetch's order | `fetch_many`; `citation_cells` |

JSON strings go through `to_json(text)`, which escapes exactly what `json.dumps(ensure_ascii=False)` escapes
(`"`, `\\`, the C0 controls, with the same short forms and lower-case `\\u00xx`); CSV cells are quoted as
Python's csv module quotes them (QUOTE_MINIMAL: a cell holding `,`, `"`, CR or LF, `"` doubled), lines end
with CRLF, and a line of one empty cell is `""`.

The COPY is read in binary (no escaping to undo: a row is a 16-bit field count, a 32-bit length and the
line's bytes) and re-chunked to ~64 KiB for the response. It runs in a transaction of its own with
`SET LOCAL statement_timeout` = EXPORT_STATEMENT_TIMEOUT (the page timeout would cut a long export).
Two statements per export, whatever its size (tests/opendata/base/api/test_sqlexport.py).
"""

from __future__ import annotations

import datetime as dt
import json
import struct
from collections.abc import Iterator

from django.conf import settings
from django.core.exceptions import EmptyResultSet, FieldDoesNotExist
from django.db import connections, transaction
from django.db.models import Expression, F, OuterRef, Q, Subquery, TextField, Value
from django.utils import timezone
from rest_framework import ISO_8601, serializers
from rest_framework.settings import api_settings

from opendata.base.api.fastpath import Leaf, Many, Nested, NotCompilable, Plan
from opendata.base.api.renderers import CITATION_COLUMNS, columns, csv_lines

BUFFER = 1 << 16
TEXT_TYPES = {"CharField", "TextField", "SlugField", "EmailField", "URLField"}
INT_TYPES = {"IntegerField", "SmallIntegerField", "BigIntegerField", "PositiveIntegerField",
             "PositiveSmallIntegerField", "PositiveBigIntegerField", "AutoField", "BigAutoField", "SmallAutoField"}
CSV_SPECIAL = ',"\r\n'          # what makes Python's csv module quote a cell (QUOTE_MINIMAL, lineterminator \r\n)
URL_SAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.~-"  # what quote(key, safe="") keeps
NDJSON_SEPARATORS = (",", ":")   # ndjson_line
CELL_SEPARATORS = (", ", ": ")   # a JSON cell of CSV: json.dumps' default


# -- SQL expressions -------------------------------------------------------------------------------

class Sql(Expression):
    """SQL text from a template: each `{}` is the next argument, an expression (compiled by Django, so
    its joins are the query's) or a str (a bound literal)."""

    def __init__(self, template: str, *args):
        super().__init__(output_field=TextField())
        if template.count("{}") != len(args):
            raise ValueError(f"{template!r} takes {template.count('{}')} arguments, not {len(args)}")
        self.template = template
        self.args = [a if hasattr(a, "resolve_expression") else Value(a, output_field=TextField()) for a in args]

    def get_source_expressions(self):
        return self.args

    def set_source_expressions(self, exprs):
        self.args = list(exprs)

    def as_sql(self, compiler, connection):
        parts, params = [], []
        for arg in self.args:
            sql, p = compiler.compile(arg)
            parts.append(sql)
            params.extend(p)
        return self.template.format(*parts), params


def concat(*parts) -> Sql:
    """`a || b || ...`, adjacent literals merged (each part must not be NULL)."""
    merged: list = []
    for p in parts:
        if isinstance(p, str) and merged and isinstance(merged[-1], str):
            merged[-1] += p
        elif not (isinstance(p, str) and p == ""):
            merged.append(p)
    if not merged:
        merged = [""]
    return Sql("(" + " || ".join("{}" for _ in merged) + ")", *merged)


class Column(Sql):
    """A column, knowing its model field's type (a link of a UUID needs no percent-encoding)."""

    def __init__(self, column: str, internal: str):
        super().__init__("{}", F(column))
        self.internal = internal


def url_quoted(key) -> Sql:
    """`urllib.parse.quote(key, safe="")`: the key as is when every character is safe, else byte by byte."""
    if getattr(key, "internal", None) == "UUIDField":
        return Sql("{}::text", key)
    key = Sql("coalesce({}::text, 'None')", key)
    return Sql(
        "(CASE WHEN translate({}, {}, '') = '' THEN {} ELSE (SELECT string_agg(CASE WHEN _fxb BETWEEN 48 AND 57 OR _fxb BETWEEN 65 AND 90 "
        "OR _fxb BETWEEN 97 AND 122 OR _fxb IN (45, 46, 95, 126) THEN chr(_fxb) "
        "ELSE {} || upper(lpad(to_hex(_fxb), 2, '0')) END, '' ORDER BY _fxi) "
        "FROM generate_series(0, octet_length({}) - 1) AS _fxi, "
        "LATERAL (SELECT get_byte(convert_to({}, 'UTF8'), _fxi) AS _fxb) AS _fxq) END)",
        key, URL_SAFE, key, "%", key, key)


def link_sql(request, route: str, key, fragment: tuple = ()) -> Sql:
    """The SQL of `opendata.base.api.serializers.link(request, route, key)` (+ `#fragment`, its parts)."""
    from opendata.base.api.serializers import KEY_PLACEHOLDER, link

    pieces = link(request, route, KEY_PLACEHOLDER).split(KEY_PLACEHOLDER)
    quoted = url_quoted(key)
    parts: list = [pieces[0]]
    for piece in pieces[1:]:
        parts += [quoted, piece]
    if fragment:
        parts += ["#", *fragment]
    expr = concat(*parts)
    # The key percent-encoded and the fragment's numbers hold no character JSON escapes or CSV quotes.
    literal = "".join(p for p in parts if isinstance(p, str))
    if json.dumps(literal, ensure_ascii=False)[1:-1] != literal or any(c in literal for c in '"\r\n'):
        expr.kind = "text"
    else:
        expr.kind = "quoted" if "," in literal else "safe"
    return expr


# -- the plan's entries as SQL ---------------------------------------------------------------------

def _model_field(model, column: str):
    *rel, last = column.split("__")
    try:
        for name in rel:
            model = model._meta.get_field(name).related_model
        return model._meta.get_field(last)
    except (FieldDoesNotExist, AttributeError):
        raise NotCompilable(column) from None


def _iso(field, default) -> bool:
    return getattr(field, "format", default) == ISO_8601


def _current_is_utc() -> bool:
    tz = timezone.get_current_timezone() if settings.USE_TZ else None
    return tz is dt.UTC or getattr(tz, "key", None) in ("UTC", "Etc/UTC")


def leaf_sql(field, model_field, col) -> tuple[Sql, str]:
    """The text Python writes for the field's value (NULL for null), and its kind: `text` (may need JSON
    escaping and CSV quoting), `safe` (a JSON string needing neither), `raw` (a JSON number or boolean)."""
    from opendata.base.api.serializers import DecimalStringField

    kind, internal = type(field), model_field.get_internal_type()
    if kind is serializers.CharField and internal in TEXT_TYPES:
        return Sql("{}", col), "safe" if _plain_choices(model_field) else "text"
    if kind is serializers.UUIDField and field.uuid_format == "hex_verbose" and internal == "UUIDField":
        return Sql("{}::text", col), "safe"
    if kind is serializers.IntegerField and internal in INT_TYPES:
        return Sql("{}::text", col), "raw"
    if kind is serializers.BooleanField and internal == "BooleanField":
        return Sql("(CASE {} WHEN true THEN 'true' WHEN false THEN 'false' END)", col), "raw"
    if kind is serializers.DateField and _iso(field, api_settings.DATE_FORMAT) and internal == "DateField":
        return Sql("{}::text", col), "safe"   # DateStyle ISO (set for the export): 2025-01-08
    if (kind is serializers.DateTimeField and _iso(field, api_settings.DATETIME_FORMAT)
            and getattr(field, "timezone", None) is None and internal == "DateTimeField" and _current_is_utc()):
        # ISO text of the UTC time with a T; PostgreSQL trims the fraction's zeros, isoformat writes six digits
        return Sql("(CASE WHEN date_trunc('second', {}) = {} THEN replace(({} AT TIME ZONE 'UTC')::text, ' ', 'T') "
                   "ELSE rpad(replace(({} AT TIME ZONE 'UTC')::text, ' ', 'T'), 26, '0') END || 'Z')",
                   col, col, col, col), "safe"
    if kind is DecimalStringField and internal == "DecimalField":
        return Sql("trim_scale({})::text", col), "safe"
    raise NotCompilable(f"{field.field_name}: no SQL for {kind.__name__}")


def _plain_choices(model_field) -> bool:
    """Whether a CHECK constraint of the table holds the column to values that need neither JSON escaping nor
    CSV quoting (`kind IN ('actual', 'target')`): then no value is checked, row by row."""
    for constraint in model_field.model._meta.constraints:
        condition = getattr(constraint, "condition", None)
        if (isinstance(condition, Q) and not condition.negated and len(condition.children) == 1
                and isinstance(condition.children[0], tuple) and condition.children[0][0] == f"{model_field.name}__in"):
            values = list(condition.children[0][1])
            return bool(values) and all(isinstance(v, str) and v == json.dumps(v, ensure_ascii=False)[1:-1]
                                        and not any(c in v for c in CSV_SPECIAL) for v in values)
    return False


def json_of(text, kind: str) -> Sql:
    if kind == "text":
        return Sql("coalesce(to_json({}::text)::text, 'null')", text)
    if kind in ("safe", "quoted"):
        return Sql("coalesce('\"' || {} || '\"', 'null')", text)
    return Sql("coalesce({}, 'null')", text)


#: A text holds none of CSV_SPECIAL: four `strpos`, ~12 % less of R6's time in PostgreSQL than one `translate`
#: (which builds a new string for every cell), for the same test.
CSV_PLAIN = " AND ".join(f"strpos({{}}, chr({ord(c)})) = 0" for c in CSV_SPECIAL)


def csv_of(text, kind: str) -> Sql:
    if kind == "text":
        return Sql("(CASE WHEN {} IS NULL THEN '' WHEN " + CSV_PLAIN + " THEN {} "
                   "ELSE '\"' || replace({}, '\"', '\"\"') || '\"' END)", text, *[text] * len(CSV_SPECIAL), text, text)
    if kind == "quoted":   # always holds a comma, never a quote
        return Sql("coalesce('\"' || {} || '\"', '')", text)
    return Sql("coalesce({}, '')", text)


class Builder:
    """One level of a plan (the listed rows, or a list's rows) written as SQL."""

    def __init__(self, plan: Plan, context: dict, counter: list):
        self.plan, self.context, self.counter = plan, context, counter
        self.aggregates: list = []   # (alias, Sql of the derived table)

    def alias(self, stem: str) -> str:
        self.counter[0] += 1
        return f"_fx{stem}{self.counter[0]}"

    def scalar(self, e) -> tuple[Sql, str]:
        if type(e) is Leaf:
            return leaf_sql(e.field, _model_field(self.plan.model, e.column), F(e.column))
        # Computed: a field of our own that says how to write itself in SQL
        field = e.field
        sql_value = getattr(type(field), "sql_value", None)
        fast_value = getattr(type(field), "fast_value", None)
        if sql_value is None or _owner(type(field), "sql_value") is not _owner(type(field), "fast_value") \
                or fast_value is None:
            raise NotCompilable(f"{e.name}: no sql_value beside its fast_value")
        cols = [Column(c, _model_field(self.plan.model, c).get_internal_type()) for c in e.columns]
        expr = field.sql_value(self.context, *cols)
        return expr, getattr(expr, "kind", "text")

    # JSON
    def json_object(self, entries, separators) -> Sql:
        item, key = separators
        parts: list = ["{"]
        for i, e in enumerate(entries):
            parts.append((item if i else "") + json.dumps(e.name) + key)
            parts.append(self.json_value(e, separators))
        parts.append("}")
        return concat(*parts)

    def json_value(self, e, separators):
        t = type(e)
        if t is Nested:
            return Sql("(CASE WHEN {} IS NULL THEN 'null' ELSE {} END)", F(e.null_column),
                       self.json_object(e.entries, separators))
        if t is Many:
            agg = self.many(e, separators, csv=False)
            return Sql(f"{agg}.j")
        return json_of(*self.scalar(e))

    # CSV
    def csv_cells(self, entries, prefix: str = "") -> list[tuple[str, Sql]]:
        cells, extra = [], []
        for e in entries:
            name = prefix + e.name
            t = type(e)
            if t is Nested:
                for sub, cell in self.csv_cells(e.entries, name + "."):
                    cells.append((sub, Sql("(CASE WHEN {} IS NULL THEN '' ELSE {} END)", F(e.null_column), cell)))
            elif t is Many:
                agg = self.many(e, CELL_SEPARATORS, csv=e.name == "citations")
                # a list of objects holds quotes (their keys): quoted, but for []
                cells.append((name, Sql(f"(CASE WHEN {agg}.n = 0 THEN '[]' ELSE '\"' || replace({agg}.j, '\"', "
                                        f"'\"\"') || '\"' END)")))
                if e.name == "citations":
                    extra += self.citation_cells(e, agg, prefix)
            else:
                cells.append((name, csv_of(*self.scalar(e))))
        return cells + extra

    def citation_cells(self, many: Many, agg: str, prefix: str) -> list[tuple[str, Sql]]:
        """`citation_cells`: how many, the first quote and its source, every source once (`; `)."""
        names = [prefix + c for c in CITATION_COLUMNS]
        _, source_kind = self._citation_part(many, "source")
        _, quote_kind = self._citation_part(many, "quote")
        if source_kind == "json":
            raise NotCompilable("citation_sources of an expanded source (Python writes its repr)")
        sources = Sql(f"{agg}.srcs")
        return [
            (names[0], Sql(f"{agg}.n::text")),
            (names[1], csv_of(Sql(f"{agg}.q"), "text") if quote_kind else Sql("''")),
            (names[2], csv_of(Sql(f"{agg}.s"), "text") if source_kind else Sql("''")),
            (names[3], csv_of(sources, "text") if source_kind else Sql("''")),
        ]

    def _citation_part(self, many: Many, name: str):
        """(expression, kind) of a citation's `quote` or `source` as `citation_cells` reads it: a string
        (`text`), a nested object (`json`, written as a JSON cell), or (None, None) if the child has none."""
        entry = next((e for e in many.plan.entries if e.name == name), None)
        if entry is None:
            return None, None
        child = Builder(many.plan, self.context, self.counter)
        if type(entry) is Nested:
            return child.json_value(entry, CELL_SEPARATORS), "json"
        if type(entry) is Many:
            raise NotCompilable(name)
        text, kind = child.scalar(entry)
        if kind == "raw":   # str(True) is not 'true'
            raise NotCompilable(f"citation {name}: not a string")
        if child.aggregates:
            raise NotCompilable(name)
        return text, "text"

    def many(self, many: Many, separators, *, csv: bool) -> str:
        """A derived table of one row per listed row: the list's JSON (`j`), and for citations in CSV its
        count (`n`), first quote (`q`), first source (`s`) and every source (`ss`), in the Prefetch's order."""
        child = Builder(many.plan, self.context, self.counter)
        values = {"_fj": child.line_of(child.json_object(many.plan.entries, separators))}
        quote = source = None
        if csv:
            quote, _ = self._citation_part(many, "quote")
            source, _ = self._citation_part(many, "source")
            if quote is not None:
                values["_fq"] = quote
            if source is not None:
                values["_fs"] = source
        query = many.queryset.query
        if query.extra_order_by or query.combinator or query.is_sliced:
            raise NotCompilable(many.name)
        # The list's rows in the Prefetch's order (its queryset's, as fetch_many reads them), sorted once: a plain
        # aggregate over a subquery with ORDER BY reads them in that order (PostgreSQL does not pull such a
        # subquery up, and the aggregate reads its rows as the sort returns them).
        rows = (many.queryset._next_is_sticky().filter(**{many.owner_lookup: OuterRef("pk")})
                .prefetch_related(None).values(**values))
        rows_alias, alias = self.alias("c"), self.alias("a")
        select = ["'[' || coalesce(string_agg(" + rows_alias + "._fj, {}), '') || ']' AS j", "count(*) AS n"]
        outer = ["_fxr.j", "_fxr.n"]
        if quote is not None:
            select.append(f"(array_agg({rows_alias}._fq))[1] AS q")
            outer.append("_fxr.q")
        if source is not None:
            # every source once, in the order of first appearance (dict.fromkeys), `; `-separated
            select += [f"(array_agg({rows_alias}._fs))[1] AS s", f"array_agg(coalesce({rows_alias}._fs, 'None')) AS ss"]
            outer += ["_fxr.s", "(CASE WHEN _fxr.n = 0 THEN '' WHEN _fxr.n = 1 THEN coalesce(_fxr.s, 'None') ELSE "
                      "(SELECT string_agg(_fxu.s, '; ' ORDER BY _fxu.i) FROM (SELECT s, min(i) AS i FROM "
                      "unnest(_fxr.ss) WITH ORDINALITY AS _fxw(s, i) GROUP BY s) AS _fxu) END) AS srcs"]
        self.aggregates.append((alias, Sql("(SELECT " + ", ".join(outer) + " FROM (SELECT " + ", ".join(select)
                                           + " FROM {} AS " + rows_alias + ") AS _fxr)", separators[0], Subquery(rows))))
        return alias

    def line_of(self, expr: Sql) -> Sql:
        """`expr`, evaluated beside this level's aggregates (each computed once per row)."""
        if not self.aggregates:
            return expr
        aggregates, self.aggregates = self.aggregates, []
        return Sql("(SELECT {} FROM " + ", ".join("{} AS " + a for a, _ in aggregates) + ")",
                   expr, *[sql for _, sql in aggregates])


def _owner(cls, attr: str):
    return next((k for k in cls.__mro__ if attr in vars(k)), None)


def line_sql(plan: Plan, serializer, fmt: str, context: dict) -> Sql:
    """The SQL of one export line of a listed row: what `csv_lines` or `ndjson_line` writes for it."""
    builder = Builder(plan, context, [0])
    if fmt == "ndjson":
        return builder.line_of(concat(builder.json_object(plan.entries, NDJSON_SEPARATORS), "\n"))
    cells = builder.csv_cells(plan.entries)
    if [name for name, _ in cells] != columns(serializer):
        raise NotCompilable("the CSV columns are not the serializer's")
    if len(cells) == 1:   # csv writes a line of one empty cell as ""
        body = Sql("(CASE WHEN {} = '' THEN '\"\"' ELSE {} END)", cells[0][1], cells[0][1])
    else:
        body = concat(*[part for i, (_, cell) in enumerate(cells) for part in ((",", cell) if i else (cell,))])
    return builder.line_of(concat(body, "\r\n"))


# -- the export ------------------------------------------------------------------------------------

def export_stream(*, plan: Plan, serializer, queryset, keys, fmt: str, context: dict, header: list[str],
                  bom: bool = False) -> Iterator[bytes] | None:
    """The export's body written by PostgreSQL, or None where it cannot be (another database, a shape
    the SQL does not cover): then the Python writer serves it. Nothing is read before the first chunk."""
    if fmt not in ("csv", "ndjson") or not getattr(settings, "API_EXPORT_COPY", True):
        return None
    alias = queryset.db
    connection = connections[alias]
    if connection.vendor != "postgresql" or queryset.query.combinator:
        return None
    try:
        line = line_sql(plan, serializer, fmt, context)
        qs = (queryset.prefetch_related(None).order_by(*[k.order_expr() for k in keys])
              .annotate(_fx_line=line).values_list("_fx_line"))
        compiler = qs.query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        if compiler.col_count != 1:
            raise NotCompilable("more than the line selected")
    except (NotCompilable, EmptyResultSet):
        return None
    head = b""
    if fmt == "csv":
        head = (("\ufeff" if bom else "") + next(csv_lines(header, []))).encode()
    return _copy_stream(alias, f"COPY ({sql}) TO STDOUT (FORMAT binary)", tuple(params), head)


_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
_FIELD = struct.Struct("!hi")


def _copy_stream(alias: str, statement: str, params: tuple, head: bytes) -> Iterator[bytes]:
    connection = connections[alias]
    timeout = round(getattr(settings, "EXPORT_STATEMENT_TIMEOUT", 0) * 1000)
    # A transaction of its own (a savepoint inside another): a client gone mid-export closes this generator,
    # psycopg cancels the COPY and the transaction is rolled back, the connection left clean.
    with transaction.atomic(using=alias), connection.cursor() as cursor:
        # For this transaction (one statement): the export's timeout; no JIT (compiling the long line costs
        # seconds, more than it saves); ISO dates (what `::text` writes); no merge join: a list's rows (citations)
        # are a few per row, found by index, but on small tables the planner merges them with a scan of the
        # whole table, for every row (3 times the CPU of the export on od_bench); the listed rows are read in
        # their keyset order by index, their foreign keys looked up (nested loops, memoized).
        cursor.execute("SELECT set_config('statement_timeout', %s, true), set_config('jit', 'off', true), "
                       "set_config('DateStyle', 'ISO, YMD', true), set_config('enable_mergejoin', 'off', true)",
                       [f"{timeout}ms"])
        started = []

        def start(sql, params, many, context):  # through the execute wrappers: counted, logged like a query
            started.append(cursor.cursor.copy(sql, params))
            return started[-1].__enter__()

        with connection.wrap_database_errors:
            copy = cursor._execute_with_wrappers(statement, params, False, start)
            if connection.queries_logged:
                connection.queries_log.append({"sql": statement, "time": "0.000"})
            try:
                yield from _lines(copy, head)
            except BaseException as exc:
                started[-1].__exit__(type(exc), exc, exc.__traceback__)
                raise
            started[-1].__exit__(None, None, None)


def _lines(copy, head: bytes) -> Iterator[bytes]:
    """The COPY's binary rows (one text field each) as bytes, in chunks of about BUFFER."""
    out, size = [head] if head else [], len(head)
    pending = b""
    started = False
    for data in copy:
        buf = pending + bytes(data) if pending else bytes(data)
        pos, end = 0, len(buf)
        if not started:
            if end < 19:
                pending = buf
                continue
            if buf[:11] != _SIGNATURE:
                raise ValueError("not a binary COPY")
            pos = 19 + int.from_bytes(buf[15:19], "big")
            started = True
        while pos + 2 <= end:
            count = int.from_bytes(buf[pos:pos + 2], "big", signed=True)
            if count == -1:   # the trailer
                pos = end
                break
            if pos + 6 > end:
                break
            _, length = _FIELD.unpack_from(buf, pos)
            stop = pos + 6 + length
            if stop > end:
                break
            out.append(buf[pos + 6:stop])
            size += length
            pos = stop
        pending = buf[pos:] if pos < end else b""
        if size >= BUFFER:
            yield b"".join(out)
            out, size = [], 0
    if out:
        yield b"".join(out)
