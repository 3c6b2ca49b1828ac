"""Every SELECT of Portico lives here, keyset pagination included (DESIGN sections 3 and 4).

Visibility: `visible` is the set of account SIDs a caller may read, or None for operators
(every account). A row outside it behaves exactly like a row that does not exist.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from app.store.tables import (
    Account,
    Event,
    IdempotencyKey,
    IncomingPhoneNumber,
    Loa,
    Operator,
    PortOrder,
    PortOrderError,
)

Visible = frozenset[str] | None
T = TypeVar("T", bound=SQLModel)
R = TypeVar("R")


@dataclass(frozen=True)
class PortOrderFilter:
    sid: str | None = None
    account_sid: str | None = None
    company_name: str | None = None
    email: str | None = None
    loa_sid: str | None = None
    provider_sid: str | None = None
    zendesk_id: str | None = None
    activation_date_min: datetime | None = None
    activation_date_max: datetime | None = None
    incoming_phone_number_sid: str | None = None
    number: str | None = None
    status: str | None = None
    friendly_name: str | None = None


@dataclass(frozen=True)
class LoaFilter:
    sid: str | None = None
    status: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None


@dataclass
class Page(Generic[R]):
    """One page in list order (newest first). `has_more` tells whether rows exist beyond the
    page in the direction it was read (older for forward pages, newer for backward ones)."""

    items: list[R]
    has_more: bool
    backward: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def _visible(column: Any, visible: Visible) -> list[ColumnElement[bool]]:
    return [] if visible is None else [column.in_(visible)]


# --- accounts and operators ------------------------------------------------------------


async def account_by_sid(session: AsyncSession, sid: str) -> Account | None:
    return (await session.execute(select(Account).where(Account.sid == sid))).scalar_one_or_none()


async def subaccount_sids(session: AsyncSession, parent_sid: str) -> list[str]:
    rows = await session.execute(select(Account.sid).where(Account.parent_sid == parent_sid))
    return list(rows.scalars())


async def list_accounts(session: AsyncSession) -> Sequence[Account]:
    return (await session.execute(select(Account).order_by(Account.id))).scalars().all()


async def operator_by_sid(session: AsyncSession, sid: str) -> Operator | None:
    stmt = select(Operator).where(Operator.sid == sid)
    return (await session.execute(stmt)).scalar_one_or_none()


# --- port orders -----------------------------------------------------------------------


async def port_order(
    session: AsyncSession, sid: str, visible: Visible, *, for_update: bool = False
) -> PortOrder | None:
    stmt = select(PortOrder).where(PortOrder.sid == sid, *_visible(PortOrder.account_sid, visible))
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def port_orders_by_sids(
    session: AsyncSession, sids: Collection[str], visible: Visible
) -> dict[str, PortOrder]:
    if not sids:
        return {}
    stmt = select(PortOrder).where(
        PortOrder.sid.in_(list(sids)), *_visible(PortOrder.account_sid, visible)
    )
    return {o.sid: o for o in (await session.execute(stmt)).scalars()}


async def open_order_for_number(session: AsyncSession, number: str) -> PortOrder | None:
    stmt = select(PortOrder).where(PortOrder.active_number == number)
    return (await session.execute(stmt)).scalar_one_or_none()


async def port_orders_of_loa(session: AsyncSession, loa_sid: str) -> Sequence[PortOrder]:
    stmt = select(PortOrder).where(PortOrder.loa_sid == loa_sid).order_by(PortOrder.id)
    return (await session.execute(stmt)).scalars().all()


async def errors_by_order(
    session: AsyncSession, order_sids: Collection[str]
) -> dict[str, list[PortOrderError]]:
    out: dict[str, list[PortOrderError]] = {sid: [] for sid in order_sids}
    if not order_sids:
        return out
    stmt = (
        select(PortOrderError)
        .where(PortOrderError.port_order_sid.in_(list(order_sids)))
        .order_by(PortOrderError.id)
    )
    for err in (await session.execute(stmt)).scalars():
        out[err.port_order_sid].append(err)
    return out


# --- idempotency keys ---------------------------------------------------------------------------


async def idempotency_key(
    session: AsyncSession, account_sid: str, key: str, since: datetime
) -> IdempotencyKey | None:
    """The key's row when it was stored at or after `since` (older rows have expired)."""
    stmt = select(IdempotencyKey).where(
        IdempotencyKey.account_sid == account_sid,
        IdempotencyKey.key == key,
        IdempotencyKey.date_created >= since,  # type: ignore[operator]
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def delete_expired_idempotency_key(
    session: AsyncSession, account_sid: str, key: str, before: datetime
) -> None:
    await session.execute(
        delete(IdempotencyKey).where(
            IdempotencyKey.account_sid == account_sid,  # type: ignore[arg-type]
            IdempotencyKey.key == key,  # type: ignore[arg-type]
            IdempotencyKey.date_created < before,  # type: ignore[operator]
        )
    )


def _order_conditions(f: PortOrderFilter) -> list[ColumnElement[bool]]:
    c = PortOrder
    conds: list[ColumnElement[bool]] = []
    pairs: list[tuple[Any, Any]] = [
        (c.sid, f.sid),
        (c.account_sid, f.account_sid),
        (c.company_name, f.company_name),
        (c.email, f.email),
        (c.loa_sid, f.loa_sid),
        (c.provider_sid, f.provider_sid),
        (c.zendesk_id, f.zendesk_id),
        (c.number, f.number),
        (c.status, f.status),
        (c.friendly_name, f.friendly_name),
        (c.incoming_phone_number_sid, f.incoming_phone_number_sid),
    ]
    conds.extend(col == value for col, value in pairs if value is not None)
    if f.activation_date_min is not None:
        conds.append(c.activation_date >= f.activation_date_min)  # type: ignore[operator]
    if f.activation_date_max is not None:
        conds.append(c.activation_date <= f.activation_date_max)  # type: ignore[operator]
    return conds


async def key_of(session: AsyncSession, model: type[T], sid: str, visible: Visible) -> int | None:
    """The keyset key (id) of a visible row, or None when it does not exist for this caller."""
    col_sid: Any = model.sid  # type: ignore[attr-defined]
    col_acc: Any = model.account_sid  # type: ignore[attr-defined]
    stmt = select(model.id).where(col_sid == sid, *_visible(col_acc, visible))  # type: ignore[attr-defined]
    return (await session.execute(stmt)).scalar_one_or_none()


async def _keyset(
    session: AsyncSession,
    model: type[T],
    conds: list[ColumnElement[bool]],
    limit: int,
    after_key: int | None,
    before_key: int | None,
) -> Page[T]:
    key: Any = model.id  # type: ignore[attr-defined]
    if before_key is not None:
        stmt = select(model).where(*conds, key > before_key).order_by(key.asc()).limit(limit + 1)
        rows = list((await session.execute(stmt)).scalars())
        return Page(list(reversed(rows[:limit])), len(rows) > limit, backward=True)
    if after_key is not None:
        conds = [*conds, key < after_key]
    stmt = select(model).where(*conds).order_by(key.desc()).limit(limit + 1)
    rows = list((await session.execute(stmt)).scalars())
    return Page(rows[:limit], len(rows) > limit)


async def list_port_orders(
    session: AsyncSession,
    visible: Visible,
    f: PortOrderFilter,
    limit: int,
    after_key: int | None = None,
    before_key: int | None = None,
) -> Page[PortOrder]:
    conds = [*_visible(PortOrder.account_sid, visible), *_order_conditions(f)]
    return await _keyset(session, PortOrder, conds, limit, after_key, before_key)


async def count_port_orders(session: AsyncSession, visible: Visible, f: PortOrderFilter) -> int:
    conds = [*_visible(PortOrder.account_sid, visible), *_order_conditions(f)]
    stmt = select(func.count()).select_from(PortOrder).where(*conds)
    return int((await session.execute(stmt)).scalar_one())


# --- LOAs --------------------------------------------------------------------------------


async def loa(
    session: AsyncSession, sid: str, visible: Visible, *, for_update: bool = False
) -> Loa | None:
    stmt = select(Loa).where(Loa.sid == sid, *_visible(Loa.account_sid, visible))
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def loas_by_sids(
    session: AsyncSession, sids: Collection[str], visible: Visible
) -> dict[str, Loa]:
    if not sids:
        return {}
    stmt = select(Loa).where(Loa.sid.in_(list(sids)), *_visible(Loa.account_sid, visible))
    return {x.sid: x for x in (await session.execute(stmt)).scalars()}


async def open_loa_for_group(session: AsyncSession, group_key: str) -> Loa | None:
    stmt = select(Loa).where(Loa.open_group_key == group_key)
    return (await session.execute(stmt)).scalar_one_or_none()


def _loa_conditions(f: LoaFilter) -> list[ColumnElement[bool]]:
    pairs: list[tuple[Any, Any]] = [
        (Loa.sid, f.sid),
        (Loa.status, f.status),
        (Loa.first_name, f.first_name),
        (Loa.last_name, f.last_name),
        (Loa.email, f.email),
    ]
    return [col == value for col, value in pairs if value is not None]


async def list_loas(
    session: AsyncSession,
    visible: Visible,
    f: LoaFilter,
    limit: int,
    after_key: int | None = None,
    before_key: int | None = None,
) -> Page[Loa]:
    conds = [*_visible(Loa.account_sid, visible), *_loa_conditions(f)]
    return await _keyset(session, Loa, conds, limit, after_key, before_key)


async def count_loas(session: AsyncSession, visible: Visible, f: LoaFilter) -> int:
    conds = [*_visible(Loa.account_sid, visible), *_loa_conditions(f)]
    stmt = select(func.count()).select_from(Loa).where(*conds)
    return int((await session.execute(stmt)).scalar_one())


# --- inventory -----------------------------------------------------------------------------


async def inventory_number(session: AsyncSession, number: str) -> IncomingPhoneNumber | None:
    stmt = select(IncomingPhoneNumber).where(IncomingPhoneNumber.number == number)
    return (await session.execute(stmt)).scalar_one_or_none()


# --- event log -------------------------------------------------------------------------------


async def events_after(
    session: AsyncSession,
    after_id: int,
    limit: int,
    *,
    visible: Visible = None,
    resource_sid: str | None = None,
    resource_type: str | None = None,
) -> Sequence[Event]:
    conds: list[ColumnElement[bool]] = [Event.id > after_id]  # type: ignore[operator]
    conds += _visible(Event.account_sid, visible)
    if resource_sid is not None:
        conds.append(Event.resource_sid == resource_sid)
    if resource_type is not None:
        conds.append(Event.resource_type == resource_type)
    stmt = select(Event).where(*conds).order_by(Event.id).limit(limit)  # type: ignore[arg-type]
    return (await session.execute(stmt)).scalars().all()


async def last_event_id(session: AsyncSession) -> int:
    return int((await session.execute(select(func.max(Event.id)))).scalar_one() or 0)


async def events_of_resource(
    session: AsyncSession,
    resource_sid: str,
    limit: int,
    after_id: int | None = None,
    before_id: int | None = None,
) -> Page[Event]:
    """An order's or LOA's timeline, oldest first (events are read in the order they happened)."""
    conds: list[ColumnElement[bool]] = [Event.resource_sid == resource_sid]
    key: Any = Event.id
    if before_id is not None:
        stmt = select(Event).where(*conds, key < before_id).order_by(key.desc()).limit(limit + 1)
        rows = list((await session.execute(stmt)).scalars())
        return Page(list(reversed(rows[:limit])), len(rows) > limit, backward=True)
    if after_id is not None:
        conds.append(key > after_id)
    stmt = select(Event).where(*conds).order_by(key.asc()).limit(limit + 1)
    rows = list((await session.execute(stmt)).scalars())
    return Page(rows[:limit], len(rows) > limit)
