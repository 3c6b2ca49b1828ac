"""Every SELECT of Portico lives here, keyset pagination included (ARCHITECTURE.md §3, §4).

Visibility: `visible` is the set of account SIDs a caller may read, or None for operators
(every account). A row outside it behaves exactly like a row that does not exist.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from types import SimpleNamespace
from typing import Any, Generic, TypeVar, cast

from sqlalchemy import (
    ColumnElement,
    and_,
    bindparam,
    delete,
    false,
    func,
    insert,
    literal,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.types import NullType
from sqlmodel import SQLModel, col

from app.store import bulk
from app.store.engine import Tx
from app.store.events import below_horizon
from app.store.prepared import Prepared
from app.store.tables import (
    Account,
    Delivery,
    DeliveryAttempt,
    Event,
    IdempotencyKey,
    IncomingPhoneNumber,
    Job,
    Loa,
    Operator,
    PortOrder,
    PortOrderError,
    PortRequest,
)

Visible = frozenset[str] | None
# What a read of read-only rows runs on: a session, or a plain connection (Database.read_rows).
Reader = AsyncSession | AsyncConnection
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
    port_request_sid: str | None = None


@dataclass(frozen=True)
class LoaFilter:
    sid: str | None = None
    status: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class PortRequestFilter:
    status: str | None = None


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


# Read paths (pages and batches of GraphQL and REST) take `rows=True`: a SQLAlchemy Core select
# of the table, whose rows answer the same attribute reads as the table class (every column,
# by its attribute name, through the same column types) without the ORM's identity map,
# instrumented attributes and per-instance state. They are read-only and have no
# relationships, which is all a serializer needs; they are typed as the table class for their
# readers. Writers keep loading table objects.


def _entity(model: type[T], rows: bool) -> Any:
    return model.__table__ if rows else model


async def _all(session: Reader, stmt: Any, rows: bool) -> list[Any]:
    result = await session.execute(stmt)
    return list(result.all() if rows else result.scalars())


# --- accounts and operators ------------------------------------------------------------


async def account_by_sid(session: AsyncSession, sid: str) -> Account | None:
    return (await session.execute(select(Account).where(Account.sid == sid))).scalar_one_or_none()


async def accounts_by_sids(session: AsyncSession, sids: Collection[str]) -> dict[str, Account]:
    if not sids:
        return {}
    stmt = select(Account).where(Account.sid.in_(list(sids)))
    return {a.sid: a for a in (await session.execute(stmt)).scalars()}


_ACCOUNT_FAMILY = select(Account).where(
    or_(Account.sid == bindparam("sid"), Account.parent_sid == bindparam("sid"))
)


async def account_family(session: AsyncSession, sid: str) -> Sequence[Account]:
    """The account and its subaccounts, in one statement (authentication runs per request)."""
    return (await session.execute(_ACCOUNT_FAMILY, {"sid": sid})).scalars().all()


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
    session: Reader, sids: Collection[str], visible: Visible, *, rows: bool = False
) -> dict[str, PortOrder]:
    if not sids:
        return {}
    stmt = select(_entity(PortOrder, rows)).where(
        PortOrder.sid.in_(list(sids)), *_visible(PortOrder.account_sid, visible)
    )
    return {o.sid: o for o in await _all(session, stmt, rows)}


_NUMBER_HOLDERS = select(
    select(literal(True))
    .where(IncomingPhoneNumber.number == bindparam("number"))
    .scalar_subquery(),
    select(col(PortOrder.sid))
    .where(PortOrder.active_number == bindparam("number"))
    .scalar_subquery(),
)


async def number_holders(session: AsyncSession, number: str) -> tuple[bool, str | None]:
    """Whether `number` is in an inventory, and the SID of the open order holding it: one
    statement (a create asks both), built once."""
    row = (await session.execute(_NUMBER_HOLDERS, {"number": number})).one()
    return bool(row[0]), row[1]


# One row whatever the LOAs hold: the two answers of _NUMBER_HOLDERS beside the SID of the
# open LOA of a group, or NULLs. Compiled once per dialect and run as its SQL string on the
# transaction's connection (bulk.Compiled): no ORM execution, no LOA instance loaded.
_ONE_ROW = select(literal(1).label("one")).subquery("one_row")
_NUMBER_HOLDERS_AND_OPEN_LOA = (
    select(*_NUMBER_HOLDERS.selected_columns, col(Loa.sid))
    .select_from(_ONE_ROW)
    .outerjoin(Loa, Loa.open_group_key == bindparam("key"))
)
_HOLDERS_COMPILED: dict[str, bulk.Compiled] = {}


async def number_holders_and_open_loa(
    tx: Tx, number: str, group_key: str
) -> tuple[bool, str | None, str | None]:
    """`number_holders` and the SID of `open_loa_for_group` in one statement: what a create
    reads."""
    conn = await tx.connection()
    stmt = _HOLDERS_COMPILED.get(conn.dialect.name)
    if stmt is None:
        stmt = bulk.Compiled.of(_NUMBER_HOLDERS_AND_OPEN_LOA, conn.dialect)
        _HOLDERS_COMPILED[conn.dialect.name] = stmt
    row = (await stmt.execute(conn, {"number": number, "key": group_key})).one()
    return bool(row[0]), row[1], row[2]


async def port_orders_of_loa(session: AsyncSession, loa_sid: str) -> Sequence[PortOrder]:
    stmt = select(PortOrder).where(PortOrder.loa_sid == loa_sid).order_by(PortOrder.id)
    return (await session.execute(stmt)).scalars().all()


async def loa_covers_uncanceled(session: AsyncSession, loa_sid: str) -> bool:
    """Whether an order the LOA covers is not canceled (one row read at most)."""
    stmt = (
        select(col(PortOrder.id))
        .where(PortOrder.loa_sid == loa_sid, PortOrder.status != "CANCELED")
        .limit(1)
    )
    return (await session.execute(stmt)).first() is not None


async def held_numbers(session: AsyncSession, numbers: Collection[str]) -> dict[str, int]:
    """Which of `numbers` no new order may take, in one statement: 21838 for a number in an
    inventory, else 21837 for one held by an open order."""
    if not numbers:
        return {}
    wanted = list(numbers)
    stmt = (
        select(col(IncomingPhoneNumber.number), literal(21838))
        .where(IncomingPhoneNumber.number.in_(wanted))
        .union_all(
            select(col(PortOrder.active_number), literal(21837)).where(
                PortOrder.active_number.in_(wanted)
            )
        )
    )
    out: dict[str, int] = {}
    for number, code in (await session.execute(stmt)).all():
        out[number] = max(out.get(number, 0), int(code))
    return out


async def errors_by_order(
    session: Reader, order_sids: Collection[str], *, rows: bool = False
) -> dict[str, list[PortOrderError]]:
    out: dict[str, list[PortOrderError]] = {sid: [] for sid in order_sids}
    if not order_sids:
        return out
    if rows and isinstance(session, AsyncConnection) and len(out) <= _PREPARED_ERRORS_MAX:
        # (a REST page's errors: a statement built once per count of orders)
        params = {f"v{i}": sid for i, sid in enumerate(out)}
        found = await _errors_of(len(out)).all(session, params)
    else:
        stmt = (
            select(_entity(PortOrderError, rows))
            .where(PortOrderError.port_order_sid.in_(list(order_sids)))
            .order_by(PortOrderError.id)
        )
        found = await _all(session, stmt, rows)
    for err in found:
        out[err.port_order_sid].append(err)
    return out


_PREPARED_ERRORS_MAX = 100
_ERRORS_OF: dict[int, Prepared] = {}


def _errors_of(n: int) -> Prepared:
    found = _ERRORS_OF.get(n)
    if found is None:
        errors = PortOrderError.__table__
        stmt = select(errors).where(*_in_binds(errors.c.port_order_sid, n)).order_by(errors.c.id)
        found = _ERRORS_OF[n] = Prepared(stmt)
    return found


# --- idempotency keys ---------------------------------------------------------------------------


async def idempotency_key(
    session: AsyncSession, account_sid: str, key: str, since: datetime
) -> IdempotencyKey | None:
    """The key's row when it was stored at or after `since` (older rows have expired)."""
    stmt = select(IdempotencyKey).where(
        IdempotencyKey.account_sid == account_sid,
        IdempotencyKey.key == key,
        IdempotencyKey.date_created >= since,
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def delete_expired_idempotency_key(
    session: AsyncSession, account_sid: str, key: str, before: datetime
) -> None:
    await session.execute(
        delete(IdempotencyKey).where(
            IdempotencyKey.account_sid == account_sid,
            IdempotencyKey.key == key,
            IdempotencyKey.date_created < before,
        )
    )


def _order_conditions(f: PortOrderFilter) -> list[ColumnElement[bool]]:
    c: Any = PortOrder
    conds: list[ColumnElement[bool]] = [
        getattr(c, name) == value
        for name in _ORDER_EQUALS
        if (value := getattr(f, name)) is not None
    ]
    if f.activation_date_min is not None:
        conds.append(c.activation_date >= f.activation_date_min)
    if f.activation_date_max is not None:
        conds.append(c.activation_date <= f.activation_date_max)
    return conds


async def key_of(session: Reader, model: type[T], sid: str, visible: Visible) -> int | None:
    """The keyset key (id) of a visible row, or None when it does not exist for this caller."""
    col_sid: Any = model.sid
    col_acc: Any = model.account_sid
    stmt = select(model.id).where(col_sid == sid, *_visible(col_acc, visible))
    key: int | None = (await session.execute(stmt)).scalar_one_or_none()
    return key


async def _keyset(
    session: Reader,
    model: type[T],
    conds: list[ColumnElement[bool]],
    limit: int,
    after_key: int | None,
    before_key: int | None,
    from_end: bool = False,
    *,
    rows: bool = False,
    base: Any = None,
) -> Page[T]:
    """Newest first. `from_end` reads the last (oldest) rows, as GraphQL `last` without
    `before` does; `before_key` reads the rows just before it, both returned in list order.
    `base`: the select to page (rows only; default: the table's)."""
    key: Any = model.id
    start: Any = base
    if start is None:
        start = select(_entity(model, rows))
    if before_key is not None or from_end:
        if before_key is not None:
            conds = [*conds, key > before_key]
        stmt = start.where(*conds).order_by(key.asc()).limit(limit + 1)
        found = await _all(session, stmt, rows)
        return Page(list(reversed(found[:limit])), len(found) > limit, backward=True)
    if after_key is not None:
        conds = [*conds, key < after_key]
    stmt = start.where(*conds).order_by(key.desc()).limit(limit + 1)
    found = await _all(session, stmt, rows)
    return Page(found[:limit], len(found) > limit)


@dataclass(frozen=True)
class Window:
    """One keyset page per parent row, for batched reads (GraphQL dataloaders).

    `limit` rows per parent; `after_key`/`before_key` are keys (ids) on the list order;
    `from_end` reads the end of each list (GraphQL `last` without `before`)."""

    limit: int
    after_key: int | None = None
    before_key: int | None = None
    from_end: bool = False

    @property
    def backward(self) -> bool:
        return self.before_key is not None or self.from_end


async def _windowed(
    session: AsyncSession,
    model: type[T],
    parent: Any,
    parents: Collection[str],
    conds: list[ColumnElement[bool]],
    w: Window,
    *,
    newest_first: bool,
) -> dict[str, Page[T]]:
    """The first `w.limit` rows of each parent's list in ONE statement:
    ROW_NUMBER() OVER (PARTITION BY parent ORDER BY id), kept where the number <= limit + 1
    (the extra row tells whether more exist). Works on SQLite and PostgreSQL."""
    out: dict[str, Page[T]] = {p: Page([], False, backward=w.backward) for p in parents}
    if not parents:
        return out
    key: Any = model.id
    # Reading direction: forward on a newest-first list reads ids downwards, and so on.
    descending = newest_first != w.backward
    conds = [*conds, parent.in_(list(parents))]
    if w.after_key is not None and not w.backward:
        conds.append(key < w.after_key if newest_first else key > w.after_key)
    if w.before_key is not None:
        conds.append(key > w.before_key if newest_first else key < w.before_key)
    rn = (
        func.row_number()
        .over(partition_by=parent, order_by=key.desc() if descending else key.asc())
        .label("rn")
    )
    inner = select(model, rn).where(*conds).subquery()
    row: Any = aliased(model, inner)
    stmt = (
        select(row)
        .where(inner.c.rn <= w.limit + 1)
        .order_by(getattr(inner.c, parent.key), inner.c.rn)
    )
    grouped: dict[str, list[T]] = {p: [] for p in parents}
    for item in (await session.execute(stmt)).scalars():
        grouped[getattr(item, parent.key)].append(item)
    for p, rows in grouped.items():
        items = rows[: w.limit]
        if w.backward:
            items.reverse()
        out[p] = Page(items, len(rows) > w.limit, backward=w.backward)
    return out


async def _count_per_parent(
    session: AsyncSession, model: type[T], parent: Any, parents: Collection[str], conds: list[Any]
) -> dict[str, int]:
    out = dict.fromkeys(parents, 0)
    if not parents:
        return out
    stmt = (
        select(parent, func.count())
        .select_from(model)
        .where(parent.in_(list(parents)), *conds)
        .group_by(parent)
    )
    for sid, n in (await session.execute(stmt)).all():
        out[sid] = int(n)
    return out


# The page of orders (GraphQL `portOrders`, REST's list), with or without its LOAs, is the
# hottest read: its statements are built once per shape (app/store/prepared.py), every value a
# bind parameter. The shape: the filters given, how many accounts are visible (None: all),
# the direction, whether a cursor bounds it.
# Every filter but the two date bounds compares a column of the same name for equality (one
# list for both ways of running a page: _order_conditions and the prepared statements).
_ORDER_EQUALS = tuple(
    f.name
    for f in fields(PortOrderFilter)
    if f.name not in ("activation_date_min", "activation_date_max")
)
_OrderShape = tuple[bool, int | None, tuple[str, ...], bool, bool, bool]
_ORDER_PAGES: dict[_OrderShape, Prepared] = {}
_LOA_PREFIX = "loa__"


def _order_filter_params(f: PortOrderFilter) -> dict[str, Any]:
    params = {f"f_{name}": getattr(f, name) for name in _ORDER_EQUALS}
    params["f_activation_date_min"] = f.activation_date_min
    params["f_activation_date_max"] = f.activation_date_max
    return {k: v for k, v in params.items() if v is not None}


def _order_page(shape: _OrderShape) -> Prepared:
    found = _ORDER_PAGES.get(shape)
    if found is None:
        found = _ORDER_PAGES[shape] = Prepared(_order_page_stmt(*shape))
    return found


def _in_binds(column: Any, n: int | None) -> list[ColumnElement[bool]]:
    """`column IN (:v0, :v1, ...)`; nothing for None (every account), false for none."""
    if n is None:
        return []
    return [column.in_([bindparam(f"v{i}") for i in range(n)]) if n else false()]


def _order_page_stmt(
    loas: bool,
    n_visible: int | None,
    filters: tuple[str, ...],
    backward: bool,
    after: bool,
    before: bool,
) -> Any:
    orders, loa_t = PortOrder.__table__, Loa.__table__
    if loas:
        on = [loa_t.c.sid == orders.c.loa_sid, *_in_binds(loa_t.c.account_sid, n_visible)]
        # The LOA's columns untyped: no result processing per row (every order of one LOA
        # repeats them), only once per LOA in list_port_orders_with_loas.
        loa_columns = (type_coerce(c, NullType()).label(_LOA_PREFIX + c.key) for c in loa_t.c)
        stmt = select(orders, *loa_columns).select_from(orders.outerjoin(loa_t, and_(*on)))
    else:
        stmt = select(orders)
    conds = _in_binds(orders.c.account_sid, n_visible)
    for name in filters:
        column = name.removeprefix("f_")
        if column == "activation_date_min":
            conds.append(orders.c.activation_date >= bindparam(name))
        elif column == "activation_date_max":
            conds.append(orders.c.activation_date <= bindparam(name))
        else:
            conds.append(orders.c[column] == bindparam(name))
    key = orders.c.id
    if backward:
        if before:
            conds.append(key > bindparam("before"))
        order = key.asc()
    else:
        if after:
            conds.append(key < bindparam("after"))
        order = key.desc()
    return stmt.where(*conds).order_by(order).limit(bindparam("limit"))


async def _order_rows(
    conn: AsyncConnection,
    visible: Visible,
    f: PortOrderFilter,
    limit: int,
    after_key: int | None,
    before_key: int | None,
    from_end: bool,
    loas: bool,
) -> Page[Any]:
    """`_keyset` over the orders (read-only rows), on a statement built once per shape."""
    params = _order_filter_params(f)
    n_visible = None
    if visible is not None:
        n_visible = len(visible)
        params.update((f"v{i}", sid) for i, sid in enumerate(sorted(visible)))
    backward = before_key is not None or from_end
    after = after_key is not None and not backward
    if before_key is not None:
        params["before"] = before_key
    if after:
        params["after"] = after_key
    params["limit"] = limit + 1
    filters = tuple(sorted(k for k in params if k.startswith("f_")))
    shape = (loas, n_visible, filters, backward, after, before_key is not None)
    found = await _order_page(shape).all(conn, params)
    if backward:
        return Page(list(reversed(found[:limit])), len(found) > limit, backward=True)
    return Page(found[:limit], len(found) > limit)


async def list_port_orders(
    session: Reader,
    visible: Visible,
    f: PortOrderFilter,
    limit: int,
    after_key: int | None = None,
    before_key: int | None = None,
    from_end: bool = False,
    *,
    rows: bool = False,
) -> Page[PortOrder]:
    if rows and isinstance(session, AsyncConnection):
        window = (limit, after_key, before_key, from_end)
        return await _order_rows(session, visible, f, *window, loas=False)
    conds = [*_visible(PortOrder.account_sid, visible), *_order_conditions(f)]
    return await _keyset(
        session, PortOrder, conds, limit, after_key, before_key, from_end, rows=rows
    )


async def list_port_orders_with_loas(
    session: AsyncConnection,
    visible: Visible,
    f: PortOrderFilter,
    limit: int,
    after_key: int | None = None,
    before_key: int | None = None,
    from_end: bool = False,
) -> tuple[Page[PortOrder], dict[str, Loa]]:
    """`list_port_orders` (read-only rows) and the LOAs of its orders by SID, in ONE
    statement: the page's orders LEFT JOINed to their LOAs, the LOAs' columns labelled
    `loa__<name>`. An LOA outside `visible` is left out, as `loas_by_sids` leaves it out. Each
    row reads as its order (the order's columns keep their names); each LOA is a read-only
    object of its own columns."""
    window = (limit, after_key, before_key, from_end)
    page = await _order_rows(session, visible, f, *window, loas=True)
    start, processors = _loa_processors(session.dialect)
    sid_at = start + _LOA_NAMES.index("sid")
    found: dict[str, Loa] = {}
    for row in page.items:
        sid = row[sid_at]
        if sid is not None and sid not in found:
            values = row[start:]
            loa = SimpleNamespace(
                **{
                    n: v if p is None else p(v)
                    for n, p, v in zip(_LOA_NAMES, processors, values, strict=True)
                }
            )
            found[sid] = cast(Loa, loa)
    return page, found


_Processors = tuple[int, tuple[Callable[[Any], Any] | None, ...]]
_LOA_PROCESSORS: dict[type[Dialect], _Processors] = {}


def _loa_processors(dialect: Dialect) -> _Processors:
    """Where the LOA's columns start in a joined page row, and each column's result processor
    on this dialect (what SQLAlchemy would have applied to it)."""
    found = _LOA_PROCESSORS.get(type(dialect))
    if found is None:
        processors = tuple(c.type._cached_result_processor(dialect, None) for c in Loa.__table__.c)
        found = _LOA_PROCESSORS[type(dialect)] = (len(PortOrder.__table__.c), processors)
    return found


_LOA_NAMES = tuple(c.key for c in Loa.__table__.c)


async def count_port_orders(session: AsyncSession, visible: Visible, f: PortOrderFilter) -> int:
    conds = [*_visible(PortOrder.account_sid, visible), *_order_conditions(f)]
    stmt = select(func.count()).select_from(PortOrder).where(*conds)
    return int((await session.execute(stmt)).scalar_one())


async def port_orders_of_loas(
    session: AsyncSession, loa_sids: Collection[str], visible: Visible, w: Window
) -> dict[str, Page[PortOrder]]:
    """Each LOA's orders, newest first, one page per LOA, in one statement."""
    conds = _visible(PortOrder.account_sid, visible)
    return await _windowed(
        session, PortOrder, PortOrder.loa_sid, loa_sids, conds, w, newest_first=True
    )


async def count_port_orders_of_loas(
    session: AsyncSession, loa_sids: Collection[str], visible: Visible
) -> dict[str, int]:
    conds = _visible(PortOrder.account_sid, visible)
    return await _count_per_parent(session, PortOrder, PortOrder.loa_sid, loa_sids, conds)


# --- LOAs --------------------------------------------------------------------------------


async def loa(
    session: AsyncSession, sid: str, visible: Visible, *, for_update: bool = False
) -> Loa | None:
    stmt = select(Loa).where(Loa.sid == sid, *_visible(Loa.account_sid, visible))
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def loas_by_sids(
    session: Reader, sids: Collection[str], visible: Visible, *, rows: bool = False
) -> dict[str, Loa]:
    if not sids:
        return {}
    stmt = select(_entity(Loa, rows)).where(
        Loa.sid.in_(list(sids)), *_visible(Loa.account_sid, visible)
    )
    return {x.sid: x for x in await _all(session, stmt, rows)}


_OPEN_LOA_FOR_GROUP = select(Loa).where(Loa.open_group_key == bindparam("key"))


async def open_loa_for_group(session: AsyncSession, group_key: str) -> Loa | None:
    return (await session.execute(_OPEN_LOA_FOR_GROUP, {"key": group_key})).scalar_one_or_none()


async def open_loas_for_groups(
    session: AsyncSession, group_keys: Collection[str]
) -> dict[str, Loa]:
    """The open LOA of each group that has one, by group key, in one statement."""
    if not group_keys:
        return {}
    stmt = select(Loa).where(Loa.open_group_key.in_(list(group_keys)))
    return {
        x.open_group_key: x for x in (await session.execute(stmt)).scalars() if x.open_group_key
    }


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
    from_end: bool = False,
) -> Page[Loa]:
    conds = [*_visible(Loa.account_sid, visible), *_loa_conditions(f)]
    return await _keyset(session, Loa, conds, limit, after_key, before_key, from_end)


