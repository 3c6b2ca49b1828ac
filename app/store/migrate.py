"""Apply Alembic migrations programmatically (`portico migrate`, `scripts/serve`, tests)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url

from app.store.engine import to_async_url

HERE = Path(__file__).parent


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
