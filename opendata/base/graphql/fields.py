"""The fields of every app's GraphQL types, and how they load a query's records in a number of SQL
queries that depends on the query's shape, never on the number of records it returns.

graphene 3 has no promise DataLoaders. Instead, the field that starts a request plans it, and the
fields below only read what was loaded. One request, top-down, e.g.
`{ indicators(first: 10) { nodes { code unit { symbol } observations(first: 3) { nodes { uid } } } } }`:

1. `PublicConnectionField.resolve_root` (or `PublicObjectType.get_by_key` for `indicator(code:)` and
   `node(id:)`) takes the rows from the app's selector, filtered and ordered by the app's FilterSet.
2. `plan_rows` reads the selection below (fragments, aliases, @skip/@include resolved by graphql-core)
   and returns a `Plan`: the columns the selection reads, and what each selected `Planned` field adds
   (`Join.add_to_plan`: a select_related and the plan of the joined row; `RelatedList.add_to_plan`
   and a nested `PublicConnectionField.add_to_plan`: a `PrefetchedList` or a `BatchedList`, whose
   queryset is built, filtered and planned the same way for the rows below).
3. `Plan.shape` adds the plan to the selector's queryset, which keeps its joins and its column
   choices (only/defer): the plan only adds what the selection needs beyond them (its columns, its
   deeper joins, one Prefetch per nested list into an attribute of its own) and drops the selector's
   prefetches, which no GraphQL field reads. `Plan.fetch` runs it, then loads each batch (one query
   for all the parents: the facts citing a page of sources).
4. The nested fields' resolvers read the rows their plan stored on each parent (`rows_of`), and
   `connections.make_connection` pages them.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from itertools import groupby
from typing import Any

import django_filters
import graphene
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models
from django.db.models import ManyToOneRel, Model, Prefetch, QuerySet, prefetch_related_objects
from graphene.types.utils import get_type
from graphene.utils.str_converters import to_camel_case
from graphene_django import DjangoObjectType
from graphql import GraphQLError, GraphQLField, GraphQLObjectType, GraphQLResolveInfo, get_named_type
from graphql.execution.collect_fields import collect_sub_fields
from graphql.execution.values import get_argument_values
from graphql.language import FieldNode

from opendata.base.filters import (
    CitesSource,
    CodeListFilter,
    InvalidSort,
    PeriodBoundFilter,
    Sorting,
    StrictBooleanFilter,
    StrictChoiceFilter,
    StrictIntegerFilter,
    UTCDateTimeFilter,
)
from opendata.base.graphql.connections import CountableConnection, CursorScope, PageArgs, make_connection
from opendata.base.graphql.scalars import Code, Period, UTCDateTime, choice_enum
from opendata.base.links import links_to

# -- the interface of the fields that plan ----------------------------------------------------------

BatchLoader = Callable[[list[Model], QuerySet], dict[Any, list[Model]]]
"""Loads the rows of a batched list for many parents at once: parent pk -> rows, in queryset order."""


@dataclass
class Selected:
    """One field of a selection: where it is in the document and in the schema."""

    info: GraphQLResolveInfo
    parent: GraphQLObjectType  # the type the field is selected on
    attr: str  # the field's Python name on its graphene type
    definition: GraphQLField
    nodes: list[FieldNode]  # the field nodes merged under one response key


class Planned(ABC):
    """A field that needs something loaded with the rows of its parent type (a join, a nested list)."""

    @abstractmethod
    def add_to_plan(self, plan: Plan, selected: Selected) -> None:
        """Add to the plan of the parent's rows what this field's selection needs."""


# -- 1. types and root fields: where a request starts ---------------------------------------------

class PublicObjectType(DjangoObjectType):
    """A public record as a Relay node whose global id wraps its public identifier (code, slug or
    uid), not its database id: ids stay valid when the database is rebuilt from the fixtures."""

    class Meta:
        abstract = True

    public_key: str  # the model's `public_key`, set when the type is created

    @classmethod
    def __init_subclass_with_meta__(cls, **options):
        if options.get("model") is not None:  # a global id wraps the record's public identifier
            cls.public_key = options["model"].public_key
        # The lists other apps link to this record (opendata.base.links), as fields of its own.
        for link in links_to(options.get("model")):
            setattr(cls, link.name, link.graphql_field())
        options.setdefault("interfaces", (graphene.relay.Node,))
        options.setdefault("connection_class", CountableConnection)
        options.setdefault("convert_choices_to_enum", False)  # the same strings as REST: "actual", not ACTUAL
        super().__init_subclass_with_meta__(**options)

    @classmethod
    def rows(cls) -> QuerySet:
        """All rows of the type, from the app's selector (live or not: callers decide)."""
        raise NotImplementedError

    @staticmethod
    def resolve_id(root, info):
        return str(getattr(root, info.parent_type.graphene_type.public_key))

    @classmethod
    def get_by_key(cls, info, value) -> Model | None:
        """The live record with this public identifier, with everything the query selects below it."""
        plan = plan_rows(info, info.schema.get_type(cls._meta.name), info.field_nodes)
        try:
            rows = plan.fetch(plan.shape(cls.rows().alive().filter(**{cls.public_key: value}))[:1])
        except (ValidationError, ValueError):
            return None  # not a valid identifier (a uid that is not a UUID): no such record
        return rows[0] if rows else None

    @classmethod
    def get_node(cls, info, id):
        return cls.get_by_key(info, id)


