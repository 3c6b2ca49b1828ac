"""Lists of SPEC section 8: every filter, and keyset pagination (newest first) that stays stable
while rows are being inserted: no duplicates, no gaps, forward and backward."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update
from sqlmodel import col

from app.porting.statuses import Actor, PortOrderStatus
from app.services import loas, operators, port_orders, reads
from app.services.context import Caller, Services
from app.store import events as event_log
from app.store.queries import LoaFilter, PortOrderFilter
from app.store.tables import Event, PortOrder
from app.wiring import build_services
from tests.builders import account, foc, order_input, signature
from tests.services.helpers import Clock, pending, submitted

S = PortOrderStatus
ALL = PortOrderFilter()

# What a walk runs between two pages (another request, say).
Between = Callable[[], Awaitable[object]]


@pytest.fixture
async def svc2(svc: Services) -> AsyncIterator[Services]:
    other = build_services(svc.settings)
    try:
        yield other
    finally:
        await other.close()


async def sids(svc: Services, caller: Caller, f: PortOrderFilter = ALL) -> list[str]:
    page = await reads.list_port_orders(svc, caller, f, page_size=1000)
    return [o.sid for o in page.items]


async def walk_forward(
    svc: Services, caller: Caller, size: int, between_pages: Between | None = None
) -> list[str]:
    seen: list[str] = []
    page = await reads.list_port_orders(svc, caller, ALL, page_size=size)
    while True:
        seen += [o.sid for o in page.items]
        if not page.has_more:
            return seen
        if between_pages:
            await between_pages()
        page = await reads.list_port_orders(svc, caller, ALL, page_size=size, after_sid=seen[-1])


async def walk_backward(
    svc: Services, caller: Caller, size: int, start: str, between_pages: Between | None = None
) -> list[str]:
    """From `start` towards the newest rows; returns them in list order (newest first)."""
    seen: list[str] = []
    cursor = start
    while True:
        page = await reads.list_port_orders(svc, caller, ALL, page_size=size, before_sid=cursor)
        assert page.backward
        seen = [o.sid for o in page.items] + seen
        if not page.has_more:
            return seen
        if between_pages:
            await between_pages()
        cursor = page.items[0].sid


async def test_pages_forward_and_backward(svc: Services) -> None:
    caller = await account(svc)
    made = [(await pending(svc, caller)).sid for _ in range(7)]
    newest_first = made[::-1]
    assert await sids(svc, caller) == newest_first
    first = await reads.list_port_orders(svc, caller, ALL, page_size=3)
    assert ([o.sid for o in first.items], first.has_more) == (newest_first[:3], True)
    last = await reads.list_port_orders(svc, caller, ALL, page_size=3, after_sid=made[1])
    assert ([o.sid for o in last.items], last.has_more) == ([made[0]], False)
    back = await reads.list_port_orders(svc, caller, ALL, page_size=3, before_sid=made[0])
    assert ([o.sid for o in back.items], back.has_more) == ([made[3], made[2], made[1]], True)
    top = await reads.list_port_orders(svc, caller, ALL, page_size=3, before_sid=made[3])
    assert ([o.sid for o in top.items], top.has_more) == ([made[6], made[5], made[4]], False)
    assert await walk_forward(svc, caller, 2) == newest_first
    assert await walk_backward(svc, caller, 2, made[0]) == newest_first[:-1]
    # page sizes are capped, never zero
    one = await reads.list_port_orders(svc, caller, ALL, page_size=0)
    assert len(one.items) == 1


async def test_walks_stay_stable_while_rows_are_inserted(svc: Services, svc2: Services) -> None:
    caller = await account(svc)
    initial = [(await pending(svc, caller)).sid for _ in range(9)]
    inserted: list[str] = []

    async def insert_one() -> None:  # another writer, through its own engine
        inserted.append((await port_orders.create_port_order(svc2, caller, order_input())).sid)

    forward = await walk_forward(svc, caller, 2, insert_one)
    assert forward == initial[::-1]  # newer rows land before the walk's start: not in it
    assert len(inserted) == 4

    backward = await walk_backward(svc, caller, 2, initial[0], insert_one)
    assert len(backward) == len(set(backward))
    # every row newer than the start, the ones inserted during the walk included, in order
    everything = await sids(svc, caller)
    assert backward == everything[: everything.index(initial[0])]
    assert set(inserted) <= set(backward)


async def test_concurrent_writers_and_a_reader(svc: Services, svc2: Services) -> None:
    """Writers and a walking reader run at once (not turn by turn)."""
    caller = await account(svc)
    initial = [(await pending(svc, caller)).sid for _ in range(6)]

    async def writer(s: Services) -> None:
        for _ in range(4):
            await port_orders.create_port_order(s, caller, order_input())

    async def reader() -> tuple[list[str], list[str]]:
        fwd = await walk_forward(svc, caller, 2, lambda: asyncio.sleep(0))
        bwd = await walk_backward(svc, caller, 2, initial[0], lambda: asyncio.sleep(0))
        return fwd, bwd

    _, _, (fwd, bwd) = await asyncio.gather(writer(svc), writer(svc2), reader())
    everything = await sids(svc, caller)
    assert len(everything) == 14
    # forward: a contiguous run of the list, ending at the oldest row
    assert fwd == everything[everything.index(fwd[0]) :]
    assert set(initial) <= set(fwd)
    # backward: a contiguous run from just above the start
    start = everything.index(initial[0])
    assert bwd == everything[start - len(bwd) : start]


async def _hold_the_first_create(
    svc: Services, svc2: Services, caller: Caller, monkeypatch: pytest.MonkeyPatch
) -> tuple[asyncio.Task[PortOrder], asyncio.Task[PortOrder], asyncio.Event]:
    """Order A's events are written (its transaction has written, so they have their ids) and
    its transaction held open; then order B is created through another engine. Returns the two
    create tasks and A's release."""
    a_inserted, release = asyncio.Event(), asyncio.Event()
    real = event_log.write_recorded
    holder: dict[str, asyncio.Task[PortOrder] | None] = {"a": None}

    async def write_recorded(tx: Any) -> None:
        await real(tx)
        if asyncio.current_task() is holder["a"] and not a_inserted.is_set():
            a_inserted.set()  # A's event rows are written: they have ids, A its transaction id
            await release.wait()

    monkeypatch.setattr(event_log, "write_recorded", write_recorded)
    a = asyncio.create_task(port_orders.create_port_order(svc, caller, order_input()))
    holder["a"] = a
    await asyncio.wait_for(a_inserted.wait(), 20)
    b = asyncio.create_task(port_orders.create_port_order(svc2, caller, order_input()))
    return a, b, release


