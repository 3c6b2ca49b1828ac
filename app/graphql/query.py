"""Query: one order or LOA, their lists (keyset connections), and `node` by SID.

Another account's SID answers null, exactly like a SID that does not exist.
"""

from __future__ import annotations

import strawberry

from app.graphql.inputs import LoaFilterInput, PortOrderFilterInput
from app.graphql.inventory import InventoryQuery, incoming_phone_number
from app.graphql.limits import RateLimitQuery
from app.graphql.lookahead import selects
from app.graphql.nodes import CtxInfo, LoaType, Node, PortOrderType, wrap_loa, wrap_order
from app.graphql.pagination import Connection, connection, from_porting, page_args
from app.graphql.requests import PortRequestQuery, port_request
from app.porting import sids
from app.porting.errors import PortingError
from app.services import reads
from app.store.queries import LoaFilter, PortOrderFilter


async def _port_order(info: CtxInfo, sid: str) -> PortOrderType | None:
    row = await info.context.loaders.port_order.load(sid)
    return None if row is None else wrap_order(row)


async def _loa(info: CtxInfo, sid: str) -> LoaType | None:
    row = await info.context.loaders.loa.load(sid)
    return None if row is None else wrap_loa(row)


@strawberry.type
class PortingQuery:
    @strawberry.field(description="A port order by SID; null when it does not exist for you.")
    async def port_order(self, info: CtxInfo, sid: strawberry.ID) -> PortOrderType | None:
        return await _port_order(info, sid)

    @strawberry.field(description="Port orders, newest first.")
    async def port_orders(
        self,
        info: CtxInfo,
        filter: PortOrderFilterInput | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[PortOrderType]:
        args = page_args(first, after, last, before)
        f = filter.to_filter() if filter is not None else PortOrderFilter()
        svc, caller = info.context.services, info.context.who
        # The page's LOAs with the page, when its orders ask for them (one session, no load
        # per order).
        wants_loas = selects(info, "edges", "node", "loa") or selects(
            info, "edges", "node", "allowedActions"
        )
        window = (args.limit, args.after, args.before, args.from_end)
        try:
            if wants_loas:
                page, loas = await reads.list_port_orders_and_loas(svc, caller, f, *window)
                info.context.loaders.loa_rows.update(loas)
            else:
                page = await reads.list_port_orders(svc, caller, f, *window)
        except PortingError as exc:
            raise from_porting(exc) from None
        return connection(
            page, args, wrap_order, None, lambda: reads.count_port_orders(svc, caller, f)
        )

    @strawberry.field(description="An LOA by SID; null when it does not exist for you.")
    async def loa(self, info: CtxInfo, sid: strawberry.ID) -> LoaType | None:
        return await _loa(info, sid)

    @strawberry.field(description="LOAs, newest first.")
    async def loas(
        self,
        info: CtxInfo,
        filter: LoaFilterInput | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[LoaType]:
        args = page_args(first, after, last, before)
        f = filter.to_filter() if filter is not None else LoaFilter()
        svc, caller = info.context.services, info.context.who
        try:
            page = await reads.list_loas(
                svc, caller, f, args.limit, args.after, args.before, args.from_end
            )
        except PortingError as exc:
            raise from_porting(exc) from None
        return connection(page, args, wrap_loa, None, lambda: reads.count_loas(svc, caller, f))

    @strawberry.field(description="Any object by its ID (its SID); null when not found for you.")
    async def node(self, info: CtxInfo, id: strawberry.ID) -> Node | None:
        prefix = sids.prefix_of(id)
        if prefix == sids.PORT_ORDER:
            return await _port_order(info, id)
        if prefix == sids.LOA:
            return await _loa(info, id)
        if prefix == sids.INCOMING_PHONE_NUMBER:
            return await incoming_phone_number(info, id)
        if prefix == sids.PORT_REQUEST:
            return await port_request(info, id)
        return None


@strawberry.type(name="Query")
class Query(PortingQuery, InventoryQuery, PortRequestQuery, RateLimitQuery):
    """Orders, LOAs and `node` (above), then the inventory (app/graphql/inventory.py) and the
    Port Requests (app/graphql/requests.py), and `rateLimit` (app/graphql/limits.py)."""