async def count_loas(session: AsyncSession, visible: Visible, f: LoaFilter) -> int:
    conds = [*_visible(Loa.account_sid, visible), *_loa_conditions(f)]
    stmt = select(func.count()).select_from(Loa).where(*conds)
    return int((await session.execute(stmt)).scalar_one())


# --- port requests -------------------------------------------------------------------------


async def port_request(
    session: AsyncSession, sid: str, visible: Visible, *, for_update: bool = False
) -> PortRequest | None:
    stmt = select(PortRequest).where(
        PortRequest.sid == sid, *_visible(PortRequest.account_sid, visible)
    )
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def port_requests_by_sids(
    session: AsyncSession, sids: Collection[str], visible: Visible
) -> dict[str, PortRequest]:
    if not sids:
        return {}
    stmt = select(PortRequest).where(
        PortRequest.sid.in_(list(sids)), *_visible(PortRequest.account_sid, visible)
    )
    return {x.sid: x for x in (await session.execute(stmt)).scalars()}


def _request_conditions(f: PortRequestFilter) -> list[ColumnElement[bool]]:
    return [PortRequest.status == f.status] if f.status is not None else []


async def list_port_requests(
    session: AsyncSession,
    visible: Visible,
    f: PortRequestFilter,
    limit: int,
    after_key: int | None = None,
    before_key: int | None = None,
    from_end: bool = False,
) -> Page[PortRequest]:
    conds = [*_visible(PortRequest.account_sid, visible), *_request_conditions(f)]
    return await _keyset(session, PortRequest, conds, limit, after_key, before_key, from_end)


