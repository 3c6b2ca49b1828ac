"""SQLite's one write connection runs `BEGIN IMMEDIATE` and `COMMIT` on the event loop's
thread (app/store/sqlite_inline.py): a write lock another process holds still makes the writer
wait (on aiosqlite's thread, up to the busy timeout) without holding up the loop, and the
log is still checkpointed (the connection's own PASSIVE checkpoints)."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
import sqlalchemy as sa
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError

from app.store import bulk, conflicts, sqlite_inline
from app.store.engine import Database

pytestmark = pytest.mark.dialects("sqlite")


async def _database(tmp_path: Path) -> tuple[Database, Path]:
    path = tmp_path / "w.db"
    db = Database(f"sqlite+aiosqlite:///{path}")
    async with db.write() as tx:
        await tx.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"))
    return db, path


async def test_a_writer_waits_for_another_process_lock_without_holding_up_the_loop(
    tmp_path: Path,
) -> None:
    db, path = await _database(tmp_path)
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("INSERT INTO t (v) VALUES ('other')")
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.01)

        ticking = asyncio.ensure_future(ticker())
        asyncio.get_running_loop().call_later(0.3, lambda: other.execute("COMMIT"))
        started = time.monotonic()
        async with db.write() as tx:
            await tx.execute(text("INSERT INTO t (v) VALUES ('ours')"))
        waited = time.monotonic() - started
        ticking.cancel()
        assert waited >= 0.25
        assert ticks >= 10  # the loop ran meanwhile
        async with db.read() as s:
            assert (await s.execute(text("SELECT v FROM t ORDER BY id"))).scalars().all() == [
                "other",
                "ours",
            ]
        async with db.write() as tx:  # the busy timeout is back after the inline attempt
            conn = await tx.connection()
            assert (await conn.exec_driver_sql("PRAGMA busy_timeout")).scalar() == 30000
    finally:
        other.close()
        await db.dispose()


async def test_the_writer_checkpoints_the_log(tmp_path: Path) -> None:
    db, path = await _database(tmp_path)
    try:
        for i in range(2 * sqlite_inline.CHECKPOINT_PAGES):
            async with db.write() as tx:
                await tx.execute(text("INSERT INTO t (v) VALUES (:v)"), {"v": "x" * 3000 + str(i)})
        async with db.write() as tx:
            conn = await tx.connection()
            assert (await conn.exec_driver_sql("PRAGMA wal_autocheckpoint")).scalar() == 0
        # Each insert adds a page or two to the log: checkpointed along the way, the log
        # never grew far past SQLite's own threshold.
        wal = path.with_name(path.name + "-wal").stat().st_size
        assert wal < 2 * sqlite_inline.CHECKPOINT_PAGES * 4096
    finally:
        await db.dispose()


async def test_compiled_statements_on_the_driver_report_errors_as_sqlalchemy_does(
    tmp_path: Path,
) -> None:
    """bulk.Compiled runs on aiosqlite's connection directly: a constraint it breaks is the
    same IntegrityError (values hidden), the transaction goes on, and an executemany that
    breaks one is not run again."""
    db, _ = await _database(tmp_path)
    try:
        table = sa.table("t", sa.column("id", sa.Integer), sa.column("v", sa.Text))
        stmt = sa.insert(table).values(id=sa.bindparam("id"), v=sa.bindparam("v"))
        ins = bulk.Compiled.of(stmt.returning(table.c.id), db.write_engine.dialect)
        many = bulk.Compiled.of(stmt, db.write_engine.dialect)
        async with db.write() as tx:
            conn = await tx.connection()
            assert (await ins.execute(conn, {"id": 1, "v": "secret-one"})).scalar_one() == 1
            with pytest.raises(IntegrityError) as caught:
                await ins.execute(conn, {"id": 1, "v": "secret-two"})
            assert "UNIQUE constraint failed: t.id" in str(caught.value)
            assert "secret" not in str(caught.value)
            with pytest.raises(IntegrityError) as caught:
                await many.execute_many(conn, [{"id": 2, "v": "secret-3"}, {"id": 1, "v": "x"}])
            assert "secret" not in str(caught.value)
            await ins.execute(conn, {"id": 3, "v": "three"})
        async with db.read() as s:
            found = (await s.execute(text("SELECT id FROM t ORDER BY id"))).scalars().all()
            assert found == [1, 2, 3]  # (the executemany's first row stays, as with the DBAPI's)
    finally:
        await db.dispose()


async def test_a_lock_held_past_the_busy_timeout_is_database_is_locked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db, path = await _database(tmp_path)
    on_thread: list[str] = []
    to_thread: Any = aiosqlite.Connection._execute

    async def counted(self: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
        on_thread.append(str(args[0]) if args else getattr(fn, "__name__", ""))
        return await to_thread(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        async with db.write() as tx:  # the writer's connection, its busy timeout made short
            conn = await tx.connection()
            assert conn.sync_connection is not None
            driver = conn.sync_connection.connection.driver_connection
            assert isinstance(driver, sqlite_inline.InlineConnection)
            driver.busy_timeout_ms = 200
        other.execute("BEGIN IMMEDIATE")
        started = time.monotonic()
        on_thread.clear()
        with pytest.raises(OperationalError) as caught:
            async with db.write() as tx:
                await tx.execute(text("INSERT INTO t (v) VALUES ('ours')"))
        assert time.monotonic() - started >= 0.15
        assert on_thread == ["BEGIN IMMEDIATE"]  # waited for once, on the thread
        assert conflicts.unavailable(caught.value)
        other.execute("ROLLBACK")
        async with db.write() as tx:  # the writer works again
            await tx.execute(text("INSERT INTO t (v) VALUES ('later')"))
    finally:
        other.close()
        await db.dispose()
