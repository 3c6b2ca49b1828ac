"""Engine and transactions: SQLite (embedded default) or PostgreSQL.

`Database.read()` gives a session for reads; `Database.write()` gives one write transaction that
commits when the block ends without error and rolls back otherwise. It is the only place that
commits (`Services.run` opens it once per use case, at the boundary). Callbacks registered with
`after_commit` run after a successful commit and are dropped on rollback.

SQLite: WAL, foreign keys, busy timeout; writes go through one connection with
`BEGIN IMMEDIATE`, so writers queue instead of failing with "database is locked".
PostgreSQL: one pool; writers run side by side, and readers of the event log go through it in
the order of the writing transactions (app/store/events.py). Reads run outside a transaction
(no BEGIN and ROLLBACK round trips; each statement has its own snapshot either way).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.orm import Session, make_transient_to_detached

from app.store import sqlite_inline

log = logging.getLogger(__name__)

AfterCommit = Callable[[], Awaitable[None]]
BeforeCommit = Callable[[], Awaitable[None]]


_ADD_LATER = "add_later"


class _TxSession(Session):
    """The ORM session under a `Tx`: rows given to `Tx.add_later` join the first flush."""


@event.listens_for(_TxSession, "before_flush")
def _add_later_rows(session: Session, _context: Any, _instances: Any) -> None:
    rows = session.info.pop(_ADD_LATER, None)
    if rows:
        session.add_all(rows)


class Tx(AsyncSession):
    """A write session that can queue work for after its commit, and work that must be done in
    it once the use case is done (`before_commit`)."""

    sync_session_class = _TxSession

    def add_later(self, row: Any) -> None:
        """`add(row)` for a new row that nothing in this transaction reads back by a query
        before the use case is done: it joins the session's first flush, if one comes first
        (so every row that refers to it is written after it), or else is written by a
        `before_commit` hook that takes it (`take_later`: the event log writes a new order
        in the statement of its events), or, if none does, by the commit."""
        self.info.setdefault(_ADD_LATER, []).append(row)

    def take_later(self) -> list[Any]:
        """The rows `add_later` holds that no flush has written yet; the caller writes them
        (and makes them persistent: `persisted`)."""
        rows: list[Any] = self.info.pop(_ADD_LATER, [])
        return rows

    def persisted(self, row: Any) -> None:
        """A row the caller inserted itself (its id set): now persistent in this session, as
        if its flush had written it."""
        make_transient_to_detached(row)
        self.add(row)

    def after_commit(self, fn: AfterCommit) -> None:
        self.info.setdefault("after_commit", []).append(fn)

    def before_commit(self, key: str, fn: BeforeCommit) -> None:
        """Run `fn` once when the use case returns, still inside its transaction (the first
        `fn` registered under `key` is the one that runs): work that sums up every change of
        the transaction, such as a Port Request's derived status."""
        self.info.setdefault("before_commit", {}).setdefault(key, fn)

    async def run_before_commit(self) -> None:
        while hooks := self.info.pop("before_commit", {}):
            for fn in hooks.values():
                await fn()
        rows = self.take_later()
        if rows:  # no hook took them: the commit's flush writes them
            self.add_all(rows)