async def count_port_requests(session: AsyncSession, visible: Visible, f: PortRequestFilter) -> int:
    conds = [*_visible(PortRequest.account_sid, visible), *_request_conditions(f)]
    stmt = select(func.count()).select_from(PortRequest).where(*conds)
    return int((await session.execute(stmt)).scalar_one())


async def orders_of_requests(
    session: AsyncSession, request_sids: Collection[str]
) -> dict[str, list[PortOrder]]:
    """Every order of each request, oldest first (the order of its numbers), in one statement."""
    out: dict[str, list[PortOrder]] = {sid: [] for sid in request_sids}
    if not request_sids:
        return out
    stmt = (
        select(PortOrder)
        .where(PortOrder.port_request_sid.in_(list(request_sids)))
        .order_by(PortOrder.id)
    )
    for order in (await session.execute(stmt)).scalars():
        assert order.port_request_sid is not None
        out[order.port_request_sid].append(order)
    return out


async def loa_sids_of_requests(
    session: AsyncSession, request_sids: Collection[str]
) -> dict[str, list[str]]:
    """The LOAs covering each request's orders, in the order they first cover one."""
    out: dict[str, list[str]] = {sid: [] for sid in request_sids}
    if not request_sids:
        return out
    stmt = (
        select(col(PortOrder.port_request_sid), col(PortOrder.loa_sid))
        .where(PortOrder.port_request_sid.in_(list(request_sids)))
        .group_by(PortOrder.port_request_sid, PortOrder.loa_sid)
        .order_by(func.min(PortOrder.id))
    )
    for request_sid, loa_sid in (await session.execute(stmt)).all():
        out[str(request_sid)].append(loa_sid)
    return out


