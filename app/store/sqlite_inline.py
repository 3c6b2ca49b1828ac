"""aiosqlite, with the statements that cannot wait run on the event loop's own thread.

aiosqlite runs every call on a worker thread and wakes the event loop when it is done: a
statement through SQLAlchemy takes four such round trips (cursor, execute, fetch, close), each
two thread switches and a wake-up of the loop. For SQLite those switches cost far more than the
statement: a create (eleven statements) spent about a third of its CPU time in them. Worse, a
call waits for the thread to get the GIL, which a busy loop holds for up to its switch
interval (5 ms): a writer's hop to the thread held the one write connection, and every other
writer behind it, for that long.

Everything that takes no lock and touches no disk beyond the page cache runs inline:
microseconds of work, no switch. That is reads, a plain deferred `BEGIN` (a reader's
transaction), the writes inside a transaction that already holds the lock, a rollback (in WAL
it only discards), and on the writer's connection (`writer=True`) also its two calls that
could wait:

- `BEGIN IMMEDIATE` waits only while another process holds the write lock. It is tried inline
  with no busy timeout; if the lock is taken, it is tried again on aiosqlite's thread, which
  waits up to the busy timeout, as before, without holding up the loop.
- `COMMIT`, in WAL mode, appends the transaction's pages to the log (no sync at
  `synchronous=NORMAL`) and never waits for a lock, unless it runs a checkpoint, which syncs
  the files. The writer's connection therefore runs no automatic checkpoint
  (`wal_autocheckpoint=0`): after its commits it runs the same PASSIVE checkpoint on the
  thread, about as often as SQLite's default would (every ~1,000 pages of log). A commit that
  reports the database busy (not seen in WAL mode) is tried again on the thread too, and a
  database not in WAL mode keeps its commits on the thread.

`VACUUM`, an explicit `COMMIT`/`END` statement and `PRAGMA wal_checkpoint` keep the thread.

One connection is used by one session at a time (SQLAlchemy's pool), and an inline call only
happens after the previous call on that connection has returned, so the thread and the loop
never use the connection at the same moment (`check_same_thread=False` lets both use it).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from functools import partial
from typing import Any

import aiosqlite
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.util import await_

# Statements that may wait for a lock or the disk: they keep aiosqlite's thread.
_WAITING = ("BEGIN", "COMMIT", "END", "VACUUM", "PRAGMA WAL_CHECKPOINT")
_SQLITE_BUSY = 5  # (the primary code of SQLITE_BUSY_RECOVERY, _SNAPSHOT, _TIMEOUT too)
# SQLite's default automatic checkpoint: when the log holds this many pages after a commit.
CHECKPOINT_PAGES = 1000


def _may_wait(fn: Callable[..., Any], args: tuple[Any, ...]) -> bool:
    name = getattr(fn, "__name__", "")
    if name in ("execute", "executemany", "executescript"):
        sql = args[0] if args and isinstance(args[0], str) else ""
        head = sql.lstrip()[:24].upper()
        return head != "BEGIN" and head.startswith(_WAITING)  # (a deferred BEGIN takes no lock)
    owner = getattr(fn, "__self__", None)
    if isinstance(owner, sqlite3.Cursor):
        return name not in ("fetchall", "fetchone", "fetchmany", "close")
    # A new cursor, and a rollback (in WAL it discards what the transaction wrote, no I/O to
    # wait for: the pool issues one each time a connection comes back) are inline; commit,
    # close, create_function and anything else keep the thread.
    return not (isinstance(owner, sqlite3.Connection) and name in ("cursor", "rollback"))


def _is_commit(fn: Callable[..., Any]) -> bool:
    return getattr(fn, "__name__", "") == "commit" and isinstance(
        getattr(fn, "__self__", None), sqlite3.Connection
    )


def _is_begin_immediate(fn: Callable[..., Any], args: tuple[Any, ...]) -> bool:
    if getattr(fn, "__name__", "") != "execute" or not args or not isinstance(args[0], str):
        return False
    return [w.upper() for w in args[0].split(None, 2)[:2]] == ["BEGIN", "IMMEDIATE"]


def _busy(exc: sqlite3.OperationalError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    return code is not None and code & 0xFF == _SQLITE_BUSY


class InlineConnection(aiosqlite.Connection):
    writer = False  # the one write connection: BEGIN IMMEDIATE and COMMIT inline too
    wal: bool | None = None  # the database is in WAL mode (known at the first commit)
    busy_timeout_ms = 0
    _commits = 0  # since the last checkpoint
    _checkpoint_every = 16  # commits; adjusted to about CHECKPOINT_PAGES pages each time

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if self.writer:
            if _is_commit(fn):
                if self.wal is None:
                    self.wal = self._in_wal_mode()
                if not self.wal:
                    return await super()._execute(fn, *args, **kwargs)  # type: ignore[no-untyped-call]
                result = await self._without_waiting(fn, args, kwargs)
                await self._committed()
                return result
            if _is_begin_immediate(fn, args):
                return await self._without_waiting(fn, args, kwargs)
        if _may_wait(fn, args):
            return await super()._execute(fn, *args, **kwargs)  # type: ignore[no-untyped-call]
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        return fn(*args, **kwargs)

    async def _without_waiting(
        self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        """`fn` inline with no busy timeout; if the database is busy, on the thread (which
        waits up to the busy timeout)."""
        conn = self._connection
        if not self._running or conn is None:
            raise ValueError("Connection closed")
        conn.execute("PRAGMA busy_timeout=0")
        try:
            return fn(*args, **kwargs)
        except sqlite3.OperationalError as exc:
            if not _busy(exc):
                raise
        finally:
            conn.execute(f"PRAGMA busy_timeout={self.busy_timeout_ms}")
        return await super()._execute(fn, *args, **kwargs)  # type: ignore[no-untyped-call]

    async def _committed(self) -> None:
        self._commits += 1
        if self._commits < self._checkpoint_every:
            return
        commits, self._commits = self._commits, 0
        row = await super()._execute(self._checkpoint)  # type: ignore[no-untyped-call]
        pages = row[1] if row else -1
        if pages > 0:  # about CHECKPOINT_PAGES pages of log between two checkpoints
            self._checkpoint_every = max(
                1, min(CHECKPOINT_PAGES, commits * CHECKPOINT_PAGES // pages)
            )

    def _in_wal_mode(self) -> bool:
        """Whether the database is in WAL mode (the engine sets it when it connects); if so,
        from now on the checkpoints are this connection's (`_committed`)."""
        conn = self._connection
        if not self._running or conn is None:
            raise ValueError("Connection closed")
        mode = conn.execute("PRAGMA journal_mode").fetchone()
        if not mode or str(mode[0]).lower() != "wal":
            return False
        conn.execute("PRAGMA wal_autocheckpoint=0")
        return True

    def _checkpoint(self) -> Any:
        """(On the thread.) What SQLite's automatic checkpoint does: a PASSIVE checkpoint,
        which waits for no reader. Its row: (busy, pages in the log, pages checkpointed)."""
        conn = self._connection
        assert conn is not None
        return conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()


