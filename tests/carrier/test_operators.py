"""Operator use cases: only operators may call them (20403), a move outside the transition
table is 21822, and every action lands in the event log with the operator's SID."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import pytest

from app.porting.errors import PortingError
from app.porting.statuses import PortOrderStatus
from app.services import operators, port_orders, reads
from app.services.context import Caller, Services
from app.services.operators import KEEP
from app.store.queries import PortOrderFilter
from tests.builders import account, operator, order_input
from tests.conftest import snapshot

S = PortOrderStatus
FOC = datetime(2027, 3, 1, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "call",
    [
        lambda svc, c, sid: operators.operator_set_status(svc, c, sid, S.REVIEW),
        lambda svc, c, sid: operators.operator_set_activation_date(svc, c, sid, FOC),
        lambda svc, c, sid: operators.set_order_references(svc, c, sid, "PR123", "ZD9"),
    ],
    ids=["set_status", "set_activation_date", "set_order_references"],
)
async def test_an_account_cannot_use_operator_functions(
    svc: Services, call: Callable[[Services, Caller, str], Awaitable[object]]
) -> None:
    caller = await account(svc)
    order = await port_orders.create_port_order(svc, caller, order_input())
    before = await snapshot(svc)

    with pytest.raises(PortingError) as err:
        await call(svc, caller, order.sid)

    assert err.value.code == 20403
    assert await snapshot(svc) == before


async def test_a_move_outside_the_table_is_21822_and_changes_nothing(svc: Services) -> None:
    caller, op = await account(svc), await operator(svc)
    order = await port_orders.create_port_order(svc, caller, order_input())
    before = await snapshot(svc)

    with pytest.raises(PortingError) as err:
        await operators.operator_set_status(svc, op, order.sid, S.COMPLETED)  # PENDING -> COMPLETED

    assert err.value.code == 21822
    assert await snapshot(svc) == before


async def test_bad_operator_input_is_refused_before_anything_changes(svc: Services) -> None:
    caller, op = await account(svc), await operator(svc)
    order = await port_orders.create_port_order(svc, caller, order_input())
    before = await snapshot(svc)

    cases = [
        (operators.operator_set_status(svc, op, order.sid, S.FAILED, error_code=99999), 20001),
        (operators.operator_set_status(svc, op, order.sid, S.FAILED, reason="x" * 1001), 20001),
        (operators.operator_set_activation_date(svc, op, order.sid, datetime(2027, 3, 1)), 21814),
        (operators.set_order_references(svc, op, order.sid, "p" * 256), 20001),
        (operators.operator_set_status(svc, op, "PO" + "0" * 32, S.REVIEW), 20404),
    ]
    for call, code in cases:
        with pytest.raises(PortingError) as err:
            await call
        assert err.value.code == code
    assert await snapshot(svc) == before


async def test_operator_moves_are_logged_with_the_operators_sid(svc: Services) -> None:
    caller, op = await account(svc), await operator(svc)
    order = await port_orders.create_port_order(svc, caller, order_input())

    await operators.operator_set_status(svc, op, order.sid, S.REVIEW, reason="document check")
    done = await operators.operator_set_status(
        svc, op, order.sid, S.FAILED, reason_code=21835, reason="cannot port", error_code=21835
    )

    assert (done.status, done.reason_code, done.reason) == (S.FAILED, 21835, "cannot port")
    events = (await reads.order_events(svc, caller, order.sid)).items
    moves = [
        (e.payload["status"], e.actor, e.actor_sid)
        for e in events
        if e.type == "port_order.status_changed"
    ]
    assert moves[-2:] == [("REVIEW", "operator", op.sid), ("FAILED", "operator", op.sid)]
    errors = (await reads.errors_by_order(svc, [order.sid]))[order.sid]
    assert [(e.code, e.reason) for e in errors] == [(21835, "cannot port")]


async def test_an_operator_completing_from_review_puts_the_number_into_inventory(
    svc: Services,
) -> None:
    caller, op = await account(svc), await operator(svc)
    order = await port_orders.create_port_order(svc, caller, order_input())
    await operators.operator_set_status(svc, op, order.sid, S.REVIEW)

    done = await operators.operator_set_status(svc, op, order.sid, S.COMPLETED)

    assert done.incoming_phone_number_sid and done.incoming_phone_number_sid.startswith("PN")
    with pytest.raises(PortingError) as err:
        await port_orders.create_port_order(svc, caller, order_input(number=order.number))
    assert err.value.code == 21838


async def test_operator_sets_and_clears_references(svc: Services) -> None:
    caller, op = await account(svc), await operator(svc)
    order = await port_orders.create_port_order(svc, caller, order_input())

    await operators.set_order_references(svc, op, order.sid, "PR-1", "4711")
    await operators.set_order_references(svc, op, order.sid, zendesk_id="4712")  # provider kept
    same = await operators.set_order_references(svc, op, order.sid, "PR-1", KEEP)  # no change

    assert (same.provider_sid, same.zendesk_id) == ("PR-1", "4712")
    found = await reads.list_port_orders(svc, op, PortOrderFilter(provider_sid="PR-1"))
    assert [o.sid for o in found.items] == [order.sid]
    cleared = await operators.set_order_references(svc, op, order.sid, provider_sid="")
    assert (cleared.provider_sid, cleared.zendesk_id) == (None, "4712")
    events = (await reads.order_events(svc, caller, order.sid)).items
    updates = [
        (e.actor, e.actor_sid, e.payload["changed"], e.payload["callback_type"])
        for e in events
        if e.type == "port_order.updated"
    ]
    assert updates == [
        ("operator", op.sid, {"provider_sid": "PR-1", "zendesk_id": "4711"}, []),
        ("operator", op.sid, {"zendesk_id": "4712"}, []),
        ("operator", op.sid, {"provider_sid": None}, []),
    ]


async def test_an_operator_cannot_move_the_foc_of_a_finished_order(svc: Services) -> None:
    caller, op = await account(svc), await operator(svc)
    order = await port_orders.create_port_order(svc, caller, order_input())
    await port_orders.cancel_port_order(svc, caller, order.sid)

    with pytest.raises(PortingError) as err:
        await operators.operator_set_activation_date(svc, op, order.sid, FOC)
    assert err.value.code == 21829
