"""A root connection answered in one go: its page read as values() and written to JSON-ready dicts,
without graphql-core resolving and completing each of its fields one by one (issue 13: R4, 100
observations with their indicator and citations, was ~2,000 field executions and ~32 ms of CPU).

`PublicConnectionField.resolve_root` asks `answer_connection` first. It compiles the selection below
the connection (collected by graphql-core's own `collect_sub_fields`: fragments, inline fragments,
aliases, @skip/@include and variables resolved as the executor resolves them) into a writer, when every
field selected is one this module knows:

- `__typename` anywhere; a connection's `nodes`, `edges { cursor node }`, `pageInfo` and `totalCount`;
- a model column with the default resolver (or a resolver declared by `column_resolver`), written by
  its GraphQL scalar's own `serialize`, as graphql-core's `complete_leaf_value` does;
- `id` (the Relay global id of the record's public key);
- a forward foreign key (`Join`), read with the row (a join of the same query);
- a nested connection over a Django relation (`PublicConnectionField(relation=...)`) below the rows of
  a connection: one query for all the rows of the page, windowed per parent as Django's Prefetch does.

It then reads the rows with the queryset, filters, order and paging of the normal path (`filtered`,
`connections.make_connection`) and returns a `Completed` value, which `FastExecutionContext` (the
view's executor) takes as the field's completed result. Anything else (a field it does not know, a
null where the schema promises a value, a value a scalar refuses) leaves the whole connection to the
normal execution, which then answers (or fails) exactly as before: the fast path answers only when
its answer is the normal one. `tests/opendata/base/graphql/test_fastpath.py` compares both byte for
byte over a matrix of queries; settings.GRAPHQL_FAST_PATH = False turns it off.
"""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import graphene
from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db.models import F, ManyToManyField, ManyToManyRel, ManyToOneRel, Window
from django.db.models.functions import RowNumber
from graphene.relay import GlobalID
from graphql import (
    ExecutionContext,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLScalarType,
    Undefined,
    get_named_type,
    is_non_null_type,
)
from graphql.execution.values import get_argument_values

from opendata.base.graphql.connections import CursorScope, PageArgs, make_connection


class Completed:
    """A field's value already completed (serialized, shaped by its selection): the executor returns it
    as it is."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


class FastExecutionContext(ExecutionContext):
    """graphql-core's executor, taking a `Completed` result as the field's completed value. Everything
    else (non-null checks, lists, objects, leaves, errors with their paths) is graphql-core's."""

    def complete_value(self, return_type, field_nodes, info, path, result):
        if type(result) is Completed:
            return result.value
        return super().complete_value(return_type, field_nodes, info, path, result)


class NotPlanned(Exception):
    """The selection has a field the fast path does not know: the normal execution answers."""


class Fallback(Exception):
    """A value the fast path would not write as the normal execution does (a null in a non-null field,
    a value a scalar refuses): the normal execution answers, with its own error."""


def column_resolver(column: str, convert: Callable[[Any], Any]):
    """A resolver writing `convert(row.<column>)`, which the fast path applies to the column's value read
    with values(). Use it instead of a `resolve_<field>` method that only converts one column."""

    def resolve(root, info):
        return convert(getattr(root, column))

    resolve.fast_column = (column, convert)
    return resolve


def enabled() -> bool:
    return getattr(settings, "GRAPHQL_FAST_PATH", True)


# -- compiling a selection ------------------------------------------------------------------------

LEAF, TYPENAME, JOIN, CONNECTION, GLOBAL_ID = range(5)
C_TYPENAME, C_TOTAL, C_NODES, C_EDGES, C_PAGE_INFO = range(5)


class Rows:
    """The rows of one connection: the values() columns its writers read and its nested connections."""

    def __init__(self, model):
        self.model = model
        self.columns: dict[str, None] = {}  # an ordered set of lookup paths
        self.nested: list[Nested] = []

    def column(self, path: str) -> str:
        self.columns[path] = None
        return path


