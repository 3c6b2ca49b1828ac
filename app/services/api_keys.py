"""API keys: a SID (`SK` + 32 hex digits) and a secret, usable where the account's auth token is
(HTTP Basic `SK...:secret` acts as the account), optionally read-only, revocable.

The secret is shown once, at creation; the store keeps its HMAC (a key derived from
PORTICO_SECRET_KEY), so a copy of the database does not give the keys away. Revoking a key
announces it on the bus (app/store/access.py): every replica forgets the verified key at once.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass

from app.porting import sids
from app.porting.errors import NOT_FOUND, PortingError
from app.porting.text import BAD_CHARACTERS, NAME, TOO_LONG, refused_text
from app.services.context import Caller, Services
from app.store import access, queries
from app.store.engine import Tx
from app.store.secrets import derive_key, new_token
from app.store.tables import ApiKey

__all__ = ["ApiKey", "NewApiKey", "create_api_key", "list_api_keys", "revoke_api_key"]

API_KEY = "SK"
NAME_MAX = 64


@dataclass(frozen=True)
class NewApiKey:
    key: ApiKey
    secret: str  # shown once


def secret_hash(svc: Services, secret: str) -> str:
    key = derive_key(svc.settings.resolved_secret_key, "api-key-secrets")
    return hmac.new(key, secret.encode(), hashlib.sha256).hexdigest()


def _manager(caller: Caller) -> None:
    """Keys are managed with an account's own auth token: not by operators, not with an API
    key, not with an access token."""
    if caller.is_operator or caller.key_sid is not None or caller.expires_at is not None:
        raise PortingError(20403, "API keys are managed with the account's auth token")


def _owner(caller: Caller | None, account_sid: str | None) -> str:
    """The account a key belongs to: the caller's own (or a subaccount it names); the CLI
    (caller None) names any account."""
    if caller is None:
        if account_sid is None:
            raise PortingError(20001, "AccountSid is required", "account_sid")
        return account_sid
    _manager(caller)
    owner = account_sid or caller.sid
    if not caller.can_see(owner):
        raise PortingError(NOT_FOUND, field="account_sid")
    return owner


async def create_api_key(
    svc: Services,
    caller: Caller | None,
    account_sid: str | None = None,
    *,
    read_only: bool = False,
    friendly_name: str | None = None,
) -> NewApiKey:
    refusal = None if friendly_name is None else refused_text(friendly_name, NAME_MAX, NAME)
    if refusal == TOO_LONG:
        raise PortingError(20002, field="friendly_name")
    if refusal == BAD_CHARACTERS:
        raise PortingError(
            BAD_CHARACTERS,
            "friendly_name contains characters that are not allowed",
            "friendly_name",
        )
    owner = _owner(caller, account_sid)
    secret = new_token()

    async def create(tx: Tx) -> ApiKey:
        if await queries.account_by_sid(tx, owner) is None:
            raise PortingError(NOT_FOUND, field="account_sid")
        sid = sids.mint(API_KEY)
        key = ApiKey(
            sid=sid,
            account_sid=owner,
            friendly_name=friendly_name or f"API key {sid[-6:]}",
            secret_hash=secret_hash(svc, secret),
            read_only=read_only,
            date_created=svc.clock(),
        )
        tx.add(key)
        return key

    return NewApiKey(await svc.run(create), secret)


async def list_api_keys(svc: Services, account_sid: str | None = None) -> Sequence[ApiKey]:
    async with svc.db.read() as s:
        return await access.api_keys_of(s, account_sid)


async def revoke_api_key(svc: Services, caller: Caller | None, sid: str) -> ApiKey:
    """Revoke a key (again: no change). It stops working on every replica within the bus's
    delivery time (milliseconds); what a replica cached of it is dropped."""

    async def revoke(tx: Tx) -> ApiKey:
        key = await access.api_key(tx, sid, for_update=True) if sids.is_sid(sid, API_KEY) else None
        if key is None or (caller is not None and not caller.can_see(key.account_sid)):
            raise PortingError(NOT_FOUND, field="sid")
        if caller is not None:
            _manager(caller)
        if key.date_revoked is None:
            await access.revoke_api_key(tx, key, svc.clock())
            await access.announce_credentials(tx, key.sid)
            cache, key_sid = svc.credentials, key.sid

            async def forget() -> None:
                cache.forget(key_sid)

            tx.after_commit(forget)
        return key

    return await svc.run(revoke)


async def authenticate_key(svc: Services, sid: str, secret: str) -> Caller | None:
    """`SK...:secret`: the key's account, read-only if the key is; None when wrong or revoked."""
    async with svc.db.read() as s:
        key = await access.api_key(s, sid)
        if key is None or key.date_revoked is not None:
            return None
        if not hmac.compare_digest(key.secret_hash, secret_hash(svc, secret)):
            return None
        family = await queries.account_family(s, key.account_sid)
    account = next((a for a in family if a.sid == key.account_sid), None)
    if account is None:
        return None
    visible = {a.sid for a in family} if account.parent_sid is None else {account.sid}
    return Caller(
        account.sid, "account", frozenset(visible), read_only=key.read_only, key_sid=key.sid
    )
