"""The event log: appending inside the writer's transaction, and reading it without gaps.

Writers are not serialised. On PostgreSQL, event ids come from a sequence, so concurrent
transactions commit out of id order: a reader at "after id N" could move past an id that a
transaction still running fills in later. So every event also records the id of the
transaction that wrote it (`xact_id`, from `pg_current_xact_id()`), and readers go through the
log in (`xact_id`, `id`) order, only up to the oldest transaction still running
(`pg_snapshot_xmin` of the reader's snapshot): every transaction below that has ended, so no
event can appear there later. A reader's position is such a pair (`Position`); the public
cursor stays the event's id, and `position_of` turns it back into a position. An event
committed while an older transaction is still open waits for it (milliseconds) and is never
skipped. SQLite has one writer, which commits in id order: there `xact_id` is 0 and the
position is the id.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    BigInteger,
    Table,
    Text,
    bindparam,
    cast,
    func,
    insert,
    literal_column,
    select,
    tuple_,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlmodel import SQLModel, col

from app.porting import sids
from app.porting.notifications import Planned
from app.porting.statuses import Actor
from app.store import bulk, work
from app.store.engine import Tx
from app.store.pgbus import CHANNEL
from app.store.tables import Delivery, Event

# The writing transaction's id, as a number (xid8 has no cast to bigint but through text).
_XACT_ID = cast(cast(func.pg_current_xact_id(), Text), BigInteger)
# The horizon: the oldest transaction that was still running when this statement's snapshot
# was taken, or, when none was, the next xid to be assigned. Every transaction below it has
# ended, and its events are visible to the same statement. Transactions that pg_stat_activity
# shows running in another database of the server are left out, so they never hold Portico's
# readers back; one that has just ended stays in, which only delays a reader until its next
# read (never lets it skip).
_HORIZON: Any = literal_column(
    """(
    SELECT coalesce(
        min(x::text::bigint),
        pg_snapshot_xmax(pg_current_snapshot())::text::bigint
    )
    FROM pg_snapshot_xip(pg_current_snapshot()) AS x
    WHERE x::text::bigint % 4294967296 NOT IN (
        SELECT backend_xid::text::bigint FROM pg_stat_activity
        WHERE datname <> current_database() AND backend_xid IS NOT NULL
    )
)"""
)


class Position(NamedTuple):
    """A place in the log, in reading order."""

    xact_id: int
    id: int


START = Position(-1, 0)  # before every event


# Built once: a statement's construction costs more than its (cached) compilation.
_EVENTS = bulk.table_of(Event)
# On PostgreSQL the INSERT also queues the bus's notification of each event it appends
# (delivered to every replica's LISTEN connection when, if, the transaction commits): one
# round trip fewer than a `SELECT pg_notify` of its own.
_NOTIFY = func.pg_notify(CHANNEL, cast(_EVENTS.c.id, Text))


_RECORDED = "events_recorded"
NOTIFIED = "events_notified"  # tx.info: the newest event id the bus was notified of (PostgreSQL)


def record(
    tx: Tx,
    *,
    resource_type: str,
    resource_sid: str,
    account_sid: str,
    type: str,
    payload: dict[str, Any],
    actor: Actor,
    actor_sid: str | None,
    now: datetime,
    port_request_sid: str | None = None,
    deliveries: Sequence[Planned] = (),
) -> None:
    """Record one event and the deliveries it implies. Nothing is sent to the database yet:
    when the use case is done, still inside its transaction (`Tx.before_commit`), every event
    it recorded is appended with ONE statement, in the order recorded, and their deliveries
    with one more, or, on PostgreSQL, in the same statement (`write_recorded`). A create,
    whose order is created and then moved, thus appends its two events together."""
    new = NewEvent(
        resource_type, resource_sid, account_sid, type, payload, actor, actor_sid, port_request_sid
    )
    recorded: list[tuple[NewEvent, datetime, Sequence[Planned]]] | None = tx.info.get(_RECORDED)
    if recorded is None:
        recorded = tx.info[_RECORDED] = []
        tx.before_commit(_RECORDED, lambda: write_recorded(tx))
    recorded.append((new, now, deliveries))


async def write_recorded(tx: Tx) -> None:
    """Append the events recorded so far (one INSERT) and queue their deliveries (one more;
    on PostgreSQL both in one statement)."""
    recorded: list[tuple[NewEvent, datetime, Sequence[Planned]]] = tx.info.pop(_RECORDED, [])
    if not recorded:
        return
    conn = await tx.connection()
    rows = [_row(new, now) for new, now, _ in recorded]
    postgres = _postgres(tx)
    # New rows no flush has written yet (a created order: Tx.add_later) go with the events.
    later: list[Any] = tx.take_later()
    deliveries = sum(len(plans) for _, _, plans in recorded)
    if postgres and (later or deliveries) and _small(len(later), len(rows), deliveries):
        # Those rows, the events and their deliveries in ONE statement (one round trip).
        ids, later_ids = await _write_together(conn, later, recorded, rows)
        for row, row_id in zip(later, later_ids, strict=True):
            row.id = row_id
            tx.persisted(row)
        _appended(tx, ids)
        tx.info[NOTIFIED] = max(ids)
        if deliveries:
            work.written(tx, work.DELIVERIES)
        return
    for row in later:
        row.id = await _insert_row(conn, row)
        tx.persisted(row)
    if _small(0, len(rows), 0):  # a few events: a statement compiled once for their number
        ids = await _insert_events(conn, rows)
    else:
        stamp: dict[str, Any] = {"xact_id": _XACT_ID if postgres else 0}
        also = (_NOTIFY,) if postgres else ()
        ids = await bulk.insert_returning_ids(tx, Event, rows, fixed=stamp, also_returning=also)
    _appended(tx, ids)
    if postgres:
        tx.info[NOTIFIED] = max(ids)
    planned = [
        _delivery(event_id, new.account_sid, now, p)
        for event_id, (new, now, plans) in zip(ids, recorded, strict=True)
        for p in plans
    ]
    if planned:
        await _insert_deliveries(conn, planned)
        work.written(tx, work.DELIVERIES)


# A use case's few events (and new rows and deliveries) go by statements compiled once for
# their shape; a batch's many, by statements built for it (bulk.insert_returning_ids).
_FEW_EVENTS = 16
_FEW_ROWS = 4
_FEW_DELIVERIES = 64


def _small(new_rows: int, events: int, deliveries: int) -> bool:
    return new_rows <= _FEW_ROWS and events <= _FEW_EVENTS and deliveries <= _FEW_DELIVERIES


_INSERT_EVENTS: dict[tuple[str, int], bulk.Compiled] = {}


async def _insert_events(conn: AsyncConnection, rows: list[dict[str, Any]]) -> list[int]:
    """A few events by one INSERT compiled once for their number; their ids, in row order."""
    dialect = conn.dialect
    key = (dialect.name, len(rows))
    stmt = _INSERT_EVENTS.get(key)
    if stmt is None:
        postgres = dialect.name == "postgresql"
        values = [
            {"xact_id": _XACT_ID if postgres else 0}
            | {c: bindparam(f"e{i}_{c}", type_=_EVENTS.c[c].type) for c in _EVENT_COLUMNS}
            for i in range(len(rows))
        ]
        also = (_NOTIFY,) if postgres else ()
        built = insert(_EVENTS).values(values).returning(_EVENTS.c.id, *also)
        stmt = _INSERT_EVENTS[key] = bulk.Compiled.of(built, dialect)
    params = {f"e{i}_{c}": row[c] for i, row in enumerate(rows) for c in _EVENT_COLUMNS}
    # One statement assigns its keys in the order of its rows (app/store/bulk.py).
    ids = sorted(int(r[0]) for r in (await stmt.execute(conn, params)).all())
    if len(ids) != len(rows):
        raise RuntimeError(f"{len(rows)} events inserted, {len(ids)} ids returned")
    return ids


_INSERT_DELIVERIES: dict[str, bulk.Compiled] = {}


async def _insert_deliveries(conn: AsyncConnection, planned: list[dict[str, Any]]) -> None:
    stmt = _INSERT_DELIVERIES.get(conn.dialect.name)
    if stmt is None:
        columns = _columns(_DELIVERIES)
        built = insert(_DELIVERIES).values(
            {c: bindparam(c, type_=_DELIVERIES.c[c].type) for c in columns}
        )
        stmt = _INSERT_DELIVERIES[conn.dialect.name] = bulk.Compiled.of(built, conn.dialect)
    await stmt.execute_many(conn, planned)


# PostgreSQL: new rows, the events' INSERT and their deliveries' in one statement, built once
# for each shape (the tables of the new rows; how many deliveries each event has, in order):
# `r0`... insert the new rows, `ev` appends the events (ids in row order, each notifying the
# bus), `d` inserts each delivery with its event's id read from `ev`, and the statement returns
# the events' ids in order, each with the new rows' ids.
_DELIVERIES = bulk.table_of(Delivery)
_EVENT_COLUMNS = [c.name for c in _EVENTS.columns if c.name not in ("id", "xact_id")]
_DELIVERY_COLUMNS = [c.name for c in _DELIVERIES.columns if c.name not in ("id", "event_id")]
_Shape = tuple[tuple[str, ...], tuple[int, ...]]
_TOGETHER: dict[_Shape, bulk.Compiled] = {}
_SHAPES = 64  # the statements kept (a create has one shape per account setup)


def _columns(table: Table) -> list[str]:
    return [c.name for c in table.columns if c.name != "id"]


def _together(tables: Sequence[Table], shape: tuple[int, ...], dialect: Dialect) -> bulk.Compiled:
    key = (tuple(t.name for t in tables), shape)
    found = _TOGETHER.get(key)
    if found is not None:
        return found
    new_rows = [
        insert(table)
        .values({c: bindparam(f"r{j}_{c}", type_=table.c[c].type) for c in _columns(table)})
        .returning(table.c.id)
        .cte(f"r{j}")
        for j, table in enumerate(tables)
    ]
    event_rows = [
        {"xact_id": _XACT_ID}
        | {c: bindparam(f"e{i}_{c}", type_=_EVENTS.c[c].type) for c in _EVENT_COLUMNS}
        for i in range(len(shape))
    ]
    ev = insert(_EVENTS).values(event_rows).returning(_EVENTS.c.id, _NOTIFY).cte("ev")
    delivery_rows: list[dict[str, Any]] = []
    for i, count in enumerate(shape):
        event_id = select(ev.c.id).order_by(ev.c.id).offset(i).limit(1).scalar_subquery()
        for _ in range(count):
            k = len(delivery_rows)
            delivery_rows.append(
                {"event_id": event_id}
                | {
                    c: bindparam(f"d{k}_{c}", type_=_DELIVERIES.c[c].type)
                    for c in _DELIVERY_COLUMNS
                }
            )
    ctes = [*new_rows]
    if delivery_rows:
        ctes.append(insert(_DELIVERIES).values(delivery_rows).cte("d"))
    new_ids = [select(r.c.id).scalar_subquery() for r in new_rows]
    stmt = select(ev.c.id, *new_ids).add_cte(*ctes).order_by(ev.c.id)
    compiled = bulk.Compiled.of(stmt, dialect)
    if len(_TOGETHER) < _SHAPES:
        _TOGETHER[key] = compiled
    return compiled


async def _write_together(
    conn: AsyncConnection,
    later: Sequence[SQLModel],
    recorded: list[tuple[NewEvent, datetime, Sequence[Planned]]],
    rows: list[dict[str, Any]],
) -> tuple[list[int], list[int]]:
    """The new rows, the events recorded and their deliveries with one statement
    (PostgreSQL): the events' ids, and the new rows'."""
    params: dict[str, Any] = {}
    for j, new_row in enumerate(later):
        for c, value in bulk.values_of(new_row).items():
            params[f"r{j}_{c}"] = value
    k = 0
    for i, ((new, now, plans), row) in enumerate(zip(recorded, rows, strict=True)):
        for c in _EVENT_COLUMNS:
            params[f"e{i}_{c}"] = row[c]
        for p in plans:
            delivery = _delivery(0, new.account_sid, now, p)
            for c in _DELIVERY_COLUMNS:
                params[f"d{k}_{c}"] = delivery[c]
            k += 1
    shape = tuple(len(plans) for _, _, plans in recorded)
    stmt = _together([bulk.table_of(type(r)) for r in later], shape, conn.dialect)
    result = (await stmt.execute(conn, params)).all()
    if len(result) != len(rows):
        raise RuntimeError(f"{len(rows)} events inserted, {len(result)} ids returned")
    ids = [int(r[0]) for r in result]
    return ids, [int(i) for i in result[0][1:]]


# SQLite: a new row by its own INSERT (compiled once per table).
_INSERT_ROW: dict[str, bulk.Compiled] = {}


async def _insert_row(conn: AsyncConnection, row: SQLModel) -> int:
    table = bulk.table_of(type(row))
    stmt = _INSERT_ROW.get(table.name)
    if stmt is None:
        built = insert(table).values(
            {c: bindparam(c, type_=table.c[c].type) for c in _columns(table)}
        )
        stmt = _INSERT_ROW[table.name] = bulk.Compiled.of(built.returning(table.c.id), conn.dialect)
    return int((await stmt.execute(conn, bulk.values_of(row))).scalar_one())


def _postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def below_horizon(session: AsyncSession) -> list[Any]:
    """The condition that keeps a read of events to the settled part of the log (PostgreSQL):
    a read with it hands out no position or cursor that a late commit could still precede."""
    return [col(Event.xact_id) < _HORIZON] if _postgres(session) else []


def _after(position: Position) -> Any:
    return tuple_(col(Event.xact_id), col(Event.id)) > tuple_(position.xact_id, position.id)


async def read_after(
    session: AsyncSession,
    position: Position,
    limit: int,
    *,
    visible: frozenset[str] | None = None,
    resource_sid: str | None = None,
    resource_type: str | None = None,
    port_request_sid: str | None = None,
) -> list[Event]:
    """The events after `position` in reading order, up to the horizon (at most `limit`)."""
    conds: list[Any] = [_after(position), *below_horizon(session)]
    if visible is not None:
        conds.append(col(Event.account_sid).in_(visible))
    if resource_sid is not None:
        conds.append(col(Event.resource_sid) == resource_sid)
    if resource_type is not None:
        conds.append(col(Event.resource_type) == resource_type)
    if port_request_sid is not None:
        conds.append(col(Event.port_request_sid) == port_request_sid)
    stmt = select(Event).where(*conds).order_by(col(Event.xact_id), col(Event.id)).limit(limit)
    return list((await session.execute(stmt)).scalars())


async def held_back(session: AsyncSession, position: Position) -> bool:
    """True when events after `position` are committed but wait behind an older transaction
    still running (PostgreSQL): a reader should look again soon."""
    if not _postgres(session):
        return False
    stmt = select(col(Event.id)).where(_after(position)).limit(1)
    return (await session.execute(stmt)).first() is not None


async def newest_position(session: AsyncSession) -> Position:
    """The position of the last event below the horizon: a reader starting there misses
    nothing that commits later."""
    stmt = select(col(Event.xact_id), col(Event.id)).where(*below_horizon(session))
    stmt = stmt.order_by(col(Event.xact_id).desc(), col(Event.id).desc()).limit(1)
    row = (await session.execute(stmt)).first()
    return START if row is None else Position(row[0], row[1] or 0)


async def position_of(session: AsyncSession, event_id: int) -> Position:
    """The position of the event with this (public cursor) id; for an id that names no event,
    the position of the newest event before it (START when there is none)."""
    stmt = (
        select(col(Event.xact_id), col(Event.id))
        .where(col(Event.id) <= event_id)
        .order_by(col(Event.id).desc())
        .limit(1)
    )
    row = (await session.execute(stmt)).first()
    return START if row is None else Position(row[0], row[1] or 0)


def position(event: Event) -> Position:
    assert event.id is not None
    return Position(event.xact_id, event.id)


def _appended(tx: Tx, ids: Sequence[int]) -> None:
    """Remember the ids this transaction appended (announced on the bus after its commit)."""
    tx.info.setdefault("event_ids", []).extend(ids)


def appended(tx: Tx) -> list[int]:
    """The ids of the events this transaction appended."""
    ids: list[int] = tx.info.get("event_ids", [])
    return ids


@dataclass(frozen=True)
class NewEvent:
    """One event of a bulk write (`append_many`), with what it is about."""

    resource_type: str
    resource_sid: str
    account_sid: str
    type: str
    payload: dict[str, Any]
    actor: Actor
    actor_sid: str | None
    port_request_sid: str | None = None


def _row(e: NewEvent, now: datetime) -> dict[str, Any]:
    """The columns of an event's row (its id and transaction id come from the database)."""
    return {
        "resource_type": e.resource_type,
        "resource_sid": e.resource_sid,
        "account_sid": e.account_sid,
        "type": e.type,
        "payload": e.payload,
        "actor": e.actor.value,
        "actor_sid": e.actor_sid,
        "date_created": now,
        "port_request_sid": e.port_request_sid,
    }


