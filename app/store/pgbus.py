"""The bus across replicas: PostgreSQL LISTEN/NOTIFY carrying event ids, never rows.

Credentials travel the same way on a second channel: a revoked API key (or an account whose
subaccounts changed) is `pg_notify('portico_credentials', <sid>)` in the revoking transaction,
and every replica drops what it cached for that SID (app/services/credentials.py). After a
reconnect every cached credential is dropped, since notifications may have been missed.

The writer's transaction sends `pg_notify('portico_events', <last event id>)` just before it
commits (NOTIFY is delivered at commit, so a rolled-back change announces nothing). Every
replica keeps one dedicated LISTEN connection. If that connection drops, the replica reconnects
with backoff and catches up: it reads the newest event id from the log and wakes every waiter,
and waiters re-read the log from their own last id, so nothing is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from app.store.bus import EVERY_CREDENTIAL, MemoryBus, stop_task

log = logging.getLogger(__name__)
CHANNEL = "portico_events"
CREDENTIALS_CHANNEL = "portico_credentials"
APPLICATION_NAME = "portico-bus"
# Reconnects come at most this far apart, so subscribers are current within about a second of
# the database coming back.
MAX_RECONNECT_DELAY = 1.0


def asyncpg_dsn(sqlalchemy_url: str) -> str:
    return (
        make_url(sqlalchemy_url).set(drivername="postgresql").render_as_string(hide_password=False)
    )


class PostgresBus(MemoryBus):
    cross_process = True

    def __init__(self, sqlalchemy_url: str, *, reconnect_delay: float = 0.5):
        super().__init__()
        self._dsn = asyncpg_dsn(sqlalchemy_url)
        self._reconnect_delay = reconnect_delay
        self._task: asyncio.Task[None] | None = None
        self._conn: asyncpg.Connection | None = None
        self._lost = asyncio.Event()
        self.connected = asyncio.Event()
        self.reconnects = 0

    @property
    def listening(self) -> bool:
        """The LISTEN connection is up (and was not seen dropping)."""
        conn = self._conn
        return (
            self.connected.is_set()
            and not self._lost.is_set()
            and conn is not None
            and not conn.is_closed()
        )

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="portico-pgbus")

    async def stop(self) -> None:
        if self._task is not None:
            await stop_task(self._task)
            self._task = None
        await self._close()
        await super().stop()

    async def _close(self) -> None:
        conn, self._conn = self._conn, None
        self.connected.clear()
        if conn is not None and not conn.is_closed():
            with contextlib.suppress(Exception):
                async with asyncio.timeout(2):
                    await conn.close()

    def _on_notify(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        try:
            event_id = int(payload)
        except ValueError:
            return
        asyncio.get_running_loop().create_task(self.publish(event_id))

    def _on_credentials(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        self.credentials_changed(payload)

    def _on_terminate(self, _conn: Any) -> None:
        self._lost.set()

    async def _run(self) -> None:
        delay = self._reconnect_delay
        while True:
            try:
                conn = await asyncpg.connect(
                    self._dsn, server_settings={"application_name": APPLICATION_NAME}
                )
                self._conn = conn
                self._lost.clear()
                conn.add_termination_listener(self._on_terminate)
                await conn.add_listener(CHANNEL, self._on_notify)
                await conn.add_listener(CREDENTIALS_CHANNEL, self._on_credentials)
                self.credentials_changed(EVERY_CREDENTIAL)  # what was missed meanwhile
                # Catch up on whatever was committed while we were not listening.
                newest = await conn.fetchval("SELECT coalesce(max(id), 0) FROM events")
                self.connected.set()
                await self.publish(int(newest))
                delay = self._reconnect_delay
                while not self._lost.is_set():
                    # A cheap liveness probe: a dead TCP peer is noticed within seconds.
                    # (asyncio.timeout, not wait_for: see MemoryBus.wait_beyond)
                    try:
                        async with asyncio.timeout(5):
                            await self._lost.wait()
                    except TimeoutError:
                        try:
                            async with asyncio.timeout(5):
                                await conn.execute("SELECT 1")
                        except Exception:
                            self._lost.set()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # connection refused, dropped, ...
                log.warning(
                    "event bus: LISTEN connection lost (%s); reconnecting", type(exc).__name__
                )
            await self._close()
            self.reconnects += 1
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_RECONNECT_DELAY)
