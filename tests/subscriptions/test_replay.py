"""Point 2 (replay across a disconnect: exactly the missed events, then live) and point 4
(fresh data per event on a long-lived socket), on both protocols."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from app.porting.isotime import format_utc
from app.porting.statuses import Actor, PortOrderStatus
from app.services import operators, port_orders
from app.services.context import Services
from tests.builders import Tenant, operator, order_input
from tests.subscriptions.support import (
    CANCEL,
    ORDER_EVENTS,
    PROTOCOLS,
    RENAME,
    Live,
    gql_client,
    subscribe_gql,
    take,
    until,
)


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_reconnecting_with_the_last_cursor_misses_nothing_and_repeats_nothing(
    live: Live, svc: Services, alice: Tenant, protocol: str
) -> None:
    op = await operator(svc)
    order = await port_orders.create_port_order(svc, alice.caller, order_input())

    # Given a client that received the order's history (CREATED, PENDING) and went away.
    async with gql_client(live, alice, protocol) as session:
        stream = subscribe_gql(session, ORDER_EVENTS, {"sid": order.sid, "after": "0"})
        first = [r["portOrderStatusChanged"] for r in await take(stream, 2)]
        await stream.aclose()  # type: ignore[attr-defined]
    assert [e["status"] for e in first] == ["CREATED", "PENDING"]
    last_cursor = first[-1]["cursor"]
    await until(lambda: svc.hub.subscriber_count == 0)

    # While it is away: an edit that is no status change, then two changes.
    await live.graphql(RENAME, {"sid": order.sid, "name": "Front desk"}, as_=alice)
    await operators.set_status(svc, Actor.OPERATOR, op.sid, order.sid, PortOrderStatus.REVIEW)
    foc = datetime.now(UTC).replace(microsecond=0) + timedelta(days=30)
    await operators.set_activation_date(svc, Actor.OPERATOR, op.sid, order.sid, foc)

    # When it reconnects with its last cursor.
    async with gql_client(live, alice, protocol) as session:
        stream = subscribe_gql(session, ORDER_EVENTS, {"sid": order.sid, "after": last_cursor})
        missed = [r["portOrderStatusChanged"] for r in await take(stream, 2)]

        # Then it gets exactly the two changes it missed, in order, after its cursor ...
        assert [(e["status"], e["callbackType"]) for e in missed] == [
            ("REVIEW", ["STATUS_UPDATE"]),
            ("REVIEW", ["ACTIVATION_DATE_UPDATE"]),
        ]
        assert missed[1]["focDate"] == format_utc(foc)
        cursors = [int(last_cursor)] + [int(e["cursor"]) for e in missed]
        assert cursors == sorted(set(cursors))

        # ... and then continues live: the next event is the next change, nothing in between.
        live_event = asyncio.ensure_future(take(stream, 1))
        await live.graphql(CANCEL, {"sid": order.sid}, as_=alice)
        (result,) = await live_event
        event = result["portOrderStatusChanged"]
        assert event["status"] == "CANCELED" and int(event["cursor"]) > cursors[-1]

        # Point 4: the socket read the order for the earlier events; this one shows it fresh.
        assert [e["portOrder"]["status"] for e in missed] == ["REVIEW", "REVIEW"]
        assert event["portOrder"]["status"] == "CANCELED"
        await stream.aclose()  # type: ignore[attr-defined]


async def test_a_malformed_cursor_is_refused(live: Live, alice: Tenant) -> None:
    from gql.transport.exceptions import TransportQueryError

    async with gql_client(live, alice, PROTOCOLS[1]) as session:
        with pytest.raises(TransportQueryError) as refused:
            await take(subscribe_gql(session, ORDER_EVENTS, {"after": "PO123"}), 1)
    assert refused.value.errors is not None
    assert refused.value.errors[0]["extensions"] == {"code": 21826}
