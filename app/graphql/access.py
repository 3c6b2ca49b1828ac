"""API keys in GraphQL: `createApiKey` (the secret is in this payload only, once) and
`revokeApiKey`, for accounts, with the account's own auth token (app/services/api_keys.py)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from app.graphql.nodes import CtxInfo
from app.graphql.payloads import UserError, user_errors
from app.porting.errors import PortingError, PortingErrors
from app.services import api_keys
from app.store.tables import ApiKey


@strawberry.type(name="ApiKey", description="An API key: usable as `SK...:secret` in HTTP Basic.")
class ApiKeyType:
    sid: strawberry.ID
    account_sid: strawberry.ID
    friendly_name: str
    read_only: bool
    date_created: datetime
    date_revoked: datetime | None


def _wrap(key: ApiKey) -> ApiKeyType:
    return ApiKeyType(
        sid=strawberry.ID(key.sid),
        account_sid=strawberry.ID(key.account_sid),
        friendly_name=key.friendly_name,
        read_only=key.read_only,
        date_created=key.date_created,
        date_revoked=key.date_revoked,
    )


@strawberry.type
class CreateApiKeyPayload:
    api_key: ApiKeyType | None
    secret: str | None = strawberry.field(
        description="The key's secret: shown here once, never again."
    )
    user_errors: list[UserError]


@strawberry.type
class RevokeApiKeyPayload:
    api_key: ApiKeyType | None
    user_errors: list[UserError]


@strawberry.type
class AccessMutation:
    @strawberry.mutation(
        description="Create an API key for your account (or a subaccount: accountSid); "
        "its secret is in this answer only."
    )
    async def create_api_key(
        self,
        info: CtxInfo,
        friendly_name: str | None = None,
        read_only: bool = False,
        account_sid: strawberry.ID | None = None,
    ) -> CreateApiKeyPayload:
        ctx = info.context
        try:
            made = await api_keys.create_api_key(
                ctx.services,
                ctx.who,
                account_sid,
                read_only=read_only,
                friendly_name=friendly_name,
            )
        except (PortingError, PortingErrors) as exc:
            errors = user_errors(exc, (), ("friendly_name", "account_sid"))
            return CreateApiKeyPayload(api_key=None, secret=None, user_errors=errors)
        return CreateApiKeyPayload(api_key=_wrap(made.key), secret=made.secret, user_errors=[])

    @strawberry.mutation(description="Revoke an API key: it stops working on every replica.")
    async def revoke_api_key(self, info: CtxInfo, sid: strawberry.ID) -> RevokeApiKeyPayload:
        ctx = info.context
        try:
            key = await api_keys.revoke_api_key(ctx.services, ctx.who, sid)
        except (PortingError, PortingErrors) as exc:
            return RevokeApiKeyPayload(api_key=None, user_errors=user_errors(exc, (), ("sid",)))
        return RevokeApiKeyPayload(api_key=_wrap(key), user_errors=[])
