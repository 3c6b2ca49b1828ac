"""Reading deliveries and their attempts (GraphQL `PortOrder.callbackDeliveries`, CLI, tests),
and sending a dead one again.

A caller sees the deliveries of the orders it can see; operators see all of them. Each
delivery comes with every attempt: time, status code or error, latency.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from app.porting import sids
from app.porting.errors import PortingError
from app.porting.notifications import CALLBACK
from app.services.context import Caller, Services
from app.store import queries, work
from app.store.engine import Tx
from app.store.tables import Delivery, DeliveryAttempt


@dataclass(frozen=True)
class DeliveryRecord:
    delivery: Delivery
    attempts: list[DeliveryAttempt]


async def deliveries_by_order(
    svc: Services,
    caller: Caller,
    order_sids: Collection[str],
    channel: str | None = CALLBACK,
) -> dict[str, list[DeliveryRecord]]:
    """Each order's deliveries (oldest first) with their attempts, in two queries: the
    batch a dataloader wants. Orders the caller cannot see map to an empty list.
    `channel`: "callback" (default), "email", or None for both."""
    keys = list(dict.fromkeys(order_sids))
    async with svc.db.read() as s:
        by_order = await queries.deliveries_by_order(s, keys, caller.visible, channel)
        ids = [d.id for ds in by_order.values() for d in ds if d.id is not None]
        attempts = await queries.attempts_by_delivery(s, ids)
    return {
        sid: [DeliveryRecord(d, attempts.get(d.id or 0, [])) for d in by_order.get(sid, [])]
        for sid in keys
    }


async def callback_deliveries(
    svc: Services, caller: Caller, order_sid: str, channel: str | None = CALLBACK
) -> list[DeliveryRecord]:
    """One order's deliveries; 20404 when the order does not exist for this caller."""
    if not sids.is_sid(order_sid, sids.PORT_ORDER):
        raise PortingError(20404, field="sid")
    async with svc.db.read() as s:
        if await queries.port_order(s, order_sid, caller.visible) is None:
            raise PortingError(20404, field="sid")
    return (await deliveries_by_order(svc, caller, [order_sid], channel))[order_sid]


async def delivery_by_sid(svc: Services, caller: Caller, sid: str) -> DeliveryRecord | None:
    if not sids.is_sid(sid, sids.DELIVERY):
        return None
    async with svc.db.read() as s:
        d = await queries.delivery_by_sid(s, sid)
        if d is None or d.id is None or not caller.can_see(d.account_sid):
            return None
        attempts = await queries.attempts_by_delivery(s, [d.id])
    return DeliveryRecord(d, attempts[d.id])


async def dead_deliveries(svc: Services, limit: int = 100) -> list[DeliveryRecord]:
    """Deliveries that used up their attempts (or were refused for good), newest first, with
    every attempt: nothing is ever dropped silently (`portico deliveries dead`)."""
    async with svc.db.read() as s:
        rows = await queries.dead_deliveries(s, work.DELIVERIES.dead, limit)
        attempts = await queries.attempts_by_delivery(s, [d.id for d in rows if d.id is not None])
    return [DeliveryRecord(d, attempts.get(d.id or 0, [])) for d in rows]


async def revive(tx: Tx, svc: Services, sid: str) -> Delivery:
    """A dead delivery is due again now, with a fresh set of attempts (the ones it made stay
    on record); the same delivery SID, so receivers still deduplicate on it. 20404 for a
    delivery that does not exist or is not dead."""
    d = await queries.delivery_by_sid(tx, sid) if sids.is_sid(sid, sids.DELIVERY) else None
    if d is None or d.state != work.DELIVERIES.dead:
        raise PortingError(20404, "No dead delivery with this SID", "sid")
    now = svc.clock()
    d.state = work.PENDING
    d.attempts = 0
    d.next_attempt_at = now
    d.lease_until = None
    d.lease_token = None
    d.date_updated = now
    work.written(tx, work.DELIVERIES)
    return d


async def retry_delivery(svc: Services, sid: str) -> Delivery:
    """`portico deliveries retry SID` (the administrator's: no caller)."""
    return await svc.run(revive, svc, sid)
