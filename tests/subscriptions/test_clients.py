"""Real clients over real uvicorn: gql's WebsocketsTransport on both protocols, on SQLite
(memory bus) and PostgreSQL (LISTEN/NOTIFY), receiving a change made through a mutation."""

from __future__ import annotations

import asyncio
import re

import pytest

from app.services import port_orders
from app.services.context import Services
from app.store import queries
from tests.builders import Tenant, order_input
from tests.subscriptions.support import (
    CANCEL,
    LOA_EVENTS,
    ORDER_EVENTS,
    PROTOCOLS,
    SIGN_LOA,
    Live,
    gql_client,
    subscribe_gql,
    take,
    until,
)

UTC_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


pytestmark = pytest.mark.dialects("sqlite", "postgres")


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_order_subscriber_receives_a_cancel_made_through_a_mutation(
    live: Live, svc: Services, alice: Tenant, protocol: str
) -> None:
    # Given an order and a gql client subscribed to it (live, no replay).
    order = await port_orders.create_port_order(svc, alice.caller, order_input())
    async with gql_client(live, alice, protocol) as session:
        stream = subscribe_gql(session, ORDER_EVENTS, {"sid": order.sid})
        received = asyncio.ensure_future(take(stream, 1))
        await until(lambda: svc.hub.subscriber_count == 1)

        # When the order is canceled through the GraphQL mutation (over HTTP).
        data = await live.graphql(CANCEL, {"sid": order.sid}, as_=alice)
        assert data["cancelPortOrder"]["portOrder"]["status"] == "CANCELED"

        # Then the subscriber gets the status callback's payload, its cursor and the order.
        ((result,),) = [await received]
        event = result["portOrderStatusChanged"]
        async with svc.db.read() as s:
            row = (await queries.events_after(s, 0, 100, resource_sid=order.sid))[-1]
        assert event["cursor"] == str(row.id)
        assert event["portOrderSid"] == order.sid
        assert event["callbackType"] == ["STATUS_UPDATE"]
        assert event["status"] == "CANCELED" == row.payload["status"]
        assert event["focDate"] == row.payload["foc_date"]
        assert event["dateUpdated"] == row.payload["date_updated"]
        assert UTC_TIME.match(event["dateUpdated"])
        assert event["phoneNumberSid"] is None
        assert event["errors"] == []
        assert event["portOrder"] == {"sid": order.sid, "status": "CANCELED"}

        # And completing the subscription (the client's stop / complete) ends it on the server
        # while the socket stays open.
        await stream.aclose()  # type: ignore[attr-defined]
        await until(lambda: svc.hub.subscriber_count == 0)
        assert len(live.app_sockets) == 1
    await until(lambda: len(live.app_sockets) == 0)


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_loa_subscriber_receives_a_signature_request(
    live: Live, svc: Services, alice: Tenant, protocol: str
) -> None:
    order = await port_orders.create_port_order(svc, alice.caller, order_input())
    async with gql_client(live, alice, protocol) as session:
        stream = subscribe_gql(session, LOA_EVENTS, {"sid": order.loa_sid})
        received = asyncio.ensure_future(take(stream, 1))
        await until(lambda: svc.hub.subscriber_count == 1)

        await live.graphql(SIGN_LOA, {"sid": order.loa_sid}, as_=alice)

        (result,) = await received
        event = result["loaStatusChanged"]
        assert event["loaSid"] == order.loa_sid
        assert event["status"] == "SIGNING"
        assert event["cursor"].isdigit()
        assert UTC_TIME.match(event["dateUpdated"])
        assert event["loa"] == {"sid": order.loa_sid, "status": "SIGNING"}
        await stream.aclose()  # type: ignore[attr-defined]
        await until(lambda: svc.hub.subscriber_count == 0)
