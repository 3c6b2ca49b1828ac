"""Operator use cases (status moves, FOC changes, references) and the moves the carrier shares.

Transports call the `operator_*` functions and `set_order_references`: they take the caller
and refuse anyone but an operator (20403); every action lands in the event log with the
operator's SID as `actor_sid`. `set_status` and `set_activation_date` take an already
authorised actor (the carrier, internal callers, tests). What a status or FOC change implies is
decided in one place for every path (app/porting/changes.py, carried out by
app/services/_orders.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from app.porting import exceptions
from app.porting.errors import CATALOG, PortingError
from app.porting.statuses import Actor, PortOrderStatus
from app.porting.text import BAD_CHARACTERS, PLAIN, refused_text
from app.services import _orders, carrier_steps
from app.services.context import Caller, Services
from app.store import queries
from app.store.engine import Tx
from app.store.tables import PortOrder

S = PortOrderStatus
MAX_TEXT = 255
MAX_REASON = 1000


class _Keep:
    def __repr__(self) -> str:
        return "KEEP"


KEEP: Final = _Keep()  # "leave this field as it is" in set_order_references


def require_operator(caller: Caller) -> None:
    if not caller.is_operator:
        raise PortingError(20403, "Only porting operators may do this")


async def _load(tx: Tx, sid: str) -> PortOrder:
    order = await queries.port_order(tx, sid, None)
    if order is None:
        raise PortingError(20404, field="sid")
    await _orders.claim(tx, order)
    return order


# --- operator use cases ------------------------------------------------------------------------


def _check_text(value: str | None, limit: int, field: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise PortingError(20001, f"{field} must be a string of at most {limit} characters", field)
    if refused_text(value, limit, PLAIN) is not None:  # (no control characters)
        raise PortingError(
            BAD_CHARACTERS, f"{field} contains characters that are not allowed", field
        )
    return value.strip() or None


async def set_status(
    svc: Services,
    actor: Actor,
    actor_sid: str | None,
    sid: str,
    status: PortOrderStatus,
    *,
    reason_code: int | None = None,
    reason: str | None = None,
    error_code: int | None = None,
    exception_type: object = None,
    fields_to_fix: list[object] | None = None,
) -> PortOrder:
    """A carrier's or an already authorised operator's move (internal callers and tests; a
    transport calls `operator_set_status`, which checks its caller). 21822 for a move not in
    the table; `error_code` (a catalog code) appends an error to the order. A rejection
    carries an exception (`exception_type`, default OTHER; `fields_to_fix`, default the
    type's: 21856, 21857; 21858 with any other status), explained on the order's thread."""
    if error_code is not None and error_code not in CATALOG:
        raise PortingError(20001, "Unknown error code: not in the catalog", "error_code")
    reason = _check_text(reason, MAX_REASON, "reason")
    exception = None
    if exception_type is not None or fields_to_fix is not None:
        if status is not S.REJECTED:
            raise PortingError(21858, field="exception_type")
        kind = (
            exceptions.ExceptionType.OTHER
            if exception_type is None
            else exceptions.parse_type(exception_type)
        )
        exception = exceptions.value(kind, exceptions.check_fields(fields_to_fix, kind))

    async def move(tx: Tx) -> PortOrder:
        order = await _load(tx, sid)
        await _orders.move(
            tx,
            order,
            status,
            actor,
            actor_sid,
            svc.clock(),
            reason_code=reason_code,
            reason=reason,
            error_code=error_code,
            exception=exception,
        )
        if status is S.REJECTED:
            await carrier_steps.explain_rejection(tx, svc, order, reason)
        return order

    return await svc.run(move)


async def operator_set_status(
    svc: Services,
    caller: Caller,
    sid: str,
    status: PortOrderStatus,
    *,
    reason_code: int | None = None,
    reason: str | None = None,
    error_code: int | None = None,
    exception_type: object = None,
    fields_to_fix: list[object] | None = None,
) -> PortOrder:
    """GraphQL `setPortOrderStatus`: 20403 unless the caller is an operator; logged with the
    operator's SID."""
    require_operator(caller)
    return await set_status(
        svc,
        Actor.OPERATOR,
        caller.sid,
        sid,
        status,
        reason_code=reason_code,
        reason=reason,
        error_code=error_code,
        exception_type=exception_type,
        fields_to_fix=fields_to_fix,
    )


async def set_activation_date(
    svc: Services, actor: Actor, actor_sid: str | None, sid: str, activation_date: datetime
) -> PortOrder:
    """The carrier confirmed (or an authorised operator changed) the FOC date. 21814 without a
    zone; 21829 once the order is COMPLETED, CANCELED or FAILED."""
    if activation_date.tzinfo is None:
        raise PortingError(21814, field="activation_date")

    async def change(tx: Tx) -> PortOrder:
        order = await _load(tx, sid)
        await _orders.change_activation_date(
            tx, order, activation_date, actor, actor_sid, svc.clock()
        )
        return order

    return await svc.run(change)


async def operator_set_activation_date(
    svc: Services, caller: Caller, sid: str, activation_date: datetime
) -> PortOrder:
    """GraphQL `setActivationDate`: 20403 unless the caller is an operator."""
    require_operator(caller)
    return await set_activation_date(svc, Actor.OPERATOR, caller.sid, sid, activation_date)


async def set_order_references(
    svc: Services,
    caller: Caller,
    sid: str,
    provider_sid: str | None | _Keep = KEEP,
    zendesk_id: str | None | _Keep = KEEP,
) -> PortOrder:
    """Set `provider_sid` and/or `zendesk_id` (KEEP leaves one as it is; None or "" clears
    it). Recorded as a `port_order.updated` event without callback types."""
    require_operator(caller)
    wanted: dict[str, str | None] = {}
    if not isinstance(provider_sid, _Keep):
        wanted["provider_sid"] = _check_text(provider_sid, MAX_TEXT, "provider_sid")
    if not isinstance(zendesk_id, _Keep):
        wanted["zendesk_id"] = _check_text(zendesk_id, MAX_TEXT, "zendesk_id")

    async def set_references(tx: Tx) -> PortOrder:
        now = svc.clock()
        order = await queries.port_order(tx, sid, None)
        if order is None:
            raise PortingError(20404, field="sid")
        changed = {k: v for k, v in wanted.items() if getattr(order, k) != v}
        if not changed:
            return order
        await _orders.claim(tx, order)
        for name, value in changed.items():
            setattr(order, name, value)
        order.date_updated = now
        await _orders.record_order_event(
            tx,
            order,
            "port_order.updated",
            [],
            Actor.OPERATOR,
            caller.sid,
            now,
            extra={"changed": changed},
        )
        return order

    return await svc.run(set_references)
