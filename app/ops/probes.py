"""Liveness and readiness.

- `/healthz` (liveness, for the process manager): 200 while the database answers.
- `/readyz` (readiness, for the load balancer): 200 only when the database answers, its
  migrations are at the head of app/store/migrations, and the bus is listening (on PostgreSQL
  the replica's LISTEN connection is up; the in-memory bus of SQLite always is). Otherwise 503
  with the reason of each check that failed. Each check is bounded by CHECK_TIMEOUT seconds,
  so neither probe hangs while the database does.
"""

from __future__ import annotations

import asyncio
import logging

from starlette.requests import Request
from starlette.responses import JSONResponse

from app.services.context import Services
from app.store.conflicts import RETRY_AFTER_SECONDS
from app.store.migrate import current_revisions, head_revisions

log = logging.getLogger(__name__)
CHECK_TIMEOUT = 2.0
OK = "ok"


def _unreachable(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return f"unreachable: no answer within {CHECK_TIMEOUT:g} s"
    return f"unreachable: {type(exc).__name__}"  # a type, never a message (it may hold a URL)


async def check_database(svc: Services) -> str:
    try:
        await asyncio.wait_for(svc.db.ping(), CHECK_TIMEOUT)
    except Exception as exc:
        return _unreachable(exc)
    return OK


async def check_migrations(svc: Services) -> str:
    try:
        current = await asyncio.wait_for(current_revisions(svc.db), CHECK_TIMEOUT)
    except Exception as exc:
        return f"unknown: database {_unreachable(exc)}"
    head = head_revisions()
    if current == head:
        return OK
    at = ", ".join(sorted(current)) or "none (never migrated)"
    return f"at {at}; head is {', '.join(sorted(head))}"


def check_bus(svc: Services) -> str:
    return OK if svc.bus.listening else "not listening (reconnecting to the database)"


async def healthz(request: Request) -> JSONResponse:
    svc: Services = request.app.state.services
    if await check_database(svc) != OK:
        log.warning("health check: database unreachable")
        return JSONResponse(
            {"status": "unavailable", "reason": "database unreachable"},
            status_code=503,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    svc: Services = request.app.state.services
    database, migrations = await asyncio.gather(check_database(svc), check_migrations(svc))
    checks = {"database": database, "migrations": migrations, "bus": check_bus(svc)}
    ready = all(v == OK for v in checks.values())
    was = getattr(request.app.state, "ready", None)
    if ready != was:  # one line per change, not one per probe
        request.app.state.ready = ready
        if ready:
            log.info("ready")
        else:
            failed = "; ".join(f"{k}: {v}" for k, v in checks.items() if v != OK)
            log.warning("not ready: %s", failed)
    body = {"status": "ok" if ready else "unavailable", "checks": checks}
    return JSONResponse(body, status_code=200 if ready else 503)
