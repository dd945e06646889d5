"""Plain JSON pages without model instances or DRF's per-field machinery, generated from the serializer.

The serializer stays the one description of a representation: `compile_plan` reads a serializer
*instance* (after `fields=`/`expand=` trimmed it) and turns it into a `Plan`: the columns to read with
`QuerySet.values()` and, per field, how to write its value, using the field's own `to_representation`
(or `str`, which is what `CharField.to_representation` is). Nested lists (citations, a source's periods)
are read in one query per list and page, from the `Prefetch` the selector already declares, with its
filters and order. A field the compiler does not know (a `SerializerMethodField`, a property, a default
other than null...) makes the whole serializer fall back to DRF: a new field is never served wrong, at
worst served slower. `tests/opendata/base/api/test_fastpath.py` compares both paths byte for byte for
every resource and every `fields`/`expand` combination.

What a field of our own must provide to be compiled (LinkField does): `fast_columns` (attribute paths
read from the record) and `fast_value(context, *values)`.
"""

from __future__ import annotations

import datetime as dt
import functools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field as dc_field

from django.conf import settings
from django.db import connections
from django.db import models
from django.db.models import F, Lookup, Prefetch
from django.utils import timezone
from rest_framework import ISO_8601, serializers
from rest_framework.settings import api_settings


class NotCompilable(Exception):
    """The serializer has a field the fast path cannot write exactly as DRF does."""


@dataclass
class Leaf:
    name: str
    column: str
    convert: Callable
    field: object = None    # the serializer field (what opendata.base.api.sqlexport compiles to SQL)


@dataclass
class Computed:
    name: str
    columns: tuple[str, ...]
    make: Callable  # (context, *values) -> value
    field: object = None


@dataclass
class Nested:
    name: str
    null_column: str  # the foreign key: null means the nested record is null
    entries: list


@dataclass
class Many:
    name: str
    plan: Plan
    queryset: object        # the Prefetch's queryset (filters, order)
    owner_lookup: str       # from the listed model back to the owner: "observations", "source"
    source: str = ""        # the relation on the owner: "citations", "periods"


@dataclass
class Plan:
    model: type
    entries: list
    columns: list[str] = dc_field(default_factory=list)
    many: list[Many] = dc_field(default_factory=list)

    def read(self, queryset, extra: tuple[str, ...] = ()):
        """`queryset` as dicts of the plan's columns (plus `extra`, e.g. the sort keys), without prefetches."""
        names = list(dict.fromkeys([*self.columns, *extra]))
        return queryset.prefetch_related(None).values(*names)

    _writer: Callable | None = None

    @property
    def writer(self) -> Callable:
        """`write` of this plan's entries, as one generated function (see compile_writer)."""
        if self._writer is None:
            self._writer = compile_writer(self.entries)
        return self._writer

    def render(self, rows: list[dict], context: dict) -> list[dict]:
        _RENDER_TZ.utc = None  # the current time zone, looked up once for this render
        lists = {m.name: fetch_many(m, [r["pk"] for r in rows], context) for m in self.many}
        writer = self.writer
        return [writer(row, context, lists) for row in rows]


_PK = "pk"


def _generate(entries, *, instances: bool) -> Callable:
    """One function writing a record as the entries say, generated once: one dict display, without the loop
    over entries and the test of each entry's type for every record (a third of `write`'s time on a page of
    100 observations). From a row of `values()` (`row["indicator__code"]`, nested lists given in `lists`), or,
    with `instances`, from a model instance (`obj.indicator.code`, nested lists as the instance holds them:
    `.all()`, the prefetched list, as DRF's ListSerializer reads it)."""
    env: dict = {"_get": _get_path}

    def name_of(obj) -> str:
        key = f"_{len(env)}"
        env[key] = obj
        return key

    def access(column: str) -> str:
        if not instances:
            return f"row[{column!r}]"
        parts = tuple(column.split("__"))
        return f"row.{parts[0]}" if len(parts) == 1 else f"_get(row, {parts!r})"

    def display(entries) -> str:
        items = []
        for e in entries:
            t = type(e)
            key = repr(e.name)
            if t is Leaf:
                items.append(f"{key}: (None if (v := {access(e.column)}) is None else {name_of(e.convert)}(v))")
            elif t is Computed:
                args = "".join(f", {access(c)}" for c in e.columns)
                items.append(f"{key}: {name_of(e.make)}(context{args})")
            elif t is Nested:
                items.append(f"{key}: (None if {access(e.null_column)} is None else {display(e.entries)})")
            elif instances:  # Many
                child = name_of(_generate(e.plan.entries, instances=True))
                items.append(f"{key}: [{child}(c, context) for c in {access(e.source)}.all()]")
            else:  # Many: read beforehand, one query per list and page
                items.append(f"{key}: lists[{e.name!r}].get(row[{_PK!r}], [])")
        return "{" + ", ".join(items) + "}"

    source = f"def _write(row, context, lists=None):\n    return {display(entries)}\n"
    exec(compile(source, "<fastpath writer>", "exec"), env)  # noqa: S102 - the code is ours: names are repr()'d
    return env["_write"]


