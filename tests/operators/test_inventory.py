"""Query.incomingPhoneNumbers: the inventory as a keyset connection (newest first), each caller
seeing its own accounts' numbers (an operator every account's); node(id: "PN...") and
PortOrder.incomingPhoneNumber (one batched read for a whole page). SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from app.services.context import Services
from tests.builders import Tenant, tenant
from tests.conftest import GraphQL
from tests.graphql.support import counting
from tests.operators.support import ported

NUMBERS = """
query ($filter: IncomingPhoneNumberFilter, $first: Int, $after: String, $last: Int,
       $before: String) {
  incomingPhoneNumbers(filter: $filter, first: $first, after: $after, last: $last,
                       before: $before) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { sid } }
  }
}
"""

NODE = """
query ($id: ID!) {
  node(id: $id) {
    id
    ... on IncomingPhoneNumber {
      sid accountSid number friendlyName portOrderSid dateCreated
      portOrder { sid status incomingPhoneNumberSid }
    }
  }
}
"""

ORDERS_WITH_NUMBERS = """
query { portOrders(first: 100) { edges { node { sid incomingPhoneNumber { sid number } } } } }
"""


async def page(gql: GraphQL, who: Tenant, **args: Any) -> dict[str, Any]:
    result: dict[str, Any] = (await gql(NUMBERS, args, as_=who))["incomingPhoneNumbers"]
    return result


def sids(connection: dict[str, Any]) -> list[str]:
    return [e["node"]["sid"] for e in connection["edges"]]


async def test_paging_forward_and_backward(gql: GraphQL, alice: Tenant, op: Tenant) -> None:
    made = [
        (await ported(gql, op, alice, f"+1415987{5000 + i}"))["incomingPhoneNumberSid"]
        for i in range(5)
    ]
    newest_first = made[::-1]

    first = await page(gql, alice, first=2)
    assert sids(first) == newest_first[:2]
    assert first["totalCount"] == 5
    assert first["pageInfo"] == {
        "hasNextPage": True,
        "hasPreviousPage": False,
        "startCursor": newest_first[0],
        "endCursor": newest_first[1],
    }
    second = await page(gql, alice, first=2, after=first["pageInfo"]["endCursor"])
    assert sids(second) == newest_first[2:4]
    assert second["pageInfo"]["hasNextPage"] and second["pageInfo"]["hasPreviousPage"]
    third = await page(gql, alice, first=2, after=second["pageInfo"]["endCursor"])
    assert sids(third) == newest_first[4:]
    assert not third["pageInfo"]["hasNextPage"]

    back = await page(gql, alice, last=2, before=third["pageInfo"]["startCursor"])
    assert sids(back) == newest_first[2:4]
    assert back["pageInfo"]["hasPreviousPage"] and back["pageInfo"]["hasNextPage"]
    end = await page(gql, alice, last=2)  # the end of the list: the oldest two
    assert sids(end) == newest_first[3:]
    assert end["pageInfo"]["hasPreviousPage"] and not end["pageInfo"]["hasNextPage"]


async def test_each_caller_sees_its_own_inventory_and_an_operator_all(
    svc: Services, gql: GraphQL, alice: Tenant, bob: Tenant, op: Tenant
) -> None:
    sub = await tenant(svc, parent=alice)
    # (over HTTP every request signs in again, so alice now sees its subaccount too)
    mine = (await ported(gql, op, alice, "+14159875000"))["incomingPhoneNumberSid"]
    subs = (await ported(gql, op, sub, "+14159875100"))["incomingPhoneNumberSid"]
    theirs = (await ported(gql, op, bob, "+14159875200"))["incomingPhoneNumberSid"]

    assert sids(await page(gql, alice)) == [subs, mine]
    assert sids(await page(gql, sub)) == [subs]
    assert sids(await page(gql, bob)) == [theirs]
    everyone = await page(gql, op)
    assert sids(everyone) == [theirs, subs, mine] and everyone["totalCount"] == 3

    assert sids(await page(gql, op, filter={"accountSid": bob.sid})) == [theirs]
    assert sids(await page(gql, op, filter={"number": "+14159875100"})) == [subs]
    assert sids(await page(gql, alice, filter={"accountSid": sub.sid})) == [subs]
    filtered = await page(gql, alice, filter={"accountSid": bob.sid})
    assert sids(filtered) == [] and filtered["totalCount"] == 0

    # Another account's number is not a cursor for you (21826 / 21825), nor a node.
    for args, code in (({"after": theirs}, 21826), ({"last": 1, "before": theirs}, 21825)):
        errors = await gql.errors(NUMBERS, args, as_=alice)
        assert errors[0]["extensions"]["code"] == code
    errors = await gql.errors(NUMBERS, {"after": "PNnot-a-sid"}, as_=alice)
    assert errors[0]["extensions"]["code"] == 21826
    assert (await gql(NODE, {"id": theirs}, as_=alice))["node"] is None


async def test_node_and_the_order_lead_to_each_other(
    gql: GraphQL, alice: Tenant, op: Tenant
) -> None:
    order = await ported(gql, op, alice, "+14159875000")
    pn = order["incomingPhoneNumberSid"]

    node = (await gql(NODE, {"id": pn}, as_=alice))["node"]

    assert node["id"] == node["sid"] == pn
    assert node["accountSid"] == alice.sid
    assert node["number"] == "+14159875000"
    assert node["friendlyName"]
    assert node["portOrderSid"] == order["sid"]
    assert node["dateCreated"].endswith("Z")
    assert node["portOrder"] == {
        "sid": order["sid"],
        "status": "COMPLETED",
        "incomingPhoneNumberSid": pn,
    }
    assert (await gql(NODE, {"id": pn}, as_=op))["node"]["sid"] == pn
    assert (await gql(NODE, {"id": "PN" + "0" * 32}, as_=alice))["node"] is None


async def test_a_page_of_orders_reads_their_numbers_in_one_statement(
    svc: Services, gql: GraphQL, alice: Tenant, op: Tenant
) -> None:
    async def statements() -> int:
        with counting(svc) as counter:
            data = await gql(ORDERS_WITH_NUMBERS, as_=alice)
        edges = data["portOrders"]["edges"]
        assert all(e["node"]["incomingPhoneNumber"]["sid"].startswith("PN") for e in edges)
        return counter.count

    for i in range(2):
        await ported(gql, op, alice, f"+1415987{5000 + i}")
    few = await statements()
    for i in range(2, 8):
        await ported(gql, op, alice, f"+1415987{5000 + i}")
    many = await statements()

    assert many == few  # authentication, the page, and one read for all the numbers
