"""The queue's leases: a dead worker's claim expires; a success is never sent again."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.adapters.recording import RecordingHttpSender
from app.config import Settings
from app.runners import worker as queue
from app.runners.worker import DeliveryWorker
from app.services import deliveries, port_orders
from app.services.context import Services
from app.store import work
from app.wiring import build_services
from tests.builders import order_input, tenant
from tests.delivery.conftest import drain, fast


async def _queued(settings: Settings) -> tuple[Services, RecordingHttpSender]:
    svc = build_services(fast(settings, delivery_lease_seconds=30))
    http = RecordingHttpSender()
    svc.http_sender = http
    return svc, http


@pytest.mark.dialects("sqlite", "postgres")
async def test_a_dead_workers_claim_expires_and_is_taken_over(settings: Settings) -> None:
    svc, http = await _queued(settings)
    try:
        who = await tenant(svc)
        order = await port_orders.create_port_order(
            svc, who.caller, order_input(status_callback="https://hooks.example.com/cb")
        )
        dead = await queue.claim(svc, 10, work.new_token())  # ...and never finishes
        assert len(dead) == 3  # two callbacks, one status mail
        assert await queue.claim(svc, 10, work.new_token()) == []
        assert await DeliveryWorker(svc).run_once() == 0
        assert http.requests == []

        real_clock = svc.clock
        svc.clock = lambda: real_clock() + timedelta(seconds=31)
        await drain(svc)
        records = await deliveries.callback_deliveries(svc, who.caller, order.sid, None)
        assert [r.delivery.state for r in records] == ["delivered"] * 3
        assert [len(r.attempts) for r in records] == [1, 1, 1]
        assert len(http.requests) == 2
    finally:
        await svc.close()


@pytest.mark.dialects("sqlite", "postgres")
async def test_a_success_is_final_even_after_the_lease_was_lost(settings: Settings) -> None:
    svc, http = await _queued(settings)
    try:
        who = await tenant(svc)
        await port_orders.create_port_order(
            svc, who.caller, order_input(status_callback="https://hooks.example.com/cb")
        )
        slow_token = work.new_token()
        (first, *_) = await queue.claim(svc, 1, slow_token)
        real_clock = svc.clock
        svc.clock = lambda: real_clock() + timedelta(seconds=31)
        fast_token = work.new_token()
        (again,) = await queue.claim(svc, 1, fast_token)
        assert again.sid == first.sid  # the lease expired: claimed again

        # The slow worker's send succeeded after all: the delivery is done for good.
        await queue.finish(svc, first, slow_token, work.Outcome(True, 200))
        # The second worker's failure changes nothing, and nobody claims it again.
        await queue.finish(svc, again, fast_token, work.Outcome(False, 500, "HTTP 500"))
        record = await deliveries.delivery_by_sid(svc, who.caller, first.sid)
        assert record is not None
        assert record.delivery.state == "delivered"
        assert [a.status_code for a in record.attempts] == [200, 500]
        claimed = await queue.claim(svc, 10, work.new_token())
        assert first.sid not in {d.sid for d in claimed}
    finally:
        await svc.close()


@pytest.mark.dialects("sqlite", "postgres")
async def test_a_failure_reported_after_losing_the_lease_does_not_reschedule(
    settings: Settings,
) -> None:
    svc, _ = await _queued(settings)
    try:
        who = await tenant(svc)
        await port_orders.create_port_order(svc, who.caller, order_input())
        old_token = work.new_token()
        (d,) = await queue.claim(svc, 1, old_token)
        real_clock = svc.clock
        svc.clock = lambda: real_clock() + timedelta(seconds=31)
        new_token = work.new_token()
        (same,) = await queue.claim(svc, 1, new_token)
        await queue.finish(svc, d, old_token, work.Outcome(False, None, "connection failed"))
        record = await deliveries.delivery_by_sid(svc, who.caller, d.sid)
        assert record is not None
        assert record.delivery.state == "pending"
        assert record.delivery.lease_token == new_token  # still the new holder's
        assert record.delivery.attempts == 0 and len(record.attempts) == 1
        await queue.finish(svc, same, new_token, work.Outcome(True))
        record = await deliveries.delivery_by_sid(svc, who.caller, d.sid)
        assert record is not None and record.delivery.state == "delivered"
    finally:
        await svc.close()


def test_schedule_and_jitter() -> None:
    from datetime import UTC, datetime

    now = datetime(2026, 1, 1, tzinfo=UTC)
    fail = work.Outcome(False, 500, "HTTP 500")
    policy = work.RetryPolicy((10, 20))
    assert work.next_step(fail, 1, policy, now, lambda: 0.5).next_attempt_at == now + timedelta(
        seconds=10
    )
    low = work.next_step(fail, 2, policy, now, lambda: 0.0).next_attempt_at
    high = work.next_step(fail, 2, policy, now, lambda: 1.0).next_attempt_at
    assert low == now + timedelta(seconds=16) and high == now + timedelta(seconds=24)
    assert work.next_step(fail, 3, policy, now).state == "failed"
    assert work.next_step(work.Outcome(True, 204), 3, policy, now).state == "delivered"


def test_the_default_schedule_lasts_about_three_days() -> None:
    from app.config import Settings

    total = sum(Settings().retry_schedule)
    assert 2.5 * 86400 < total < 3.5 * 86400
