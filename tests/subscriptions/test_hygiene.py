"""Point 5: keep-alive, the connection_init timeout, the cap on subscriptions per socket, and
1,000 connect / subscribe / drop cycles that leave no subscription, task or listener behind."""

from __future__ import annotations

import asyncio
import json
from types import CoroutineType
from typing import Any, cast

import pytest
from websockets.asyncio.client import connect

from app.config import Settings
from app.services import port_orders
from app.services.context import Services
from tests.builders import Tenant, order_input
from tests.subscriptions.support import (
    LEGACY,
    ORDER_EVENTS,
    PROTOCOLS,
    TRANSPORT_WS,
    Live,
    raw,
    until,
)

CAP = 2


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "ws_keepalive_interval": 0.2,
            "ws_connection_init_timeout": 0.3,
            "ws_max_subscriptions": CAP,
            # Their own tasks come and go with the events: off, so task counts are ours only.
            "delivery_worker": False,
            "scheduler_enabled": False,
        }
    )


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_an_idle_socket_gets_keep_alives(live: Live, alice: Tenant, protocol: str) -> None:
    async with raw(live, protocol) as conn:
        assert (await conn.init({"Authorization": alice.authorization}))["type"] == "connection_ack"
        kinds = [(await conn.recv())["type"] for _ in range(2)]
        if protocol == TRANSPORT_WS:
            assert kinds == ["ping", "ping"]  # graphql-transport-ws: the client answers pong
            await conn.send({"type": "pong"})
        else:
            assert kinds == ["ka", "ka"]


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_socket_without_connection_init_is_closed(live: Live, protocol: str) -> None:
    async with raw(live, protocol) as conn:
        code, seen = await conn.closed()
    assert code == 4408 and seen == []
    await until(lambda: len(live.app_sockets) == 0)


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_subscriptions_per_socket_are_capped(
    live: Live, svc: Services, alice: Tenant, protocol: str
) -> None:
    async with raw(live, protocol) as conn:
        await conn.init({"Authorization": alice.authorization})
        for op_id in ("1", "2"):
            await conn.subscribe(op_id, ORDER_EVENTS, {})
        await until(lambda: svc.hub.subscriber_count == CAP)
        await conn.subscribe("3", ORDER_EVENTS, {})
        refused = await conn.recv_data()
        assert refused["type"] == "error" and refused["id"] == "3"
        assert "limit" in json.dumps(refused["payload"])

        # A finished one makes room again.
        await conn.stop("1")
        await until(lambda: svc.hub.subscriber_count == CAP - 1)
        await conn.subscribe("4", ORDER_EVENTS, {})
        await until(lambda: svc.hub.subscriber_count == CAP)
    await until(lambda: svc.hub.subscriber_count == 0)


CYCLES = 1000


async def test_connect_subscribe_drop_cycles_leave_nothing_behind(
    live: Live, svc: Services, alice: Tenant
) -> None:
    assert live.server is not None
    state = live.server.server_state
    order = await port_orders.create_port_order(svc, alice.caller, order_input())
    init = json.dumps(
        {"type": "connection_init", "payload": {"Authorization": alice.authorization}}
    )

    async def cycle(i: int) -> None:
        protocol = PROTOCOLS[i % 2]
        start = "start" if protocol == LEGACY else "subscribe"
        stop = "stop" if protocol == LEGACY else "complete"
        variables = {"sid": order.sid} if i % 3 else {}
        async with connect(live.ws_url, subprotocols=[protocol]) as ws:  # type: ignore[list-item]
            await ws.send(init)
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            await ws.send(
                json.dumps(
                    {
                        "id": "s",
                        "type": start,
                        "payload": {"query": ORDER_EVENTS, "variables": variables},
                    }
                )
            )
            await until(lambda: svc.hub.subscriber_count == 1)
            way = i % 4
            if way == 0:  # the client completes, then closes
                await ws.send(json.dumps({"id": "s", "type": stop}))
                await until(lambda: svc.hub.subscriber_count == 0)
            elif way == 1:  # the connection just drops (no close frame)
                ws.transport.abort()
            # 2, 3: a clean close with the subscription running
        await until(lambda: svc.hub.subscriber_count == 0 and not state.connections)

    await cycle(0)  # warm up: the hub's reader task now exists
    await until(lambda: not state.tasks)
    before = asyncio.all_tasks()

    for i in range(1, CYCLES + 1):
        await cycle(i)

    await until(lambda: not state.tasks and not state.connections)
    await until(lambda: len(asyncio.all_tasks()) <= len(before))
    assert svc.hub.subscriber_count == 0
    assert len(live.app_sockets) == 0
    assert len(asyncio.all_tasks()) == len(before)
    # The hub's wait on the bus is a task that is renewed on every wake-up; nothing else new.
    new = [t.get_coro() for t in asyncio.all_tasks() - before]
    names = [cast("CoroutineType[Any, Any, Any]", c).__qualname__ for c in new if c is not None]
    assert names in ([], ["Condition.wait_for"])
    assert svc.bus.waiting == 1  # only the hub waits on the bus

    # And the server still works.
    async with raw(live, TRANSPORT_WS) as conn:
        await conn.init({"Authorization": alice.authorization})
        await conn.subscribe("1", ORDER_EVENTS, {"sid": order.sid, "after": "0"})
        assert (await conn.recv_data())["type"] == "next"