async def test_sqlite_writers_take_turns(
    svc: Services, svc2: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite has one writer: B waits for A, so rows commit in id order and a keyset cursor
    taken mid-flight misses nothing."""
    if not svc.db.is_sqlite:
        return  # PostgreSQL: test_postgres_writers_of_different_orders_overlap
    caller = await account(svc)
    oldest = (await pending(svc, caller)).sid
    a, b, release = await _hold_the_first_create(svc, svc2, caller, monkeypatch)
    await asyncio.sleep(0.2)
    seen_now = await sids(svc, caller)
    assert seen_now == [oldest]
    assert not b.done()
    release.set()
    order_a, order_b = await asyncio.gather(a, b)
    everything = await sids(svc, caller)
    assert everything == [order_b.sid, order_a.sid, oldest]
    assert await walk_backward(svc, caller, 1, oldest) == everything[:2]


async def test_postgres_writers_of_different_orders_overlap(
    svc: Services, svc2: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No global write lock: B commits while A's transaction is still open. The event log's
    readers still miss nothing: a live subscriber and one replaying from a cursor taken while
    A was open each get A's and B's events exactly once, in log order (A's first: its
    transaction began first), and B's only once A has ended."""
    if svc.db.is_sqlite:
        return  # SQLite: test_sqlite_writers_take_turns
    caller = await account(svc)
    oldest = await pending(svc, caller)
    cursor = (await reads.order_events(svc, caller, oldest.sid)).items[-1].id
    assert cursor is not None
    live: list[Event] = []

    async def follow(into: list[Event], after: int | None) -> None:
        stream = svc.hub.events(visible=caller.visible, resource_type="port_order", after=after)
        async for event in stream:
            into.append(event)

    await svc.hub.start()
    followers = [asyncio.create_task(follow(live, None))]
    a, b, release = await _hold_the_first_create(svc, svc2, caller, monkeypatch)
    order_b = await asyncio.wait_for(b, 20)  # committed while A is open
    assert not a.done()
    replayed: list[Event] = []
    followers.append(asyncio.create_task(follow(replayed, cursor)))
    await asyncio.sleep(0.3)
    assert live == [] and replayed == []  # B's events wait behind A's open transaction
    release.set()
    order_a = await a
    expected = 4  # each create: port_order.created, then the move to PENDING
    for _ in range(200):
        if len(live) >= expected and len(replayed) >= expected:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.2)  # (nothing more may arrive)
    for task in followers:
        task.cancel()
    await asyncio.gather(*followers, return_exceptions=True)
    for got in (live, replayed):
        assert [e.resource_sid for e in got] == [order_a.sid] * 2 + [order_b.sid] * 2
        assert len({e.id for e in got}) == expected
    listed = await sids(svc, caller)  # (A's order row is written at its commit, after B's)
    assert set(listed[:2]) == {order_a.sid, order_b.sid} and listed[2:] == [oldest.sid]