class Nested:
    """A nested connection below the rows of a connection: its rows for all the parents in one query."""

    def __init__(self, field, args: dict, scope: CursorScope, owner_lookup: str, rows: Rows, entries: list,
                 window: tuple[int, int] | None):
        self.field, self.args, self.scope, self.owner_lookup = field, args, scope, owner_lookup
        self.rows, self.entries, self.window = rows, entries, window
        self.page = PageArgs.parse(args, scope)
        # `first` (and maybe `after`) alone, only `nodes` and `__typename` selected: a parent's page is its first
        # `first` rows as loaded (the window fetched them from `after` on), with no edge, cursor or count to make.
        self.nodes_only = (window is not None and self.page.first is not None and self.page.last is None
                           and not self.page.before and all(e[0] in (C_NODES, C_TYPENAME) for e in entries))

    def load(self, parent_ids: list) -> dict:
        """Each parent's rows (in the connection's order), windowed as the normal path's Prefetch."""
        if not parent_ids:
            return {}
        queryset = self.field.filtered(self.args).filter(**{f"{self.owner_lookup}__in": parent_ids})
        queryset = queryset.prefetch_related(None)
        if self.owner_lookup in self.rows.columns:  # a foreign key of the rows (Citation.source): read as a column
            owner, expressions = self.owner_lookup, {}
        else:  # a many-to-many (Observation.citations): the parent's id comes through the join of the filter
            owner, expressions = "_gql_owner", {"_gql_owner": F(self.owner_lookup)}
        if self.window is None:
            rows = list(queryset.values(*self.rows.columns, **expressions))
        else:
            rows = windowed(queryset, self.owner_lookup, self.window, self.rows.columns, expressions)
        load_nested(self.rows, rows)
        grouped: dict = {}
        for row in rows:
            grouped.setdefault(row[owner], []).append(row)
        return grouped


def windowed(queryset, owner_lookup: str, window: tuple[int, int], columns, expressions: dict) -> list[dict]:
    """`queryset.values(*columns, **expressions)`, each parent's rows numbered in the queryset's order and
    only those numbered in (low, high] kept, in that order per parent: what Django does for a sliced
    Prefetch (a ROW_NUMBER() window filtered in an outer query), written here as one outer SELECT around
    the values query. Django's own emulation of QUALIFY (`filter()` on a window) compiled the query twice
    (~12 % of R4's CPU in a profile). The values are converted by the compiler, as values() converts them."""
    low, high = window
    order = [expr for expr, _ in queryset.query.get_compiler(using=queryset.db).get_order_by()]
    numbered = queryset.annotate(**expressions, _gql_row=Window(RowNumber(), partition_by=F(owner_lookup),
                                                                 order_by=order))
    values = numbered.values(*columns, *expressions, "_gql_row")
    values.query.clear_ordering(force=True)  # the window orders; the outer query orders by its number
    compiler = values.query.get_compiler(using=values.db)
    sql, params = compiler.as_sql()
    quote = compiler.connection.ops.quote_name
    row = f"{quote('_gql')}.{quote('_gql_row')}"
    sql = f"SELECT * FROM ({sql}) {quote('_gql')} WHERE {row} > %s AND {row} <= %s ORDER BY {row}"
    with compiler.connection.cursor() as cursor:
        cursor.execute(sql, (*params, low, high))
        fetched = cursor.fetchall()
    query = values.query
    names = [*query.extra_select, *query.values_select, *query.annotation_select]
    return [dict(zip(names, converted)) for converted in compiler.results_iter(results=[fetched])]


def sub_fields(info, gql_type, nodes):
    from opendata.base.graphql.fields import sub_fields as collect

    return collect(info, gql_type, nodes)


