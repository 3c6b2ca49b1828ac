"""Port Requests through the services, on SQLite and PostgreSQL (CONTRACT.md §11): what a
create writes, numbers taken elsewhere, refusals that store nothing, the derived status kept in
the transaction of every move, the cancel and its refusals, LOAs per group, and who sees what."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from app.porting.statuses import Actor, LoaStatus, PortOrderStatus, PortRequestStatus
from app.services import loa_signing, loas, operators, port_orders, port_requests, reads
from app.services.context import Caller, Services
from app.services.reads import RequestView
from app.store.queries import PortOrderFilter, PortRequestFilter
from app.store.tables import Delivery, Event
from tests.builders import account, mobile_input, numbers, operator, request_input, signature
from tests.conftest import snapshot
from tests.services.helpers import NOT_PORTABLE, Clock, refused, status_of
from tests.services.test_tenancy import account_again

S = PortOrderStatus
R = PortRequestStatus
CALLBACK = "https://hooks.example.com/porting"


async def rows(svc: Services, model: Any) -> list[Any]:
    async with svc.db.read() as s:
        return list((await s.execute(select(model).order_by(model.id))).scalars())


def sids_of(view: RequestView) -> list[str]:
    assert view.numbers is not None
    return [n.port_order_sid for n in view.numbers if n.port_order_sid is not None]


async def test_a_create_writes_each_order_its_events_and_deliveries(svc: Services) -> None:
    caller = await account(svc)
    given = numbers(3)
    view = await port_requests.create_port_request(
        svc, caller, request_input(given, status_callback=CALLBACK)
    )
    row = view.row
    assert row.sid.startswith("PR") and len(row.sid) == 34
    assert (row.status, row.number_count, row.account_sid) == ("PENDING", 3, caller.sid)
    assert row.counts["PENDING"] == 3 and sum(row.counts.values()) == 3
    assert view.numbers is not None
    assert [(n.number, n.status, n.errors) for n in view.numbers] == [
        (number, S.PENDING, ()) for number in given
    ]
    orders = (await reads.list_port_orders(svc, caller, PortOrderFilter())).items
    assert {o.sid for o in orders} == set(sids_of(view))
    assert {(o.port_request_sid, o.status, o.status_callback) for o in orders} == {
        (row.sid, "PENDING", CALLBACK)
    }
    assert len({o.loa_sid for o in orders}) == 1 and view.loa_sids == [orders[0].loa_sid]

    events = await rows(svc, Event)
    timeline = Counter((e.resource_type, e.type, e.payload["status"]) for e in events)
    assert timeline == {
        ("port_order", "port_order.created", "CREATED"): 3,
        ("port_order", "port_order.status_changed", "PENDING"): 3,
        ("port_request", "port_request.created", "PENDING"): 1,
    }
    assert {e.port_request_sid for e in events} == {row.sid}
    request_event = next(e for e in events if e.resource_type == "port_request")
    assert request_event.payload == {
        "port_request_sid": row.sid,
        "callback_type": ["port_request_status_update"],
        "status": "PENDING",
        "counts": row.counts,
        "date_updated": request_event.payload["date_updated"],
    }
    # each order's callbacks and mail as a single create writes them, plus the request's
    deliveries = await rows(svc, Delivery)
    kinds = Counter((d.channel, d.kind, d.port_order_sid is None) for d in deliveries)
    assert kinds == {
        ("callback", "status_callback", False): 6,
        ("email", "status_update", False): 3,
        ("callback", "status_callback", True): 1,
    }
    assert {tuple(e.payload["callback_type"]) for e in events} == {
        ("status_update",),
        ("port_request_status_update",),
    }
    # an order created alone belongs to no request
    single = await port_orders.create_port_order(
        svc, caller, {**request_input(), "number": numbers(1)[0]}
    )
    assert single.port_request_sid is None


async def test_numbers_taken_elsewhere_or_not_portable_are_left_out(svc: Services) -> None:
    caller, other = await account(svc), await account(svc)
    held, ported, free = numbers(3)
    await port_orders.create_port_order(svc, other, {**request_input(), "number": held})
    done = await port_orders.create_port_order(svc, other, {**request_input(), "number": ported})
    await operators.set_status(svc, Actor.OPERATOR, None, done.sid, S.REVIEW)
    await operators.set_status(svc, Actor.OPERATOR, None, done.sid, S.COMPLETED)
    view = await port_requests.create_port_request(
        svc, caller, request_input([held, ported, NOT_PORTABLE, free])
    )
    assert view.numbers is not None
    assert [(n.number, n.status, [e.code for e in n.errors]) for n in view.numbers] == [
        (held, None, [21837]),
        (ported, None, [21838]),
        (NOT_PORTABLE, None, [21827]),
        (free, S.PENDING, []),
    ]
    assert "not portable" in view.numbers[2].errors[0].message
    assert view.row.number_count == 4 and view.row.counts["PENDING"] == 1
    # the stored request says the same
    again = await reads.get_port_request(svc, caller, view.row.sid)
    assert again is not None and again.numbers == view.numbers


async def test_refused_requests_store_nothing(svc: Services) -> None:
    caller = await account(svc)
    taken = (await port_requests.create_port_request(svc, caller, request_input())).numbers
    assert taken is not None and taken[0].number is not None
    busy = taken[0].number
    cases: list[tuple[dict[str, Any], int, str | None]] = [
        (request_input(email="nope"), 21818, "email"),
        (request_input([]), 21840, "numbers"),
        (request_input(numbers(1001)), 21841, "numbers"),
        (request_input(["bad", busy]), 21812, "numbers[0].number"),  # no number left
        (request_input([*numbers(2), busy], all_or_nothing=True), 21837, "numbers[2].number"),
        (request_input([*numbers(2), "+1"], all_or_nothing="true"), 21812, "numbers[2].number"),
        (request_input(all_or_nothing="maybe"), 20001, "all_or_nothing"),
    ]
    for raw, code, field in cases:
        async with refused(svc, code, field, only=False) as refusal:
            await port_requests.create_port_request(svc, caller, raw)
        assert refusal.errors[0] == (code, field)


async def test_the_status_follows_every_move_in_its_transaction(svc: Services) -> None:
    caller = await account(svc)
    view = await port_requests.create_port_request(svc, caller, request_input(numbers(3)))
    first, second, third = sids_of(view)
    sid = view.row.sid

    async def request_events() -> list[tuple[str, str]]:
        found = [e for e in await rows(svc, Event) if e.resource_type == "port_request"]
        return [(e.type, e.payload["status"]) for e in found]

    async def status() -> str:
        got = await reads.get_port_request(svc, caller, sid)
        assert got is not None
        return got.row.status

    (loa_sid,) = view.loa_sids
    await loas.request_signature(svc, caller, loa_sid)
    await loas.sign(svc, loa_sid, signature())  # one transaction submits all three: one change
    assert await request_events() == [
        ("port_request.created", "PENDING"),
        ("port_request.status_changed", "IN_PROGRESS"),
    ]
    await operators.set_status(svc, Actor.OPERATOR, None, first, S.REVIEW)
    assert await status() == "ACTION_REQUIRED"
    await operators.set_status(svc, Actor.OPERATOR, None, first, S.COMPLETED)
    assert await status() == "IN_PROGRESS"
    await operators.set_status(svc, Actor.OPERATOR, None, second, S.ACCEPTED)
    await operators.set_status(svc, Actor.OPERATOR, None, second, S.COMPLETED)
    events_before = len(await request_events())
    await operators.set_status(svc, Actor.OPERATOR, None, third, S.ACCEPTED)  # no new status
    assert len(await request_events()) == events_before
    await operators.set_status(svc, Actor.OPERATOR, None, third, S.FAILED)
    got = await reads.get_port_request(svc, caller, sid)
    assert got is not None
    assert (got.row.status, got.row.counts["COMPLETED"], got.row.counts["FAILED"]) == (
        "PARTIALLY_COMPLETED",
        2,
        1,
    )
    assert [s for _, s in await request_events()] == [
        "PENDING",
        "IN_PROGRESS",
        "ACTION_REQUIRED",
        "IN_PROGRESS",
        "PARTIALLY_COMPLETED",
    ]
    listed = await reads.list_port_requests(svc, caller, PortRequestFilter("partially_completed"))
    assert [r.sid for r in listed.items] == [sid]


async def test_cancel_keeps_the_orders_the_rules_refuse(svc: Services) -> None:
    clock = Clock()
    svc.clock = clock
    caller = await account(svc)
    a, b, c, d = numbers(4)
    secrets = {k: v for k, v in mobile_input().items() if k in ("account_number", "pin_number")}
    entries = [
        {"number": a, "port_type": "LANDLINE"},  # its own LOA, never signed: PENDING
        {"number": b, "port_type": "MOBILE", "ssn_last_four": "1234", **secrets},
        c,
        d,
    ]
    view = await port_requests.create_port_request(svc, caller, request_input(entries))
    pending_sid, mobile_sid, done_sid, near_sid = sids_of(view)
    assert len(view.loa_sids) == 3
    for sid in (mobile_sid, done_sid):
        order = await status_of(svc, sid)
        await loas.request_signature(svc, caller, order.loa_sid)
        await loas.sign(svc, order.loa_sid, signature())
    await operators.set_status(svc, Actor.OPERATOR, None, done_sid, S.REVIEW)
    await operators.set_status(svc, Actor.OPERATOR, None, done_sid, S.COMPLETED)
    soon = clock.now + timedelta(days=1)
    await operators.set_activation_date(svc, Actor.OPERATOR, None, near_sid, soon)

    canceled = await port_requests.cancel_port_request(svc, caller, view.row.sid)
    assert canceled.numbers is not None
    assert [(n.port_order_sid, n.status, [e.code for e in n.errors]) for n in canceled.numbers] == [
        (pending_sid, S.CANCELED, []),
        (mobile_sid, S.SUBMITTED, [21832]),
        (done_sid, S.COMPLETED, [21830]),
        (near_sid, S.SUBMITTED, [21833]),
    ]
    assert canceled.row.status == "IN_PROGRESS"
    assert canceled.row.counts["CANCELED"] == 1
    pending_order = await status_of(svc, pending_sid, S.CANCELED)
    assert (await reads.get_loa(svc, caller, pending_order.loa_sid)).status == LoaStatus.CANCELED  # type: ignore[union-attr]
    # again: nothing more to cancel, each number says why
    again = await port_requests.cancel_port_request(svc, caller, view.row.sid)
    assert again.numbers is not None
    assert [[e.code for e in n.errors] for n in again.numbers] == [
        [21830],
        [21832],
        [21830],
        [21833],
    ]


async def test_a_number_joins_the_open_loa_of_its_group(svc: Services) -> None:
    caller = await account(svc)
    alone = await port_orders.create_port_order(
        svc, caller, {**request_input(), "number": numbers(1)[0]}
    )
    given = numbers(4)
    entries: list[Any] = [
        given[0],
        given[1],
        {"number": given[2], "port_type": "LANDLINE"},
        given[3],
    ]
    view = await port_requests.create_port_request(svc, caller, request_input(entries))
    assert view.loa_sids[0] == alone.loa_sid and len(view.loa_sids) == 2
    await loas.request_signature(svc, caller, alone.loa_sid)
    signing = [d for d in await rows(svc, Delivery) if d.kind == "loa_signature"]
    assert [d.loa_sid for d in signing] == [alone.loa_sid]  # one mail for the LOA
    link = loa_signing.signing_link(svc, alone.loa_sid)
    letter = await loa_signing.open_letter(svc, link.rsplit("/", 1)[1])
    shown = [n.split(" (")[0].replace(" ", "").replace("-", "") for n in letter.numbers]
    assert shown == [alone.number, given[0], given[1], given[3]]


async def test_who_sees_and_cancels_a_request(svc: Services) -> None:
    parent = await account(svc)
    sub = await account(svc, parent=parent)
    parent = await account_again(svc, parent)
    stranger = await account(svc)
    mine = await port_requests.create_port_request(svc, parent, request_input())
    subs = await port_requests.create_port_request(svc, parent, request_input(account_sid=sub.sid))
    assert subs.row.account_sid == sub.sid

    async def listed(caller: Caller) -> list[str]:
        page = await reads.list_port_requests(svc, caller, PortRequestFilter())
        return [r.sid for r in page.items]

    assert await listed(parent) == [subs.row.sid, mine.row.sid]
    assert await listed(sub) == [subs.row.sid]
    assert await listed(stranger) == []
    assert await listed(await operator(svc)) == [subs.row.sid, mine.row.sid]
    for caller, view, visible in [
        (parent, subs, True),
        (sub, subs, True),
        (sub, mine, False),
        (stranger, mine, False),
    ]:
        assert (await reads.get_port_request(svc, caller, view.row.sid) is not None) is visible
        only = PortOrderFilter(port_request_sid=view.row.sid)
        found = (await reads.list_port_orders(svc, caller, only)).items
        assert bool(found) is visible
    async with refused(svc, 20404, "sid"):
        await port_requests.cancel_port_request(svc, stranger, mine.row.sid)
    async with refused(svc, 20404, "sid"):
        await port_requests.cancel_port_request(svc, sub, mine.row.sid)
    async with refused(svc, 20404, "sid"):
        await port_requests.cancel_port_request(svc, parent, "PR" + "0" * 32)
    async with refused(svc, 20404, "account_sid"):
        await port_requests.create_port_request(svc, sub, request_input(account_sid=parent.sid))
    async with refused(svc, 20404, "account_sid"):
        await port_requests.create_port_request(svc, stranger, request_input(account_sid=sub.sid))
    op = await operator(svc)
    async with refused(svc, 20001, "account_sid"):
        await port_requests.create_port_request(svc, op, request_input())
    made = await port_requests.create_port_request(svc, op, request_input(account_sid=sub.sid))
    assert made.row.account_sid == sub.sid
    assert (
        await port_requests.cancel_port_request(svc, parent, subs.row.sid)
    ).row.status == "CANCELED"


async def test_a_portability_check_stores_nothing(svc: Services) -> None:
    caller = await account(svc)
    view = await port_requests.create_port_request(svc, caller, request_input())
    assert view.numbers is not None and view.numbers[0].number is not None
    open_number = view.numbers[0].number
    before = await snapshot(svc)
    free = numbers(1)[0]
    results = await port_requests.check_portability(
        svc, caller, {"numbers": [free, open_number, NOT_PORTABLE, "x", "+447400123456"]}
    )
    assert [(r.number, r.portable, r.not_portable_reason_code) for r in results] == [
        (free, True, None),
        (open_number, False, 21837),
        (NOT_PORTABLE, False, 21827),
        ("x", False, 21812),
        ("+447400123456", True, None),
    ]
    assert results[0].current_carrier is not None
    assert results[4].pin_and_account_number_required
    assert await snapshot(svc) == before
    async with refused(svc, 21841, "numbers"):
        await port_requests.check_portability(svc, caller, {"numbers": numbers(1001)})
    async with refused(svc, 21840, "numbers"):
        await port_requests.check_portability(svc, caller, {})
