"""Where a process picks its real parts: Services with the adapters its settings name.

Every process (the server, `portico worker`, the standalone scheduler, the CLI) builds its
Services here; tests build theirs here too and swap in recording senders where they only need
to see what would have gone out (app/adapters/recording.py).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from app.adapters.http import PinnedHttpSender
from app.adapters.mailer import sender_from_settings
from app.adapters.sandbox import SandboxCarrier
from app.config import Settings
from app.services.context import Services
from app.store.bus import Bus, MemoryBus
from app.store.engine import Database
from app.store.pgbus import PostgresBus


def build_services(settings: Settings, **parts: Any) -> Services:
    """Services on the settings' database, with the sandbox carrier at the settings' pace, the
    pinned HTTP sender and the settings' mailer; `parts` replaces any of them by name."""
    db = Database(settings.database_url)
    if settings.debug_count_sql:
        from app.store.counting import count_statements

        for engine in {db.read_engine, db.write_engine}:
            count_statements(engine)
    bus: Bus = MemoryBus() if db.is_sqlite else PostgresBus(db.url)
    defaults: dict[str, Any] = {
        "bus": bus,
        "carrier": SandboxCarrier(timedelta(seconds=settings.sandbox_step_seconds)),
        "email_sender": sender_from_settings(settings),
        "http_sender": PinnedHttpSender.from_settings(settings),
    }
    return Services(settings=settings, db=db, **{**defaults, **parts})
