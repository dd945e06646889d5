"""The arguments of a request, checked before anything runs, so that a bad argument is refused as a
whole (HTTP 400, an error naming it) instead of failing a field inside a 200.

The schema's types refuse most bad values already (a `kind` that is no `FactKind`, a code that is no
`Code`, `mrv: "x"`). This rule checks, with the request's variables, what types cannot say:

- no string argument holds a control character (C0 or DEL), as REST refuses in any parameter;
- each connection's own checks (`PublicConnectionField.check_arguments`): its cursors (bound to it
  and its `orderBy`), `orderBy`, page sizes, and its filters by its FilterSet (the one REST uses:
  ranges, bounds such as `mrv`'s, and every other rule of the FilterSet);
- a `node(id:)` names a type of this schema that is a Node, and an identifier.

Each field of the document is visited once (a fragment's fields too, however often it is spread). The
fields that take arguments are found once per document (`argument_fields`, kept with the parsed document
by the view); each request checks their values (`argument_errors`).
"""

from __future__ import annotations

from graphene.relay.node import NodeField
from graphene.utils.str_converters import to_camel_case
from graphql import GraphQLError, ValidationRule, is_object_type, validate
from graphql.execution.values import get_argument_values
from graphql_relay import from_global_id

from opendata.base.filters import control_character
from opendata.base.graphql.fields import graphql_fields


def strings(value):
    """The strings of an argument's value, however nested."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from strings(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)


def invalid_argument(name: str, message: str, node) -> GraphQLError:
    return GraphQLError(f"`{name}`: {message}", [node], extensions={"code": "INVALID_ARGUMENT", "argument": name})


def check_node_id(schema, global_id: str) -> str | None:
    """What is wrong with a `node(id:)`, if anything."""
    type_name, key = from_global_id(global_id)
    graphql_type = schema.get_type(type_name) if type_name else None
    if not (is_object_type(graphql_type) and any(i.name == "Node" for i in graphql_type.interfaces)) or not key:
        return "Not a global id of this API: use the `id` of a record."
    return None


FRAGMENT = object()  # the "operation" of a fragment's fields: checked whatever operation runs
MAX_ERRORS = 100  # as graphql-core's validate(): then "Too many validation errors" and no more


def argument_fields(schema, document) -> tuple[tuple, ...]:
    """Every field of `document` that takes arguments, in document order, with the operation it belongs to
    (FRAGMENT for a fragment's), its parent type and its definition: graphql-core's TypeInfo walk, which
    depends on the document only. The view keeps it with the parsed document (views.parsed_and_validated),
    so that a request only reads its arguments (the walk was ~1 ms of a query of 100 observations, issue 13).
    Run it on a document the specified rules passed."""
    found = []

    class Collect(ValidationRule):
        operation = FRAGMENT

        def enter_operation_definition(self, node, *_args):
            self.operation = node.name.value if node.name else None

        def enter_fragment_definition(self, node, *_args):
            self.operation = FRAGMENT

        def enter_field(self, node, *_args):
            parent, definition = self.context.get_parent_type(), self.context.get_field_def()
            if parent is not None and definition is not None and definition.args:
                found.append((self.operation, node, parent, definition))

    validate(schema, document, [Collect])
    return tuple(found)


def argument_errors(schema, fields: tuple[tuple, ...], variables: dict, operation_name: str | None) -> list[GraphQLError]:
    """The errors of every argument of `fields` (argument_fields) with the request's (coerced) variables,
    in document order; the fields of an operation other than `operation_name` are not checked (it does not
    run)."""
    errors: list[GraphQLError] = []
    for operation, node, parent, definition in fields:
        if operation_name and operation is not FRAGMENT and operation != operation_name:
            continue
        for error in field_errors(schema, node, parent, definition, variables):
            if len(errors) >= MAX_ERRORS:
                errors.append(GraphQLError("Too many validation errors, error limit reached. Validation aborted."))
                return errors
            errors.append(error)
    return errors


def field_errors(schema, node, parent, definition, variables: dict) -> list[GraphQLError]:
    """What is wrong with the arguments of one field (at most one error, but a `node(id:)`'s and its own)."""
    try:
        args = get_argument_values(definition, node, variables)
    except GraphQLError as error:  # a variable of another operation, in a fragment it shares
        return [error]
    for name, value in args.items():
        if found := next(filter(None, map(control_character, strings(value))), None):
            return [invalid_argument(to_camel_case(name), f"a control character ({found}) is in the value; no "
                                     "argument takes one.", node)]
    graphene_type = getattr(parent, "graphene_type", None)
    if graphene_type is None or not hasattr(graphene_type, "_meta"):
        return []  # introspection
    errors = []
    _, graphene_field = graphql_fields(graphene_type).get(node.name.value, (None, None))
    if isinstance(graphene_field, NodeField) and (problem := check_node_id(schema, args["id"])):
        errors.append(invalid_argument("id", problem, node))
    check = getattr(graphene_field, "check_arguments", None)
    if check is not None:
        try:
            check(args, parent.name, node.name.value)
        except GraphQLError as error:
            errors.append(GraphQLError(error.message, [node], extensions=error.extensions))
    return errors


def arguments_rule(variables: dict, operation_name: str | None):
    """`argument_errors` as a graphql-core validation rule (one TypeInfo walk per request). Run it after
    the specified rules have passed."""

    class ArgumentsRule(ValidationRule):
        def enter_operation_definition(self, node, *_args):
            if operation_name and (node.name is None or node.name.value != operation_name):
                return self.SKIP  # another operation of the document: it does not run
            return None

        def enter_field(self, node, *_args):
            parent, definition = self.context.get_parent_type(), self.context.get_field_def()
            if parent is None or definition is None or not definition.args:
                return
            for error in field_errors(self.context.schema, node, parent, definition, variables):
                self.report_error(error)

    return ArgumentsRule
