"""Auth (issue point 2): HTTP Basic, 401 with WWW-Authenticate, tenants' visibility."""

from __future__ import annotations

import base64

import httpx
import pytest

from app.services import accounts
from app.services.context import Services
from tests.builders import order_input
from tests.rest.conftest import (
    LOAS,
    ORDERS,
    Account,
    assert_error,
    counts,
    new_account,
    sqlite_only,
)

pytestmark = sqlite_only


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
    client: httpx.AsyncClient, svc: Services, account: Account, headers: dict[str, str]
) -> None:
    before = await counts(svc)
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
        r = await client.request(method, path, json=body, headers=headers)
        assert_error(r, 401, 20003)
        assert r.headers["www-authenticate"].startswith("Basic realm=")
    assert await counts(svc) == before


async def test_wrong_token_of_a_real_account_is_401(
    client: httpx.AsyncClient, account: Account
) -> None:
    r = await client.get(ORDERS, auth=(account.sid, account.token + "x"))
    assert_error(r, 401, 20003)


async def test_tenants(client: httpx.AsyncClient, svc: Services) -> None:
    parent = await new_account(svc)
    child = await new_account(svc, parent)
    stranger = await new_account(svc)
    r = await client.post(ORDERS, json=order_input(email="p@example.com"), auth=parent.auth)
    parents = r.json()
    r = await client.post(ORDERS, json=order_input(email="c@example.com"), auth=child.auth)
    childs = r.json()
    assert childs["account_sid"] == child.sid

    # A parent sees its subaccount's orders and LOAs.
    r = await client.get(f"{ORDERS}/{childs['sid']}", auth=parent.auth)
    assert r.status_code == 200 and r.json() == childs
    r = await client.get(f"{LOAS}/{childs['loa_sid']}", auth=parent.auth)
    assert r.status_code == 200
    r = await client.get(ORDERS, auth=parent.auth)
    assert [o["sid"] for o in r.json()["orders"]] == [childs["sid"], parents["sid"]]
    r = await client.get(LOAS, auth=parent.auth)
    assert [x["sid"] for x in r.json()["loas"]] == [childs["loa_sid"], parents["loa_sid"]]

    # A subaccount sees only its own; a stranger sees nothing; both get a plain 404.
    missing = await client.get(f"{ORDERS}/PO{'f' * 32}", auth=child.auth)
    missing_loa = await client.get(f"{LOAS}/PX{'f' * 32}", auth=child.auth)
    assert_error(missing, 404, 20404)
    before = await counts(svc)
    for who in (child, stranger):
        r = await client.get(f"{ORDERS}/{parents['sid']}", auth=who.auth)
        assert (r.status_code, r.json()) == (404, missing.json())
        r = await client.get(f"{LOAS}/{parents['loa_sid']}", auth=who.auth)
        assert (r.status_code, r.json()) == (404, missing_loa.json())
        r = await client.post(
            f"{ORDERS}/{parents['sid']}", json={"friendly_name": "Mine"}, auth=who.auth
        )
        assert (r.status_code, r.json()) == (404, missing.json())
        r = await client.delete(f"{ORDERS}/{parents['sid']}", auth=who.auth)
        assert (r.status_code, r.json()) == (404, missing.json())
        r = await client.post(f"{LOAS}/{parents['loa_sid']}", auth=who.auth)
        assert (r.status_code, r.json()) == (404, missing_loa.json())
    r = await client.get(ORDERS, auth=child.auth)
    assert [o["sid"] for o in r.json()["orders"]] == [childs["sid"]]
    r = await client.get(ORDERS, auth=stranger.auth)
    assert r.json()["orders"] == []
    r = await client.get(LOAS, auth=stranger.auth)
    assert r.json()["loas"] == []
    assert await counts(svc) == before
    r = await client.get(f"{ORDERS}/{parents['sid']}", auth=parent.auth)
    assert r.json() == parents


async def test_create_for_a_subaccount(client: httpx.AsyncClient, svc: Services) -> None:
    parent = await new_account(svc)
    child = await new_account(svc, parent)
    stranger = await new_account(svc)
    r = await client.post(ORDERS, json=order_input(account_sid=child.sid), auth=parent.auth)
    assert r.status_code == 201 and r.json()["account_sid"] == child.sid
    before = await counts(svc)
    r = await client.post(ORDERS, json=order_input(AccountSid=parent.sid), auth=child.auth)
    assert_error(r, 404, 20404)
    r = await client.post(ORDERS, json=order_input(account_sid=stranger.sid), auth=parent.auth)
    assert_error(r, 404, 20404)
    assert await counts(svc) == before


async def test_operator_sees_every_account(client: httpx.AsyncClient, svc: Services) -> None:
    acct = await new_account(svc)
    r = await client.post(ORDERS, json=order_input(), auth=acct.auth)
    order = r.json()
    creds = await accounts.create_operator(svc)
    r = await client.get(f"{ORDERS}/{order['sid']}", auth=(creds.sid, creds.secret))
    assert r.status_code == 200 and r.json() == order
