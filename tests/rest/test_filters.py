"""Every list filter of CONTRACT.md §8, on both dialects (dates and text compare in the DB)."""

from __future__ import annotations

from typing import Any

import httpx

from app.services.context import Services
from tests.builders import Tenant, foc, order_input, tenant
from tests.rest.conftest import LOAS, ORDERS, assert_error, set_columns


async def _create(http: httpx.AsyncClient, acct: Tenant, **fields: Any) -> dict[str, Any]:
    r = await http.post(ORDERS, json=order_input(**fields), auth=acct.auth)
    assert r.status_code == 201, r.text
    result: dict[str, Any] = r.json()
    return result


async def _sids(http: httpx.AsyncClient, acct: Tenant, url: str, **params: str) -> list[str]:
    r = await http.get(url, params=params, auth=acct.auth)
    assert r.status_code == 200, r.text
    key = r.json()["meta"]["key"]
    return [x["sid"] for x in r.json()[key]]


# Requested activation dates within 30 days that no rule moves (app/porting/windows.py).
A_DATE = foc(8)
B_DATE = foc(15, "10:00:00", "+09:00")


async def test_port_order_filters(http: httpx.AsyncClient, svc: Services) -> None:
    parent = await tenant(svc)
    child = await tenant(svc, parent)
    a = await _create(
        http,
        parent,
        company_name="Acme",
        email="alpha@example.com",
        friendly_name="Alpha",
        activation_date=A_DATE,
    )
    b = await _create(
        http,
        parent,
        company_name="Beta",
        email="beta@example.com",
        activation_date=B_DATE,
    )
    c = await _create(http, child, email="child@example.com")
    r = await http.delete(f"{ORDERS}/{c['sid']}", auth=child.auth)
    assert r.status_code == 200
    await set_columns(
        svc,
        a["sid"],
        provider_sid="PV0001",
        zendesk_id="ZD-42",
        incoming_phone_number_sid="PN" + "a" * 32,
    )

    async def q(**params: str) -> list[str]:
        return await _sids(http, parent, ORDERS, **params)

    everything = [c["sid"], b["sid"], a["sid"]]
    assert await q() == everything
    assert await q(Sid=a["sid"]) == [a["sid"]]
    assert await q(AccountSid=child.sid) == [c["sid"]]
    assert await q(AccountSid=parent.sid) == [b["sid"], a["sid"]]
    assert await q(CompanyName="Acme") == [a["sid"]]
    assert await q(CompanyName="acme") == []  # values compare exactly
    assert await q(Email="beta@example.com") == [b["sid"]]
    assert await q(LoaSid=b["loa_sid"]) == [b["sid"]]
    assert await q(ProviderSid="PV0001") == [a["sid"]]
    assert await q(ZendeskId="ZD-42") == [a["sid"]]
    assert await q(IncomingPhoneNumberSid="PN" + "a" * 32) == [a["sid"]]
    assert await q(Number=b["number"]) == [b["sid"]]
    assert await q(FriendlyName="Alpha") == [a["sid"]]
    assert await q(Status="CANCELED") == [c["sid"]]
    assert await q(Status="pending") == [b["sid"], a["sid"]]
    assert await q(Status="Pending") == [b["sid"], a["sid"]]
    # b's activation date is B_DAY at 01:00:00Z.
    a_day, b_day = A_DATE[:10], B_DATE[:10]
    assert await q(ActivationDateMin=A_DATE) == [b["sid"], a["sid"]]
    assert await q(ActivationDateMin=f"{a_day}T10:00:01Z") == [b["sid"]]
    assert await q(ActivationDateMax=A_DATE) == [a["sid"]]
    assert await q(ActivationDateMax=f"{a_day}T09:59:59Z") == []
    assert await q(ActivationDateMin=b_day, ActivationDateMax=b_day) == [b["sid"]]
    assert await q(ActivationDateMax=B_DATE) == [b["sid"], a["sid"]]
    assert await q(ActivationDateMax=f"{b_day}T09:59:59+09:00") == [a["sid"]]
    # Filters combine.
    assert await q(Status="PENDING", CompanyName="Beta") == [b["sid"]]
    # Names are case-sensitive: an unknown name filters nothing.
    assert await q(friendlyname="Alpha", status="CANCELED") == everything
    # The child sees its own order only, whatever it asks.
    assert await _sids(http, child, ORDERS) == [c["sid"]]
    assert await _sids(http, child, ORDERS, AccountSid=parent.sid) == []


async def test_unencoded_plus_in_query(http: httpx.AsyncClient, svc: Services) -> None:
    acct = await tenant(svc)
    when = foc(10, "12:00:00", "+02:00")
    o = await _create(http, acct, activation_date=when)
    r = await http.get(f"{ORDERS}?Number={o['number']}", auth=acct.auth)
    assert [x["sid"] for x in r.json()["orders"]] == [o["sid"]]
    r = await http.get(f"{ORDERS}?ActivationDateMin={when}", auth=acct.auth)
    assert [x["sid"] for x in r.json()["orders"]] == [o["sid"]]
    assert r.json()["meta"]["url"].startswith(
        "http://testserver/porting/PortOrders?ActivationDateMin="
        + when.replace(":", "%3A").replace("+", "%2B")
    )


async def test_filter_errors(http: httpx.AsyncClient, svc: Services) -> None:
    acct = await tenant(svc)
    r = await http.get(ORDERS, params={"Status": "DONE"}, auth=acct.auth)
    assert_error(r, 400, 21822)
    r = await http.get(ORDERS, params={"ActivationDateMin": "2030-01-10T10:00"}, auth=acct.auth)
    assert_error(r, 400, 21814)
    r = await http.get(ORDERS, params={"ActivationDateMax": "soon"}, auth=acct.auth)
    assert_error(r, 400, 21814)
    r = await http.get(LOAS, params={"Status": "done"}, auth=acct.auth)
    assert_error(r, 400, 21904)
    r = await http.get(ORDERS, params=[("Email", "a"), ("Email", "b")], auth=acct.auth)
    assert_error(r, 400, 20001)
    # A digit-like character that int() refuses (found by schemathesis): 400, not 500.
    for size in ("\u00b9", "\u0663", "-1", "1.5"):
        r = await http.get(LOAS, params={"PageSize": size}, auth=acct.auth)
        assert_error(r, 400, 20001)


async def test_loa_filters(http: httpx.AsyncClient, svc: Services) -> None:
    acct = await tenant(svc)
    a = await _create(http, acct, first_name="Ann", last_name="Lee", email="ann@example.com")
    b = await _create(http, acct, first_name="Bob", last_name="Lee", email="bob@example.com")
    r = await http.post(f"{LOAS}/{b['loa_sid']}", auth=acct.auth)
    assert r.status_code == 200, r.text

    async def q(**params: str) -> list[str]:
        return await _sids(http, acct, LOAS, **params)

    la, lb = a["loa_sid"], b["loa_sid"]
    assert await q() == [lb, la]
    assert await q(Sid=la) == [la]
    assert await q(Status="open") == [la]
    assert await q(Status="SIGNING") == [lb]
    assert await q(FirstName="Bob") == [lb]
    assert await q(LastName="Lee") == [lb, la]
    assert await q(Email="ann@example.com") == [la]
    assert await q(firstname="Bob") == [lb, la]
