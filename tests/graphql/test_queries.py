"""Every query: portOrder, portOrders (filters), loa, loas, node; tenant rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from app.porting.isotime import format_utc
from app.porting.statuses import Actor, PortOrderStatus
from app.services import loas, operators, port_orders
from app.services.context import Services
from tests.builders import (
    Tenant,
    foc,
    mobile_input,
    operator_tenant,
    order_input,
    signature,
    tenant,
)
from tests.conftest import GraphQL

PORT_ORDER = """
query ($sid: ID!) {
  portOrder(sid: $sid) {
    id sid accountSid number friendlyName status portType dateCreated dateUpdated loaSid
    isoCountry region city postalCode street companyName firstName lastName email
    statusUpdatesEmail billingPhoneNumber activationDate earliestActivationDate submittedDate
    currentCarrier incomingPhoneNumberSid statusCallback ccEmails reasonCode reason
    providerSid zendeskId errors { date code reason } url
    loa { id sid status firstName lastName email url }
    allowedActions
    events { totalCount edges { cursor node { cursor type status callbackType actor date } } }
  }
}
"""

LOA = """
query ($sid: ID!) {
  loa(sid: $sid) {
    id sid status firstName lastName email url
    portOrders(first: 10) { totalCount edges { cursor node { sid } } }
  }
}
"""

NODE = """
query ($id: ID!) {
  node(id: $id) {
    __typename id
    ... on PortOrder { number }
    ... on Loa { status }
  }
}
"""

PORT_ORDERS = """
query ($filter: PortOrderFilter) {
  portOrders(filter: $filter, first: 100) { totalCount edges { node { sid } } }
}
"""

LOAS = """
query ($filter: LoaFilter) {
  loas(filter: $filter, first: 100) { totalCount edges { node { sid status } } }
}
"""

SECRET_ACCOUNT = "ACCT-SECRET-778899"
SECRET_PIN = "PINSECRET42"


async def test_port_order_shows_every_readable_field(
    svc: Services, gql: GraphQL, alice: Tenant
) -> None:
    # given an order with every optional field set
    order = await port_orders.create_port_order(
        svc,
        alice.caller,
        order_input(
            company_name="Acme Inc",
            status_updates_email="ops@example.com",
            billing_phone_number="+14155559999",
            status_callback="https://hooks.example.com/porting",
            cc_emails=["cc@example.com"],
            activation_date=foc(10, "17:00:00"),
            friendly_name="Main line",
        ),
    )
    # when it is read
    data = await gql(PORT_ORDER, {"sid": order.sid}, as_=alice)
    # then every field is there, in the API's own formats
    o = data["portOrder"]
    assert o["id"] == o["sid"] == order.sid
    assert o["accountSid"] == alice.sid
    assert o["number"] == order.number
    assert o["friendlyName"] == "Main line"
    assert o["status"] == "PENDING"
    assert o["portType"] == "UNKNOWN"
    assert o["dateCreated"] == format_utc(order.date_created)
    assert o["loaSid"] == order.loa_sid == o["loa"]["sid"] == o["loa"]["id"]
    assert (o["isoCountry"], o["region"], o["city"]) == ("US", "CA", "San Francisco")
    assert (o["postalCode"], o["street"]) == ("94107", "645 Harrison St")
    assert (o["companyName"], o["firstName"], o["lastName"]) == ("Acme Inc", "James", "Smith")
    assert o["email"] == "james.smith@example.com"
    assert o["statusUpdatesEmail"] == "ops@example.com"
    assert o["billingPhoneNumber"] == "+14155559999"
    assert o["activationDate"] == format_utc(order.activation_date) == foc(10, "17:00:00")
    assert o["earliestActivationDate"].endswith("Z")
    assert o["submittedDate"] is None and o["incomingPhoneNumberSid"] is None
    assert o["currentCarrier"].startswith("Sandbox")
    assert o["statusCallback"] == "https://hooks.example.com/porting"
    assert o["ccEmails"] == ["cc@example.com"]
    assert o["reasonCode"] is None and o["reason"] is None and o["errors"] == []
    assert o["providerSid"] is None and o["zendeskId"] is None
    assert o["url"] == f"http://testserver/porting/PortOrders/{order.sid}"
    assert o["loa"]["status"] == "OPEN"
    assert o["loa"]["url"] == f"http://testserver/porting/Loas/{order.loa_sid}"
    assert o["allowedActions"] == ["UPDATE", "CANCEL", "REQUEST_SIGNATURE"]
    events = o["events"]
    assert events["totalCount"] == 2
    assert [e["node"]["type"] for e in events["edges"]] == [
        "port_order.created",
        "port_order.status_changed",
    ]
    assert [e["node"]["status"] for e in events["edges"]] == ["CREATED", "PENDING"]
    assert [e["node"]["actor"] for e in events["edges"]] == ["customer", "service"]
    assert events["edges"][0]["node"]["callbackType"] == ["status_update"]
    assert all(e["cursor"] == e["node"]["cursor"] for e in events["edges"])


async def test_write_only_fields_are_not_in_the_schema_nor_in_any_response(
    svc: Services, gql: GraphQL, http: httpx.AsyncClient, alice: Tenant
) -> None:
    # given a MOBILE order carrying the three write-only values
    order = await port_orders.create_port_order(
        svc, alice.caller, mobile_input(account_number=SECRET_ACCOUNT, pin_number=SECRET_PIN)
    )
    # then the PortOrder type has no field for them
    fields = await gql('{ __type(name: "PortOrder") { fields { name } } }', as_=alice)
    names = {f["name"] for f in fields["__type"]["fields"]}
    assert not names & {"ssnLastFour", "accountNumber", "pinNumber", "secretsEnc", "secrets"}
    # and a full read of the order carries none of their values
    response = await gql.post(PORT_ORDER, {"sid": order.sid}, as_=alice)
    assert response.status_code == 200
    assert SECRET_ACCOUNT not in response.text and SECRET_PIN not in response.text
    assert '"6789"' not in response.text  # the SSN last four, as any JSON value


async def test_errors_of_a_rejected_order_are_listed(
    svc: Services, gql: GraphQL, alice: Tenant
) -> None:
    # given an order whose number the sandbox carrier refuses (…0001)
    order = await port_orders.create_port_order(
        svc, alice.caller, order_input(number="+14155550001")
    )
    # when it is read
    o = (await gql(PORT_ORDER, {"sid": order.sid}, as_=alice))["portOrder"]
    # then it is REJECTED with the error and the reason
    assert o["status"] == "REJECTED"
    assert [e["code"] for e in o["errors"]] == [21827]
    assert o["errors"][0]["date"].endswith("Z") and o["reasonCode"] == 21827
    assert o["allowedActions"] == ["UPDATE", "CANCEL"]


async def test_allowed_actions_follow_the_order(svc: Services, gql: GraphQL, alice: Tenant) -> None:
    order = await port_orders.create_port_order(svc, alice.caller, mobile_input())
    query = "query ($sid: ID!) { portOrder(sid: $sid) { status allowedActions } }"
    assert (await gql(query, {"sid": order.sid}, as_=alice))["portOrder"] == {
        "status": "PENDING",
        "allowedActions": ["UPDATE", "CANCEL", "REQUEST_SIGNATURE"],
    }
    await loas.request_signature(svc, alice.caller, order.loa_sid)
    await loas.sign(svc, order.loa_sid, signature(ip=None, user_agent=None))
    # a signed MOBILE order can neither be changed nor canceled
    assert (await gql(query, {"sid": order.sid}, as_=alice))["portOrder"] == {
        "status": "SUBMITTED",
        "allowedActions": [],
    }


async def test_loa_lists_its_orders(svc: Services, gql: GraphQL, alice: Tenant) -> None:
    first = await port_orders.create_port_order(svc, alice.caller, order_input())
    second = await port_orders.create_port_order(svc, alice.caller, order_input())
    assert first.loa_sid == second.loa_sid  # same signer and address: one LOA
    loa = (await gql(LOA, {"sid": first.loa_sid}, as_=alice))["loa"]
    assert loa["id"] == loa["sid"] == first.loa_sid
    assert (loa["status"], loa["firstName"], loa["lastName"]) == ("OPEN", "James", "Smith")
    assert loa["email"] == "james.smith@example.com"
    assert loa["url"] == f"http://testserver/porting/Loas/{first.loa_sid}"
    assert loa["portOrders"]["totalCount"] == 2
    assert [e["node"]["sid"] for e in loa["portOrders"]["edges"]] == [second.sid, first.sid]


async def test_node_finds_orders_and_loas_by_sid(
    svc: Services, gql: GraphQL, alice: Tenant
) -> None:
    order = await port_orders.create_port_order(svc, alice.caller, order_input())
    by_order = (await gql(NODE, {"id": order.sid}, as_=alice))["node"]
    assert by_order == {"__typename": "PortOrder", "id": order.sid, "number": order.number}
    by_loa = (await gql(NODE, {"id": order.loa_sid}, as_=alice))["node"]
    assert by_loa == {"__typename": "Loa", "id": order.loa_sid, "status": "OPEN"}
    for unknown in ("PO" + "0" * 32, "PX" + "0" * 32, alice.sid, "nonsense", ""):
        assert (await gql(NODE, {"id": unknown}, as_=alice))["node"] is None


async def test_another_accounts_rows_are_null_never_an_error(
    svc: Services, gql: GraphQL, alice: Tenant, bob: Tenant
) -> None:
    # given an order of Bob's
    order = await port_orders.create_port_order(svc, bob.caller, order_input())
    # when Alice asks for it in every way
    data = await gql(
        """query ($po: ID!, $px: ID!) {
             portOrder(sid: $po) { sid } loa(sid: $px) { sid }
             a: node(id: $po) { id } b: node(id: $px) { id }
             portOrders { totalCount edges { node { sid } } }
             loas { totalCount edges { node { sid } } }
           }""",
        {"po": order.sid, "px": order.loa_sid},
        as_=alice,
    )
    # then it simply does not exist for her
    assert data == {
        "portOrder": None,
        "loa": None,
        "a": None,
        "b": None,
        "portOrders": {"totalCount": 0, "edges": []},
        "loas": {"totalCount": 0, "edges": []},
    }
    # and Bob sees it
    assert (await gql(NODE, {"id": order.sid}, as_=bob))["node"]["id"] == order.sid


async def test_an_account_sees_its_subaccounts_but_not_the_other_way_round(
    svc: Services, gql: GraphQL, alice: Tenant
) -> None:
    child = await tenant(svc, parent=alice)
    mine = await port_orders.create_port_order(svc, alice.caller, order_input())
    childs = await port_orders.create_port_order(svc, child.caller, order_input())
    parent_view = await gql(PORT_ORDERS, as_=alice)
    assert {e["node"]["sid"] for e in parent_view["portOrders"]["edges"]} == {mine.sid, childs.sid}
    child_view = await gql(PORT_ORDERS, as_=child)
    assert [e["node"]["sid"] for e in child_view["portOrders"]["edges"]] == [childs.sid]
    assert (await gql(NODE, {"id": mine.sid}, as_=child))["node"] is None


async def test_port_order_filters(svc: Services, gql: GraphQL, alice: Tenant) -> None:
    a = await port_orders.create_port_order(
        svc,
        alice.caller,
        order_input(
            company_name="Acme", activation_date=foc(8, "12:00:00"), friendly_name="Front desk"
        ),
    )
    b = await port_orders.create_port_order(
        svc,
        alice.caller,
        order_input(first_name="Ann", email="ann@example.com", activation_date=foc(20, "12:00:00")),
    )
    c = await port_orders.create_port_order(svc, alice.caller, order_input(number="+14155550001"))
    await operators.set_status(svc, Actor.OPERATOR, None, a.sid, PortOrderStatus.REVIEW)

    async def sids(f: dict[str, Any]) -> list[str]:
        data = await gql(PORT_ORDERS, {"filter": f}, as_=alice)
        return sorted(e["node"]["sid"] for e in data["portOrders"]["edges"])

    assert await sids({"sid": a.sid}) == [a.sid]
    assert await sids({"accountSid": alice.sid}) == sorted([a.sid, b.sid, c.sid])
    assert await sids({"companyName": "Acme"}) == [a.sid]
    assert await sids({"email": "ann@example.com"}) == [b.sid]
    assert await sids({"loaSid": b.loa_sid}) == [b.sid]
    assert await sids({"number": c.number}) == [c.sid]
    assert await sids({"status": "REJECTED"}) == [c.sid]
    assert await sids({"status": "REVIEW"}) == [a.sid]
    assert await sids({"friendlyName": "Front desk"}) == [a.sid]
    between = foc(14, "00:00:00")  # after a's date (8 days out), before b's (20 days out)
    assert await sids({"activationDateMin": between}) == [b.sid]
    assert await sids({"activationDateMax": between}) == [a.sid]
    assert await sids(
        {"activationDateMin": foc(8, "12:00:00"), "activationDateMax": foc(20, "12:00:00")}
    ) == sorted([a.sid, b.sid])
    assert await sids({"providerSid": "nope"}) == []
    assert await sids({"zendeskId": "nope"}) == []
    assert await sids({"incomingPhoneNumberSid": "PN" + "0" * 32}) == []
    total = await gql(PORT_ORDERS, {"filter": {"status": "PENDING"}}, as_=alice)
    assert total["portOrders"]["totalCount"] == 1


async def test_a_date_filter_without_a_zone_is_refused(gql: GraphQL, alice: Tenant) -> None:
    errors = await gql.errors(
        PORT_ORDERS, {"filter": {"activationDateMin": "2030-04-01"}}, as_=alice
    )
    assert "DateTime" in errors[0]["message"]


async def test_loa_filters(svc: Services, gql: GraphQL, alice: Tenant) -> None:
    a = await port_orders.create_port_order(svc, alice.caller, order_input())
    b = await port_orders.create_port_order(
        svc, alice.caller, order_input(first_name="Ann", last_name="Lee", email="ann@example.com")
    )
    await loas.request_signature(svc, alice.caller, b.loa_sid)

    async def sids(f: dict[str, Any]) -> list[str]:
        data = await gql(LOAS, {"filter": f}, as_=alice)
        return sorted(e["node"]["sid"] for e in data["loas"]["edges"])

    assert await sids({}) == sorted([a.loa_sid, b.loa_sid])
    assert await sids({"sid": a.loa_sid}) == [a.loa_sid]
    assert await sids({"status": "SIGNING"}) == [b.loa_sid]
    assert await sids({"status": "OPEN"}) == [a.loa_sid]
    assert await sids({"firstName": "Ann"}) == [b.loa_sid]
    assert await sids({"lastName": "Smith"}) == [a.loa_sid]
    assert await sids({"email": "ann@example.com"}) == [b.loa_sid]


async def test_an_operator_sees_every_account(
    svc: Services, gql: GraphQL, alice: Tenant, bob: Tenant
) -> None:
    op = await operator_tenant(svc)
    a = await port_orders.create_port_order(svc, alice.caller, order_input())
    b = await port_orders.create_port_order(svc, bob.caller, order_input())
    data = await gql(PORT_ORDERS, as_=op)
    assert {e["node"]["sid"] for e in data["portOrders"]["edges"]} == {a.sid, b.sid}


async def test_submitted_and_completed_orders_show_their_dates(
    svc: Services, gql: GraphQL, alice: Tenant
) -> None:
    order = await port_orders.create_port_order(svc, alice.caller, order_input())
    await loas.request_signature(svc, alice.caller, order.loa_sid)
    await loas.sign(svc, order.loa_sid, signature(ip=None, user_agent=None))
    await operators.set_status(svc, Actor.CARRIER, None, order.sid, PortOrderStatus.ACCEPTED)
    await operators.set_status(svc, Actor.CARRIER, None, order.sid, PortOrderStatus.COMPLETED)
    o = (await gql(PORT_ORDER, {"sid": order.sid}, as_=alice))["portOrder"]
    assert o["status"] == "COMPLETED" and o["allowedActions"] == []
    assert o["submittedDate"].endswith("Z")
    assert o["incomingPhoneNumberSid"].startswith("PN")
    assert o["loa"]["status"] == "SIGNED"
    statuses = [e["node"]["status"] for e in o["events"]["edges"]]
    assert statuses == ["CREATED", "PENDING", "SUBMITTED", "ACCEPTED", "COMPLETED"]
    assert datetime.now(UTC) - datetime.fromisoformat(o["dateUpdated"]) < timedelta(hours=1)
