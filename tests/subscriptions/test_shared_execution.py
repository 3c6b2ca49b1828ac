"""A subscription event executes once per (document, variables, caller) for all the sockets
that share them (app/graphql/shared_events.py); each socket still gets exactly its own result."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from graphql import OperationType

from app.graphql.execution import LeafFastPath
from app.services import port_orders
from app.services.context import Services
from tests.builders import Tenant, order_input, tenant
from tests.subscriptions.support import (
    CANCEL,
    ORDER_EVENTS,
    TRANSPORT_WS,
    Live,
    Raw,
    data_of,
    raw,
    until,
)

SHORT = """subscription { portOrderStatusChanged { cursor status portOrder { status } } }"""


@pytest.fixture
def event_executions(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every execution of a subscription event's selection (not of queries or mutations)."""
    seen: list[Any] = []
    original = LeafFastPath.execute_operation

    def counting(self: LeafFastPath, serially: bool | None = None) -> Any:
        if self.operation.operation is OperationType.SUBSCRIPTION:
            seen.append(self.context_value.caller.sid)
        return original(self, serially)

    monkeypatch.setattr(LeafFastPath, "execute_operation", counting)
    return seen


async def test_sockets_sharing_document_variables_and_caller_share_one_execution(
    live: Live, svc: Services, alice: Tenant, event_executions: list[Any]
) -> None:
    child = await tenant(svc, parent=alice)
    order = await port_orders.create_port_order(svc, child.caller, order_input())
    plans: list[tuple[Tenant, str, dict[str, Any]]] = [
        (child, ORDER_EVENTS, {}),
        (child, ORDER_EVENTS, {}),
        (child, ORDER_EVENTS, {"sid": order.sid}),  # other variables
        (child, SHORT, {}),  # another document
        (alice, ORDER_EVENTS, {}),  # another caller (the parent sees its subaccount's orders)
    ]
    async with contextlib.AsyncExitStack() as stack:
        sockets: list[Raw] = []
        for who, query, variables in plans:
            conn = await stack.enter_async_context(raw(live, TRANSPORT_WS))
            assert (await conn.init({"Authorization": who.authorization}))["type"] == (
                "connection_ack"
            )
            await conn.subscribe("1", query, variables)
            sockets.append(conn)
        await until(lambda: svc.hub.subscriber_count == len(plans))

        await live.graphql(CANCEL, {"sid": order.sid}, as_=child)
        results = [data_of(await conn.recv_data())["portOrderStatusChanged"] for conn in sockets]

    full, same, by_sid, short, parents = results
    assert full["status"] == "CANCELED" and full["portOrder"] == {
        "sid": order.sid,
        "status": "CANCELED",
    }
    assert same == full and by_sid == full and parents == full
    assert short == {
        "cursor": full["cursor"],
        "status": "CANCELED",
        "portOrder": {"status": "CANCELED"},
    }
    # Four distinct (document, variables, caller): four executions for five sockets.
    assert sorted(event_executions) == sorted([child.sid] * 3 + [alice.sid])
