"""The building blocks of every app's GraphQL types: a Relay type keyed by public identifier, and
fields that plan their own loading (see planner.py): joins, prefetched lists and connections
filtered through the same FilterSets as REST.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import groupby

import django_filters
import graphene
from django.core.exceptions import ValidationError
from django.db.models import Model, QuerySet, prefetch_related_objects
from graphene.types.argument import to_arguments
from graphene.types.utils import get_type
from graphene.utils.str_converters import to_camel_case
from graphene_django import DjangoObjectType
from graphene_django.filter import DjangoFilterConnectionField
from graphql import GraphQLError, get_named_type
from graphql.execution.values import get_argument_values

from opendata.base.filters import CitesSource, CodeListFilter, InvalidSort, Sorting, StrictBooleanFilter
from opendata.base.graphql import scalars  # noqa: F401 - registers the DateTime of every model field
from opendata.base.graphql.connections import CountableConnection, PageArgs, make_connection
from opendata.base.graphql.planner import (
    ListPlan,
    Plan,
    build_plan,
    complete,
    connection_rows,
    fetch_planned,
    plan_key,
    prefetch,
    shape,
    sub_fields,
)
from opendata.base.links import links_to


class PublicObjectType(DjangoObjectType):
    """A public record as a Relay node whose global id wraps its public identifier (code, slug or
    uid), not its database id: ids stay valid when the database is rebuilt from the fixtures."""

    class Meta:
        abstract = True

    public_key: str = "code"
    deferred_fields: tuple[str, ...] = ()  # columns fetched only when selected (a source's text)

    @classmethod
    def __init_subclass_with_meta__(cls, **options):
        # The lists other apps link to this record (opendata.base.links), as fields of its own.
        for link in links_to(options.get("model")):
            setattr(cls, link.name, link.graphql_field())
        options.setdefault("interfaces", (graphene.relay.Node,))
        options.setdefault("connection_class", CountableConnection)
        options.setdefault("convert_choices_to_enum", False)  # the same strings as REST: "actual", not ACTUAL
        super().__init_subclass_with_meta__(**options)

    @classmethod
    def rows(cls) -> QuerySet:
        """All rows of the type, shaped by the app's selector (live or not: callers decide)."""
        raise NotImplementedError

    @staticmethod
    def resolve_id(root, info):
        return str(getattr(root, info.parent_type.graphene_type.public_key))

    @classmethod
    def get_by_key(cls, info, value) -> Model | None:
        """The live record with this public identifier, with everything the query selects below it."""
        plan = build_plan(info, info.schema.get_type(cls._meta.name), info.field_nodes)
        try:
            queryset = cls.rows().alive().filter(**{cls.public_key: value})
            rows = fetch_planned(shape(queryset, plan)[:1], plan)
        except (ValidationError, ValueError):
            return None  # not a valid identifier (a uid that is not a UUID): no such record
        return rows[0] if rows else None

    @classmethod
    def get_node(cls, info, id):
        return cls.get_by_key(info, id)


def lookup_field(type_, argument: str, description: str) -> graphene.Field:
    """A root field returning one live record by its public identifier (null when there is none)."""

    def resolve(root, info, **kwargs):
        return field.type.get_by_key(info, kwargs[argument])

    field = graphene.Field(type_, description=description, resolver=resolve,
                           **{argument: graphene.String(required=True)})
    return field


class Join(graphene.Field):
    """A foreign key: the related row comes from select_related, never from a query per row."""

    def add_to_plan(self, plan, *, attr, info, definition, nodes):
        child = build_plan(info, get_named_type(definition.type), nodes)
        plan.joins[attr] = plan.joins[attr].merge(child) if attr in plan.joins else child


def _load_alone(field, root, info) -> None:
    """Load a nested list for one parent that was fetched outside a plan (a safety net: every
    resolver of this schema fetches through a plan)."""
    plan = Plan()
    field.add_to_plan(plan, attr=info.field_name, info=info, definition=info.parent_type.fields[info.field_name],
                      nodes=info.field_nodes)
    for list_plan in plan.lists.values():
        prefetch_related_objects([root], field.prefetch(list_plan, ""))
    complete([root], plan)


