"""LOA use cases: request the signature (open -> signing), sign (signing -> signed).

The moves are the LOA transition table's (app/porting/statuses.py); signing submits every
PENDING order the letter covers, each through the orders' own status change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.porting import sids, windows
from app.porting.dates import earliest_activation_date
from app.porting.documents import DocumentType
from app.porting.errors import PortingError
from app.porting.statuses import Actor, LoaStatus, PortOrderStatus, PortType
from app.services import _orders, documents, letters, loa_pdf
from app.services.context import Caller, Services
from app.store import queries
from app.store.engine import Tx
from app.store.tables import Loa, PortOrder


@dataclass(frozen=True)
class Signature:
    signer_name: str
    ip: str | None
    user_agent: str | None
    text_sha256: str


async def request(tx: Tx, svc: Services, caller: Caller, loa_sid: str) -> Loa:
    if not sids.is_sid(loa_sid, sids.LOA):
        raise PortingError(21901, field="sid")
    now = svc.clock()
    loa = await queries.loa(tx, loa_sid, caller.visible)
    if loa is None:
        raise PortingError(20404, field="sid")
    await _orders.claim(tx, loa)
    await _orders.move_loa(tx, loa, LoaStatus.SIGNING, caller.actor, caller.sid, now)
    return loa


async def request_signature(svc: Services, caller: Caller, loa_sid: str) -> Loa:
    return await svc.run(request, svc, caller, loa_sid)


async def sign_loa(tx: Tx, svc: Services, loa_sid: str, signature: Signature) -> Loa:
    """The signer signed on the signing page (the token was checked by the page)."""
    now = svc.clock()
    loa = await queries.loa(tx, loa_sid, None)
    if loa is None:
        raise PortingError(20404, field="sid")
    await _orders.claim(tx, loa)
    loa.signer_name = signature.signer_name
    loa.signed_date = now
    loa.signer_ip = signature.ip
    loa.signer_user_agent = signature.user_agent
    loa.signed_text_sha256 = signature.text_sha256
    await _orders.move_loa(tx, loa, LoaStatus.SIGNED, Actor.CUSTOMER, None, now)
    orders = list(await queries.port_orders_of_loa(tx, loa.sid))
    await _store_signed_pdf(tx, loa, orders, now)
    for order in orders:
        if order.status != PortOrderStatus.PENDING.value:
            continue
        await _orders.claim(tx, order)
        await submit(tx, svc, order, now)
    return loa


async def _store_signed_pdf(tx: Tx, loa: Loa, orders: list[PortOrder], now: datetime) -> None:
    """The signed letter as a PDF, stored as a `loa` document of each order it covers (one
    statement for all of them)."""
    letter = letters.letter_of(loa, orders)
    pdf = documents.NewDocument(
        DocumentType.LOA, loa_pdf.file_name(loa), "application/pdf", loa_pdf.render(letter, loa)
    )
    covered = [o for o in orders if o.status not in letters.NOT_COVERED]
    await documents.add_many(tx, covered, pdf, now)


async def submit(tx: Tx, svc: Services, order: PortOrder, now: datetime) -> None:
    """A claimed PENDING order whose LOA is signed goes to the carrier: SUBMITTED, its
    earliest date counted from now and its requested date placed again (an FOC change when
    it moves)."""
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
    placed = windows.place(requested, earliest, order.iso_country, order.region)
    order.activation_date = placed.activation_date
    if placed.reason is not None:
        order.activation_date_reason = placed.reason
    await _orders.move(
        tx,
        order,
        PortOrderStatus.SUBMITTED,
        Actor.SERVICE,
        None,
        now,
        foc_changed=requested != order.activation_date,
    )


async def sign(svc: Services, loa_sid: str, signature: Signature) -> Loa:
    return await svc.run(sign_loa, svc, loa_sid, signature)