def compile_connection(info: GraphQLResolveInfo, connection: GraphQLObjectType, field_nodes, rows: Rows) -> list:
    edge = get_named_type(connection.fields["edges"].type)
    node_type = get_named_type(edge.fields["node"].type)
    page_info_type = get_named_type(connection.fields["pageInfo"].type)
    entries = []
    for key, nodes in sub_fields(info, connection, field_nodes).items():
        name = nodes[0].name.value
        if name == "__typename":
            entries.append((C_TYPENAME, key, connection.name))
        elif name == "totalCount":
            entries.append((C_TOTAL, key))
        elif name == "nodes":
            entries.append((C_NODES, key, compile_object(info, node_type, nodes, rows, "", top=True)))
        elif name == "edges":
            edge_entries = []
            for edge_key, edge_nodes in sub_fields(info, edge, nodes).items():
                edge_name = edge_nodes[0].name.value
                if edge_name == "__typename":
                    edge_entries.append((TYPENAME, edge_key, edge.name))
                elif edge_name == "cursor":
                    edge_entries.append((LEAF, edge_key, None))
                elif edge_name == "node":
                    edge_entries.append((JOIN, edge_key, compile_object(info, node_type, edge_nodes, rows, "",
                                                                        top=True)))
                else:
                    raise NotPlanned(edge_name)
            entries.append((C_EDGES, key, edge_entries))
        elif name == "pageInfo":
            page_entries = []
            for page_key, page_nodes in sub_fields(info, page_info_type, nodes).items():
                page_name = page_nodes[0].name.value
                if page_name == "__typename":
                    page_entries.append((page_key, None))
                elif page_name in PAGE_INFO:
                    page_entries.append((page_key, PAGE_INFO[page_name]))
                else:
                    raise NotPlanned(page_name)
            entries.append((C_PAGE_INFO, key, page_entries, page_info_type.name))
        else:
            raise NotPlanned(name)
    return entries


PAGE_INFO = {"hasNextPage": "has_next_page", "hasPreviousPage": "has_previous_page", "startCursor": "start_cursor",
             "endCursor": "end_cursor"}


def compile_object(info: GraphQLResolveInfo, gql_type: GraphQLObjectType, field_nodes, rows: Rows, prefix: str,
                   *, top: bool) -> list:
    """The writer of the records of `gql_type` selected by `field_nodes`, reading the row's columns under
    `prefix` (`indicator__` for a joined indicator)."""
    from opendata.base.graphql.fields import Join, PublicConnectionField, PublicObjectType, graphql_fields

    graphene_type = getattr(gql_type, "graphene_type", None)
    if not (isinstance(graphene_type, type) and issubclass(graphene_type, PublicObjectType)):
        raise NotPlanned(gql_type.name)
    model = graphene_type._meta.model
    if graphene_type._meta.default_resolver is not None:
        raise NotPlanned(gql_type.name)
    fields = graphql_fields(graphene_type)
    entries = []
    for key, nodes in sub_fields(info, gql_type, field_nodes).items():
        name = nodes[0].name.value
        if name == "__typename":
            entries.append((TYPENAME, key, gql_type.name))
            continue
        attr, graphene_field = fields[name]
        definition = gql_type.fields[name]
        nonnull = is_non_null_type(definition.type)
        if name == "id":
            if not (type(graphene_field) is GlobalID and graphene_type.resolve_id is PublicObjectType.resolve_id):
                raise NotPlanned(name)
            column = rows.column(prefix + graphene_type.public_key)
            entries.append((GLOBAL_ID, key, column, graphene_field.node, gql_type.name, definition.type.of_type
                            if nonnull else definition.type))
        elif type(graphene_field) is Join:
            try:
                relation = model._meta.get_field(attr)
            except FieldDoesNotExist:
                raise NotPlanned(name) from None
            if not (relation.many_to_one and relation.concrete):
                raise NotPlanned(name)
            column = rows.column(prefix + attr)  # the foreign key: null means no related record
            target = get_named_type(definition.type)
            entries.append((JOIN, key, compile_object(info, target, nodes, rows, f"{prefix}{attr}__", top=False),
                            column, nonnull))
        elif type(graphene_field) is PublicConnectionField and graphene_field.relation and top:
            entries.append((CONNECTION, key, compile_nested(info, gql_type, model, graphene_field, definition, nodes,
                                                            rows)))
        elif type(graphene_field) is graphene.Field and graphene_field.resolver is None and not definition.args:
            resolver = getattr(graphene_type, f"resolve_{attr}", None)
            column, convert = attr, None
            if resolver is not None:
                column, convert = getattr(resolver, "fast_column", (None, None))
                if column is None:
                    raise NotPlanned(name)
            try:
                model_field = model._meta.get_field(column)
            except FieldDoesNotExist:  # computed (Citation.end)
                raise NotPlanned(name) from None
            scalar = definition.type.of_type if nonnull else definition.type
            if model_field not in model._meta.concrete_fields or model_field.is_relation or \
                    not isinstance(scalar, GraphQLScalarType):
                raise NotPlanned(name)
            entries.append((LEAF, key, rows.column(prefix + column), convert, scalar.serialize, nonnull))
        else:
            raise NotPlanned(name)
    return entries


