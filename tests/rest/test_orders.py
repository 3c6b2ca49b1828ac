"""Port order instance routes: create (JSON, form, PascalCase), get, update (POST/PUT), cancel;
the instance JSON of CONTRACT.md §2; write-only fields never in a response."""

from __future__ import annotations

import httpx
import pytest

from app.rest.serializers import PORT_ORDER_FIELDS
from tests.builders import Tenant, as_utc, foc, mobile_input, order_input
from tests.rest.conftest import LOAS, ORDERS

pytestmark = pytest.mark.dialects("sqlite")

SECRETS = {"ssn_last_four": "6789", "account_number": "ACCT-778899", "pin_number": "4321"}


def _no_secrets(response: httpx.Response) -> None:
    """No write-only value anywhere; no write-only key in a resource (an error may name the
    field it is about, never its value)."""
    for name, value in SECRETS.items():
        assert value not in response.text
        if response.status_code < 400:
            assert f'"{name}"' not in response.text


async def test_create_json_then_get(http: httpx.AsyncClient, alice: Tenant) -> None:
    data = order_input(
        postal_code=94107,
        cc_emails=["a@example.com", "b@example.com"],
        activation_date=foc(10, "07:48:59", "+02:00"),
        status_callback="https://example.com/cb",
    )
    r = await http.post(ORDERS, json=data, auth=alice.auth)
    assert r.status_code == 201, r.text
    order = r.json()
    assert tuple(order) == PORT_ORDER_FIELDS
    assert order["postal_code"] == "94107"
    assert order["cc_emails"] == ["a@example.com", "b@example.com"]
    assert order["activation_date"] == as_utc(data["activation_date"])
    assert order["activation_date_reason"] is None
    assert order["date_created"].endswith("Z") and len(order["date_created"]) == 20
    assert order["company_name"] is None and order["submitted_date"] is None
    assert order["errors"] == [] and order["reason_code"] is None
    assert order["url"] == f"http://testserver{ORDERS}/{order['sid']}"
    got = await http.get(f"{ORDERS}/{order['sid']}", auth=alice.auth)
    assert got.status_code == 200
    assert got.json() == order


async def test_create_form_with_pascal_case(http: httpx.AsyncClient, alice: Tenant) -> None:
    data = order_input()
    form = {
        "Number": data["number"],
        "IsoCountry": "US",
        "Region": "CA",
        "City": data["city"],
        "PostalCode": "94107",
        "Street": data["street"],
        "FirstName": "Jim",
        "LastName": "Smith",
        "Email": "jim@example.com",
        "FriendlyName": "Main line",
        "CompanyName": "Random Inc",
        "StatusUpdatesEmail": "ops@example.com",
        "CcEmails": ["a@example.com", "b@example.com"],  # repeated form fields
        "StatusCallback": "https://example.com/cb",
    }
    r = await http.post(ORDERS, data=form, auth=alice.auth)
    assert r.status_code == 201, r.text
    order = r.json()
    assert order["friendly_name"] == "Main line"
    assert order["company_name"] == "Random Inc"
    assert order["status_updates_email"] == "ops@example.com"
    assert order["cc_emails"] == ["a@example.com", "b@example.com"]
    assert order["first_name"] == "Jim"


async def test_json_pascal_case_and_cc_emails_array(http: httpx.AsyncClient, alice: Tenant) -> None:
    data = order_input()
    body = {
        "Number": data["number"],
        "IsoCountry": "US",
        "Region": "CA",
        "City": data["city"],
        "PostalCode": 94107,
        "Street": data["street"],
        "FirstName": "Jim",
        "LastName": "Smith",
        "Email": "jim@example.com",
        "CcEmails": ["c@example.com"],
    }
    r = await http.post(ORDERS, json=body, auth=alice.auth)
    assert r.status_code == 201, r.text
    assert r.json()["cc_emails"] == ["c@example.com"]


async def test_update_with_post_and_put(http: httpx.AsyncClient, alice: Tenant) -> None:
    r = await http.post(ORDERS, json=order_input(), auth=alice.auth)
    sid = r.json()["sid"]
    r = await http.post(f"{ORDERS}/{sid}", json={"friendly_name": "Renamed"}, auth=alice.auth)
    assert r.status_code == 200, r.text
    assert r.json()["friendly_name"] == "Renamed"
    r = await http.put(
        f"{ORDERS}/{sid}",
        data={"CompanyName": "Acme", "CcEmails": ["x@example.com", "y@example.com"]},
        auth=alice.auth,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["company_name"] == "Acme"
    assert body["cc_emails"] == ["x@example.com", "y@example.com"]
    assert body["friendly_name"] == "Renamed"
    # A single empty form value clears the list.
    r = await http.post(f"{ORDERS}/{sid}", data={"CcEmails": ""}, auth=alice.auth)
    assert r.status_code == 200 and r.json()["cc_emails"] == []


async def test_delete_cancels_and_answers_with_the_order(
    http: httpx.AsyncClient, alice: Tenant
) -> None:
    r = await http.post(ORDERS, json=order_input(), auth=alice.auth)
    order = r.json()
    r = await http.delete(f"{ORDERS}/{order['sid']}", auth=alice.auth)
    assert r.status_code == 200, r.text
    canceled = r.json()
    assert canceled["sid"] == order["sid"]
    assert canceled["status"] == "CANCELED"
    assert tuple(canceled) == PORT_ORDER_FIELDS
    loa = await http.get(f"{LOAS}/{order['loa_sid']}", auth=alice.auth)
    assert loa.json()["status"] == "canceled"


async def test_write_only_fields_never_returned(http: httpx.AsyncClient, alice: Tenant) -> None:
    r = await http.post(ORDERS, json=mobile_input(**SECRETS), auth=alice.auth)
    assert r.status_code == 201, r.text
    _no_secrets(r)
    sid = r.json()["sid"]
    responses = [
        await http.get(f"{ORDERS}/{sid}", auth=alice.auth),
        await http.get(ORDERS, auth=alice.auth),
        await http.post(f"{ORDERS}/{sid}", json={"pin_number": "9999"}, auth=alice.auth),
        await http.post(f"{ORDERS}/{sid}", json={"pin_number": "!!"}, auth=alice.auth),
        await http.post(f"{ORDERS}/{sid}", json={"ssn_last_four": "12"}, auth=alice.auth),
        await http.get(LOAS, auth=alice.auth),
        await http.delete(f"{ORDERS}/{sid}", auth=alice.auth),
    ]
    assert [x.status_code for x in responses] == [200, 200, 200, 400, 400, 200, 200]
    for response in responses:
        _no_secrets(response)
        assert "9999" not in response.text and '"!!"' not in response.text


async def test_unknown_names_ignored_and_duplicates_refused(
    http: httpx.AsyncClient, alice: Tenant
) -> None:
    data = order_input(whatever="x")
    r = await http.post(ORDERS, json=data, auth=alice.auth)
    assert r.status_code == 201, r.text
    dup = order_input()
    dup["Number"] = "+14155550000"
    r = await http.post(ORDERS, json=dup, auth=alice.auth)
    assert r.status_code == 400
    assert r.json()["code"] == 20001
    assert "more than once" in r.json()["message"]