async def set_columns(svc: Services, sid: str, **values: object) -> None:
    """Operator-only columns have no service yet: set them directly for the filter tests."""
    async with svc.db.write() as tx:
        await tx.execute(update(PortOrder).where(col(PortOrder.sid) == sid).values(**values))


async def test_every_port_order_filter(svc: Services) -> None:
    clock = Clock()
    svc.clock = clock
    caller = await account(svc)
    a = await pending(
        svc,
        caller,
        company_name="Acme",
        friendly_name="Front desk",
        activation_date=(clock.now + timedelta(days=10)).isoformat(),
    )
    b = await pending(svc, caller, email="ops@example.com")
    c = await submitted(svc, caller, order_input(street="1 Market St", postal_code="94105"))
    c = await operators.set_status(svc, Actor.CARRIER, None, c.sid, S.ACCEPTED)
    c = await operators.set_status(svc, Actor.CARRIER, None, c.sid, S.COMPLETED)
    await set_columns(svc, b.sid, provider_sid="PR-1", zendesk_id="ZD-9")
    day = timedelta(days=1)
    foc = a.activation_date
    assert foc is not None
    cases: list[tuple[PortOrderFilter, list[str]]] = [
        (PortOrderFilter(sid=b.sid), [b.sid]),
        (PortOrderFilter(account_sid=caller.sid), [c.sid, b.sid, a.sid]),
        (PortOrderFilter(company_name="Acme"), [a.sid]),
        (PortOrderFilter(email="ops@example.com"), [b.sid]),
        (PortOrderFilter(loa_sid=a.loa_sid), [a.sid]),  # b's signer email differs
        (PortOrderFilter(provider_sid="PR-1"), [b.sid]),
        (PortOrderFilter(zendesk_id="ZD-9"), [b.sid]),
        (PortOrderFilter(activation_date_min=foc), [a.sid]),  # on or after
        (PortOrderFilter(activation_date_min=foc + day), []),
        (PortOrderFilter(activation_date_max=foc), [a.sid]),  # on or before
        (PortOrderFilter(activation_date_max=foc - day), []),
        (PortOrderFilter(incoming_phone_number_sid=c.incoming_phone_number_sid), [c.sid]),
        (PortOrderFilter(number=b.number), [b.sid]),
        (PortOrderFilter(status="completed"), [c.sid]),
        (PortOrderFilter(status="PENDING"), [b.sid, a.sid]),
        (PortOrderFilter(friendly_name="Front desk"), [a.sid]),
        (PortOrderFilter(status="PENDING", email="ops@example.com"), [b.sid]),
    ]
    for f, expected in cases:
        assert await sids(svc, caller, f) == expected, f


async def test_every_loa_filter(svc: Services) -> None:
    caller = await account(svc)
    a = await pending(svc, caller)
    b = await pending(svc, caller, first_name="Ana", last_name="Lee", email="ana@example.com")
    await loas.request_signature(svc, caller, b.loa_sid)
    await loas.sign(svc, b.loa_sid, signature())

    async def loa_sids(f: LoaFilter) -> list[str]:
        return [x.sid for x in (await reads.list_loas(svc, caller, f)).items]

    assert await loa_sids(LoaFilter()) == [b.loa_sid, a.loa_sid]
    assert await loa_sids(LoaFilter(sid=a.loa_sid)) == [a.loa_sid]
    assert await loa_sids(LoaFilter(status="signed")) == [b.loa_sid]
    assert await loa_sids(LoaFilter(status="Open")) == [a.loa_sid]
    assert await loa_sids(LoaFilter(first_name="Ana")) == [b.loa_sid]
    assert await loa_sids(LoaFilter(last_name="Smith")) == [a.loa_sid]
    assert await loa_sids(LoaFilter(email="ana@example.com")) == [b.loa_sid]
    first = await reads.list_loas(svc, caller, LoaFilter(), page_size=1)
    assert ([x.sid for x in first.items], first.has_more) == ([b.loa_sid], True)
    rest = await reads.list_loas(svc, caller, LoaFilter(), page_size=1, after_sid=b.loa_sid)
    assert ([x.sid for x in rest.items], rest.has_more) == ([a.loa_sid], False)
    up = await reads.list_loas(svc, caller, LoaFilter(), page_size=1, before_sid=a.loa_sid)
    assert ([x.sid for x in up.items], up.has_more) == ([b.loa_sid], False)


async def test_activation_date_filters_compare_instants(svc: Services) -> None:
    caller = await account(svc)
    asked = foc(10, "09:00:00", "-08:00")
    when = datetime.fromisoformat(asked).astimezone(UTC)
    order = await pending(svc, caller, activation_date=asked)
    assert order.activation_date == when
    assert await sids(svc, caller, PortOrderFilter(activation_date_min=when)) == [order.sid]
    later = when + timedelta(seconds=1)
    assert await sids(svc, caller, PortOrderFilter(activation_date_min=later)) == []
