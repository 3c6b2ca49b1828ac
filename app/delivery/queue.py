"""The deliveries queue: claim due work under a lease, record each attempt, reschedule.

A claim sets `lease_until` and a fresh `lease_token` in a short transaction (on PostgreSQL the
candidate rows are read FOR UPDATE SKIP LOCKED, so concurrent claimers take different rows);
the send happens outside any transaction; `finish` records the attempt and moves the delivery.
A worker that dies keeps nothing: its lease expires and another worker claims the row again.
A success is final even if the lease was lost meanwhile (state pending -> delivered only),
so nothing is sent again after one; a failure only reschedules while the lease is still ours.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import update

from app.delivery import retry
from app.delivery.plan import PENDING
from app.services.context import Services
from app.store import queries
from app.store.tables import Delivery, DeliveryAttempt


def new_lease_token() -> str:
    return secrets.token_hex(16)


async def claim(svc: Services, limit: int, token: str) -> list[Delivery]:
    if limit <= 0:
        return []
    now = svc.clock()
    lease_until = now + timedelta(seconds=svc.settings.delivery_lease_seconds)
    async with svc.db.write() as tx:
        rows = list(await queries.claimable_deliveries(tx, now, limit))
        for d in rows:
            d.lease_until = lease_until
            d.lease_token = token
    return rows


def fresh(svc: Services, d: Delivery) -> bool:
    """True when our lease on callback `d` (just claimed) still has at least half its time and
    more than a callback's timeout left: nobody else can claim it before that, no renewal."""
    if d.lease_until is None:
        return False
    settings = svc.settings
    left = (d.lease_until - svc.clock()).total_seconds()
    return left >= settings.delivery_lease_seconds / 2 and left > settings.callback_timeout_seconds


async def renew(svc: Services, d: Delivery, token: str) -> bool:
    """Extend our lease right before sending; False when it is no longer ours (expired and
    claimed by another worker, or already done)."""
    now = svc.clock()
    lease_until = now + timedelta(seconds=svc.settings.delivery_lease_seconds)
    async with svc.db.write() as tx:
        result = await tx.execute(
            update(Delivery)
            .where(
                Delivery.id == d.id,  # type: ignore[arg-type]
                Delivery.lease_token == token,  # type: ignore[arg-type]
                Delivery.state == PENDING,  # type: ignore[arg-type]
            )
            .values(lease_until=lease_until)
        )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def finish(svc: Services, d: Delivery, token: str, outcome: retry.Outcome) -> retry.Step:
    (step,) = await finish_many(svc, [(d, token, outcome)])
    return step


async def finish_many(
    svc: Services, done: Sequence[tuple[Delivery, str, retry.Outcome]]
) -> list[retry.Step]:
    """Record each attempt and move each delivery, all in one transaction (the worker hands
    over every send that finished while its previous commit was being written)."""
    now = svc.clock()
    steps: list[retry.Step] = []
    async with svc.db.write() as tx:
        for d, token, outcome in done:
            step = retry.next_step(outcome, d.attempts + 1, svc.settings.retry_schedule, now)
            steps.append(step)
            error = outcome.error
            if step.note:
                error = f"{error}; {step.note}" if error else step.note
            assert d.id is not None
            tx.add(
                DeliveryAttempt(
                    delivery_id=d.id,
                    date=now,
                    status_code=outcome.status_code,
                    error=error,
                    latency_ms=outcome.latency_ms,
                )
            )
            stmt = update(Delivery).where(Delivery.id == d.id, Delivery.state == PENDING)  # type: ignore[arg-type]
            if not outcome.ok:
                stmt = stmt.where(Delivery.lease_token == token)  # type: ignore[arg-type]
            values: dict[str, object] = {
                "attempts": Delivery.attempts + 1,
                "state": step.state,
                "lease_until": None,
                "lease_token": None,
                "date_updated": now,
            }
            if step.next_attempt_at is not None:
                values["next_attempt_at"] = step.next_attempt_at
            await tx.execute(stmt.values(**values).execution_options(synchronize_session=False))
    return steps
