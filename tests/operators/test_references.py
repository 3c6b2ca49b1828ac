"""setPortOrderReferences: an operator sets providerSid and zendeskId; an omitted argument keeps
its value, null or "" clears it; both are filters of portOrders. Logged with the operator's SID,
without callback types (no status or FOC changed)."""

from __future__ import annotations

from typing import Any

from app.services.context import Services
from tests.builders import Tenant
from tests.conftest import GraphQL
from tests.operators.support import (
    PORT_ORDERS_BY_ACCOUNT,
    create_order,
    events,
    references_mutation,
    stored,
)


async def set_refs(gql: GraphQL, who: Tenant, sid: str, **values: str | None) -> dict[str, Any]:
    document = references_mutation(*values)
    data = await gql(document, {"sid": sid, **values}, as_=who)
    result: dict[str, Any] = data["setPortOrderReferences"]
    return result


async def found(gql: GraphQL, who: Tenant, **f: str) -> list[str]:
    data = await gql(PORT_ORDERS_BY_ACCOUNT, {"filter": f}, as_=who)
    return [e["node"]["sid"] for e in data["portOrders"]["edges"]]


async def test_references_are_set_kept_cleared_and_filterable(
    gql: GraphQL, alice: Tenant, bob: Tenant, op: Tenant
) -> None:
    order = await create_order(gql, alice)
    other = await create_order(gql, bob)
    await set_refs(gql, op, other["sid"], providerSid="PR-OTHER", zendeskId="ZD-OTHER")

    payload = await set_refs(gql, op, order["sid"], providerSid="PR-1001", zendeskId="ZD-77")
    assert payload["userErrors"] == []
    assert (payload["portOrder"]["providerSid"], payload["portOrder"]["zendeskId"]) == (
        "PR-1001",
        "ZD-77",
    )
    assert await found(gql, op, providerSid="PR-1001") == [order["sid"]]
    assert await found(gql, op, zendeskId="ZD-77") == [order["sid"]]
    assert await found(gql, alice, providerSid="PR-1001") == [order["sid"]]  # the owner too
    assert await found(gql, alice, providerSid="PR-OTHER") == []  # not another account's
    assert await found(gql, op, providerSid="PR-1001", zendeskId="ZD-OTHER") == []

    # Only providerSid given (null): it is cleared, zendeskId is kept.
    payload = await set_refs(gql, op, order["sid"], providerSid=None)
    assert (payload["portOrder"]["providerSid"], payload["portOrder"]["zendeskId"]) == (
        None,
        "ZD-77",
    )
    assert await found(gql, op, providerSid="PR-1001") == []
    assert await found(gql, op, zendeskId="ZD-77") == [order["sid"]]

    # "" clears too.
    payload = await set_refs(gql, op, order["sid"], zendeskId="")
    assert (payload["portOrder"]["providerSid"], payload["portOrder"]["zendeskId"]) == (None, None)
    assert await found(gql, op, zendeskId="ZD-77") == []

    timeline = await events(gql, alice, order["sid"])
    changes = [e for e in timeline if e["type"] == "port_order.updated"]
    assert (
        changes
        == [
            {
                "type": "port_order.updated",
                "status": order["status"],
                "callbackType": [],
                "actor": "operator",
                "actorSid": op.sid,
            }
        ]
        * 3
    )


async def test_setting_the_same_references_again_records_nothing(
    svc: Services, gql: GraphQL, alice: Tenant, op: Tenant
) -> None:
    order = await create_order(gql, alice)
    await set_refs(gql, op, order["sid"], providerSid="PR-1", zendeskId="ZD-1")
    before = await stored(svc, alice, order["sid"])

    payload = await set_refs(gql, op, order["sid"], providerSid="PR-1")

    assert payload["userErrors"] == []
    assert await stored(svc, alice, order["sid"]) == before


async def test_an_overlong_reference_is_refused_and_nothing_is_stored(
    svc: Services, gql: GraphQL, alice: Tenant, op: Tenant
) -> None:
    order = await create_order(gql, alice)
    before = await stored(svc, alice, order["sid"])

    payload = await set_refs(gql, op, order["sid"], providerSid="P" * 256, zendeskId="ZD-1")

    assert payload["portOrder"] is None
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [(20001, ["providerSid"])]
    assert await stored(svc, alice, order["sid"]) == before