def lookup_field(type_, argument: str, description: str) -> graphene.Field:
    """A root field returning one live record by its public identifier (null when there is none),
    typed as the identifier's model field: a slug is a `Code`, a uid a `UUID`, anything else a
    `String` (a unit's symbol as written)."""
    model_field = type_._meta.model._meta.get_field(argument)
    scalar = {models.SlugField: Code, models.UUIDField: graphene.UUID}.get(type(model_field), graphene.String)

    def resolve(root, info, **kwargs):
        return field.type.get_by_key(info, kwargs[argument])

    field = graphene.Field(type_, description=description, resolver=resolve, **{argument: scalar(required=True)})
    return field


class PublicConnectionField(Planned, graphene.Field):
    """A connection filtered by an app's FilterSet (the one REST uses) and ordered by `orderBy`.

    At the root it pages a queryset; nested (with `relation`, a Django relation of the parent, or
    `batch`, a loader of rows for many parents) it pages the rows its plan loaded for the parent.
    It counts only for `totalCount`, turns an invalid filter into a GraphQL error naming the
    argument, and has no `offset` argument.
    """

    def __init__(self, type_, *, filterset_class=None, queryset: Callable[[], QuerySet], sorting: Sorting | None = None,
                 default_ordering: tuple[str, ...] = (), relation: str | None = None, batch: BatchLoader | None = None,
                 **kwargs):
        # How the rows sort: the FilterSet's declaration (or `sorting` for rows without one), with
        # `default_ordering` as this connection's natural order where it differs.
        sorting = sorting or filterset_class.sorting
        self.sorting = sorting.with_default(*default_ordering) if default_ordering else sorting
        self.filterset_class, self.queryset = filterset_class, queryset
        self.relation, self.batch = relation, batch
        self.node_type = type_  # a type or its import path: resolved once the schema is built
        kwargs.setdefault("required", True)
        super().__init__(lambda: self.connection_type, args=self.arguments(), **kwargs)

    def arguments(self) -> dict[str, graphene.Argument]:
        """Pagination (Relay's, without `offset`), orderBy, then one argument per filter."""
        arguments = {
            "before": graphene.Argument(graphene.String),
            "after": graphene.Argument(graphene.String),
            "first": graphene.Argument(graphene.Int),
            "last": graphene.Argument(graphene.Int),
            "order_by": graphene.Argument(graphene.List(graphene.NonNull(graphene.String)),
                                          description=self.sorting.describe()),
        }
        if self.filterset_class is not None:
            arguments.update({name: filter_argument(name, filter_)
                              for name, filter_ in self.filterset_class.base_filters.items()})
        return arguments

    @property
    def connection_type(self) -> type[CountableConnection]:
        return get_type(self.node_type)._meta.connection  # made by DjangoObjectType from connection_class

    @property
    def nested(self) -> bool:
        return self.relation is not None or self.batch is not None

    def wrap_resolve(self, parent_resolver):
        return self.resolve_nested if self.nested else self.resolve_root

    # --- the arguments -------------------------------------------------------------------------------
    def sort(self, args: dict) -> tuple[str, list]:
        """The canonical ordering text and the sort keys of `orderBy`."""
        try:
            return self.sorting.parse(args.get("order_by"))
        except InvalidSort as exc:
            raise GraphQLError(f"orderBy: {exc}", extensions={"code": "INVALID_ARGUMENT", "argument": "orderBy"}) from None

    def cursor_scope(self, parent_type: str, field_name: str, args: dict) -> CursorScope:
        """What this connection's cursors are bound to, where it is selected (`Indicator.observations`)."""
        return CursorScope(f"{parent_type}.{field_name}", self.sort(args)[0])

    def filterset(self, args: dict, queryset: QuerySet | None = None, request=None):
        """The FilterSet of the arguments, validated: an invalid one is an INVALID_FILTER error."""
        data = filter_data(self.filterset_class, args)
        filterset = self.filterset_class(data=data, queryset=queryset, request=request)
        filterset._form = validated_form(self.filterset_class, tuple(data.items()))  # django-filter's cached form
        if not filterset.is_valid():
            raise GraphQLError(f"Invalid filter: {filter_errors(filterset.errors)}", extensions={
                "code": "INVALID_FILTER",
                "arguments": {to_camel_case(k): v for k, v in filterset.errors.items()},
            })
        return filterset

    def check_arguments(self, args: dict, parent_type: str, field_name: str) -> None:
        """Everything the arguments can be wrong about, checked before anything runs (the validation
        rule of opendata.base.graphql.arguments calls it with the request's values): an empty list,
        `orderBy`, the cursors and page sizes, the filters. Raises the GraphQLError to report."""
        for name, value in args.items():
            if isinstance(value, list) and not value:
                raise GraphQLError(f"Invalid filter: {to_camel_case(name)}: empty; give at least one value, or leave "
                                   "the argument out.", extensions={"code": "INVALID_FILTER", "arguments": {
                                       to_camel_case(name): ["Empty; give at least one value."]}})
        PageArgs.parse(args, self.cursor_scope(parent_type, field_name, args))
        if self.filterset_class is not None:
            self.filterset(args)  # its model's manager's queryset: no selector runs, no SQL either

    # --- the rows ------------------------------------------------------------------------------------
    def filtered(self, args: dict, request=None) -> QuerySet:
        """The selector's rows the arguments select, ordered (not yet shaped for a selection)."""
        queryset = self.queryset()
        if self.filterset_class is not None:
            queryset = self.filterset(args, queryset, request).qs
        else:
            queryset = queryset.alive()
        return queryset.order_by(*[k.order_expr() for k in self.sort(args)[1]])

    # --- root --------------------------------------------------------------------------------------
    def resolve_root(self, root, info, **args):
        from opendata.base.graphql.fastpath import answer_connection

        if (answered := answer_connection(self, info, args)) is not None:  # the page in one go, when it can
            return answered
        node_type, row_nodes, _ = connection_rows(info, info.parent_type.fields[info.field_name], info.field_nodes)
        plan = plan_rows(info, node_type, row_nodes)
        queryset = plan.shape(self.filtered(args, info.context))
        return make_connection(self.connection_type, args, scope=self.cursor_scope(info.parent_type.name,
                                                                                    info.field_name, args),
                               fetch=lambda lo, hi: plan.fetch(queryset[lo:hi]), count=queryset.count)

    # --- nested ------------------------------------------------------------------------------------
    def window(self, args: dict, wants_total: bool, scope: CursorScope) -> tuple[int, int] | None:
        """The rows to fetch per parent, or None for all of them (to count, or to find the end)."""
        return None if wants_total or self.batch is not None else PageArgs.parse(args, scope).fetch_range()

    def add_to_plan(self, plan: Plan, selected: Selected) -> None:
        info, nodes = selected.info, selected.nodes
        node_type, row_nodes, wants_total = connection_rows(info, selected.definition, nodes)
        args = get_argument_values(selected.definition, nodes[0], info.variable_values)
        child = plan_rows(info, node_type, row_nodes)
        key = list_key(nodes)
        if self.batch is not None:
            plan.batches[key] = BatchedList(key, child.shape(self.filtered(args)), child, load=self.batch)
            return
        child.columns |= relation_columns(plan.model, self.relation)
        queryset = child.shape(self.filtered(args))
        window = self.window(args, wants_total, self.cursor_scope(selected.parent.name, nodes[0].name.value, args))
        if window is not None:
            queryset = queryset[window[0]:window[1]]  # Django limits each parent's rows with a window function
        plan.lists[key] = PrefetchedList(key, queryset, child, relation=self.relation)

    def resolve_nested(self, root, info, **args):
        rows = rows_of(self, root, info)
        _, _, wants_total = connection_rows(info, info.parent_type.fields[info.field_name], info.field_nodes)
        scope = self.cursor_scope(info.parent_type.name, info.field_name, args)
        window = self.window(args, wants_total, scope)
        start = window[0] if window else 0
        return make_connection(self.connection_type, args, scope=scope,
                               fetch=lambda lo, hi: rows[lo - start:hi - start], count=lambda: len(rows))


