"""Port Requests in GraphQL (CONTRACT.md §11): createPortRequest with 1, 100 and 1,000 numbers,
numbers with errors (each at its path in the input), allOrNothing, cancelPortRequest, the
queries (portRequest, portRequests, node, portability), PortRequest's relations, PortOrder's
portRequest, and who sees what. A refused mutation stores nothing."""

from __future__ import annotations

from typing import Any

import pytest

from app.services.context import Services
from tests.builders import Tenant, camel, numbers, order_input, request_input, tenant
from tests.conftest import GraphQL, snapshot
from tests.graphql.support import counting

USER_ERRORS = "userErrors { code field message }"
NUMBER = "number portOrderSid status errors { code message }"
REQUEST = """
  id sid accountSid status numberCount dateCreated dateUpdated url
  counts { created pending submitted accepted completed canceled rejected failed review }
"""

CREATE = f"""
mutation ($input: CreatePortRequestInput!) {{
  createPortRequest(input: $input) {{
    portRequest {{ {REQUEST} loas {{ sid status }} }}
    numbers {{ {NUMBER} portOrder {{ status portRequestSid }} }}
    {USER_ERRORS}
  }}
}}
"""

CANCEL = f"""
mutation ($sid: ID!) {{
  cancelPortRequest(sid: $sid) {{ portRequest {{ status }} numbers {{ {NUMBER} }} {USER_ERRORS} }}
}}
"""

READ = f"""
query ($sid: ID!) {{
  portRequest(sid: $sid) {{
    {REQUEST}
    numbers {{ {NUMBER} }}
    loas {{ sid }}
    portOrders(first: 2) {{
      totalCount pageInfo {{ hasNextPage endCursor }}
      edges {{ node {{ sid portRequestSid portRequest {{ sid }} }} }}
    }}
  }}
  node(id: $sid) {{ id ... on PortRequest {{ status }} }}
}}
"""

LIST = """
query ($filter: PortRequestFilter) {
  portRequests(filter: $filter, first: 10) { totalCount edges { cursor node { sid status } } }
}
"""

PORTABILITY = """
query ($numbers: [String!]!) {
  portability(numbers: $numbers) {
    number portable portType currentCarrier pinAndAccountNumberRequired
    notPortableReasonCode notPortableReason
  }
}
"""


def graphql_input(raw: dict[str, Any]) -> dict[str, Any]:
    """A request's input in GraphQL names; each number an object."""
    entries = [e if isinstance(e, dict) else {"number": e} for e in raw.pop("numbers")]
    return {**camel(raw), "numbers": [camel(e) for e in entries]}


async def create(gql: GraphQL, who: Tenant, raw: dict[str, Any]) -> dict[str, Any]:
    payload: dict[str, Any] = (await gql(CREATE, {"input": graphql_input(raw)}, as_=who))[
        "createPortRequest"
    ]
    return payload


@pytest.mark.parametrize("size", [1, 100, 1000])
async def test_create_one_hundred_and_a_thousand(
    gql: GraphQL, svc: Services, alice: Tenant, size: int
) -> None:
    given = numbers(size)
    payload = await create(gql, alice, request_input(given))
    assert payload["userErrors"] == []
    request = payload["portRequest"]
    assert request["id"] == request["sid"] and request["sid"].startswith("PR")
    assert (request["status"], request["numberCount"], request["counts"]["pending"]) == (
        "PENDING",
        size,
        size,
    )
    assert [n["number"] for n in payload["numbers"]] == given
    assert {(n["status"], n["portOrder"]["portRequestSid"]) for n in payload["numbers"]} == {
        ("PENDING", request["sid"])
    }
    assert [x["status"] for x in request["loas"]] == ["OPEN"]

    with counting(svc) as statements:
        read = await gql(READ, {"sid": request["sid"]}, as_=alice)
    got = read["portRequest"]
    assert [n["number"] for n in got["numbers"]] == given
    assert got["portOrders"]["totalCount"] == size
    assert got["portOrders"]["pageInfo"]["hasNextPage"] is (size > 2)
    edge = got["portOrders"]["edges"][0]["node"]
    assert edge["portRequestSid"] == edge["portRequest"]["sid"] == request["sid"]
    assert read["node"] == {"id": request["sid"], "status": "PENDING"}
    assert statements.count <= 12  # batched: no statement per number


