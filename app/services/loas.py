"""LOA use cases: request the signature (open -> signing), sign (signing -> signed)."""

from __future__ import annotations

from dataclasses import dataclass

from app.carrier import jobs as carrier_jobs
from app.porting import sids
from app.porting.dates import earliest_activation_date, effective_activation_date
from app.porting.errors import PortingError
from app.porting.statuses import Actor, LoaStatus, PortOrderStatus, PortType
from app.services import _orders
from app.services.context import Caller, Services
from app.store import queries
from app.store.tables import Loa


@dataclass(frozen=True)
class Signature:
    signer_name: str
    ip: str | None
    user_agent: str | None
    text_sha256: str


async def request_signature(svc: Services, caller: Caller, loa_sid: str) -> Loa:
    if not sids.is_sid(loa_sid, sids.LOA):
        raise PortingError(21901, field="sid")
    now = svc.clock()
    async with svc.transaction() as tx:
        loa = await queries.loa(tx, loa_sid, caller.visible)
        if loa is None:
            raise PortingError(20404, field="sid")
        await _orders.claim(tx, loa)
        if loa.status in (LoaStatus.SIGNING.value, LoaStatus.SIGNED.value):
            raise PortingError(21905)
        if loa.status != LoaStatus.OPEN.value:
            raise PortingError(21904, f"LOA status invalid: it is {loa.status}", "status")
        loa.status = LoaStatus.SIGNING.value
        loa.open_group_key = None  # no new orders join an LOA whose text went out for signing
        loa.date_updated = now
        await _orders.record_loa_event(tx, loa, caller.actor, caller.sid, now)
    return loa


async def sign(svc: Services, loa_sid: str, signature: Signature) -> Loa:
    """The signer signed on the signing page (the token was checked by the page)."""
    now = svc.clock()
    async with svc.transaction() as tx:
        loa = await queries.loa(tx, loa_sid, None)
        if loa is None:
            raise PortingError(20404, field="sid")
        await _orders.claim(tx, loa)
        if loa.status != LoaStatus.SIGNING.value:
            raise PortingError(21904, f"LOA status invalid: it is {loa.status}", "status")
        loa.status = LoaStatus.SIGNED.value
        loa.signer_name = signature.signer_name
        loa.signed_date = now
        loa.signer_ip = signature.ip
        loa.signer_user_agent = signature.user_agent
        loa.signed_text_sha256 = signature.text_sha256
        loa.date_updated = now
        await _orders.record_loa_event(tx, loa, Actor.CUSTOMER, None, now)
        for order in await queries.port_orders_of_loa(tx, loa.sid):
            if order.status != PortOrderStatus.PENDING.value:
                continue
            await _orders.claim(tx, order)
            order.submitted_date = now
            earliest = earliest_activation_date(
                now,
                PortType(order.port_type),
                order.iso_country,
                order.region,
                svc.settings.business_days,
            )
            requested = order.activation_date
            order.earliest_activation_date = earliest
            order.activation_date = effective_activation_date(requested, earliest)
            await _orders.move(
                tx,
                svc,
                order,
                PortOrderStatus.SUBMITTED,
                Actor.SERVICE,
                None,
                now,
                foc_changed=requested != order.activation_date,
            )
            await carrier_jobs.follow_up(tx, order, PortOrderStatus.PENDING, now)  # submit it
    return loa