# -- fields below a row: what they add to their parent's plan -------------------------------------

class Join(Planned, graphene.Field):
    """A foreign key: the related row comes from select_related, never from a query per row."""

    def add_to_plan(self, plan: Plan, selected: Selected) -> None:
        plan.join(selected.attr, plan_rows(selected.info, get_named_type(selected.definition.type), selected.nodes))


class RelatedList(Planned, graphene.Field):
    """A short list of related rows (a project's regions, a source's periods), prefetched.

    With `transform`, the rows fetched (of `rows_type`) become the items shown: `item_fields` are
    the item's fields that show rows (an indicator's targets: `target` and `result`).
    """

    def __init__(self, of_type, *, relation: str, queryset: Callable[[], QuerySet], transform=None,
                 rows_type=None, item_fields: tuple[str, ...] = (), **kwargs):
        kwargs.setdefault("required", True)
        super().__init__(graphene.List(graphene.NonNull(of_type)), **kwargs)
        self.relation, self.queryset, self.transform = relation, queryset, transform
        self.rows_type, self.item_fields = rows_type, item_fields

    def wrap_resolve(self, parent_resolver):
        return self.resolve

    def add_to_plan(self, plan: Plan, selected: Selected) -> None:
        info, nodes = selected.info, selected.nodes
        item_type = get_named_type(selected.definition.type)
        if self.item_fields:
            row_nodes = [node for sub in sub_fields(info, item_type, nodes).values()
                         if sub[0].name.value in self.item_fields for node in sub]
            child = plan_rows(info, info.schema.get_type(get_type(self.rows_type)._meta.name), row_nodes)
        else:
            child = plan_rows(info, item_type, nodes)
        child.columns |= relation_columns(plan.model, self.relation)
        key = list_key(nodes)
        plan.lists[key] = PrefetchedList(key, child.shape(self.queryset()), child, relation=self.relation)

    def resolve(self, root, info, **_args):
        rows = rows_of(self, root, info)
        return self.transform(rows) if self.transform else rows


