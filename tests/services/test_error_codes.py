"""One test per error code of CONTRACT.md §7 that the services can raise.

Each checks the code, the field it concerns, and (through `refused`) that every table is exactly
as before: a refused request stores nothing and changes nothing. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from app.porting import sids
from app.porting.statuses import Actor, LoaStatus, PortOrderStatus
from app.services import loas, operators, port_orders, reads
from app.services.context import Services
from app.store.queries import LoaFilter, PortOrderFilter
from tests.builders import account, mobile_input, next_number, operator, order_input, signature
from tests.services.helpers import (
    NOT_PORTABLE,
    Clock,
    moved,
    pending,
    refused,
    status_of,
    submitted,
)

S = PortOrderStatus
OMIT: Any = ...  # a key left out of a create; cleared (None) in an update

# (code, field, mobile?, input changes): each input has exactly this one failure.
VALIDATION: list[tuple[int, str, bool, dict[str, Any]]] = [
    (20001, "port_type", False, {"port_type": "SATELLITE"}),
    (20002, "friendly_name", False, {"friendly_name": "x" * 65}),
    (21801, "number", False, {"number": OMIT}),
    (21802, "iso_country", False, {"iso_country": OMIT}),
    (21803, "region", False, {"region": OMIT}),
    (21804, "city", False, {"city": OMIT}),
    (21805, "postal_code", False, {"postal_code": OMIT}),
    (21806, "street", False, {"street": OMIT}),
    (21807, "first_name", False, {"first_name": OMIT}),
    (21808, "last_name", False, {"last_name": OMIT}),
    (21809, "account_number", True, {"account_number": OMIT}),
    (21810, "pin_number", True, {"pin_number": OMIT}),
    (21811, "email", False, {"email": OMIT}),
    (21812, "number", False, {"number": "+1415555"}),
    (21813, "iso_country", False, {"iso_country": "XX"}),
    (21814, "activation_date", False, {"activation_date": "2026-12-01"}),
    (21815, "billing_phone_number", False, {"billing_phone_number": "12345"}),
    (21816, "pin_number", True, {"pin_number": "12 34!"}),
    (21817, "ssn_last_four", True, {"ssn_last_four": "12a4"}),
    (21818, "email", False, {"email": "not-an-email"}),
    (21819, "status_callback", False, {"status_callback": "ftp://example.com/cb"}),
    (21820, "cc_emails", False, {"cc_emails": ["ok@example.com", "nope"]}),
    (21824, "ssn_last_four", True, {"ssn_last_four": OMIT}),
    (21828, "first_name", False, {"first_name": "J4mes"}),
    (21834, "postal_code", False, {"postal_code": "10001"}),  # a New York ZIP, region CA
    (21836, "account_number", True, {"account_number": OMIT, "ssn_last_four": OMIT}),
]


@pytest.mark.parametrize(
    ("code", "field", "mobile", "changes"), VALIDATION, ids=[str(c[0]) for c in VALIDATION]
)
async def test_validation_code(
    shared_svc: Services, code: int, field: str, mobile: bool, changes: dict[str, Any]
) -> None:
    svc = shared_svc
    caller = await account(svc)
    build = mobile_input if mobile else order_input
    # through create
    async with refused(svc, code, field):
        await port_orders.create_port_order(svc, caller, build(**changes))
    # through update of a valid order
    order = await port_orders.create_port_order(svc, caller, build())
    update = {k: (None if v is OMIT else v) for k, v in changes.items()}
    async with refused(svc, code, field):
        await port_orders.update_port_order(svc, caller, order.sid, update)


async def test_validation_reports_every_failure_at_once(svc: Services) -> None:
    caller = await account(svc)
    raw = mobile_input(number="12", email="x", ssn_last_four=OMIT, pin_number="!!")
    async with refused(svc, 21812, "number", only=False) as r:
        await port_orders.create_port_order(svc, caller, raw)
    assert r.codes == [21812, 21818, 21824, 21816]  # in field order


async def test_operator_must_name_the_account(svc: Services) -> None:
    op = await operator(svc)
    async with refused(svc, 20001, "account_sid"):
        await port_orders.create_port_order(svc, op, order_input())
    owner = await account(svc)
    order = await port_orders.create_port_order(svc, op, order_input(account_sid=owner.sid))
    assert order.account_sid == owner.sid


# (walk from PENDING, then the refused move, by whom)
REFUSED_MOVES = [
    ((), S.COMPLETED, Actor.CARRIER),  # PENDING -> COMPLETED skips the carrier's steps
    ((), S.SUBMITTED, Actor.OPERATOR),  # only the service submits, on signature
    ((), S.CANCELED, Actor.OPERATOR),  # cancel is the customer's
    ((S.REVIEW,), S.PENDING, Actor.CARRIER),  # leaving REVIEW is the operator's call
    ((S.FAILED,), S.REVIEW, Actor.OPERATOR),  # nothing leaves a terminal status
]


async def test_21822_move_not_in_the_table(svc: Services) -> None:
    caller = await account(svc)
    for path, dst, actor in REFUSED_MOVES:
        order = await moved(svc, await pending(svc, caller), *path)
        async with refused(svc, 21822, "status"):
            await operators.set_status(svc, actor, None, order.sid, dst)


async def test_21827_not_portable_creates_a_rejected_order(svc: Services) -> None:
    caller = await account(svc)
    order = await port_orders.create_port_order(svc, caller, order_input(number=NOT_PORTABLE))
    assert order.status == S.REJECTED
    assert order.reason_code == 21827
    errors = (await reads.errors_by_order(svc, [order.sid]))[order.sid]
    assert [e.code for e in errors] == [21827]
    events = (await reads.order_events(svc, caller, order.sid)).items
    assert [(e.type, e.payload["status"]) for e in events] == [
        ("port_order.created", "CREATED"),
        ("port_order.status_changed", "REJECTED"),
    ]
    assert events[-1].payload["errors"][0]["code"] == 21827
    # the rejected order still holds its number (REJECTED is not terminal)
    async with refused(svc, 21837, "number"):
        await port_orders.create_port_order(svc, caller, order_input(number=NOT_PORTABLE))


async def test_21829_update_after_submission(svc: Services) -> None:
    caller = await account(svc)
    after_signature = await submitted(svc, caller)
    accepted = await moved(svc, await submitted(svc, caller), S.ACCEPTED)
    in_review = await moved(svc, await pending(svc, caller), S.REVIEW)
    for order in (after_signature, accepted, in_review):
        async with refused(svc, 21829, None):
            await port_orders.update_port_order(svc, caller, order.sid, {"company_name": "x"})


async def test_21830_cancel_after_the_end(svc: Services) -> None:
    caller = await account(svc)
    canceled = await pending(svc, caller)
    await port_orders.cancel_port_order(svc, caller, canceled.sid)
    completed = await moved(svc, await submitted(svc, caller), S.ACCEPTED, S.COMPLETED)
    failed = await moved(svc, await pending(svc, caller), S.FAILED)
    for order in (canceled, completed, failed):
        async with refused(svc, 21830, None):
            await port_orders.cancel_port_order(svc, caller, order.sid)
        # ... and the customer cannot update it either
        async with refused(svc, 21829, None):
            await port_orders.update_port_order(svc, caller, order.sid, {"company_name": "x"})


async def test_21832_mobile_cancel_after_signature(svc: Services) -> None:
    caller = await account(svc)
    order = await submitted(svc, caller, mobile_input())
    async with refused(svc, 21832, None):
        await port_orders.cancel_port_order(svc, caller, order.sid)
    # a mobile order before signature cancels fine
    other = await pending(svc, caller, **mobile_input())
    canceled = await port_orders.cancel_port_order(svc, caller, other.sid)
    assert canceled.status == S.CANCELED


async def test_21833_cancel_within_48_hours_of_foc(svc: Services) -> None:
    clock = Clock()
    svc.clock = clock
    caller = await account(svc)
    near = await submitted(svc, caller)
    far = await submitted(svc, caller)
    edge = await submitted(svc, caller)
    await operators.set_activation_date(
        svc, Actor.CARRIER, None, near.sid, clock.now + timedelta(hours=47)
    )
    await operators.set_activation_date(
        svc, Actor.CARRIER, None, edge.sid, clock.now + timedelta(hours=48)
    )
    await operators.set_activation_date(
        svc, Actor.CARRIER, None, far.sid, clock.now + timedelta(hours=48, seconds=1)
    )
    async with refused(svc, 21833, None):
        await port_orders.cancel_port_order(svc, caller, near.sid)
    async with refused(svc, 21833, None):
        await port_orders.cancel_port_order(svc, caller, edge.sid)
    assert (await port_orders.cancel_port_order(svc, caller, far.sid)).status == S.CANCELED


async def test_21814_foc_without_zone(svc: Services) -> None:
    caller = await account(svc)
    order = await submitted(svc, caller)
    async with refused(svc, 21814, "activation_date"):
        await operators.set_activation_date(
            svc, Actor.CARRIER, None, order.sid, datetime(2026, 12, 24, 9, 0)
        )


async def test_21837_number_in_an_open_order(svc: Services) -> None:
    caller = await account(svc)
    stranger = await account(svc)
    number = next_number()
    first = await pending(svc, caller, number=number)
    async with refused(svc, 21837, "number"):
        await port_orders.create_port_order(svc, caller, order_input(number=number))
    # another account cannot take it either, in any spelling
    async with refused(svc, 21837, "number"):
        spaced = f"{number[:2]} ({number[2:5]}) {number[5:8]}-{number[8:]}"
        await port_orders.create_port_order(svc, stranger, order_input(number=spaced))
    # nor can an update move another order onto it
    other = await pending(svc, caller)
    async with refused(svc, 21837, "number"):
        await port_orders.update_port_order(svc, caller, other.sid, {"number": number})
    # once the first order is canceled the number is free again
    await port_orders.cancel_port_order(svc, caller, first.sid)
    again = await port_orders.create_port_order(svc, stranger, order_input(number=number))
    assert again.status == S.PENDING


async def test_21838_number_in_inventory(svc: Services) -> None:
    caller = await account(svc)
    done = await moved(svc, await submitted(svc, caller), S.ACCEPTED, S.COMPLETED)
    assert done.incoming_phone_number_sid is not None
    async with refused(svc, 21838, "number"):
        await port_orders.create_port_order(svc, caller, order_input(number=done.number))
    other = await pending(svc, caller)
    async with refused(svc, 21838, "number"):
        await port_orders.update_port_order(svc, caller, other.sid, {"number": done.number})


async def test_21901_loa_sid_invalid(svc: Services) -> None:
    caller = await account(svc)
    order = await pending(svc, caller)
    for bad in ["PX123", "", "px" + order.loa_sid[2:], order.loa_sid + "0", order.sid]:
        async with refused(svc, 21901, "sid"):
            await loas.request_signature(svc, caller, bad)


async def test_21904_sign_an_loa_not_out_for_signature(svc: Services) -> None:
    caller = await account(svc)
    order = await pending(svc, caller)
    async with refused(svc, 21904, "status"):
        await loas.sign(svc, order.loa_sid, signature())
    await port_orders.cancel_port_order(svc, caller, order.sid)  # its LOA is canceled
    async with refused(svc, 21904, "status"):
        await loas.request_signature(svc, caller, order.loa_sid)


async def test_21904_unknown_loa_status_filter(svc: Services) -> None:
    caller = await account(svc)
    async with refused(svc, 21904, "status"):
        await reads.list_loas(svc, caller, LoaFilter(status="done"))


async def test_21822_unknown_status_filter(svc: Services) -> None:
    caller = await account(svc)
    async with refused(svc, 21822, "status"):
        await reads.list_port_orders(svc, caller, PortOrderFilter(status="RECEIVED"))


async def test_status_filters_accept_any_case(svc: Services) -> None:
    caller = await account(svc)
    order = await pending(svc, caller)
    page = await reads.list_port_orders(svc, caller, PortOrderFilter(status="pending"))
    assert [o.sid for o in page.items] == [order.sid]
    loa_page = await reads.list_loas(svc, caller, LoaFilter(status="OPEN"))
    assert [x.sid for x in loa_page.items] == [order.loa_sid]


async def test_21905_signature_already_requested(svc: Services) -> None:
    caller = await account(svc)
    order = await pending(svc, caller)
    await loas.request_signature(svc, caller, order.loa_sid)
    async with refused(svc, 21905, None):
        await loas.request_signature(svc, caller, order.loa_sid)
    await loas.sign(svc, order.loa_sid, signature())
    async with refused(svc, 21905, None):
        await loas.request_signature(svc, caller, order.loa_sid)


@pytest.mark.parametrize(
    ("code", "field", "arg"), [(21826, "AfterSid", "after_sid"), (21825, "BeforeSid", "before_sid")]
)
async def test_cursor_invalid(svc: Services, code: int, field: str, arg: str) -> None:
    caller = await account(svc)
    stranger = await account(svc)
    mine = await pending(svc, caller)
    theirs = await pending(svc, stranger)
    cursor: dict[str, Any]
    for bad in ["nonsense", sids.mint(sids.PORT_ORDER), theirs.sid, mine.loa_sid]:
        cursor = {arg: bad}
        async with refused(svc, code, field):
            await reads.list_port_orders(svc, caller, PortOrderFilter(), **cursor)
    for bad in ["nonsense", theirs.loa_sid, mine.sid]:
        cursor = {arg: bad}
        async with refused(svc, code, field):
            await reads.list_loas(svc, caller, LoaFilter(), **cursor)
    cursor = {arg: mine.sid}
    page = await reads.list_port_orders(svc, caller, PortOrderFilter(), **cursor)
    assert page.items == []


async def test_20404_foreign_sids(svc: Services) -> None:
    owner = await account(svc)
    stranger = await account(svc)
    order = await pending(svc, owner)
    assert await reads.get_port_order(svc, stranger, order.sid) is None
    assert await reads.get_loa(svc, stranger, order.loa_sid) is None
    assert (await reads.order_events(svc, stranger, order.sid)).items == []
    async with refused(svc, 20404, "sid"):
        await port_orders.update_port_order(svc, stranger, order.sid, {"city": "Oakland"})
    async with refused(svc, 20404, "sid"):
        await port_orders.cancel_port_order(svc, stranger, order.sid)
    async with refused(svc, 20404, "sid"):
        await loas.request_signature(svc, stranger, order.loa_sid)
    async with refused(svc, 20404, "account_sid"):
        await port_orders.create_port_order(svc, stranger, order_input(account_sid=owner.sid))
    missing = sids.mint(sids.PORT_ORDER)
    async with refused(svc, 20404, "sid"):
        await port_orders.cancel_port_order(svc, owner, missing)
    async with refused(svc, 20404, "sid"):
        await operators.set_status(svc, Actor.CARRIER, None, missing, S.ACCEPTED)
    async with refused(svc, 20404, "sid"):
        await loas.sign(svc, sids.mint(sids.LOA), signature())
    # the owner still sees everything as it was
    assert (await reads.get_port_order(svc, owner, order.sid)) is not None
    loa = await reads.get_loa(svc, owner, order.loa_sid)
    assert loa is not None and loa.status == LoaStatus.OPEN
    await status_of(svc, order.sid, S.PENDING)


async def test_20404_operator_naming_a_missing_account(svc: Services) -> None:
    op = await operator(svc)
    async with refused(svc, 20404, "account_sid"):
        await port_orders.create_port_order(svc, op, order_input(account_sid="AC" + "0" * 32))
