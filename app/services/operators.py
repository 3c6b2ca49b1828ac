"""Carrier and operator moves: status changes, FOC changes, completion into inventory."""

from __future__ import annotations

from datetime import datetime

from app.porting import sids
from app.porting.errors import PortingError
from app.porting.statuses import Actor, PortOrderStatus, check_move
from app.services import _orders
from app.services.context import Services
from app.store import queries
from app.store.engine import Tx
from app.store.tables import IncomingPhoneNumber, PortOrder

S = PortOrderStatus


async def set_status(
    svc: Services,
    actor: Actor,
    actor_sid: str | None,
    sid: str,
    status: PortOrderStatus,
    *,
    reason_code: int | None = None,
    reason: str | None = None,
    error_code: int | None = None,
) -> PortOrder:
    """A carrier answer or an operator's decision. Any move not in the table is 21822."""
    if error_code is not None:
        PortingError(error_code)  # unknown codes are refused before anything is written
    now = svc.clock()
    async with svc.transaction() as tx:
        order = await queries.port_order(tx, sid, None)
        if order is None:
            raise PortingError(20404, field="sid")
        await _orders.claim(tx, order)
        check_move(S(order.status), status, actor)
        if status is S.COMPLETED:
            await _complete(tx, svc, order, now)
        await _orders.move(
            tx,
            svc,
            order,
            status,
            actor,
            actor_sid,
            now,
            reason_code=reason_code,
            reason=reason,
            error_code=error_code,
        )
    return order


async def _complete(tx: Tx, svc: Services, order: PortOrder, now: datetime) -> None:
    """The number enters the account's inventory."""
    if await queries.inventory_number(tx, order.number) is not None:
        raise PortingError(21838, field="number")
    pn = IncomingPhoneNumber(
        sid=sids.mint(sids.INCOMING_PHONE_NUMBER),
        account_sid=order.account_sid,
        number=order.number,
        friendly_name=order.friendly_name,
        port_order_sid=order.sid,
        date_created=now,
    )
    tx.add(pn)
    order.incoming_phone_number_sid = pn.sid


async def set_activation_date(
    svc: Services, actor: Actor, actor_sid: str | None, sid: str, activation_date: datetime
) -> PortOrder:
    """The carrier confirmed (or an operator changed) the FOC date."""
    if activation_date.tzinfo is None:
        raise PortingError(21814, field="activation_date")
    now = svc.clock()
    async with svc.transaction() as tx:
        order = await queries.port_order(tx, sid, None)
        if order is None:
            raise PortingError(20404, field="sid")
        await _orders.claim(tx, order)
        if order.status in {s.value for s in (S.COMPLETED, S.CANCELED, S.FAILED)}:
            raise PortingError(21829)
        order.activation_date = activation_date
        order.date_updated = now
        await _orders.record_order_event(
            tx,
            svc,
            order,
            "port_order.activation_date_changed",
            [_orders.ACTIVATION_DATE_UPDATE],
            actor,
            actor_sid,
            now,
        )
    return order
