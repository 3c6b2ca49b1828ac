"""Each event queues the deliveries CONTRACT.md §9, §10 ask for, in its own transaction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.porting.errors import PortingError, PortingErrors
from app.porting.statuses import Actor, PortOrderStatus
from app.services import deliveries, loas, operators, port_orders
from app.services.context import Caller, Services
from app.store import queries
from tests.builders import account, order_input, signature

SIGNATURE = signature(ip="192.0.2.7")


async def kinds(svc: Services, caller: Caller, order_sid: str) -> list[tuple[str, str, str]]:
    records = (await deliveries.deliveries_by_order(svc, caller, [order_sid], None))[order_sid]
    return [(r.delivery.kind, r.delivery.target, r.delivery.state) for r in records]


async def all_deliveries(svc: Services) -> list[tuple[str, Any, str, str]]:
    async with svc.db.read() as s:
        last = await queries.last_event_id(s)
        events = await queries.events_after(s, 0, last + 1)
        out = []
        for e in events:
            assert e.id is not None
            for d in await queries.deliveries_of_event(s, e.id):
                out.append((e.type, e.payload.get("status"), d.kind, d.target))
        return out


async def test_create_without_callback_mails_the_signer_once(svc: Services) -> None:
    caller = await account(svc)
    order = await port_orders.create_port_order(svc, caller, order_input())
    assert await kinds(svc, caller, order.sid) == [
        ("status_update", "james.smith@example.com", "pending")
    ]


@pytest.mark.dialects("sqlite", "postgres")
async def test_callbacks_status_mail_and_cc_follow_the_order(svc: Services) -> None:
    caller = await account(svc)
    raw = order_input(
        status_callback="https://hooks.example.com/porting",
        status_updates_email="ops@example.com",
        cc_emails=["boss@example.com", "OPS@example.com", "legal@example.com"],
    )
    order = await port_orders.create_port_order(svc, caller, raw)
    loa = await loas.request_signature(svc, caller, order.loa_sid)
    await loas.sign(svc, loa.sid, SIGNATURE)
    await operators.set_status(svc, Actor.CARRIER, None, order.sid, PortOrderStatus.ACCEPTED)
    await operators.set_status(svc, Actor.CARRIER, None, order.sid, PortOrderStatus.COMPLETED)

    rows = await all_deliveries(svc)
    cb = "https://hooks.example.com/porting"
    assert rows == [
        ("port_order.created", "CREATED", "status_callback", cb),
        ("port_order.status_changed", "PENDING", "status_callback", cb),
        ("port_order.status_changed", "PENDING", "status_update", "ops@example.com"),
        ("loa.status_changed", "signing", "loa_signature", "james.smith@example.com"),
        ("port_order.status_changed", "SUBMITTED", "status_callback", cb),
        ("port_order.status_changed", "SUBMITTED", "status_update", "ops@example.com"),
        # OPS@example.com already gets the status mail: not mailed twice.
        ("port_order.status_changed", "SUBMITTED", "cc", "boss@example.com"),
        ("port_order.status_changed", "SUBMITTED", "cc", "legal@example.com"),
        ("port_order.status_changed", "ACCEPTED", "status_callback", cb),
        ("port_order.status_changed", "ACCEPTED", "status_update", "ops@example.com"),
        ("port_order.status_changed", "COMPLETED", "status_callback", cb),
        ("port_order.status_changed", "COMPLETED", "status_update", "ops@example.com"),
        ("port_order.status_changed", "COMPLETED", "cc", "boss@example.com"),
        ("port_order.status_changed", "COMPLETED", "cc", "legal@example.com"),
    ]


async def test_cc_on_failed_and_foc_change_is_a_callback_only(svc: Services) -> None:
    caller = await account(svc)
    raw = order_input(status_callback="https://hooks.example.com/x", cc_emails=["cc@example.com"])
    order = await port_orders.create_port_order(svc, caller, raw)
    foc = datetime.now(UTC) + timedelta(days=30)
    await operators.set_activation_date(svc, Actor.OPERATOR, None, order.sid, foc)
    await operators.set_status(
        svc, Actor.OPERATOR, None, order.sid, PortOrderStatus.FAILED, error_code=21831
    )
    rows = await all_deliveries(svc)
    cb = raw["status_callback"]
    assert rows[-4:] == [
        ("port_order.activation_date_changed", "PENDING", "status_callback", cb),
        ("port_order.status_changed", "FAILED", "status_callback", cb),
        ("port_order.status_changed", "FAILED", "status_update", "james.smith@example.com"),
        ("port_order.status_changed", "FAILED", "cc", "cc@example.com"),
    ]


async def test_bad_input_and_refused_moves_queue_nothing(svc: Services) -> None:
    caller = await account(svc)
    with pytest.raises(PortingErrors):
        await port_orders.create_port_order(
            svc, caller, order_input(status_callback="ftp://nope", email="bad")
        )
    order = await port_orders.create_port_order(svc, caller, order_input())
    before = await all_deliveries(svc)
    with pytest.raises(PortingError) as refused:
        await operators.set_status(svc, Actor.CARRIER, None, order.sid, PortOrderStatus.COMPLETED)
    assert refused.value.code == 21822
    assert await all_deliveries(svc) == before
