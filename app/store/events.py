"""Appending to the event log, and queueing the deliveries an event implies, inside the writer's
transaction.

On PostgreSQL, ids come from sequences and concurrent transactions could commit out of id
order, so a reader at "after id N" (the event log, or a keyset page) might skip a late commit.
A transaction-scoped advisory lock makes writers commit in id order: the lock is held until
commit. `Services.transaction()` takes it when the transaction begins (`serialize`), so every
use case's writes are serialised on PostgreSQL as SQLite's `BEGIN IMMEDIATE` serialises them:
no use case can hold the lock while waiting for a row another one has locked (no deadlocks),
and rows of every table (port orders, LOAs, events) commit in id order.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import text

from app.porting import sids
from app.porting.notifications import Planned
from app.porting.statuses import Actor
from app.store import work
from app.store.engine import Tx
from app.store.tables import Delivery, Event

EVENT_LOG_LOCK = 727_001  # pg_advisory_xact_lock key of the event log


async def serialize(tx: Tx) -> None:
    """Hold the event-log lock until this transaction ends (PostgreSQL; a no-op on SQLite)."""
    if tx.info.get("event_lock"):
        return
    if tx.get_bind().dialect.name == "postgresql":
        await tx.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": EVENT_LOG_LOCK})
    tx.info["event_lock"] = True


async def append(
    tx: Tx,
    *,
    resource_type: str,
    resource_sid: str,
    account_sid: str,
    type: str,
    payload: dict[str, Any],
    actor: Actor,
    actor_sid: str | None,
    now: datetime,
) -> Event:
    await serialize(tx)
    event = Event(
        resource_type=resource_type,
        resource_sid=resource_sid,
        account_sid=account_sid,
        type=type,
        payload=payload,
        actor=actor.value,
        actor_sid=actor_sid,
        date_created=now,
    )
    tx.add(event)
    await tx.flush()
    assert event.id is not None
    tx.info.setdefault("events", []).append(event)
    return event


def queue_deliveries(tx: Tx, event: Event, planned: list[Planned]) -> list[Delivery]:
    """The deliveries `event` implies, as rows of the DELIVERIES queue (due at once)."""
    assert event.id is not None
    rows = [
        Delivery(
            sid=sids.mint(sids.DELIVERY),
            event_id=event.id,
            account_sid=event.account_sid,
            channel=p.channel,
            kind=p.kind,
            target=p.target,
            state=work.PENDING,
            attempts=0,
            next_attempt_at=event.date_created,
            date_created=event.date_created,
            date_updated=event.date_created,
            port_order_sid=p.port_order_sid,
            loa_sid=p.loa_sid,
        )
        for p in planned
    ]
    if rows:
        tx.add_all(rows)
        work.written(tx, work.DELIVERIES)
    return rows