def compile_writer(entries) -> Callable:
    """`write(entries, row, context, lists)` as one generated function (`tests/opendata/base/api/test_fastpath.py`
    compares what it writes with DRF)."""
    return _generate(entries, instances=False)


class Fallback(Exception):
    """An instance the generated writer does not write as DRF would (a null on the way to a value): DRF writes it."""


def _get_path(obj, parts: tuple[str, ...]):
    for part in parts[:-1]:
        obj = getattr(obj, part)
        if obj is None:  # DRF skips or nulls the field, depending on it: its own machinery decides
            raise Fallback
    return getattr(obj, parts[-1])


def compile_instance_writer(entries) -> Callable:
    """Like compile_writer, for a model instance (select_related and prefetched as DRF would read it). Used by
    FastRepresentation (opendata.base.api.serializers)."""
    return _generate(entries, instances=True)


_INSTANCE_WRITERS: dict = {}
_PLAIN = object()


def instance_writer(serializer, model) -> Callable | None:
    """The generated writer of `serializer` (bound, after `fields=`/`expand=`) for instances of `model`, or None
    when the fast path cannot write it exactly (then DRF does). Compiled once per serializer class and set of
    fields; a serializer class whose fields never change (no `get_fields`/`__init__` of its own) is looked up
    without building its fields."""
    if not getattr(settings, "API_FAST_PATH", True):
        return None
    cls = type(serializer)
    if cls.get_fields is serializers.Serializer.get_fields and cls.__init__ is serializers.BaseSerializer.__init__:
        key = (cls, model, _PLAIN)
    else:
        key = (cls, model, _signature(serializer))
    try:
        return _INSTANCE_WRITERS[key]
    except KeyError:
        pass
    try:
        writer = compile_instance_writer(plan_for(serializer, model, None).entries) if _all_plain(serializer) else None
    except NotCompilable:
        writer = None
    _INSTANCE_WRITERS[key] = writer
    return writer


def _signature(serializer) -> tuple:
    out = []
    for name, f in serializer.fields.items():
        if isinstance(f, serializers.ListSerializer):
            out.append((name, type(f), type(f.child), _signature(f.child)))
        elif isinstance(f, serializers.Serializer):
            out.append((name, type(f), _signature(f)))
        else:
            out.append((name, type(f), f.source))
    return tuple(out)


def _all_plain(serializer) -> bool:
    """No serializer in the tree writes itself its own way (a to_representation of its own) or has a
    write-only field: the entries then say all there is to the representation."""
    from opendata.base.api.serializers import FastRepresentation

    if type(serializer).to_representation not in (serializers.Serializer.to_representation,
                                                  FastRepresentation.to_representation):
        return False
    for f in serializer.fields.values():
        if f.write_only:
            return False
        child = f.child if isinstance(f, serializers.ListSerializer) else f
        if isinstance(f, serializers.ListSerializer) and type(f).to_representation is not \
                serializers.ListSerializer.to_representation:
            return False
        if isinstance(child, serializers.Serializer) and not _all_plain(child):
            return False
    return True


def write(entries, row, context, lists=None) -> dict:
    out = {}
    for e in entries:
        t = type(e)
        if t is Leaf:
            v = row[e.column]
            out[e.name] = None if v is None else e.convert(v)
        elif t is Computed:
            out[e.name] = e.make(context, *[row[c] for c in e.columns])
        elif t is Nested:
            out[e.name] = None if row[e.null_column] is None else write(e.entries, row, context)
        else:  # Many
            out[e.name] = lists[e.name].get(row[_PK], [])
    return out


