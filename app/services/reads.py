"""Reads: one order or LOA, and the lists of SPEC section 8 with keyset pagination."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace

from sqlalchemy.ext.asyncio import AsyncSession

from app.porting import sids
from app.porting.errors import PortingError
from app.porting.statuses import parse_loa_status, parse_status
from app.services.context import Caller, Services
from app.store import queries
from app.store.queries import LoaFilter, Page, PortOrderFilter
from app.store.tables import Event, Loa, PortOrder, PortOrderError

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
    async with svc.db.read() as s:
        return await queries.errors_by_order(s, order_sids)


async def _cursor_keys(
    s: AsyncSession,
    model: type[PortOrder] | type[Loa],
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
) -> Page[PortOrder]:
    if f.status is not None:  # any letter case (SPEC 8); unknown values are 21822
        f = replace(f, status=parse_status(f.status).value)
    async with svc.db.read() as s:
        after_key, before_key = await _cursor_keys(
            s, PortOrder, sids.PORT_ORDER, caller, after_sid, before_sid
        )
        return await queries.list_port_orders(
            s, caller.visible, f, _limit(page_size), after_key, before_key
        )


async def list_loas(
    svc: Services,
    caller: Caller,
    f: LoaFilter,
    page_size: int = 50,
    after_sid: str | None = None,
    before_sid: str | None = None,
) -> Page[Loa]:
    if f.status is not None:  # any letter case; unknown values are 21904
        f = replace(f, status=parse_loa_status(f.status).value)
    async with svc.db.read() as s:
        after_key, before_key = await _cursor_keys(s, Loa, sids.LOA, caller, after_sid, before_sid)
        return await queries.list_loas(
            s, caller.visible, f, _limit(page_size), after_key, before_key
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
