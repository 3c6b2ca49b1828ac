"""Which deliveries an event implies; queued inside the transaction that writes the event.

- A status callback when the order has `status_callback` and the event is a status or FOC
  date change (its payload's `callback_type` is not empty): SPEC section 9.
- Status mail to `status_updates_email`, else `email`, on every status move of an order
  (`port_order.status_changed`; the creation step CREATED is announced by the move that
  follows it in the same transaction, PENDING or REJECTED, so one create sends one mail).
- Mail to each address of `cc_emails` on SUBMITTED, FAILED and COMPLETED (an address that
  already gets the status mail is not mailed twice).
- The LOA signature request, with its signing link, when an LOA goes open -> signing.
SPEC section 10. The rows commit with the event or not at all.
"""

from __future__ import annotations

from app.porting import sids
from app.porting.statuses import LoaStatus, PortOrderStatus
from app.store.engine import Tx
from app.store.tables import Delivery, Event, Loa, PortOrder

CALLBACK = "callback"
EMAIL = "email"

KIND_CALLBACK = "status_callback"
KIND_STATUS_MAIL = "status_update"
KIND_CC_MAIL = "cc"
KIND_LOA_SIGNATURE = "loa_signature"

CC_STATUSES = frozenset(
    s.value for s in (PortOrderStatus.SUBMITTED, PortOrderStatus.FAILED, PortOrderStatus.COMPLETED)
)

PENDING = "pending"
DELIVERED = "delivered"
FAILED = "failed"


def _delivery(
    event: Event,
    channel: str,
    kind: str,
    target: str,
    port_order_sid: str | None = None,
    loa_sid: str | None = None,
) -> Delivery:
    assert event.id is not None
    return Delivery(
        sid=sids.mint(sids.DELIVERY),
        event_id=event.id,
        account_sid=event.account_sid,
        channel=channel,
        kind=kind,
        target=target,
        state=PENDING,
        attempts=0,
        next_attempt_at=event.date_created,
        date_created=event.date_created,
        date_updated=event.date_created,
        port_order_sid=port_order_sid,
        loa_sid=loa_sid,
    )


def order_deliveries(event: Event, order: PortOrder) -> list[Delivery]:
    out: list[Delivery] = []
    ref = (order.sid, order.loa_sid)
    if order.status_callback and event.payload.get("callback_type"):
        out.append(_delivery(event, CALLBACK, KIND_CALLBACK, order.status_callback, *ref))
    if event.type != "port_order.status_changed":
        return out
    to = order.status_updates_email or order.email
    out.append(_delivery(event, EMAIL, KIND_STATUS_MAIL, to, *ref))
    if event.payload.get("status") in CC_STATUSES:
        seen = {to.casefold()}
        for address in order.cc_emails:
            if address.casefold() not in seen:
                seen.add(address.casefold())
                out.append(_delivery(event, EMAIL, KIND_CC_MAIL, address, *ref))
    return out


def loa_deliveries(event: Event, loa: Loa) -> list[Delivery]:
    if event.payload.get("status") != LoaStatus.SIGNING.value:
        return []
    return [_delivery(event, EMAIL, KIND_LOA_SIGNATURE, loa.email, loa_sid=loa.sid)]


async def queue_order_event(tx: Tx, event: Event, order: PortOrder) -> list[Delivery]:
    rows = order_deliveries(event, order)
    tx.add_all(rows)
    return rows


async def queue_loa_event(tx: Tx, event: Event, loa: Loa) -> list[Delivery]:
    rows = loa_deliveries(event, loa)
    tx.add_all(rows)
    return rows
