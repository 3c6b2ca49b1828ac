"""`Query.rateLimit`: the caller's budget of points (app/services/budgets.py), as GitHub's API
shows it: the hourly limit, what this query cost, what is left after it, when it resets."""

from __future__ import annotations

from datetime import datetime

import strawberry

from app.graphql.nodes import CtxInfo
from app.services.budgets import budget_of


@strawberry.type(name="RateLimit", description="Your budget of points for the current hour.")
class RateLimitType:
    limit: int = strawberry.field(description="Points per hour (GraphQL and REST together).")
    cost: int = strawberry.field(description="Points this query cost: ceil(nodes / 100), >= 1.")
    remaining: int = strawberry.field(description="Points left in this hour, after this query.")
    reset_at: datetime = strawberry.field(description="When the budget is full again.")


@strawberry.type
class RateLimitQuery:
    @strawberry.field(description="Your rate limit: points per hour, this query's cost, left.")
    def rate_limit(self, info: CtxInfo) -> RateLimitType:
        ctx = info.context
        spent = ctx.rate or budget_of(ctx.services).peek(ctx.who.sid)
        return RateLimitType(
            limit=spent.limit, cost=spent.cost, remaining=spent.remaining, reset_at=spent.reset_at
        )
