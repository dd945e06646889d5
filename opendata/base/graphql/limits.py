"""Limits of the public GraphQL endpoint, checked on the parsed document before anything runs.

One walk of the operation (fragments expanded) computes its depth, the number of fields it selects
and its cost: an upper bound of the records it can return, each connection counting its page size
(`first`/`last`, else the default page) multiplied by the page sizes of the connections above it.
A mutation field (a write) costs MUTATION_COST, plus one per item of its list arguments (the rows
of a bulk upsert), on top of what its payload selects; a request holds at most MAX_MUTATIONS of
them, aliases included.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

import graphene
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    InlineFragmentNode,
    OperationDefinitionNode,
    Undefined,
    ValidationRule,
    get_named_type,
    value_from_ast,
)

MAX_DOCUMENT_BYTES = 16_384  # a query's text; checked before parsing
MAX_TOKENS = 4_000  # lexical tokens of a query, a second guard for the parser
MAX_DEPTH = 10  # levels of fields; the edges/node/nodes/pageInfo wrappers of connections do not count
MAX_FIELDS = 500  # fields selected, fragments expanded (aliases included); introspection is free
MAX_COST = 10_000  # records a query may return at most (see module docstring)
MAX_PAGE_SIZE = 100  # `first` and `last`: the one GraphQL page cap (connections.PageArgs checks it at run time)
DEFAULT_PAGE_SIZE = 50  # a connection asked without `first` or `last`
LIST_ESTIMATE = 10  # records assumed for a plain list (a project's regions, an indicator's targets)
MUTATION_COST = 100  # a write costs as much as a page of 100 records (one unit of the rate limit)
MAX_MUTATIONS = 10  # mutation fields in one request, aliases included


@dataclass
class QueryCost:
    """What the walk measured; the view reports `requested` in the response's extensions."""

    requested: int = 0
    depth: int = 0
    fields: int = 0
    mutations: int = 0
    errors: list[tuple[str, str, list]] = field(default_factory=list)

    def as_extension(self) -> dict:
        return {"requested": self.requested, "limit": MAX_COST}


def is_connection(type_) -> bool:
    """A Relay connection type: the GraphQL type of a graphene.relay.Connection."""
    graphene_type = getattr(type_, "graphene_type", None)
    return isinstance(graphene_type, type) and issubclass(graphene_type, graphene.relay.Connection)


@cache
def edge_types(schema) -> frozenset[type]:
    """The graphene classes of the schema's edge types: each connection's `Edge`, which graphene
    makes with the connection, from no public base class of its own."""
    return frozenset(t.graphene_type.Edge for t in schema.type_map.values() if is_connection(t))


def is_edge(type_, schema) -> bool:
    return getattr(type_, "graphene_type", None) in edge_types(schema)


def _is_list(type_) -> bool:
    if isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    return isinstance(type_, GraphQLList)