def citing(cites: CitesSource) -> BatchLoader:
    """A batch loader of the facts (observations, statements, events) citing each source, by the one
    rule of "cites this source" (opendata.base.filters.CitesSource): one query for all the sources of
    a page, rows in the connection's order."""

    def load(parents: list[Model], queryset: QuerySet) -> dict:
        rows = cites.per_source(queryset, [p.pk for p in parents])
        return {pk: list(group) for pk, group in groupby(sorted(rows, key=_source_id), key=_source_id)}

    return load


def _source_id(row):
    return row._source_id  # sorted() is stable: each source's rows keep the queryset's order


# -- 2. reading a selection ------------------------------------------------------------------------

def plan_rows(info: GraphQLResolveInfo, gql_type: GraphQLObjectType, field_nodes: list[FieldNode]) -> Plan:
    """The plan of the rows of `gql_type` selected by `field_nodes`' selection sets."""
    graphene_type = gql_type.graphene_type
    meta = graphene_type._meta
    plan = Plan(model=getattr(meta, "model", None))
    fields = graphql_fields(graphene_type)
    for nodes in sub_fields(info, gql_type, field_nodes).values():
        name = nodes[0].name.value
        if name not in fields:
            continue  # __typename
        attr, graphene_field = fields[name]
        plan.read(getattr(graphene_type, "public_key", attr) if attr == "id" else attr)  # see resolve_id
        if isinstance(graphene_field, Planned):
            graphene_field.add_to_plan(plan, Selected(info, gql_type, attr, gql_type.fields[name], nodes))
    return plan


