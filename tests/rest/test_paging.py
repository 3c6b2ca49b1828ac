"""Keyset paging: three pages forward and back again while orders are created."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.services.context import Services
from tests.builders import Tenant, order_input, tenant
from tests.rest.conftest import LOAS, ORDERS, assert_error


async def _create(http: httpx.AsyncClient, acct: Tenant, n: int) -> list[str]:
    sids = []
    for _ in range(n):
        r = await http.post(ORDERS, json=order_input(), auth=acct.auth)
        assert r.status_code == 201, r.text
        sids.append(r.json()["sid"])
    return sids


async def _page(http: httpx.AsyncClient, acct: Tenant, url: str) -> dict[str, Any]:
    r = await http.get(url, auth=acct.auth)
    assert r.status_code == 200, r.text
    result: dict[str, Any] = r.json()
    return result


def _sids(page: dict[str, Any]) -> list[str]:
    return [o["sid"] for o in page["orders"]]


async def test_three_pages_forward_and_back_while_orders_arrive(
    http: httpx.AsyncClient, svc: Services
) -> None:
    acct = await tenant(svc)
    created = await _create(http, acct, 7)
    newest_first = created[::-1]

    p1 = await _page(http, acct, f"{ORDERS}?PageSize=2")
    assert _sids(p1) == newest_first[0:2]
    assert p1["meta"]["previous_page_url"] is None
    assert p1["meta"]["page"] == 0
    arrived = await _create(http, acct, 2)  # newer than everything listed so far

    p2 = await _page(http, acct, p1["meta"]["next_page_url"])
    assert "AfterSid=" + newest_first[1] in p1["meta"]["next_page_url"]
    assert _sids(p2) == newest_first[2:4]
    assert p2["meta"]["page"] == 1
    arrived += await _create(http, acct, 1)

    p3 = await _page(http, acct, p2["meta"]["next_page_url"])
    assert _sids(p3) == newest_first[4:6]
    assert p3["meta"]["page"] == 2
    assert p3["meta"]["next_page_url"] is not None

    p4 = await _page(http, acct, p3["meta"]["next_page_url"])
    assert _sids(p4) == newest_first[6:7]
    assert p4["meta"]["next_page_url"] is None
    # Forward: every original order exactly once, in order, nothing new mixed in.
    assert _sids(p1) + _sids(p2) + _sids(p3) + _sids(p4) == newest_first

    # And back again with BeforeSid.
    back3 = await _page(http, acct, p4["meta"]["previous_page_url"])
    assert "BeforeSid=" + newest_first[6] in p4["meta"]["previous_page_url"]
    assert _sids(back3) == _sids(p3)
    back2 = await _page(http, acct, back3["meta"]["previous_page_url"])
    assert _sids(back2) == _sids(p2)
    assert back2["meta"]["page"] == 1
    back1 = await _page(http, acct, back2["meta"]["previous_page_url"])
    assert _sids(back1) == _sids(p1)
    assert back1["meta"]["next_page_url"] is not None
    # The orders that arrived meanwhile are newer still: one more step back shows them.
    assert back1["meta"]["previous_page_url"] is not None
    newer = await _page(http, acct, back1["meta"]["previous_page_url"])
    assert _sids(newer) == arrived[::-1][-2:]
    front = await _page(http, acct, newer["meta"]["previous_page_url"])
    assert _sids(front) == arrived[::-1][:1]
    assert front["meta"]["previous_page_url"] is None
    # The first page now starts with the newest.
    first = await _page(http, acct, front["meta"]["first_page_url"])
    assert _sids(first) == (arrived[::-1] + newest_first)[:2]


async def test_loa_pages(http: httpx.AsyncClient, svc: Services) -> None:
    acct = await tenant(svc)
    loas = []
    for i in range(3):
        r = await http.post(
            ORDERS, json=order_input(email=f"signer{i}@example.com"), auth=acct.auth
        )
        loas.append(r.json()["loa_sid"])
    seen: list[str] = []
    url: str | None = f"{LOAS}?PageSize=2"
    while url:
        r = await http.get(url, auth=acct.auth)
        body = r.json()
        assert body["meta"]["key"] == "loas"
        seen += [x["sid"] for x in body["loas"]]
        url = body["meta"]["next_page_url"]
    assert seen == loas[::-1]


@pytest.mark.dialects("sqlite")
async def test_page_size_and_cursor_errors(http: httpx.AsyncClient, svc: Services) -> None:
    acct = await tenant(svc)
    other = await tenant(svc)
    mine = await _create(http, acct, 2)
    theirs = await _create(http, other, 1)
    r = await http.get(ORDERS, auth=acct.auth)
    assert r.json()["meta"]["page_size"] == 50
    r = await http.get(ORDERS, params={"PageSize": "5000"}, auth=acct.auth)
    assert r.json()["meta"]["page_size"] == 1000
    for bad in ("0", "-1", "two", "1.5"):
        r = await http.get(ORDERS, params={"PageSize": bad}, auth=acct.auth)
        assert_error(r, 400, 20001)
    r = await http.get(ORDERS, params={"Page": "0"}, auth=acct.auth)
    assert r.status_code == 200 and len(r.json()["orders"]) == 2
    r = await http.get(ORDERS, params={"Page": "3"}, auth=acct.auth)
    assert_error(r, 400, 20001)
    for cursor in ("nope", theirs[0], "PX" + mine[0][2:]):
        r = await http.get(ORDERS, params={"AfterSid": cursor}, auth=acct.auth)
        assert_error(r, 400, 21826)
        r = await http.get(ORDERS, params={"BeforeSid": cursor}, auth=acct.auth)
        assert_error(r, 400, 21825)
    r = await http.get(LOAS, params={"AfterSid": mine[0]}, auth=acct.auth)
    assert_error(r, 400, 21826)
    r = await http.get(ORDERS, params={"AfterSid": mine[0], "BeforeSid": mine[1]}, auth=acct.auth)
    assert_error(r, 400, 20001)
