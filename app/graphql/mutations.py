"""Mutations: thin calls into the services. Expected failures (PortingError / PortingErrors)
become `userErrors`, all of them, with the payload's object null; anything else is
unexpected and masked by the schema (extensions.py).
"""

from __future__ import annotations

import strawberry

from app.graphql.access import AccessMutation
from app.graphql.context import Context
from app.graphql.flow import FlowMutation
from app.graphql.inputs import (
    CREATE_FIELDS,
    UPDATE_FIELDS,
    CreatePortOrderInput,
    UpdatePortOrderInput,
)
from app.graphql.nodes import CtxInfo, wrap_loa, wrap_order
from app.graphql.operators import OperatorMutation
from app.graphql.payloads import LoaPayload, PortOrderPayload, user_errors
from app.graphql.requests import PortRequestMutation
from app.porting.errors import PortingError, PortingErrors
from app.services import loas, port_orders
from app.store.tables import PortOrder


def _done(ctx: Context, order: PortOrder) -> PortOrderPayload:
    ctx.reset_loaders()  # rows changed: later fields of this request must not see stale ones
    return PortOrderPayload(port_order=wrap_order(order), user_errors=[])


@strawberry.type
class PortingMutation:
    @strawberry.mutation(description="Create a port order; its LOA is created or reused.")
    async def create_port_order(
        self, info: CtxInfo, input: CreatePortOrderInput
    ) -> PortOrderPayload:
        ctx = info.context
        try:
            order = await port_orders.create_port_order(ctx.services, ctx.who, input.to_raw())
        except (PortingError, PortingErrors) as exc:
            return PortOrderPayload(port_order=None, user_errors=user_errors(exc, CREATE_FIELDS))
        return _done(ctx, order)

    @strawberry.mutation(description="Change the given parameters (CREATED, PENDING, REJECTED).")
    async def update_port_order(
        self, info: CtxInfo, sid: strawberry.ID, input: UpdatePortOrderInput
    ) -> PortOrderPayload:
        ctx = info.context
        try:
            order = await port_orders.update_port_order(ctx.services, ctx.who, sid, input.to_raw())
        except (PortingError, PortingErrors) as exc:
            errors = user_errors(exc, UPDATE_FIELDS, ("sid",))
            return PortOrderPayload(port_order=None, user_errors=errors)
        return _done(ctx, order)

    @strawberry.mutation(description="Cancel a port order (refused once terminal or near its FOC).")
    async def cancel_port_order(self, info: CtxInfo, sid: strawberry.ID) -> PortOrderPayload:
        ctx = info.context
        try:
            order = await port_orders.cancel_port_order(ctx.services, ctx.who, sid)
        except (PortingError, PortingErrors) as exc:
            return PortOrderPayload(port_order=None, user_errors=user_errors(exc, (), ("sid",)))
        return _done(ctx, order)

    @strawberry.mutation(description="Ask the signer to sign the LOA: the signing email goes out.")
    async def sign_loa(self, info: CtxInfo, sid: strawberry.ID) -> LoaPayload:
        ctx = info.context
        try:
            loa = await loas.request_signature(ctx.services, ctx.who, sid)
        except (PortingError, PortingErrors) as exc:
            return LoaPayload(loa=None, user_errors=user_errors(exc, (), ("sid",)))
        ctx.reset_loaders()
        return LoaPayload(loa=wrap_loa(loa), user_errors=[])


@strawberry.type(name="Mutation")
class Mutation(
    PortingMutation, PortRequestMutation, FlowMutation, AccessMutation, OperatorMutation
):
    """The customers' mutations (above and app/graphql/requests.py), then the operators'
    (app/graphql/operators.py)."""
