"""Each account's Standard Webhooks signing secret: read it, rotate it, sign with it.

After a rotation, callbacks carry signatures by the new and the previous secret for
ROTATION_OVERLAP, so receivers can switch over without dropping a callback. A secret is
readable by the account itself (and by its parent account), never by operators; the CLI
(`portico accounts webhook-secret|rotate-webhook-secret SID`) acts as the administrator.
"""

from __future__ import annotations

from datetime import timedelta

from app.porting import sids
from app.porting.errors import PortingError
from app.services import signing
from app.services.context import Caller, Services
from app.store import queries
from app.store.tables import Account

ROTATION_OVERLAP = timedelta(hours=24)


def _check(caller: Caller | None, account_sid: str) -> None:
    if caller is not None and caller.is_operator:
        raise PortingError(20403, "Operators cannot read or rotate webhook secrets")
    if not sids.is_sid(account_sid, sids.ACCOUNT) or (
        caller is not None and not caller.can_see(account_sid)
    ):
        raise PortingError(20404, "Account not found", "account_sid")


async def _ensure(svc: Services, account_sid: str) -> Account:
    async with svc.transaction() as tx:
        account = await queries.account_by_sid(tx, account_sid)
        if account is None:
            raise PortingError(20404, "Account not found", "account_sid")
        if account.webhook_secret_enc is None:
            account.webhook_secret_enc = svc.cipher.encrypt(signing.new_webhook_secret())
    return account


async def get_webhook_secret(svc: Services, caller: Caller | None, account_sid: str) -> str:
    """The current secret, "whsec_..." (created on first use if the account has none)."""
    _check(caller, account_sid)
    async with svc.db.read() as s:
        account = await queries.account_by_sid(s, account_sid)
    if account is None:
        raise PortingError(20404, "Account not found", "account_sid")
    if account.webhook_secret_enc is None:
        account = await _ensure(svc, account_sid)
    assert account.webhook_secret_enc is not None
    return signing.public_secret(svc.cipher.decrypt(account.webhook_secret_enc))


async def rotate_webhook_secret(svc: Services, caller: Caller | None, account_sid: str) -> str:
    """A new secret, returned once; the old one keeps signing for ROTATION_OVERLAP."""
    _check(caller, account_sid)
    fresh = signing.new_webhook_secret()
    async with svc.transaction() as tx:
        account = await queries.account_by_sid(tx, account_sid)
        if account is None:
            raise PortingError(20404, "Account not found", "account_sid")
        account.webhook_secret_previous_enc = account.webhook_secret_enc
        account.webhook_secret_rotated_at = svc.clock()
        account.webhook_secret_enc = svc.cipher.encrypt(fresh)
    return fresh


async def signing_keys(svc: Services, account: Account) -> list[bytes]:
    """The keys a callback of `account` is signed with right now: current first."""
    if account.webhook_secret_enc is None:
        account = await _ensure(svc, account.sid)
    assert account.webhook_secret_enc is not None
    keys = [signing.secret_key(svc.cipher.decrypt(account.webhook_secret_enc))]
    rotated = account.webhook_secret_rotated_at
    if (
        account.webhook_secret_previous_enc is not None
        and rotated is not None
        and svc.clock() - rotated < ROTATION_OVERLAP
    ):
        keys.append(signing.secret_key(svc.cipher.decrypt(account.webhook_secret_previous_enc)))
    return keys
