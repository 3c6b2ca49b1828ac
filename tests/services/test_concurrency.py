"""Concurrency (issue 2, item 13): two concurrent transitions of one order, exactly one wins and
the other gets a clear error; two concurrent creates for one number, one order and 21837.
Each race runs through two Services instances (two engines) and truly overlaps (overlap.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from app.porting.errors import PortingError
from app.porting.statuses import Actor, LoaStatus, PortOrderStatus
from app.services import loas, operators, port_orders, reads
from app.services.context import Caller, Services
from app.store.queries import LoaFilter, PortOrderFilter
from app.store.tables import PortOrder
from app.wiring import build_services
from tests.builders import account, next_number, operator, order_input, signature
from tests.services.helpers import pending, status_of
from tests.services.overlap import race

S = PortOrderStatus


@pytest.fixture
async def svc2(svc: Services) -> AsyncIterator[Services]:
    other = build_services(svc.settings)
    try:
        yield other
    finally:
        await other.close()


def one_winner(results: list[object], *codes: int) -> tuple[object, PortingError]:
    errors = [r for r in results if isinstance(r, BaseException)]
    assert len(errors) == 1, results
    error = errors[0]
    assert isinstance(error, PortingError), repr(error)
    assert error.code in codes, error
    winner = next(r for r in results if not isinstance(r, BaseException))
    return winner, error


async def status_events(svc: Services, caller: Caller, sid: str) -> list[str]:
    events = (await reads.order_events(svc, caller, sid)).items
    return [e.payload["status"] for e in events if e.type == "port_order.status_changed"]


async def test_two_cancels(svc: Services, svc2: Services) -> None:
    caller = await account(svc)
    order = await pending(svc, caller)
    results, _ = await race(
        svc,
        svc2,
        lambda s: port_orders.cancel_port_order(s, caller, order.sid),
        lambda s: port_orders.cancel_port_order(s, caller, order.sid),
    )
    one_winner(results, 21830, 20409)
    await status_of(svc, order.sid, S.CANCELED)
    assert await status_events(svc, caller, order.sid) == ["PENDING", "CANCELED"]


async def test_cancel_against_operator_failure(svc: Services, svc2: Services) -> None:
    caller = await account(svc)
    order = await pending(svc, caller)
    results, overlap = await race(
        svc,
        svc2,
        lambda s: port_orders.cancel_port_order(s, caller, order.sid),
        lambda s: operators.set_status(s, Actor.OPERATOR, None, order.sid, S.FAILED),
    )
    winner, error = one_winner(results, 21830, 21822, 20409)
    assert isinstance(winner, PortOrder)
    final = await status_of(svc, order.sid)
    assert final.status == winner.status
    assert winner.status == (S.CANCELED if overlap.first == "a" else S.FAILED)
    assert await status_events(svc, caller, order.sid) == ["PENDING", winner.status]


async def test_two_signature_requests(svc: Services, svc2: Services) -> None:
    caller = await account(svc)
    order = await pending(svc, caller)
    results, _ = await race(
        svc,
        svc2,
        lambda s: loas.request_signature(s, caller, order.loa_sid),
        lambda s: loas.request_signature(s, caller, order.loa_sid),
    )
    one_winner(results, 21905, 20409)
    loa = await reads.get_loa(svc, caller, order.loa_sid)
    assert loa is not None and loa.status == LoaStatus.SIGNING


@pytest.mark.parametrize("signer_first", [True, False])
async def test_sign_against_cancel_of_one_of_its_orders(
    svc: Services, svc2: Services, signer_first: bool
) -> None:
    """Different rows claimed in different orders (the LOA then its orders; an order then,
    maybe, its LOA). Both succeed: a claim that finds its row changed meanwhile, or a deadlock
    PostgreSQL breaks, runs that use case again on fresh rows."""
    caller = await account(svc)
    a = await pending(svc, caller)
    b = await pending(svc, caller)
    await loas.request_signature(svc, caller, a.loa_sid)
    sign = lambda s: loas.sign(s, a.loa_sid, signature())  # noqa: E731
    cancel = lambda s: port_orders.cancel_port_order(s, caller, b.sid)  # noqa: E731
    pair = (sign, cancel) if signer_first else (cancel, sign)
    results, _ = await race(svc, svc2, *pair)
    assert not [r for r in results if isinstance(r, BaseException)], results
    await status_of(svc, a.sid, S.SUBMITTED)
    await status_of(svc, b.sid, S.CANCELED)  # a landline order cancels after submission too


async def test_two_updates_one_is_told_to_retry(svc: Services, svc2: Services) -> None:
    """Each update merges its input over the order as it read it; the later one must not
    silently undo the earlier one (a lost update)."""
    caller = await account(svc)
    order = await pending(svc, caller)
    results, _ = await race(
        svc,
        svc2,
        lambda s: port_orders.update_port_order(s, caller, order.sid, {"company_name": "Acme"}),
        lambda s: port_orders.update_port_order(
            s, caller, order.sid, {"friendly_name": "Main line"}
        ),
    )
    winner, error = one_winner(results, 20409)
    assert isinstance(winner, PortOrder)
    final = await status_of(svc, order.sid)
    assert (final.company_name, final.friendly_name) == (winner.company_name, winner.friendly_name)
    assert final.version == order.version + 1


@pytest.mark.parametrize("same_account", [True, False])
async def test_two_creates_for_one_number(
    svc: Services, svc2: Services, same_account: bool
) -> None:
    first = await account(svc)
    second = first if same_account else await account(svc)
    number = next_number()
    results, _ = await race(
        svc,
        svc2,
        lambda s: port_orders.create_port_order(s, first, order_input(number=number)),
        lambda s: port_orders.create_port_order(s, second, order_input(number=number)),
    )
    winner, error = one_winner(results, 21837)
    assert error.field == "number"
    op = await operator(svc)
    page = await reads.list_port_orders(svc, op, PortOrderFilter(number=number))
    assert [o.sid for o in page.items] == [winner.sid]  # type: ignore[attr-defined]
    loa_page = await reads.list_loas(svc, op, LoaFilter())
    assert len(loa_page.items) == 1  # the loser left no LOA behind


async def test_many_concurrent_creates_for_distinct_numbers(svc: Services, svc2: Services) -> None:
    """Unrelated writers through two engines do not fail each other (no 20409, no lock error)."""
    caller = await account(svc)
    jobs = [
        port_orders.create_port_order(s, caller, order_input())
        for s in (svc, svc2)
        for _ in range(5)
    ]
    orders = await asyncio.gather(*jobs)
    assert len({o.loa_sid for o in orders}) == 1  # one group, one LOA, even when racing
    assert all(o.status == S.PENDING for o in orders)
