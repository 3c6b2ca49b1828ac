"""Carrier jobs: due work as rows of the `jobs` table, written in the transaction that implies it.

Kinds:
- `carrier.submit`: hand a signed order to the carrier (written when it goes SUBMITTED).
- `carrier.answer`: ask the carrier for its answer (after submission, and at the FOC date of an
  ACCEPTED order). `payload.status` is the order status the job was written for; a job that
  finds its order elsewhere does nothing.
- `carrier.cancel`: tell the carrier the customer canceled an order it already has.

States: `pending` -> `done` | `failed`, or `retired` when a later move of the order made it
moot. A runner finishes a job only while it still holds its claim (`attempts` is the fencing
token), in the same transaction as the change the job makes: each step happens once.

Everything here runs inside the caller's transaction and never commits.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import col

from app.porting.statuses import PortOrderStatus
from app.store.engine import Tx
from app.store.tables import Job, PortOrder

SUBMIT = "carrier.submit"
ANSWER = "carrier.answer"
CANCEL = "carrier.cancel"
KINDS = (SUBMIT, ANSWER, CANCEL)

PENDING = "pending"
DONE = "done"
FAILED = "failed"
RETIRED = "retired"

S = PortOrderStatus
# Statuses in which the carrier has the order, so a cancel must reach it.
WITH_CARRIER = frozenset({S.SUBMITTED, S.ACCEPTED})


class LostJob(Exception):
    """The job is no longer ours (finished, retired, or claimed again after our lease ran out)."""


def enqueue(
    tx: Tx,
    kind: str,
    order_sid: str,
    run_at: datetime,
    now: datetime,
    payload: dict[str, Any] | None = None,
) -> Job:
    job = Job(
        kind=kind,
        port_order_sid=order_sid,
        payload=payload or {},
        state=PENDING,
        run_at=run_at,
        attempts=0,
        date_created=now,
    )
    tx.add(job)
    tx.info["jobs_written"] = True  # Services.transaction wakes the local scheduler on commit
    return job


async def retire(tx: Tx, order_sid: str, kinds: tuple[str, ...] = (SUBMIT, ANSWER)) -> None:
    """Pending jobs of these kinds for the order are moot now."""
    await tx.execute(
        update(Job)
        .where(
            col(Job.port_order_sid) == order_sid,
            col(Job.state) == PENDING,
            col(Job.kind).in_(kinds),
        )
        .values(state=RETIRED, lease_until=None)
    )


async def follow_up(tx: Tx, order: PortOrder, previous: PortOrderStatus, now: datetime) -> None:
    """After an order moved from `previous` to its current status: retire the carrier work the
    old status implied and write the work the new one implies."""
    await retire(tx, order.sid)
    status = S(order.status)
    if status is S.SUBMITTED:
        enqueue(tx, SUBMIT, order.sid, now, now, {"status": status.value})
    elif status is S.ACCEPTED:
        answer_at_foc(tx, order, now)
    elif status is S.CANCELED and (
        previous in WITH_CARRIER or (previous is S.REVIEW and order.submitted_date is not None)
    ):
        enqueue(tx, CANCEL, order.sid, now, now)


def answer_at_foc(tx: Tx, order: PortOrder, now: datetime) -> Job:
    """An ACCEPTED order completes on its FOC date: ask the carrier then."""
    run_at = order.activation_date or now
    return enqueue(tx, ANSWER, order.sid, run_at, now, {"status": S.ACCEPTED.value})


async def foc_changed(tx: Tx, order: PortOrder, now: datetime) -> None:
    """The FOC date of an order moved: an ACCEPTED order's completion moves with it."""
    if order.status == S.ACCEPTED.value:
        await retire(tx, order.sid, (ANSWER,))
        answer_at_foc(tx, order, now)


async def _fenced(tx: Tx, job: Job, **values: Any) -> None:
    result = await tx.execute(
        update(Job)
        .where(
            col(Job.id) == job.id,
            col(Job.state) == PENDING,
            col(Job.attempts) == job.attempts,
        )
        .values(**values)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise LostJob(job.id)


async def finish(tx: Tx, job: Job, state: str = DONE, note: str | None = None) -> None:
    """Mark a claimed job finished; LostJob (roll back) when it is no longer ours."""
    payload = dict(job.payload)
    if note:
        payload["note"] = note[:500]
    await _fenced(tx, job, state=state, lease_until=None, payload=payload)


async def retry(tx: Tx, job: Job, run_at: datetime, error: str) -> None:
    """Give a claimed job back, due again at `run_at`."""
    payload = {**job.payload, "last_error": error[:500]}
    await _fenced(tx, job, run_at=run_at, lease_until=None, payload=payload)


def backoff(attempts: int, base: float) -> timedelta:
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), 3600))
