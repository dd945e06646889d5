"""Query plans: what a GraphQL selection needs from the database, as select_related joins, one
Prefetch per nested list and one query per batch relation, so that a query costs a number of SQL
queries that depends on its shape, never on the number of records it returns.

graphene 3 has no promise DataLoaders. Instead the resolver of a root field reads the selection
below it (fragments, aliases and @skip/@include resolved by graphql-core's own collect_sub_fields),
builds a Plan and shapes the selector's queryset with it. Nested fields then read what was
fetched: single objects from select_related, lists from the attribute their Prefetch filled.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

from django.db.models import Model, Prefetch, QuerySet
from graphene.utils.str_converters import to_camel_case
from graphql import GraphQLObjectType, GraphQLResolveInfo, get_named_type
from graphql.execution.collect_fields import collect_sub_fields


@dataclass
class ListPlan:
    """A nested list: the field that knows how to fetch it, its arguments, the plan of its rows."""

    field: Any  # a field with prefetch(plan, prefix) or load_batch(parents, plan)
    key: str  # attribute of the parent the rows are stored in
    args: dict
    child: Plan
    wants_total: bool = False
    batch: bool = False


@dataclass
class Plan:
    selected: set[str] = field(default_factory=set)  # selected Python field names (for deferred columns)
    deferrable: tuple[str, ...] = ()  # columns loaded only when selected
    joins: dict[str, Plan] = field(default_factory=dict)  # forward foreign keys -> plan of the joined row
    lists: dict[str, ListPlan] = field(default_factory=dict)  # Prefetch'ed lists, by attribute
    batches: dict[str, ListPlan] = field(default_factory=dict)  # lists loaded after the rows, by attribute

    def merge(self, other: Plan) -> Plan:
        self.selected |= other.selected
        for attr, plan in other.joins.items():
            self.joins[attr] = self.joins[attr].merge(plan) if attr in self.joins else plan
        self.lists.update(other.lists)
        self.batches.update(other.batches)
        return self

    @property
    def has_batches(self) -> bool:
        return bool(self.batches) or any(p.has_batches for p in self.joins.values()) or any(
            lp.child.has_batches for lp in self.lists.values())


def plan_key(field_nodes) -> str:
    """Where a nested list is stored on its parent: unique per place in the document, so two aliases
    of one relation with different arguments never share a list."""
    node = field_nodes[0]
    name = node.alias.value if node.alias else node.name.value
    return f"_gql_{name}_{node.loc.start if node.loc else 0}"


@cache
def graphql_fields(graphene_type) -> dict[str, tuple[str, Any]]:
    """GraphQL field name -> (Python name, graphene field) of a graphene type."""
    return {(f.name or to_camel_case(attr)): (attr, f) for attr, f in graphene_type._meta.fields.items()}


def sub_fields(info: GraphQLResolveInfo, gql_type: GraphQLObjectType, field_nodes) -> dict[str, list]:
    return collect_sub_fields(info.schema, info.fragments, info.variable_values, gql_type, field_nodes)


def build_plan(info: GraphQLResolveInfo, gql_type: GraphQLObjectType, field_nodes) -> Plan:
    """The plan of the rows of `gql_type` selected by `field_nodes`' selection sets."""
    graphene_type = gql_type.graphene_type
    plan = Plan(deferrable=tuple(getattr(graphene_type, "deferred_fields", ())))
    fields = graphql_fields(graphene_type)
    for nodes in sub_fields(info, gql_type, field_nodes).values():
        name = nodes[0].name.value
        if name not in fields:
            continue
        attr, graphene_field = fields[name]
        plan.selected.add(attr)
        add = getattr(graphene_field, "add_to_plan", None)
        if add is not None:
            add(plan, attr=attr, info=info, definition=gql_type.fields[name], nodes=nodes)
    return plan


def connection_rows(info: GraphQLResolveInfo, definition, nodes) -> tuple[GraphQLObjectType, list, bool]:
    """Below a connection field: the node type, the field nodes selecting rows (`edges { node }` and
    `nodes`) and whether `totalCount` is selected."""
    connection = get_named_type(definition.type)
    rows, wants_total = [], False
    for sub in sub_fields(info, connection, nodes).values():
        name = sub[0].name.value
        if name == "nodes":
            rows.extend(sub)
        elif name == "totalCount":
            wants_total = True
        elif name == "edges":
            edge = get_named_type(connection.fields["edges"].type)
            for inner in sub_fields(info, edge, sub).values():
                if inner[0].name.value == "node":
                    rows.extend(inner)
    node_type = get_named_type(get_named_type(connection.fields["edges"].type).fields["node"].type)
    return node_type, rows, wants_total


def shape(queryset: QuerySet, plan: Plan, prefix: str = "") -> QuerySet:
    """The queryset with the joins, deferred columns and prefetches of `plan` (recursively)."""
    if not prefix:
        # The plan decides: drop the selector's own prefetches and column choices (made for REST).
        queryset = queryset.prefetch_related(None).defer(None)
    for column in plan.deferrable:
        if column not in plan.selected:
            queryset = queryset.defer(prefix + column)
    for attr, child in plan.joins.items():
        queryset = shape(queryset.select_related(prefix + attr), child, f"{prefix}{attr}__")
    for list_plan in plan.lists.values():
        queryset = queryset.prefetch_related(list_plan.field.prefetch(list_plan, prefix))
    return queryset


def complete(rows: list[Model], plan: Plan) -> None:
    """After the rows (and their prefetches) are fetched: load the batch relations, one query each."""
    if not rows or not plan.has_batches:
        return
    for key, list_plan in plan.batches.items():
        loaded = list_plan.field.load_batch(rows, list_plan)
        for row in rows:
            setattr(row, key, loaded.get(row.pk, []))
        complete([child for children in loaded.values() for child in children], list_plan.child)
    for attr, child in plan.joins.items():
        complete([getattr(row, attr) for row in rows if getattr(row, attr) is not None], child)
    for key, list_plan in plan.lists.items():
        complete([child for row in rows for child in getattr(row, key, ())], list_plan.child)


def fetch_planned(queryset: QuerySet, plan: Plan) -> list[Model]:
    rows = list(queryset)
    complete(rows, plan)
    return rows


def prefetch(list_plan: ListPlan, lookup: str, queryset: QuerySet) -> Prefetch:
    return Prefetch(lookup, queryset=queryset, to_attr=list_plan.key)