def compile_nested(info, parent: GraphQLObjectType, model, field, definition, nodes, rows: Rows) -> Nested:
    relation = model._meta.get_field(field.relation)
    if isinstance(relation, ManyToOneRel) and not isinstance(relation, ManyToManyRel):
        owner_lookup = relation.field.name  # a reverse foreign key: Indicator.observations -> "indicator"
        child_columns = (owner_lookup,)
    elif isinstance(relation, ManyToManyField):
        owner_lookup = relation.related_query_name()  # Observation.citations -> "observations"
        child_columns = ()
    else:
        raise NotPlanned(field.relation)
    rows.column("pk")
    args = get_argument_values(definition, nodes[0], info.variable_values)
    connection = get_named_type(definition.type)
    child = Rows(relation.related_model)
    for column in child_columns:
        child.column(column)
    entries = compile_connection(info, connection, nodes, child)
    scope = field.cursor_scope(parent.name, nodes[0].name.value, args)
    wants_total = any(entry[0] == C_TOTAL for entry in entries)
    return Nested(field, args, scope, owner_lookup, child, entries, field.window(args, wants_total, scope))


# -- running it -----------------------------------------------------------------------------------

def load_nested(rows: Rows, page: list[dict]) -> None:
    """Each nested connection's rows, by parent, stored on the page's rows (one query per connection)."""
    if not rows.nested or not page:
        return
    ids = [row["pk"] for row in page]
    for nested in rows.nested:
        loaded = nested.load(ids)
        for row in page:
            row[nested] = loaded.get(row["pk"], ())


def register_nested(rows: Rows, entries: list) -> None:
    """Collect the nested connections of a connection's writers into `rows.nested` (once each)."""
    for entry in entries:
        kind = entry[0]
        if kind == C_NODES:
            _register_object(rows, entry[2])
        elif kind == C_EDGES:
            for edge_entry in entry[2]:
                if edge_entry[0] == JOIN:
                    _register_object(rows, edge_entry[2])


def _register_object(rows: Rows, entries: list) -> None:
    for entry in entries:
        if entry[0] == CONNECTION:
            nested = entry[2]
            rows.nested.append(nested)
            register_nested(nested.rows, nested.entries)


