"""The queries of comments (ARCHITECTURE.md §3: queries live in app/store): a subject's thread,
oldest first, keyset-paged on the comment's id."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.store.queries import Page, Visible, Window, _count_per_parent, _windowed
from app.store.tables import Comment, PortOrder


def _visible(visible: Visible) -> list[ColumnElement[bool]]:
    return [] if visible is None else [col(Comment.account_sid).in_(visible)]


async def key_of(session: AsyncSession, subject_sid: str, sid: str) -> int | None:
    """The keyset key of a comment of this subject (None: no such comment on it)."""
    stmt = select(col(Comment.id)).where(
        col(Comment.sid) == sid, col(Comment.subject_sid) == subject_sid
    )
    key: int | None = (await session.execute(stmt)).scalar_one_or_none()
    return key


async def visible_key(session: AsyncSession, sid: str, visible: Visible) -> int | None:
    """The keyset key of a comment the caller may read (None: none such)."""
    stmt = select(col(Comment.id)).where(col(Comment.sid) == sid, *_visible(visible))
    key: int | None = (await session.execute(stmt)).scalar_one_or_none()
    return key


async def thread(
    session: AsyncSession, subject_sid: str, limit: int, after_key: int | None = None
) -> Page[Comment]:
    """One page of a subject's comments, oldest first, after `after_key`."""
    key: Any = Comment.id
    conds: list[Any] = [col(Comment.subject_sid) == subject_sid]
    if after_key is not None:
        conds.append(key > after_key)
    stmt = select(Comment).where(*conds).order_by(key.asc()).limit(limit + 1)
    rows = list((await session.execute(stmt)).scalars())
    return Page(rows[:limit], len(rows) > limit)


async def threads(
    session: AsyncSession, subject_sids: Collection[str], visible: Visible, w: Window
) -> dict[str, Page[Comment]]:
    """Each subject's comments, oldest first, one page per subject, in one statement."""
    return await _windowed(
        session,
        Comment,
        Comment.subject_sid,
        subject_sids,
        _visible(visible),
        w,
        newest_first=False,
    )


async def count_threads(
    session: AsyncSession, subject_sids: Collection[str], visible: Visible
) -> dict[str, int]:
    return await _count_per_parent(
        session, Comment, Comment.subject_sid, subject_sids, _visible(visible)
    )


async def first_order_of_request(session: AsyncSession, request_sid: str) -> PortOrder | None:
    """The oldest order of a Port Request (its orders share the signer's addresses), or None."""
    stmt = (
        select(PortOrder)
        .where(col(PortOrder.port_request_sid) == request_sid)
        .order_by(col(PortOrder.id).asc())
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()
