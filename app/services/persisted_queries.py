"""Persisted GraphQL documents (Apollo APQ), shared by every replica through the database
(app/graphql/persisted.py decides what to look up and keep)."""

from __future__ import annotations

from app.services.context import Services
from app.store import access
from app.store.engine import Tx


async def find(svc: Services, sha256: str) -> str | None:
    async with svc.db.read() as s:
        return await access.persisted_query(s, sha256)


async def save(svc: Services, sha256: str, document: str) -> None:
    async def keep(tx: Tx) -> None:
        await access.save_persisted_query(tx, sha256, document, svc.clock())

    await svc.run(keep)
