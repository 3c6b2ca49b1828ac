"""The queries of documents: an order's list (metadata only: the bytes are deferred and never
loaded by a list) and one document with its bytes."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer
from sqlmodel import col

from app.store.queries import Page, Visible
from app.store.tables import Document, PortOrder

_METADATA = defer(Document.content)  # type: ignore[arg-type]


def _visible(visible: Visible) -> list[ColumnElement[bool]]:
    return [] if visible is None else [col(Document.account_sid).in_(visible)]


async def key_of(session: AsyncSession, order_sid: str, sid: str) -> int | None:
    stmt = select(col(Document.id)).where(
        col(Document.sid) == sid, col(Document.port_order_sid) == order_sid
    )
    key: int | None = (await session.execute(stmt)).scalar_one_or_none()
    return key


async def of_order(
    session: AsyncSession, order_sid: str, limit: int, after_key: int | None = None
) -> Page[Document]:
    """One page of an order's documents, oldest first, without their bytes."""
    key: Any = Document.id
    conds: list[Any] = [col(Document.port_order_sid) == order_sid]
    if after_key is not None:
        conds.append(key > after_key)
    stmt = select(Document).options(_METADATA).where(*conds).order_by(key.asc()).limit(limit + 1)
    rows = list((await session.execute(stmt)).scalars())
    return Page(rows[:limit], len(rows) > limit)


async def of_orders(
    session: AsyncSession, order_sids: Collection[str], visible: Visible
) -> dict[str, list[Document]]:
    """Every document of each order, oldest first, without their bytes (one statement)."""
    out: dict[str, list[Document]] = {sid: [] for sid in order_sids}
    if not order_sids:
        return out
    stmt = (
        select(Document)
        .options(_METADATA)
        .where(col(Document.port_order_sid).in_(list(order_sids)), *_visible(visible))
        .order_by(col(Document.id))
    )
    for row in (await session.execute(stmt)).scalars():
        out[row.port_order_sid].append(row)
    return out


async def with_content(
    session: AsyncSession, order_sid: str, sid: str, visible: Visible
) -> Document | None:
    """One document of the order, with its bytes."""
    stmt = select(Document).where(
        col(Document.sid) == sid, col(Document.port_order_sid) == order_sid, *_visible(visible)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def stored_loa_pdf(session: AsyncSession, loa_sid: str, file_name: str) -> bytes | None:
    """The signed PDF of an LOA as stored at signing (a `loa` document of one of its orders)."""
    stmt = (
        select(col(Document.content))
        .join(PortOrder, col(PortOrder.sid) == col(Document.port_order_sid))
        .where(
            col(PortOrder.loa_sid) == loa_sid,
            col(Document.document_type) == "loa",
            col(Document.file_name) == file_name,
        )
        .order_by(col(Document.id))
        .limit(1)
    )
    content: bytes | None = (await session.execute(stmt)).scalar_one_or_none()
    return content
