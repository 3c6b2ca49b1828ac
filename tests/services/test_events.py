"""The event log (SPEC 9, DESIGN 1): every status change and every FOC change appends an event
row in the same transaction as the change; a failed request leaves no row of any kind."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from app.porting.dates import is_business_day
from app.porting.statuses import Actor, PortOrderStatus
from app.services import loas, operators, port_orders, reads
from app.services.context import Caller, Services
from app.store import events as log
from app.store import queries
from app.store.tables import Event
from tests.builders import account, order_input, signature
from tests.conftest import snapshot
from tests.services.helpers import Clock, pending

S = PortOrderStatus


class Timeline:
    """Reads the events of one order that appeared since the last look."""

    def __init__(self, svc: Services, caller: Caller, sid: str) -> None:
        self.svc, self.caller, self.sid, self.seen = svc, caller, sid, 0

    async def new(self) -> list[Event]:
        page = await reads.order_events(self.svc, self.caller, self.sid, limit=100)
        fresh = [e for e in page.items if e.id is not None and e.id > self.seen]
        if fresh:
            self.seen = max(e.id for e in fresh if e.id is not None)
        return fresh


def brief(events: list[Event]) -> list[tuple[str, str, list[str], str]]:
    return [(e.type, e.payload["status"], e.payload["callback_type"], e.actor) for e in events]


async def test_every_change_appends_one_event(svc: Services) -> None:
    clock = Clock()
    svc.clock = clock
    caller = await account(svc)
    order = await port_orders.create_port_order(svc, caller, order_input())
    t = Timeline(svc, caller, order.sid)
    assert brief(await t.new()) == [
        ("port_order.created", "CREATED", ["status_update"], "customer"),
        ("port_order.status_changed", "PENDING", ["status_update"], "service"),
    ]

    clock.advance(timedelta(minutes=1))
    foc = clock.now + timedelta(days=20)
    while not is_business_day(foc.date(), "US", "CA"):  # a date no rule moves
        foc += timedelta(days=1)
    await port_orders.update_port_order(svc, caller, order.sid, {"activation_date": foc})
    assert brief(await t.new()) == [
        ("port_order.updated", "PENDING", ["activation_date_update"], "customer")
    ]
    await port_orders.update_port_order(svc, caller, order.sid, {"company_name": "Acme"})
    assert brief(await t.new()) == [("port_order.updated", "PENDING", [], "customer")]

    await loas.request_signature(svc, caller, order.loa_sid)
    assert await t.new() == []  # an LOA event, not the order's
    clock.advance(timedelta(minutes=1))
    await loas.sign(svc, order.loa_sid, signature())
    assert brief(await t.new()) == [
        ("port_order.status_changed", "SUBMITTED", ["status_update"], "service")
    ]
    await operators.set_status(svc, Actor.CARRIER, None, order.sid, S.ACCEPTED)
    assert brief(await t.new()) == [
        ("port_order.status_changed", "ACCEPTED", ["status_update"], "carrier")
    ]
    clock.advance(timedelta(minutes=1))
    new_foc = foc + timedelta(days=1)
    await operators.set_activation_date(svc, Actor.CARRIER, None, order.sid, new_foc)
    events = await t.new()
    assert brief(events) == [
        ("port_order.activation_date_changed", "ACCEPTED", ["activation_date_update"], "carrier")
    ]
    assert events[0].payload["foc_date"] == new_foc.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert events[0].date_created == clock.now
    done = await operators.set_status(svc, Actor.CARRIER, None, order.sid, S.COMPLETED)
    events = await t.new()
    assert brief(events) == [
        ("port_order.status_changed", "COMPLETED", ["status_update"], "carrier")
    ]
    assert events[0].payload["phone_number_sid"] == done.incoming_phone_number_sid
    # the payload is exactly SPEC 9's, nothing more (no write-only fields, no addresses)
    assert set(events[0].payload) == {
        "port_order_sid",
        "callback_type",
        "status",
        "foc_date",
        "date_updated",
        "phone_number_sid",
        "errors",
    }


async def test_loa_events_and_cancel(svc: Services) -> None:
    caller = await account(svc)
    order = await pending(svc, caller)
    t = Timeline(svc, caller, order.sid)
    await t.new()
    await port_orders.cancel_port_order(svc, caller, order.sid)
    assert brief(await t.new()) == [
        ("port_order.status_changed", "CANCELED", ["status_update"], "customer")
    ]
    async with svc.db.read() as s:  # the LOA's own timeline
        page = await queries.events_of_resource(s, order.loa_sid, 10)
    assert [(e.type, e.payload["status"]) for e in page.items] == [
        ("loa.status_changed", "canceled")
    ]


async def test_operator_error_is_appended_with_the_status_change(svc: Services) -> None:
    caller = await account(svc)
    order = await pending(svc, caller)
    await operators.set_status(
        svc,
        Actor.OPERATOR,
        None,
        order.sid,
        S.FAILED,
        reason="line disconnected",
        error_code=21835,
    )
    events = (await reads.order_events(svc, caller, order.sid)).items
    assert events[-1].payload["status"] == "FAILED"
    assert [(e["code"], e["reason"]) for e in events[-1].payload["errors"]] == [
        (21835, "line disconnected")
    ]
    errors = (await reads.errors_by_order(svc, [order.sid]))[order.sid]
    assert [(e.code, e.reason) for e in errors] == [(21835, "line disconnected")]


class Boom(Exception):
    pass


@pytest.fixture
def fail_on_event(monkeypatch: pytest.MonkeyPatch) -> Callable[[int], None]:
    """Make the next request fail once its n-th event row is written (a use case's events are
    written together when it is done, inside its transaction: the failure comes after them)."""
    state: dict[str, int | None] = {"at": None}
    real = log.write_recorded

    async def write_recorded(tx: Any) -> None:
        await real(tx)
        at = state["at"]
        if at is not None and len(log.appended(tx)) >= at:
            state["at"] = None
            raise Boom("injected failure after the event rows")

    monkeypatch.setattr(log, "write_recorded", write_recorded)

    def arm(n: int) -> None:
        state["at"] = n

    return arm


async def test_failed_create_leaves_no_row(
    svc: Services, fail_on_event: Callable[[int], None]
) -> None:
    caller = await account(svc)
    before = await snapshot(svc)
    last_id = svc.bus.last_id
    fail_on_event(2)  # the CREATED -> PENDING event: LOA, order and both events written
    with pytest.raises(Boom):
        await port_orders.create_port_order(svc, caller, order_input())
    assert await snapshot(svc) == before
    assert svc.bus.last_id == last_id  # nothing announced either


async def test_failed_sign_leaves_no_row(
    svc: Services, fail_on_event: Callable[[int], None]
) -> None:
    caller = await account(svc)
    a = await pending(svc, caller)
    await pending(svc, caller)
    await loas.request_signature(svc, caller, a.loa_sid)
    before = await snapshot(svc)
    last_id = svc.bus.last_id
    fail_on_event(3)  # LOA signed, both orders SUBMITTED: written, then the failure
    with pytest.raises(Boom):
        await loas.sign(svc, a.loa_sid, signature())
    assert await snapshot(svc) == before
    assert svc.bus.last_id == last_id
    # and the same request succeeds afterwards
    await loas.sign(svc, a.loa_sid, signature())
    assert svc.bus.last_id > last_id


async def test_failed_cancel_leaves_no_row(
    svc: Services, fail_on_event: Callable[[int], None]
) -> None:
    caller = await account(svc)
    order = await pending(svc, caller)
    before = await snapshot(svc)
    fail_on_event(2)  # the order's and the LOA's CANCELED events written, then the failure
    with pytest.raises(Boom):
        await port_orders.cancel_port_order(svc, caller, order.sid)
    assert await snapshot(svc) == before


async def test_bus_hears_after_commit(svc: Services) -> None:
    caller = await account(svc)
    order = await pending(svc, caller)
    events = (await reads.order_events(svc, caller, order.sid)).items
    assert svc.bus.last_id == events[-1].id
