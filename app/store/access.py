"""Queries of API keys and persisted queries (app/services/api_keys.py, app/graphql/persisted.py),
and the cross-replica announcement that a credential changed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.store.engine import Tx
from app.store.pgbus import CREDENTIALS_CHANNEL
from app.store.tables import ApiKey, PersistedQuery


async def api_key(session: AsyncSession, sid: str, *, for_update: bool = False) -> ApiKey | None:
    stmt = select(ApiKey).where(col(ApiKey.sid) == sid)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def api_keys_of(session: AsyncSession, account_sid: str | None) -> Sequence[ApiKey]:
    stmt = select(ApiKey).order_by(col(ApiKey.id).desc())
    if account_sid is not None:
        stmt = stmt.where(col(ApiKey.account_sid) == account_sid)
    return (await session.execute(stmt)).scalars().all()


async def revoke_api_key(tx: Tx, key: ApiKey, when: datetime) -> None:
    key.date_revoked = when
    tx.add(key)


async def announce_credentials(tx: Tx, sid: str) -> None:
    """Tell every replica (PostgreSQL: NOTIFY, delivered at commit) that `sid`'s credentials
    changed. The caller also forgets its own cache after the commit."""
    if tx.get_bind().dialect.name == "postgresql":
        await tx.execute(text("SELECT pg_notify(:c, :sid)"), {"c": CREDENTIALS_CHANNEL, "sid": sid})


async def persisted_query(session: AsyncSession, sha256: str) -> str | None:
    stmt = select(col(PersistedQuery.document)).where(col(PersistedQuery.sha256) == sha256)
    return (await session.execute(stmt)).scalar_one_or_none()
