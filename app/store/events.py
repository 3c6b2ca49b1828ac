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

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text

from app.porting import sids
from app.porting.notifications import Planned
from app.porting.statuses import Actor
from app.store import bulk, work
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
    port_request_sid: str | None = None,
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
        port_request_sid=port_request_sid,
    )
    tx.add(event)
    await tx.flush()
    assert event.id is not None
    _appended(tx, [event.id])
    return event


def _appended(tx: Tx, ids: Sequence[int]) -> None:
    """Remember the ids this transaction appended (announced on the bus after its commit)."""
    tx.info.setdefault("event_ids", []).extend(ids)


def appended(tx: Tx) -> list[int]:
    """The ids of the events this transaction appended."""
    ids: list[int] = tx.info.get("event_ids", [])
    return ids


@dataclass(frozen=True)
class NewEvent:
    """One event of a bulk write (`append_many`), with what it is about."""

    resource_type: str
    resource_sid: str
    account_sid: str
    type: str
    payload: dict[str, Any]
    actor: Actor
    actor_sid: str | None
    port_request_sid: str | None = None


async def append_many(tx: Tx, new: Sequence[NewEvent], now: datetime) -> list[int]:
    """Append events in their order with ONE statement, whatever their number; their ids, in
    the same order. (Rows, not instances: building thousands of model instances would cost more
    than the statement.)"""
    await serialize(tx)
    rows = [
        {
            "resource_type": e.resource_type,
            "resource_sid": e.resource_sid,
            "account_sid": e.account_sid,
            "type": e.type,
            "payload": e.payload,
            "actor": e.actor.value,
            "actor_sid": e.actor_sid,
            "date_created": now,
            "port_request_sid": e.port_request_sid,
        }
        for e in new
    ]
    ids = await bulk.insert_returning_ids(tx, Event, rows)
    _appended(tx, ids)
    return ids


def _delivery(event_id: int, account_sid: str, now: datetime, p: Planned) -> dict[str, Any]:
    """The columns of a delivery row for one planned delivery of an event (due at once)."""
    return {
        "sid": sids.mint(sids.DELIVERY),
        "event_id": event_id,
        "account_sid": account_sid,
        "channel": p.channel,
        "kind": p.kind,
        "target": p.target,
        "state": work.PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "date_created": now,
        "date_updated": now,
        "port_order_sid": p.port_order_sid,
        "loa_sid": p.loa_sid,
        "lease_until": None,
        "lease_token": None,
    }


def queue_deliveries(tx: Tx, event: Event, planned: list[Planned]) -> list[Delivery]:
    """The deliveries `event` implies, as rows of the DELIVERIES queue (due at once)."""
    assert event.id is not None
    rows = [
        Delivery(**_delivery(event.id, event.account_sid, event.date_created, p)) for p in planned
    ]
    if rows:
        tx.add_all(rows)
        work.written(tx, work.DELIVERIES)
    return rows


async def queue_deliveries_many(
    tx: Tx, planned: Sequence[tuple[int, str, list[Planned]]], now: datetime
) -> int:
    """`queue_deliveries` for many events (event id, account, what it implies; written at
    `now`), in ONE statement. How many deliveries it queued."""
    rows = [_delivery(i, account, now, p) for i, account, plans in planned for p in plans]
    if rows:
        await bulk.insert_rows(tx, Delivery, rows)
        work.written(tx, work.DELIVERIES)
    return len(rows)