@models.IntegerField.register_lookup
class AnyOf(Lookup):
    """`column = ANY(%s)`: an integer column among a list of ids given as one PostgreSQL array."""

    lookup_name = "any"
    prepare_rhs = False

    def get_db_prep_lookup(self, value, connection):
        return "%s", [[int(v) for v in value]]

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY({rhs})", [*lhs_params, *rhs_params]


def fetch_many(many: Many, owner_ids: list, context) -> dict:
    """The nested list of each owner, in one query, in the Prefetch's order."""
    if not owner_ids:
        return {}
    qs = many.queryset._next_is_sticky()
    if connections[qs.db].vendor == "postgresql":
        # `owner = ANY(%s)`, the ids as one array: the statement's text is the same for every page, so psycopg
        # parses it once (it caches no statement of more than 50 parameters: `IN (%s, ...)` of a page of 100 was
        # parsed again on every request).
        qs = qs.filter(**{f"{many.owner_lookup}__pk__any": owner_ids})
    else:
        qs = qs.filter(**{f"{many.owner_lookup}__in": owner_ids})
    rows = list(qs.prefetch_related(None).values(*dict.fromkeys(many.plan.columns),
                                                 _fast_owner=F(many.owner_lookup)))
    nested = {m.name: fetch_many(m, [r["pk"] for r in rows], context) for m in many.plan.many}
    out: dict = {}
    writer = many.plan.writer
    for r in rows:
        out.setdefault(r["_fast_owner"], []).append(writer(r, context, nested))
    return out


# -- compiling ---------------------------------------------------------------------------------------

def _path(model, attrs: list[str]):
    """(model reached, prefix) walking foreign keys `attrs`; NotCompilable if one is no forward FK."""
    for a in attrs:
        try:
            f = model._meta.get_field(a)
        except Exception:
            raise NotCompilable(a) from None
        if not (f.is_relation and f.concrete and (f.many_to_one or f.one_to_one)):
            raise NotCompilable(a)
        model = f.related_model
    return model


def _concrete(model, name: str):
    try:
        f = model._meta.get_field(name)
    except Exception:
        raise NotCompilable(name) from None
    if not f.concrete or f.is_relation:
        raise NotCompilable(name)
    return f


def _convert(field):
    kind = type(field)
    if kind is serializers.CharField:
        return str  # CharField.to_representation
    if kind is serializers.UUIDField and field.uuid_format == "hex_verbose":
        return str  # UUIDField.to_representation
    if kind is serializers.BooleanField:
        slow = field.to_representation

        def boolean(value):  # what BooleanField.to_representation returns for a bool: itself
            return value if value is True or value is False else slow(value)
        return boolean
    if kind is serializers.DateField and getattr(field, "format", api_settings.DATE_FORMAT) == ISO_8601:
        slow = field.to_representation

        def iso_date(value):  # DateField.to_representation of a date: its isoformat()
            return value.isoformat() if type(value) is dt.date else slow(value)
        return iso_date
    if kind is serializers.DateTimeField and getattr(field, "format", api_settings.DATETIME_FORMAT) == ISO_8601 \
            and getattr(field, "timezone", None) is None:
        slow = field.to_representation

        def iso_utc(value):
            # DateTimeField.to_representation of a UTC time in the UTC time zone, without its time zone lookups
            # (asgiref locals, a third of the fields' time): what it returns, `...Z`.
            if value.tzinfo is not None and value.utcoffset() == ZERO and _current_is_utc():
                text = value.isoformat()  # ...+00:00, with the microseconds when there are some
                return text[:-6] + "Z" if text.endswith("+00:00") else value.replace(tzinfo=None).isoformat() + "Z"
            return slow(value)
        return iso_utc
    return field.to_representation


ZERO = dt.timedelta(0)


def _current_is_utc() -> bool:
    """Whether DRF's DateTimeField would convert to UTC (USE_TZ, the current time zone UTC); cached per render."""
    cached = _RENDER_TZ.utc
    if cached is None:
        tz = timezone.get_current_timezone() if settings.USE_TZ else None
        cached = tz is dt.UTC or getattr(tz, "key", None) in ("UTC", "Etc/UTC")
        _RENDER_TZ.utc = cached
    return cached


