"""Internals shared by the order use cases: claiming a row, carrying out a status change,
writing events, choosing the LOA. Every function here runs inside the caller's transaction and
never commits.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import tuple_, update
from sqlalchemy.orm.attributes import set_committed_value

from app.porting import changes, exceptions, fields, notifications, sids, windows
from app.porting.changes import Change
from app.porting.dates import earliest_activation_date
from app.porting.errors import PortingError
from app.porting.grouping import group_key
from app.porting.isotime import format_utc
from app.porting.statuses import (
    TERMINAL,
    Actor,
    LoaStatus,
    PortOrderStatus,
    loa_refusal,
)
from app.porting.validation import PortOrderFields
from app.services import _requests
from app.services.context import Services
from app.store import bulk, conflicts, events, jobs, queries
from app.store.engine import Tx
from app.store.tables import IncomingPhoneNumber, Loa, PortOrder, PortOrderError

STATUS_UPDATE = changes.STATUS_UPDATE
ACTIVATION_DATE_UPDATE = changes.ACTIVATION_DATE_UPDATE


async def claim(tx: Tx, row: PortOrder | Loa) -> None:
    """Optimistic concurrency: bump the row's version if nobody changed it since we read it.
    On PostgreSQL the UPDATE also locks the row until commit. A lost race is RowChanged: the
    use case runs again on fresh rows (`Services.run`), 20409 once that keeps failing."""
    model = type(row)
    result: Any = await tx.execute(
        update(model)
        .where(model.id == row.id, model.version == row.version)  # type: ignore[arg-type]
        .values(version=row.version + 1)
    )
    if result.rowcount != 1:
        raise conflicts.RowChanged(row.sid)
    set_committed_value(row, "version", row.version + 1)


async def claim_many(tx: Tx, orders: list[PortOrder]) -> None:
    """`claim` for many orders with one statement: all of them, or 20409."""
    if not orders:
        return
    pairs = [(o.id, o.version) for o in orders]
    result: Any = await tx.execute(
        update(PortOrder)
        .where(tuple_(PortOrder.id, PortOrder.version).in_(pairs))
        .values(version=PortOrder.version + 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != len(orders):
        raise PortingError(20409)
    for o in orders:
        set_committed_value(o, "version", o.version + 1)


async def attach_loa(tx: Tx, account_sid: str, f: PortOrderFields, now: datetime) -> Loa:
    """The open LOA of the order's group (app/porting/grouping.py), or a new one."""
    key = group_key(account_sid, f)
    loa = await queries.open_loa_for_group(tx, key)
    if loa is not None:
        return loa
    return await new_loa(tx, account_sid, f, now, key)


async def new_loa(tx: Tx, account_sid: str, f: PortOrderFields, now: datetime, key: str) -> Loa:
    """A new open LOA for the group `key` (a concurrent create of the same group loses on the
    group's unique key and runs again: ORDER_CONFLICTS)."""
    values: dict[str, Any] = fields.loa_values(f)
    loa = Loa(
        sid=sids.mint(sids.LOA),
        account_sid=account_sid,
        status=LoaStatus.OPEN.value,
        open_group_key=key,
        date_created=now,
        date_updated=now,
        **values,
    )
    tx.add(loa)
    await tx.flush()
    return loa


def order_dates(
    svc: Services, f: PortOrderFields, *, new_request: bool = True
) -> tuple[datetime, windows.Placed]:
    """Earliest activation date (now + business days) and where the requested date lands
    (app/porting/windows.py: the next allowed date, and why it moved). `new_request`: the
    date was asked for now, so one past the horizon is 21814."""
    now = svc.clock()
    earliest = earliest_activation_date(
        now, f.port_type, f.iso_country, f.region, svc.settings.business_days
    )
    placed = windows.place(
        f.activation_date, earliest, f.iso_country, f.region, now if new_request else None
    )
    return earliest, placed


def fields_of(order: PortOrder, svc: Services) -> PortOrderFields:
    """The order's values (app/porting/fields.py), write-only ones decrypted."""
    secret = svc.cipher.decrypt_json(order.secrets_enc) if order.secrets_enc else {}
    return fields.fields_from(fields.values_of(order), secret)


def new_order_row(f: PortOrderFields, svc: Services, **row: Any) -> PortOrder:
    """A port order row holding `f`, with the columns `row` gives (SID, owner, LOA, status,
    dates; a value given there wins over `f`'s)."""
    values: dict[str, Any] = {**fields.stored_values(f), **row}
    order = bulk.new_row(PortOrder, values)
    write_only = fields.write_only_values(f)
    order.secrets_enc = svc.cipher.encrypt_json(write_only) if write_only else None
    return order