class RelatedList(graphene.Field):
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

    def add_to_plan(self, plan, *, attr, info, definition, nodes):
        item_type = get_named_type(definition.type)
        if self.item_fields:
            row_nodes = [node for sub in sub_fields(info, item_type, nodes).values()
                         if sub[0].name.value in self.item_fields for node in sub]
            child = build_plan(info, info.schema.get_type(get_type(self.rows_type)._meta.name), row_nodes)
        else:
            child = build_plan(info, item_type, nodes)
        key = plan_key(nodes)
        plan.lists[key] = ListPlan(field=self, key=key, args={}, child=child)

    def prefetch(self, list_plan, prefix):
        return prefetch(list_plan, prefix + self.relation, shape(self.queryset(), list_plan.child))

    def resolve(self, root, info, **_args):
        key = plan_key(info.field_nodes)
        if not hasattr(root, key):
            _load_alone(self, root, info)
        rows = getattr(root, key)
        return self.transform(rows) if self.transform else rows


def filter_argument(name: str, filter_: django_filters.Filter) -> graphene.Argument:
    """The GraphQL argument of a FilterSet filter. Values reach the FilterSet as REST's query string
    would carry them, so that validation and meaning are the FilterSet's alone."""
    description = filter_.extra.get("help_text") or None
    if isinstance(filter_, CodeListFilter):
        return graphene.Argument(graphene.List(graphene.NonNull(graphene.String)), description=description)
    if isinstance(filter_, StrictBooleanFilter):
        return graphene.Argument(graphene.Boolean, description=description)
    if isinstance(filter_, django_filters.NumberFilter):
        return graphene.Argument(graphene.Int, description=description)
    return graphene.Argument(graphene.String, description=description)


def filter_data(filterset_class, args: dict) -> dict[str, str]:
    data = {}
    for name in filterset_class.base_filters:
        value = args.get(name)
        if value is None:
            continue
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, (list, tuple)):
            value = ",".join(value)
        data[name] = str(value)
    return data


def filter_errors(form_errors) -> str:
    return " ".join(f"{to_camel_case(name)}: {' '.join(messages)}" for name, messages in form_errors.items())


