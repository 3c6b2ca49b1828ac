"""Each sandbox path end to end THROUGH GRAPHQL, against a real uvicorn on loopback whose
lifespan runs the scheduler (PORTICO_SANDBOX_STEP_SECONDS = support.STEP): createPortOrder ->
signLoa -> the signer signs -> poll portOrder until it is final -> the status the number's last
four digits call for (README, "Sandbox carrier"). SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from app.services import loas
from app.services.loas import Signature
from tests.builders import order_input
from tests.graphql.support import GraphQL, Tenant
from tests.operators.support import CREATE, SIGN_LOA, STEP, camel, create_order

SIGNATURE = Signature("James Smith", "127.0.0.1", "pytest", "0" * 64)
FINAL = {"REJECTED", "REVIEW", "FAILED", "COMPLETED"}
DEADLINE = 20.0  # a safety net against a hang, not a timing assertion
STATUS = ["status_update"]
BOTH = ["status_update", "activation_date_update"]
TIMELINE_TYPES = {
    "port_order.created",
    "port_order.status_changed",
    "port_order.activation_date_changed",
}

ORDER = """
query ($sid: ID!) {
  portOrder(sid: $sid) {
    sid status reasonCode reason currentCarrier activationDate incomingPhoneNumberSid
    incomingPhoneNumber { sid number portOrderSid }
    errors { code reason }
    events(first: 100) { edges { node { type status callbackType actor actorSid } } }
  }
}
"""

INVENTORY = """
query { incomingPhoneNumbers { totalCount edges { node { sid number portOrderSid } } } }
"""


async def until_final(live: GraphQL, who: Tenant, sid: str) -> dict[str, Any]:
    """Poll the order over GraphQL until its status is final."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DEADLINE
    while True:
        order = (await live(ORDER, {"sid": sid}, as_=who))["portOrder"]
        if order["status"] in FINAL:
            return order
        assert loop.time() < deadline, f"{sid} stayed {order['status']}"
        await asyncio.sleep(STEP / 4)


async def signed(live: GraphQL, svc, who: Tenant, number: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    order = await create_order(live, who, number=number)
    assert order["status"] == "PENDING"
    requested = (await live(SIGN_LOA, {"sid": order["loaSid"]}, as_=who))["signLoa"]
    assert requested["userErrors"] == [] and requested["loa"]["status"] == "SIGNING"
    # The signer signs on the LOA signing page, which is being built on another branch; until it
    # lands, the test signs through the service that page will call (app/services/loas.sign).
    await loas.sign(svc, order["loaSid"], SIGNATURE)
    return order


def timeline(order: dict[str, Any]) -> list[tuple[str, list[str], str]]:
    return [
        (e["status"], e["callbackType"], e["actor"])
        for e in (edge["node"] for edge in order["events"]["edges"])
        if e["type"] in TIMELINE_TYPES
    ]


SUBMITTED = [
    ("CREATED", STATUS, "customer"),
    ("PENDING", STATUS, "service"),
    ("SUBMITTED", STATUS, "service"),
]


async def test_any_other_number_completes_into_the_inventory(live, svc, alice):
    order = await signed(live, svc, alice, "+14159872001")

    done = await until_final(live, alice, order["sid"])

    assert done["status"] == "COMPLETED"
    pn = done["incomingPhoneNumberSid"]
    assert pn.startswith("PN")
    assert done["incomingPhoneNumber"] == {
        "sid": pn,
        "number": "+14159872001",
        "portOrderSid": order["sid"],
    }
    assert done["errors"] == []
    assert done["currentCarrier"]
    assert timeline(done) == [
        *SUBMITTED,
        ("ACCEPTED", BOTH, "carrier"),  # acceptance confirms the carrier's FOC date
        ("COMPLETED", STATUS, "carrier"),
    ]
    inventory = (await live(INVENTORY, as_=alice))["incomingPhoneNumbers"]
    assert inventory["totalCount"] == 1
    assert [e["node"] for e in inventory["edges"]] == [
        {"sid": pn, "number": "+14159872001", "portOrderSid": order["sid"]}
    ]

    again = await live(CREATE, {"input": camel(order_input(number="+14159872001"))}, as_=alice)
    payload = again["createPortOrder"]
    assert payload["portOrder"] is None
    assert [e["code"] for e in payload["userErrors"]] == [21838]


@pytest.mark.parametrize(
    ("number", "status", "errors", "last"),
    [
        ("+14159870002", "REJECTED", [21831], ("REJECTED", STATUS, "carrier")),
        ("+14159870003", "REVIEW", [], ("REVIEW", STATUS, "carrier")),
        ("+14159870004", "FAILED", [21835], ("FAILED", STATUS, "carrier")),
    ],
    ids=["0002-rejected", "0003-review", "0004-failed"],
)
async def test_the_paths_that_do_not_complete(live, svc, alice, number, status, errors, last):
    order = await signed(live, svc, alice, number)

    done = await until_final(live, alice, order["sid"])

    assert done["status"] == status
    assert [e["code"] for e in done["errors"]] == errors
    if errors:
        assert done["reasonCode"] == errors[0]
    assert done["incomingPhoneNumberSid"] is None and done["incomingPhoneNumber"] is None
    accepted = [("ACCEPTED", BOTH, "carrier")] if status == "FAILED" else []
    assert timeline(done) == [*SUBMITTED, *accepted, last]
    assert (await live(INVENTORY, as_=alice))["incomingPhoneNumbers"]["totalCount"] == 0


async def test_0001_is_rejected_at_creation(live, alice):
    payload = (await live(CREATE, {"input": camel(order_input(number="+14159870001"))}, as_=alice))[
        "createPortOrder"
    ]

    assert payload["userErrors"] == []
    order = payload["portOrder"]
    assert order["status"] == "REJECTED"
    assert [e["code"] for e in order["errors"]] == [21827]
    done = (await live(ORDER, {"sid": order["sid"]}, as_=alice))["portOrder"]
    assert done["currentCarrier"]
    assert timeline(done) == [("CREATED", STATUS, "customer"), ("REJECTED", STATUS, "service")]
