"""PortOrder.callbackDeliveries over GraphQL: every attempt readable, tenants respected,
and a constant number of statements however many orders are on the page."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from app.main import create_app
from app.services import port_orders
from app.services.context import Services
from tests.builders import operator_tenant, order_input, tenant
from tests.conftest import GraphQL
from tests.delivery.conftest import drain
from tests.delivery.receiver import Receiver
from tests.graphql.support import counting

DELIVERIES = """
query ($sid: ID!) {
  portOrder(sid: $sid) {
    callbackDeliveries {
      sid url state eventCursor nextAttemptAt dateCreated dateUpdated
      attempts { date statusCode error latencyMs }
    }
  }
}
"""

PAGE = """
{ portOrders(first: 50) {
    edges { node { sid callbackDeliveries { sid state attempts { statusCode } } } } } }
"""


@pytest.fixture
async def gql(nsvc: Services) -> AsyncIterator[GraphQL]:
    app = create_app(nsvc.settings, nsvc)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield GraphQL(http)


async def test_attempts_are_readable_by_owner_and_operator_only(
    nsvc: Services, receiver: Receiver, gql: GraphQL
) -> None:
    # Given a receiver that fails the first try of each callback, then answers 200
    tries: dict[str, int] = {}

    def answer(req) -> int:  # type: ignore[no-untyped-def]
        key = req.headers["webhook-id"]
        tries[key] = tries.get(key, 0) + 1
        return 503 if tries[key] == 1 else 200

    receiver.answer = answer
    owner, stranger, op = await tenant(nsvc), await tenant(nsvc), await operator_tenant(nsvc)
    order = await port_orders.create_port_order(
        nsvc, owner.caller, order_input(status_callback=receiver.url("/cb"))
    )
    await drain(nsvc)

    # When the owner reads the order's callback deliveries
    data = await gql(DELIVERIES, {"sid": order.sid}, as_=owner)

    # Then each callback (CREATED, PENDING) shows its two tries and the id the receiver saw
    got = data["portOrder"]["callbackDeliveries"]
    assert len(got) == 2
    assert {d["sid"] for d in got} == {r.headers["webhook-id"] for r in receiver.received}
    for d in got:
        assert d["state"] == "delivered" and d["nextAttemptAt"] is None
        assert d["url"] == receiver.url("/cb")
        assert [a["statusCode"] for a in d["attempts"]] == [503, 200]
        assert all(a["latencyMs"] is not None for a in d["attempts"])
        assert d["attempts"][-1]["error"] is None
    # An operator sees them too; another account does not see the order at all
    assert (await gql(DELIVERIES, {"sid": order.sid}, as_=op))["portOrder"] is not None
    assert (await gql(DELIVERIES, {"sid": order.sid}, as_=stranger))["portOrder"] is None


@pytest.mark.parametrize("orders", [2, 10])
async def test_statements_do_not_grow_with_the_page(
    nsvc: Services, receiver: Receiver, gql: GraphQL, orders: int
) -> None:
    owner = await tenant(nsvc)
    for _ in range(orders):
        await port_orders.create_port_order(
            nsvc, owner.caller, order_input(status_callback=receiver.url("/cb"))
        )
    await drain(nsvc)
    with counting(nsvc) as statements:
        data = await gql(PAGE, as_=owner)
    edges = data["portOrders"]["edges"]
    assert len(edges) == orders
    assert all(len(e["node"]["callbackDeliveries"]) == 2 for e in edges)
    # authentication, the page, the deliveries, their attempts
    assert statements.count == 4, statements.seen
