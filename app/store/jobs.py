"""Carrier steps as rows of the `jobs` queue (app/store/work.py JOBS), written in the
transaction of the change that implies them (what they are: app/porting/changes.py).

`payload.status` is the order status a step was written for; a step that finds its order
elsewhere does nothing. States: `pending` -> `done` | `failed`, or `retired` when a later move
of the order made it moot.

Everything here runs inside the caller's transaction and never commits.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import col

from app.porting.changes import Step, StepPlan, When
from app.store import bulk, work
from app.store.engine import Tx
from app.store.tables import Job, PortOrder

SUBMIT = Step.SUBMIT.value
ANSWER = Step.ANSWER.value
CANCEL = Step.CANCEL.value
KINDS = (SUBMIT, ANSWER, CANCEL)

PENDING = work.PENDING
DONE = work.JOBS.done
FAILED = work.JOBS.dead
RETIRED = "retired"


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
    work.written(tx, work.JOBS)
    return job


async def retire(tx: Tx, order_sid: str, kinds: Iterable[str]) -> None:
    """Pending steps of these kinds for the order are moot now."""
    kinds = [str(k) for k in kinds]
    if not kinds:
        return
    await tx.execute(
        update(Job)
        .where(
            col(Job.port_order_sid) == order_sid,
            col(Job.state) == PENDING,
            col(Job.kind).in_(kinds),
        )
        .values(state=RETIRED, lease_until=None, lease_token=None)
    )


async def retire_many(tx: Tx, order_sids: Iterable[str], kinds: Iterable[str]) -> None:
    """`retire` for many orders at once (the same kinds for each)."""
    sids, kinds = list(order_sids), [str(k) for k in kinds]
    if not sids or not kinds:
        return
    await tx.execute(
        update(Job)
        .where(
            col(Job.port_order_sid).in_(sids),
            col(Job.state) == PENDING,
            col(Job.kind).in_(kinds),
        )
        .values(state=RETIRED, lease_until=None, lease_token=None)
    )


def _planned(order: PortOrder, plans: Iterable[StepPlan], now: datetime) -> list[dict[str, Any]]:
    """The columns of the job row of each planned step of `order`."""
    out = []
    for plan in plans:
        run_at = (order.activation_date or now) if plan.when is When.FOC else now
        payload = {} if plan.for_status is None else {"status": plan.for_status.value}
        out.append(
            {
                "kind": plan.step.value,
                "port_order_sid": order.sid,
                "payload": payload,
                "state": PENDING,
                "run_at": run_at,
                "attempts": 0,
                "date_created": now,
                "lease_until": None,
                "lease_token": None,
            }
        )
    return out


def write(tx: Tx, order: PortOrder, plans: Iterable[StepPlan], now: datetime) -> None:
    """Write the planned steps of `order`."""
    for values in _planned(order, plans, now):
        tx.add(Job(**values))
        work.written(tx, work.JOBS)


async def write_many(
    tx: Tx, planned: Iterable[tuple[PortOrder, Iterable[StepPlan]]], now: datetime
) -> None:
    """`write` for many orders, in ONE statement."""
    rows = [values for order, plans in planned for values in _planned(order, plans, now)]
    if rows:
        await bulk.insert_rows(tx, Job, rows)
        work.written(tx, work.JOBS)
