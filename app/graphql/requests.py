"""Port Requests in GraphQL (CONTRACT.md §11): the `PortRequest` node (its plain fields from
app/porting/fields.py), its numbers, LOAs and orders (through dataloaders), the queries
`portRequest`, `portRequests` and `portability`, and the mutations `createPortRequest` and
`cancelPortRequest`.

A Port Request is its account's: another account's SID answers null, as a missing one does.
"""

from __future__ import annotations

from typing import Any

import strawberry

from app.graphql.enums import PortOrderStatus, PortType
from app.graphql.fields import PlainValues, add_fields, plain_fields
from app.graphql.flow_types import CommentType, comments_connection
from app.graphql.inputs import REQUEST_FIELDS, CreatePortRequestInput, PortRequestFilterInput
from app.graphql.nodes import CtxInfo, LoaType, Node, PortOrderType, wrap_loa, wrap_order
from app.graphql.pagination import Connection, connection, from_porting, page_args
from app.graphql.payloads import UserError, user_errors
from app.porting import fields, requests
from app.porting.errors import PortingError, PortingErrors
from app.porting.requests import NumberResult, PortabilityResult
from app.services import port_requests, reads
from app.services.reads import RequestView
from app.store.queries import PortRequestFilter
from app.store.tables import PortOrder, PortRequest


def _count_field(status: PortOrderStatus) -> tuple[str, Any, Any]:
    return status.value.lower(), int, strawberry.field(description=f"Orders {status.value}.")


@strawberry.type(name="PortOrderCounts", description="A Port Request's orders per status.")
@add_fields(_count_field(s) for s in PortOrderStatus)
class PortOrderCounts:
    pass


def _counts(counts: dict[str, int]) -> PortOrderCounts:
    values = requests.all_counts(counts)
    return PortOrderCounts(**{k.lower(): v for k, v in values.items()})


@strawberry.type(description="Why a number of a Port Request has no order, or what went wrong.")
class PortRequestNumberError:
    code: int
    message: str


@strawberry.type(description="One number of a Port Request: its order, or why it has none.")
class PortRequestNumber:
    result: strawberry.Private[NumberResult]

    @strawberry.field(description="E.164 (as given when it is not a valid number).")
    def number(self) -> str | None:
        return self.result.number

    @strawberry.field
    def port_order_sid(self) -> strawberry.ID | None:
        sid = self.result.port_order_sid
        return None if sid is None else strawberry.ID(sid)

    @strawberry.field(description="Its order's status; null when it has no order.")
    def status(self) -> PortOrderStatus | None:
        return self.result.status

    @strawberry.field
    def errors(self) -> list[PortRequestNumberError]:
        return [PortRequestNumberError(code=e.code, message=e.message) for e in self.result.errors]

    @strawberry.field(description="The number's order, as it is now.")
    async def port_order(self, info: CtxInfo) -> PortOrderType | None:
        sid = self.result.port_order_sid
        if sid is None:
            return None
        row = await info.context.loaders.port_order.load(sid)
        return None if row is None else wrap_order(row)


def _order_sid(row: PortOrder) -> str:
    return row.sid


