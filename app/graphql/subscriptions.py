"""Subscription: live status of port orders and LOAs, from the event log, replayable by cursor.

- `portOrderStatusChanged(sid, after)`: the events a status callback is POSTed for (CONTRACT.md
  section 9): every status change and every FOC date change, i.e. the port-order events whose
  `callback_type` is not empty. The log's other order events (`port_order.updated` with an empty
  `callback_type`: edits of other fields, a new error without a status change) are timeline
  entries, not status changes, and are not sent.
- `loaStatusChanged(sid, after)`: every status change of an LOA.
- Without `sid`: every order (or LOA) the caller may read. With a `sid` the caller cannot read
  (another account's, or none at all) the subscription fails at once with 20404, the same
  answer either way. `portRequestSid` keeps the orders of one Port Request (same rule).
- `after`: a cursor (an event's `cursor`, or a timeline cursor of `PortOrder.events`). The
  subscription first sends the matching events after it from the log, then continues live,
  with no gap and no duplicate at the seam (app/services/hub.py). To miss nothing, a client reads
  what it shows together with the newest cursor, and subscribes (or reconnects) with that
  cursor as `after`.
- The event's own fields are the payload recorded at the change. `portOrder` / `loa` are read
  fresh for each event (the socket's loaders are reset per event), so they show the row as it
  is when the event is sent, which may already be newer than the event.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import AsyncGenerator, Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar, cast

import strawberry
from graphql import GraphQLError
from starlette.websockets import WebSocket

from app.graphql.context import Context
from app.graphql.enums import LoaStatus, PortOrderStatus
from app.graphql.fanout import LIVE
from app.graphql.nodes import (
    CtxInfo,
    LoaType,
    PortOrderErrorType,
    PortOrderType,
    wrap_loa,
    wrap_order,
)
from app.graphql.pagination import AFTER_INVALID, INVALID, request_error
from app.porting.errors import CATALOG, NOT_FOUND
from app.porting.isotime import parse_utc
from app.services import reads
from app.store.conflicts import unavailable
from app.store.events import Position
from app.store.tables import Event, Loa, PortOrder, PortOrderError

T = TypeVar("T")
PORT_ORDER = "port_order"
LOA = "loa"


@strawberry.enum(description="Why a status callback (and this event) was sent.")
class CallbackType(enum.Enum):
    STATUS_UPDATE = "status_update"
    ACTIVATION_DATE_UPDATE = "activation_date_update"


def _time(value: Any) -> datetime | None:
    return parse_utc(value) if isinstance(value, str) else None


def _required_time(event: Event, key: str) -> datetime:
    return _time(event.payload.get(key)) or event.date_created


@strawberry.type(
    name="PortOrderEvent",
    description="A port order's status or FOC date changed: the fields of its status "
    "callback, its cursor, and the order as it is now.",
)
class PortOrderEvent:
    row: strawberry.Private[Event]

    @strawberry.field(description="This event's position in the log: pass it as `after`.")
    def cursor(self) -> str:
        return str(self.row.id)

    @strawberry.field
    def port_order_sid(self) -> strawberry.ID:
        return strawberry.ID(self.row.resource_sid)

    @strawberry.field(description="What changed: the status, the FOC date, or both.")
    def callback_type(self) -> list[CallbackType]:
        known = {t.value for t in CallbackType}
        return [CallbackType(t) for t in self.row.payload.get("callback_type") or [] if t in known]

    @strawberry.field(description="The order's status after this change.")
    def status(self) -> PortOrderStatus:
        return PortOrderStatus(self.row.payload["status"])

    @strawberry.field(description="The activation (FOC) date after this change.")
    def foc_date(self) -> datetime | None:
        return _time(self.row.payload.get("foc_date"))

    @strawberry.field
    def date_updated(self) -> datetime:
        return _required_time(self.row, "date_updated")

    @strawberry.field(description="The number in the inventory, once the port completed.")
    def phone_number_sid(self) -> strawberry.ID | None:
        sid = self.row.payload.get("phone_number_sid")
        return strawberry.ID(sid) if isinstance(sid, str) else None

    @strawberry.field(description="The order's errors at this change, oldest first.")
    def errors(self) -> list[PortOrderErrorType]:
        out = []
        for e in self.row.payload.get("errors") or []:
            row = PortOrderError(
                port_order_sid=self.row.resource_sid,
                code=int(e["code"]),
                reason=str(e.get("reason") or ""),
                date=_time(e.get("date")) or self.row.date_created,
            )
            out.append(PortOrderErrorType(row=row))
        return out

    @strawberry.field(description="The order, read when this event is sent.")
    async def port_order(self, info: CtxInfo) -> PortOrderType:
        row = await event_row(info.context, self.row)
        if row is None:  # the stream only carries orders the caller may read
            raise RuntimeError("port order of a visible event not found")
        return wrap_order(cast(PortOrder, row))  # (a read-only row: event_row reads by type)


@strawberry.type(
    name="LoaEvent",
    description="An LOA's status changed: its cursor, the new status, and the LOA as it is now.",
)
class LoaEvent:
    row: strawberry.Private[Event]

    @strawberry.field(description="This event's position in the log: pass it as `after`.")
    def cursor(self) -> str:
        return str(self.row.id)

    @strawberry.field
    def loa_sid(self) -> strawberry.ID:
        return strawberry.ID(self.row.resource_sid)

    @strawberry.field(description="The LOA's status after this change.")
    def status(self) -> LoaStatus:
        return LoaStatus(self.row.payload["status"])

    @strawberry.field
    def date_updated(self) -> datetime:
        return _required_time(self.row, "date_updated")

    @strawberry.field(description="The LOA, read when this event is sent.")
    async def loa(self, info: CtxInfo) -> LoaType:
        row = await event_row(info.context, self.row)
        if row is None:
            raise RuntimeError("LOA of a visible event not found")
        return wrap_loa(cast(Loa, row))  # (a read-only row: event_row reads by type)


async def event_row(ctx: Context, event: Event) -> PortOrder | Loa | None:
    """The event's order or LOA, read once after the event for all the subscribers it reaches
    (app/services/hub.SharedReads), through the first one's loader. Every one of them may read
    it: the hub sends an event only to callers who may read its account, and the row belongs
    to that account."""

    def read() -> Awaitable[PortOrder | Loa | None]:
        loaders = ctx.loaders
        loader = loaders.port_order if event.resource_type == PORT_ORDER else loaders.loa
        return loader.load(event.resource_sid)

    return await ctx.services.hub.reads.get((event.resource_type, event.id), read)


async def _read_when_reachable(ctx: Context, event: Event) -> None:
    """`event_row`, waiting out a database outage (a read at most every second) instead of
    failing the subscription: the event is sent once the database is back."""
    delay = 0.25
    while True:
        try:
            await event_row(ctx, event)
            return
        except Exception as exc:
            if not unavailable(exc):
                raise
        ctx.reset_loaders()  # (the failed load stays in a loader's cache otherwise)
        await asyncio.sleep(delay)
        delay = min(delay * 2, 1.0)


def websocket_only(ctx: Context) -> None:
    """Subscriptions run over websockets only (their auth, keep-alive and shutdown are there);
    over HTTP the operation is refused plainly."""
    if not isinstance(ctx.request, WebSocket):
        raise request_error(
            INVALID,
            "Subscriptions need a websocket on /graphql (graphql-transport-ws or graphql-ws)",
        )


def parse_after(after: str | None) -> int | None:
    if after is None:
        return None
    if not after.isascii() or not after.isdigit() or len(after) > 18:
        raise request_error(AFTER_INVALID, "after is not a cursor of the event log")
    return int(after)


def not_found() -> GraphQLError:
    return request_error(NOT_FOUND, CATALOG[NOT_FOUND][0])


def is_status_change(event: Event) -> bool:
    return bool(event.payload.get("callback_type"))


def _any(event: Event) -> bool:
    return True


async def _stream(
    info: CtxInfo,
    resource_type: str,
    sid: str | None,
    after: int | None,
    keep: Callable[[Event], bool],
    wrap: Callable[[Event], T],
    port_request_sid: str | None = None,
    prefetch: Callable[[Context, Event], Awaitable[None]] | None = None,
) -> AsyncGenerator[T, None]:
    """The log after `after`, then live. Each event executes for this socket alone (graphql-core
    via Strawberry) until the subscription has caught up; from then on the socket's operation
    is served by the live fan-out (app/graphql/fanout.py), which executes each event once for
    every socket sharing it: this stream then ends, and its operation's handler
    (app/graphql/websockets.py) keeps the operation open until the client or the socket ends
    it."""
    ctx = info.context
    caller = ctx.who
    live = LIVE.get()
    read_first = prefetch or _read_when_reachable

    def handover(cursor: Position) -> bool:
        assert live is not None
        live.member = live.fanout.join(
            op=live,
            ctx=ctx,
            info=info._raw_info,
            schema=info.schema,
            resource_type=resource_type,
            resource_sid=sid,
            cursor=cursor,
            keep=keep,
            wrap=wrap,
            prefetch=read_first,
        )
        return live.member is not None

    events = ctx.services.hub.events(
        visible=caller.visible,
        resource_type=resource_type,
        resource_sid=sid,
        after=after,
        port_request_sid=port_request_sid,
        # The fan-out groups by order or account; a Port Request's stream executes per socket.
        handover=handover
        if live is not None and live.member is None and port_request_sid is None
        else None,
    )
    try:
        async for event in events:
            if keep(event):
                ctx.reset_loaders()  # this event's fields read the rows as they are now
                # Read the event's row before anyone executes: then each subscriber's execution
                # runs through without waiting mid-way. (Thousands of executions all waiting for
                # one read outlive the collector's young generations: full collections then
                # stalled the fan-out.)
                await read_first(ctx, event)
                yield wrap(event)
    finally:
        await events.aclose()  # type: ignore[attr-defined]


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Status and FOC date changes of one order (`sid`), of the orders of one "
        "Port Request (`portRequestSid`) or of every order you may read; with `after`, first "
        "the changes since that cursor."
    )
    async def port_order_status_changed(
        self,
        info: CtxInfo,
        sid: strawberry.ID | None = None,
        after: str | None = None,
        port_request_sid: strawberry.ID | None = None,
    ) -> AsyncGenerator[PortOrderEvent, None]:
        ctx = info.context
        websocket_only(ctx)
        after_id = parse_after(after)
        if sid is not None:
            found = await reads.port_orders_by_sids(ctx.services, ctx.who, [sid])
            if sid not in found:
                raise not_found()
        if port_request_sid is not None:
            requests = await reads.port_requests_by_sids(ctx.services, ctx.who, [port_request_sid])
            if port_request_sid not in requests:
                raise not_found()
        return _stream(
            info, PORT_ORDER, sid, after_id, is_status_change, _port_order_event, port_request_sid
        )

    @strawberry.subscription(
        description="Status changes of one LOA (`sid`) or of every LOA you may read; with "
        "`after`, first the changes since that cursor."
    )
    async def loa_status_changed(
        self, info: CtxInfo, sid: strawberry.ID | None = None, after: str | None = None
    ) -> AsyncGenerator[LoaEvent, None]:
        ctx = info.context
        websocket_only(ctx)
        after_id = parse_after(after)
        if sid is not None:
            found = await reads.loas_by_sids(ctx.services, ctx.who, [sid])
            if sid not in found:
                raise not_found()
        return _stream(info, LOA, sid, after_id, _any, _loa_event)


def _port_order_event(event: Event) -> PortOrderEvent:
    return PortOrderEvent(row=event)


def _loa_event(event: Event) -> LoaEvent:
    return LoaEvent(row=event)