async def append_many(tx: Tx, new: Sequence[NewEvent], now: datetime) -> list[int]:
    """Append events in their order with ONE statement, whatever their number; their ids, in
    the same order. (Rows, not instances: building thousands of model instances would cost more
    than the statement.)"""
    rows = [_row(e, now) for e in new]
    stamp: dict[str, Any] = {"xact_id": _XACT_ID if _postgres(tx) else 0}
    ids = await bulk.insert_returning_ids(tx, Event, rows, fixed=stamp)
    _appended(tx, ids)
    return ids


def _delivery(event_id: int, account_sid: str, now: datetime, p: Planned) -> dict[str, Any]:
    """The columns of a delivery row for one planned delivery of an event (due at once)."""
    return {
        "sid": sids.mint(sids.DELIVERY),
        "event_id": event_id,
        "account_sid": account_sid,
        "channel": p.channel,
        "kind": p.kind,
        "target": p.target,
        "state": work.PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "date_created": now,
        "date_updated": now,
        "port_order_sid": p.port_order_sid,
        "loa_sid": p.loa_sid,
        "lease_until": None,
        "lease_token": None,
    }


async def queue_deliveries_many(
    tx: Tx, planned: Sequence[tuple[int, str, list[Planned]]], now: datetime
) -> int:
    """The deliveries of many events appended with `append_many` (event id, account, what it
    implies; written at `now`), in ONE statement. How many deliveries it queued."""
    rows = [_delivery(i, account, now, p) for i, account, plans in planned for p in plans]
    if rows:
        await bulk.insert_rows(tx, Delivery, rows)
        work.written(tx, work.DELIVERIES)
    return len(rows)
