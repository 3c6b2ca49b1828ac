"""Each sandbox path watched LIVE over a GraphQL subscription (issue: carrier lifecycle): a
websocket client (gql, graphql-transport-ws) on the real uvicorn subscribes to the order with
`after: "0"` (its history replays first), the signer signs from the email, and the statuses
the carrier moves the order through arrive on the socket, ending in the documented status; the
same statuses arrive as status callbacks."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from gql import Client, GraphQLRequest
from gql.transport.websockets import WebsocketsTransport

from app.config import Settings
from tests.builders import Tenant
from tests.conftest import GraphQL, LiveServer
from tests.delivery.receiver import Receiver
from tests.operators.live import DEADLINE, callbacks, kinds, sign_from_the_email
from tests.operators.support import SIGN_LOA, create_order
from tests.subscriptions.support import TRANSPORT_WS

WATCH = """
subscription ($sid: ID!) {
  portOrderStatusChanged(sid: $sid, after: "0") {
    cursor portOrderSid status callbackType phoneNumberSid errors { code }
    portOrder { status }
  }
}
"""
FINAL = {"REJECTED", "REVIEW", "FAILED", "COMPLETED"}
S, B = ("STATUS_UPDATE",), ("STATUS_UPDATE", "ACTIVATION_DATE_UPDATE")
SUBMITTED = [("CREATED", S), ("PENDING", S), ("SUBMITTED", S)]


async def watch(url: str, who: Tenant, sid: str, started: asyncio.Event) -> list[dict[str, Any]]:
    transport = WebsocketsTransport(
        url=url.replace("http://", "ws://") + "/graphql",
        init_payload={"Authorization": who.authorization},
        subprotocols=[TRANSPORT_WS],
    )
    seen: list[dict[str, Any]] = []
    async with Client(transport=transport) as session:
        async for result in session.subscribe(GraphQLRequest(WATCH, variable_values={"sid": sid})):
            event = result["portOrderStatusChanged"]
            seen.append(event)
            started.set()
            if event["status"] in FINAL:
                return seen
    raise AssertionError("subscription ended early")


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("+14159872001", [*SUBMITTED, ("ACCEPTED", B), ("COMPLETED", S)]),
        ("+14159870002", [*SUBMITTED, ("REJECTED", S)]),
        ("+14159870003", [*SUBMITTED, ("REVIEW", S)]),
        ("+14159870004", [*SUBMITTED, ("ACCEPTED", B), ("FAILED", S)]),
    ],
    ids=["completed", "0002-rejected", "0003-review", "0004-failed"],
)
async def test_statuses_arrive_over_a_subscription_and_as_callbacks(
    live: GraphQL,
    live_server: LiveServer,
    settings: Settings,
    receiver: Receiver,
    alice: Tenant,
    number: str,
    expected: list[tuple[str, tuple[str, ...]]],
) -> None:
    order = await create_order(live, alice, number=number, status_callback=receiver.url("/cb"))
    started = asyncio.Event()
    watcher = asyncio.ensure_future(watch(live_server.url, alice, order["sid"], started))
    async with asyncio.timeout(DEADLINE):
        await started.wait()  # the socket is up and has replayed CREATED
    assert (await live(SIGN_LOA, {"sid": order["loaSid"]}, as_=alice))["signLoa"][
        "userErrors"
    ] == []
    await sign_from_the_email(settings.mail_dir)

    async with asyncio.timeout(DEADLINE):
        seen = await watcher

    assert [(e["status"], tuple(e["callbackType"])) for e in seen] == expected
    assert {e["portOrderSid"] for e in seen} == {order["sid"]}
    cursors = [int(e["cursor"]) for e in seen]
    assert cursors == sorted(set(cursors))  # in log order, no duplicate
    last = seen[-1]
    assert last["portOrder"]["status"] == last["status"]  # the order is read fresh per event
    assert (last["phoneNumberSid"] is not None) == (last["status"] == "COMPLETED")
    # Portico explains each rejection in a comment, whose `comment_added` callback arrives too
    comments = sum(status == "REJECTED" for status, _ in expected)
    everything = await callbacks(receiver, "/cb", len(expected) + comments)
    got = [p for p in everything if p["callback_type"] != ["comment_added"]]
    assert len(everything) - len(got) == comments
    assert kinds(got) == kinds(
        [{"status": s, "callback_type": [t.lower() for t in c]} for s, c in expected]
    )