class _RenderTimeZone(threading.local):
    utc: bool | None = None


_RENDER_TZ = _RenderTimeZone()


def _no_default(field):
    default = getattr(field, "default", serializers.empty)
    if default is not serializers.empty and default is not None:
        raise NotCompilable(f"{field.field_name}: a default other than null")


def compile_entries(serializer, model, prefix: str, prefetches: dict, plan: Plan, top: bool) -> list:
    entries = []
    for name, field in serializer.fields.items():
        if isinstance(field, serializers.ListSerializer):
            if not top or field.source == "*" or "." in field.source:
                raise NotCompilable(name)
            prefetch = prefetches.get(field.source) if prefetches is not None else None
            if prefetch is None and prefetches is not None:
                raise NotCompilable(f"{name}: no Prefetch in the selector")
            rel = model._meta.get_field(field.source)
            child_model = rel.related_model
            if rel.many_to_many and rel.concrete:   # Observation.citations
                owner_lookup = rel.related_query_name()
            elif rel.one_to_many:                    # Source.periods (a reverse foreign key)
                owner_lookup = rel.field.name
            else:
                raise NotCompilable(name)
            queryset = prefetch.queryset if prefetch is not None else None
            child_plan = plan_for(field.child, child_model, queryset)
            many = Many(name, child_plan, queryset, owner_lookup, field.source)
            plan.many.append(many)
            if _PK not in plan.columns:
                plan.columns.append(_PK)
            entries.append(many)
        elif isinstance(field, serializers.Serializer):
            if field.source == "*":
                raise NotCompilable(name)
            _no_default(field)
            attrs = field.source_attrs
            related = _path(model, attrs)
            fk = prefix + "__".join(attrs)
            plan.columns.append(fk)
            entries.append(Nested(name, fk, compile_entries(field, related, fk + "__", prefetches, plan, False)))
        elif hasattr(field, "fast_columns"):
            cols = []
            for path in field.fast_columns:
                *rel, last = path.split(".")
                _concrete(_path(model, rel), last)
                cols.append(prefix + "__".join([*rel, last]))
            plan.columns.extend(cols)
            entries.append(Computed(name, tuple(cols), field.fast_value, field))
        elif isinstance(field, (serializers.SerializerMethodField, serializers.ListField, serializers.DictField,
                                serializers.HiddenField, serializers.RelatedField, serializers.ManyRelatedField)):
            raise NotCompilable(name)
        else:
            if field.source == "*":
                raise NotCompilable(name)
            _no_default(field)
            *rel, last = field.source_attrs
            _concrete(_path(model, rel), last)
            column = prefix + "__".join(field.source_attrs)
            plan.columns.append(column)
            entries.append(Leaf(name, column, _convert(field), field))
    return entries


def plan_for(serializer, model, queryset) -> Plan:
    """The plan of `serializer` over rows of `model` read from `queryset` (its Prefetches give the nested lists),
    or, with no queryset, over model instances (the nested lists as the instances hold them)."""
    prefetches = None
    if queryset is not None:
        prefetches = {p.prefetch_to if isinstance(p, Prefetch) else p: p
                      for p in getattr(queryset, "_prefetch_related_lookups", ())}
        prefetches = {k: v for k, v in prefetches.items() if isinstance(v, Prefetch) and v.queryset is not None}
    plan = Plan(model, [])
    plan.entries = compile_entries(serializer, model, "", prefetches, plan, True)
    return plan


@functools.lru_cache(maxsize=512)
def _cached_plan(serializer_class, fields, expand, model, queryset_key, factory):
    serializer = serializer_class(context={"fields": set(fields) if fields else None, "expand": set(expand)})
    try:
        return plan_for(serializer, model, factory())
    except NotCompilable:
        return None


def plan_of(view) -> Plan | None:
    """The view's compiled plan for this request's `fields`/`expand`, or None (then DRF serializes)."""
    if not getattr(settings, "API_FAST_PATH", True):
        return None
    selector = type(view).selector
    fields = tuple(sorted(view.selected_fields)) if getattr(view, "selected_fields", None) else ()
    expand = tuple(sorted(getattr(view, "expand", ()) or ()))
    return _cached_plan(view.get_serializer_class(), fields, expand, view.get_queryset().model, selector, selector)

