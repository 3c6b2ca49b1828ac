"""Helpers of the service tests: refusals that must store nothing, orders in a given state."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.porting.errors import PortingError, PortingErrors, as_list
from app.porting.statuses import Actor, PortOrderStatus
from app.services import loas, operators, port_orders
from app.services.context import Caller, Services
from app.store.tables import PortOrder
from tests.builders import order_input, signature
from tests.conftest import snapshot

S = PortOrderStatus
NOT_PORTABLE = "+14155230001"  # the sandbox carrier refuses numbers ending in 0001


@dataclass
class Refusal:
    """What a refused call raised: every (code, field) pair, in order."""

    errors: list[tuple[int, str | None]] = field(default_factory=list)

    @property
    def codes(self) -> list[int]:
        return [code for code, _ in self.errors]


@asynccontextmanager
async def refused(
    svc: Services, code: int, field: str | None = None, *, only: bool = True
) -> AsyncIterator[Refusal]:
    """The block must raise `code` on `field` (alone, unless only=False) and leave every table
    exactly as it was: no row added, removed or changed."""
    before = await snapshot(svc)
    result = Refusal()
    with pytest.raises((PortingError, PortingErrors)) as info:
        yield result
    assert isinstance(info.value, PortingError | PortingErrors)
    result.errors = [(e.code, e.field) for e in as_list(info.value)]
    if only:
        assert result.errors == [(code, field)]
    else:
        assert (code, field) in result.errors
    after = await snapshot(svc)
    assert after == before, "a refused request changed stored data"


class Clock:
    """A settable clock for `svc.clock`."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # a Monday

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> datetime:
        self.now += delta
        return self.now


async def pending(svc: Services, caller: Caller, **overrides: Any) -> PortOrder:
    order = await port_orders.create_port_order(svc, caller, order_input(**overrides))
    assert order.status == S.PENDING
    return order


async def submitted(svc: Services, caller: Caller, raw: dict[str, Any] | None = None) -> PortOrder:
    """An order whose LOA was requested and signed: SUBMITTED."""
    order = await port_orders.create_port_order(svc, caller, raw or order_input())
    await loas.request_signature(svc, caller, order.loa_sid)
    await loas.sign(svc, order.loa_sid, signature())
    return await status_of(svc, order.sid, S.SUBMITTED)


async def moved(svc: Services, order: PortOrder, *path: PortOrderStatus) -> PortOrder:
    """Walk an order along `path` as an operator."""
    for status in path:
        order = await operators.set_status(svc, Actor.OPERATOR, None, order.sid, status)
    return order


async def status_of(svc: Services, sid: str, expected: PortOrderStatus | None = None) -> PortOrder:
    from app.store import queries

    async with svc.db.read() as s:
        order = await queries.port_order(s, sid, None)
    assert order is not None
    if expected is not None:
        assert order.status == expected
    return order
