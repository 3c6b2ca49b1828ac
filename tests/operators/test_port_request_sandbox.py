"""A Port Request through a whole sandbox run (CONTRACT.md §11), against a real uvicorn whose
lifespan runs the scheduler and the delivery worker: two numbers complete, one is rejected by
the carrier (0002), one goes to REVIEW (0003); the request is ACTION_REQUIRED until an operator
completes the reviewed order and the customer cancels the request (the rejected order is
canceled, the completed ones refuse with 21830): PARTIALLY_COMPLETED. Watched over a
subscription with `portRequestSid` (only that request's orders, replayed from `after: "0"`)
and as status callbacks: each order's as today, and one per change of the request's status,
signed like the others."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from typing import Any

from gql import Client, GraphQLRequest
from gql.transport.websockets import WebsocketsTransport

from app.config import Settings
from tests.builders import Tenant, camel, order_input, request_input
from tests.conftest import GraphQL, LiveServer
from tests.delivery.receiver import Receiver
from tests.operators.live import DEADLINE, sign_from_the_email
from tests.operators.support import SET_STATUS, SIGN_LOA, STEP
from tests.subscriptions.support import TRANSPORT_WS

COMPLETES, ALSO_COMPLETES, REJECTED, REVIEW = (
    "+14159873001",
    "+14159873005",
    "+14159870002",
    "+14159870003",
)
WATCH = """
subscription ($request: ID!) {
  portOrderStatusChanged(portRequestSid: $request, after: "0") {
    cursor portOrderSid status portOrder { number portRequestSid }
  }
}
"""
CREATE = """
mutation ($input: CreatePortRequestInput!) {
  createPortRequest(input: $input) {
    portRequest { sid status loas { sid } }
    numbers { number portOrderSid status }
    userErrors { code message }
  }
}
"""
READ = """
query ($sid: ID!) {
  portRequest(sid: $sid) {
    status counts { completed rejected review canceled }
    numbers { number portOrderSid status }
  }
}
"""
CANCEL = """
mutation ($sid: ID!) {
  cancelPortRequest(sid: $sid) {
    portRequest { status } numbers { number status errors { code } } userErrors { code }
  }
}
"""
FINAL = {
    COMPLETES: "COMPLETED",
    ALSO_COMPLETES: "COMPLETED",
    REJECTED: "CANCELED",
    REVIEW: "COMPLETED",
}


async def watch(url: str, who: Tenant, request_sid: str, started: asyncio.Event) -> list[Any]:
    """Every event of the request's orders, until each order is in its final status."""
    transport = WebsocketsTransport(
        url=url.replace("http://", "ws://") + "/graphql",
        init_payload={"Authorization": who.authorization},
        subprotocols=[TRANSPORT_WS],
    )
    seen: list[dict[str, Any]] = []
    latest: dict[str, str] = {}
    async with Client(transport=transport) as session:
        request = GraphQLRequest(WATCH, variable_values={"request": request_sid})
        async for result in session.subscribe(request):
            event = result["portOrderStatusChanged"]
            seen.append(event)
            started.set()
            latest[event["portOrder"]["number"]] = event["status"]
            if latest == FINAL:
                return seen
    raise AssertionError("subscription ended early")


async def until(live: GraphQL, who: Tenant, sid: str, want: dict[str, str]) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DEADLINE
    while True:
        request: dict[str, Any] = (await live(READ, {"sid": sid}, as_=who))["portRequest"]
        if {n["number"]: n["status"] for n in request["numbers"]} == want:
            return request
        assert loop.time() < deadline, request
        await asyncio.sleep(STEP / 4)