def _sqlite_engine(url: str, *, immediate: bool, pool_size: int) -> AsyncEngine:
    u = make_url(url)
    if u.database and u.database != ":memory:":
        Path(u.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(
        url,
        hide_parameters=True,
        pool_size=pool_size,
        max_overflow=0,
        pool_timeout=60,
        async_creator=sqlite_inline.connector(
            u.database or ":memory:", timeout=30, writer=immediate
        ),
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        begin = "BEGIN IMMEDIATE" if immediate else "BEGIN"
        if not sqlite_inline.begin_on_driver(conn, begin):
            conn.exec_driver_sql(begin)

    return engine


def to_async_url(url: str) -> str:
    """Accept plain postgresql:// and sqlite:// URLs too, mapped to their async drivers."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    if url.startswith("sqlite://") and not url.startswith("sqlite+"):
        return "sqlite+aiosqlite://" + url.split("://", 1)[1]
    return url


WORK_POOL_SIZE = 3  # connections of the background runners' own pool (Database.work)


class Database:
    def __init__(self, url: str, *, pool_size: int = 10):
        self.url = to_async_url(url)
        self.is_sqlite = self.url.startswith("sqlite")
        self._work: Database | None = None
        if self.is_sqlite:
            self.read_engine = _sqlite_engine(self.url, immediate=False, pool_size=pool_size)
            self.write_engine = _sqlite_engine(self.url, immediate=True, pool_size=1)
        else:
            self.read_engine = create_async_engine(
                self.url,
                hide_parameters=True,
                # Up to twice `pool_size` connections, every one kept once opened: an overflow
                # connection (closed at once when returned to a full pool) was a new server
                # process and asyncpg's setup again for about one create in ten under load.
                pool_size=2 * pool_size,
                max_overflow=0,
                # No pre-ping: asyncpg's ping is three round trips (begin, select, rollback)
                # on every checkout. A connection that went stale in an outage fails its first
                # statement instead; SQLAlchemy then renews the whole pool, and a use case
                # that had not reached its commit runs once more (Services.run_with).
            )
            self.write_engine = self.read_engine
        self._reads = self._reading(self.read_engine)

    def _reading(self, engine: AsyncEngine) -> AsyncEngine:
        """The engine reads go through. On PostgreSQL the same pool without BEGIN and ROLLBACK
        around a read: at READ COMMITTED each statement takes its own snapshot, inside a
        transaction or not (the event log's readers rely on one statement's snapshot only:
        app/store/events.py), so the transaction bought nothing but two round trips."""
        if self.is_sqlite:
            return engine
        return engine.execution_options(isolation_level="AUTOCOMMIT")

    def work(self) -> Database:
        """The same database through a small pool of its own (WORK_POOL_SIZE connections),
        for the delivery worker: its claims and records never wait for a connection behind
        the HTTP requests of a busy server. On SQLite the one writer stays shared (writes are
        serialised anyway); reads get their own pool."""
        if self._work is None:
            work = Database.__new__(Database)
            work.url = self.url
            work.is_sqlite = self.is_sqlite
            work._work = None
            if self.is_sqlite:
                work.read_engine = _sqlite_engine(
                    self.url, immediate=False, pool_size=WORK_POOL_SIZE
                )
                work.write_engine = self.write_engine
            else:
                work.read_engine = create_async_engine(
                    self.url,
                    hide_parameters=True,
                    pool_size=WORK_POOL_SIZE,
                    max_overflow=0,
                    pool_timeout=60,
                    # No pre-ping either (three round trips per checkout): a claim or record
                    # on a connection lost in an outage fails, the pool is renewed, and the
                    # worker tries again (a delivery stays leased until it is recorded).
                )
                work.write_engine = work.read_engine
            work._reads = work._reading(work.read_engine)
            self._work = work
        return self._work

    @property
    def dialect(self) -> str:
        return "sqlite" if self.is_sqlite else "postgresql"

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with AsyncSession(self._reads, expire_on_commit=False) as session:
            yield session

    @asynccontextmanager
    async def read_rows(self) -> AsyncIterator[AsyncConnection]:
        """A connection for Core reads of read-only rows (app/store/queries.py, rows=True):
        the same engine and transaction as `read()`, without an ORM session around it."""
        async with self._reads.connect() as conn:
            yield conn

    @asynccontextmanager
    async def write(self) -> AsyncIterator[Tx]:
        async with Tx(self.write_engine, expire_on_commit=False) as session:
            async with session.begin():
                yield session
                await session.run_before_commit()
            hooks: list[AfterCommit] = session.info.pop("after_commit", [])
        for hook in hooks:
            try:
                await hook()
            except Exception:  # a failed notification must not fail a committed change
                log.exception("after-commit hook failed")

    def describe(self) -> str:
        """The database for a log line, with no credentials: `sqlite (var/portico.db)`,
        `postgresql (db.internal:5432/portico)`."""
        u = make_url(self.url)
        if self.is_sqlite:
            return f"sqlite ({u.database or ':memory:'})"
        where = f"{u.host or 'localhost'}:{u.port or 5432}/{u.database or ''}"
        return f"postgresql ({where})"

    def pools(self) -> dict[str, tuple[int, int]]:
        """Connections (in use, pool size) of each connection pool: "read" and "write" on
        SQLite (the one writer has its own), "main" on PostgreSQL."""
        engines = (
            {"read": self.read_engine, "write": self.write_engine}
            if self.is_sqlite
            else {"main": self.read_engine}
        )
        if self._work is not None:
            engines["work"] = self._work.read_engine
        found: dict[str, tuple[int, int]] = {}
        for name, engine in engines.items():
            pool: Any = engine.pool
            if hasattr(pool, "checkedout") and hasattr(pool, "size"):  # a QueuePool
                found[name] = (int(pool.checkedout()), int(pool.size()))
        return found

    async def ping(self) -> None:
        from sqlalchemy import text

        async with self._reads.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        if self._work is not None:
            await self._work.read_engine.dispose()  # (its SQLite writer is ours)
            self._work = None
        await self.read_engine.dispose()
        if self.write_engine is not self.read_engine:
            await self.write_engine.dispose()