def connector(database: str, *, timeout: float, writer: bool = False) -> Callable[[], Any]:
    """An `async_creator` for SQLAlchemy's aiosqlite dialect: a connection to `database`;
    `writer`: the one connection that writes (see the module's docstring)."""

    async def connect() -> aiosqlite.Connection:
        conn = InlineConnection(
            partial(sqlite3.connect, database, timeout=timeout, check_same_thread=False),
            iter_chunk_size=64,
        )
        conn._thread.daemon = True  # as SQLAlchemy does for its own aiosqlite connections
        if writer:
            conn.writer = True
            conn.busy_timeout_ms = int(timeout * 1000)
        return await conn

    return connect


async def on_driver(sync: Any, sql: str, args: Any, *, many: bool = False) -> list[Any]:
    """`sql` on aiosqlite's connection of `sync` (a started sync Connection) directly, in the
    transaction it has open, if any: its rows (none for `many`, the DBAPI's executemany). The
    engine's statement listeners hear it as any other statement (app/store/counting.py, the
    tests' counters). Errors are the driver's own: the caller decides what they mean."""
    driver: Any = sync.connection.driver_connection
    if sync._has_events or sync.engine._has_events:
        sync.dispatch.before_cursor_execute(sync, None, sql, args, None, many)
    if many:
        await (await driver.executemany(sql, args)).close()
        return []
    cursor = await driver.execute(sql, args)
    try:
        return list(await cursor.fetchall())
    finally:
        await cursor.close()


async def _execute_and_close(driver: aiosqlite.Connection, sql: str) -> None:
    cursor = await driver.execute(sql)
    await cursor.close()


def driver_error(
    sql: str, args: Any, error: sqlite3.Error, conn: Any, *, many: bool = False
) -> StatementError:
    """The driver's `error` as SQLAlchemy raises it for `conn` (a sync Connection): the same
    class and message, parameters hidden as the engine hides them."""
    return DBAPIError.instance(
        sql,
        args,
        error,
        sqlite3.Error,
        hide_parameters=conn.engine.hide_parameters,
        dialect=conn.dialect,
        ismulti=many,
    )


def begin_on_driver(conn: Any, begin: str) -> bool:
    """(In SQLAlchemy's `begin` event.) `begin` on aiosqlite's connection directly, without an
    execution context around it (a fifth of a write transaction's own cost): True if it
    began. False: nothing began, the caller runs it the ordinary way, which reports the error
    as every statement does; also for an engine that logs its statements. A write lock held
    past the busy timeout is raised as SQLAlchemy raises it ("database is locked": 503 at the
    transports), without waiting for it again. Transaction control is not a counted statement
    (app/store/counting.py), so no listener needs to hear it."""
    if conn._echo:
        return False
    driver: Any = conn.connection.driver_connection
    if not isinstance(driver, InlineConnection) or driver.in_transaction:
        return False
    try:
        await_(_execute_and_close(driver, begin))
    except sqlite3.OperationalError as error:
        if not _busy(error):
            return False  # a failed BEGIN began nothing: the ordinary way reports it
        # Locked past the busy timeout (on the thread): reported now, not waited out again.
        raise driver_error(begin, None, error, conn) from error
    except sqlite3.Error:
        return False
    return True
