"""Keyset connections (ARCHITECTURE.md §4): a cursor is the row's SID (an event's id for
timelines), `after` is AfterSid and `before` is BeforeSid on the REST list order. No OFFSET.

Strawberry's `ListConnection` is offset-based, so these connections are built here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

import strawberry
from graphql import GraphQLError

from app.graphql.fields import built_directly, instance
from app.porting import fields
from app.porting.errors import PortingError
from app.store.queries import Page

MAX_PAGE = 100
DEFAULT_PAGE = 50
INVALID = 20001
AFTER_INVALID = 21826
BEFORE_INVALID = 21825

N = TypeVar("N")
R = TypeVar("R")


def request_error(code: int, message: str) -> GraphQLError:
    """An expected failure of a field that has no payload: a GraphQL error with its code."""
    return GraphQLError(message, extensions={"code": code})


def from_porting(exc: PortingError) -> GraphQLError:
    return request_error(exc.code, exc.message)


@dataclass(frozen=True)
class PageArgs:
    """`first`/`after` or `last`/`before`, checked. Hashable: part of dataloader keys."""

    limit: int
    after: str | None = None
    before: str | None = None
    from_end: bool = False  # `last` without `before`: the end of the list

    @property
    def backward(self) -> bool:
        return self.before is not None or self.from_end


def page_args(
    first: int | None, after: str | None, last: int | None, before: str | None
) -> PageArgs:
    for name, cursor in (("after", after), ("before", before)):
        if cursor is not None and (refused := fields.cursor_refusal(cursor, name)) is not None:
            raise request_error(refused.code, refused.message)
    if first is not None and last is not None:
        raise request_error(INVALID, "Pass either first or last, not both")
    if after is not None and before is not None:
        raise request_error(INVALID, "Pass either after or before, not both")
    if first is not None and before is not None:
        raise request_error(INVALID, "Page backward with last and before, not first")
    if last is not None and after is not None:
        raise request_error(INVALID, "Page forward with first and after, not last")
    name, size = ("last", last) if last is not None else ("first", first)
    if size is None:
        size = DEFAULT_PAGE
    elif not 1 <= size <= MAX_PAGE:
        raise request_error(INVALID, f"{name} must be between 1 and {MAX_PAGE}")
    backward = last is not None or before is not None
    return PageArgs(size, after, before, from_end=backward and before is None)


@dataclass(frozen=True)
class EventArgs:
    """PageArgs whose cursors are event ids."""

    limit: int
    after_id: int | None
    before_id: int | None
    from_end: bool


def event_args(args: PageArgs) -> EventArgs:
    def parse(cursor: str | None, code: int, name: str) -> int | None:
        if cursor is None:
            return None
        if not cursor.isascii() or not cursor.isdigit() or len(cursor) > 18:
            raise request_error(code, f"{name} is not a cursor of this timeline")
        return int(cursor)

    return EventArgs(
        args.limit,
        parse(args.after, AFTER_INVALID, "after"),
        parse(args.before, BEFORE_INVALID, "before"),
        args.from_end,
    )


@strawberry.type(description="Where a page sits in its list.")
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type(description="One row of a page and its cursor.")
class Edge(Generic[N]):
    cursor: str
    node: N


def _edge(cursor: str, node: N) -> Edge[N]:
    """`Edge(cursor=cursor, node=node)`, built directly (app/graphql/fields.py `instance`)."""
    return instance(Edge, {"cursor": cursor, "node": node})


built_directly(Edge, ("cursor", "node"))


@strawberry.type(description="A page of a list, newest first (timelines: oldest first).")
class Connection(Generic[N]):
    edges: list[Edge[N]]
    page_info: PageInfo
    _count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="How many rows the whole list has (counted only when asked).")
    async def total_count(self) -> int:
        return await self._count()


def connection(
    page: Page[R],
    args: PageArgs,
    wrap: Callable[[R], N],
    cursor: Callable[[R], str] | None,
    count: Callable[[], Awaitable[int]],
) -> Connection[N]:
    """`cursor` None: each node's `id` (its SID) is its cursor."""
    if cursor is None:
        nodes = [wrap(row) for row in page.items]
        edges = [_edge(node.id, node) for node in nodes]  # type: ignore[attr-defined]
    else:
        edges = [_edge(cursor(row), wrap(row)) for row in page.items]
    # Across the cursor the cursor's own row exists; saying so is only useful with a cursor to
    # page from, so an empty page says no (as REST's previous/next_page_url do).
    if page.backward:
        has_previous, has_next = page.has_more, args.before is not None and bool(edges)
    else:
        has_next, has_previous = page.has_more, args.after is not None and bool(edges)
    info = PageInfo(
        has_next_page=has_next,
        has_previous_page=has_previous,
        start_cursor=edges[0].cursor if edges else None,
        end_cursor=edges[-1].cursor if edges else None,
    )
    return Connection(edges=edges, page_info=info, _count=count)
