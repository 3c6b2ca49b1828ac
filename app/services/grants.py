"""What a credential allows beyond the tenant rules (ARCHITECTURE.md §6): a read-only API key
or a `read` access token reads only (mutations: 20403); an access token restricted to one port
order or Port Request reaches that resource and what belongs to it, and nothing else (another
SID answers not found, as another account's does; a list or a create answers 20403).
Transports ask here (app/rest/routes.py, app/graphql/grants.py)."""

from __future__ import annotations

from app.porting import sids
from app.porting.errors import FORBIDDEN, NOT_FOUND, PortingError
from app.services import reads
from app.services.context import Caller, Services


def may_write(caller: Caller) -> None:
    if caller.read_only:
        raise PortingError(FORBIDDEN, "This credential is read-only")


def restricted(caller: Caller) -> PortingError:
    return PortingError(FORBIDDEN, "This access token is restricted to one resource")


async def within(svc: Services, caller: Caller, sid: str) -> bool:
    """Whether `sid` (an order, an LOA or a Port Request) is inside the caller's restriction
    (always, without one)."""
    r = caller.restriction
    if r is None or sid == r:
        return True
    if sids.is_sid(r, sids.PORT_ORDER):
        if sids.is_sid(sid, sids.LOA):
            order = await reads.get_port_order(svc, caller, r)
            return order is not None and order.loa_sid == sid
        return False
    if sids.is_sid(sid, sids.PORT_ORDER):
        order = await reads.get_port_order(svc, caller, sid)
        return order is not None and order.port_request_sid == r
    if sids.is_sid(sid, sids.LOA):
        view = await reads.get_port_request(svc, caller, r)
        return view is not None and sid in view.loa_sids
    return False


async def check_sid(svc: Services, caller: Caller, sid: str) -> None:
    if not await within(svc, caller, sid):
        raise PortingError(NOT_FOUND, field="sid")
