"""The change feed in GraphQL: the root connection `changes(after:, resource:, first:)`, read with
`opendata.base.selectors.change_list`, the selector of REST's `GET /api/v1/changes/`.

The same feed, the same order, the same cursors: an edge's `cursor` (and a node's `cursor`) is
REST's entry `cursor`, and `pageInfo.endCursor` is REST's `next_cursor`, so a cursor from either
reads on in the other. `endCursor` is the watermark: the position after the page's last entry, or,
when the page holds everything visible after `after`, the feed's horizon, so it is set on every
page, an empty one included, and moves past entries of other resources when `resource` filters.
`hasNextPage` is REST's `more`: more entries are already waiting (read on at once); false means
poll `after: endCursor` later. `after: "now"` starts at the present. Cursors never expire.

Each node is one change of one record: `resource`, `key`, `operation`, `at`, the record's public
snapshot after the change (`data`, REST's `after`) and before it (`before`, null for a create), as
JSON. `actor` (who wrote it) is shown only to requests with an API key, as in REST's feed; an
anonymous request gets null.
"""

from __future__ import annotations

import graphene
from graphql import GraphQLError, Undefined
from graphql.language import ast as graphql_ast

from opendata.base.api.auth import InvalidKey, authenticate_key
from opendata.base.graphql.limits import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from opendata.base.graphql.scalars import UTCDateTime
from opendata.base.selectors import START, Cursor, InvalidCursor, change_horizon, change_list, change_resources


class JSON(graphene.Scalar):
    """A JSON value (an object, a list, text, a number, a boolean or null), as it is."""

    @staticmethod
    def serialize(value):
        return value

    @staticmethod
    def parse_value(value):
        return value

    @staticmethod
    def parse_literal(node, _variables=None):
        if isinstance(node, (graphql_ast.StringValueNode, graphql_ast.BooleanValueNode)):
            return node.value
        if isinstance(node, graphql_ast.IntValueNode):
            return int(node.value)
        if isinstance(node, graphql_ast.FloatValueNode):
            return float(node.value)
        if isinstance(node, graphql_ast.ListValueNode):
            return [JSON.parse_literal(item) for item in node.values]
        if isinstance(node, graphql_ast.ObjectValueNode):
            return {f.name.value: JSON.parse_literal(f.value) for f in node.fields}
        if isinstance(node, graphql_ast.NullValueNode):
            return None
        return Undefined


class ChangeType(graphene.ObjectType):
    class Meta:
        name = "Change"
        description = ("One change of one record, with the record's public snapshot after it and before it: the "
                       "entry REST's `GET /api/v1/changes/` lists.")

    cursor = graphene.String(required=True, description=(
        "This entry's position: `changes(after: <cursor>)` reads on after it (REST: `after=<cursor>`)."))
    at = UTCDateTime(required=True, description="When the change was written (UTC).")
    resource = graphene.String(required=True, description="The changed record's resource (`observation`...).")
    key = graphene.String(required=True, description="The changed record's public identifier (code, slug, symbol or "
                                                      "uid).")
    operation = graphene.String(required=True, description=(
        "`create`, `update`, `delete` (soft deletion: `data.deleted_at` is set) or `restore`."))
    actor = graphene.String(description=(
        "Who wrote it (`loader`, an admin user, an API key as `key <prefix> (<name>)`). Shown to requests with an "
        "API key only; null for anonymous ones (REST's public feed leaves it out)."))
    data = graphene.Field(JSON, required=True, description=(
        "The record after the change (REST's `after`; for a delete: its last state, with `deleted_at`): its fields "
        "as REST writes them, snake_case, references as public identifiers, lists of references sorted."))
    before = graphene.Field(JSON, description="The record before the change; null for a create.")

    @staticmethod
    def resolve_cursor(change, info):
        return Cursor.of(change).encode()

    @staticmethod
    def resolve_data(change, info):
        return change.after

    @staticmethod
    def resolve_actor(change, info):
        try:
            actor = authenticate_key(info.context)
        except InvalidKey:
            return None
        return change.actor if actor is not None else None


class ChangeConnection(graphene.relay.Connection):
    class Meta:
        node = ChangeType
        description = ("A page of the change feed. `pageInfo.endCursor` is where to read on (REST's `next_cursor`), "
                       "set on every page, an empty one included; `hasNextPage` is REST's `more`.")

    nodes = graphene.NonNull(graphene.List(graphene.NonNull(ChangeType)), description=(
        "The entries of this page (the `node` of each edge)."))

    @staticmethod
    def resolve_nodes(root, info):
        return [edge.node for edge in root.edges]


def resolve_changes(root, info, after=None, resource=None, first=None):
    if first is None:
        first = DEFAULT_PAGE_SIZE
    if not 0 <= first <= MAX_PAGE_SIZE:
        raise GraphQLError(f"`first` must be between 0 and {MAX_PAGE_SIZE}, got {first}.",
                           extensions={"code": "PAGE_SIZE_OUT_OF_RANGE"})
    if resource is not None and (unknown := [r for r in resource if r not in change_resources()]):
        raise GraphQLError(f"resource: unknown resource(s) {', '.join(unknown)}; resources: "
                           f"{', '.join(change_resources())}.",
                           extensions={"code": "INVALID_ARGUMENT", "argument": "resource"})
    try:
        position = change_horizon() if after == "now" else Cursor.decode(after) if after else None
    except InvalidCursor:
        raise GraphQLError("`after` is not a cursor of the change feed: use `pageInfo.endCursor`, an entry's `cursor`, "
                           "REST's `next_cursor`, or `now`.", extensions={"code": "INVALID_CURSOR"}) from None
    if first == 0 or resource == []:
        # Nothing to read (an empty `resource` list selects nothing): the client stays where it is.
        return _connection([], end=position or START, more=False)
    page = change_list(after=position, resource=resource, limit=first)
    return _connection(page.changes, end=page.next, more=page.more)


def _connection(changes, *, end: Cursor, more: bool) -> ChangeConnection:
    edges = [ChangeConnection.Edge(node=change, cursor=Cursor.of(change).encode()) for change in changes]
    return ChangeConnection(edges=edges, page_info=graphene.relay.PageInfo(
        start_cursor=edges[0].cursor if edges else None, end_cursor=end.encode(),
        has_previous_page=False, has_next_page=more))


class Query(graphene.ObjectType):
    changes = graphene.Field(
        ChangeConnection, required=True, resolver=resolve_changes,
        after=graphene.String(description=(
            "Read the entries after this cursor (`pageInfo.endCursor`, an entry's `cursor`, or REST's `next_cursor`); "
            "`now`: from the present on. Without it: from the first change.")),
        resource=graphene.List(graphene.NonNull(graphene.String), description=(
            "The resources to list: " + ", ".join(f"`{r}`" for r in change_resources()) + ". Default: all.")),
        first=graphene.Int(description=f"Entries per page, 0 to {MAX_PAGE_SIZE} (default {DEFAULT_PAGE_SIZE})."),
        description=(
            "The change feed: every create, update, soft deletion and restore of every record, oldest first, in an "
            "order in which no entry ever appears before a cursor already handed out (docs/graphql.md, Change feed). "
            "Store `pageInfo.endCursor`; read on from it while `hasNextPage`, then poll it. The same feed and cursors "
            "as REST's `GET /api/v1/changes/`."))
