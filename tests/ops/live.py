"""A real `portico serve` process on loopback for the operations tests: started with the
test's environment, its stdout and stderr in a file, stopped with SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import SECRET
from tests.test_serve import PORTICO, free_port

GUARD = 30.0  # seconds: only turns a hang into a failure


@dataclass
class Served:
    url: str
    log: Path
    proc: subprocess.Popen[bytes]
    env: dict[str, str] = field(repr=False)

    def lines(self) -> list[str]:
        return [line for line in self.log.read_text().splitlines() if line.strip()]

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(GUARD)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(GUARD)
        return self.proc.returncode


def serve(tmp: Path, database_url: str, *args: str, **settings: str) -> Served:
    """`portico serve --no-migrate` on a free port; returns once /healthz answers 200."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTICO_")}
    env.update(
        PORTICO_DATABASE_URL=database_url,
        PORTICO_SECRET_KEY=SECRET,
        PORTICO_VAR_DIR=str(tmp / "var"),
        PORTICO_PUBLIC_URL=url,
        PORTICO_PORT=str(port),
        **{f"PORTICO_{k.upper()}": v for k, v in settings.items()},
    )
    log = tmp / f"server-{port}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(PORTICO), "serve", "--no-migrate", *args],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    served = Served(url, log, proc, env)
    try:
        wait_for(lambda: _healthy(served), "/healthz never answered 200")
    except BaseException:
        served.stop()
        raise
    return served


def _healthy(served: Served) -> bool:
    assert served.proc.poll() is None, served.log.read_text()
    try:
        return httpx.get(f"{served.url}/healthz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def wait_for(ready: Callable[[], Any], what: str, timeout: float = GUARD) -> Any:
    """Poll `ready` until it returns something true; that value."""
    deadline = time.monotonic() + timeout
    while True:
        value = ready()
        if value:
            return value
        assert time.monotonic() < deadline, what
        time.sleep(0.05)
