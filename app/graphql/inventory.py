"""The inventory in GraphQL: `IncomingPhoneNumber` (a number a completed port put into an
account, `PN` SID), `Query.incomingPhoneNumbers` (a keyset connection, newest first) and the
lookups `node(id: "PN...")` and `PortOrder.incomingPhoneNumber` use (through dataloaders).

An account sees its own numbers and its subaccounts'; an operator sees every account's.
"""

from __future__ import annotations

from datetime import datetime

import strawberry

from app.graphql.nodes import CtxInfo, Node, PortOrderType, wrap_order
from app.graphql.pagination import Connection, connection, from_porting, page_args, request_error
from app.porting import fields
from app.porting.errors import PortingError
from app.services import inventory
from app.store.tables import IncomingPhoneNumber


@strawberry.type(
    name="IncomingPhoneNumber",
    description="A number in an account's inventory: a completed port put it there.",
)
class IncomingPhoneNumberType(Node):
    row: strawberry.Private[IncomingPhoneNumber]

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

    @strawberry.field(description="The port order that brought the number in.")
    def port_order_sid(self) -> strawberry.ID | None:
        sid = self.row.port_order_sid
        return None if sid is None else strawberry.ID(sid)

    @strawberry.field
    def date_created(self) -> datetime:
        return self.row.date_created

    @strawberry.field(description="The port order that brought the number in.")
    async def port_order(self, info: CtxInfo) -> PortOrderType | None:
        sid = self.row.port_order_sid
        if sid is None:
            return None
        row = await info.context.loaders.port_order.load(sid)
        return None if row is None else wrap_order(row)


def wrap_number(row: IncomingPhoneNumber) -> IncomingPhoneNumberType:
    return IncomingPhoneNumberType(row=row)


def _sid(row: IncomingPhoneNumber) -> str:
    return row.sid


async def incoming_phone_number(info: CtxInfo, sid: str) -> IncomingPhoneNumberType | None:
    """By SID through the request's dataloader; None when it does not exist for the caller."""
    row = await info.context.loaders.incoming_phone_number.load(sid)
    return None if row is None else wrap_number(row)


# `number`: as long as a port order's number filter, plain (CONTRACT.md §7, "Input limits")
NUMBER_FILTER = next(f for f in fields.PORT_ORDER_FILTERS if f.name == "number")


@strawberry.input(name="IncomingPhoneNumberFilter", description="Every field given must match.")
class IncomingPhoneNumberFilterInput:
    account_sid: strawberry.ID | None = strawberry.UNSET
    number: str | None = strawberry.field(default=strawberry.UNSET, description="E.164, exactly.")

    def given(self) -> dict[str, str | None]:
        number = None if self.number is strawberry.UNSET else self.number
        if number is not None and (refused := NUMBER_FILTER.refusal(number, "number")):
            raise request_error(refused.code, refused.message)
        return {
            "account_sid": None if self.account_sid is strawberry.UNSET else self.account_sid,
            "number": number,
        }


@strawberry.type
class InventoryQuery:
    @strawberry.field(description="The numbers in your inventory, newest first.")
    async def incoming_phone_numbers(
        self,
        info: CtxInfo,
        filter: IncomingPhoneNumberFilterInput | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[IncomingPhoneNumberType]:
        args = page_args(first, after, last, before)
        f = (filter or IncomingPhoneNumberFilterInput()).given()
        svc, caller = info.context.services, info.context.who
        try:
            page = await inventory.list_incoming_phone_numbers(
                svc,
                caller,
                args.limit,
                args.after,
                args.before,
                **f,
                from_end=args.from_end,
            )
        except PortingError as exc:
            raise from_porting(exc) from None

        async def count() -> int:
            return await inventory.count_incoming_phone_numbers(svc, caller, **f)

        return connection(page, args, wrap_number, _sid, count)
