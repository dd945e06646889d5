"""Limits of the public GraphQL endpoint, checked on the parsed document before anything runs.

One walk of the operation measures its depth, the number of fields it selects and its cost, and
stops at the first limit passed. Each fragment is measured once, however often it is spread (its
measure is kept by name and scaled by the page sizes above each spread), so the walk is linear in
the document: fragments that each spread the next one twice cannot make it exponential.

The cost is an upper bound of the work a query asks for, in records:

- each connection counts its page size (`first`/`last`, else the default page) multiplied by the
  page sizes of the connections above it; a plain list counts `LIST_ESTIMATE` per record above it,
  a single related record one per record above it;
- each SQL query the query's shape needs counts `QUERY_COST`: a root field (a connection, a look-up
  such as `indicator(code:)` or `node(id:)`), a nested connection or list (fetched once for all its
  parents), a `totalCount`. Aliases of a look-up are as many queries;
- each introspection root (`__schema`, `__type`) counts `INTROSPECTION_COST`, whatever it selects,
  and its fields count against `MAX_FIELDS` (graphql-core's own rule refuses type lists nested
  three deep: `types { fields { type { fields { type { fields`).
- each mutation field (a write) counts MUTATION_COST records, plus one per item of its list
  arguments (the rows of a bulk upsert), on top of what its payload selects; a request holds at
  most MAX_MUTATIONS of them, aliases included.
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
    SchemaMetaFieldDef,
    TypeMetaFieldDef,
    Undefined,
    ValidationRule,
    get_named_type,
    is_introspection_type,
    value_from_ast,
)

MAX_DOCUMENT_BYTES = 16_384  # a query's text; checked before parsing
MAX_TOKENS = 4_000  # lexical tokens of a query, a second guard for the parser
MAX_DEPTH = 10  # levels of fields; the edges/node/nodes/pageInfo wrappers of connections do not count
MAX_FIELDS = 500  # fields selected, fragments expanded (aliases and introspection included; not __typename)
MAX_COST = 10_000  # the cost a query may have at most (see module docstring)
MAX_PAGE_SIZE = 100  # `first` and `last`: the one GraphQL page cap (connections.PageArgs checks it at run time)
DEFAULT_PAGE_SIZE = 50  # a connection asked without `first` or `last`
LIST_ESTIMATE = 10  # records assumed for a plain list (a project's regions, an indicator's targets)
QUERY_COST = 100  # each SQL query a query's shape needs: at most 100 queries in a request
INTROSPECTION_COST = 500  # each `__schema` or `__type`: at most 20 in a query
MUTATION_COST = 100  # a write counts as a page of 100 records (one unit of the rate limit)
MAX_MUTATIONS = 10  # mutation fields in one request, aliases included


@dataclass
class QueryCost:
    """What the walk measured; the view reports `requested` in the response's extensions.

    `requested` is the cost (see the module docstring): `records` + QUERY_COST × `queries` + the
    introspection roots' cost. For a query refused by a limit, the walk stopped there: the numbers
    are those measured so far (for QUERY_TOO_COSTLY, more than MAX_COST)."""

    requested: int = 0
    records: int = 0
    queries: int = 0
    depth: int = 0
    fields: int = 0
    mutations: int = 0
    errors: list[tuple[str, str, list]] = field(default_factory=list)

    def as_extension(self) -> dict:
        return {"requested": self.requested, "limit": MAX_COST}


@dataclass(frozen=True)
class Measure:
    """The measure of a selection for one record of its parent (multiply `records` by the number of
    parent records; queries and introspection are counted once, whatever the number of parents)."""

    records: int = 0
    queries: int = 0
    fixed: int = 0  # introspection roots
    fields: int = 0
    depth: int = 0
    mutations: int = 0

    @property
    def cost(self) -> int:
        return self.records + QUERY_COST * self.queries + self.fixed

    def __add__(self, other: Measure) -> Measure:  # two selections side by side
        return Measure(self.records + other.records, self.queries + other.queries, self.fixed + other.fixed,
                       self.fields + other.fields, max(self.depth, other.depth), self.mutations + other.mutations)


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


class LimitPassed(Exception):
    """Stops the walk at the first limit passed."""

    def __init__(self, code: str, message: str, measure: Measure, nodes: list | None = None):
        super().__init__(message)
        self.code, self.message, self.measure, self.nodes = code, message, measure, nodes


def check(measure: Measure) -> Measure:
    """`measure` (of a whole selection or a part of it) if it passes no limit. A part's measure is a
    lower bound of the whole's, so the first part over a limit refuses the query."""
    if measure.depth > MAX_DEPTH:
        raise LimitPassed("QUERY_TOO_DEEP", f"The query is more than {MAX_DEPTH} levels deep (at least "
                          f"{measure.depth}; edges, node and nodes do not count).", measure)
    if measure.fields > MAX_FIELDS:
        raise LimitPassed("TOO_MANY_FIELDS", f"The query selects more than {MAX_FIELDS} fields (at least "
                          f"{measure.fields}, fragments expanded, aliases included).", measure)
    if measure.mutations > MAX_MUTATIONS:
        raise LimitPassed("TOO_MANY_MUTATIONS", f"The request holds more than {MAX_MUTATIONS} mutations (aliases "
                          "included). Send them in several requests, or observations in one bulk upsert.", measure)
    if measure.cost > MAX_COST:
        raise LimitPassed("QUERY_TOO_COSTLY", f"The query costs more than {MAX_COST} (at least {measure.cost}: "
                          f"{measure.records} records, {measure.queries} SQL queries). Ask for smaller pages with "
                          f"`first` or `last` (a connection without them counts {DEFAULT_PAGE_SIZE}), especially "
                          f"on nested connections, and fewer root fields and aliases.", measure)
    return measure


