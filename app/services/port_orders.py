"""Customer use cases on port orders: create, update, cancel.

Each comes in two parts where it must ask the carrier first: `prepare_*` validates and runs
the portability check outside any transaction (network I/O), and the use case proper (`create`,
`update`, `cancel`) runs in the transaction it is given. `create_port_order` and friends are the
boundary: they prepare, then run the use case in one transaction (`Services.run`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from app.porting import exceptions, sids
from app.porting.carrier import Portability
from app.porting.errors import PortingError
from app.porting.grouping import group_key
from app.porting.statuses import (
    Actor,
    LoaStatus,
    PortOrderStatus,
    PortType,
    binding_foc,
    cancel_refusal,
    update_refusal,
)
from app.porting.validation import PortOrderFields, validate_create, validate_update
from app.services import _orders, loas
from app.services.context import ORDER_CONFLICTS, Caller, Conflicts, Services
from app.store import conflicts, queries
from app.store.engine import Tx
from app.store.tables import Loa, PortOrder, PortOrderError

S = PortOrderStatus
# A number the portability check refused: another number (or none) is the fix.
NOT_PORTABLE = exceptions.value(exceptions.ExceptionType.NUMBER_NOT_PORTABLE, ("number",))

# An update that races another for a new LOA group is a conflict for the caller to retry.
UPDATE_CONFLICTS: Conflicts = {**ORDER_CONFLICTS, conflicts.LOA_GROUP: lambda: PortingError(20409)}


@dataclass(frozen=True)
class NewOrder:
    """A create, validated and checked with the carrier: ready to write."""

    caller: Caller
    account_sid: str
    fields: PortOrderFields
    portability: Portability


@dataclass(frozen=True)
class OrderUpdate:
    """An update, merged over the order as it was read and checked with the carrier."""

    caller: Caller
    sid: str
    version: int
    fields: PortOrderFields
    portability: Portability | None  # None: the number was not checked again


def owner(caller: Caller, raw: Mapping[str, object]) -> str:
    """The account that owns a new order: the caller, or a subaccount it names."""
    requested = raw.get("account_sid")
    if caller.is_operator:
        if not isinstance(requested, str) or not sids.is_sid(requested, sids.ACCOUNT):
            raise PortingError(20001, "account_sid is required for an operator", "account_sid")
        return requested
    if requested in (None, "", caller.sid):
        return caller.sid
    if not isinstance(requested, str) or not caller.can_see(requested):
        raise PortingError(20404, "Account not found", "account_sid")
    return requested


async def _check_number_free(tx: Tx, number: str, own_sid: str | None = None) -> None:
    _refuse_held(*await queries.number_holders(tx, number), own_sid)


def _refuse_held(in_inventory: bool, holder: str | None, own_sid: str | None = None) -> None:
    """21838 for a number in an inventory, 21837 for one an open order (not `own_sid`) holds."""
    if in_inventory:
        raise PortingError(21838, field="number")
    if holder is not None and holder != own_sid:
        raise PortingError(21837, field="number")


async def _not_portable(
    tx: Tx, order: PortOrder, p: Portability, now: datetime, *, foc_changed: bool = False
) -> None:
    await _orders.move(
        tx,
        order,
        S.REJECTED,
        Actor.SERVICE,
        None,
        now,
        reason_code=p.error_code,
        reason=p.reason,
        error_code=p.error_code or 21827,
        foc_changed=foc_changed,
        exception=NOT_PORTABLE,
    )


# --- create ------------------------------------------------------------------------------------


async def prepare_create(svc: Services, caller: Caller, raw: Mapping[str, object]) -> NewOrder:
    account_sid = owner(caller, raw)
    fields = validate_create(raw)
    portability = await svc.carrier.check_portability(fields.number)
    return NewOrder(caller, account_sid, fields, portability)


async def create(tx: Tx, svc: Services, new: NewOrder) -> PortOrder:
    caller, account_sid, fields = new.caller, new.account_sid, new.fields
    now = svc.clock()
    earliest, placed = _orders.order_dates(svc, fields)
    if caller.is_operator and await queries.account_by_sid(tx, account_sid) is None:
        raise PortingError(20404, "Account not found", "account_sid")
    key = group_key(account_sid, fields)
    in_inventory, holder, open_loa_sid = await queries.number_holders_and_open_loa(
        tx, fields.number, key
    )
    _refuse_held(in_inventory, holder)
    loa_sid = open_loa_sid or (await _orders.new_loa(tx, account_sid, fields, now, key)).sid
    order = _orders.new_order_row(
        fields,
        svc,
        sid=sids.mint(sids.PORT_ORDER),
        account_sid=account_sid,
        loa_sid=loa_sid,
        status=S.CREATED.value,
        active_number=fields.number,
        current_carrier=new.portability.current_carrier,
        earliest_activation_date=earliest,
        activation_date=placed.activation_date,
        activation_date_reason=placed.reason,
        date_created=now,
        date_updated=now,
    )
    tx.add_later(order)  # written with its events, or by the first flush before them
    _orders.created_here(tx, order)
    await _orders.record_order_event(
        tx, order, "port_order.created", [_orders.STATUS_UPDATE], caller.actor, caller.sid, now
    )
    if new.portability.portable:
        await _orders.move(tx, order, S.PENDING, Actor.SERVICE, None, now)
    else:
        await _not_portable(tx, order, new.portability, now)
    return order


async def create_port_order(svc: Services, caller: Caller, raw: Mapping[str, object]) -> PortOrder:
    return await svc.run(create, svc, await prepare_create(svc, caller, raw))


# --- update ------------------------------------------------------------------------------------


async def prepare_update(
    svc: Services, caller: Caller, sid: str, raw: Mapping[str, object]
) -> OrderUpdate:
    async with svc.db.read() as s:
        current = await queries.port_order(s, sid, caller.visible)
    if current is None:
        raise PortingError(20404, field="sid")
    refusal = update_refusal(S(current.status))
    if refusal is not None:
        raise refusal
    new = validate_update(_orders.fields_of(current, svc), raw)
    portability = None
    if new.number != current.number or current.status == S.REJECTED.value:
        # A rejected order goes back to PENDING only if its number passes the check now.
        portability = await svc.carrier.check_portability(new.number)
    return OrderUpdate(caller, sid, current.version, new, portability)


async def update(tx: Tx, svc: Services, u: OrderUpdate) -> PortOrder:
    caller, new, portability = u.caller, u.fields, u.portability
    now = svc.clock()
    order = await queries.port_order(tx, u.sid, caller.visible)
    if order is None:
        raise PortingError(20404, field="sid")
    if order.version != u.version:
        # `new` was merged over the row as it was before this transaction: applying it now
        # would undo a concurrent change (a lost update).
        raise PortingError(20409)
    await _orders.claim(tx, order)
    refusal = update_refusal(S(order.status))
    if refusal is not None:
        raise refusal
    old = _orders.fields_of(order, svc)
    if new.number != old.number:
        await _check_number_free(tx, new.number, order.sid)
    old_foc = order.activation_date
    old_loa_sid = order.loa_sid
    asked_now = new.activation_date != old.activation_date
    earliest, placed = _orders.order_dates(svc, new, new_request=asked_now)
    _orders.apply_fields(order, new, svc)
    order.activation_date = placed.activation_date
    if asked_now or placed.activation_date != old.activation_date:
        order.activation_date_reason = placed.reason
    order.earliest_activation_date = earliest
    order.date_updated = now
    if portability is not None:
        order.current_carrier = portability.current_carrier
    order.active_number = new.number
    rejected = order.status == S.REJECTED.value
    regrouped = group_key(order.account_sid, old) != group_key(order.account_sid, new)
    kept = None if regrouped else await _reusable_loa(tx, order, old, new)
    if kept is None and (rejected or regrouped):
        # A changed signer/address/type needs its group's LOA; a rejected order whose LOA
        # cannot cover it again (a new number, a letter it was not in) a fresh one.
        loa = await _orders.attach_loa(tx, order.account_sid, new, now)
        order.loa_sid = loa.sid
    foc_changed = old_foc != order.activation_date
    if portability is not None and not portability.portable:
        if order.status != S.REJECTED.value:
            await _not_portable(tx, order, portability, now, foc_changed=foc_changed)
        else:
            tx.add(
                PortOrderError(
                    port_order_sid=order.sid,
                    code=21827,
                    reason=portability.reason or "",
                    date=now,
                )
            )
            await _orders.record_order_event(
                tx, order, "port_order.updated", [], caller.actor, caller.sid, now
            )
    elif rejected:
        # Fixed: back to PENDING, and to the carrier again at once if its LOA is still signed.
        await _orders.move(
            tx, order, S.PENDING, caller.actor, caller.sid, now, foc_changed=foc_changed
        )
        if kept is not None and kept.status == LoaStatus.SIGNED.value:
            await loas.submit(tx, svc, order, now)
    else:
        types = [_orders.ACTIVATION_DATE_UPDATE] if foc_changed else []
        await _orders.record_order_event(
            tx, order, "port_order.updated", types, caller.actor, caller.sid, now
        )
    if order.loa_sid != old_loa_sid:
        await _orders.leave_loa(tx, old_loa_sid, caller.actor, caller.sid, now)
    return order


async def update_port_order(
    svc: Services, caller: Caller, sid: str, raw: Mapping[str, object]
) -> PortOrder:
    prepared = await prepare_update(svc, caller, sid, raw)
    return await svc.run_with(UPDATE_CONFLICTS, update, svc, prepared)


async def _reusable_loa(
    tx: Tx, order: PortOrder, old: PortOrderFields, new: PortOrderFields
) -> Loa | None:
    """The LOA a rejected order may keep through its fix (its signer, address and type are
    unchanged): the same number, on an LOA still open, awaiting its signature, or signed
    while the order was in it (the order went to the carrier with it). None for an order
    that is not REJECTED."""
    if order.status != S.REJECTED.value or new.number != old.number:
        return None
    loa = await queries.loa(tx, order.loa_sid, None)
    if loa is None:
        return None
    if loa.status in (LoaStatus.OPEN.value, LoaStatus.SIGNING.value):
        return loa
    if loa.status == LoaStatus.SIGNED.value and order.submissions > 0:
        return loa
    return None


# --- cancel ------------------------------------------------------------------------------------


async def cancel(tx: Tx, svc: Services, caller: Caller, sid: str) -> PortOrder:
    """The customer cancels (CONTRACT.md §5); the carrier is told if it has the order,
    and an LOA left covering no open order is canceled with it."""
    now = svc.clock()
    order = await queries.port_order(tx, sid, caller.visible)
    if order is None:
        raise PortingError(20404, field="sid")
    await _orders.claim(tx, order)
    status = S(order.status)
    foc = binding_foc(status, order.activation_date)
    refusal = cancel_refusal(status, PortType(order.port_type), foc, now)
    if refusal is not None:
        raise refusal
    await _orders.move(tx, order, S.CANCELED, Actor.CUSTOMER, caller.sid, now)
    return order


async def cancel_port_order(svc: Services, caller: Caller, sid: str) -> PortOrder:
    return await svc.run(cancel, svc, caller, sid)
