"""Reads: one order, LOA or Port Request, and the lists of CONTRACT.md §8 with keyset
pagination."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace

from sqlalchemy.ext.asyncio import AsyncSession

from app.porting import requests, sids, statuses
from app.porting.errors import PortingError
from app.porting.requests import NumberError, NumberResult
from app.porting.statuses import (
    Action,
    LoaStatus,
    PortOrderStatus,
    PortType,
    parse_loa_status,
    parse_request_status,
    parse_status,
)
from app.services.context import Caller, Services
from app.store import queries
from app.store.queries import LoaFilter, Page, PortOrderFilter, PortRequestFilter, Window
from app.store.tables import Event, Loa, PortOrder, PortOrderError, PortRequest

MAX_PAGE_SIZE = 1000


async def get_port_order(svc: Services, caller: Caller, sid: str) -> PortOrder | None:
    if not sids.is_sid(sid, sids.PORT_ORDER):
        return None
    async with svc.db.read() as s:
        return await queries.port_order(s, sid, caller.visible)


async def get_loa(svc: Services, caller: Caller, sid: str) -> Loa | None:
    if not sids.is_sid(sid, sids.LOA):
        return None
    async with svc.db.read() as s:
        return await queries.loa(s, sid, caller.visible)


async def errors_by_order(
    svc: Services, order_sids: Collection[str]
) -> dict[str, list[PortOrderError]]:
    """Read-only rows (queries.py: `rows=True`), as the other reads of pages and batches."""
    async with svc.db.read_rows() as c:
        return await queries.errors_by_order(c, order_sids, rows=True)


async def _cursor_keys(
    s: queries.Reader,
    model: type[PortOrder] | type[Loa] | type[PortRequest],
    prefix: str,
    caller: Caller,
    after_sid: str | None,
    before_sid: str | None,
) -> tuple[int | None, int | None]:
    after_key = before_key = None
    if after_sid is not None:
        after_key = (
            await queries.key_of(s, model, after_sid, caller.visible)
            if sids.is_sid(after_sid, prefix)
            else None
        )
        if after_key is None:
            raise PortingError(21826, field="AfterSid")
    if before_sid is not None:
        before_key = (
            await queries.key_of(s, model, before_sid, caller.visible)
            if sids.is_sid(before_sid, prefix)
            else None
        )
        if before_key is None:
            raise PortingError(21825, field="BeforeSid")
    return after_key, before_key


def _limit(page_size: int) -> int:
    return max(1, min(page_size, MAX_PAGE_SIZE))


async def list_port_orders(
    svc: Services,
    caller: Caller,
    f: PortOrderFilter,
    page_size: int = 50,
    after_sid: str | None = None,
    before_sid: str | None = None,
    from_end: bool = False,
) -> Page[PortOrder]:
    """`from_end`: the last rows of the list (GraphQL `last` without `before`)."""
    page, _ = await list_port_orders_and_loas(
        svc, caller, f, page_size, after_sid, before_sid, from_end, loas=False
    )
    return page


async def list_port_orders_and_loas(
    svc: Services,
    caller: Caller,
    f: PortOrderFilter,
    page_size: int = 50,
    after_sid: str | None = None,
    before_sid: str | None = None,
    from_end: bool = False,
    *,
    loas: bool = True,
) -> tuple[Page[PortOrder], dict[str, Loa]]:
    """A page of orders (as `list_port_orders`) and, with `loas`, the LOAs of its orders by
    SID, read with the page in one statement (a GraphQL page that selects each order's LOA)."""
    if f.status is not None:  # any letter case (CONTRACT.md §8); unknown values are 21822
        f = replace(f, status=parse_status(f.status).value)
    async with svc.db.read_rows() as c:
        after_key, before_key = await _cursor_keys(
            c, PortOrder, sids.PORT_ORDER, caller, after_sid, before_sid
        )
        window = (_limit(page_size), after_key, before_key, from_end)
        if loas:  # one statement: the page joined to its LOAs
            return await queries.list_port_orders_with_loas(c, caller.visible, f, *window)
        page = await queries.list_port_orders(c, caller.visible, f, *window, rows=True)
        return page, {}


async def list_loas(
    svc: Services,
    caller: Caller,
    f: LoaFilter,
    page_size: int = 50,
    after_sid: str | None = None,
    before_sid: str | None = None,
    from_end: bool = False,
) -> Page[Loa]:
    if f.status is not None:  # any letter case; unknown values are 21904
        f = replace(f, status=parse_loa_status(f.status).value)
    async with svc.db.read() as s:
        after_key, before_key = await _cursor_keys(s, Loa, sids.LOA, caller, after_sid, before_sid)
        return await queries.list_loas(
            s, caller.visible, f, _limit(page_size), after_key, before_key, from_end
        )


async def order_events(
    svc: Services,
    caller: Caller,
    order_sid: str,
    limit: int = 50,
    after_id: int | None = None,
    before_id: int | None = None,
) -> Page[Event]:
    """An order's timeline (oldest first); empty when the caller cannot see the order."""
    async with svc.db.read() as s:
        if await queries.port_order(s, order_sid, caller.visible) is None:
            return Page([], False)
        return await queries.events_of_resource(s, order_sid, limit, after_id, before_id)


# --- batched reads (GraphQL dataloaders: one statement per batch, a session of its own) ------


async def port_orders_by_sids(
    svc: Services, caller: Caller, order_sids: Collection[str]
) -> dict[str, PortOrder]:
    wanted = [sid for sid in order_sids if sids.is_sid(sid, sids.PORT_ORDER)]
    async with svc.db.read_rows() as c:
        return await queries.port_orders_by_sids(c, wanted, caller.visible, rows=True)


async def loas_by_sids(svc: Services, caller: Caller, loa_sids: Collection[str]) -> dict[str, Loa]:
    wanted = [sid for sid in loa_sids if sids.is_sid(sid, sids.LOA)]
    async with svc.db.read_rows() as c:
        return await queries.loas_by_sids(c, wanted, caller.visible, rows=True)


async def count_port_orders(svc: Services, caller: Caller, f: PortOrderFilter) -> int:
    async with svc.db.read() as s:
        return await queries.count_port_orders(s, caller.visible, f)


async def count_loas(svc: Services, caller: Caller, f: LoaFilter) -> int:
    async with svc.db.read() as s:
        return await queries.count_loas(s, caller.visible, f)


async def port_orders_of_loas(
    svc: Services,
    caller: Caller,
    loa_sids: Collection[str],
    page_size: int,
    after_sid: str | None = None,
    before_sid: str | None = None,
    from_end: bool = False,
) -> dict[str, Page[PortOrder]]:
    """One page of orders per LOA (newest first); cursors as in `list_port_orders`."""
    async with svc.db.read() as s:
        after_key, before_key = await _cursor_keys(
            s, PortOrder, sids.PORT_ORDER, caller, after_sid, before_sid
        )
        w = Window(_limit(page_size), after_key, before_key, from_end)
        return await queries.port_orders_of_loas(s, loa_sids, caller.visible, w)


async def count_port_orders_of_loas(
    svc: Services, caller: Caller, loa_sids: Collection[str]
) -> dict[str, int]:
    async with svc.db.read() as s:
        return await queries.count_port_orders_of_loas(s, loa_sids, caller.visible)


async def events_of_orders(
    svc: Services,
    caller: Caller,
    order_sids: Collection[str],
    limit: int,
    after_id: int | None = None,
    before_id: int | None = None,
    from_end: bool = False,
) -> dict[str, Page[Event]]:
    """One page of each order's timeline (oldest first); the caller's events only."""
    async with svc.db.read() as s:
        w = Window(_limit(limit), after_id, before_id, from_end)
        return await queries.events_of_resources(s, order_sids, caller.visible, w)


async def count_events_of_orders(
    svc: Services, caller: Caller, order_sids: Collection[str]
) -> dict[str, int]:
    async with svc.db.read() as s:
        return await queries.count_events_of_resources(s, order_sids, caller.visible)


def allowed_actions(svc: Services, order: PortOrder, loa: Loa) -> list[Action]:
    """What a customer may do with the order now (the guards of CONTRACT.md §5)."""
    status = PortOrderStatus(order.status)
    return statuses.allowed_actions(
        status,
        PortType(order.port_type),
        statuses.binding_foc(status, order.activation_date),
        LoaStatus(loa.status),
        svc.clock(),
    )


# --- port requests (CONTRACT.md §11) -----------------------------------------------------------


@dataclass(frozen=True)
class RequestView:
    """A Port Request as the transports show it: the row, what became of each of its numbers
    (None where an output leaves them out: list entries), and the LOAs of its orders."""

    row: PortRequest
    numbers: list[NumberResult] | None
    loa_sids: list[str]


def number_results(
    row: PortRequest,
    orders: Mapping[str, PortOrder],
    errors: Mapping[str, Sequence[PortOrderError]],
    outcomes: Mapping[str, Sequence[NumberError]] | None = None,
) -> list[NumberResult]:
    """Each number of the request, in the order given: its order as it is now (with the
    order's errors, or the `outcomes` of an operation on it), or the errors that left it out."""
    out: list[NumberResult] = []
    for entry in row.numbers:
        order = orders.get(entry.get("port_order_sid") or "")
        if order is None:
            out.append(NumberResult(entry.get("number"), None, None, requests.stored_errors(entry)))
            continue
        if outcomes is not None:
            found = tuple(outcomes.get(order.sid, ()))
        else:
            found = tuple(NumberError(e.code, e.reason) for e in errors.get(order.sid, ()))
        out.append(NumberResult(order.number, order.sid, PortOrderStatus(order.status), found))
    return out


async def get_port_request(svc: Services, caller: Caller, sid: str) -> RequestView | None:
    """The request with every number (three statements, whatever its size)."""
    if not sids.is_sid(sid, sids.PORT_REQUEST):
        return None
    async with svc.db.read() as s:
        row = await queries.port_request(s, sid, caller.visible)
        if row is None:
            return None
        return await request_view(s, row)


async def request_view(s: AsyncSession, row: PortRequest) -> RequestView:
    orders = (await queries.orders_of_requests(s, [row.sid]))[row.sid]
    errors = await queries.errors_by_order(s, [o.sid for o in orders])
    loa_sids = list(dict.fromkeys(o.loa_sid for o in orders))
    numbers = number_results(row, {o.sid: o for o in orders}, errors)
    return RequestView(row, numbers, loa_sids)


async def list_port_requests(
    svc: Services,
    caller: Caller,
    f: PortRequestFilter,
    page_size: int = 50,
    after_sid: str | None = None,
    before_sid: str | None = None,
    from_end: bool = False,
) -> Page[PortRequest]:
    if f.status is not None:  # any letter case; unknown values are 20001
        f = replace(f, status=parse_request_status(f.status).value)
    async with svc.db.read() as s:
        after_key, before_key = await _cursor_keys(
            s, PortRequest, sids.PORT_REQUEST, caller, after_sid, before_sid
        )
        return await queries.list_port_requests(
            s, caller.visible, f, _limit(page_size), after_key, before_key, from_end
        )


async def count_port_requests(svc: Services, caller: Caller, f: PortRequestFilter) -> int:
    if f.status is not None:
        f = replace(f, status=parse_request_status(f.status).value)
    async with svc.db.read() as s:
        return await queries.count_port_requests(s, caller.visible, f)


async def port_requests_by_sids(
    svc: Services, caller: Caller, request_sids: Collection[str]
) -> dict[str, PortRequest]:
    wanted = [sid for sid in request_sids if sids.is_sid(sid, sids.PORT_REQUEST)]
    async with svc.db.read() as s:
        return await queries.port_requests_by_sids(s, wanted, caller.visible)


async def loa_sids_of_requests(
    svc: Services, request_sids: Collection[str]
) -> dict[str, list[str]]:
    """The LOAs of each request's orders (the caller may see the requests: they are its own)."""
    async with svc.db.read() as s:
        return await queries.loa_sids_of_requests(s, request_sids)


async def numbers_of_requests(
    svc: Services, rows: Sequence[PortRequest]
) -> dict[str, list[NumberResult]]:
    """Every number of each request (visible requests: their orders are their account's)."""
    async with svc.db.read() as s:
        orders = await queries.orders_of_requests(s, [r.sid for r in rows])
        flat = {o.sid: o for found in orders.values() for o in found}
        errors = await queries.errors_by_order(s, list(flat))
    return {r.sid: number_results(r, flat, errors) for r in rows}


async def port_orders_of_requests(
    svc: Services,
    caller: Caller,
    request_sids: Collection[str],
    page_size: int,
    after_sid: str | None = None,
    before_sid: str | None = None,
    from_end: bool = False,
) -> dict[str, Page[PortOrder]]:
    """One page of orders per request (newest first); cursors as in `list_port_orders`."""
    async with svc.db.read() as s:
        after_key, before_key = await _cursor_keys(
            s, PortOrder, sids.PORT_ORDER, caller, after_sid, before_sid
        )
        w = Window(_limit(page_size), after_key, before_key, from_end)
        return await queries.port_orders_of_requests(s, request_sids, caller.visible, w)


async def count_port_orders_of_requests(
    svc: Services, caller: Caller, request_sids: Collection[str]
) -> dict[str, int]:
    async with svc.db.read() as s:
        return await queries.count_port_orders_of_requests(s, request_sids, caller.visible)
