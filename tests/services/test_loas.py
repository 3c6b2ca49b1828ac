"""LOA grouping, the signature flow, and REJECTED -> PENDING on a fresh LOA (CONTRACT.md
§1, §3-§6)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.porting.statuses import Actor, LoaStatus, PortOrderStatus
from app.services import loas, operators, port_orders, reads
from app.services.context import Caller, Services
from app.store.queries import LoaFilter
from tests.builders import account, mobile_input, order_input, signature
from tests.services.helpers import NOT_PORTABLE, Clock, pending, status_of, submitted

S = PortOrderStatus


async def loa_status(svc: Services, caller: Caller, sid: str) -> LoaStatus:
    loa = await reads.get_loa(svc, caller, sid)
    assert loa is not None
    return LoaStatus(loa.status)


async def test_same_owner_and_address_share_an_loa(svc: Services) -> None:
    caller = await account(svc)
    a = await pending(svc, caller)
    b = await pending(svc, caller)
    # letter case and spacing of the address and signer do not split the group
    c = await pending(
        svc,
        caller,
        street="645  HARRISON st",
        city="san francisco",
        first_name="JAMES",
        email="James.Smith@example.com",
    )
    assert a.loa_sid == b.loa_sid == c.loa_sid
    page = await reads.list_loas(svc, caller, LoaFilter())
    assert [x.sid for x in page.items] == [a.loa_sid]


async def test_different_address_type_signer_or_account_get_their_own_loa(svc: Services) -> None:
    caller = await account(svc)
    sub = await account(svc, parent=caller)
    base = await pending(svc, caller)
    others = [
        await pending(svc, caller, street="1 Market St", postal_code="94105"),
        await pending(svc, caller, port_type="LANDLINE"),
        await pending(svc, caller, **{k: v for k, v in mobile_input().items() if k != "number"}),
        await pending(svc, caller, email="someone.else@example.com"),
        await pending(svc, caller, last_name="Jones"),
        await pending(svc, sub),  # same data, another (sub)account
    ]
    loa_sids = {base.loa_sid, *(o.loa_sid for o in others)}
    assert len(loa_sids) == 1 + len(others)
    sub_order = await reads.get_port_order(svc, sub, others[-1].sid)
    assert sub_order is not None and sub_order.account_sid == sub.sid


async def test_loa_is_canceled_when_all_its_orders_are(svc: Services) -> None:
    caller = await account(svc)
    a = await pending(svc, caller)
    b = await pending(svc, caller)
    await port_orders.cancel_port_order(svc, caller, a.sid)
    assert await loa_status(svc, caller, a.loa_sid) is LoaStatus.OPEN
    await port_orders.cancel_port_order(svc, caller, b.sid)
    assert await loa_status(svc, caller, a.loa_sid) is LoaStatus.CANCELED
    # a canceled LOA takes no new orders
    c = await pending(svc, caller)
    assert c.loa_sid != a.loa_sid
    assert await loa_status(svc, caller, c.loa_sid) is LoaStatus.OPEN


async def test_loa_with_a_live_order_is_not_canceled(svc: Services) -> None:
    caller = await account(svc)
    a = await pending(svc, caller)
    b = await pending(svc, caller)
    await operators.set_status(svc, Actor.OPERATOR, None, b.sid, S.FAILED)
    await port_orders.cancel_port_order(svc, caller, a.sid)
    # FAILED is not CANCELED: the LOA still covers an order that was not canceled
    assert await loa_status(svc, caller, a.loa_sid) is LoaStatus.OPEN


async def test_request_signature_closes_the_group(svc: Services) -> None:
    caller = await account(svc)
    a = await pending(svc, caller)
    loa = await loas.request_signature(svc, caller, a.loa_sid)
    assert loa.status == LoaStatus.SIGNING
    b = await pending(svc, caller)
    assert b.loa_sid != a.loa_sid
    await loas.sign(svc, a.loa_sid, signature())
    c = await pending(svc, caller)
    assert c.loa_sid == b.loa_sid  # the new group is open until its own signature request
    await status_of(svc, a.sid, S.SUBMITTED)
    await status_of(svc, b.sid, S.PENDING)  # signing another LOA does not submit it


async def test_sign_submits_pending_orders_and_recomputes_dates(svc: Services) -> None:
    clock = Clock(datetime(2026, 11, 23, 15, 0, tzinfo=UTC))  # Monday before Thanksgiving
    svc.clock = clock
    caller = await account(svc)
    wish = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    landline = await pending(svc, caller, activation_date=wish.isoformat())
    # created Monday: 3 business days; Thursday 26th is Thanksgiving and Friday 27th is a
    # California state holiday (the order's region), so Tuesday, Wednesday, Monday 30th
    assert landline.earliest_activation_date == datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
    assert landline.activation_date == wish  # later than the earliest: kept
    mobile = await pending(
        svc, caller, **{k: v for k, v in mobile_input().items() if k != "number"}
    )
    rejected = await port_orders.create_port_order(svc, caller, order_input(number=NOT_PORTABLE))
    canceled = await pending(svc, caller)
    await port_orders.cancel_port_order(svc, caller, canceled.sid)
    assert rejected.loa_sid == landline.loa_sid == canceled.loa_sid != mobile.loa_sid

    clock.now = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # Wednesday
    await loas.request_signature(svc, caller, landline.loa_sid)
    clock.now = datetime(2026, 11, 25, 16, 30, tzinfo=UTC)
    signed = await loas.sign(svc, landline.loa_sid, signature())
    assert signed.status == LoaStatus.SIGNED
    assert signed.signed_date == clock.now and signed.signer_name == "James Smith"

    order = await status_of(svc, landline.sid, S.SUBMITTED)
    assert order.submitted_date == clock.now
    # Wednesday + 3 business days, skipping both holidays and the weekend: Wednesday Dec 2nd
    assert order.earliest_activation_date == datetime(2026, 12, 2, 16, 30, tzinfo=UTC)
    assert order.activation_date == order.earliest_activation_date  # the wish was too early now
    events = (await reads.order_events(svc, caller, order.sid)).items
    last = events[-1]
    assert (last.type, last.payload["status"], last.actor) == (
        "port_order.status_changed",
        "SUBMITTED",
        "service",
    )
    assert last.payload["callback_type"] == ["status_update", "activation_date_update"]
    assert last.payload["foc_date"] == "2026-12-02T16:30:00Z"

    await status_of(svc, rejected.sid, S.REJECTED)
    await status_of(svc, canceled.sid, S.CANCELED)
    await status_of(svc, mobile.sid, S.PENDING)


async def test_sign_without_a_requested_date_sets_no_foc(svc: Services) -> None:
    caller = await account(svc)
    order = await submitted(svc, caller)
    assert order.activation_date is None
    assert order.earliest_activation_date is not None
    events = (await reads.order_events(svc, caller, order.sid)).items
    assert events[-1].payload["callback_type"] == ["status_update"]


async def test_rejected_by_carrier_then_fixed_goes_to_the_carrier_again_on_its_signed_loa(
    svc: Services,
) -> None:
    caller = await account(svc)
    order = await submitted(svc, caller, mobile_input())
    signed_loa = order.loa_sid
    await operators.set_status(
        svc,
        Actor.CARRIER,
        None,
        order.sid,
        S.REJECTED,
        reason_code=21831,
        reason="PIN does not match",
        error_code=21831,
        exception_type="PIN_INVALID",
    )
    rejected = await status_of(svc, order.sid, S.REJECTED)
    assert rejected.exception == {"type": "PIN_INVALID", "fields_to_fix": ["pin_number"]}
    updated = await port_orders.update_port_order(svc, caller, order.sid, {"pin_number": "9999"})
    # the signer and the address did not change: the signed letter still holds
    assert (updated.status, updated.loa_sid, updated.exception) == (S.SUBMITTED, signed_loa, None)
    assert await loa_status(svc, caller, signed_loa) is LoaStatus.SIGNED
    events = (await reads.order_events(svc, caller, order.sid)).items
    statuses = [(e.payload.get("status"), e.actor) for e in events if e.type != "comment.added"]
    assert statuses[-3:] == [
        ("REJECTED", "carrier"),
        ("PENDING", "customer"),
        ("SUBMITTED", "service"),
    ]


async def test_rejected_by_carrier_then_a_new_signer_goes_back_to_pending_on_a_fresh_loa(
    svc: Services,
) -> None:
    clock = Clock()
    svc.clock = clock
    caller = await account(svc)
    order = await submitted(svc, caller, mobile_input())
    signed_loa = order.loa_sid
    clock.advance(timedelta(hours=2))
    await operators.set_status(
        svc,
        Actor.CARRIER,
        None,
        order.sid,
        S.REJECTED,
        reason_code=21831,
        reason="Name does not match",
        error_code=21831,
        exception_type="NAME_MISMATCH",
    )
    clock.advance(timedelta(hours=2))
    updated = await port_orders.update_port_order(
        svc, caller, order.sid, {"first_name": "Jamie", "pin_number": "9999"}
    )
    assert updated.status == S.PENDING
    assert updated.loa_sid != signed_loa
    assert await loa_status(svc, caller, updated.loa_sid) is LoaStatus.OPEN
    # the signed LOA covers no order any more
    assert await loa_status(svc, caller, signed_loa) is LoaStatus.CANCELED
    assert updated.date_updated == clock.now
    assert updated.earliest_activation_date == datetime(2026, 11, 24, 19, 0, tzinfo=UTC)
    events = (await reads.order_events(svc, caller, order.sid)).items
    moves = [e for e in events if e.type != "comment.added"]  # Portico explained the rejection
    assert [(e.payload["status"], e.actor) for e in moves[-2:]] == [
        ("REJECTED", "carrier"),
        ("PENDING", "customer"),
    ]
    assert [e["code"] for e in moves[-1].payload["errors"]] == [21831]
    # it can go round again: request, sign, SUBMITTED
    await loas.request_signature(svc, caller, updated.loa_sid)
    await loas.sign(svc, updated.loa_sid, signature())
    await status_of(svc, order.sid, S.SUBMITTED)


async def test_rejected_at_check_then_fixed_number_goes_to_pending(svc: Services) -> None:
    caller = await account(svc)
    order = await port_orders.create_port_order(svc, caller, order_input(number=NOT_PORTABLE))
    assert order.status == S.REJECTED
    friend = await pending(svc, caller)
    await loas.request_signature(svc, caller, friend.loa_sid)  # closes the group
    fixed = await port_orders.update_port_order(svc, caller, order.sid, {"number": "+14155238888"})
    assert fixed.status == S.PENDING
    assert fixed.number == "+14155238888" and fixed.friendly_name == "(415) 523-8888"
    assert fixed.loa_sid not in (order.loa_sid, friend.loa_sid)
    # the old number is free again, the new one is held
    again = await pending(svc, caller, number=NOT_PORTABLE[:-4] + "0002")
    assert again.status == S.PENDING


async def test_update_that_stays_not_portable_stays_rejected(svc: Services) -> None:
    caller = await account(svc)
    order = await port_orders.create_port_order(svc, caller, order_input(number=NOT_PORTABLE))
    again = await port_orders.update_port_order(svc, caller, order.sid, {"number": "+14155240001"})
    assert again.status == S.REJECTED
    errors = (await reads.errors_by_order(svc, [order.sid]))[order.sid]
    assert [e.code for e in errors] == [21827, 21827]


async def test_update_of_a_pending_order_moving_address_changes_loa(svc: Services) -> None:
    caller = await account(svc)
    a = await pending(svc, caller)
    b = await pending(svc, caller)
    moved = await port_orders.update_port_order(
        svc, caller, a.sid, {"street": "1 Market St", "postal_code": "94105"}
    )
    assert moved.status == S.PENDING
    assert moved.loa_sid != b.loa_sid
    assert await loa_status(svc, caller, b.loa_sid) is LoaStatus.OPEN
    # moving the last order away from an open LOA cancels that LOA
    back = await port_orders.update_port_order(
        svc, caller, b.sid, {"street": "1 Market St", "postal_code": "94105"}
    )
    assert back.loa_sid == moved.loa_sid
    assert await loa_status(svc, caller, b.loa_sid) is LoaStatus.CANCELED


async def test_update_of_a_check_rejected_order_runs_the_check_again(svc: Services) -> None:
    """A number the check refused stays refused: an update that leaves it as it is does not
    slip the order back to PENDING."""
    caller = await account(svc)
    order = await port_orders.create_port_order(svc, caller, order_input(number=NOT_PORTABLE))
    again = await port_orders.update_port_order(svc, caller, order.sid, {"company_name": "Acme"})
    assert again.status == S.REJECTED and again.company_name == "Acme"
    errors = (await reads.errors_by_order(svc, [order.sid]))[order.sid]
    assert [e.code for e in errors] == [21827, 21827]