@cache
def graphql_fields(graphene_type) -> dict[str, tuple[str, Any]]:
    """GraphQL field name -> (Python name, graphene field) of a graphene type."""
    return {(f.name or to_camel_case(attr)): (attr, f) for attr, f in graphene_type._meta.fields.items()}


def sub_fields(info: GraphQLResolveInfo, gql_type: GraphQLObjectType, field_nodes) -> dict[str, list[FieldNode]]:
    return collect_sub_fields(info.schema, info.fragments, info.variable_values, gql_type, field_nodes)


def connection_rows(info: GraphQLResolveInfo, definition: GraphQLField,
                    nodes: list[FieldNode]) -> tuple[GraphQLObjectType, list[FieldNode], bool]:
    """Below a connection field: the node type, the field nodes selecting rows (`edges { node }` and
    `nodes`) and whether `totalCount` is selected."""
    connection = get_named_type(definition.type)
    edge = get_named_type(connection.fields["edges"].type)
    rows, wants_total = [], False
    for sub in sub_fields(info, connection, nodes).values():
        name = sub[0].name.value
        if name == "nodes":
            rows.extend(sub)
        elif name == "totalCount":
            wants_total = True
        elif name == "edges":
            for inner in sub_fields(info, edge, sub).values():
                if inner[0].name.value == "node":
                    rows.extend(inner)
    return get_named_type(edge.fields["node"].type), rows, wants_total


def list_key(field_nodes: list[FieldNode]) -> str:
    """Where a nested list is stored on its parent: unique per place in the document, so two aliases
    of one relation with different arguments never share a list."""
    node = field_nodes[0]
    name = node.alias.value if node.alias else node.name.value
    return f"_gql_{name}_{node.loc.start if node.loc else 0}"


def relation_columns(model: type[Model] | None, relation: str) -> set[str]:
    """The columns of the related rows a Prefetch of `relation` reads: the foreign key back to the
    parent, for a reverse foreign key (a many-to-many goes through its table)."""
    if model is None:
        return set()
    related = model._meta.get_field(relation)
    return {related.field.name} if isinstance(related, ManyToOneRel) else set()


# -- 3. the plan: what a selection needs loaded, added to the selector's queryset ------------------

@dataclass
class NestedList:
    """A list below each parent row, loaded for all the parents at once and stored on each parent in
    `to_attr` (unique per place in the document: two aliases never share a list)."""

    to_attr: str
    queryset: QuerySet  # the rows: filtered, ordered and shaped by `child`
    child: Plan


@dataclass
class PrefetchedList(NestedList):
    """Loaded with the parents, by a Prefetch of `relation`, a Django relation of the parent."""

    relation: str

    def prefetch(self, prefix: str = "") -> Prefetch:
        return Prefetch(prefix + self.relation, queryset=self.queryset, to_attr=self.to_attr)


