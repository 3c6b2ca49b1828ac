"""What every use case gets: settings, the database, the bus, the cipher, the clock, the carrier
and the senders. The real adapters are chosen where a process starts (app/wiring.py).

A use case is a function `use_case(tx, svc, ...)` that runs inside the transaction it is given
and never commits: use cases compose (an idempotent create wraps a create, a job runner finishes
its job and applies the carrier's answer in one transaction). The transaction is opened once, at
the boundary, by `Services.run` (or `Services.transaction()` where a boundary needs the block):
it commits when the use case returns and, after the commit, tells the bus about the events
written and wakes this process's runners of the work written (nothing is announced on rollback).
On SQLite writers are serialised (`BEGIN IMMEDIATE`: one writer at a time). On PostgreSQL
they are not: writers of different orders run at the same time, conflicts on one row are
decided by the row (optimistic `version` claims: one winner, 20409 for the other), and a
deadlock or serialization failure between two use cases runs the loser again. Readers of the
event log never miss an event that commits late (app/store/events.py). Keep network I/O out of
the block.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Concatenate, Literal, ParamSpec, TypeVar

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError

from app.config import Settings
from app.porting.carrier import CarrierAdapter
from app.porting.errors import PortingError
from app.porting.statuses import Actor
from app.services.credential_cache import CredentialCache
from app.services.hub import Hub
from app.services.ports import EmailSender, HttpSender
from app.store import conflicts, events, work
from app.store.bus import Bus, MemoryBus
from app.store.engine import Database, Tx
from app.store.pgbus import CHANNEL
from app.store.secrets import Cipher

P = ParamSpec("P")
T = TypeVar("T")

RETRY: Literal["retry"] = "retry"
ATTEMPTS = 3
# PostgreSQL's "try the transaction again" answers: serialization_failure, deadlock_detected.
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})
# What a unique constraint means: a refusal, or RETRY (run the use case again).
Conflicts = Mapping[str, Callable[[], PortingError] | Literal["retry"]]
# For writes of port orders: the number is held by an open order (21837) or already in an
# inventory (21838); two creates raced for one LOA group (the loser tries again and joins the
# winner's LOA).
ORDER_CONFLICTS: Conflicts = {
    conflicts.ACTIVE_NUMBER: lambda: PortingError(21837, field="number"),
    conflicts.INVENTORY_NUMBER: lambda: PortingError(21838, field="number"),
    conflicts.LOA_GROUP: RETRY,
}


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Caller:
    """Who is asking. `visible` is the set of account SIDs it may read (None: every account)."""

    sid: str
    kind: str  # "account" | "operator"
    visible: frozenset[str] | None
    # What the credential allows (app/services/credentials.py): a read-only API key or a
    # `read` access token cannot mutate (20403); an access token may be restricted to one
    # port order or Port Request (its SID) and ends at `expires_at`.
    read_only: bool = False
    restriction: str | None = None
    expires_at: datetime | None = None
    key_sid: str | None = None  # the API key used (directly or by the token's minter)

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
    carrier: CarrierAdapter
    email_sender: EmailSender
    http_sender: HttpSender
    bus: Bus = field(default_factory=MemoryBus)
    clock: Callable[[], datetime] = utcnow
    cipher: Cipher = field(init=False)
    hub: Hub = field(init=False)
    credentials: CredentialCache = field(init=False)  # verified credentials, a few seconds
    # Set after a commit that wrote work for a queue (app/store/work.py): wakes this process's
    # runner of that queue at once.
    wakeups: dict[str, asyncio.Event] = field(init=False)

    def __post_init__(self) -> None:
        self.cipher = Cipher(self.settings.resolved_secret_key)
        self.hub = Hub(self.db, self.bus)
        self.credentials = CredentialCache(
            self.settings.auth_cache_seconds,
            lambda: self.bus.listening,
            revocable=lambda: self.bus.cross_process,
        )
        self.bus.on_credentials_changed(self.credentials.forget)
        self.wakeups = {q.name: asyncio.Event() for q in work.QUEUES}

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        async with self.db.write() as tx:
            if self.settings.debug_write_delay_ms:
                await tx.execute(text("SELECT 1"))  # the transaction is open on the server
                await asyncio.sleep(self.settings.debug_write_delay_ms / 1000)
            yield tx
            await tx.run_before_commit()  # before the events written are announced
            ids = events.appended(tx)
            if ids:
                last = max(ids)
                if not self.db.is_sqlite and tx.info.get(events.NOTIFIED) != last:
                    # Delivered to every replica's LISTEN connection when (if) we commit (the
                    # events a use case records notify with their INSERT: events.record).
                    await tx.execute(
                        text("SELECT pg_notify(:c, :id)"), {"c": CHANNEL, "id": str(last)}
                    )
                bus = self.bus
                tx.after_commit(lambda: bus.publish(last))
            written: set[str] = tx.info.get("work_written", set())
            if written:
                wake = [self.wakeups[name] for name in written]
                tx.after_commit(lambda: _set_all(wake))

    async def run(
        self,
        use_case: Callable[Concatenate[Tx, P], Awaitable[T]],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """Run `use_case(tx, *args, **kwargs)` in one transaction and commit. A unique
        constraint it runs into is answered as ORDER_CONFLICTS says: a PortingError, or the
        whole use case again (at most ATTEMPTS times, then 20409)."""
        return await self.run_with(ORDER_CONFLICTS, use_case, *args, **kwargs)

    async def run_with(
        self,
        on_conflict: Conflicts,
        use_case: Callable[Concatenate[Tx, P], Awaitable[T]],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """`run` with another table of what each unique constraint means."""
        stale_retried = False
        for _ in range(ATTEMPTS):
            committing = False
            try:
                async with self.transaction() as tx:
                    result = await use_case(tx, *args, **kwargs)
                    committing = True
                return result
            except IntegrityError as exc:
                answer = on_conflict.get(conflicts.unique_constraint(exc) or "")
                if answer is None:
                    raise
                if not isinstance(answer, str):
                    raise answer() from None
            except DBAPIError as exc:
                if conflicts.stale_connection(exc) and not committing and not stale_retried:
                    stale_retried = True  # a pooled connection lost in an outage: run again
                    continue
                if conflicts.sqlstate(exc) not in RETRYABLE_SQLSTATES:
                    raise
            except conflicts.RowChanged:
                pass  # read again, decide again
        raise PortingError(20409)

    async def start(self) -> None:
        await self.bus.start()

    async def close(self) -> None:
        for sender in (self.http_sender, self.email_sender):
            closing = getattr(sender, "aclose", None)
            if closing is not None:
                await closing()
        await self.hub.stop()
        await self.bus.stop()
        await self.db.dispose()


async def _set_all(events: list[asyncio.Event]) -> None:
    for e in events:
        e.set()
