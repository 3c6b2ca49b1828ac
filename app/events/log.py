"""Appending to the event log, inside the writer's transaction.

On PostgreSQL, ids come from a sequence and concurrent transactions could commit out of id
order, so a reader at "after id N" might skip a late commit. A transaction-scoped advisory lock
taken before the insert makes event ids commit in order: the lock is held until commit.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import text

from app.porting.statuses import Actor
from app.store.engine import Tx
from app.store.tables import Event

EVENT_LOG_LOCK = 727_001  # pg_advisory_xact_lock key of the event log


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
    bind = tx.get_bind()
    if bind.dialect.name == "postgresql" and not tx.info.get("event_lock"):
        await tx.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": EVENT_LOG_LOCK})
        tx.info["event_lock"] = True
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
