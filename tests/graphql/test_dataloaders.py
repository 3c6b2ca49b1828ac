"""N+1 guard: nested relations cost a constant number of SQL statements, whatever the page
size (Saleor's count_queries habit). Runs on SQLite and PostgreSQL.

Statements are counted on the engines with a `before_cursor_execute` listener, for the whole
request: authentication (one statement: the account and its subaccounts) included.
"""

from __future__ import annotations

from typing import Any

import pytest

from app.services import port_orders
from app.services.context import Services
from tests.builders import Tenant, order_input
from tests.conftest import GraphQL
from tests.graphql.support import counting

pytestmark = pytest.mark.dialects("sqlite", "postgres")


ORDERS_WITH_LOAS = """
query ($n: Int!) {
  portOrders(first: $n) {
    edges { node { sid status allowedActions loa { sid status firstName } } }
  }
}
"""

LOAS_WITH_ORDERS = """
query ($n: Int!) {
  loas(first: $n) {
    edges { node { sid status portOrders(first: 10) { edges { node { sid number } } } } }
  }
}
"""

ORDERS_WITH_EVERYTHING = """
query ($n: Int!) {
  portOrders(first: $n) {
    edges { node { sid errors { code } events(first: 5) { edges { node { type } } } } }
  }
}
"""

SIZES = (5, 20, 50)


async def cost(
    svc: Services, gql: GraphQL, tenant: Tenant, query: str, variables: dict[str, Any] | None = None
) -> int:
    with counting(svc) as statements:
        await gql(query, variables, as_=tenant)
    return statements.count


async def test_orders_with_their_loas_cost_three_statements_at_most(
    svc: Services, gql: GraphQL, alice: Tenant
) -> None:
    # given 50 orders, each on its own LOA (different signers)
    for i in range(50):
        raw = order_input(first_name=f"Signer{chr(65 + i % 26)}", last_name=f"L{chr(65 + i // 26)}")
        await port_orders.create_port_order(svc, alice.caller, raw)
    assert await cost(svc, gql, alice, "{ __typename }") == 1  # authentication
    # when a page of n orders is read with each order's LOA
    costs = [await cost(svc, gql, alice, ORDERS_WITH_LOAS, {"n": n}) for n in SIZES]
    # then the cost is authentication and the list joined to its LOAs, whatever n
    assert costs == [2, 2, 2]


async def test_loas_with_their_orders_cost_three_statements_at_most(
    svc: Services, gql: GraphQL, alice: Tenant
) -> None:
    # given 50 LOAs with 3 orders each
    for i in range(50):
        name = f"Signer{chr(65 + i % 26)}{chr(65 + i // 26)}"
        for _ in range(3):
            await port_orders.create_port_order(svc, alice.caller, order_input(first_name=name))
    costs = []
    for n in SIZES:
        with counting(svc) as statements:
            data = await gql(LOAS_WITH_ORDERS, {"n": n}, as_=alice)
        edges = data["loas"]["edges"]
        assert len(edges) == n
        assert all(len(e["node"]["portOrders"]["edges"]) == 3 for e in edges)
        costs.append(statements.count)
    # authentication, the LOAs, and one windowed statement for every LOA's orders
    assert costs == [3, 3, 3]


async def test_errors_and_timelines_are_batched_too(
    svc: Services, gql: GraphQL, alice: Tenant
) -> None:
    for _ in range(50):
        await port_orders.create_port_order(svc, alice.caller, order_input())
    auth = await cost(svc, gql, alice, "{ __typename }")
    costs = [await cost(svc, gql, alice, ORDERS_WITH_EVERYTHING, {"n": n}) - auth for n in SIZES]
    assert costs == [3, 3, 3]
