"""What a create writes, and with how many statements (app/store/events.py `write_recorded`):
on PostgreSQL the order, its events and their deliveries go in one statement after the number
check; on SQLite one INSERT per table. A flush before the use case is done (an idempotent
create's) writes the order first, so rows that refer to it (a rejection's error) follow it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, select
from sqlmodel import col

from app.services import idempotency, port_orders
from app.services.context import Services
from app.store.tables import Delivery, Event, PortOrder, PortOrderError
from tests.builders import order_input, tenant
from tests.services.helpers import NOT_PORTABLE


@contextmanager
def written(svc: Services) -> Iterator[list[str]]:
    """The statements the writer runs meanwhile (not BEGIN / COMMIT)."""
    seen: list[str] = []

    def hear(_c: Any, _cur: Any, statement: str, *_rest: Any) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            seen.append(statement)

    engine = svc.db.write_engine.sync_engine
    event.listen(engine, "before_cursor_execute", hear)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", hear)


async def _rows(svc: Services, sid: str) -> tuple[PortOrder, list[Event], list[Delivery]]:
    async with svc.db.read() as s:
        order = (await s.execute(select(PortOrder).where(col(PortOrder.sid) == sid))).scalar_one()
        found = await s.execute(
            select(Event).where(col(Event.resource_sid) == sid).order_by(col(Event.id))
        )
        evs = list(found.scalars())
        ids = [e.id for e in evs]
        dels = await s.execute(select(Delivery).where(col(Delivery.event_id).in_(ids)))
        return order, evs, list(dels.scalars())


async def test_a_create_writes_its_rows_in_one_statement_on_postgres(svc: Services) -> None:
    owner = await tenant(svc)
    await port_orders.create_port_order(svc, owner.caller, order_input())  # the group's LOA
    with written(svc) as seen:
        order = await port_orders.create_port_order(svc, owner.caller, order_input())
    postgres = svc.db.dialect == "postgresql"
    # the number check; then the order, its two events and the status mail's delivery
    assert len(seen) == (2 if postgres else 4), seen
    stored, evs, dels = await _rows(svc, order.sid)
    assert (stored.id, stored.version, stored.status) == (order.id, 1, "PENDING")
    assert [e.type for e in evs] == ["port_order.created", "port_order.status_changed"]
    assert [(d.event_id, d.kind, d.port_order_sid) for d in dels] == [
        (evs[1].id, "status_update", order.sid)
    ]
    # The instance returned is the row, persistent: a change to it is an UPDATE of that row.
    async with svc.transaction() as tx:
        again = await tx.get(PortOrder, order.id)
        assert again is not None and again.sid == order.sid


async def test_rejected_creates_write_the_order_before_its_error(svc: Services) -> None:
    owner = await tenant(svc)
    plain = await port_orders.create_port_order(svc, owner.caller, order_input(number=NOT_PORTABLE))
    assert plain.status == "REJECTED"

    def render(order: PortOrder, errors: Any) -> tuple[int, str]:
        return 201, json.dumps({"sid": order.sid, "codes": [e.code for e in errors]})

    # The idempotent create flushes (to read the errors back) before its events are written.
    await port_orders.cancel_port_order(svc, owner.caller, plain.sid)  # frees the number
    raw = order_input(number=NOT_PORTABLE)
    once = await idempotency.create_port_order_once(svc, owner.caller, "k-1", raw, render)
    body = json.loads(once.body)
    assert body["codes"] == [21827]
    for sid in (plain.sid, body["sid"]):
        _, evs, _ = await _rows(svc, sid)
        assert [e.type for e in evs][:2] == ["port_order.created", "port_order.status_changed"]
        async with svc.db.read() as s:
            errors = await s.execute(
                select(col(PortOrderError.code)).where(col(PortOrderError.port_order_sid) == sid)
            )
            assert list(errors.scalars()) == [21827]
