"""Subscription streams: replay + live with no gap or duplicate, tenants, replicas, reconnects."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from app.config import Settings
from app.services import loas, port_orders
from app.services.context import Services
from app.store.pgbus import APPLICATION_NAME, PostgresBus, asyncpg_dsn
from app.store.tables import Event
from app.wiring import build_services
from tests.builders import account, order_input
from tests.conftest import SECRET

WAIT = 10  # seconds before a missing event fails the test (never a performance assertion)


async def take(stream: AsyncIterator[Event], n: int) -> list[Event]:
    out: list[Event] = []
    async with asyncio.timeout(WAIT):
        async for event in stream:
            out.append(event)
            if len(out) == n:
                break
    return out


async def subscribed(svc: Services, n: int) -> None:
    async with asyncio.timeout(WAIT):
        while svc.hub.subscriber_count < n:  # noqa: ASYNC110 (the hub has no event for it)
            await asyncio.sleep(0.01)


async def test_replay_then_live_without_gap_or_duplicate(svc: Services) -> None:
    caller = await account(svc)
    first = await port_orders.create_port_order(svc, caller, order_input())
    history = await take(
        svc.hub.events(visible=caller.visible, resource_type="port_order", after=0), 2
    )
    assert [e.payload["status"] for e in history] == ["CREATED", "PENDING"]
    cursor = history[0].id
    assert cursor is not None

    stream = svc.hub.events(visible=caller.visible, resource_type="port_order", after=cursor)
    replayed = await take(stream, 1)  # PENDING of the first order, from the log
    assert replayed[0].id == history[1].id
    second = await port_orders.create_port_order(svc, caller, order_input())
    live = await take(stream, 2)
    await stream.aclose()  # type: ignore[attr-defined]
    assert [(e.resource_sid, e.payload["status"]) for e in live] == [
        (second.sid, "CREATED"),
        (second.sid, "PENDING"),
    ]
    assert first.sid != second.sid
    assert svc.hub.subscriber_count == 0


async def test_stream_filters_tenant_and_resource(svc: Services) -> None:
    alice, bob = await account(svc), await account(svc)
    mine = await port_orders.create_port_order(svc, alice, order_input())
    stream = svc.hub.events(visible=bob.visible, resource_type="loa")
    waiter = asyncio.ensure_future(take(stream, 1))
    await subscribed(svc, 1)  # a stream starts when first iterated, in the waiter's task
    await loas.request_signature(svc, alice, mine.loa_sid)  # not Bob's: must not arrive
    bobs = await port_orders.create_port_order(svc, bob, order_input())
    await loas.request_signature(svc, bob, bobs.loa_sid)
    (event,) = await waiter
    assert event.resource_sid == bobs.loa_sid and event.payload["status"] == "signing"


async def test_connect_drop_cycles_leave_nothing_behind(svc: Services) -> None:
    caller = await account(svc)
    await svc.hub.start()
    tasks_before = len(asyncio.all_tasks())
    for _ in range(1000):
        stream = svc.hub.events(visible=caller.visible, resource_type="port_order")
        waiter = asyncio.ensure_future(take(stream, 1))
        await asyncio.sleep(0)
        waiter.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await waiter
        await stream.aclose()  # type: ignore[attr-defined]
    assert svc.hub.subscriber_count == 0
    assert len(asyncio.all_tasks()) == tasks_before


@pytest.fixture
async def pg_svc(pg_database: str, tmp_path: Path) -> AsyncIterator[Services]:
    """LISTEN/NOTIFY is PostgreSQL's: these tests run on PostgreSQL only."""
    settings = Settings(database_url=pg_database, secret_key=SECRET, var_dir=tmp_path / "var")
    services = build_services(settings)
    try:
        yield services
    finally:
        await services.close()


@pytest.mark.postgres
async def test_change_on_one_replica_reaches_the_other(pg_svc: Services) -> None:
    svc = pg_svc
    replica_b = build_services(svc.settings)
    await svc.start()
    await replica_b.start()
    try:
        assert isinstance(svc.bus, PostgresBus)
        caller = await account(replica_b)
        stream = svc.hub.events(visible=caller.visible, resource_type="port_order")
        waiter = asyncio.ensure_future(take(stream, 2))
        await subscribed(svc, 1)
        order = await port_orders.create_port_order(replica_b, caller, order_input())
        events = await waiter
        assert {e.resource_sid for e in events} == {order.sid}
    finally:
        await replica_b.close()


@pytest.mark.postgres
async def test_listener_reconnects_and_catches_up(pg_svc: Services) -> None:
    svc = pg_svc
    await svc.start()
    bus = svc.bus
    assert isinstance(bus, PostgresBus)
    async with asyncio.timeout(WAIT):
        await bus.connected.wait()
    caller = await account(svc)
    stream = svc.hub.events(visible=caller.visible, resource_type="port_order")
    waiter = asyncio.ensure_future(take(stream, 2))
    await subscribed(svc, 1)
    conn = await asyncpg.connect(asyncpg_dsn(svc.db.url))
    try:
        await conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = $1 AND datname = current_database()",
            APPLICATION_NAME,
        )
    finally:
        await conn.close()
    # A change committed by another replica while this one is not listening.
    other = build_services(svc.settings)
    try:
        order = await port_orders.create_port_order(other, caller, order_input())
    finally:
        await other.close()
    events = await waiter
    assert {e.resource_sid for e in events} == {order.sid}
    assert bus.reconnects >= 1