@dataclass
class BatchedList(NestedList):
    """Loaded after the parents by `load`, for rows that are no Django relation of the parent."""

    load: BatchLoader

    def load_into(self, parents: list[Model]) -> list[Model]:
        """Stores each parent's rows on it; returns all the rows loaded."""
        loaded = self.load(parents, self.queryset)
        for parent in parents:
            setattr(parent, self.to_attr, loaded.get(parent.pk, []))
        return [row for rows in loaded.values() for row in rows]


@dataclass
class Plan:
    """What a selection needs from the rows of one type."""

    model: type[Model] | None
    columns: set[str] = field(default_factory=set)  # model fields the selection reads
    joins: dict[str, Plan] = field(default_factory=dict)  # forward foreign key -> plan of the joined row
    lists: dict[str, PrefetchedList] = field(default_factory=dict)  # by to_attr
    batches: dict[str, BatchedList] = field(default_factory=dict)  # by to_attr

    def read(self, attr: str) -> None:
        """The selection reads the model field `attr`, if it is one."""
        if self.model is None:
            return
        try:
            model_field = self.model._meta.get_field(attr)
        except FieldDoesNotExist:
            return  # computed from other columns (Citation.end) or not of the model
        if model_field in self.model._meta.concrete_fields:  # a column (a many-to-many is none)
            self.columns.add(model_field.name)

    def join(self, attr: str, child: Plan) -> None:
        self.joins[attr] = self.joins[attr].merge(child) if attr in self.joins else child

    def merge(self, other: Plan) -> Plan:
        self.columns |= other.columns
        for attr, child in other.joins.items():
            self.join(attr, child)
        self.lists.update(other.lists)
        self.batches.update(other.batches)
        return self

    # --- applying the plan ---------------------------------------------------------------------------
    def shape(self, queryset: QuerySet) -> QuerySet:
        """The selector's queryset with what the selection needs beyond it. Its joins and columns stay;
        its prefetches go (made for REST, they fill attributes no GraphQL field reads)."""
        queryset = with_columns(queryset.prefetch_related(None), set(self._columns("")))
        return self._add_relations(queryset, "")

    def _columns(self, prefix: str) -> Iterator[str]:
        if self.model is not None:
            yield prefix + self.model._meta.pk.name  # with only(), each row (joined ones too) needs its key
        yield from (prefix + column for column in self.columns)
        for attr, child in self.joins.items():
            yield from child._columns(f"{prefix}{attr}__")

    def _add_relations(self, queryset: QuerySet, prefix: str) -> QuerySet:
        for attr, child in self.joins.items():  # select_related adds to the selector's joins
            queryset = child._add_relations(queryset.select_related(prefix + attr), f"{prefix}{attr}__")
        return queryset.prefetch_related(*(nested.prefetch(prefix) for nested in self.lists.values()))

    def fetch(self, queryset: QuerySet) -> list[Model]:
        """The rows of a shaped queryset, with their batches loaded."""
        rows = list(queryset)
        self.complete(rows)
        return rows

    def complete(self, rows: list[Model]) -> None:
        """After the rows (and their prefetches) are fetched: load the batches, one query each, here
        and below."""
        if not rows or not self._has_batches():
            return
        for nested in self.batches.values():
            nested.child.complete(nested.load_into(rows))
        for attr, child in self.joins.items():
            child.complete([joined for row in rows if (joined := getattr(row, attr)) is not None])
        for nested in self.lists.values():
            nested.child.complete([item for row in rows for item in getattr(row, nested.to_attr, ())])

    def _has_batches(self) -> bool:
        return bool(self.batches) or any(child._has_batches() for child in self.joins.values()) or any(
            nested.child._has_batches() for nested in self.lists.values())

    def load_into(self, rows: list[Model]) -> None:
        """Load the plan's lists for rows fetched without it."""
        prefetch_related_objects(rows, *(nested.prefetch() for nested in self.lists.values()))
        self.complete(rows)


