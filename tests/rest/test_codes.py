"""Every CONTRACT.md §7 code the REST surface can trigger: the code, and nothing stored.

Codes only a carrier or operator can cause (21831, 21835) are shown in the order's `errors`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from app.porting.statuses import Actor, PortOrderStatus
from app.services import loas, operators
from app.services.context import Services
from app.services.loas import Signature
from tests.builders import mobile_input, order_input
from tests.rest.conftest import LOAS, ORDERS, Account, assert_error, counts, sqlite_only

pytestmark = sqlite_only

S = PortOrderStatus
SIGNATURE = Signature("James Smith", "127.0.0.1", "pytest", "0" * 64)

CREATE_CASES: list[tuple[int, dict[str, Any]]] = [
    (20001, order_input(port_type="SATELLITE")),
    (20002, order_input(friendly_name="x" * 65)),
    (21801, order_input(number=...)),
    (21802, order_input(iso_country=...)),
    (21803, order_input(region=...)),
    (21804, order_input(city=...)),
    (21805, order_input(postal_code=...)),
    (21806, order_input(street=...)),
    (21807, order_input(first_name=...)),
    (21808, order_input(last_name=...)),
    (21809, mobile_input(account_number=...)),
    (21810, mobile_input(pin_number=...)),
    (21811, order_input(email=...)),
    (21812, order_input(number="+1415")),
    (21813, order_input(iso_country="USA")),
    (21814, order_input(activation_date="2030-07-10")),
    (21815, order_input(billing_phone_number="12345")),
    (21816, mobile_input(pin_number="!!")),
    (21817, mobile_input(ssn_last_four="12")),
    (21818, order_input(email="not-an-email")),
    (21819, order_input(status_callback="ftp://example.com/cb")),
    (21820, order_input(cc_emails=["ok@example.com", "nope"])),
    (21824, mobile_input(ssn_last_four=...)),
    (21828, order_input(first_name="J4mes")),
    (21834, order_input(postal_code="10001")),
    (21836, mobile_input(account_number=..., ssn_last_four=...)),
]


@pytest.mark.parametrize(("code", "data"), CREATE_CASES, ids=[str(c) for c, _ in CREATE_CASES])
async def test_create_validation_codes(
    client: httpx.AsyncClient, svc: Services, account: Account, code: int, data: dict[str, Any]
) -> None:
    before = await counts(svc)
    r = await client.post(ORDERS, json=data, auth=account.auth)
    body = assert_error(r, 400, code)
    assert body["details"][0]["code"] == code
    assert await counts(svc) == before


async def _order(client: httpx.AsyncClient, acct: Account, **fields: Any) -> dict[str, Any]:
    data = mobile_input(**fields) if fields.pop("mobile", False) else order_input(**fields)
    r = await client.post(ORDERS, json=data, auth=acct.auth)
    assert r.status_code == 201, r.text
    return r.json()


async def test_update_and_cancel_codes(
    client: httpx.AsyncClient, svc: Services, account: Account
) -> None:
    o = await _order(client, account)
    r = await client.post(f"{ORDERS}/{o['sid']}", json={"email": "bad"}, auth=account.auth)
    assert_error(r, 400, 21818)
    canceled = (await client.delete(f"{ORDERS}/{o['sid']}", auth=account.auth)).json()
    before = await counts(svc)
    r = await client.post(f"{ORDERS}/{o['sid']}", json={"friendly_name": "x"}, auth=account.auth)
    assert_error(r, 400, 21829)
    r = await client.put(f"{ORDERS}/{o['sid']}", json={"friendly_name": "x"}, auth=account.auth)
    assert_error(r, 400, 21829)
    r = await client.delete(f"{ORDERS}/{o['sid']}", auth=account.auth)
    assert_error(r, 400, 21830)
    assert await counts(svc) == before
    assert (await client.get(f"{ORDERS}/{o['sid']}", auth=account.auth)).json() == canceled


async def test_cancel_after_signing_codes(
    client: httpx.AsyncClient, svc: Services, account: Account
) -> None:
    mobile = await _order(client, account, mobile=True)
    landline = await _order(client, account, port_type="LANDLINE", email="landline@example.com")
    for o in (mobile, landline):
        await loas.request_signature(svc, account.caller, o["loa_sid"])
        await loas.sign(svc, o["loa_sid"], SIGNATURE)
    soon = svc.clock() + timedelta(hours=24)
    await operators.set_activation_date(svc, Actor.CARRIER, None, landline["sid"], soon)
    before = await counts(svc)
    r = await client.delete(f"{ORDERS}/{mobile['sid']}", auth=account.auth)
    assert_error(r, 400, 21832)
    r = await client.delete(f"{ORDERS}/{landline['sid']}", auth=account.auth)
    assert_error(r, 400, 21833)
    r = await client.post(f"{ORDERS}/{landline['sid']}", json={"city": "x"}, auth=account.auth)
    assert_error(r, 400, 21829)
    assert await counts(svc) == before


async def test_number_codes(client: httpx.AsyncClient, svc: Services, account: Account) -> None:
    rejected = await _order(client, account, number="+14155550001")
    assert rejected["status"] == "REJECTED"
    assert [e["code"] for e in rejected["errors"]] == [21827]
    assert rejected["reason_code"] == 21827

    o = await _order(client, account)
    before = await counts(svc)
    r = await client.post(ORDERS, json=order_input(number=o["number"]), auth=account.auth)
    assert_error(r, 400, 21837)
    assert await counts(svc) == before

    await loas.request_signature(svc, account.caller, o["loa_sid"])
    await loas.sign(svc, o["loa_sid"], SIGNATURE)
    await operators.set_status(svc, Actor.CARRIER, None, o["sid"], S.ACCEPTED)
    await operators.set_status(svc, Actor.CARRIER, None, o["sid"], S.COMPLETED)
    done = (await client.get(f"{ORDERS}/{o['sid']}", auth=account.auth)).json()
    assert done["status"] == "COMPLETED" and done["incoming_phone_number_sid"].startswith("PN")
    r = await client.get(
        ORDERS,
        params={"IncomingPhoneNumberSid": done["incoming_phone_number_sid"]},
        auth=account.auth,
    )
    assert [x["sid"] for x in r.json()["orders"]] == [o["sid"]]
    before = await counts(svc)
    r = await client.post(ORDERS, json=order_input(number=o["number"]), auth=account.auth)
    assert_error(r, 400, 21838)
    assert await counts(svc) == before


async def test_carrier_errors_are_shown(
    client: httpx.AsyncClient, svc: Services, account: Account
) -> None:
    o = await _order(client, account)
    await loas.request_signature(svc, account.caller, o["loa_sid"])
    await loas.sign(svc, o["loa_sid"], SIGNATURE)
    await operators.set_status(
        svc, Actor.CARRIER, None, o["sid"], S.REJECTED, reason_code=21831, error_code=21831
    )
    got = (await client.get(f"{ORDERS}/{o['sid']}", auth=account.auth)).json()
    assert got["status"] == "REJECTED" and got["reason_code"] == 21831
    assert [e["code"] for e in got["errors"]] == [21831]
    assert got["errors"][0]["date"].endswith("Z")


async def test_loa_codes(client: httpx.AsyncClient, svc: Services, account: Account) -> None:
    o = await _order(client, account)
    other = await _order(client, account, email="other@example.com")
    await client.delete(f"{ORDERS}/{other['sid']}", auth=account.auth)
    r = await client.post(f"{LOAS}/{o['loa_sid']}", auth=account.auth)
    assert r.status_code == 200 and r.json()["status"] == "signing"
    before = await counts(svc)
    r = await client.post(f"{LOAS}/{o['loa_sid']}", auth=account.auth)
    assert_error(r, 400, 21905)
    r = await client.post(f"{LOAS}/{other['loa_sid']}", auth=account.auth)  # canceled
    assert_error(r, 400, 21904)
    r = await client.post(f"{LOAS}/not-a-sid", auth=account.auth)
    assert_error(r, 400, 21901)
    r = await client.post(f"{LOAS}/{o['loa_sid']}", json={"status": "signing"}, auth=account.auth)
    assert_error(r, 400, 20001)
    r = await client.get(LOAS, params={"Status": "sealed"}, auth=account.auth)
    assert_error(r, 400, 21904)
    r = await client.get(ORDERS, params={"Status": "SEALED"}, auth=account.auth)
    assert_error(r, 400, 21822)
    r = await client.get(ORDERS, params={"AfterSid": "PO123"}, auth=account.auth)
    assert_error(r, 400, 21826)
    r = await client.get(ORDERS, params={"BeforeSid": "PO123"}, auth=account.auth)
    assert_error(r, 400, 21825)
    assert await counts(svc) == before
