"""Object types. Each wraps its row as a private field and exposes fields explicitly
(ARCHITECTURE.md §3.4): table classes never reach the schema. The plain fields of PortOrder and
Loa are the GraphQL fields of app/porting/fields.py (never a write-only one); the fields with
a resolver are written here. Relations load through the request's dataloaders, never lazily
from a row.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, TypeVar, cast

import strawberry
from strawberry.types import Info

from app.graphql.context import Context
from app.graphql.deliveries import CallbackDelivery
from app.graphql.enums import Action, PortOrderStatus
from app.graphql.fields import PlainValues, built_directly, instance, plain_fields
from app.graphql.flow_types import (
    ActivationWindow,
    CommentType,
    DocumentObject,
    PortOrderException,
    comments_connection,
    wrap_document,
    wrap_exception,
)
from app.graphql.pagination import (
    Connection,
    connection,
    event_args,
    from_porting,
    page_args,
)
from app.porting import fields, windows
from app.porting.errors import PortingError
from app.services import activation, reads
from app.store.tables import Event, Loa, PortOrder, PortOrderError

if TYPE_CHECKING:
    from app.graphql.inventory import IncomingPhoneNumberType
    from app.graphql.requests import PortRequestType

CtxInfo = Info[Context, None]
S_NAMES = frozenset(PortOrderStatus.__members__)
DEFAULT_WINDOWS = 10  # PortOrder.activationWindows(first: Int = 10)


@strawberry.interface(description="An object with a global ID. The ID is its SID.")
class Node:
    row: strawberry.Private[Any]

    @strawberry.field(description="The SID: globally unique; its prefix names the type.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.row.sid)


@strawberry.type(name="PortOrderError", description="An error a port order has met.")
class PortOrderErrorType:
    row: strawberry.Private[PortOrderError]

    @strawberry.field
    def date(self) -> datetime:
        return self.row.date

    @strawberry.field
    def code(self) -> int:
        return self.row.code

    @strawberry.field
    def reason(self) -> str:
        return self.row.reason


@strawberry.type(description="One entry of a port order's timeline (the event log).")
class PortOrderEventRecord:
    row: strawberry.Private[Event]

    @strawberry.field(description="This entry's position in the event log.")
    def cursor(self) -> str:
        return str(self.row.id)

    @strawberry.field(description="e.g. port_order.created, port_order.status_changed.")
    def type(self) -> str:
        return self.row.type

    @strawberry.field(description="The order's status after this event.")
    def status(self) -> PortOrderStatus | None:
        value = self.row.payload.get("status")
        return PortOrderStatus(value) if isinstance(value, str) and value in S_NAMES else None

    @strawberry.field(description="status_update and/or activation_date_update.")
    def callback_type(self) -> list[str]:
        return list(self.row.payload.get("callback_type") or [])

    @strawberry.field(description="customer, service, carrier or operator.")
    def actor(self) -> str:
        return self.row.actor

    @strawberry.field(description="The acting operator's or account's SID, when one acted.")
    def actor_sid(self) -> strawberry.ID | None:
        sid = self.row.actor_sid
        return None if sid is None else strawberry.ID(sid)

    @strawberry.field
    def date(self) -> datetime:
        return self.row.date_created


def _event_cursor(e: Event) -> str:
    return str(e.id)


@strawberry.type(name="Loa", description="A Letter of Authorization: the signer's consent to port.")
@plain_fields(fields.LOA)
class LoaType(Node):
    row: strawberry.Private[Loa]
    id: strawberry.ID = strawberry.field(
        description="The SID: globally unique; its prefix names the type."
    )

    @strawberry.field
    def url(self, info: CtxInfo) -> str:
        return info.context.services.settings.url_for(f"/porting/Loas/{self.id}")

    @strawberry.field(description="The orders this LOA covers, newest first.")
    async def port_orders(
        self,
        info: CtxInfo,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[PortOrderType]:
        args = page_args(first, after, last, before)
        loaders = info.context.loaders
        try:
            page = await loaders.orders_of_loa.load((self.row.sid, args))
        except PortingError as exc:
            raise from_porting(exc) from None
        sid = self.row.sid
        return connection(
            page, args, wrap_order, None, lambda: loaders.order_count_of_loa.load(sid)
        )


async def _incoming_phone_number(
    root: PortOrderType, info: CtxInfo
) -> Annotated[IncomingPhoneNumberType, strawberry.lazy("app.graphql.inventory")] | None:
    from app.graphql.inventory import incoming_phone_number  # the types refer to each other

    sid = root.row.incoming_phone_number_sid
    return None if sid is None else await incoming_phone_number(info, sid)


async def _port_request(
    root: PortOrderType, info: CtxInfo
) -> Annotated[PortRequestType, strawberry.lazy("app.graphql.requests")] | None:
    from app.graphql.requests import wrap_request  # the types refer to each other

    sid = root.row.port_request_sid
    if sid is None:
        return None
    row = await info.context.loaders.port_request.load(sid)
    return None if row is None else wrap_request(row)


@strawberry.type(name="PortOrder", description="A request to port one number to us.")
@plain_fields(
    fields.PORT_ORDER,
    after={
        "port_request": "port_request_sid",
        "incoming_phone_number": "incoming_phone_number_sid",
    },
)
class PortOrderType(Node):
    row: strawberry.Private[PortOrder]
    id: strawberry.ID = strawberry.field(
        description="The SID: globally unique; its prefix names the type."
    )
    if TYPE_CHECKING:  # (one of the plain fields `plain_fields` adds)
        loa_sid: str

    # (fields with a resolver function, declared as attributes: they keep their place)
    port_request: Annotated[PortRequestType, strawberry.lazy("app.graphql.requests")] | None = (
        strawberry.field(
            resolver=_port_request,
            description="The Port Request the order belongs to; null when created alone.",
        )
    )
    incoming_phone_number: (
        Annotated[IncomingPhoneNumberType, strawberry.lazy("app.graphql.inventory")] | None
    ) = strawberry.field(
        resolver=_incoming_phone_number,
        description="The number in the inventory, once the port completed.",
    )

    @strawberry.field(description="Every error the order has met, oldest first.")
    async def errors(self, info: CtxInfo) -> list[PortOrderErrorType]:
        rows = await info.context.loaders.errors.load(self.row.sid)
        return [PortOrderErrorType(row=e) for e in rows]

    @strawberry.field
    def url(self, info: CtxInfo) -> str:
        # (the type's `id`, its SID: the row's, without the row's slower attribute lookup)
        return info.context.services.settings.url_for(f"/porting/PortOrders/{self.id}")

    @strawberry.field(
        description="While REJECTED: the rejection's type and the fields to fix; else null."
    )
    def exception(self) -> PortOrderException | None:
        return wrap_exception(self.row.exception)

    @strawberry.field(
        description="The next allowed FOC dates: business days of the service address from "
        "earliestActivationDate on, holidays skipped, at most 30 days out (first: 1 to 31; "
        "null: 10)."
    )
    def activation_windows(
        self, info: CtxInfo, first: int | None = DEFAULT_WINDOWS
    ) -> list[ActivationWindow]:
        if first is None:
            first = DEFAULT_WINDOWS
        if not 1 <= first <= windows.MAX_WINDOWS:
            raise from_porting(
                PortingError(20001, f"first must be between 1 and {windows.MAX_WINDOWS}")
            )
        found = activation.windows_of(info.context.services, self.row, first)
        return [ActivationWindow(date=d.date(), activation_date=d) for d in found.dates]

    @strawberry.field(
        description="The order's documents (metadata), oldest first; upload and download them "
        "through REST (.../Documents)."
    )
    async def documents(self, info: CtxInfo) -> list[DocumentObject]:
        rows = await info.context.loaders.documents.load(self.row.sid)
        return [wrap_document(r) for r in rows]

    @strawberry.field(description="The order's comment thread, oldest first.")
    async def comments(
        self,
        info: CtxInfo,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[CommentType]:
        return await comments_connection(info, self.row.sid, first, after, last, before)

    @strawberry.field(
        description="The status callbacks this order's events implied, oldest first, with "
        "every delivery attempt."
    )
    async def callback_deliveries(self, info: CtxInfo) -> list[CallbackDelivery]:
        records = await info.context.loaders.callback_deliveries.load(self.row.sid)
        return [CallbackDelivery(record=r) for r in records]

    # `loa` and `allowedActions` answer at once when the page read the LOA with its orders
    # (loaders.loa_rows): no coroutine and no load per order. Otherwise they return the load,
    # an awaitable graphql-core awaits (a resolver may return one).

    @strawberry.field
    def loa(self, info: CtxInfo) -> LoaType:
        loaders = info.context.loaders
        sid = self.loa_sid  # (the plain value, without the row's slower attribute lookup)
        wrapped = loaders.loa_types.get(sid)
        if wrapped is not None:  # (orders of one LOA share its object within a request)
            return cast(LoaType, wrapped)
        row = loaders.loa_rows.get(sid)
        if row is not None:
            wrapped = loaders.loa_types[sid] = wrap_loa(row)
            return wrapped
        loading: Any = self._loa(info)
        return cast(LoaType, loading)

    async def _loa(self, info: CtxInfo) -> LoaType:
        return wrap_loa(await self._loa_row(info))

    async def _loa_row(self, info: CtxInfo) -> Loa:
        loa = await info.context.loaders.loa.load(self.row.loa_sid)
        if loa is None:  # an order's LOA belongs to the order's account
            raise RuntimeError("LOA of a visible order not found")
        return loa

    @strawberry.field(description="What the caller may do with this order now.")
    def allowed_actions(self, info: CtxInfo) -> list[Action]:
        row = info.context.loaders.loa_rows.get(self.row.loa_sid)
        if row is not None:
            return reads.allowed_actions(info.context.services, self.row, row)
        loading: Any = self._allowed_actions(info)
        return cast(list[Action], loading)

    async def _allowed_actions(self, info: CtxInfo) -> list[Action]:
        loa = await self._loa_row(info)
        return reads.allowed_actions(info.context.services, self.row, loa)

    @strawberry.field(description="The order's timeline from the event log, oldest first.")
    async def events(
        self,
        info: CtxInfo,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[PortOrderEventRecord]:
        args = page_args(first, after, last, before)
        loaders = info.context.loaders
        sid = self.row.sid
        page = await loaders.events.load((sid, event_args(args)))
        return connection(
            page,
            args,
            wrap_event,
            _event_cursor,
            lambda: loaders.event_count.load(sid),
        )


_ORDER_VALUES = PlainValues(fields.PORT_ORDER)
_LOA_VALUES = PlainValues(fields.LOA)


T = TypeVar("T")


def _built(cls: type[T], row: Any, values: dict[str, Any]) -> T:
    """An instance of `cls` whose attributes are `values` (a fresh dict), `row` and its `id`."""
    values["row"] = row
    values["id"] = values["sid"]
    return instance(cls, values)


built_directly(PortOrderType, {"row", "id", *_ORDER_VALUES.names})
built_directly(LoaType, {"row", "id", *_LOA_VALUES.names})


def wrap_order(row: PortOrder) -> PortOrderType:
    """The row's plain values become the type's attributes (`PlainValues`)."""
    return _built(PortOrderType, row, _ORDER_VALUES(row))


def wrap_loa(row: Loa) -> LoaType:
    return _built(LoaType, row, _LOA_VALUES(row))


def wrap_event(row: Event) -> PortOrderEventRecord:
    return PortOrderEventRecord(row=row)