@strawberry.type(name="PortRequest", description="Many numbers in one request: one order each.")
@plain_fields(fields.PORT_REQUEST)
class PortRequestType(Node):
    row: strawberry.Private[PortRequest]
    id: strawberry.ID = strawberry.field(
        description="The SID: globally unique; its prefix names the type."
    )

    @strawberry.field(description="Its orders per status.")
    def counts(self) -> PortOrderCounts:
        return _counts(self.row.counts)

    @strawberry.field(description="Each number of the request, in the order given.")
    async def numbers(self, info: CtxInfo) -> list[PortRequestNumber]:
        found = await info.context.loaders.request_numbers.load(self.row.sid)
        return [PortRequestNumber(result=n) for n in found]

    @strawberry.field(description="The LOAs covering its orders.")
    async def loas(self, info: CtxInfo) -> list[LoaType]:
        loaders = info.context.loaders
        sids = await loaders.request_loa_sids.load(self.row.sid)
        return [wrap_loa(x) for x in await loaders.loa.load_many(sids) if x is not None]

    @strawberry.field(description="The request's comment thread, oldest first.")
    async def comments(
        self,
        info: CtxInfo,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[CommentType]:
        return await comments_connection(info, self.row.sid, first, after, last, before)

    @strawberry.field(description="Its orders, newest first.")
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
            page = await loaders.orders_of_request.load((self.row.sid, args))
        except PortingError as exc:
            raise from_porting(exc) from None
        sid = self.row.sid
        return connection(
            page, args, wrap_order, _order_sid, lambda: loaders.order_count_of_request.load(sid)
        )

    @strawberry.field
    def url(self, info: CtxInfo) -> str:
        return info.context.services.settings.url_for(f"/porting/PortRequests/{self.row.sid}")


_REQUEST_VALUES = PlainValues(fields.PORT_REQUEST)


def wrap_request(row: PortRequest) -> PortRequestType:
    return PortRequestType(row=row, id=strawberry.ID(row.sid), **_REQUEST_VALUES(row))


async def port_request(info: CtxInfo, sid: str) -> PortRequestType | None:
    """By SID through the request's dataloader; None when it does not exist for the caller."""
    row = await info.context.loaders.port_request.load(sid)
    return None if row is None else wrap_request(row)


@strawberry.type(name="PortabilityResult", description="Whether one number can be ported now.")
class PortabilityResultType:
    result: strawberry.Private[PortabilityResult]

    @strawberry.field(description="E.164 (as given when it is not a valid number).")
    def number(self) -> str | None:
        return self.result.number

    @strawberry.field
    def portable(self) -> bool:
        return self.result.portable

    @strawberry.field(description="Detected from the number where its plan tells.")
    def port_type(self) -> PortType | None:
        return self.result.port_type

    @strawberry.field(description="The losing carrier, as the check names it.")
    def current_carrier(self) -> str | None:
        return self.result.current_carrier

    @strawberry.field(description="MOBILE numbers need the account number and PIN to port.")
    def pin_and_account_number_required(self) -> bool:
        return self.result.pin_and_account_number_required

    @strawberry.field(description="21812, 21827, 21837 or 21838 when not portable.")
    def not_portable_reason_code(self) -> int | None:
        return self.result.not_portable_reason_code

    @strawberry.field
    def not_portable_reason(self) -> str | None:
        return self.result.not_portable_reason


@strawberry.type
class PortRequestPayload:
    port_request: PortRequestType | None
    numbers: list[PortRequestNumber] = strawberry.field(
        description="What this mutation did with each number, in the request's order."
    )
    user_errors: list[UserError]


def _sid(row: PortRequest) -> str:
    return row.sid


@strawberry.type
class PortRequestQuery:
    @strawberry.field(description="A Port Request by SID; null when it does not exist for you.")
    async def port_request(self, info: CtxInfo, sid: strawberry.ID) -> PortRequestType | None:
        return await port_request(info, sid)

    @strawberry.field(description="Port Requests, newest first.")
    async def port_requests(
        self,
        info: CtxInfo,
        filter: PortRequestFilterInput | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[PortRequestType]:
        args = page_args(first, after, last, before)
        f = filter.to_filter() if filter is not None else PortRequestFilter()
        svc, caller = info.context.services, info.context.who
        try:
            page = await reads.list_port_requests(
                svc, caller, f, args.limit, args.after, args.before, args.from_end
            )
        except PortingError as exc:
            raise from_porting(exc) from None
        return connection(
            page, args, wrap_request, _sid, lambda: reads.count_port_requests(svc, caller, f)
        )

    @strawberry.field(
        description="Whether each number can be ported now (at most "
        "PORTICO_PORT_REQUEST_MAX_NUMBERS); stores nothing."
    )
    async def portability(self, info: CtxInfo, numbers: list[str]) -> list[PortabilityResultType]:
        ctx = info.context
        try:
            results = await port_requests.check_portability(
                ctx.services, ctx.who, {requests.NUMBERS: numbers}
            )
        except PortingError as exc:
            raise from_porting(exc) from None
        return [PortabilityResultType(result=r) for r in results]


def _done(info: CtxInfo, view: RequestView) -> PortRequestPayload:
    info.context.reset_loaders()  # rows changed: later fields must not see stale ones
    return PortRequestPayload(
        port_request=wrap_request(view.row),
        numbers=[PortRequestNumber(result=n) for n in view.numbers or []],
        user_errors=[],
    )


def _failed(errors: list[UserError]) -> PortRequestPayload:
    return PortRequestPayload(port_request=None, numbers=[], user_errors=errors)


@strawberry.type
class PortRequestMutation:
    @strawberry.mutation(
        description="Create a Port Request: one port order per number (LOAs created or "
        "reused per group); a number with errors is left out, unless allOrNothing refuses all."
    )
    async def create_port_request(
        self, info: CtxInfo, input: CreatePortRequestInput
    ) -> PortRequestPayload:
        ctx = info.context
        try:
            view = await port_requests.create_port_request(ctx.services, ctx.who, input.to_raw())
        except (PortingError, PortingErrors) as exc:
            return _failed(user_errors(exc, REQUEST_FIELDS))
        return _done(info, view)

    @strawberry.mutation(
        description="Cancel every order of the Port Request the cancel rules allow; `numbers` "
        "says what became of each."
    )
    async def cancel_port_request(self, info: CtxInfo, sid: strawberry.ID) -> PortRequestPayload:
        ctx = info.context
        try:
            view = await port_requests.cancel_port_request(ctx.services, ctx.who, sid)
        except (PortingError, PortingErrors) as exc:
            return _failed(user_errors(exc, (), ("sid",)))
        return _done(info, view)
