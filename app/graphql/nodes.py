"""Object types. Each wraps its row as a private field and exposes fields explicitly
(DESIGN section 3.4): table classes never reach the schema, so write-only values cannot leak.
Relations load through the request's dataloaders, never lazily from a row.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.types import Info

from app.graphql.context import Context
from app.graphql.deliveries import CallbackDelivery
from app.graphql.enums import Action, LoaStatus, PortOrderStatus, PortType
from app.graphql.pagination import (
    Connection,
    connection,
    event_args,
    from_porting,
    page_args,
)
from app.porting.errors import PortingError
from app.services import reads
from app.store.tables import Event, Loa, PortOrder, PortOrderError

if TYPE_CHECKING:
    from app.graphql.inventory import IncomingPhoneNumberType

CtxInfo = Info[Context, None]
S_NAMES = frozenset(PortOrderStatus.__members__)


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
class LoaType(Node):
    row: strawberry.Private[Loa]

    @strawberry.field
    def sid(self) -> strawberry.ID:
        return strawberry.ID(self.row.sid)

    @strawberry.field
    def status(self) -> LoaStatus:
        return LoaStatus(self.row.status)

    @strawberry.field
    def first_name(self) -> str:
        return self.row.first_name

    @strawberry.field
    def last_name(self) -> str:
        return self.row.last_name

    @strawberry.field
    def email(self) -> str:
        return self.row.email

    @strawberry.field
    def url(self, info: CtxInfo) -> str:
        return info.context.services.settings.url_for(f"/porting/Loas/{self.row.sid}")

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
            page, args, wrap_order, _sid, lambda: loaders.order_count_of_loa.load(sid)
        )


def _sid(row: PortOrder | Loa) -> str:
    return row.sid


@strawberry.type(name="PortOrder", description="A request to port one number to us.")
class PortOrderType(Node):
    row: strawberry.Private[PortOrder]

    @strawberry.field
    def sid(self) -> strawberry.ID:
        return strawberry.ID(self.row.sid)

    @strawberry.field
    def account_sid(self) -> strawberry.ID:
        return strawberry.ID(self.row.account_sid)

    @strawberry.field(description="E.164, e.g. +14155550123.")
    def number(self) -> str:
        return self.row.number

    @strawberry.field
    def friendly_name(self) -> str:
        return self.row.friendly_name

    @strawberry.field
    def status(self) -> PortOrderStatus:
        return PortOrderStatus(self.row.status)

    @strawberry.field
    def port_type(self) -> PortType:
        return PortType(self.row.port_type)

    @strawberry.field
    def date_created(self) -> datetime:
        return self.row.date_created

    @strawberry.field
    def date_updated(self) -> datetime:
        return self.row.date_updated

    @strawberry.field
    def loa_sid(self) -> strawberry.ID:
        return strawberry.ID(self.row.loa_sid)

    @strawberry.field(description="Service address country (ISO 3166-1 alpha-2).")
    def iso_country(self) -> str:
        return self.row.iso_country

    @strawberry.field
    def region(self) -> str:
        return self.row.region

    @strawberry.field
    def city(self) -> str:
        return self.row.city

    @strawberry.field
    def postal_code(self) -> str:
        return self.row.postal_code

    @strawberry.field
    def street(self) -> str:
        return self.row.street

    @strawberry.field
    def company_name(self) -> str | None:
        return self.row.company_name

    @strawberry.field
    def first_name(self) -> str:
        return self.row.first_name

    @strawberry.field
    def last_name(self) -> str:
        return self.row.last_name

    @strawberry.field
    def email(self) -> str:
        return self.row.email

    @strawberry.field
    def status_updates_email(self) -> str | None:
        return self.row.status_updates_email

    @strawberry.field
    def billing_phone_number(self) -> str | None:
        return self.row.billing_phone_number

    @strawberry.field(description="The requested FOC date (never before earliestActivationDate).")
    def activation_date(self) -> datetime | None:
        return self.row.activation_date

    @strawberry.field
    def earliest_activation_date(self) -> datetime | None:
        return self.row.earliest_activation_date

    @strawberry.field(description="When the order went to the carrier.")
    def submitted_date(self) -> datetime | None:
        return self.row.submitted_date

    @strawberry.field
    def current_carrier(self) -> str | None:
        return self.row.current_carrier

    @strawberry.field
    def incoming_phone_number_sid(self) -> strawberry.ID | None:
        sid = self.row.incoming_phone_number_sid
        return None if sid is None else strawberry.ID(sid)

    @strawberry.field(description="The number in the inventory, once the port completed.")
    async def incoming_phone_number(
        self, info: CtxInfo
    ) -> Annotated[IncomingPhoneNumberType, strawberry.lazy("app.graphql.inventory")] | None:
        from app.graphql.inventory import incoming_phone_number  # the types refer to each other

        sid = self.row.incoming_phone_number_sid
        return None if sid is None else await incoming_phone_number(info, sid)

    @strawberry.field
    def status_callback(self) -> str | None:
        return self.row.status_callback

    @strawberry.field
    def cc_emails(self) -> list[str]:
        return list(self.row.cc_emails)

    @strawberry.field(description="Why the last status change happened.")
    def reason_code(self) -> int | None:
        return self.row.reason_code

    @strawberry.field
    def reason(self) -> str | None:
        return self.row.reason

    @strawberry.field
    def provider_sid(self) -> str | None:
        return self.row.provider_sid

    @strawberry.field
    def zendesk_id(self) -> str | None:
        return self.row.zendesk_id

    @strawberry.field(description="Every error the order has met, oldest first.")
    async def errors(self, info: CtxInfo) -> list[PortOrderErrorType]:
        rows = await info.context.loaders.errors.load(self.row.sid)
        return [PortOrderErrorType(row=e) for e in rows]

    @strawberry.field
    def url(self, info: CtxInfo) -> str:
        return info.context.services.settings.url_for(f"/porting/PortOrders/{self.row.sid}")

    @strawberry.field(
        description="The status callbacks this order's events implied, oldest first, with "
        "every delivery attempt."
    )
    async def callback_deliveries(self, info: CtxInfo) -> list[CallbackDelivery]:
        records = await info.context.loaders.callback_deliveries.load(self.row.sid)
        return [CallbackDelivery(record=r) for r in records]

    @strawberry.field
    async def loa(self, info: CtxInfo) -> LoaType:
        loa = await info.context.loaders.loa.load(self.row.loa_sid)
        if loa is None:  # an order's LOA belongs to the order's account
            raise RuntimeError("LOA of a visible order not found")
        return wrap_loa(loa)

    @strawberry.field(description="What the caller may do with this order now.")
    async def allowed_actions(self, info: CtxInfo) -> list[Action]:
        loa = await info.context.loaders.loa.load(self.row.loa_sid)
        if loa is None:
            raise RuntimeError("LOA of a visible order not found")
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


def wrap_order(row: PortOrder) -> PortOrderType:
    return PortOrderType(row=row)


def wrap_loa(row: Loa) -> LoaType:
    return LoaType(row=row)


def wrap_event(row: Event) -> PortOrderEventRecord:
    return PortOrderEventRecord(row=row)
