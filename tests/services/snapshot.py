"""Whole-database snapshots: prove that a failed request stored nothing (and changed nothing).

`snapshot(svc)` reads every table of the metadata, rows in primary-key order, so two snapshots
compare equal exactly when no row was added, removed or changed. `row_counts` is the short form
for messages. Tests may read tables directly; the application may not (app/store/queries.py).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlmodel import SQLModel

import app.store.tables  # noqa: F401 -- registers every table on the metadata
from app.services.context import Services

Snapshot = dict[str, list[tuple[Any, ...]]]


def tables() -> list[Any]:
    return list(SQLModel.metadata.sorted_tables)


async def snapshot(svc: Services) -> Snapshot:
    out: Snapshot = {}
    async with svc.db.read() as s:
        for table in tables():
            order = list(table.primary_key.columns)
            rows = (await s.execute(select(table).order_by(*order))).all()
            out[table.name] = [tuple(r) for r in rows]
    return out


async def row_counts(svc: Services) -> dict[str, int]:
    out: dict[str, int] = {}
    async with svc.db.read() as s:
        for table in tables():
            out[table.name] = int(
                (await s.execute(select(func.count()).select_from(table))).scalar_one()
            )
    return out


def counts(snap: Snapshot) -> dict[str, int]:
    return {name: len(rows) for name, rows in snap.items()}


def added(before: Snapshot, after: Snapshot) -> dict[str, int]:
    """Rows added per table (only the tables that grew)."""
    return {
        name: len(after[name]) - len(rows)
        for name, rows in before.items()
        if len(after[name]) != len(rows)
    }
