"""The live fan-out (app/graphql/fanout.py) sends every socket exactly what its own execution
would: the same messages, byte for byte, as sockets whose events execute one by one through
Strawberry and graphql-core's own executor, across accounts, operators, filters, documents,
variables, replay and both protocols."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from starlette.applications import Starlette
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from app.config import Settings
from app.graphql.fanout import LiveGroup
from app.graphql.schema import build_schema
from app.services import port_orders
from app.services.context import Services
from app.store import queries
from tests.builders import Tenant, operator_tenant, order_input, tenant
from tests.subscriptions.support import (
    CANCEL,
    LEGACY,
    LOA_EVENTS,
    ORDER_EVENTS,
    TRANSPORT_WS,
    WAIT,
    Live,
    live_server,
    until,
)

SHORT = "subscription { portOrderStatusChanged { cursor status portOrder { status } } }"
# A variable the selection reads: sockets with other values must not share an execution.
TIMELINE = """
subscription Timeline($sid: ID, $after: String, $n: Int) {
  portOrderStatusChanged(sid: $sid, after: $after) {
    cursor status
    portOrder { sid events(last: $n) { edges { cursor node { type status } } } }
  }
}
"""
FRAGMENTS = """
subscription { ... on Subscription { portOrderStatusChanged { ...E } } }
fragment E on PortOrderEvent { cursor callbackType portOrder { status allowedActions } }
"""
QUIET = 0.5  # seconds without a message: a reference socket has everything


@pytest.fixture(params=["frames", "deflate", "asgi"])
async def live(app: Starlette, request: pytest.FixtureRequest) -> AsyncIterator[Live]:
    """`portico serve`'s websocket protocol (shared frames written at once; with compression,
    each socket's own frames), and uvicorn's own (every message through the ASGI send, from
    the outbox's task)."""
    ws = "websockets-sansio" if request.param == "asgi" else None
    async with live_server(app, ws=ws, deflate=request.param == "deflate") as server:
        yield server


@dataclass
class Plan:
    who: Tenant
    query: str
    variables: dict[str, Any]


@dataclass
class Sock:
    plan: Plan
    ws: ClientConnection
    protocol: str
    op_id: str


async def open_socket(live: Live, plan: Plan, protocol: str, op_id: str) -> Sock:
    ws = await connect(live.ws_url, subprotocols=[protocol], open_timeout=WAIT)  # type: ignore[list-item]
    await ws.send(
        json.dumps(
            {"type": "connection_init", "payload": {"Authorization": plan.who.authorization}}
        )
    )
    while json.loads(await ws.recv())["type"] != "connection_ack":
        pass
    kind = "start" if protocol == LEGACY else "subscribe"
    payload = {"query": plan.query, "variables": plan.variables}
    await ws.send(json.dumps({"id": op_id, "type": kind, "payload": payload}))
    return Sock(plan, ws, protocol, op_id)


async def results(sock: Sock, count: int | None) -> list[str]:
    """The socket's result messages as sent (text): `count` of them, or until it is quiet."""
    out: list[str] = []
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(WAIT):
            while count is None or len(out) < count:
                try:
                    text = await asyncio.wait_for(sock.ws.recv(), QUIET if count is None else WAIT)
                except TimeoutError:
                    if count is None:
                        break
                    raise
                assert isinstance(text, str)
                kind = json.loads(text)["type"]
                if kind == "ping":
                    await sock.ws.send(json.dumps({"type": "pong"}))
                elif kind != "ka":
                    out.append(text)
    return out


async def test_every_socket_of_a_group_gets_what_its_own_execution_gives(
    live: Live, svc: Services, settings: Settings, alice: Tenant, bob: Tenant
) -> None:
    child = await tenant(svc, parent=alice)
    operator = await operator_tenant(svc)
    mine = await port_orders.create_port_order(svc, alice.caller, order_input())
    theirs = await port_orders.create_port_order(svc, child.caller, order_input())
    bobs = await port_orders.create_port_order(svc, bob.caller, order_input())
    async with svc.db.read() as s:
        start = str(await queries.last_event_id(s))
    plans = [
        Plan(alice, ORDER_EVENTS, {}),
        Plan(alice, ORDER_EVENTS, {"sid": theirs.sid}),  # a subaccount's order
        Plan(alice, ORDER_EVENTS, {"sid": mine.sid, "after": start}),
        Plan(child, ORDER_EVENTS, {}),
        Plan(child, SHORT, {}),
        Plan(bob, ORDER_EVENTS, {"after": "0"}),  # replays bob's whole log first
        Plan(bob, FRAGMENTS, {}),
        Plan(operator, ORDER_EVENTS, {}),  # every account's
        Plan(operator, TIMELINE, {"sid": theirs.sid, "n": 1}),
        Plan(operator, TIMELINE, {"sid": theirs.sid, "n": 3}),
        Plan(alice, LOA_EVENTS, {}),
        Plan(bob, LOA_EVENTS, {"sid": bobs.loa_sid}),
    ]
    view = live.app.graphql  # type: ignore[union-attr]
    assert view is not None and view.fanout is not None
    fanout = view.fanout

    # Reference sockets: every event executes for the socket alone, with graphql-core's own
    # executor (no fast path, no shared execution, no fan-out).
    shared_schema = view.schema
    view.schema, view.fanout = build_schema(settings, fast_path=False), None
    own = [await open_socket(live, p, TRANSPORT_WS, "1") for p in plans]
    await until(lambda: svc.hub.subscriber_count == len(plans))
    view.schema, view.fanout = shared_schema, fanout

    # Shared sockets: three per plan, over both protocols and with other operation ids.
    shared = []
    for plan in plans:
        for protocol, op_id in ((TRANSPORT_WS, "1"), (TRANSPORT_WS, "op-7"), (LEGACY, "1")):
            shared.append(await open_socket(live, plan, protocol, op_id))
    await until(lambda: svc.hub.subscriber_count == 4 * len(plans))

    # Changes across the accounts: cancels, a new order, an operator's status change.
    await live.graphql(CANCEL, {"sid": theirs.sid}, as_=child)
    await live.graphql(CANCEL, {"sid": bobs.sid}, as_=bob)
    await port_orders.create_port_order(svc, alice.caller, order_input())
    await live.graphql(CANCEL, {"sid": mine.sid}, as_=alice)

    expected = await asyncio.gather(*(results(sock, None) for sock in own))
    got = await asyncio.gather(
        *(results(sock, len(expected[plans.index(sock.plan)])) for sock in shared)
    )
    try:
        assert all(expected)  # every plan heard something
        for sock, messages in zip(shared, got, strict=True):
            reference = expected[plans.index(sock.plan)]
            assert [as_sent(m, sock) for m in reference] == messages, sock.plan
        # The shared sockets formed groups: a group per (filter, caller, operation, the
        # variables read), all the sockets of a plan in one (only the timeline's $n splits).
        live_groups = {id(g) for g in fanout.groups.values()}
        assert len(live_groups) < len(shared)
    finally:
        for sock in own + shared:
            await sock.ws.close()
    await until(lambda: svc.hub.subscriber_count == 0)
    assert not fanout.groups


def as_sent(reference: str, sock: Sock) -> str:
    """The reference socket's message (graphql-transport-ws, id "1") as `sock` would get it."""
    message = json.loads(reference)
    if sock.protocol == LEGACY and message["type"] == "next":
        message = {"type": "data", "id": sock.op_id, "payload": message["payload"]}
    else:
        message = {"id": sock.op_id, **{k: v for k, v in message.items() if k != "id"}}
    text = json.dumps(message, separators=(",", ":"))
    if sock.protocol == TRANSPORT_WS and sock.op_id == "1":
        assert text == reference  # byte for byte, not only the same JSON
    return text


async def test_an_event_the_fan_out_cannot_send_closes_its_sockets_with_1011(
    live: Live, svc: Services, alice: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Never a silent gap: the sockets waiting for an event that failed are closed (1011), and
    their clients resubscribe from their last cursor."""
    order = await port_orders.create_port_order(svc, alice.caller, order_input())
    plan = Plan(alice, ORDER_EVENTS, {"sid": order.sid})
    socks = [await open_socket(live, plan, protocol, "1") for protocol in (TRANSPORT_WS, LEGACY)]
    await until(lambda: svc.hub.subscriber_count == len(socks))

    async def broken(self: LiveGroup, event: Any) -> str:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(LiveGroup, "execute", broken)
    await live.graphql(CANCEL, {"sid": order.sid}, as_=alice)
    for sock in socks:
        with pytest.raises(ConnectionClosed) as closed:
            await results(sock, 1)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1011
    await until(lambda: svc.hub.subscriber_count == 0)
