"""Reads of the inventory: the numbers completed ports put into accounts (`PN` SIDs).

Newest first with keyset pagination, like every list (ARCHITECTURE.md §4): `after_sid` gives the
rows after that number in list order, `before_sid` the rows before it. An account sees its own
numbers and its subaccounts'; an operator sees every account's.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy.ext.asyncio import AsyncSession

from app.porting import sids
from app.porting.errors import PortingError
from app.services.context import Caller, Services
from app.store import queries
from app.store.queries import Page
from app.store.tables import IncomingPhoneNumber

MAX_PAGE_SIZE = 1000


async def get_incoming_phone_number(
    svc: Services, caller: Caller, sid: str
) -> IncomingPhoneNumber | None:
    if not sids.is_sid(sid, sids.INCOMING_PHONE_NUMBER):
        return None
    async with svc.db.read() as s:
        return await queries.incoming_phone_number(s, sid, caller.visible)


async def incoming_phone_numbers_by_sids(
    svc: Services, caller: Caller, pn_sids: Collection[str]
) -> dict[str, IncomingPhoneNumber]:
    """For a dataloader (PortOrder.incomingPhoneNumber): one query for many SIDs."""
    async with svc.db.read() as s:
        return await queries.incoming_phone_numbers_by_sids(s, pn_sids, caller.visible)


async def _key(s: AsyncSession, caller: Caller, sid: str, code: int, field: str) -> int:
    key = (
        await queries.key_of(s, IncomingPhoneNumber, sid, caller.visible)
        if sids.is_sid(sid, sids.INCOMING_PHONE_NUMBER)
        else None
    )
    if key is None:
        raise PortingError(code, field=field)
    return key


async def list_incoming_phone_numbers(
    svc: Services,
    caller: Caller,
    page_size: int = 50,
    after_sid: str | None = None,
    before_sid: str | None = None,
    *,
    account_sid: str | None = None,
    number: str | None = None,
    from_end: bool = False,
) -> Page[IncomingPhoneNumber]:
    """One page of the caller's inventory. A cursor that is malformed or not visible to the
    caller is 21826 (after) / 21825 (before). `from_end`: the last (oldest) rows of the list
    (GraphQL `last` without `before`)."""
    limit = max(1, min(page_size, MAX_PAGE_SIZE))
    async with svc.db.read() as s:
        after_key = await _key(s, caller, after_sid, 21826, "AfterSid") if after_sid else None
        before_key = await _key(s, caller, before_sid, 21825, "BeforeSid") if before_sid else None
        return await queries.list_incoming_phone_numbers(
            s,
            caller.visible,
            limit,
            after_key,
            before_key,
            account_sid=account_sid,
            number=number,
            from_end=from_end,
        )


async def count_incoming_phone_numbers(
    svc: Services,
    caller: Caller,
    *,
    account_sid: str | None = None,
    number: str | None = None,
) -> int:
    """How many numbers the caller's inventory (so filtered) holds."""
    async with svc.db.read() as s:
        return await queries.count_incoming_phone_numbers(
            s, caller.visible, account_sid=account_sid, number=number
        )
