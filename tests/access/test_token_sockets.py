"""Access tokens on websockets (issue 14, point 2): `connection_init` with a Bearer token; a
restricted token subscribes to its order only; the socket closes with 4403 when the token
expires."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette

from app.services import port_orders
from app.services.context import Services
from tests.access.support import access_token
from tests.builders import Tenant, order_input
from tests.subscriptions.support import (
    ORDER_EVENTS,
    PROTOCOLS,
    Live,
    data_of,
    live_server,
    raw,
    until,
)

# Serial (run alone after the parallel part of scripts/test):
# a socket closes within seconds of its token's expiry.
pytestmark = [pytest.mark.dialects("sqlite"), pytest.mark.serial]


@pytest.fixture
async def live(app: Starlette) -> AsyncIterator[Live]:
    async with live_server(app) as server:
        yield server


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_token_subscribes_and_the_socket_closes_with_4403_when_it_expires(
    live: Live, http: httpx.AsyncClient, svc: Services, alice: Tenant, protocol: str
) -> None:
    # given an order and a token of four seconds restricted to it
    order = await port_orders.create_port_order(svc, alice.caller, order_input())
    token = await access_token(http, alice.authorization, restriction=order.sid, ttl=4)
    async with raw(live, protocol) as conn:
        # when a socket authenticates with it and subscribes to the order
        ack = await conn.init({"Authorization": f"Bearer {token}"})
        assert ack["type"] == "connection_ack"
        await conn.subscribe("1", ORDER_EVENTS, {"sid": order.sid})
        await until(lambda: svc.hub.subscriber_count == 1)
        await port_orders.cancel_port_order(svc, alice.caller, order.sid)
        # then the order's change arrives
        event = data_of(await conn.recv_data())
        assert event["portOrderStatusChanged"]["portOrderSid"] == order.sid
        # and the socket is closed with 4403 once the token expired
        started = time.monotonic()
        code, _ = await conn.closed()
        assert code == 4403
        assert time.monotonic() - started < 6


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_restricted_token_cannot_subscribe_to_everything_or_another_order(
    live: Live, http: httpx.AsyncClient, svc: Services, alice: Tenant, protocol: str
) -> None:
    mine = await port_orders.create_port_order(svc, alice.caller, order_input())
    other = await port_orders.create_port_order(
        svc, alice.caller, order_input(first_name="Ada", last_name="Byron")
    )
    token = await access_token(http, alice.authorization, restriction=mine.sid)
    async with raw(live, protocol) as conn:
        assert (await conn.init({"Authorization": f"Bearer {token}"}))["type"] == "connection_ack"
        for op_id, variables, code in (("1", {}, 20403), ("2", {"sid": other.sid}, 20404)):
            await conn.subscribe(op_id, ORDER_EVENTS, variables)
            message = await conn.recv_data()
            while message["type"] == "complete":  # (of the operation before)
                message = await conn.recv_data()
            assert message["id"] == op_id
            payload = message["payload"]
            errors = payload if isinstance(payload, list) else payload.get("errors", [payload])
            assert errors[0]["extensions"]["code"] == code, message


async def test_an_expired_token_is_refused_at_connection_init(
    live: Live, http: httpx.AsyncClient, alice: Tenant
) -> None:
    async with raw(live, PROTOCOLS[1]) as conn:
        await conn.send({"type": "connection_init", "payload": {"Authorization": "Bearer x.y.z"}})
        code, seen = await conn.closed()
        assert code == 4403 and seen == []