def apply_fields(order: PortOrder, f: PortOrderFields, svc: Services) -> None:
    """Store `f` on the row: the plain values in their columns, the write-only ones only
    encrypted."""
    for name, value in fields.stored_values(f).items():
        setattr(order, name, value)
    secret = fields.write_only_values(f)
    order.secrets_enc = svc.cipher.encrypt_json(secret) if secret else None


def order_payload(
    order: PortOrder, errors: list[PortOrderError], callback_types: list[str]
) -> dict[str, Any]:
    """The status callback payload of CONTRACT.md §9 (also the event's payload); a rejected
    order's also names its exception."""
    payload: dict[str, Any] = {
        "port_order_sid": order.sid,
        "callback_type": callback_types,
        "status": order.status,
        "foc_date": format_utc(order.activation_date),
        "date_updated": format_utc(order.date_updated),
        "phone_number_sid": order.incoming_phone_number_sid,
        "errors": [
            {"date": format_utc(e.date), "code": e.code, "reason": e.reason} for e in errors
        ],
    }
    if order.exception:
        payload["exception"] = dict(order.exception)
    return payload


_KNOWN_ERRORS = "port_order_errors"


def created_here(tx: Tx, order: PortOrder) -> None:
    """`order` was inserted by this transaction: it has no errors but those this transaction
    adds (`_apply` keeps the list), so its events need not read them back."""
    tx.info.setdefault(_KNOWN_ERRORS, {})[order.sid] = []


async def _errors_of(tx: Tx, order: PortOrder) -> list[PortOrderError]:
    known: list[PortOrderError] | None = tx.info.get(_KNOWN_ERRORS, {}).get(order.sid)
    if known is not None:
        return list(known)
    return (await queries.errors_by_order(tx, [order.sid]))[order.sid]


async def record_order_event(
    tx: Tx,
    order: PortOrder,
    type: str,
    callback_types: list[str],
    actor: Actor,
    actor_sid: str | None,
    now: datetime,
    extra: dict[str, Any] | None = None,
) -> None:
    """Record the order's event and the deliveries it implies (written with the transaction's
    other events when the use case is done). The order's own row is written by the session's
    next flush (at the latest at commit)."""
    payload = order_payload(order, await _errors_of(tx, order), callback_types)
    if extra:
        payload.update(extra)
    events.record(
        tx,
        resource_type="port_order",
        resource_sid=order.sid,
        account_sid=order.account_sid,
        type=type,
        payload=payload,
        actor=actor,
        actor_sid=actor_sid,
        now=now,
        port_request_sid=order.port_request_sid,
        deliveries=notifications.order_deliveries(type, payload, order),
    )


async def record_loa_event(
    tx: Tx, loa: Loa, actor: Actor, actor_sid: str | None, now: datetime
) -> None:
    await tx.flush()
    payload = {"loa_sid": loa.sid, "status": loa.status, "date_updated": format_utc(now)}
    events.record(
        tx,
        resource_type="loa",
        resource_sid=loa.sid,
        account_sid=loa.account_sid,
        type="loa.status_changed",
        payload=payload,
        actor=actor,
        actor_sid=actor_sid,
        now=now,
        deliveries=notifications.loa_deliveries(payload, loa.sid, loa.email),
    )


async def move(
    tx: Tx,
    order: PortOrder,
    dst: PortOrderStatus,
    actor: Actor,
    actor_sid: str | None,
    now: datetime,
    *,
    reason_code: int | None = None,
    reason: str | None = None,
    error_code: int | None = None,
    foc_changed: bool = False,
    exception: dict[str, Any] | None = None,
) -> None:
    """Move a claimed order along the transition table (21822 when refused) and carry out
    everything the move implies (app/porting/changes.py decides what). `exception`: a
    rejection's (app/porting/exceptions.py; default OTHER)."""
    change = changes.decide(
        PortOrderStatus(order.status),
        dst,
        actor,
        foc_changed=foc_changed,
        was_submitted=order.submitted_date is not None,
    )
    return await _apply(
        tx, order, change, actor, actor_sid, now, reason_code, reason, error_code, exception
    )


async def _apply(
    tx: Tx,
    order: PortOrder,
    change: Change,
    actor: Actor,
    actor_sid: str | None,
    now: datetime,
    reason_code: int | None,
    reason: str | None,
    error_code: int | None,
    exception: dict[str, Any] | None = None,
) -> None:
    if change.enter_inventory:
        await _enter_inventory(tx, order, now)
    error = mark(order, change, now, reason_code, reason, error_code, exception)
    if error is not None:
        tx.add(error)
        known: list[PortOrderError] | None = tx.info.get(_KNOWN_ERRORS, {}).get(order.sid)
        if known is not None:
            known.append(error)
    if order.port_request_sid is not None:
        _requests.order_moved(tx, order.port_request_sid, now)
    await record_order_event(
        tx, order, change.event_type, list(change.callback_types), actor, actor_sid, now
    )
    await jobs.retire(tx, order.sid, change.retire)
    jobs.write(tx, order, change.steps, now)
    if change.close_loa_if_done:
        await close_loa_if_done(tx, order.loa_sid, actor, actor_sid, now)