async def order_counts_of_request(session: AsyncSession, request_sid: str) -> dict[str, int]:
    """The request's orders per status (statuses without one left out)."""
    stmt = (
        select(col(PortOrder.status), func.count())
        .where(PortOrder.port_request_sid == request_sid)
        .group_by(PortOrder.status)
    )
    return {status: int(n) for status, n in (await session.execute(stmt)).all()}


async def port_orders_of_requests(
    session: AsyncSession, request_sids: Collection[str], visible: Visible, w: Window
) -> dict[str, Page[PortOrder]]:
    """Each request's orders, newest first, one page per request, in one statement."""
    conds = _visible(PortOrder.account_sid, visible)
    return await _windowed(
        session, PortOrder, PortOrder.port_request_sid, request_sids, conds, w, newest_first=True
    )


async def count_port_orders_of_requests(
    session: AsyncSession, request_sids: Collection[str], visible: Visible
) -> dict[str, int]:
    conds = _visible(PortOrder.account_sid, visible)
    return await _count_per_parent(
        session, PortOrder, PortOrder.port_request_sid, request_sids, conds
    )


# --- inventory -----------------------------------------------------------------------------


async def inventory_number(session: AsyncSession, number: str) -> IncomingPhoneNumber | None:
    stmt = select(IncomingPhoneNumber).where(IncomingPhoneNumber.number == number)
    return (await session.execute(stmt)).scalar_one_or_none()


