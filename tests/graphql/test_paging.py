"""Keyset connections: first/after and last/before, while orders are created concurrently;
the same pages as the REST list (app/services/reads.list_port_orders, which REST uses); cursor
and size errors. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from app.services import port_orders, reads
from app.services.context import Services
from app.store.queries import PortOrderFilter
from tests.builders import Tenant, order_input
from tests.conftest import GraphQL

pytestmark = pytest.mark.dialects("sqlite", "postgres")


FORWARD = """
query ($first: Int, $after: String) {
  portOrders(first: $first, after: $after) {
    edges { cursor node { sid } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""

BACKWARD = """
query ($last: Int, $before: String) {
  portOrders(last: $last, before: $before) {
    edges { cursor node { sid } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""

LOA_ORDERS = """
query ($sid: ID!, $first: Int, $after: String, $last: Int, $before: String) {
  loa(sid: $sid) {
    portOrders(first: $first, after: $after, last: $last, before: $before) {
      totalCount
      edges { node { sid } }
      pageInfo { hasNextPage hasPreviousPage }
    }
  }
}
"""

EVENTS = """
query ($sid: ID!, $first: Int, $after: String, $last: Int, $before: String) {
  portOrder(sid: $sid) {
    events(first: $first, after: $after, last: $last, before: $before) {
      totalCount
      edges { cursor node { type status } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  }
}
"""


async def seed(svc: Services, tenant: Tenant, n: int) -> list[str]:
    """n orders; their SIDs newest first (the list order)."""
    sids = [
        (await port_orders.create_port_order(svc, tenant.caller, order_input())).sid
        for _ in range(n)
    ]
    return list(reversed(sids))


async def all_sids(svc: Services, tenant: Tenant) -> list[str]:
    page = await reads.list_port_orders(svc, tenant.caller, PortOrderFilter(), 1000)
    return [o.sid for o in page.items]


def is_contiguous_slice(part: list[str], whole: list[str]) -> bool:
    if not part:
        return True
    start = whole.index(part[0])
    return whole[start : start + len(part)] == part


async def test_forward_paging_has_no_duplicates_or_gaps_while_orders_are_created(
    svc: Services, gql: GraphQL, alice: Tenant
) -> None:
    # given 23 orders
    seeded = await seed(svc, alice, 23)

    async def create_more() -> None:
        for _ in range(8):
            await port_orders.create_port_order(svc, alice.caller, order_input())
            await asyncio.sleep(0)

    async def page_forward() -> list[str]:
        seen: list[str] = []
        after = None
        while True:
            data = await gql(FORWARD, {"first": 5, "after": after}, as_=alice)
            conn = data["portOrders"]
            seen += [e["node"]["sid"] for e in conn["edges"]]
            assert [e["cursor"] for e in conn["edges"]] == [e["node"]["sid"] for e in conn["edges"]]
            assert conn["pageInfo"]["hasPreviousPage"] is (after is not None)
            if not conn["pageInfo"]["hasNextPage"]:
                return seen
            after = conn["pageInfo"]["endCursor"]
            await asyncio.sleep(0)

    # when one client pages forward while another creates orders
    _, seen = await asyncio.gather(create_more(), page_forward())
    # then the pages hold each row once, with no gap, down to the oldest order
    final = await all_sids(svc, alice)
    assert len(final) == 23 + 8
    assert len(seen) == len(set(seen))
    assert is_contiguous_slice(seen, final) and seen[-1] == final[-1]
    assert set(seeded) <= set(seen)


async def test_backward_paging_has_no_duplicates_or_gaps_while_orders_are_created(
    svc: Services, gql: GraphQL, alice: Tenant
) -> None:
    seeded = await seed(svc, alice, 22)

    async def create_more() -> None:
        for _ in range(8):
            await port_orders.create_port_order(svc, alice.caller, order_input())
            await asyncio.sleep(0)

    async def page_backward() -> list[str]:
        pages: list[list[str]] = []
        before = None
        while True:
            data = await gql(BACKWARD, {"last": 4, "before": before}, as_=alice)
            conn = data["portOrders"]
            pages.append([e["node"]["sid"] for e in conn["edges"]])
            assert conn["pageInfo"]["hasNextPage"] is (before is not None)
            if not conn["pageInfo"]["hasPreviousPage"]:
                break
            before = conn["pageInfo"]["startCursor"]
            await asyncio.sleep(0)
        # pages came from the end of the list towards its start; each is in list order
        return [sid for page in reversed(pages) for sid in page]

    # when one client pages backward from the end while another creates orders
    _, seen = await asyncio.gather(create_more(), page_backward())
    # then the pages hold each row once, with no gap, from the oldest order up
    final = await all_sids(svc, alice)
    assert len(seen) == len(set(seen))
    assert is_contiguous_slice(seen, final) and seen[-1] == final[-1]
    assert set(seeded) <= set(seen)


async def test_graphql_after_and_before_agree_with_the_rest_list(
    svc: Services, gql: GraphQL, alice: Tenant
) -> None:
    # given 12 orders
    ordered = await seed(svc, alice, 12)
    everything = PortOrderFilter()
    for cursor in ordered:
        # after X is AfterSid=X
        data = await gql(FORWARD, {"first": 5, "after": cursor}, as_=alice)
        rest = await reads.list_port_orders(svc, alice.caller, everything, 5, after_sid=cursor)
        assert [e["node"]["sid"] for e in data["portOrders"]["edges"]] == [
            o.sid for o in rest.items
        ]
        assert data["portOrders"]["pageInfo"]["hasNextPage"] is rest.has_more
        # before X is BeforeSid=X
        data = await gql(BACKWARD, {"last": 5, "before": cursor}, as_=alice)
        rest = await reads.list_port_orders(svc, alice.caller, everything, 5, before_sid=cursor)
        assert [e["node"]["sid"] for e in data["portOrders"]["edges"]] == [
            o.sid for o in rest.items
        ]
        assert data["portOrders"]["pageInfo"]["hasPreviousPage"] is rest.has_more

    async def sids(query: str, variables: dict[str, Any]) -> list[str]:
        data = await gql(query, variables, as_=alice)
        return [e["node"]["sid"] for e in data["portOrders"]["edges"]]

    # and the pages are slices of the whole list
    assert await sids(FORWARD, {"first": 5}) == ordered[:5]
    assert await sids(BACKWARD, {"last": 5}) == ordered[-5:]
    assert await sids(FORWARD, {"first": 3, "after": ordered[4]}) == ordered[5:8]
    assert await sids(BACKWARD, {"last": 3, "before": ordered[8]}) == ordered[5:8]


async def test_graphql_cursors_and_the_rest_surface_agree_over_http(
    svc: Services, gql: GraphQL, http: httpx.AsyncClient, alice: Tenant
) -> None:
    # given 9 orders, and the same account on REST and GraphQL
    ordered = await seed(svc, alice, 9)
    auth = {"Authorization": alice.authorization}
    for cursor in ordered[::2]:
        # when a page is read after / before the same SID on both surfaces
        for rest_param, query, args in (
            ("AfterSid", FORWARD, {"first": 4, "after": cursor}),
            ("BeforeSid", BACKWARD, {"last": 4, "before": cursor}),
        ):
            rest = await http.get(
                "/porting/PortOrders", params={rest_param: cursor, "PageSize": 4}, headers=auth
            )
            assert rest.status_code == 200, rest.text
            data = (await gql(query, args, as_=alice))["portOrders"]
            # then they hold the same orders in the same order
            sids = [e["node"]["sid"] for e in data["edges"]]
            assert sids == [o["sid"] for o in rest.json()["orders"]], (rest_param, cursor)
            # and GraphQL's next/previous pages are REST's next_page_url/previous_page_url
            meta, info = rest.json()["meta"], data["pageInfo"]
            assert info["hasNextPage"] is (meta["next_page_url"] is not None)
            assert info["hasPreviousPage"] is (meta["previous_page_url"] is not None)
            if info["hasNextPage"]:
                assert f"AfterSid={info['endCursor']}" in meta["next_page_url"]
            if info["hasPreviousPage"]:
                assert f"BeforeSid={info['startCursor']}" in meta["previous_page_url"]


async def test_malformed_or_foreign_cursors_are_errors_with_their_codes(
    svc: Services, gql: GraphQL, alice: Tenant, bob: Tenant
) -> None:
    theirs = (await port_orders.create_port_order(svc, bob.caller, order_input())).sid
    mine = (await port_orders.create_port_order(svc, alice.caller, order_input())).sid
    for cursor in ["nonsense", "PO" + "0" * 32, theirs, mine.replace("PO", "PX")]:
        errors = await gql.errors(FORWARD, {"first": 5, "after": cursor}, as_=alice)
        assert errors[0]["extensions"] == {"code": 21826}, cursor
        assert errors[0]["path"] == ["portOrders"]
        errors = await gql.errors(BACKWARD, {"last": 5, "before": cursor}, as_=alice)
        assert errors[0]["extensions"] == {"code": 21825}, cursor
    # an order's SID is a foreign cursor on the LOA list
    errors = await gql.errors(
        "query ($a: String) { loas(after: $a) { totalCount } }", {"a": mine}, as_=alice
    )
    assert errors[0]["extensions"] == {"code": 21826}


async def test_an_loas_orders_page_forward_and_back(
    svc: Services, gql: GraphQL, alice: Tenant
) -> None:
    ordered = await seed(svc, alice, 7)  # one LOA covers them all
    oldest = await reads.get_port_order(svc, alice.caller, ordered[0])
    assert oldest is not None
    loa_sid = oldest.loa_sid

    async def page(**args: Any) -> dict[str, Any]:
        data = await gql(LOA_ORDERS, {"sid": loa_sid, **args}, as_=alice)
        result: dict[str, Any] = data["loa"]["portOrders"]
        return result

    def sids(conn: dict[str, Any]) -> list[str]:
        return [e["node"]["sid"] for e in conn["edges"]]

    first = await page(first=3)
    assert sids(first) == ordered[:3]
    assert first["totalCount"] == 7 and first["pageInfo"]["hasNextPage"] is True
    assert sids(await page(first=3, after=ordered[2])) == ordered[3:6]
    last = await page(last=2)
    assert sids(last) == ordered[5:] and last["pageInfo"]["hasPreviousPage"] is True
    assert sids(await page(last=2, before=ordered[2])) == ordered[:2]
    errors = await gql.errors(LOA_ORDERS, {"sid": loa_sid, "after": "junk"}, as_=alice)
    assert errors[0]["extensions"] == {"code": 21826}


ZIPS = {"Oakland": "94612", "Berkeley": "94704", "Alameda": "94501"}


async def test_an_orders_timeline_pages_oldest_first(
    svc: Services, gql: GraphQL, alice: Tenant
) -> None:
    # given an order with five events
    order = await port_orders.create_port_order(svc, alice.caller, order_input())
    for city, zip_code in ZIPS.items():
        await port_orders.update_port_order(
            svc, alice.caller, order.sid, {"city": city, "postal_code": zip_code}
        )

    async def events(**args: Any) -> dict[str, Any]:
        data = await gql(EVENTS, {"sid": order.sid, **args}, as_=alice)
        result: dict[str, Any] = data["portOrder"]["events"]
        return result

    whole = await events(first=50)
    types = [e["node"]["type"] for e in whole["edges"]]
    assert types == ["port_order.created", "port_order.status_changed"] + ["port_order.updated"] * 3
    assert whole["totalCount"] == 5
    cursors = [e["cursor"] for e in whole["edges"]]
    middle = await events(first=2, after=cursors[1])
    assert [e["cursor"] for e in middle["edges"]] == cursors[2:4]
    assert middle["pageInfo"] == {
        "hasNextPage": True,
        "hasPreviousPage": True,
        "startCursor": cursors[2],
        "endCursor": cursors[3],
    }
    assert [e["cursor"] for e in (await events(last=2))["edges"]] == cursors[3:]
    before = await events(last=2, before=cursors[3])
    assert [e["cursor"] for e in before["edges"]] == cursors[1:3]
    errors = await gql.errors(EVENTS, {"sid": order.sid, "after": "PO123"}, as_=alice)
    assert errors[0]["extensions"] == {"code": 21826}
    errors = await gql.errors(EVENTS, {"sid": order.sid, "before": "-1"}, as_=alice)
    assert errors[0]["extensions"] == {"code": 21825}
