"""Carrier tests: a fast sandbox (STEP seconds per carrier step) and helpers to drive orders."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from app.config import Settings
from app.porting.statuses import PortOrderStatus
from app.runners.scheduler import Scheduler
from app.services import loas, port_orders, reads
from app.services.context import Caller, Services
from app.store.tables import PortOrder
from tests.builders import order_input, signature

STEP = 0.2
DEADLINE = 20.0  # a safety net against a hang, not a timing assertion


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"sandbox_step_seconds": STEP})


@pytest.fixture
async def scheduler(svc: Services) -> AsyncIterator[Scheduler]:
    sched = Scheduler(svc)
    sched.start()
    try:
        yield sched
    finally:
        await sched.stop()


class ManualClock:
    """A clock tests move by hand, so each scheduler round is deterministic."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 26, 14, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


async def signed_order(svc: Services, caller: Caller, number: str, **fields: object) -> PortOrder:
    """create -> request_signature -> sign: the order is SUBMITTED and its job is written."""
    order = await port_orders.create_port_order(svc, caller, order_input(number=number, **fields))
    await loas.request_signature(svc, caller, order.loa_sid)
    await loas.sign(svc, order.loa_sid, signature())
    return order


async def wait_for_status(
    svc: Services, caller: Caller, sid: str, status: PortOrderStatus
) -> PortOrder:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DEADLINE
    while True:
        order = await reads.get_port_order(svc, caller, sid)
        assert order is not None
        if order.status == status:
            return order
        if loop.time() > deadline:
            raise AssertionError(f"{sid} stayed {order.status}, expected {status}")
        await svc.bus.wait_beyond(svc.bus.last_id, STEP / 4)


async def statuses_of(svc: Services, caller: Caller, sid: str) -> list[tuple[str, list[str]]]:
    """(status, callback types) of every status or FOC event of an order, oldest first."""
    page = await reads.order_events(svc, caller, sid, limit=100)
    return [
        (e.payload["status"], e.payload["callback_type"])
        for e in page.items
        if e.type
        in ("port_order.created", "port_order.status_changed", "port_order.activation_date_changed")
    ]
