"""Relay connections over offset cursors that never COUNT unless `totalCount` is asked for.

graphene-django's DjangoConnectionField counts every queryset it pages (graphene-django issue #177,
closed as wontfix). Here a page is fetched with one extra row to learn `hasNextPage`, and the count
is a lazy callable that only `totalCount` (or `last` without `before`, which needs the end) calls.

A cursor is an offset, signed and bound to its connection field (`Query.observations`,
`Indicator.observations`) and its `orderBy` (opendata.base.cursors): a cursor of one list is refused
by another, and one made up never reaches the database as an out-of-range offset.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import graphene
from graphene.relay.connection import ConnectionOptions
from graphql import GraphQLError

from opendata.base.cursors import InvalidCursor, make_cursor, read_cursor
from opendata.base.graphql.limits import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

MAX_OFFSET = 2**31 - 1  # no list here is near as long; a larger offset is no position of any


class CountableConnection(graphene.relay.Connection):
    """A connection with `totalCount` (computed only when selected) and `nodes` (edges without cursors)."""

    class Meta:
        abstract = True

    total_count = graphene.Int(
        required=True,
        description="Number of records matching the filters, whatever the page. Costs a COUNT query: ask only "
                    "when you need it.",
    )

    @classmethod
    def __init_subclass_with_meta__(cls, node=None, _meta=None, **options):
        if not _meta:
            _meta = ConnectionOptions(cls)
        _meta.fields = {
            "nodes": graphene.Field(
                graphene.NonNull(graphene.List(graphene.NonNull(node))),
                description="The records of this page (the `node` of each edge), for when cursors are not needed.",
            )
        }
        super().__init_subclass_with_meta__(node=node, _meta=_meta, **options)

    @staticmethod
    def resolve_total_count(root, info):
        return root.count()

    @staticmethod
    def resolve_nodes(root, info):
        return [edge.node for edge in root.edges]


@dataclass(frozen=True)
class CursorScope:
    """What a cursor is bound to: the connection field (`Type.field`) and its canonical ordering."""

    field: str
    ordering: str

    def cursor(self, offset: int) -> str:
        return make_cursor(self.field, o=self.ordering, i=offset)

    def offset(self, cursor, argument: str) -> int:
        def invalid(message: str) -> GraphQLError:
            return GraphQLError(f"`{argument}`: {message}", extensions={"code": "INVALID_CURSOR", "argument": argument})

        try:
            payload = read_cursor(cursor, self.field)
        except InvalidCursor as exc:
            raise invalid(str(exc)) from None
        if payload.get("o") != self.ordering:
            raise invalid(f"This cursor was made for orderBy {payload.get('o')!r}, not {self.ordering!r}: start "
                          "again without a cursor.")
        offset = payload.get("i")
        if not isinstance(offset, int) or isinstance(offset, bool) or not 0 <= offset <= MAX_OFFSET:
            raise invalid("Not a cursor of this API.")
        return offset


@dataclass(frozen=True)
class PageArgs:
    """first/after/last/before, checked, with the cursors turned into offsets."""

    first: int | None
    last: int | None
    lo: int  # offset of the first row after `after`
    hi: int | None  # offset of `before` (exclusive), None when unbounded
    before: bool

    @classmethod
    def parse(cls, args: dict, scope: CursorScope) -> PageArgs:
        first, last = args.get("first"), args.get("last")
        for name, value in (("first", first), ("last", last)):
            if value is not None and not 0 <= value <= MAX_PAGE_SIZE:
                raise GraphQLError(f"`{name}` must be between 0 and {MAX_PAGE_SIZE}, got {value}.",
                                   extensions={"code": "PAGE_SIZE_OUT_OF_RANGE"})
        lo = scope.offset(args["after"], "after") + 1 if args.get("after") is not None else 0
        hi = scope.offset(args["before"], "before") if args.get("before") is not None else None
        if hi is not None and hi < lo:
            hi = lo
        if first is None and last is None:
            first = DEFAULT_PAGE_SIZE
        return cls(first=first, last=last, lo=lo, hi=hi, before=args.get("before") is not None)

    def fetch_range(self) -> tuple[int, int] | None:
        """The rows to fetch: [lo, hi), one more than asked to learn whether a next page exists.
        None when the range depends on the number of rows (`last` without `before` or `first`)."""
        if self.first is not None:
            stop = self.lo + self.first + 1
            return self.lo, stop if self.hi is None else min(self.hi, stop)
        if self.hi is not None:
            return max(self.lo, self.hi - self.last), self.hi
        return None


class LazyEdge:
    """An edge of a connection (what the Edge type's fields read), its cursor made when read."""

    __slots__ = ("node", "_scope", "_offset")

    def __init__(self, node, scope: CursorScope, offset: int):
        self.node, self._scope, self._offset = node, scope, offset

    @property
    def cursor(self) -> str:
        return self._scope.cursor(self._offset)


class LazyPageInfo:
    """PageInfo's fields, the two cursors made when read."""

    __slots__ = ("_edges", "has_previous_page", "has_next_page")

    def __init__(self, edges: list[LazyEdge], *, has_previous_page: bool, has_next_page: bool):
        self._edges, self.has_previous_page, self.has_next_page = edges, has_previous_page, has_next_page

    @property
    def start_cursor(self) -> str | None:
        return self._edges[0].cursor if self._edges else None

    @property
    def end_cursor(self) -> str | None:
        return self._edges[-1].cursor if self._edges else None


def make_connection(connection_type, args: dict, *, scope: CursorScope, fetch: Callable[[int, int], Sequence],
                    count: Callable[[], int], page: PageArgs | None = None):
    """A page of `connection_type`: `fetch(lo, hi)` returns the rows at offsets [lo, hi), `count()`
    the number of rows (called only when needed); its cursors are bound to `scope`. `page`: the
    arguments already parsed (a nested connection pages each parent's rows with the same ones)."""
    page = page or PageArgs.parse(args, scope)
    counted: list[int] = []

    def cached_count() -> int:
        if not counted:
            counted.append(count())
        return counted[0]

    span = page.fetch_range()
    if span is None:
        total = cached_count()
        span = (max(page.lo, total - page.last), total)
    start, stop = span
    rows = list(fetch(start, stop)) if stop > start else []

    has_next = page.before
    if page.first is not None:
        has_next = has_next or len(rows) > page.first
        rows = rows[: page.first]
    if page.last is not None and len(rows) > page.last:
        start += len(rows) - page.last
        rows = rows[-page.last:]
    has_previous = start > 0

    # Cursors are signed (HMAC) only when a query reads them: a page of 100 observations with their citations
    # made 500 it did not ask for (issue 13).
    edges = [LazyEdge(row, scope, start + i) for i, row in enumerate(rows)]
    connection = connection_type(
        edges=edges,
        page_info=LazyPageInfo(edges, has_previous_page=has_previous, has_next_page=has_next),
    )
    connection.count = cached_count
    return connection
