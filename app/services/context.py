"""What every use case gets: settings, the database, the bus, the cipher, the clock, the carrier.

`Services.transaction()` is the boundary of one use case: it commits when the block ends and,
after the commit, tells the bus about the events written (nothing is announced on rollback).
Use cases are serialised: by `BEGIN IMMEDIATE` on SQLite, by the event-log lock taken when the
transaction begins on PostgreSQL (app/events/log.py). Keep network I/O out of the block.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from app.carrier.adapter import CarrierAdapter
from app.carrier.sandbox import SandboxCarrier
from app.config import Settings
from app.delivery.http_client import HttpSender, PinnedHttpSender
from app.delivery.mailer import EmailSender, sender_from_settings
from app.events import log
from app.events.bus import Bus, MemoryBus
from app.events.hub import Hub
from app.events.pgbus import CHANNEL, PostgresBus
from app.porting.statuses import Actor
from app.store.engine import Database, Tx
from app.store.secrets import Cipher
from app.store.tables import Event


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Caller:
    """Who is asking. `visible` is the set of account SIDs it may read (None: every account)."""

    sid: str
    kind: str  # "account" | "operator"
    visible: frozenset[str] | None

    @property
    def actor(self) -> Actor:
        return Actor.OPERATOR if self.kind == "operator" else Actor.CUSTOMER

    @property
    def is_operator(self) -> bool:
        return self.kind == "operator"

    def can_see(self, account_sid: str) -> bool:
        return self.visible is None or account_sid in self.visible


@dataclass
class Services:
    settings: Settings
    db: Database
    bus: Bus = field(default_factory=MemoryBus)
    # The losing carrier; None means the sandbox at the settings' pace.
    carrier: CarrierAdapter = None  # type: ignore[assignment]
    clock: Callable[[], datetime] = utcnow
    # notify: side-effect protocols of the deliveries (app/delivery); built from the settings
    # when not given (tests pass recording ones from app/delivery/recording.py).
    email_sender: EmailSender | None = None
    http_sender: HttpSender | None = None
    cipher: Cipher = field(init=False)
    hub: Hub = field(init=False)
    # Set after a commit that wrote carrier jobs: wakes this process's scheduler at once.
    jobs_written: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self.cipher = Cipher(self.settings.resolved_secret_key)
        self.hub = Hub(self.db, self.bus)
        if self.carrier is None:
            step = timedelta(seconds=self.settings.sandbox_step_seconds)
            self.carrier = SandboxCarrier(step)
        if self.email_sender is None:
            self.email_sender = sender_from_settings(self.settings)
        if self.http_sender is None:
            self.http_sender = PinnedHttpSender.from_settings(self.settings)

    @classmethod
    def from_settings(cls, settings: Settings) -> Services:
        db = Database(settings.database_url)
        if settings.debug_count_sql:
            from app.store.counting import count_statements

            for engine in {db.read_engine, db.write_engine}:
                count_statements(engine)
        bus: Bus = MemoryBus() if db.is_sqlite else PostgresBus(db.url)
        return cls(settings=settings, db=db, bus=bus)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        async with self.db.write() as tx:
            await log.serialize(tx)
            yield tx
            events: list[Event] = tx.info.get("events", [])
            if events:
                last = max(e.id for e in events if e.id is not None)
                if not self.db.is_sqlite:
                    # Delivered to every replica's LISTEN connection when (if) we commit.
                    await tx.execute(
                        text("SELECT pg_notify(:c, :id)"), {"c": CHANNEL, "id": str(last)}
                    )
                bus = self.bus
                tx.after_commit(lambda: bus.publish(last))
            if tx.info.get("jobs_written"):
                tx.after_commit(self._wake_scheduler)

    async def _wake_scheduler(self) -> None:
        self.jobs_written.set()

    async def start(self) -> None:
        await self.bus.start()

    async def close(self) -> None:
        closing = getattr(self.http_sender, "aclose", None)
        if closing is not None:
            await closing()
        await self.hub.stop()
        await self.bus.stop()
        await self.db.dispose()