class _Walk:
    def __init__(self, schema, fragments: dict[str, FragmentDefinitionNode], variables: dict, cost: QueryCost):
        self.schema, self.fragments, self.variables, self.cost = schema, fragments, variables or {}, cost

    def selection_set(self, parent, selection_set, multiplier: int, depth: int, seen: frozenset = frozenset()):
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                self.field(parent, selection, multiplier, depth, seen)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                type_ = self.schema.get_type(condition.name.value) if condition else parent
                self.selection_set(type_ or parent, selection.selection_set, multiplier, depth, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in seen:
                    continue  # unknown or cyclic: reported by the standard rules
                type_ = self.schema.get_type(fragment.type_condition.name.value) or parent
                self.selection_set(type_, fragment.selection_set, multiplier, depth, seen | {name})

    def field(self, parent, node: FieldNode, multiplier: int, depth: int, seen: frozenset):
        name = node.name.value
        if name.startswith("__"):
            return  # __typename and introspection cost nothing
        definition = getattr(parent, "fields", {}).get(name)
        if definition is None:
            return
        self.cost.fields += 1
        if parent is self.schema.mutation_type:
            self.mutation(node, definition)
        wrapper = is_connection(parent) or is_edge(parent, self.schema)
        if not wrapper:
            depth += 1
            self.cost.depth = max(self.cost.depth, depth)
        if not node.selection_set:
            return
        type_ = get_named_type(definition.type)
        if is_connection(type_):
            count = multiplier * self.page_size(node, definition)
            self.cost.requested += count
        elif wrapper:
            count = multiplier
        elif _is_list(definition.type):
            count = multiplier * LIST_ESTIMATE
            self.cost.requested += count
        else:
            count = multiplier
            self.cost.requested += count
        self.selection_set(type_, node.selection_set, count, depth, seen)

    def mutation(self, node: FieldNode, definition) -> None:
        """A write: MUTATION_COST, and one more per item of a list argument (a bulk upsert's rows)."""
        self.cost.mutations += 1
        self.cost.requested += MUTATION_COST
        for argument in node.arguments:
            declared = definition.args.get(argument.name.value)
            if declared is not None and _is_list(declared.type):
                value = value_from_ast(argument.value, declared.type, self.variables)
                if isinstance(value, list):
                    self.cost.requested += len(value)

    def page_size(self, node: FieldNode, definition) -> int:
        sizes = {}
        for argument in node.arguments:
            name = argument.name.value
            if name in ("first", "last") and name in definition.args:
                value = value_from_ast(argument.value, definition.args[name].type, self.variables)
                if value is None or value is Undefined:  # null, or a variable the request left out
                    continue
                if not isinstance(value, int) or not 0 <= value <= MAX_PAGE_SIZE:
                    self.cost.errors.append((
                        "PAGE_SIZE_OUT_OF_RANGE",
                        f"`{name}` on `{node.name.value}` must be between 0 and {MAX_PAGE_SIZE}, got {value}. "
                        f"Page through larger collections with `after`.", [node]))
                    value = MAX_PAGE_SIZE
                sizes[name] = value
        return min(sizes.values()) if sizes else DEFAULT_PAGE_SIZE


def measure(schema, document, variables: dict | None, operation_name: str | None) -> QueryCost:
    """The cost of the operation that will run, with the limits it breaks in `errors`."""
    cost = QueryCost()
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name:
        operations = [op for op in operations if op.name and op.name.value == operation_name]
    if len(operations) != 1:
        return cost  # no operation to run: graphql reports it
    operation = operations[0]
    root = schema.get_root_type(operation.operation)
    if root is None:
        return cost
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    _Walk(schema, fragments, variables, cost).selection_set(root, operation.selection_set, 1, 0)
    if cost.depth > MAX_DEPTH:
        cost.errors.append(("QUERY_TOO_DEEP", f"The query is {cost.depth} levels deep; the limit is {MAX_DEPTH} "
                            "(edges, node and nodes do not count).", [operation]))
    if cost.fields > MAX_FIELDS:
        cost.errors.append(("TOO_MANY_FIELDS", f"The query selects {cost.fields} fields (fragments expanded, "
                            f"aliases included); the limit is {MAX_FIELDS}.", [operation]))
    if cost.mutations > MAX_MUTATIONS:
        cost.errors.append(("TOO_MANY_MUTATIONS", f"The request holds {cost.mutations} mutations (aliases included); "
                            f"the limit is {MAX_MUTATIONS}. Send them in several requests, or observations in one "
                            "bulk upsert.", [operation]))
    if cost.requested > MAX_COST:
        cost.errors.append(("QUERY_TOO_COSTLY", f"The query may return up to {cost.requested} records; the limit "
                            f"is {MAX_COST}. Ask for smaller pages with `first` or `last` (a connection without "
                            f"them counts {DEFAULT_PAGE_SIZE}), especially on nested connections.", [operation]))
    return cost


def limits_rule(variables: dict | None, operation_name: str | None, cost: QueryCost):
    """A graphql-core validation rule enforcing the limits for one request (it needs its variables);
    the measured cost is written into `cost`. Run it after the specified rules have passed."""

    class QueryLimitsRule(ValidationRule):
        def enter_document(self, node, *_args):
            measured = measure(self.context.schema, node, variables, operation_name)
            cost.requested, cost.depth, cost.fields = measured.requested, measured.depth, measured.fields
            for code, message, nodes in measured.errors:
                self.report_error(GraphQLError(message, nodes, extensions={"code": code}))
            return self.BREAK

    return QueryLimitsRule
