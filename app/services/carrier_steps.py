"""Carrier use cases: what the scheduler runs for each due carrier step, and the answers.

A step runs in two parts: the call to the carrier (no transaction open, since it may be slow),
then one transaction that finishes the step's job (fenced on the runner's lease token: only
while it still holds the job) and makes the change the carrier's reply implies. A runner that
lost its job rolls back (work.Lost), so each step happens once, whichever replica runs it.
"""

from __future__ import annotations

import logging
from datetime import datetime

from app.porting import exceptions
from app.porting.carrier import (
    Accept,
    Answer,
    CarrierOrder,
    Complete,
    Fail,
    Reject,
    Reply,
    Review,
    Wait,
)
from app.porting.errors import PortingError
from app.porting.statuses import Actor, PortOrderStatus
from app.services import _orders, comments
from app.services.context import Services
from app.store import jobs, queries, work
from app.store.engine import Tx
from app.store.tables import Job, PortOrder

log = logging.getLogger(__name__)
S = PortOrderStatus


def carrier_order(svc: Services, order: PortOrder) -> CarrierOrder:
    secret = svc.cipher.decrypt_json(order.secrets_enc) if order.secrets_enc else {}
    return CarrierOrder(
        sid=order.sid,
        number=order.number,
        port_type=order.port_type,
        status=order.status,
        current_carrier=order.current_carrier,
        activation_date=order.activation_date,
        submitted_date=order.submitted_date,
        submissions=max(order.submissions, 1),
        account_number=secret.get("account_number"),
        pin_number=secret.get("pin_number"),
        ssn_last_four=secret.get("ssn_last_four"),
    )


async def _read_order(svc: Services, sid: str | None) -> PortOrder | None:
    if sid is None:
        return None
    async with svc.db.read() as s:
        return await queries.port_order(s, sid, None)


def _expected(job: Job) -> str | None:
    value = job.payload.get("status")
    return value if isinstance(value, str) else None


async def finish(tx: Tx, job: Job, token: str, state: str = jobs.DONE, note: str = "") -> None:
    """Finish a claimed job (fenced on `token`: work.Lost when it is no longer ours)."""
    payload = dict(job.payload)
    if note:
        payload["note"] = note[:500]
    await work.JOBS.settle_or_lose(tx, job, token, state, payload=payload)


async def retry(tx: Tx, job: Job, token: str, run_at: datetime, error: str) -> None:
    """Give a claimed job back, due again at `run_at` (fenced on `token`)."""
    payload = {**job.payload, "last_error": error[:500]}
    await work.JOBS.settle_or_lose(tx, job, token, work.PENDING, due=run_at, payload=payload)


async def run_job(svc: Services, job: Job, token: str) -> str:
    """Run one claimed job; returns what happened (for logs and tests). Raises work.Lost when
    the job was no longer ours (nothing changed), anything else for the scheduler to retry."""
    order = await _read_order(svc, job.port_order_sid)
    if job.kind == jobs.CANCEL:
        if order is not None:
            await svc.carrier.cancel(carrier_order(svc, order))
        await svc.run(finish, job, token)
        return "canceled at carrier"
    if job.kind not in (jobs.SUBMIT, jobs.ANSWER):
        await svc.run(finish, job, token, jobs.FAILED, f"unknown job kind {job.kind!r}")
        return "unknown kind"
    if order is None or order.status != _expected(job):
        await svc.run(finish, job, token, jobs.RETIRED, "order moved on")
        return "moot"
    now = svc.clock()
    if job.kind == jobs.SUBMIT:
        submitted = await svc.carrier.submit(carrier_order(svc, order), now)
        await svc.run(_submitted, job, token, order.sid, submitted.answer_at, now)
        return "submitted"
    reply = await svc.carrier.answer(carrier_order(svc, order), now)
    applied = await svc.run(_answered, svc, job, token, order.sid, reply)
    return type(reply).__name__.lower() if applied else "moot"


async def _submitted(
    tx: Tx, job: Job, token: str, sid: str, answer_at: datetime, now: datetime
) -> None:
    await finish(tx, job, token)
    order = await _reload(tx, sid, job)
    if order is not None:
        jobs.enqueue(tx, jobs.ANSWER, order.sid, answer_at, now, job.payload)


async def _answered(tx: Tx, svc: Services, job: Job, token: str, sid: str, reply: Reply) -> bool:
    await finish(tx, job, token)
    order = await _reload(tx, sid, job)
    if order is None:
        return False
    await apply_reply(tx, svc, order, reply, svc.clock())
    return True


async def _reload(tx: Tx, sid: str, job: Job) -> PortOrder | None:
    """The order again, inside the transaction, if it is still where the job expects it."""
    order = await queries.port_order(tx, sid, None)
    if order is None or order.status != _expected(job):
        return None
    return order


async def apply_reply(tx: Tx, svc: Services, order: PortOrder, reply: Reply, now: datetime) -> None:
    """The carrier's reply for an order it has: wait (ask again later) or an answer."""
    if isinstance(reply, Wait):
        jobs.enqueue(tx, jobs.ANSWER, order.sid, reply.until, now, {"status": order.status})
        return
    await _orders.claim(tx, order)
    await _apply_answer(tx, svc, order, reply, now)


async def _apply_answer(
    tx: Tx, svc: Services, order: PortOrder, answer: Answer, now: datetime
) -> None:
    carrier = Actor.CARRIER
    if isinstance(answer, Accept):
        foc_changed = order.activation_date != answer.foc_date
        order.activation_date = answer.foc_date
        await _orders.move(tx, order, S.ACCEPTED, carrier, None, now, foc_changed=foc_changed)
    elif isinstance(answer, Reject):
        # A refusal appends the carrier's error (21831) and carries its exception; Portico
        # explains it on the order's thread.
        kind = answer.exception_type
        exception = exceptions.value(kind, exceptions.check_fields(answer.fields_to_fix, kind))
        await _orders.move(
            tx,
            order,
            S.REJECTED,
            carrier,
            None,
            now,
            reason_code=answer.error_code,
            reason=answer.reason,
            error_code=answer.error_code,
            exception=exception,
        )
        await explain_rejection(tx, svc, order, answer.reason)
    elif isinstance(answer, Fail):
        # An unrecoverable fault (21835) appends the carrier's error.
        await _orders.move(
            tx,
            order,
            S.FAILED,
            carrier,
            None,
            now,
            reason_code=answer.error_code,
            reason=answer.reason,
            error_code=answer.error_code,
        )
    elif isinstance(answer, Review):
        await _orders.move(tx, order, S.REVIEW, carrier, None, now, reason=answer.reason)
    elif isinstance(answer, Complete):
        await _orders.move(tx, order, S.COMPLETED, carrier, None, now)
    else:  # pragma: no cover - the Answer union is closed
        raise TypeError(f"not a carrier answer: {answer!r}")


async def apply_answer(svc: Services, sid: str, answer: Answer) -> PortOrder:
    """An answer the carrier pushed (a webhook adapter): one transaction, same moves."""

    async def apply(tx: Tx) -> PortOrder:
        order = await queries.port_order(tx, sid, None)
        if order is None:
            raise PortingError(20404, field="sid")
        await _orders.claim(tx, order)
        await _apply_answer(tx, svc, order, answer, svc.clock())
        return order

    return await svc.run(apply)


async def explain_rejection(tx: Tx, svc: Services, order: PortOrder, reason: str | None) -> None:
    """Portico's own comment on a rejected order's thread: the exception, and what to fix."""
    if order.exception:
        text = exceptions.explain(order.exception, reason)
        await comments.add_system_comment(tx, svc, order.sid, text)
