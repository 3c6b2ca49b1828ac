"""`portico serve` and `scripts/serve` end to end: up, healthy, and a clean stop on SIGTERM."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

# Serial (run alone after the parallel part of scripts/test):
# scripts/serve runs scripts/install, which reinstalls Portico into .venv.
pytestmark = pytest.mark.serial

ROOT = Path(__file__).resolve().parents[1]
PORTICO = Path(sys.executable).parent / "portico"
GUARD = 60.0  # seconds: only turns a hang into a failure


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def env_for(tmp_path: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTICO_")}
    env.update(
        PORTICO_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'portico.db'}",
        PORTICO_VAR_DIR=str(tmp_path / "var"),
        PORTICO_PORT=str(port),
    )
    return env


def wait_healthy(proc: subprocess.Popen[str], port: int) -> None:
    deadline = time.monotonic() + GUARD
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the server exited before it was healthy"
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError("/healthz never answered 200")


def stop(proc: subprocess.Popen[str]) -> tuple[int, str]:
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=GUARD)
    return proc.returncode, out


def test_portico_serve_starts_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [str(PORTICO), "serve", "--port", str(port)],
        env=env_for(tmp_path, port),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_healthy(proc, port)
        body = httpx.get(f"http://127.0.0.1:{port}/healthz").json()
        assert body == {"status": "ok"}
    finally:
        code, out = stop(proc)
    assert code == 0, out
    assert "Application shutdown complete" in out


def run_scripts_serve(tmp_path: Path) -> tuple[str, str]:
    """Run scripts/serve until it is healthy; return the development credentials it printed."""
    port = free_port()
    env = env_for(tmp_path, port)
    proc = subprocess.Popen(
        [str(ROOT / "scripts" / "serve")],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    printed: list[str] = []
    try:
        wait_healthy(proc, port)
        # the headers it prints for GraphiQL's Headers editor work as pasted (printed before
        # the server started, so already in the pipe)
        assert proc.stdout is not None
        while not printed or not printed[-1].startswith("REST:"):
            line = proc.stdout.readline()
            assert line, "scripts/serve printed no credentials"
            printed.append(line)
        at = next(i for i, x in enumerate(printed) if x.startswith("GraphiQL:"))
        pasted = json.loads(printed[at + 1])
        answer = httpx.post(
            f"http://127.0.0.1:{port}/graphql",
            json={"query": "{ portOrders { totalCount } }"},
            headers=pasted,
            timeout=10,
        )
        assert answer.status_code == 200, answer.text
        assert "errors" not in answer.json(), answer.text
    finally:
        code, out = stop(proc)
    out = "".join(printed) + out
    assert code == 0, out
    sid = re.search(r"Account SID: (AC[0-9a-f]{32})", out)
    token = re.search(r"Auth token:  ([0-9a-f]{32})", out)
    assert sid and token, out
    assert f"http://127.0.0.1:{port}/graphql" in out
    assert f"curl -u {sid[1]}:{token[1]} http://127.0.0.1:{port}/porting/PortOrders" in out
    return sid[1], token[1]


def test_scripts_serve_twice_reuses_the_development_account(tmp_path: Path) -> None:
    first = run_scripts_serve(tmp_path)
    again = run_scripts_serve(tmp_path)
    assert again == first
    assert (tmp_path / "var" / "secret_key").exists()