class PublicConnectionField(DjangoFilterConnectionField):
    """A connection filtered by an app's FilterSet (the one REST uses) and ordered by `orderBy`.

    At the root it pages a queryset; nested (with `relation`, a Django relation of the parent, or
    `batch`, a loader of rows for many parents) it pages the rows its plan prefetched for the parent.
    Unlike DjangoFilterConnectionField's own resolver, it counts only for `totalCount`, turns an
    invalid filter into a GraphQL error naming the argument, and has no `offset` argument.
    """

    def __init__(self, type_, *, filterset_class=None, queryset: Callable[[], QuerySet], sorting: Sorting | None = None,
                 default_ordering: tuple[str, ...] = (), relation: str | None = None, batch=None, **kwargs):
        # How the rows sort: the FilterSet's declaration (or `sorting` for rows without one), with
        # `default_ordering` as this connection's natural order where it differs.
        sorting = sorting or filterset_class.sorting
        self.sorting = sorting.with_default(*default_ordering) if default_ordering else sorting
        self.queryset = queryset
        self.relation, self.batch = relation, batch
        kwargs.setdefault("required", True)
        super().__init__(type_, filterset_class=filterset_class, **kwargs)

    # Arguments: pagination (without graphene-django's `offset`), orderBy, then one per filter.
    @property
    def args(self):
        base = {k: v for k, v in (self._base_args or {}).items() if k != "offset"}
        base["order_by"] = graphene.Argument(graphene.List(graphene.NonNull(graphene.String)),
                                             description=self.sorting.describe())
        return to_arguments(base, self.filtering_args)

    @args.setter
    def args(self, args):
        self._base_args = args

    @property
    def filterset_class(self):
        return self._provided_filterset_class

    @property
    def filtering_args(self):
        if self._filtering_args is None:
            fs = self.filterset_class
            self._filtering_args = {name: filter_argument(name, f) for name, f in fs.base_filters.items()} if fs else {}
        return self._filtering_args

    @property
    def nested(self) -> bool:
        return self.relation is not None or self.batch is not None

    def wrap_resolve(self, parent_resolver):
        return self.resolve_nested if self.nested else self.resolve_root

    # --- querysets -------------------------------------------------------------------------------
    def ordering(self, args: dict) -> list:
        try:
            _, keys = self.sorting.parse(args.get("order_by"))
        except InvalidSort as exc:
            raise GraphQLError(f"orderBy: {exc}", extensions={"code": "INVALID_ARGUMENT", "argument": "orderBy"}) from None
        return [k.order_expr() for k in keys]

    def filtered(self, args: dict, request=None) -> QuerySet:
        """The rows the arguments select, ordered (not yet shaped for a selection)."""
        queryset = self.queryset()
        if self.filterset_class is not None:
            filterset = self.filterset_class(data=filter_data(self.filterset_class, args), queryset=queryset,
                                             request=request)
            if not filterset.is_valid():
                raise GraphQLError(f"Invalid filter: {filter_errors(filterset.errors)}", extensions={
                    "code": "INVALID_FILTER",
                    "arguments": {to_camel_case(k): v for k, v in filterset.errors.items()},
                })
            queryset = filterset.qs
        else:
            queryset = queryset.alive()
        return queryset.order_by(*self.ordering(args))

    # --- root --------------------------------------------------------------------------------------
    def resolve_root(self, root, info, **args):
        node_type, row_nodes, _ = connection_rows(info, info.parent_type.fields[info.field_name], info.field_nodes)
        plan = build_plan(info, node_type, row_nodes)
        queryset = shape(self.filtered(args, info.context), plan)
        return make_connection(self.connection_type, args,
                               fetch=lambda lo, hi: fetch_planned(queryset[lo:hi], plan), count=queryset.count)

    # --- nested ------------------------------------------------------------------------------------
    def add_to_plan(self, plan, *, attr, info, definition, nodes):
        node_type, row_nodes, wants_total = connection_rows(info, definition, nodes)
        key = plan_key(nodes)
        list_plan = ListPlan(field=self, key=key, args=get_argument_values(definition, nodes[0], info.variable_values),
                             child=build_plan(info, node_type, row_nodes), wants_total=wants_total,
                             batch=self.batch is not None)
        (plan.batches if self.batch is not None else plan.lists)[key] = list_plan

    def window(self, args: dict, wants_total: bool) -> tuple[int, int] | None:
        """The rows to fetch per parent, or None for all of them (to count, or to find the end)."""
        return None if wants_total or self.batch is not None else PageArgs.parse(args).fetch_range()

    def prefetch(self, list_plan: ListPlan, prefix: str):
        queryset = shape(self.filtered(list_plan.args), list_plan.child)
        window = self.window(list_plan.args, list_plan.wants_total)
        if window is not None:
            queryset = queryset[window[0]:window[1]]  # Django limits each parent's rows with a window function
        return prefetch(list_plan, prefix + self.relation, queryset)

    def load_batch(self, parents: list[Model], list_plan: ListPlan) -> dict:
        queryset = shape(self.filtered(list_plan.args), list_plan.child)
        return self.batch(parents, queryset)

    def resolve_nested(self, root, info, **args):
        key = plan_key(info.field_nodes)
        if not hasattr(root, key):  # loaded outside a plan (never in this schema): load for this row alone
            _load_alone(self, root, info)
        rows = getattr(root, key)
        _, _, wants_total = connection_rows(info, info.parent_type.fields[info.field_name], info.field_nodes)
        window = self.window(args, wants_total)
        start = window[0] if window else 0
        return make_connection(self.connection_type, args, fetch=lambda lo, hi: rows[lo - start:hi - start],
                               count=lambda: len(rows))


def citing(cites: CitesSource):
    """A batch loader of the facts (observations, statements, events) citing each source, by the one
    rule of "cites this source" (opendata.base.filters.CitesSource): one query for all the sources of
    a page, rows in the connection's order."""

    def load(parents: list[Model], queryset: QuerySet) -> dict:
        rows = cites.per_source(queryset, [p.pk for p in parents])
        return {pk: list(group) for pk, group in groupby(sorted(rows, key=_source_id), key=_source_id)}

    return load


def _source_id(row):
    return row._source_id  # sorted() is stable: each source's rows keep the queryset's order
