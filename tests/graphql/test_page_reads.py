"""A page of orders that selects each order's LOA (or its allowed actions, which need the LOA)
reads those LOAs with the page, in the page's session, whichever way the document reaches
them (directly, through an inline fragment, through a named one): no dataloader batch, no
load per order, and only the caller's LOAs. A page that does not ask reads no LOA.
app/graphql/lookahead.py, query.PortingQuery.port_orders."""

from __future__ import annotations

from typing import Any

import pytest

from app.graphql.dataloaders import Loaders
from app.porting import sids
from app.services import port_orders
from app.services.context import Services
from tests.builders import Tenant, order_input
from tests.conftest import GraphQL
from tests.graphql.support import counting

pytestmark = pytest.mark.dialects("sqlite", "postgres")

WAYS = (
    "{ portOrders { edges { node { sid loa { sid status } } } } }",
    "{ portOrders { edges { node { sid allowedActions } } } }",
    "{ portOrders { edges { ... on PortOrderEdge {"
    " node { ... on PortOrder { sid loa { sid } } } } } } }",
    "{ portOrders { ...P } } fragment P on PortOrderConnection { edges { node { ...O } } }"
    " fragment O on PortOrder { sid loa { sid status } }",
)


@pytest.fixture
def loader_batches(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    batches: list[list[str]] = []
    original = Loaders._loas

    async def spied(self: Loaders, sids: list[str]) -> Any:
        batches.append(sids)
        return await original(self, sids)

    monkeypatch.setattr(Loaders, "_loas", spied)
    return batches


@pytest.mark.parametrize("query", WAYS)
async def test_the_page_reads_its_loas_itself(
    svc: Services,
    gql: GraphQL,
    alice: Tenant,
    bob: Tenant,
    loader_batches: list[list[str]],
    query: str,
) -> None:
    for who in (alice, alice, alice, bob):
        await port_orders.create_port_order(svc, who.caller, order_input())
    with counting(svc) as statements:
        data = await gql(query, as_=alice)
    nodes = [e["node"] for e in data["portOrders"]["edges"]]
    assert len(nodes) == 3  # alice's orders only
    for node in nodes:
        if "loa" in node:
            assert sids.is_sid(node["loa"]["sid"], sids.LOA)
        else:
            assert node["allowedActions"]
    assert loader_batches == []
    assert statements.count == 2  # credentials; the page joined to its LOAs


async def test_a_page_that_does_not_ask_reads_no_loa(
    svc: Services, gql: GraphQL, alice: Tenant, loader_batches: list[list[str]]
) -> None:
    await port_orders.create_port_order(svc, alice.caller, order_input())
    with counting(svc) as statements:
        await gql("{ portOrders { edges { node { sid status } } } }", as_=alice)
    assert statements.count == 2 and loader_batches == []


async def test_other_lists_of_orders_still_load_loas_in_one_batch(
    svc: Services, gql: GraphQL, alice: Tenant, loader_batches: list[list[str]]
) -> None:
    for _ in range(3):
        await port_orders.create_port_order(svc, alice.caller, order_input())
    data = await gql(
        "{ loas { edges { node { portOrders { edges { node { loa { sid } } } } } } } }", as_=alice
    )
    assert data["loas"]["edges"]
    assert len(loader_batches) == 1
