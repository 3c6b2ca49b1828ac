"""Each sandbox path end to end THROUGH GRAPHQL, against a real uvicorn on loopback whose
lifespan runs the scheduler (PORTICO_SANDBOX_STEP_SECONDS = support.STEP) and the delivery
worker: createPortOrder (with a statusCallback to a loopback receiver) -> signLoa -> the signer
opens the link in the signature-request email and signs on the page -> poll portOrder until it
is final -> the status the number's last four digits call for (README, "Sandbox carrier"), and
every status change also arrived as a status callback. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from app.config import Settings
from tests.builders import Tenant, camel, order_input
from tests.conftest import GraphQL
from tests.delivery.receiver import Receiver
from tests.operators.live import DEADLINE, callbacks, kinds, sign_from_the_email
from tests.operators.support import CREATE, SIGN_LOA, STEP, create_order

FINAL = {"REJECTED", "REVIEW", "FAILED", "COMPLETED"}
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
    sid number status reasonCode reason currentCarrier activationDate incomingPhoneNumberSid
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
            result: dict[str, Any] = order
            return result
        assert loop.time() < deadline, f"{sid} stayed {order['status']}"
        await asyncio.sleep(STEP / 4)


async def signed(
    live: GraphQL, settings: Settings, receiver: Receiver, who: Tenant, number: str
) -> dict[str, Any]:
    order = await create_order(
        live, who, number=number, status_callback=receiver.url(f"/callbacks/{number[-4:]}")
    )
    assert order["status"] == "PENDING"
    requested = (await live(SIGN_LOA, {"sid": order["loaSid"]}, as_=who))["signLoa"]
    assert requested["userErrors"] == [] and requested["loa"]["status"] == "SIGNING"
    await sign_from_the_email(settings.mail_dir)
    return order


async def callbacks_of(receiver: Receiver, order: dict[str, Any]) -> list[dict[str, Any]]:
    """Every status callback of the order (one per status or FOC event of its timeline); a
    comment of its timeline (Portico explaining a rejection) is a `comment_added` callback."""
    expected = len(timeline(order))
    comments = sum(edge["node"]["type"] == "comment.added" for edge in order["events"]["edges"])
    everything = await callbacks(
        receiver, f"/callbacks/{order['number'][-4:]}", expected + comments
    )
    assert len(everything) == expected + comments  # and no more
    assert {p["port_order_sid"] for p in everything} == {order["sid"]}
    got = [p for p in everything if p["callback_type"] != ["comment_added"]]
    assert len(got) == expected
    assert kinds(got) == kinds([{"status": s, "callback_type": c} for s, c, _ in timeline(order)])
    return got


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


async def test_any_other_number_completes_into_the_inventory(
    live: GraphQL, settings: Settings, receiver: Receiver, alice: Tenant
) -> None:
    order = await signed(live, settings, receiver, alice, "+14159872001")

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
    sent = await callbacks_of(receiver, done)
    completed = next(p for p in sent if p["status"] == "COMPLETED")
    assert completed["phone_number_sid"] == pn
    accepted = next(p for p in sent if p["status"] == "ACCEPTED")
    assert accepted["foc_date"] == done["activationDate"]
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
async def test_the_paths_that_do_not_complete(
    live: GraphQL,
    settings: Settings,
    receiver: Receiver,
    alice: Tenant,
    number: str,
    status: str,
    errors: list[int],
    last: tuple[str, list[str], str],
) -> None:
    order = await signed(live, settings, receiver, alice, number)

    done = await until_final(live, alice, order["sid"])

    assert done["status"] == status
    assert [e["code"] for e in done["errors"]] == errors
    if errors:
        assert done["reasonCode"] == errors[0]
    assert done["incomingPhoneNumberSid"] is None and done["incomingPhoneNumber"] is None
    accepted = [("ACCEPTED", BOTH, "carrier")] if status == "FAILED" else []
    assert timeline(done) == [*SUBMITTED, *accepted, last]
    sent = await callbacks_of(receiver, done)
    final = next(p for p in sent if p["status"] == status)
    assert [e["code"] for e in final["errors"]] == errors
    assert final["phone_number_sid"] is None
    assert (await live(INVENTORY, as_=alice))["incomingPhoneNumbers"]["totalCount"] == 0


async def test_0001_is_rejected_at_creation(
    live: GraphQL, receiver: Receiver, alice: Tenant
) -> None:
    raw = order_input(number="+14159870001", status_callback=receiver.url("/callbacks/0001"))
    payload = (await live(CREATE, {"input": camel(raw)}, as_=alice))["createPortOrder"]

    assert payload["userErrors"] == []
    order = payload["portOrder"]
    assert order["status"] == "REJECTED"
    assert [e["code"] for e in order["errors"]] == [21827]
    done = (await live(ORDER, {"sid": order["sid"]}, as_=alice))["portOrder"]
    assert done["currentCarrier"]
    assert timeline(done) == [("CREATED", STATUS, "customer"), ("REJECTED", STATUS, "service")]
    sent = await callbacks_of(receiver, done)
    rejected = next(p for p in sent if p["status"] == "REJECTED")
    assert [e["code"] for e in rejected["errors"]] == [21827]
