"""Long-lived loops stop when told to, whatever they were waiting for.

The last CI run hung in a fixture's teardown: the event hub's task had been cancelled as the
bus woke it, Python 3.11's `asyncio.wait_for` returned the wake-up and dropped the
cancellation, and `Hub.stop` waited forever for a loop that went on polling."""

from __future__ import annotations

import asyncio
import contextlib

from app.services import port_orders
from app.services.context import Services
from app.store.bus import MemoryBus, stop_task
from tests.builders import account, order_input

WAIT = 10  # seconds before a stop that never ends fails the test (not a performance figure)


async def test_a_cancellation_that_arrives_as_the_wait_ends_is_not_lost() -> None:
    lost = 0
    for _ in range(200):
        bus = MemoryBus()
        waiter = asyncio.create_task(bus.wait_beyond(0, timeout=5))
        await asyncio.sleep(0)  # waiting on the bus
        await bus.publish(1)  # wakes it ...
        waiter.cancel()  # ... and the cancellation arrives before it ran again
        try:
            await waiter
        except asyncio.CancelledError:
            continue
        lost += 1
    assert lost == 0


async def test_stop_task_ends_a_loop_that_swallows_a_cancellation() -> None:
    swallowed = 0

    async def stubborn() -> None:
        nonlocal swallowed
        while True:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                if swallowed:
                    raise
                swallowed += 1  # lost once, as a library might lose it

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    async with asyncio.timeout(WAIT):
        await stop_task(task)
    assert task.cancelled() and swallowed == 1


async def test_the_hub_stops_while_events_wake_it(svc: Services) -> None:
    caller = await account(svc)
    for _ in range(20):
        stream = svc.hub.events(visible=caller.visible, resource_type="port_order")
        waiter = asyncio.ensure_future(anext(aiter(stream)))
        creating = asyncio.ensure_future(port_orders.create_port_order(svc, caller, order_input()))
        await asyncio.sleep(0)
        async with asyncio.timeout(WAIT):
            await creating
            await svc.hub.stop()  # as the commit's publish wakes the hub
        waiter.cancel()
        with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
            await waiter
        await stream.aclose()  # type: ignore[attr-defined]
    assert not svc.hub.running