class _Walk:
    def __init__(self, schema, fragments: dict[str, FragmentDefinitionNode], variables: dict):
        self.schema, self.fragments, self.variables = schema, fragments, variables or {}
        self.measured: dict[str, Measure] = {}  # fragment name -> its measure, for one of its parent records
        self.measuring: set[str] = set()

    def selection_set(self, parent, selection_set) -> Measure:
        total = Measure()
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                part = self.field(parent, selection)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                type_ = self.schema.get_type(condition.name.value) if condition else parent
                part = self.selection_set(type_ or parent, selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                part = self.fragment(selection.name.value, parent)
            else:  # pragma: no cover - no other selection exists
                continue
            total = check(total + part)
        return total

    def fragment(self, name: str, parent) -> Measure:
        if name in self.measured:
            return self.measured[name]
        fragment = self.fragments.get(name)
        if fragment is None or name in self.measuring:
            return Measure()  # unknown or cyclic: refused by the standard rules, which ran first
        self.measuring.add(name)
        type_ = self.schema.get_type(fragment.type_condition.name.value) or parent
        self.measured[name] = self.selection_set(type_, fragment.selection_set)
        self.measuring.discard(name)
        return self.measured[name]

    def below(self, type_, node: FieldNode) -> Measure:
        return self.selection_set(get_named_type(type_), node.selection_set) if node.selection_set else Measure()

    def field(self, parent, node: FieldNode) -> Measure:
        name = node.name.value
        if name == "__typename":
            return Measure()
        if name in ("__schema", "__type"):
            definition = SchemaMetaFieldDef if name == "__schema" else TypeMetaFieldDef
            sub = self.below(definition.type, node)
            return Measure(fixed=INTROSPECTION_COST, fields=1 + sub.fields)
        definition = getattr(parent, "fields", {}).get(name)
        if definition is None:
            return Measure()  # refused by the standard rules
        sub = self.below(definition.type, node)
        if is_introspection_type(parent):  # inside __schema or __type: its fixed cost covers it
            return Measure(fields=1 + sub.fields)
        wrapper = is_connection(parent) or is_edge(parent, self.schema)
        type_ = get_named_type(definition.type)
        if not node.selection_set:
            queries = 1 if name == "totalCount" and is_connection(parent) else 0
            return Measure(queries=queries, fields=1, depth=0 if wrapper else 1)
        if is_connection(type_):
            count, records, queries = (size := self.page_size(node, definition)), size, 1
        elif wrapper:  # edges, node, nodes, pageInfo: the connection's records, counted above
            count, records, queries = 1, 0, 0
        elif _is_list(definition.type):
            count, records, queries = LIST_ESTIMATE, LIST_ESTIMATE, 1
        else:  # one record: joined to its parent's, or, at the root, a look-up of its own
            count, records, queries = 1, 1, int(parent is self.schema.query_type)
        mutations = 0
        if parent is self.schema.mutation_type:  # a write, and the record it answers with (read again)
            mutations, records, queries = 1, records + self.write_cost(node, definition), queries + 1
        return Measure(records=records + count * sub.records, queries=queries + sub.queries, fixed=sub.fixed,
                       fields=1 + sub.fields, depth=(0 if wrapper else 1) + sub.depth,
                       mutations=mutations + sub.mutations)

    def write_cost(self, node: FieldNode, definition) -> int:
        """A write: MUTATION_COST, and one more per item of a list argument (a bulk upsert's rows)."""
        cost = MUTATION_COST
        for argument in node.arguments:
            declared = definition.args.get(argument.name.value)
            if declared is not None and _is_list(declared.type):
                value = value_from_ast(argument.value, declared.type, self.variables)
                if isinstance(value, list):
                    cost += len(value)
        return cost

    def page_size(self, node: FieldNode, definition) -> int:
        sizes = {}
        for argument in node.arguments:
            name = argument.name.value
            if name in ("first", "last") and name in definition.args:
                value = value_from_ast(argument.value, definition.args[name].type, self.variables)
                if value is None or value is Undefined:  # null, or a variable the request left out
                    continue
                if not isinstance(value, int) or not 0 <= value <= MAX_PAGE_SIZE:
                    raise LimitPassed("PAGE_SIZE_OUT_OF_RANGE",
                                      f"`{name}` on `{node.name.value}` must be between 0 and {MAX_PAGE_SIZE}, got "
                                      f"{value}. Page through larger collections with `after`.", Measure(), [node])
                sizes[name] = value
        return min(sizes.values()) if sizes else DEFAULT_PAGE_SIZE


def measure(schema, document, variables: dict | None, operation_name: str | None) -> QueryCost:
    """The cost of the operation that will run, with the limit it passes (if any) in `errors`."""
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
    try:
        measured = _Walk(schema, fragments, variables).selection_set(root, operation.selection_set)
    except LimitPassed as passed:
        measured = passed.measure
        cost.errors.append((passed.code, passed.message, passed.nodes or [operation]))
    cost.requested, cost.records, cost.queries = measured.cost, measured.records, measured.queries
    cost.depth, cost.fields, cost.mutations = measured.depth, measured.fields, measured.mutations
    return cost


def check_limits(schema, document, variables: dict | None, operation_name: str | None,
                 cost: QueryCost) -> list[GraphQLError]:
    """The errors of the limits the operation passes (none when it is within them); the measured cost is
    written into `cost`. Run it after the specified rules have passed. One walk of its own: called
    directly, not as a validation rule (a rule's visit walks the whole document again with graphql-core's
    TypeInfo, even once the rule is done: ~1 ms of a query of 100 observations, issue 13)."""
    measured = measure(schema, document, variables, operation_name)
    cost.requested, cost.records, cost.queries = measured.requested, measured.records, measured.queries
    cost.depth, cost.fields = measured.depth, measured.fields
    return [GraphQLError(message, nodes, extensions={"code": code}) for code, message, nodes in measured.errors]


def limits_rule(variables: dict | None, operation_name: str | None, cost: QueryCost):
    """`check_limits` as a graphql-core validation rule (for tools that validate with rules)."""

    class QueryLimitsRule(ValidationRule):
        def enter_document(self, node, *_args):
            for error in check_limits(self.context.schema, node, variables, operation_name, cost):
                self.report_error(error)
            return self.BREAK

    return QueryLimitsRule
