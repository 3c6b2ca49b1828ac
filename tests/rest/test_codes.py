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
from tests.builders import Tenant, mobile_input, order_input, signature
from tests.conftest import snapshot
from tests.rest.conftest import LOAS, ORDERS, assert_error

pytestmark = pytest.mark.dialects("sqlite")

S = PortOrderStatus
SIGNATURE = signature()

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
    http: httpx.AsyncClient, svc: Services, alice: Tenant, code: int, data: dict[str, Any]
) -> None:
    before = await snapshot(svc)
    r = await http.post(ORDERS, json=data, auth=alice.auth)
    body = assert_error(r, 400, code)
    assert body["details"][0]["code"] == code
    assert await snapshot(svc) == before


async def _order(http: httpx.AsyncClient, acct: Tenant, **fields: Any) -> dict[str, Any]:
    data = mobile_input(**fields) if fields.pop("mobile", False) else order_input(**fields)
    r = await http.post(ORDERS, json=data, auth=acct.auth)
    assert r.status_code == 201, r.text
    result: dict[str, Any] = r.json()
    return result


async def test_update_and_cancel_codes(
    http: httpx.AsyncClient, svc: Services, alice: Tenant
) -> None:
    o = await _order(http, alice)
    r = await http.post(f"{ORDERS}/{o['sid']}", json={"email": "bad"}, auth=alice.auth)
    assert_error(r, 400, 21818)
    canceled = (await http.delete(f"{ORDERS}/{o['sid']}", auth=alice.auth)).json()
    before = await snapshot(svc)
    r = await http.post(f"{ORDERS}/{o['sid']}", json={"friendly_name": "x"}, auth=alice.auth)
    assert_error(r, 400, 21829)
    r = await http.put(f"{ORDERS}/{o['sid']}", json={"friendly_name": "x"}, auth=alice.auth)
    assert_error(r, 400, 21829)
    r = await http.delete(f"{ORDERS}/{o['sid']}", auth=alice.auth)
    assert_error(r, 400, 21830)
    assert await snapshot(svc) == before
    assert (await http.get(f"{ORDERS}/{o['sid']}", auth=alice.auth)).json() == canceled


async def test_cancel_after_signing_codes(
    http: httpx.AsyncClient, svc: Services, alice: Tenant
) -> None:
    mobile = await _order(http, alice, mobile=True)
    landline = await _order(http, alice, port_type="LANDLINE", email="landline@example.com")
    for o in (mobile, landline):
        await loas.request_signature(svc, alice.caller, o["loa_sid"])
        await loas.sign(svc, o["loa_sid"], SIGNATURE)
    soon = svc.clock() + timedelta(hours=24)
    await operators.set_activation_date(svc, Actor.CARRIER, None, landline["sid"], soon)
    before = await snapshot(svc)
    r = await http.delete(f"{ORDERS}/{mobile['sid']}", auth=alice.auth)
    assert_error(r, 400, 21832)
    r = await http.delete(f"{ORDERS}/{landline['sid']}", auth=alice.auth)
    assert_error(r, 400, 21833)
    r = await http.post(f"{ORDERS}/{landline['sid']}", json={"city": "x"}, auth=alice.auth)
    assert_error(r, 400, 21829)
    assert await snapshot(svc) == before


async def test_number_codes(http: httpx.AsyncClient, svc: Services, alice: Tenant) -> None:
    rejected = await _order(http, alice, number="+14155550001")
    assert rejected["status"] == "REJECTED"
    assert [e["code"] for e in rejected["errors"]] == [21827]
    assert rejected["reason_code"] == 21827

    o = await _order(http, alice)
    before = await snapshot(svc)
    r = await http.post(ORDERS, json=order_input(number=o["number"]), auth=alice.auth)
    assert_error(r, 400, 21837)
    assert await snapshot(svc) == before

    await loas.request_signature(svc, alice.caller, o["loa_sid"])
    await loas.sign(svc, o["loa_sid"], SIGNATURE)
    await operators.set_status(svc, Actor.CARRIER, None, o["sid"], S.ACCEPTED)
    await operators.set_status(svc, Actor.CARRIER, None, o["sid"], S.COMPLETED)
    done = (await http.get(f"{ORDERS}/{o['sid']}", auth=alice.auth)).json()
    assert done["status"] == "COMPLETED" and done["incoming_phone_number_sid"].startswith("PN")
    r = await http.get(
        ORDERS,
        params={"IncomingPhoneNumberSid": done["incoming_phone_number_sid"]},
        auth=alice.auth,
    )
    assert [x["sid"] for x in r.json()["orders"]] == [o["sid"]]
    before = await snapshot(svc)
    r = await http.post(ORDERS, json=order_input(number=o["number"]), auth=alice.auth)
    assert_error(r, 400, 21838)
    assert await snapshot(svc) == before


async def test_carrier_errors_are_shown(
    http: httpx.AsyncClient, svc: Services, alice: Tenant
) -> None:
    o = await _order(http, alice)
    await loas.request_signature(svc, alice.caller, o["loa_sid"])
    await loas.sign(svc, o["loa_sid"], SIGNATURE)
    await operators.set_status(
        svc, Actor.CARRIER, None, o["sid"], S.REJECTED, reason_code=21831, error_code=21831
    )
    got = (await http.get(f"{ORDERS}/{o['sid']}", auth=alice.auth)).json()
    assert got["status"] == "REJECTED" and got["reason_code"] == 21831
    assert [e["code"] for e in got["errors"]] == [21831]
    assert got["errors"][0]["date"].endswith("Z")


async def test_loa_codes(http: httpx.AsyncClient, svc: Services, alice: Tenant) -> None:
    o = await _order(http, alice)
    other = await _order(http, alice, email="other@example.com")
    await http.delete(f"{ORDERS}/{other['sid']}", auth=alice.auth)
    r = await http.post(f"{LOAS}/{o['loa_sid']}", auth=alice.auth)
    assert r.status_code == 200 and r.json()["status"] == "signing"
    before = await snapshot(svc)
    r = await http.post(f"{LOAS}/{o['loa_sid']}", auth=alice.auth)
    assert_error(r, 400, 21905)
    r = await http.post(f"{LOAS}/{other['loa_sid']}", auth=alice.auth)  # canceled
    assert_error(r, 400, 21904)
    r = await http.post(f"{LOAS}/not-a-sid", auth=alice.auth)
    assert_error(r, 400, 21901)
    r = await http.post(f"{LOAS}/{o['loa_sid']}", json={"status": "signing"}, auth=alice.auth)
    assert_error(r, 400, 20001)
    r = await http.get(LOAS, params={"Status": "sealed"}, auth=alice.auth)
    assert_error(r, 400, 21904)
    r = await http.get(ORDERS, params={"Status": "SEALED"}, auth=alice.auth)
    assert_error(r, 400, 21822)
    r = await http.get(ORDERS, params={"AfterSid": "PO123"}, auth=alice.auth)
    assert_error(r, 400, 21826)
    r = await http.get(ORDERS, params={"BeforeSid": "PO123"}, auth=alice.auth)
    assert_error(r, 400, 21825)
    assert await snapshot(svc) == before
