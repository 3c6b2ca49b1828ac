"""Point 1 of the issue: credentials at connection_init (or on the upgrade request), refusal
with no data on both protocols, and the tenant rules of every event."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from app.services import port_orders
from app.services.context import Services
from tests.builders import Tenant, basic, order_input, tenant
from tests.subscriptions.support import (
    LEGACY,
    ORDER_EVENTS,
    PROTOCOLS,
    TRANSPORT_WS,
    Live,
    Raw,
    data_of,
    raw,
    until,
)

FORBIDDEN = 4403
REFUSAL = {"message": "Authentication failed", "code": 20003}


async def refused(conn: Raw) -> None:
    """The server refuses: 4403 and nothing else on graphql-transport-ws; `connection_error`
    (and nothing else) then 4403 on graphql-ws."""
    code, seen = await conn.closed()
    assert code == FORBIDDEN
    if conn.protocol == LEGACY:
        assert seen == [{"type": "connection_error", "payload": REFUSAL}]
    else:
        assert seen == []


def wrong_secret(t: Tenant) -> str:
    return basic(t.sid, "not-the-token-" + "x" * 20)


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize(
    "payload",
    [
        None,
        {},
        {"Authorization": "Bearer abc"},
        {"Authorization": basic("AC" + "0" * 32, "whatever")},
        {"Authorization": 42},
        "wrong-secret",
    ],
    ids=["none", "empty", "bearer", "unknown-account", "not-a-string", "wrong-secret"],
)
async def test_without_valid_credentials_the_socket_is_closed_with_no_data(
    live: Live, svc: Services, alice: Tenant, protocol: str, payload: Any
) -> None:
    order = await port_orders.create_port_order(svc, alice.caller, order_input())
    if payload == "wrong-secret":
        payload = {"Authorization": wrong_secret(alice)}
    async with raw(live, protocol) as conn:
        await conn.send({"type": "connection_init", "payload": payload})
        # An operation sent right behind the refused init must not run either.
        await conn.subscribe("1", ORDER_EVENTS, {"sid": order.sid, "after": "0"})
        await refused(conn)
    assert svc.hub.subscriber_count == 0


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_operations_before_connection_init_are_refused(
    live: Live, svc: Services, alice: Tenant, protocol: str
) -> None:
    order = await port_orders.create_port_order(svc, alice.caller, order_input())
    async with raw(live, protocol, {"Authorization": alice.authorization}) as conn:
        await conn.subscribe("1", ORDER_EVENTS, {"sid": order.sid, "after": "0"})
        code, seen = await conn.closed()
    assert code == 4401 and seen == []


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_credentials_on_the_upgrade_request_are_accepted(
    live: Live, svc: Services, alice: Tenant, protocol: str
) -> None:
    order = await port_orders.create_port_order(svc, alice.caller, order_input())
    async with raw(live, protocol, {"Authorization": alice.authorization}) as conn:
        assert (await conn.init(None))["type"] == "connection_ack"
        await conn.subscribe("1", ORDER_EVENTS, {"sid": order.sid, "after": "0"})
        event = data_of(await conn.recv_data())["portOrderStatusChanged"]
        assert event["portOrderSid"] == order.sid and event["status"] == "CREATED"


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_payload_credentials_win_over_the_upgrade_request(
    live: Live, alice: Tenant, protocol: str
) -> None:
    async with raw(live, protocol, {"Authorization": alice.authorization}) as conn:
        await conn.send({"type": "connection_init", "payload": {"Authorization": "Basic !!"}})
        await refused(conn)


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_an_account_never_receives_another_accounts_events(
    live: Live, svc: Services, alice: Tenant, bob: Tenant, protocol: str
) -> None:
    # Given Bob subscribed to every order and LOA he may read.
    alices = await port_orders.create_port_order(svc, alice.caller, order_input())
    bobs = await port_orders.create_port_order(svc, bob.caller, order_input())
    async with raw(live, protocol) as conn:
        assert (await conn.init({"Authorization": bob.authorization}))["type"] == "connection_ack"
        await conn.subscribe("orders", ORDER_EVENTS, {})
        await until(lambda: svc.hub.subscriber_count == 1)

        # When Alice's order changes, and then Bob's.
        await port_orders.cancel_port_order(svc, alice.caller, alices.sid)
        await port_orders.cancel_port_order(svc, bob.caller, bobs.sid)

        # Then the first event Bob gets is his own (Alice's came first and was not sent).
        event = data_of(await conn.recv_data())["portOrderStatusChanged"]
        assert event["portOrderSid"] == bobs.sid and event["status"] == "CANCELED"

        # Nor does replay from the start of the log show him Alice's orders.
        await conn.subscribe("replay", ORDER_EVENTS, {"after": "0"})
        replayed = [data_of(await conn.recv_data()) for _ in range(3)]
        sids = {r["portOrderStatusChanged"]["portOrderSid"] for r in replayed}
        assert sids == {bobs.sid}


def error_payload(message: dict[str, Any]) -> Any:
    assert message["type"] == "error", message
    payload = message["payload"]
    return payload[0] if isinstance(payload, list) else payload


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_sid_the_caller_cannot_read_answers_as_if_it_did_not_exist(
    live: Live, svc: Services, alice: Tenant, bob: Tenant, protocol: str
) -> None:
    alices = await port_orders.create_port_order(svc, alice.caller, order_input())
    async with raw(live, protocol) as conn:
        await conn.init({"Authorization": bob.authorization})
        await conn.subscribe("foreign", ORDER_EVENTS, {"sid": alices.sid, "after": "0"})
        foreign = error_payload(await conn.recv_data())
        await conn.subscribe("missing", ORDER_EVENTS, {"sid": "PO" + "0" * 32, "after": "0"})
        missing = error_payload(await conn.recv_data())
        await conn.subscribe(
            "loa",
            "subscription($s: ID){ loaStatusChanged(sid: $s){ cursor } }",
            {"s": alices.loa_sid},
        )
        loa = error_payload(await conn.recv_data())
    assert foreign == missing
    assert foreign["extensions"] == {"code": 20404}
    assert loa["extensions"] == {"code": 20404} and loa["message"] == foreign["message"]
    assert svc.hub.subscriber_count == 0


async def test_a_parent_sees_its_subaccounts_orders_and_a_subaccount_only_its_own(
    live: Live, svc: Services, alice: Tenant
) -> None:
    child = await tenant(svc, parent=alice)
    childs = await port_orders.create_port_order(svc, child.caller, order_input())
    alices = await port_orders.create_port_order(svc, alice.caller, order_input())
    async with raw(live, TRANSPORT_WS) as parent_conn, raw(live, TRANSPORT_WS) as child_conn:
        await parent_conn.init({"Authorization": alice.authorization})
        await child_conn.init({"Authorization": child.authorization})
        await parent_conn.subscribe("1", ORDER_EVENTS, {})
        await child_conn.subscribe("1", ORDER_EVENTS, {})
        await until(lambda: svc.hub.subscriber_count == 2)

        await port_orders.cancel_port_order(svc, alice.caller, alices.sid)
        await port_orders.cancel_port_order(svc, child.caller, childs.sid)

        parent_seen = [data_of(await parent_conn.recv_data()) for _ in range(2)]
        child_seen = data_of(await child_conn.recv_data())
    assert [e["portOrderStatusChanged"]["portOrderSid"] for e in parent_seen] == [
        alices.sid,
        childs.sid,
    ]
    assert child_seen["portOrderStatusChanged"]["portOrderSid"] == childs.sid
    await asyncio.sleep(0)


async def test_a_subscription_over_plain_http_is_refused_plainly(live: Live, alice: Tenant) -> None:
    import httpx

    async with httpx.AsyncClient(base_url=live.http_url) as http:
        response = await http.post(
            "/graphql",
            json={"query": ORDER_EVENTS},
            headers={"Authorization": alice.authorization},
        )
    body = response.json()
    assert body["data"] is None
    assert body["errors"][0]["extensions"] == {"code": 20001}
    assert "websocket" in body["errors"][0]["message"]
