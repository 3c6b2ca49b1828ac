"""What bench cases share: options, databases made for one run, seeding, `portico serve`
replicas (tests.subscriptions.support.Replica), percentiles and resident memory."""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from app.config import Settings
from app.services import port_orders
from app.store import queries
from app.store.migrate import upgrade
from app.wiring import build_services
from tests.builders import order_input, tenant

SECRET = "bench-secret-key-0123456789abcdef-0123456789"
PG_URL = os.environ.get(
    "PORTICO_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


@dataclass(frozen=True)
class Options:
    quick: bool = False


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[int(rank) - 1]


def cpu_seconds(pid: int, *, children: bool = False) -> float:
    """User + system CPU time of a process so far (Linux /proc); `children`: plus that of its
    running child processes (and theirs)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    total = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    if children:
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                with contextlib.suppress(OSError):
                    total += cpu_seconds(int(child), children=True)
    return total


def machine_ticks() -> tuple[int, int]:
    """(busy, total) clock ticks of all the machine's cores so far (/proc/stat): the share of
    the machine a phase used is the busy ticks over the total ticks between two readings."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle, iowait
    total = sum(values[:8])  # (guest time is counted in user already)
    return total - idle, total


def busy_share(before: tuple[int, int], after: tuple[int, int]) -> float:
    """Percent of the machine's cores busy between two `machine_ticks` readings."""
    busy, total = after[0] - before[0], after[1] - before[1]
    return 100.0 * busy / total if total else 0.0


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def raise_fd_limit() -> None:
    """Many sockets in one process (children inherit the limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and (hard == resource.RLIM_INFINITY or soft < hard):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


@contextlib.contextmanager
def workdir() -> Iterator[Path]:
    base = Path("var/bench")
    base.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix="run-", dir=base))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def sqlite_database(where: Path) -> str:
    url = f"sqlite+aiosqlite:///{where / 'portico.db'}"
    upgrade(url)
    return url


def _pg(database: str | None = None) -> str:
    u = make_url(PG_URL).set(drivername="postgresql")
    return (u.set(database=database) if database else u).render_as_string(hide_password=False)


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(_pg())
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def postgres_available() -> bool:
    try:
        asyncio.run(_admin("SELECT 1"))
    except (OSError, asyncpg.PostgresError):
        return False
    return True


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    name = f"portico_bench_{uuid.uuid4().hex[:10]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    try:
        url = make_url(_pg(name)).set(drivername="postgresql+asyncpg")
        sa_url = url.render_as_string(hide_password=False)
        upgrade(sa_url)
        yield sa_url
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def settings_for(database_url: str, var_dir: Path) -> Settings:
    return Settings(database_url=database_url, secret_key=SECRET, var_dir=var_dir)


def env_for(database_url: str, var_dir: Path) -> dict[str, str]:
    return {
        "PORTICO_DATABASE_URL": database_url,
        "PORTICO_SECRET_KEY": SECRET,
        "PORTICO_VAR_DIR": str(var_dir),
    }


@dataclass(frozen=True)
class Seed:
    authorization: str
    order_sid: str
    cursor: str  # the newest event id before the measured change


async def seed(settings: Settings) -> Seed:
    """An account with one order, straight through the services."""
    svc = build_services(settings)
    try:
        owner = await tenant(svc, name="bench")
        order = await port_orders.create_port_order(svc, owner.caller, order_input())
        async with svc.db.read() as s:
            cursor = await queries.last_event_id(s)
    finally:
        await svc.close()
    return Seed(owner.authorization, order.sid, str(cursor))