async def test_a_request_through_the_sandbox(
    live: GraphQL,
    live_server: LiveServer,
    settings: Settings,
    receiver: Receiver,
    alice: Tenant,
    op: Tenant,
) -> None:
    # another order of alice's, in another group: none of its events is the request's
    decoy = await live(
        "mutation ($i: CreatePortOrderInput!) { createPortOrder(input: $i) { portOrder { sid } } }",
        {"i": camel(order_input(last_name="Decoy"))},
        as_=alice,
    )
    decoy_sid = decoy["createPortOrder"]["portOrder"]["sid"]
    raw = request_input([COMPLETES, ALSO_COMPLETES, REJECTED, REVIEW])
    raw["status_callback"] = receiver.url("/cb")
    entries = raw.pop("numbers")
    variables = {"input": {**camel(raw), "numbers": [{"number": n} for n in entries]}}
    created = (await live(CREATE, variables, as_=alice))["createPortRequest"]
    assert created["userErrors"] == []
    request_sid = created["portRequest"]["sid"]
    (loa,) = created["portRequest"]["loas"]
    order_of = {n["number"]: n["portOrderSid"] for n in created["numbers"]}

    started = asyncio.Event()
    watcher = asyncio.ensure_future(watch(live_server.url, alice, request_sid, started))
    async with asyncio.timeout(DEADLINE):
        await started.wait()  # the socket is up and replays the creation
    signing = (await live(SIGN_LOA, {"sid": loa["sid"]}, as_=alice))["signLoa"]
    assert signing["userErrors"] == []
    await sign_from_the_email(settings.mail_dir)

    carrier_done = {
        COMPLETES: "COMPLETED",
        ALSO_COMPLETES: "COMPLETED",
        REJECTED: "REJECTED",
        REVIEW: "REVIEW",
    }
    await until(live, alice, request_sid, carrier_done)
    # read again: the row and the numbers are read one after the other, and the last move may
    # have committed between the two reads of the poll
    request = (await live(READ, {"sid": request_sid}, as_=alice))["portRequest"]
    assert request["status"] == "ACTION_REQUIRED"
    assert request["counts"] == {"completed": 2, "rejected": 1, "review": 1, "canceled": 0}
    moved = await live(SET_STATUS, {"sid": order_of[REVIEW], "status": "COMPLETED"}, as_=op)
    assert moved["setPortOrderStatus"]["userErrors"] == []
    assert (await live(READ, {"sid": request_sid}, as_=alice))["portRequest"][
        "status"
    ] == "ACTION_REQUIRED"  # the rejected order still needs the customer
    canceled = (await live(CANCEL, {"sid": request_sid}, as_=alice))["cancelPortRequest"]
    assert canceled["portRequest"]["status"] == "PARTIALLY_COMPLETED"
    assert [(n["status"], [e["code"] for e in n["errors"]]) for n in canceled["numbers"]] == [
        ("COMPLETED", [21830]),
        ("COMPLETED", [21830]),
        ("CANCELED", []),
        ("COMPLETED", [21830]),
    ]

    async with asyncio.timeout(DEADLINE):
        seen = await watcher
    assert decoy_sid not in {e["portOrderSid"] for e in seen}
    assert {e["portOrder"]["portRequestSid"] for e in seen} == {request_sid}
    cursors = [int(e["cursor"]) for e in seen]
    assert cursors == sorted(set(cursors))
    path = {n: [e["status"] for e in seen if e["portOrderSid"] == order_of[n]] for n in FINAL}
    start = ["CREATED", "PENDING", "SUBMITTED"]
    assert path == {
        COMPLETES: [*start, "ACCEPTED", "COMPLETED"],
        ALSO_COMPLETES: [*start, "ACCEPTED", "COMPLETED"],
        REJECTED: [*start, "REJECTED", "CANCELED"],
        REVIEW: [*start, "REVIEW", "COMPLETED"],
    }

    # status callbacks: every order's as today, and the request's four statuses
    expected_orders = len(seen)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DEADLINE
    while True:
        got = [(r, json.loads(r.body)) for r in list(receiver.received)]
        mine = [(r, p) for r, p in got if "port_request_sid" in p]
        orders = [
            p
            for _, p in got
            if p.get("port_order_sid") in order_of.values()
            and p["callback_type"] != ["comment_added"]  # Portico explains the rejection
        ]
        if len(mine) >= 4 and len(orders) >= expected_orders:
            break
        assert loop.time() < deadline, (len(mine), len(orders))
        await asyncio.sleep(0.05)
    assert Counter(p["status"] for _, p in mine) == Counter(
        ["PENDING", "IN_PROGRESS", "ACTION_REQUIRED", "PARTIALLY_COMPLETED"]
    )
    for received, payload in mine:
        assert received.twilio_valid(alice.token)
        assert payload["port_request_sid"] == request_sid
        assert payload["callback_type"] == ["port_request_status_update"]
        assert sum(payload["counts"].values()) == 4
        assert set(payload) == {
            "port_request_sid",
            "callback_type",
            "status",
            "counts",
            "date_updated",
        }
    final = next(p for _, p in mine if p["status"] == "PARTIALLY_COMPLETED")
    assert (final["counts"]["COMPLETED"], final["counts"]["CANCELED"]) == (3, 1)
    assert Counter((p["port_order_sid"], p["status"]) for p in orders) == Counter(
        (e["portOrderSid"], e["status"]) for e in seen
    )
