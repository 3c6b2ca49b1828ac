"""The scheduler, one round at a time on a hand-moved clock: jobs are written with the change
that implies them, each step runs once, a runner that lost its lease changes nothing, and
carrier work follows the order when customers and operators move it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from app.adapters.sandbox import SandboxCarrier
from app.porting.carrier import CarrierOrder, Complete, Portability, Reply, Submitted
from app.porting.statuses import PortOrderStatus
from app.runners.scheduler import Scheduler
from app.services import operators, port_orders, reads
from app.services.context import Services
from app.store import jobs, queries
from app.store.tables import Job
from tests.builders import account, operator, order_input
from tests.carrier.conftest import STEP, ManualClock, signed_order, statuses_of

S = PortOrderStatus
NUMBER = "+14159872001"


async def jobs_of(svc: Services, sid: str) -> list[Job]:
    async with svc.db.read() as s:
        return list(await queries.jobs_of_order(s, sid))


def kinds(rows: list[Job]) -> list[tuple[str, str]]:
    return [(j.kind, j.state) for j in rows]


async def status_of(svc: Services, sid: str) -> str:
    async with svc.db.read() as s:
        order = await queries.port_order(s, sid, None)
    assert order is not None
    return order.status


@dataclass
class RecordingCarrier:
    """The sandbox's answers, with every call recorded (and the first `fail_submits` submits
    raising, like a carrier that is down)."""

    inner: SandboxCarrier = field(default_factory=lambda: SandboxCarrier(timedelta(seconds=STEP)))
    calls: list[tuple[str, str]] = field(default_factory=list)
    fail_submits: int = 0

    async def check_portability(self, number: str):  # type: ignore[no-untyped-def]
        return await self.inner.check_portability(number)

    async def check_portability_many(self, numbers: Sequence[str]) -> list[Portability]:
        return await self.inner.check_portability_many(numbers)

    async def submit(self, order: CarrierOrder, now: datetime) -> Submitted:
        self.calls.append(("submit", order.sid))
        if self.fail_submits:
            self.fail_submits -= 1
            raise RuntimeError("carrier unreachable")
        return await self.inner.submit(order, now)

    async def answer(self, order: CarrierOrder, now: datetime) -> Reply:
        self.calls.append(("answer", order.sid))
        return await self.inner.answer(order, now)

    async def cancel(self, order: CarrierOrder) -> None:
        self.calls.append(("cancel", order.sid))


def manual(svc: Services) -> ManualClock:
    clock = ManualClock()
    svc.clock = clock
    return clock


async def test_each_step_is_one_job_run_once(svc: Services) -> None:
    clock = manual(svc)
    caller = await account(svc)
    order = await signed_order(svc, caller, NUMBER)
    written = await jobs_of(svc, order.sid)
    assert [(j.kind, j.state, j.run_at, j.payload) for j in written] == [
        (jobs.SUBMIT, "pending", clock.now, {"status": "SUBMITTED"})
    ]
    sched = Scheduler(svc)

    assert await sched.run_due() == 1  # handed to the carrier; its answer is one step away
    assert await status_of(svc, order.sid) == S.SUBMITTED
    assert await sched.run_due() == 0
    clock.advance(STEP)
    assert await sched.run_due() == 1
    accepted = await reads.get_port_order(svc, caller, order.sid)
    assert accepted is not None
    assert accepted.status == S.ACCEPTED
    assert accepted.activation_date == clock.now + timedelta(seconds=STEP)
    assert await sched.run_due() == 0
    clock.advance(STEP)
    assert await sched.run_due() == 1
    assert await status_of(svc, order.sid) == S.COMPLETED
    assert await sched.run_due() == 0

    rows = await jobs_of(svc, order.sid)
    assert kinds(rows) == [(jobs.SUBMIT, "done"), (jobs.ANSWER, "done"), (jobs.ANSWER, "done")]
    assert [j.attempts for j in rows] == [1, 1, 1]
    assert all(j.lease_until is None for j in rows)
    assert sched.outcomes == {"submitted": 1, "accept": 1, "complete": 1}


async def test_a_runner_whose_lease_ran_out_changes_nothing(svc: Services) -> None:
    clock = manual(svc)
    caller = await account(svc)
    order = await signed_order(svc, caller, NUMBER)
    a, b = Scheduler(svc, lease_seconds=5), Scheduler(svc, lease_seconds=5)

    for stage in ("submit", "answer"):
        [held_by_a] = await a.claim()
        assert await b.claim() == []  # leased to a
        clock.advance(6)  # a stalls past its lease
        [taken_by_b] = await b.claim()
        assert taken_by_b.id == held_by_a.id  # the same job, leased to b's token now
        assert taken_by_b.lease_token == b.token != a.token
        assert await b.run(taken_by_b) in ("submitted", "accept")
        assert await a.run(held_by_a) == "lost", stage
        if stage == "submit":
            clock.advance(STEP)

    timeline = await statuses_of(svc, caller, order.sid)
    assert [s for s, _ in timeline] == ["CREATED", "PENDING", "SUBMITTED", "ACCEPTED"]
    rows = await jobs_of(svc, order.sid)
    assert kinds(rows) == [(jobs.SUBMIT, "done"), (jobs.ANSWER, "done"), (jobs.ANSWER, "pending")]


async def test_sign_wakes_the_local_scheduler(svc: Services) -> None:
    caller = await account(svc)
    svc.wakeups["jobs"].clear()
    await port_orders.create_port_order(svc, caller, order_input())
    assert not svc.wakeups["jobs"].is_set()  # no carrier work yet
    await signed_order(svc, caller, NUMBER)
    assert svc.wakeups["jobs"].is_set()


async def test_canceling_a_submitted_order_tells_the_carrier(svc: Services) -> None:
    clock = manual(svc)
    carrier = svc.carrier = RecordingCarrier()
    caller = await account(svc)
    order = await signed_order(svc, caller, NUMBER)
    sched = Scheduler(svc)
    assert await sched.run_due() == 1

    canceled = await port_orders.cancel_port_order(svc, caller, order.sid)
    assert canceled.status == S.CANCELED
    assert kinds(await jobs_of(svc, order.sid)) == [
        (jobs.SUBMIT, "done"),
        (jobs.ANSWER, "retired"),  # the carrier's answer no longer matters
        (jobs.CANCEL, "pending"),
    ]
    clock.advance(STEP)
    assert await sched.run_due() == 1
    assert await sched.run_due() == 0
    assert carrier.calls == [("submit", order.sid), ("cancel", order.sid)]
    assert await status_of(svc, order.sid) == S.CANCELED


async def test_canceling_before_submission_writes_no_carrier_work(svc: Services) -> None:
    caller = await account(svc)
    order = await port_orders.create_port_order(svc, caller, order_input(number=NUMBER))
    await port_orders.cancel_port_order(svc, caller, order.sid)
    assert await jobs_of(svc, order.sid) == []


async def test_an_operator_moving_the_foc_moves_the_completion(svc: Services) -> None:
    clock = manual(svc)
    caller, op = await account(svc), await operator(svc)
    order = await signed_order(svc, caller, NUMBER)
    sched = Scheduler(svc)
    await sched.run_due()
    clock.advance(STEP)
    await sched.run_due()
    assert await status_of(svc, order.sid) == S.ACCEPTED
    later = clock.now + timedelta(seconds=10 * STEP)

    await operators.operator_set_activation_date(svc, op, order.sid, later)

    clock.advance(STEP)  # the FOC date the carrier first confirmed
    assert await sched.run_due() == 0
    clock.now = later
    assert await sched.run_due() == 1
    done = await reads.get_port_order(svc, caller, order.sid)
    assert done is not None
    assert done.status == S.COMPLETED and done.activation_date == later
    events = (await reads.order_events(svc, caller, order.sid)).items
    moved = [e for e in events if e.type == "port_order.activation_date_changed"]
    assert [(e.actor, e.actor_sid, e.payload["callback_type"]) for e in moved] == [
        ("operator", op.sid, ["activation_date_update"])
    ]
    assert kinds(await jobs_of(svc, order.sid)) == [
        (jobs.SUBMIT, "done"),
        (jobs.ANSWER, "done"),
        (jobs.ANSWER, "retired"),
        (jobs.ANSWER, "done"),
    ]


async def test_an_operator_taking_over_makes_the_pending_answer_moot(svc: Services) -> None:
    clock = manual(svc)
    caller, op = await account(svc), await operator(svc)
    order = await signed_order(svc, caller, NUMBER)
    sched = Scheduler(svc)
    await sched.run_due()

    await operators.operator_set_status(svc, op, order.sid, S.REVIEW, reason="checking the PIN")

    clock.advance(STEP)
    assert await sched.run_due() == 0
    assert await status_of(svc, order.sid) == S.REVIEW
    # The operator sends it back to the carrier: a fresh submission, and the carrier answers.
    await operators.operator_set_status(svc, op, order.sid, S.SUBMITTED)
    assert await sched.run_due() == 1
    clock.advance(STEP)
    assert await sched.run_due() == 1
    assert await status_of(svc, order.sid) == S.ACCEPTED


async def test_a_failing_carrier_call_is_retried_and_the_step_happens_once(svc: Services) -> None:
    clock = manual(svc)
    carrier = svc.carrier = RecordingCarrier(fail_submits=1)
    caller = await account(svc)
    order = await signed_order(svc, caller, NUMBER)
    sched = Scheduler(svc)

    assert await sched.run_due() == 1
    assert sched.outcomes == {"retry": 1}
    [job] = await jobs_of(svc, order.sid)
    assert (job.state, job.attempts, job.lease_until) == ("pending", 1, None)
    assert job.run_at > clock.now and "carrier unreachable" in job.payload["last_error"]
    assert await sched.run_due() == 0  # backing off

    clock.now = job.run_at
    assert await sched.run_due() == 1
    assert carrier.calls == [("submit", order.sid), ("submit", order.sid)]
    assert kinds(await jobs_of(svc, order.sid)) == [(jobs.SUBMIT, "done"), (jobs.ANSWER, "pending")]


class CompletesAtOnce(RecordingCarrier):
    async def answer(self, order: CarrierOrder, now: datetime) -> Reply:
        return Complete()  # SUBMITTED -> COMPLETED is not in the transition table


async def test_an_answer_the_table_refuses_is_not_let_through(svc: Services) -> None:
    clock = manual(svc)
    svc.carrier = CompletesAtOnce()
    caller = await account(svc)
    order = await signed_order(svc, caller, NUMBER)
    sched = Scheduler(svc)
    await sched.run_due()
    clock.advance(STEP)

    assert await sched.run_due() == 1

    assert sched.outcomes["failed"] == 1
    assert await status_of(svc, order.sid) == S.SUBMITTED
    rows = await jobs_of(svc, order.sid)
    assert kinds(rows) == [(jobs.SUBMIT, "done"), (jobs.ANSWER, "failed")]
    assert "21822" in rows[1].payload["note"]
    async with svc.db.read() as s:
        assert await queries.inventory_number(s, NUMBER) is None