def with_columns(queryset: QuerySet, columns: set[str]) -> QuerySet:
    """The queryset also loading `columns` (lookup paths), whatever columns its selector chose: a
    deferred column is no longer deferred, and with only() the columns are added to the others.

    Django has no public way to add to only() or remove from defer(): this reads the queryset's
    choice from `query.deferred_loading` (names, whether they are deferred), as Django's own
    only()/defer() do."""
    names, deferring = queryset.query.deferred_loading
    if deferring:
        still = set(names) - columns
        if still == set(names):
            return queryset
        queryset = queryset.defer(None)
        return queryset.defer(*still) if still else queryset
    missing = columns - set(names)
    return queryset.only(*names, *missing) if names and missing else queryset


# -- 4. reading what was loaded -------------------------------------------------------------------

def rows_of(planned: Planned, root: Model, info: GraphQLResolveInfo) -> list[Model]:
    """The rows a nested list's plan stored on its parent. For a parent fetched without a plan (a
    safety net: every resolver of this schema fetches through one), they are loaded for it alone."""
    key = list_key(info.field_nodes)
    if not hasattr(root, key):
        plan = Plan(model=type(root))
        attr, _ = graphql_fields(info.parent_type.graphene_type)[info.field_name]
        planned.add_to_plan(plan, Selected(info, info.parent_type, attr, info.parent_type.fields[info.field_name],
                                           info.field_nodes))
        plan.load_into([root])
    return getattr(root, key)


# -- filter arguments ------------------------------------------------------------------------------

def filter_argument(name: str, filter_: django_filters.Filter) -> graphene.Argument:
    """The GraphQL argument of a FilterSet filter, typed so that a value of the wrong form fails
    validation: codes are `[Code!]`, choices the enum of their model choice list, periods `Period`,
    moments `DateTime`. Values reach the FilterSet as REST's query string would carry them, so that
    the rest of validation and meaning are the FilterSet's alone."""
    description = filter_.extra.get("help_text") or None
    if isinstance(filter_, CodeListFilter):
        type_ = graphene.List(graphene.NonNull(Code))
    elif isinstance(filter_, StrictChoiceFilter):
        type_ = choice_enum(filter_.choices_class)
    elif isinstance(filter_, PeriodBoundFilter):
        type_ = Period
    elif isinstance(filter_, UTCDateTimeFilter):
        type_ = UTCDateTime
    elif isinstance(filter_, StrictBooleanFilter):
        type_ = graphene.Boolean
    elif isinstance(filter_, StrictIntegerFilter):
        low, high = filter_.bounds
        type_, description = graphene.Int, f"{description} From {low} to {high}."
    elif isinstance(filter_, django_filters.NumberFilter):
        type_ = graphene.Int
    else:
        type_ = graphene.String
    return graphene.Argument(type_, description=description)


@functools.lru_cache(maxsize=16)
def validated_form(filterset_class, items: tuple[tuple[str, str], ...]):
    """The FilterSet's form of these values, validated. A request validates its filters twice, when its
    arguments are checked (before anything runs) and when its rows are read: the second time reads the
    form the first made (building and cleaning one was ~0.5 ms: Django deep-copies the form's fields).
    Validation reads only the values (no filter looks anything up), and a validated form is only read.
    Kept for the last 16 argument lists: enough for the two uses of one request, not a cache of traffic."""
    form = filterset_class(data=dict(items)).form
    form.is_valid()
    return form


def query_value(value) -> str:
    """An argument's value as REST's query string carries it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return ",".join(map(query_value, value))
    return str(value)


def filter_data(filterset_class, args: dict) -> dict[str, str]:
    return {name: query_value(args[name]) for name in filterset_class.base_filters if args.get(name) is not None}


def filter_errors(form_errors) -> str:
    return " ".join(f"{to_camel_case(name)}: {' '.join(messages)}" for name, messages in form_errors.items())