def write_connection(entries: list, connection) -> dict:
    out = {}
    edges = connection.edges
    for entry in entries:
        kind, key = entry[0], entry[1]
        if kind == C_TYPENAME:
            out[key] = entry[2]
        elif kind == C_TOTAL:
            out[key] = connection.count()
        elif kind == C_NODES:
            object_entries = entry[2]
            out[key] = [write_object(object_entries, edge.node) for edge in edges]
        elif kind == C_EDGES:
            written = []
            for edge in edges:
                item = {}
                for edge_entry in entry[2]:
                    edge_kind, edge_key = edge_entry[0], edge_entry[1]
                    if edge_kind == TYPENAME:
                        item[edge_key] = edge_entry[2]
                    elif edge_kind == LEAF:
                        item[edge_key] = edge.cursor
                    else:
                        item[edge_key] = write_object(edge_entry[2], edge.node)
                written.append(item)
            out[key] = written
        else:  # pageInfo
            page_info = connection.page_info
            out[key] = {page_key: getattr(page_info, attr) if attr else entry[3] for page_key, attr in entry[2]}
    return out


def write_object(entries: list, row: dict) -> dict:
    out = {}
    for entry in entries:
        kind, key = entry[0], entry[1]
        if kind == LEAF:
            value = row[entry[2]]
            convert = entry[3]
            if convert is not None:
                try:
                    value = convert(value)
                except Exception:  # noqa: BLE001 - the normal execution reports it
                    raise Fallback(key) from None
            if value is None:
                if entry[5]:
                    raise Fallback(key)
                out[key] = None
                continue
            try:
                serialized = entry[4](value)
            except Exception:  # noqa: BLE001 - the normal execution reports it
                raise Fallback(key) from None
            if serialized is None or serialized is Undefined:
                raise Fallback(key)
            out[key] = serialized
        elif kind == JOIN:
            if row[entry[3]] is None:
                if entry[4]:
                    raise Fallback(key)
                out[key] = None
            else:
                out[key] = write_object(entry[2], row)
        elif kind == CONNECTION:
            nested = entry[2]
            rows = row[nested]
            if nested.nodes_only:
                page = rows[:nested.page.first]
                out[key] = {e[1]: [write_object(e[2], r) for r in page] if e[0] == C_NODES else e[2]
                            for e in nested.entries}
            else:
                out[key] = write_connection(nested.entries, page_of(nested, rows))
        elif kind == TYPENAME:
            out[key] = entry[2]
        else:  # GLOBAL_ID
            value = row[entry[2]]
            if value is None:
                raise Fallback(key)
            out[key] = entry[5].serialize(entry[3].to_global_id(entry[4], str(value)))
    return out


def page_of(nested: Nested, rows):
    """A parent's page of a nested connection, as `PublicConnectionField.resolve_nested` pages it."""
    start = nested.window[0] if nested.window else 0
    return make_connection(SimpleNamespace, nested.args, scope=nested.scope, page=nested.page,
                           fetch=lambda lo, hi: rows[lo - start:hi - start], count=lambda: len(rows))


def answer_connection(field, info: GraphQLResolveInfo, args: dict) -> Completed | None:
    """The root connection `field` answered by the fast path, or None when the normal execution must."""
    if not enabled():
        return None
    definition = info.parent_type.fields[info.field_name]
    connection = get_named_type(definition.type)
    node_type = get_named_type(get_named_type(connection.fields["edges"].type).fields["node"].type)
    rows = Rows(getattr(getattr(node_type, "graphene_type", None), "_meta", SimpleNamespace(model=None)).model)
    try:
        entries = compile_connection(info, connection, info.field_nodes, rows)
    except NotPlanned:
        return None
    register_nested(rows, entries)
    queryset = field.filtered(args, info.context)
    columns = list(rows.columns)

    def fetch(lo: int, hi: int) -> list[dict]:
        page = list(queryset[lo:hi].prefetch_related(None).values(*columns))
        load_nested(rows, page)
        return page

    try:
        page = make_connection(SimpleNamespace, args, scope=field.cursor_scope(info.parent_type.name, info.field_name,
                                                                                  args),
                               fetch=fetch, count=queryset.count)
        return Completed(write_connection(entries, page))
    except Fallback:
        return None
