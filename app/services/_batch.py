"""Many orders at once (a Port Request's), in a number of statements that does not grow with
them. `create_orders`: one read of the open LOAs of their groups, then one insert per table
(LOAs, orders, errors, events with their ids back, deliveries, carrier steps). `move_orders`:
the moves of many claimed orders, carried out as `_orders.move` carries out one, one statement
per kind of write (plus one LOA check per LOA a cancel may close).

Each order is decided as a single create decides it (app/services/port_orders.py `create`):
the LOA of its group (app/porting/grouping.py), its dates (`_orders.order_dates`), the move the
portability check implies (app/porting/changes.py `decide`: CREATED -> PENDING, or REJECTED
with the carrier's error) carried out on the row by `_orders.mark`, the deliveries its events
imply (app/porting/notifications.py) and the steps the move plans. Only the writing is batched.
The numbers must be free (no open order, not in an inventory): the unique indexes still refuse
a race (21837 / 21838, app/services/context.py ORDER_CONFLICTS).

Everything here runs inside the caller's transaction and never commits.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.porting import changes, exceptions, fields, notifications, sids
from app.porting.carrier import Portability
from app.porting.changes import Change
from app.porting.grouping import group_key
from app.porting.statuses import Actor, LoaStatus, PortOrderStatus
from app.porting.validation import PortOrderFields
from app.services import _orders, _requests
from app.services.context import Services
from app.store import bulk, events, jobs, queries
from app.store.engine import Tx
from app.store.tables import Loa, PortOrder, PortOrderError

S = PortOrderStatus


@dataclass(frozen=True)
class NewOrder:
    fields: PortOrderFields
    portability: Portability


async def attach_loas(
    tx: Tx, account_sid: str, many: Sequence[PortOrderFields], now: datetime
) -> list[str]:
    """The LOA SID for each of `many`: its group's open LOA, or one new LOA per group without
    one (CONTRACT.md §3), with one read and one insert."""
    keys = [group_key(account_sid, f) for f in many]
    found = {k: loa.sid for k, loa in (await queries.open_loas_for_groups(tx, set(keys))).items()}
    new: dict[str, Loa] = {}
    for key, f in zip(keys, many, strict=True):
        if key not in found and key not in new:
            values: dict[str, Any] = fields.loa_values(f)
            new[key] = Loa(
                sid=sids.mint(sids.LOA),
                account_sid=account_sid,
                status=LoaStatus.OPEN.value,
                open_group_key=key,
                date_created=now,
                date_updated=now,
                **values,
            )
    await bulk.insert_rows(tx, Loa, [bulk.values_of(loa) for loa in new.values()])
    found.update({k: loa.sid for k, loa in new.items()})
    return [found[k] for k in keys]


async def create_orders(
    tx: Tx,
    svc: Services,
    account_sid: str,
    new: Sequence[NewOrder],
    actor: Actor,
    actor_sid: str | None,
    now: datetime,
    *,
    port_request_sid: str | None = None,
) -> list[PortOrder]:
    """Write the orders of `new` (in its order) with their creation and its first move; the
    rows returned are not in the session."""
    loa_sids = await attach_loas(tx, account_sid, [n.fields for n in new], now)
    orders: list[PortOrder] = []
    errors: list[PortOrderError] = []
    written: list[events.NewEvent] = []
    planned: list[tuple[PortOrder, tuple[changes.StepPlan, ...]]] = []
    for item, loa_sid in zip(new, loa_sids, strict=True):
        f, p = item.fields, item.portability
        earliest, placed = _orders.order_dates(svc, f)
        order = _orders.new_order_row(
            f,
            svc,
            sid=sids.mint(sids.PORT_ORDER),
            account_sid=account_sid,
            loa_sid=loa_sid,
            port_request_sid=port_request_sid,
            status=S.CREATED.value,
            active_number=f.number,
            current_carrier=p.current_carrier,
            earliest_activation_date=earliest,
            activation_date=placed.activation_date,
            activation_date_reason=placed.reason,
            date_created=now,
            date_updated=now,
        )
        created = _orders.order_payload(order, [], [_orders.STATUS_UPDATE])
        written.append(_event(order, "port_order.created", created, actor, actor_sid))
        dst = S.PENDING if p.portable else S.REJECTED
        change = changes.decide(S.CREATED, dst, Actor.SERVICE)
        if change.enter_inventory or change.retire or change.close_loa_if_done:
            raise AssertionError(f"a new order's first move implies more: {change}")
        if p.portable:
            error = _orders.mark(order, change, now)
        else:
            error = _orders.mark(
                order,
                change,
                now,
                p.error_code,
                p.reason,
                p.error_code or 21827,
                exceptions.value(exceptions.ExceptionType.NUMBER_NOT_PORTABLE, ("number",)),
            )
        order_errors = [error] if error is not None else []
        errors += order_errors
        moved = _orders.order_payload(order, order_errors, list(change.callback_types))
        written.append(_event(order, change.event_type, moved, Actor.SERVICE, None))
        planned.append((order, change.steps))
        orders.append(order)
    await bulk.insert_rows(tx, PortOrder, [bulk.values_of(o) for o in orders])
    await bulk.insert_rows(tx, PortOrderError, [bulk.values_of(e) for e in errors])
    ids = await events.append_many(tx, written, now)
    by_sid = {o.sid: o for o in orders}
    await events.queue_deliveries_many(
        tx,
        [
            (
                i,
                e.account_sid,
                notifications.order_deliveries(e.type, e.payload, by_sid[e.resource_sid]),
            )
            for i, e in zip(ids, written, strict=True)
        ],
        now,
    )
    await jobs.write_many(tx, planned, now)
    return orders


def _event(
    order: PortOrder, type: str, payload: dict[str, Any], actor: Actor, actor_sid: str | None
) -> events.NewEvent:
    return events.NewEvent(
        resource_type="port_order",
        resource_sid=order.sid,
        account_sid=order.account_sid,
        type=type,
        payload=payload,
        actor=actor,
        actor_sid=actor_sid,
        port_request_sid=order.port_request_sid,
    )


@dataclass(frozen=True)
class Move:
    """A claimed order and the change decided for it (`changes.decide`)."""

    order: PortOrder
    change: Change


async def move_orders(
    tx: Tx, moves: Sequence[Move], actor: Actor, actor_sid: str | None, now: datetime
) -> None:
    """Carry out many decided moves (no error appended, no inventory entry: a cancel's)."""
    if not moves:
        return
    if any(m.change.enter_inventory for m in moves):
        raise AssertionError("a move into the inventory checks its number: one at a time")
    for m in moves:
        _orders.mark(m.order, m.change, now)
        if m.order.port_request_sid is not None:
            _requests.order_moved(tx, m.order.port_request_sid, now)
    await tx.flush()  # the orders' rows
    orders = [m.order for m in moves]
    errors = await queries.errors_by_order(tx, [o.sid for o in orders])
    written = [
        _event(
            m.order,
            m.change.event_type,
            _orders.order_payload(m.order, errors[m.order.sid], list(m.change.callback_types)),
            actor,
            actor_sid,
        )
        for m in moves
    ]
    ids = await events.append_many(tx, written, now)
    await events.queue_deliveries_many(
        tx,
        [
            (i, e.account_sid, notifications.order_deliveries(e.type, e.payload, m.order))
            for i, e, m in zip(ids, written, moves, strict=True)
        ],
        now,
    )
    retire: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for m in moves:
        retire[tuple(m.change.retire)].append(m.order.sid)
    for kinds, sids_ in retire.items():
        await jobs.retire_many(tx, sids_, kinds)
    await jobs.write_many(tx, [(m.order, m.change.steps) for m in moves], now)
    closing = dict.fromkeys(m.order.loa_sid for m in moves if m.change.close_loa_if_done)
    for loa_sid in closing:
        await _orders.close_loa_if_done(tx, loa_sid, actor, actor_sid, now)
