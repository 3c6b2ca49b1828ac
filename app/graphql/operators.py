"""Operator mutations: status moves, FOC changes and the order's references.

Only porting operators (HTTP Basic `OperatorSid:token`) may call them; an account gets the
userError 20403 (app/services/operators checks the caller). A move outside the transition table
is 21822. Every action lands in the event log with the operator's SID (`PortOrder.events`,
`actor` and `actorSid`).
"""

from __future__ import annotations

from datetime import datetime
from typing import TypeVar

import strawberry

from app.graphql.enums import PortOrderStatus
from app.graphql.nodes import CtxInfo, wrap_order
from app.graphql.payloads import PortOrderPayload, user_errors
from app.porting.errors import PortingError, PortingErrors
from app.porting.exceptions import ExceptionType as ExceptionKind
from app.services import operators
from app.store.tables import PortOrder

STATUS_ARGS = (
    "sid",
    "status",
    "reason_code",
    "reason",
    "error_code",
    "exception_type",
    "fields_to_fix",
)
FOC_ARGS = ("sid", "activation_date")
REFERENCE_ARGS = ("sid", "provider_sid", "zendesk_id")
T = TypeVar("T")
OPERATORS_ONLY = " Operators only: an account gets the userError 20403."


def _given(value: T | None) -> T | None:
    return None if value is strawberry.UNSET else value


def _kept(value: str | None) -> str | None | operators._Keep:
    """An omitted argument keeps the stored value; null (or "") clears it."""
    return operators.KEEP if value is strawberry.UNSET else value


def _failed(exc: PortingError | PortingErrors, arguments: tuple[str, ...]) -> PortOrderPayload:
    return PortOrderPayload(port_order=None, user_errors=user_errors(exc, (), arguments))


def _done(info: CtxInfo, order: PortOrder) -> PortOrderPayload:
    info.context.reset_loaders()  # rows changed: later fields must not see stale ones
    return PortOrderPayload(port_order=wrap_order(order), user_errors=[])


@strawberry.type
class OperatorMutation:
    @strawberry.mutation(
        description="Move an order to a status (the transition table decides: 21822 otherwise);"
        " errorCode appends that error to the order. A rejection carries an exception:"
        " exceptionType (default OTHER) and fieldsToFix (the order's field names, snake_case;"
        " default the type's)." + OPERATORS_ONLY
    )
    async def set_port_order_status(
        self,
        info: CtxInfo,
        sid: strawberry.ID,
        status: PortOrderStatus,
        reason_code: int | None = strawberry.UNSET,
        reason: str | None = strawberry.UNSET,
        error_code: int | None = strawberry.UNSET,
        exception_type: ExceptionKind | None = strawberry.UNSET,
        fields_to_fix: list[str] | None = strawberry.UNSET,
    ) -> PortOrderPayload:
        ctx = info.context
        fix = _given(fields_to_fix)
        try:
            order = await operators.operator_set_status(
                ctx.services,
                ctx.who,
                sid,
                status,
                reason_code=_given(reason_code),
                reason=_given(reason),
                error_code=_given(error_code),
                exception_type=_given(exception_type),
                fields_to_fix=None if fix is None else list(fix),
            )
        except (PortingError, PortingErrors) as exc:
            return _failed(exc, STATUS_ARGS)
        return _done(info, order)

    @strawberry.mutation(
        description="Set the FOC date: an activation_date_update event (21829 once the order is"
        " COMPLETED, CANCELED or FAILED)." + OPERATORS_ONLY
    )
    async def set_activation_date(
        self, info: CtxInfo, sid: strawberry.ID, activation_date: datetime
    ) -> PortOrderPayload:
        ctx = info.context
        try:
            order = await operators.operator_set_activation_date(
                ctx.services, ctx.who, sid, activation_date
            )
        except (PortingError, PortingErrors) as exc:
            return _failed(exc, FOC_ARGS)
        return _done(info, order)

    @strawberry.mutation(
        description="Set the order's providerSid and zendeskId: an omitted argument keeps its"
        ' value, null or "" clears it.' + OPERATORS_ONLY
    )
    async def set_port_order_references(
        self,
        info: CtxInfo,
        sid: strawberry.ID,
        provider_sid: str | None = strawberry.UNSET,
        zendesk_id: str | None = strawberry.UNSET,
    ) -> PortOrderPayload:
        ctx = info.context
        try:
            order = await operators.set_order_references(
                ctx.services,
                ctx.who,
                sid,
                provider_sid=_kept(provider_sid),
                zendesk_id=_kept(zendesk_id),
            )
        except (PortingError, PortingErrors) as exc:
            return _failed(exc, REFERENCE_ARGS)
        return _done(info, order)
