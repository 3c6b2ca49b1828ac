"""Every mutation path: success, and each user error of CONTRACT.md §7 a mutation can hit.

A refused mutation returns every userError at once, `portOrder`/`loa` null, and stores nothing.
Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from app.porting.statuses import Actor, PortOrderStatus
from app.services import loas, operators, port_orders, reads
from app.services.context import Services
from tests.builders import (
    Tenant,
    as_utc,
    camel,
    foc,
    mobile_input,
    next_number,
    operator_tenant,
    order_input,
    signature,
    tenant,
)
from tests.conftest import GraphQL, snapshot

pytestmark = pytest.mark.dialects("sqlite", "postgres")


ORDER_FIELDS = "sid accountSid number status portType city postalCode email loaSid"

CREATE = f"""
mutation ($input: CreatePortOrderInput!) {{
  createPortOrder(input: $input) {{
    portOrder {{ {ORDER_FIELDS} activationDate ccEmails loa {{ status }} }}
    userErrors {{ code field message }}
  }}
}}
"""

UPDATE = f"""
mutation ($sid: ID!, $input: UpdatePortOrderInput!) {{
  updatePortOrder(sid: $sid, input: $input) {{
    portOrder {{ {ORDER_FIELDS} }}
    userErrors {{ code field message }}
  }}
}}
"""

CANCEL = """
mutation ($sid: ID!) {
  cancelPortOrder(sid: $sid) {
    portOrder { sid status allowedActions loa { status } }
    userErrors { code field message }
  }
}
"""

SIGN_LOA = """
mutation ($sid: ID!) {
  signLoa(sid: $sid) {
    loa { sid status }
    userErrors { code field message }
  }
}
"""


def codes(payload: dict[str, Any]) -> list[tuple[int, list[str] | None]]:
    return [(e["code"], e["field"]) for e in payload["userErrors"]]


async def refused(
    gql: GraphQL, svc: Services, query: str, variables: dict[str, Any], tenant: Tenant
) -> dict[str, Any]:
    """Run a mutation that must be refused; check nothing was stored; return its payload."""
    before = await snapshot(svc)
    data = await gql(query, variables, as_=tenant)
    (payload,) = data.values()
    assert payload["userErrors"], payload
    assert all(e["message"] for e in payload["userErrors"])
    assert (payload.get("portOrder"), payload.get("loa")) == (None, None)
    assert await snapshot(svc) == before
    result: dict[str, Any] = payload
    return result


# --- createPortOrder ------------------------------------------------------------------------


async def test_create_returns_the_new_order(svc: Services, gql: GraphQL, alice: Tenant) -> None:
    # given valid input with every optional field
    raw = order_input(
        activation_date=foc(10, "10:00:00", "+02:00"),
        cc_emails=["a@example.com", "b@example.com"],
        status_callback="https://hooks.example.com/x",
    )
    # when Alice creates the order
    payload = (await gql(CREATE, {"input": camel(raw)}, as_=alice))["createPortOrder"]
    # then it exists, is hers, and is PENDING on an OPEN LOA
    assert payload["userErrors"] == []
    order = payload["portOrder"]
    assert order["accountSid"] == alice.sid and order["number"] == raw["number"]
    assert order["status"] == "PENDING" and order["loa"] == {"status": "OPEN"}
    assert order["activationDate"] == as_utc(raw["activation_date"])
    assert order["ccEmails"] == ["a@example.com", "b@example.com"]
    stored = await reads.get_port_order(svc, alice.caller, order["sid"])
    assert stored is not None and stored.status == "PENDING"


async def test_create_stores_write_only_values_encrypted_and_never_returns_them(
    svc: Services, gql: GraphQL, alice: Tenant
) -> None:
    raw = mobile_input(account_number="ACCT-SECRET-1234567", pin_number="PINSECRET77")
    response = await gql.post(CREATE, {"input": camel(raw)}, as_=alice)
    body = response.json()
    assert body["data"]["createPortOrder"]["userErrors"] == []
    assert body["data"]["createPortOrder"]["portOrder"]["portType"] == "MOBILE"
    assert "ACCT-SECRET-1234567" not in response.text and "PINSECRET77" not in response.text
    stored = await reads.get_port_order(
        svc, alice.caller, body["data"]["createPortOrder"]["portOrder"]["sid"]
    )
    assert stored is not None and stored.secrets_enc
    assert "ACCT-SECRET" not in stored.secrets_enc


async def test_create_with_nothing_reports_every_missing_field_at_once(
    svc: Services, gql: GraphQL, alice: Tenant
) -> None:
    payload = await refused(gql, svc, CREATE, {"input": {}}, alice)
    assert codes(payload) == [
        (21801, ["input", "number"]),
        (21802, ["input", "isoCountry"]),
        (21803, ["input", "region"]),
        (21804, ["input", "city"]),
        (21805, ["input", "postalCode"]),
        (21806, ["input", "street"]),
        (21807, ["input", "firstName"]),
        (21808, ["input", "lastName"]),
        (21811, ["input", "email"]),
    ]


async def test_create_with_invalid_values_reports_each_of_them(
    svc: Services, gql: GraphQL, alice: Tenant
) -> None:
    raw = order_input(
        number="+1 415 CALL-NOW",
        friendly_name="x" * 65,
        first_name="R2-D2",
        email="not-an-email",
        status_updates_email="also@bad@example.com",
        billing_phone_number="12345",
        activation_date="2031-02-03",
        status_callback="ftp://example.com/x",
        cc_emails=["ok@example.com", "nope"],
    )
    payload = await refused(gql, svc, CREATE, {"input": camel(raw)}, alice)
    assert codes(payload) == [
        (21812, ["input", "number"]),
        (20002, ["input", "friendlyName"]),
        (21828, ["input", "firstName"]),
        (21818, ["input", "email"]),
        (21818, ["input", "statusUpdatesEmail"]),
        (21815, ["input", "billingPhoneNumber"]),
        (21814, ["input", "activationDate"]),
        (21819, ["input", "statusCallback"]),
        (21820, ["input", "ccEmails"]),
    ]


async def test_create_with_a_bad_country_and_a_us_address_that_does_not_match(
    svc: Services, gql: GraphQL, alice: Tenant
) -> None:
    payload = await refused(
        gql, svc, CREATE, {"input": camel(order_input(iso_country="XX"))}, alice
    )
    assert codes(payload) == [(21813, ["input", "isoCountry"])]
    mismatch = order_input(region="NY", postal_code="94107")
    payload = await refused(gql, svc, CREATE, {"input": camel(mismatch)}, alice)
    assert codes(payload) == [(21834, ["input", "postalCode"])]


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"account_number": ..., "ssn_last_four": ...}, [(21836, ["input", "accountNumber"])]),
        ({"account_number": ...}, [(21809, ["input", "accountNumber"])]),
        ({"ssn_last_four": ...}, [(21824, ["input", "ssnLastFour"])]),
        ({"pin_number": ...}, [(21810, ["input", "pinNumber"])]),
        (
            {"ssn_last_four": "12a4"},
            [(21817, ["input", "ssnLastFour"])],
        ),
        ({"pin_number": "!!"}, [(21816, ["input", "pinNumber"])]),
    ],
)
async def test_create_mobile_needs_its_carrier_credentials(
    svc: Services,
    gql: GraphQL,
    alice: Tenant,
    overrides: dict[str, Any],
    expected: list[tuple[int, list[str]]],
) -> None:
    payload = await refused(gql, svc, CREATE, {"input": camel(mobile_input(**overrides))}, alice)
    assert sorted(codes(payload)) == sorted(expected)
    assert not any("12a4" in e["message"] or "!!" in e["message"] for e in payload["userErrors"])


async def test_create_for_a_number_already_in_an_open_order(
    svc: Services, gql: GraphQL, alice: Tenant, bob: Tenant
) -> None:
    taken = await port_orders.create_port_order(svc, bob.caller, order_input())
    payload = await refused(
        gql, svc, CREATE, {"input": camel(order_input(number=taken.number))}, alice
    )
    assert codes(payload) == [(21837, ["input", "number"])]


async def test_create_for_a_number_already_in_our_inventory(
    svc: Services, gql: GraphQL, alice: Tenant
) -> None:
    done = await port_orders.create_port_order(svc, alice.caller, order_input())
    await loas.request_signature(svc, alice.caller, done.loa_sid)
    await loas.sign(svc, done.loa_sid, signature(ip=None, user_agent=None))
    await operators.set_status(svc, Actor.CARRIER, None, done.sid, PortOrderStatus.ACCEPTED)
    await operators.set_status(svc, Actor.CARRIER, None, done.sid, PortOrderStatus.COMPLETED)
    payload = await refused(
        gql, svc, CREATE, {"input": camel(order_input(number=done.number))}, alice
    )
    assert codes(payload) == [(21838, ["input", "number"])]


async def test_create_for_a_subaccount_and_not_for_a_stranger(
    svc: Services, gql: GraphQL, alice: Tenant, bob: Tenant
) -> None:
    child = await tenant(svc, parent=alice)
    ok = await gql(CREATE, {"input": camel(order_input(account_sid=child.sid))}, as_=alice)
    assert ok["createPortOrder"]["portOrder"]["accountSid"] == child.sid
    payload = await refused(
        gql, svc, CREATE, {"input": camel(order_input(account_sid=bob.sid))}, alice
    )
    assert codes(payload) == [(20404, ["input", "accountSid"])]


async def test_an_operator_must_name_the_account(
    svc: Services, gql: GraphQL, alice: Tenant
) -> None:
    op = await operator_tenant(svc)
    payload = await refused(gql, svc, CREATE, {"input": camel(order_input())}, op)
    assert codes(payload) == [(20001, ["input", "accountSid"])]
    ok = await gql(CREATE, {"input": camel(order_input(account_sid=alice.sid))}, as_=op)
    assert ok["createPortOrder"]["portOrder"]["accountSid"] == alice.sid


async def test_an_unportable_number_is_created_rejected(
    svc: Services, gql: GraphQL, alice: Tenant
) -> None:
    data = await gql(CREATE, {"input": camel(order_input(number="+14155550001"))}, as_=alice)
    assert data["createPortOrder"]["portOrder"]["status"] == "REJECTED"


# --- updatePortOrder ------------------------------------------------------------------------


async def test_update_changes_the_given_fields_only(
    svc: Services, gql: GraphQL, alice: Tenant
) -> None:
    order = await port_orders.create_port_order(svc, alice.caller, order_input())
    data = await gql(UPDATE, {"sid": order.sid, "input": {"email": "new@example.com"}}, as_=alice)
    payload = data["updatePortOrder"]
    assert payload["userErrors"] == []
    assert payload["portOrder"]["email"] == "new@example.com"
    assert payload["portOrder"]["city"] == "San Francisco"


async def test_update_of_a_rejected_order_moves_it_back_to_pending(
    svc: Services, gql: GraphQL, alice: Tenant
) -> None:
    order = await port_orders.create_port_order(
        svc, alice.caller, order_input(number="+14155550001")
    )
    data = await gql(UPDATE, {"sid": order.sid, "input": {"number": next_number()}}, as_=alice)
    assert data["updatePortOrder"]["portOrder"]["status"] == "PENDING"


async def test_update_with_invalid_values_changes_nothing(
    svc: Services, gql: GraphQL, alice: Tenant
) -> None:
    order = await port_orders.create_port_order(svc, alice.caller, order_input())
    variables = {"sid": order.sid, "input": {"email": "bad", "city": None, "ccEmails": ["x"]}}
    payload = await refused(gql, svc, UPDATE, variables, alice)
    assert codes(payload) == [
        (21804, ["input", "city"]),
        (21818, ["input", "email"]),
        (21820, ["input", "ccEmails"]),
    ]
    again = await reads.get_port_order(svc, alice.caller, order.sid)
    assert again is not None
    assert (again.email, again.city, again.version) == (order.email, order.city, order.version)


async def test_update_of_an_order_the_caller_cannot_see(
    svc: Services, gql: GraphQL, alice: Tenant, bob: Tenant
) -> None:
    order = await port_orders.create_port_order(svc, bob.caller, order_input())
    for sid in (order.sid, "PO" + "0" * 32, "garbage"):
        payload = await refused(gql, svc, UPDATE, {"sid": sid, "input": {"city": "Oakland"}}, alice)
        assert codes(payload) == [(20404, ["sid"])]


async def test_update_once_submitted_is_refused(svc: Services, gql: GraphQL, alice: Tenant) -> None:
    order = await port_orders.create_port_order(svc, alice.caller, order_input())
    await loas.request_signature(svc, alice.caller, order.loa_sid)
    await loas.sign(svc, order.loa_sid, signature(ip=None, user_agent=None))
    payload = await refused(gql, svc, UPDATE, {"sid": order.sid, "input": {"city": "X"}}, alice)
    assert codes(payload) == [(21829, None)]


async def test_update_to_a_number_in_another_open_order(
    svc: Services, gql: GraphQL, alice: Tenant
) -> None:
    other = await port_orders.create_port_order(svc, alice.caller, order_input())
    order = await port_orders.create_port_order(svc, alice.caller, order_input())
    variables = {"sid": order.sid, "input": {"number": other.number}}
    payload = await refused(gql, svc, UPDATE, variables, alice)
    assert codes(payload) == [(21837, ["input", "number"])]


# --- cancelPortOrder ------------------------------------------------------------------------


async def test_cancel_cancels_the_order_and_its_now_empty_loa(
    svc: Services, gql: GraphQL, alice: Tenant
) -> None:
    order = await port_orders.create_port_order(svc, alice.caller, order_input())
    payload = (await gql(CANCEL, {"sid": order.sid}, as_=alice))["cancelPortOrder"]
    assert payload["userErrors"] == []
    assert payload["portOrder"] == {
        "sid": order.sid,
        "status": "CANCELED",
        "allowedActions": [],
        "loa": {"status": "CANCELED"},
    }


async def test_cancel_twice_is_refused(svc: Services, gql: GraphQL, alice: Tenant) -> None:
    order = await port_orders.create_port_order(svc, alice.caller, order_input())
    await gql(CANCEL, {"sid": order.sid}, as_=alice)
    payload = await refused(gql, svc, CANCEL, {"sid": order.sid}, alice)
    assert codes(payload) == [(21830, None)]


async def test_cancel_of_a_signed_mobile_order_is_refused(
    svc: Services, gql: GraphQL, alice: Tenant
) -> None:
    order = await port_orders.create_port_order(svc, alice.caller, mobile_input())
    await loas.request_signature(svc, alice.caller, order.loa_sid)
    await loas.sign(svc, order.loa_sid, signature(ip=None, user_agent=None))
    payload = await refused(gql, svc, CANCEL, {"sid": order.sid}, alice)
    assert codes(payload) == [(21832, None)]


async def test_cancel_within_48_hours_of_the_foc_is_refused(
    svc: Services, gql: GraphQL, alice: Tenant
) -> None:
    order = await port_orders.create_port_order(svc, alice.caller, order_input())
    await loas.request_signature(svc, alice.caller, order.loa_sid)
    await loas.sign(svc, order.loa_sid, signature(ip=None, user_agent=None))
    soon = svc.clock() + timedelta(hours=30)
    await operators.set_activation_date(svc, Actor.CARRIER, None, order.sid, soon)
    payload = await refused(gql, svc, CANCEL, {"sid": order.sid}, alice)
    assert codes(payload) == [(21833, None)]


async def test_cancel_of_an_order_the_caller_cannot_see(
    svc: Services, gql: GraphQL, alice: Tenant, bob: Tenant
) -> None:
    order = await port_orders.create_port_order(svc, bob.caller, order_input())
    payload = await refused(gql, svc, CANCEL, {"sid": order.sid}, alice)
    assert codes(payload) == [(20404, ["sid"])]


# --- signLoa --------------------------------------------------------------------------------


async def test_sign_loa_starts_the_signature_once(
    svc: Services, gql: GraphQL, alice: Tenant
) -> None:
    order = await port_orders.create_port_order(svc, alice.caller, order_input())
    payload = (await gql(SIGN_LOA, {"sid": order.loa_sid}, as_=alice))["signLoa"]
    assert payload == {"loa": {"sid": order.loa_sid, "status": "SIGNING"}, "userErrors": []}
    again = await refused(gql, svc, SIGN_LOA, {"sid": order.loa_sid}, alice)
    assert codes(again) == [(21905, None)]


async def test_sign_loa_with_a_malformed_or_foreign_sid(
    svc: Services, gql: GraphQL, alice: Tenant, bob: Tenant
) -> None:
    payload = await refused(gql, svc, SIGN_LOA, {"sid": "not-a-sid"}, alice)
    assert codes(payload) == [(21901, ["sid"])]
    theirs = await port_orders.create_port_order(svc, bob.caller, order_input())
    payload = await refused(gql, svc, SIGN_LOA, {"sid": theirs.loa_sid}, alice)
    assert codes(payload) == [(20404, ["sid"])]


async def test_sign_loa_of_a_canceled_loa(svc: Services, gql: GraphQL, alice: Tenant) -> None:
    order = await port_orders.create_port_order(svc, alice.caller, order_input())
    await port_orders.cancel_port_order(svc, alice.caller, order.sid)
    payload = await refused(gql, svc, SIGN_LOA, {"sid": order.loa_sid}, alice)
    assert codes(payload) == [(21904, None)]


async def test_later_fields_of_a_request_see_what_earlier_mutations_changed(
    svc: Services, gql: GraphQL, alice: Tenant
) -> None:
    # given an order whose LOA a first read caches in the request's loaders
    order = await port_orders.create_port_order(svc, alice.caller, order_input())
    data = await gql(
        """mutation ($sid: ID!, $loa: ID!) {
             a: updatePortOrder(sid: $sid, input: {city: "San Francisco"}) {
               portOrder { loa { status } } }
             b: signLoa(sid: $loa) { loa { status } }
             c: updatePortOrder(sid: $sid, input: {street: "645 Harrison St"}) {
               portOrder { loa { status } } }
           }""",
        {"sid": order.sid, "loa": order.loa_sid},
        as_=alice,
    )
    assert data["a"]["portOrder"]["loa"]["status"] == "OPEN"
    assert data["b"]["loa"]["status"] == "SIGNING"
    assert data["c"]["portOrder"]["loa"]["status"] == "SIGNING"
