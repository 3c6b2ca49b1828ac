"""Apply Alembic migrations programmatically (`portico migrate`, `scripts/serve`, tests)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

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