async def test_numbers_with_errors_point_into_the_input(
    gql: GraphQL, svc: Services, alice: Tenant
) -> None:
    good, mobile = numbers(2)
    entries: list[Any] = [good, "bad", {"number": mobile, "port_type": "MOBILE"}, good]
    before = await snapshot(svc)
    refused = await create(gql, alice, request_input(list(entries), all_or_nothing=True))
    assert refused["portRequest"] is None and refused["numbers"] == []
    assert [(e["code"], e["field"]) for e in refused["userErrors"]] == [
        (21812, ["input", "numbers", "1", "number"]),
        (21836, ["input", "numbers", "2", "accountNumber"]),
        (21810, ["input", "numbers", "2", "pinNumber"]),
        (21839, ["input", "numbers", "3", "number"]),
    ]
    shared = await create(gql, alice, request_input(list(entries), email="nope"))
    assert [(e["code"], e["field"]) for e in shared["userErrors"]] == [(21818, ["input", "email"])]
    too_many = await create(gql, alice, request_input(numbers(1001)))
    assert [(e["code"], e["field"]) for e in too_many["userErrors"]] == [
        (21841, ["input", "numbers"])
    ]
    none = await create(gql, alice, request_input([]))
    assert [e["code"] for e in none["userErrors"]] == [21840]
    assert await snapshot(svc) == before

    made = await create(gql, alice, request_input(list(entries)))
    assert made["userErrors"] == []
    assert [(n["status"], [e["code"] for e in n["errors"]]) for n in made["numbers"]] == [
        ("PENDING", []),
        (None, [21812]),
        (None, [21836, 21810]),
        (None, [21839]),
    ]
    assert made["portRequest"]["numberCount"] == 4


async def test_cancel_and_the_lists(gql: GraphQL, alice: Tenant) -> None:
    first = (await create(gql, alice, request_input()))["portRequest"]["sid"]
    second = (await create(gql, alice, request_input()))["portRequest"]["sid"]
    canceled = (await gql(CANCEL, {"sid": second}, as_=alice))["cancelPortRequest"]
    assert canceled["userErrors"] == [] and canceled["portRequest"]["status"] == "CANCELED"
    assert {n["status"] for n in canceled["numbers"]} == {"CANCELED"}
    again = (await gql(CANCEL, {"sid": second}, as_=alice))["cancelPortRequest"]
    assert {e["code"] for n in again["numbers"] for e in n["errors"]} == {21830}
    listed = (await gql(LIST, {}, as_=alice))["portRequests"]
    assert [e["node"]["sid"] for e in listed["edges"]] == [second, first]
    assert listed["totalCount"] == 2
    pending = (await gql(LIST, {"filter": {"status": "PENDING"}}, as_=alice))["portRequests"]
    assert [e["node"]["sid"] for e in pending["edges"]] == [first]


async def test_who_sees_a_request(gql: GraphQL, svc: Services, alice: Tenant, bob: Tenant) -> None:
    sid = (await create(gql, alice, request_input()))["portRequest"]["sid"]
    read = await gql(READ, {"sid": sid}, as_=bob)
    assert read == {"portRequest": None, "node": None}
    assert (await gql(LIST, {}, as_=bob))["portRequests"]["edges"] == []
    before = await snapshot(svc)
    refused = (await gql(CANCEL, {"sid": sid}, as_=bob))["cancelPortRequest"]
    assert [(e["code"], e["field"]) for e in refused["userErrors"]] == [(20404, ["sid"])]
    assert await snapshot(svc) == before
    sub = await tenant(svc, parent=alice)
    mine = await create(gql, sub, request_input())
    assert mine["portRequest"]["accountSid"] == sub.sid
    # the parent sees the subaccount's request; the subaccount not the parent's
    assert (await gql(READ, {"sid": mine["portRequest"]["sid"]}, as_=alice))["portRequest"]
    assert (await gql(READ, {"sid": sid}, as_=sub))["portRequest"] is None
    # an order alone has no request
    order = await gql(
        "mutation ($i: CreatePortOrderInput!) { createPortOrder(input: $i) "
        "{ portOrder { portRequestSid portRequest { sid } } } }",
        {"i": camel(order_input())},
        as_=alice,
    )
    assert order["createPortOrder"]["portOrder"] == {"portRequestSid": None, "portRequest": None}


async def test_portability(gql: GraphQL, svc: Services, alice: Tenant) -> None:
    free = numbers(1)[0]
    before = await snapshot(svc)
    found = (await gql(PORTABILITY, {"numbers": [free, "+14155230001", "x"]}, as_=alice))[
        "portability"
    ]
    assert [(r["number"], r["portable"], r["notPortableReasonCode"]) for r in found] == [
        (free, True, None),
        ("+14155230001", False, 21827),
        ("x", False, 21812),
    ]
    assert found[0]["portType"] == "UNKNOWN" and found[0]["currentCarrier"]
    assert found[0]["pinAndAccountNumberRequired"] is False
    errors = await gql.errors(PORTABILITY, {"numbers": []}, as_=alice)
    assert errors[0]["extensions"]["code"] == 21840
    assert await snapshot(svc) == before
