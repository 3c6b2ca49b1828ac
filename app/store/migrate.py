"""Apply Alembic migrations programmatically (`portico migrate`, `scripts/serve`, tests)."""

from __future__ import annotations

import sqlite3
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, make_url

from app.store.engine import Database, to_async_url

HERE = Path(__file__).parent
VERSION_TABLE = "alembic_version"  # Alembic's default; migrations/env.py keeps it


def alembic_config(database_url: str) -> Config:
    cfg = Config(str(HERE / "alembic.ini"))
    cfg.set_main_option("script_location", str(HERE / "migrations"))
    cfg.attributes["database_url"] = to_async_url(database_url)
    return cfg


def upgrade(database_url: str, revision: str = "head") -> None:
    """Run migrations up to `revision`. Synchronous: call it outside a running event loop,
    or through asyncio.to_thread."""
    command.upgrade(alembic_config(database_url), revision)
    _persist_wal(database_url)


def _persist_wal(database_url: str) -> None:
    """WAL is a property of the SQLite file: set it once here, so that the server's
    connections never switch journal modes while others hold the file open (a switch that
    can fail at once with "database is locked" instead of waiting)."""
    url = make_url(to_async_url(database_url))
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return
    conn = sqlite3.connect(url.database, timeout=30)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
    finally:
        conn.close()


@cache
def head_revisions() -> frozenset[str]:
    """The head(s) of app/store/migrations (read once per process)."""
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return frozenset(script.get_heads())


async def current_revisions(db: Database) -> frozenset[str]:
    """The revision(s) the database is at, as Alembic records them in its version table
    (empty: never migrated). Read directly: Alembic's MigrationContext logs at INFO each time."""

    def read(conn: Connection) -> frozenset[str]:
        if not inspect(conn).has_table(VERSION_TABLE):
            return frozenset()
        rows = conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}"))  # noqa: S608
        return frozenset(str(r[0]) for r in rows)

    async with db.read_engine.connect() as conn:
        return await conn.run_sync(read)
