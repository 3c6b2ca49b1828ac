"""Accounts (with subaccounts), operators, and authentication of both."""

from __future__ import annotations

from dataclasses import dataclass

from app.porting import sids
from app.porting.errors import PortingError
from app.services.context import Caller, Services
from app.store import access, queries
from app.store.secrets import new_token, same
from app.store.tables import Account, Operator


@dataclass(frozen=True)
class Credentials:
    sid: str
    secret: str  # shown once, at creation


async def create_account(
    svc: Services, friendly_name: str | None = None, parent_sid: str | None = None
) -> tuple[Account, Credentials]:
    token = new_token()
    async with svc.transaction() as tx:
        if parent_sid is not None:
            parent = await queries.account_by_sid(tx, parent_sid)
            if parent is None or parent.parent_sid is not None:
                raise PortingError(20404, "Parent account not found", "parent_sid")
        sid = sids.mint(sids.ACCOUNT)
        account = Account(
            sid=sid,
            parent_sid=parent_sid,
            friendly_name=(friendly_name or f"Account {sid[-6:]}")[:64],
            auth_token_enc=svc.cipher.encrypt(token),
            webhook_secret_enc=svc.cipher.encrypt(new_token() + new_token()),
            date_created=svc.clock(),
        )
        tx.add(account)
        if parent_sid is not None:  # the parent now sees one more account: drop what was cached
            await access.announce_credentials(tx, parent_sid)
            cache = svc.credentials

            async def forget() -> None:
                cache.forget(parent_sid)

            tx.after_commit(forget)
    return account, Credentials(sid, token)


DEV_ACCOUNT_NAME = "Development"


async def ensure_dev_account(svc: Services) -> Credentials:
    """The embedded setup's development account: created once, then reused."""
    async with svc.db.read() as s:
        for account in await queries.list_accounts(s):
            if account.friendly_name == DEV_ACCOUNT_NAME and account.parent_sid is None:
                return Credentials(account.sid, svc.cipher.decrypt(account.auth_token_enc))
    _, creds = await create_account(svc, DEV_ACCOUNT_NAME)
    return creds


async def list_accounts(svc: Services) -> list[Account]:
    async with svc.db.read() as s:
        return list(await queries.list_accounts(s))


async def create_operator(svc: Services, friendly_name: str | None = None) -> Credentials:
    token = new_token()
    async with svc.transaction() as tx:
        sid = sids.mint(sids.OPERATOR)
        tx.add(
            Operator(
                sid=sid,
                friendly_name=(friendly_name or f"Operator {sid[-6:]}")[:64],
                token_enc=svc.cipher.encrypt(token),
                date_created=svc.clock(),
            )
        )
    return Credentials(sid, token)


async def authenticate(svc: Services, sid: str, secret: str) -> Caller | None:
    """Check `sid:secret` (HTTP Basic) for an account or an operator. None when wrong."""
    async with svc.db.read() as s:
        if sids.is_sid(sid, sids.ACCOUNT):
            family = await queries.account_family(s, sid)
            account = next((a for a in family if a.sid == sid), None)
            if account is None or not same(svc.cipher.decrypt(account.auth_token_enc), secret):
                return None
            # A subaccount has no subaccounts of its own: it sees itself only.
            visible = {a.sid for a in family} if account.parent_sid is None else {account.sid}
            return Caller(account.sid, "account", frozenset(visible))
        if sids.is_sid(sid, sids.OPERATOR):
            op = await queries.operator_by_sid(s, sid)
            if op is None or not same(svc.cipher.decrypt(op.token_enc), secret):
                return None
            return Caller(op.sid, "operator", None)
    return None
