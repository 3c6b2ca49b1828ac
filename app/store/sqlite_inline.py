"""aiosqlite, with the statements that cannot wait run on the event loop's own thread.

aiosqlite runs every call on a worker thread and wakes the event loop when it is done: a
statement through SQLAlchemy takes four such round trips (cursor, execute, fetch, close), each
two thread switches and a wake-up of the loop. For SQLite those switches cost far more than the
statement: a create (eleven statements) spent about a third of its CPU time in them.

In WAL mode only two kinds of call can wait: taking the write lock (`BEGIN IMMEDIATE`, which
waits up to the busy timeout for another process's writer) and `COMMIT` (which may run a
checkpoint and sync the file). Those still go through aiosqlite's thread, so the loop never
waits on a lock or on the disk. Everything else (reads, a plain deferred `BEGIN`, which takes
no lock: a reader's transaction, the writes inside a transaction that already holds the lock,
a rollback, which only discards) runs inline: microseconds of work, no switch.

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

# Statements that may wait for a lock or the disk: they keep aiosqlite's thread.
_WAITING = ("BEGIN", "COMMIT", "END", "VACUUM", "PRAGMA WAL_CHECKPOINT")


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


class InlineConnection(aiosqlite.Connection):
    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if _may_wait(fn, args):
            return await super()._execute(fn, *args, **kwargs)  # type: ignore[no-untyped-call]
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        return fn(*args, **kwargs)


def connector(database: str, *, timeout: float) -> Callable[[], Any]:
    """An `async_creator` for SQLAlchemy's aiosqlite dialect: a connection to `database`."""

    async def connect() -> aiosqlite.Connection:
        conn = InlineConnection(
            partial(sqlite3.connect, database, timeout=timeout, check_same_thread=False),
            iter_chunk_size=64,
        )
        conn._thread.daemon = True  # as SQLAlchemy does for its own aiosqlite connections
        return await conn

    return connect
