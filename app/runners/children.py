"""Delivery workers as child processes of `portico serve` (PORTICO_DELIVERY_WORKER_PROCESSES):
each is `portico worker --no-migrate --parent PID`, started with the server's environment (so
the same settings and database), restarted a second after it dies, stopped with SIGTERM (then
killed after `grace` seconds) when the server stops; a server killed outright (SIGKILL) takes
its workers along (each stops, as after SIGTERM, once its parent is gone).

Why: a Python process runs on one core. A server whose HTTP requests keep its core busy
(creates, reads) leaves its in-process worker little time, and deliveries fall behind; a child
process sends them on another core. On PostgreSQL the bus wakes the children at every commit of
any replica; on SQLite they find new work by polling (PORTICO_DELIVERY_POLL_SECONDS).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys

log = logging.getLogger(__name__)

RESTART_DELAY = 1.0


class WorkerProcesses:
    def __init__(self, count: int, name: str, grace: float = 10.0):
        self.count = count
        self.name = name
        self.grace = grace
        self.procs: list[asyncio.subprocess.Process | None] = [None] * count
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._keep(i), name=f"delivery-process-{i}")
            for i in range(self.count)
        ]
        log.info("delivery: %d worker process(es) started", self.count)

    async def _spawn(self, i: int) -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "app.cli",
            "worker",
            "--no-migrate",
            "--name",
            f"{self.name}-{i}",
            "--parent",
            str(os.getpid()),
            env=dict(os.environ),
        )

    async def _keep(self, i: int) -> None:
        while not self._stopping:
            proc = self.procs[i] = await self._spawn(i)
            if self._stopping:  # stop() came while it was starting
                self._terminate(proc)
            code = await proc.wait()
            if self._stopping:
                return
            log.warning(
                "delivery worker process %s-%d exited (%s); starting it again", self.name, i, code
            )
            await asyncio.sleep(RESTART_DELAY)

    @staticmethod
    def _terminate(proc: asyncio.subprocess.Process) -> None:
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)

    async def stop(self) -> None:
        """SIGTERM each child (it finishes its sends in flight), kill those still running
        after `grace` seconds."""
        self._stopping = True
        for proc in self.procs:
            if proc is not None:
                self._terminate(proc)
        _, late = await asyncio.wait(self._tasks, timeout=self.grace) if self._tasks else ((), ())
        for proc in self.procs:
            if proc is not None and proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
        for task in late:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for proc in self.procs:
            if proc is not None and proc.returncode is None:
                await proc.wait()
        log.info("delivery: worker process(es) stopped")
