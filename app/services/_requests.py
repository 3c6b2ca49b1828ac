"""A Port Request's derived status, kept up to date in the transaction of every order move
(CONTRACT.md §11).

The one place order moves are carried out (app/services/_orders.py `_apply`) marks the order's
request; when the use case is done, still inside its transaction, each marked request's orders
are counted again per status (one GROUP BY) and, when that changes the derived status
(app/porting/requests.py), the change is written: the row, a `port_request.status_changed`
event and the status callback it implies. A transaction that moves many orders of one request
(signing their LOA, canceling the request) writes one change at most, to the status it ends in.

Everything here runs inside the caller's transaction and never commits.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.porting import notifications, requests
from app.porting.isotime import format_utc
from app.porting.statuses import Actor
from app.store import events, queries
from app.store.engine import Tx
from app.store.tables import PortRequest

RESOURCE = "port_request"
_MOVED = "port_requests.moved"


def order_moved(tx: Tx, request_sid: str, now: datetime) -> None:
    """An order of the request moved in this transaction: settle its status before commit."""
    tx.info.setdefault(_MOVED, {})[request_sid] = now
    tx.before_commit(_MOVED, lambda: _settle(tx))


async def _settle(tx: Tx) -> None:
    moved: dict[str, datetime] = tx.info.pop(_MOVED, {})
    for sid, now in moved.items():
        await recompute(tx, sid, now)


async def recompute(tx: Tx, request_sid: str, now: datetime) -> PortRequest | None:
    """Count the request's orders again; write the change of its derived status, if any. The
    request's row is locked first (PostgreSQL), so two transactions moving orders of one
    request count one after the other, the second seeing the first's moves."""
    row = await queries.port_request(tx, request_sid, None, for_update=True)
    if row is None:
        return None
    counts = requests.all_counts(await queries.order_counts_of_request(tx, request_sid))
    if counts == row.counts:
        return row
    row.counts = counts
    row.date_updated = now
    status = requests.derive_status(counts).value
    if status != row.status:
        row.status = status
        record_event(tx, row, requests.STATUS_CHANGED, Actor.SERVICE, None, now)
    return row


def payload(row: PortRequest) -> dict[str, Any]:
    """The request's status callback (CONTRACT.md §11), also its event's payload."""
    return {
        "port_request_sid": row.sid,
        "callback_type": [requests.CALLBACK_TYPE],
        "status": row.status,
        "counts": requests.all_counts(row.counts),
        "date_updated": format_utc(row.date_updated),
    }


def record_event(
    tx: Tx, row: PortRequest, type: str, actor: Actor, actor_sid: str | None, now: datetime
) -> None:
    """Record the request's event and its status callback."""
    body = payload(row)
    events.record(
        tx,
        resource_type=RESOURCE,
        resource_sid=row.sid,
        account_sid=row.account_sid,
        type=type,
        payload=body,
        actor=actor,
        actor_sid=actor_sid,
        now=now,
        port_request_sid=row.sid,
        deliveries=notifications.request_deliveries(body, row.status_callback),
    )