def mark(
    order: PortOrder,
    change: Change,
    now: datetime,
    reason_code: int | None = None,
    reason: str | None = None,
    error_code: int | None = None,
    exception: dict[str, Any] | None = None,
) -> PortOrderError | None:
    """The move's own columns of the order (status, reason, the number released, the
    rejection's exception, the submissions counted), and the error it appends (for the caller
    to write), if any."""
    order.status = change.status.value
    order.date_updated = now
    if change.status is PortOrderStatus.REJECTED:
        order.exception = exception or exceptions.value(exceptions.ExceptionType.OTHER, ())
    else:
        order.exception = None
    if change.status is PortOrderStatus.SUBMITTED:
        order.submissions = (order.submissions or 0) + 1
    if reason_code is not None or reason is not None:
        order.reason_code, order.reason = reason_code, reason
    if change.release_number:
        order.active_number = None
    if error_code is None:
        return None
    return PortOrderError(
        port_order_sid=order.sid,
        code=error_code,
        reason=reason or PortingError(error_code).message,
        date=now,
    )


async def _enter_inventory(tx: Tx, order: PortOrder, now: datetime) -> None:
    """The number enters the account's inventory (21838 when it is in one already)."""
    if await queries.inventory_number(tx, order.number) is not None:
        raise PortingError(21838, field="number")
    pn = IncomingPhoneNumber(
        sid=sids.mint(sids.INCOMING_PHONE_NUMBER),
        account_sid=order.account_sid,
        number=order.number,
        friendly_name=order.friendly_name,
        port_order_sid=order.sid,
        date_created=now,
    )
    tx.add(pn)
    order.incoming_phone_number_sid = pn.sid


async def change_activation_date(
    tx: Tx,
    order: PortOrder,
    activation_date: datetime,
    actor: Actor,
    actor_sid: str | None,
    now: datetime,
) -> bool:
    """Change a claimed order's FOC date (an `activation_date_update` event); False when it is
    already that date. 21829 once the order is terminal. An ACCEPTED order's completion moves
    with it."""
    status = PortOrderStatus(order.status)
    if status in TERMINAL:
        raise PortingError(21829)
    if order.activation_date == activation_date:
        return False
    order.activation_date = activation_date
    order.activation_date_reason = None  # set as the carrier or operator decided
    order.date_updated = now
    await record_order_event(
        tx,
        order,
        "port_order.activation_date_changed",
        [ACTIVATION_DATE_UPDATE],
        actor,
        actor_sid,
        now,
    )
    retire, steps = changes.foc_moved(status)
    await jobs.retire(tx, order.sid, retire)
    jobs.write(tx, order, steps, now)
    return True


async def move_loa(
    tx: Tx, loa: Loa, dst: LoaStatus, actor: Actor, actor_sid: str | None, now: datetime
) -> None:
    """Move a claimed LOA along its transition table (21904/21905 when refused)."""
    refusal = loa_refusal(LoaStatus(loa.status), dst, actor)
    if refusal is not None:
        raise refusal
    loa.status = dst.value
    if dst is not LoaStatus.OPEN:
        loa.open_group_key = None  # no new orders join an LOA whose text went out or closed
    loa.date_updated = now
    return await record_loa_event(tx, loa, actor, actor_sid, now)


async def close_loa_if_done(
    tx: Tx, loa_sid: str, actor: Actor, actor_sid: str | None, now: datetime
) -> None:
    """An LOA whose orders are all canceled (or that covers none) is canceled."""
    loa = await queries.loa(tx, loa_sid, None)
    if loa is None or loa.status == LoaStatus.CANCELED.value:
        return
    if not await queries.loa_covers_uncanceled(tx, loa_sid):
        # The service closes it; the event names who canceled the last order.
        refusal = loa_refusal(LoaStatus(loa.status), LoaStatus.CANCELED, Actor.SERVICE)
        if refusal is not None:
            raise refusal
        await claim(tx, loa)
        loa.status = LoaStatus.CANCELED.value
        loa.open_group_key = None
        loa.date_updated = now
        await record_loa_event(tx, loa, actor, actor_sid, now)


async def leave_loa(
    tx: Tx, loa_sid: str, actor: Actor, actor_sid: str | None, now: datetime
) -> None:
    """An order left the LOA `loa_sid` (it joined another group's): close it if done."""
    await tx.flush()
    await close_loa_if_done(tx, loa_sid, actor, actor_sid, now)
