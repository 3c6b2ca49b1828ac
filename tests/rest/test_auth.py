"""Auth (issue point 2): HTTP Basic, 401 with WWW-Authenticate, tenants' visibility."""

from __future__ import annotations

import base64

import httpx
import pytest

from app.services.context import Services
from tests.builders import Tenant, operator_tenant, order_input, tenant
from tests.conftest import snapshot
from tests.rest.conftest import LOAS, ORDERS, assert_error

pytestmark = pytest.mark.dialects("sqlite")


def _basic(raw: str) -> dict[str, str]:
    return {"authorization": "Basic " + base64.b64encode(raw.encode()).decode()}


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"authorization": "Bearer abc"},
        {"authorization": "Basic !!!notbase64"},
        _basic("no-colon"),
        _basic("AC" + "0" * 32 + ":wrong"),
    ],
    ids=["none", "bearer", "bad-base64", "no-colon", "unknown-sid"],
)
async def test_missing_or_wrong_credentials_are_401(
    http: httpx.AsyncClient, svc: Services, alice: Tenant, headers: dict[str, str]
) -> None:
    before = await snapshot(svc)
    requests = [
        ("GET", ORDERS, None),
        ("POST", ORDERS, order_input()),
        ("GET", f"{ORDERS}/PO{'0' * 32}", None),
        ("POST", f"{ORDERS}/PO{'0' * 32}", {}),
        ("DELETE", f"{ORDERS}/PO{'0' * 32}", None),
        ("GET", LOAS, None),
        ("GET", f"{LOAS}/PX{'0' * 32}", None),
        ("POST", f"{LOAS}/PX{'0' * 32}", None),
    ]
    for method, path, body in requests:
        r = await http.request(method, path, json=body, headers=headers)
        assert_error(r, 401, 20003)
        assert r.headers["www-authenticate"].startswith("Basic realm=")
    assert await snapshot(svc) == before


async def test_wrong_token_of_a_real_account_is_401(http: httpx.AsyncClient, alice: Tenant) -> None:
    r = await http.get(ORDERS, auth=(alice.sid, alice.token + "x"))
    assert_error(r, 401, 20003)


async def test_tenants(http: httpx.AsyncClient, svc: Services) -> None:
    parent = await tenant(svc)
    child = await tenant(svc, parent)
    stranger = await tenant(svc)
    r = await http.post(ORDERS, json=order_input(email="p@example.com"), auth=parent.auth)
    parents = r.json()
    r = await http.post(ORDERS, json=order_input(email="c@example.com"), auth=child.auth)
    childs = r.json()
    assert childs["account_sid"] == child.sid

    # A parent sees its subaccount's orders and LOAs.
    r = await http.get(f"{ORDERS}/{childs['sid']}", auth=parent.auth)
    assert r.status_code == 200 and r.json() == childs
    r = await http.get(f"{LOAS}/{childs['loa_sid']}", auth=parent.auth)
    assert r.status_code == 200
    r = await http.get(ORDERS, auth=parent.auth)
    assert [o["sid"] for o in r.json()["orders"]] == [childs["sid"], parents["sid"]]
    r = await http.get(LOAS, auth=parent.auth)
    assert [x["sid"] for x in r.json()["loas"]] == [childs["loa_sid"], parents["loa_sid"]]

    # A subaccount sees only its own; a stranger sees nothing; both get a plain 404.
    missing = await http.get(f"{ORDERS}/PO{'f' * 32}", auth=child.auth)
    missing_loa = await http.get(f"{LOAS}/PX{'f' * 32}", auth=child.auth)
    assert_error(missing, 404, 20404)
    before = await snapshot(svc)
    for who in (child, stranger):
        r = await http.get(f"{ORDERS}/{parents['sid']}", auth=who.auth)
        assert (r.status_code, r.json()) == (404, missing.json())
        r = await http.get(f"{LOAS}/{parents['loa_sid']}", auth=who.auth)
        assert (r.status_code, r.json()) == (404, missing_loa.json())
        r = await http.post(
            f"{ORDERS}/{parents['sid']}", json={"friendly_name": "Mine"}, auth=who.auth
        )
        assert (r.status_code, r.json()) == (404, missing.json())
        r = await http.delete(f"{ORDERS}/{parents['sid']}", auth=who.auth)
        assert (r.status_code, r.json()) == (404, missing.json())
        r = await http.post(f"{LOAS}/{parents['loa_sid']}", auth=who.auth)
        assert (r.status_code, r.json()) == (404, missing_loa.json())
    r = await http.get(ORDERS, auth=child.auth)
    assert [o["sid"] for o in r.json()["orders"]] == [childs["sid"]]
    r = await http.get(ORDERS, auth=stranger.auth)
    assert r.json()["orders"] == []
    r = await http.get(LOAS, auth=stranger.auth)
    assert r.json()["loas"] == []
    assert await snapshot(svc) == before
    r = await http.get(f"{ORDERS}/{parents['sid']}", auth=parent.auth)
    assert r.json() == parents


async def test_create_for_a_subaccount(http: httpx.AsyncClient, svc: Services) -> None:
    parent = await tenant(svc)
    child = await tenant(svc, parent)
    stranger = await tenant(svc)
    r = await http.post(ORDERS, json=order_input(account_sid=child.sid), auth=parent.auth)
    assert r.status_code == 201 and r.json()["account_sid"] == child.sid
    before = await snapshot(svc)
    r = await http.post(ORDERS, json=order_input(AccountSid=parent.sid), auth=child.auth)
    assert_error(r, 404, 20404)
    r = await http.post(ORDERS, json=order_input(account_sid=stranger.sid), auth=parent.auth)
    assert_error(r, 404, 20404)
    assert await snapshot(svc) == before


async def test_operator_sees_every_account(http: httpx.AsyncClient, svc: Services) -> None:
    acct = await tenant(svc)
    r = await http.post(ORDERS, json=order_input(), auth=acct.auth)
    order = r.json()
    op = await operator_tenant(svc)
    r = await http.get(f"{ORDERS}/{order['sid']}", auth=op.auth)
    assert r.status_code == 200 and r.json() == order
