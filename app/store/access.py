"""Queries of API keys and persisted queries (app/services/api_keys.py, app/graphql/persisted.py),
and the cross-replica announcement that a credential changed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
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


async def save_persisted_query(tx: Tx, sha256: str, document: str, when: datetime) -> None:
    """Insert once: a replica that registered the same hash first wins (same text anyway)."""
    table: Any = PersistedQuery.__table__  # type: ignore[attr-defined]
    values = {"sha256": sha256, "document": document, "date_created": when}
    if tx.get_bind().dialect.name == "postgresql":
        stmt: Any = pg_insert(table).values(**values).on_conflict_do_nothing()
    else:
        stmt = sqlite_insert(table).values(**values).on_conflict_do_nothing()
    await tx.execute(stmt)
