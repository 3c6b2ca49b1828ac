"""Carrier use cases: what the scheduler runs for each due job, and the carrier's answers.

A job runs in two parts: the call to the carrier (no transaction open, since it may be slow),
then one transaction that finishes the job (fenced: only while the runner still holds it) and
makes the change the carrier's reply implies. A runner that lost its job rolls back, so each
step happens once, whichever replica runs it.
"""

from __future__ import annotations

import logging
from datetime import datetime

from app.carrier import jobs
from app.carrier.adapter import (
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
from app.services import _orders
from app.services.context import Services
from app.services.operators import apply_status
from app.store import queries
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


async def run_job(svc: Services, job: Job) -> str:
    """Run one claimed job; returns what happened (for logs and tests). Raises LostJob when
    the job was no longer ours (nothing changed), anything else for the scheduler to retry."""
    order = await _read_order(svc, job.port_order_sid)
    if job.kind == jobs.CANCEL:
        if order is not None:
            await svc.carrier.cancel(carrier_order(svc, order))
        async with svc.transaction() as tx:
            await jobs.finish(tx, job)
        return "canceled at carrier"
    if job.kind not in (jobs.SUBMIT, jobs.ANSWER):
        async with svc.transaction() as tx:
            await jobs.finish(tx, job, jobs.FAILED, f"unknown job kind {job.kind!r}")
        return "unknown kind"
    if order is None or order.status != _expected(job):
        async with svc.transaction() as tx:
            await jobs.finish(tx, job, jobs.RETIRED, "order moved on")
        return "moot"
    now = svc.clock()
    if job.kind == jobs.SUBMIT:
        submitted = await svc.carrier.submit(carrier_order(svc, order), now)
        async with svc.transaction() as tx:
            await jobs.finish(tx, job)
            order = await _reload(tx, order.sid, job)
            if order is not None:
                jobs.enqueue(tx, jobs.ANSWER, order.sid, submitted.answer_at, now, job.payload)
        return "submitted"
    reply = await svc.carrier.answer(carrier_order(svc, order), now)
    async with svc.transaction() as tx:
        await jobs.finish(tx, job)
        order = await _reload(tx, order.sid, job)
        if order is None:
            return "moot"
        await apply_reply(tx, svc, order, reply, svc.clock())
    return type(reply).__name__.lower()


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
        await apply_status(tx, svc, order, S.ACCEPTED, carrier, None, now, foc_changed=foc_changed)
    elif isinstance(answer, Reject | Fail):
        # A refusal (21831) and an unrecoverable fault (21835) both append the carrier's error.
        await apply_status(
            tx,
            svc,
            order,
            S.REJECTED if isinstance(answer, Reject) else S.FAILED,
            carrier,
            None,
            now,
            reason_code=answer.error_code,
            reason=answer.reason,
            error_code=answer.error_code,
        )
    elif isinstance(answer, Review):
        await apply_status(tx, svc, order, S.REVIEW, carrier, None, now, reason=answer.reason)
    elif isinstance(answer, Complete):
        await apply_status(tx, svc, order, S.COMPLETED, carrier, None, now)
    else:  # pragma: no cover - the Answer union is closed
        raise TypeError(f"not a carrier answer: {answer!r}")


async def apply_answer(svc: Services, sid: str, answer: Answer) -> PortOrder:
    """An answer the carrier pushed (a webhook adapter): one transaction, same moves."""
    now = svc.clock()
    async with svc.transaction() as tx:
        order = await queries.port_order(tx, sid, None)
        if order is None:
            raise PortingError(20404, field="sid")
        await _orders.claim(tx, order)
        await _apply_answer(tx, svc, order, answer, now)
    return order