async def incoming_phone_number(
    session: AsyncSession, sid: str, visible: Visible
) -> IncomingPhoneNumber | None:
    stmt = select(IncomingPhoneNumber).where(
        IncomingPhoneNumber.sid == sid, *_visible(IncomingPhoneNumber.account_sid, visible)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def incoming_phone_numbers_by_sids(
    session: AsyncSession, sids: Collection[str], visible: Visible
) -> dict[str, IncomingPhoneNumber]:
    if not sids:
        return {}
    stmt = select(IncomingPhoneNumber).where(
        IncomingPhoneNumber.sid.in_(list(sids)),
        *_visible(IncomingPhoneNumber.account_sid, visible),
    )
    return {x.sid: x for x in (await session.execute(stmt)).scalars()}


async def list_incoming_phone_numbers(
    session: AsyncSession,
    visible: Visible,
    limit: int,
    after_key: int | None = None,
    before_key: int | None = None,
    *,
    account_sid: str | None = None,
    number: str | None = None,
    from_end: bool = False,
) -> Page[IncomingPhoneNumber]:
    """An inventory, newest first (keyset on id)."""
    conds = _inventory_conditions(visible, account_sid, number)
    return await _keyset(
        session, IncomingPhoneNumber, conds, limit, after_key, before_key, from_end
    )


def _inventory_conditions(
    visible: Visible, account_sid: str | None, number: str | None
) -> list[ColumnElement[bool]]:
    conds = _visible(IncomingPhoneNumber.account_sid, visible)
    if account_sid is not None:
        conds.append(IncomingPhoneNumber.account_sid == account_sid)
    if number is not None:
        conds.append(IncomingPhoneNumber.number == number)
    return conds


async def count_incoming_phone_numbers(
    session: AsyncSession,
    visible: Visible,
    *,
    account_sid: str | None = None,
    number: str | None = None,
) -> int:
    conds = _inventory_conditions(visible, account_sid, number)
    stmt = select(func.count()).select_from(IncomingPhoneNumber).where(*conds)
    return int((await session.execute(stmt)).scalar_one())


# --- jobs (carrier scheduler) --------------------------------------------------------------


async def jobs_of_order(session: AsyncSession, order_sid: str) -> Sequence[Job]:
    stmt = select(Job).where(Job.port_order_sid == order_sid).order_by(Job.id)
    return (await session.execute(stmt)).scalars().all()


# --- event log -------------------------------------------------------------------------------


async def events_after(
    session: AsyncSession,
    after_id: int,
    limit: int,
    *,
    visible: Visible = None,
    resource_sid: str | None = None,
    resource_type: str | None = None,
    port_request_sid: str | None = None,
) -> Sequence[Event]:
    """Events by id, for inspection (tests, the CLI). Readers that must not miss a late commit
    (the hub, replays) go through app/store/events.read_after instead."""
    conds: list[ColumnElement[bool]] = [Event.id > after_id]
    conds += _visible(Event.account_sid, visible)
    if resource_sid is not None:
        conds.append(Event.resource_sid == resource_sid)
    if port_request_sid is not None:
        conds.append(Event.port_request_sid == port_request_sid)
    if resource_type is not None:
        conds.append(Event.resource_type == resource_type)
    stmt = select(Event).where(*conds).order_by(Event.id).limit(limit)
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
    """An order's or LOA's timeline, oldest first (events are read in the order they happened),
    up to the log's horizon (app/store/events.py)."""
    conds: list[ColumnElement[bool]] = [Event.resource_sid == resource_sid]
    conds += below_horizon(session)
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


async def events_of_resources(
    session: AsyncSession, resource_sids: Collection[str], visible: Visible, w: Window
) -> dict[str, Page[Event]]:
    """Each resource's timeline, oldest first, one page per resource, in one statement."""
    conds = _visible(Event.account_sid, visible) + below_horizon(session)
    return await _windowed(
        session, Event, Event.resource_sid, resource_sids, conds, w, newest_first=False
    )


async def count_events_of_resources(
    session: AsyncSession, resource_sids: Collection[str], visible: Visible
) -> dict[str, int]:
    conds = _visible(Event.account_sid, visible) + below_horizon(session)
    return await _count_per_parent(session, Event, Event.resource_sid, resource_sids, conds)


# --- deliveries (status callbacks and email) ---------------------------------------------


async def event_by_id(session: AsyncSession, event_id: int) -> Event | None:
    stmt = select(Event).where(col(Event.id) == event_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def events_by_ids(session: AsyncSession, ids: Collection[int]) -> dict[int, Event]:
    if not ids:
        return {}
    stmt = select(Event).where(col(Event.id).in_(list(ids)))
    return {e.id: e for e in (await session.execute(stmt)).scalars() if e.id is not None}


async def dead_deliveries(session: AsyncSession, dead: str, limit: int) -> Sequence[Delivery]:
    stmt = (
        select(Delivery)
        .where(col(Delivery.state) == dead)
        .order_by(col(Delivery.id).desc())
        .limit(limit)
    )
    return (await session.execute(stmt)).scalars().all()


async def delivery_by_sid(session: AsyncSession, sid: str) -> Delivery | None:
    stmt = select(Delivery).where(col(Delivery.sid) == sid)
    return (await session.execute(stmt)).scalar_one_or_none()


async def deliveries_by_order(
    session: AsyncSession,
    order_sids: Collection[str],
    visible: Visible,
    channel: str | None = None,
) -> dict[str, list[Delivery]]:
    """Each order's deliveries, oldest first."""
    out: dict[str, list[Delivery]] = {sid: [] for sid in order_sids}
    if not order_sids:
        return out
    conds: list[ColumnElement[bool]] = [
        col(Delivery.port_order_sid).in_(list(order_sids)),
        *_visible(Delivery.account_sid, visible),
    ]
    if channel is not None:
        conds.append(col(Delivery.channel) == channel)
    stmt = select(Delivery).where(*conds).order_by(col(Delivery.id))
    for d in (await session.execute(stmt)).scalars():
        assert d.port_order_sid is not None
        out[d.port_order_sid].append(d)
    return out


async def deliveries_of_event(session: AsyncSession, event_id: int) -> Sequence[Delivery]:
    stmt = select(Delivery).where(col(Delivery.event_id) == event_id).order_by(col(Delivery.id))
    return (await session.execute(stmt)).scalars().all()


async def attempts_by_delivery(
    session: AsyncSession, delivery_ids: Collection[int]
) -> dict[int, list[DeliveryAttempt]]:
    """Each delivery's attempts, oldest first."""
    out: dict[int, list[DeliveryAttempt]] = {i: [] for i in delivery_ids}
    if not delivery_ids:
        return out
    stmt = (
        select(DeliveryAttempt)
        .where(col(DeliveryAttempt.delivery_id).in_(list(delivery_ids)))
        .order_by(col(DeliveryAttempt.id))
    )
    for a in (await session.execute(stmt)).scalars():
        out[a.delivery_id].append(a)
    return out


async def add_delivery_attempts(session: AsyncSession, attempts: Sequence[dict[str, Any]]) -> None:
    """Insert attempts (each a dict of DeliveryAttempt's columns) in one statement."""
    if attempts:
        await session.execute(insert(DeliveryAttempt), list(attempts))


async def count_deliveries(
    session: AsyncSession, state: str | None = None, channel: str | None = None
) -> int:
    conds: list[ColumnElement[bool]] = []
    if state is not None:
        conds.append(col(Delivery.state) == state)
    if channel is not None:
        conds.append(col(Delivery.channel) == channel)
    stmt = select(func.count()).select_from(Delivery).where(*conds)
    return int((await session.execute(stmt)).scalar_one())
