"""Two `portico serve` processes on one PostgreSQL database: a subscriber on replica A gets a
change made through replica B (REST and GraphQL), by LISTEN/NOTIFY, within one second.

The delay is measured, not slept: from the event's `date_created` (the writer's clock, read at
the start of its transaction, so before the commit: the measure overstates the delay) to the
moment the client on A parsed the message."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from app.services import port_orders
from app.services.context import Services
from app.store import queries
from app.store.pgbus import APPLICATION_NAME, asyncpg_dsn
from tests.builders import Tenant, order_input
from tests.conftest import SECRET
from tests.subscriptions.support import (
    LOA_EVENTS,
    ORDER_EVENTS,
    SIGN_LOA,
    TRANSPORT_WS,
    WAIT,
    Replica,
    data_of,
    raw,
    replica_env,
)

pytestmark = pytest.mark.dialects("postgres")
ISSUE_BOUND = 1.0  # seconds: issue 5 asks for "within one second"


@pytest.fixture
def replicas(database_url: str, tmp_path: Path) -> Iterator[tuple[Replica, Replica]]:
    pair: list[Replica] = []
    try:
        for name in ("a", "b"):
            env = replica_env(database_url, tmp_path / f"var-{name}", SECRET)
            pair.append(Replica(env, tmp_path / f"serve-{name}.log"))
        yield pair[0], pair[1]
    finally:
        for r in pair:
            r.stop()


async def committed_at(svc: Services, cursor: str) -> float:
    async with svc.db.read() as s:
        (event,) = await queries.events_after(s, int(cursor) - 1, 1)
    return event.date_created.timestamp()


async def test_changes_through_replica_b_reach_subscribers_on_replica_a(
    replicas: tuple[Replica, Replica], svc: Services, alice: Tenant
) -> None:
    a, b = replicas
    await asyncio.gather(a.ready(), b.ready())
    await rest_change_on_b_reaches_a(a, b, svc, alice)
    await graphql_change_on_b_reaches_both(a, b, svc, alice)
    assert await listeners(svc) == 2  # one LISTEN connection per replica, whatever the load


async def rest_change_on_b_reaches_a(a: Replica, b: Replica, svc: Services, alice: Tenant) -> None:
    order = await port_orders.create_port_order(svc, alice.caller, order_input())
    async with svc.db.read() as s:
        cursor = str(await queries.last_event_id(s))

    async with raw(a.live, TRANSPORT_WS) as on_a:
        await on_a.init({"Authorization": alice.authorization})
        await on_a.subscribe("orders", ORDER_EVENTS, {"sid": order.sid, "after": cursor})
        await on_a.subscribe("loas", LOA_EVENTS, {"sid": order.loa_sid, "after": cursor})

        # REST on B: cancel the order.
        async with httpx.AsyncClient(base_url=b.live.http_url, timeout=WAIT) as http:
            response = await http.delete(
                f"/porting/PortOrders/{order.sid}",
                headers={"Authorization": alice.authorization},
            )
        assert response.status_code == 200, response.text
        # The cancel also canceled the order's LOA (its only order): both streams have news,
        # in either order.
        by_id = {}
        for _ in range(2):
            message = await on_a.recv_data()
            by_id[message["id"]] = (data_of(message), time.time())

    (order_data, received) = by_id["orders"]
    event = order_data["portOrderStatusChanged"]
    assert event["portOrderSid"] == order.sid and event["status"] == "CANCELED"
    assert event["portOrder"]["status"] == "CANCELED"
    assert by_id["loas"][0]["loaStatusChanged"]["status"] == "CANCELED"
    delay = received - await committed_at(svc, event["cursor"])
    assert 0 <= delay < ISSUE_BOUND, f"commit-to-client delay {delay:.3f}s"


async def graphql_change_on_b_reaches_both(
    a: Replica, b: Replica, svc: Services, alice: Tenant
) -> None:
    order = await port_orders.create_port_order(svc, alice.caller, order_input())
    async with svc.db.read() as s:
        cursor = str(await queries.last_event_id(s))

    async with contextlib.AsyncExitStack() as stack:
        subscribers = [await stack.enter_async_context(raw(r.live, TRANSPORT_WS)) for r in (a, b)]
        for conn in subscribers:
            await conn.init({"Authorization": alice.authorization})
            await conn.subscribe("1", LOA_EVENTS, {"sid": order.loa_sid, "after": cursor})

        await b.live.graphql(SIGN_LOA, {"sid": order.loa_sid}, as_=alice)

        for conn in subscribers:  # the writer's replica and the other one alike
            message = await conn.recv_data()
            received = time.time()
            event = data_of(message)["loaStatusChanged"]
            assert event["status"] == "SIGNING" and event["loa"]["status"] == "SIGNING"
            delay = received - await committed_at(svc, event["cursor"])
            assert 0 <= delay < ISSUE_BOUND, f"commit-to-client delay {delay:.3f}s"


async def listeners(svc: Services) -> int:
    conn = await asyncpg.connect(asyncpg_dsn(svc.db.url))
    try:
        return int(
            await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE application_name = $1 AND datname = current_database()",
                APPLICATION_NAME,
            )
        )
    finally:
        await conn.close()
