"""Idempotent creates: an `Idempotency-Key` makes a repeated create return the first response.

The key's row (unique per account and key), the order and the stored response are written in
ONE transaction, the key's row first:
- PostgreSQL: a concurrent request with the same key blocks on the unique index until the
  first commits, then fails with a unique violation and replays the stored response (or goes
  ahead if the first rolled back).
- SQLite: writers are serialized (`BEGIN IMMEDIATE`), so the second finds the row or hits the
  same unique violation.
No row survives a failed create, so an error stores nothing and the same request may simply
be sent again. Keys expire after 24 hours.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.exc import IntegrityError

from app.porting.errors import PortingError
from app.services import port_orders
from app.services.context import Caller, Services
from app.store import queries
from app.store.engine import Tx
from app.store.tables import IdempotencyKey, PortOrder, PortOrderError

TTL = timedelta(hours=24)

# The transport's response for a new order: (HTTP status, body text).
Render = Callable[[PortOrder, Sequence[PortOrderError]], tuple[int, str]]


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: str
    replayed: bool


def request_digest(raw: Mapping[str, object]) -> str:
    """What "the same request" means: the same parameters, whatever their encoding."""
    text = json.dumps(raw, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _is_key_conflict(exc: IntegrityError) -> bool:
    return "idempotency_keys" in str(exc.orig)


def _replay(row: IdempotencyKey, digest: str) -> StoredResponse:
    if row.request_sha256 != digest:
        raise PortingError(
            20422, "Idempotency key already used with a different request", "Idempotency-Key"
        )
    if row.response_status is None or row.response_body is None:  # written with the order
        raise PortingError(20409)
    return StoredResponse(row.response_status, row.response_body, replayed=True)


async def create_port_order_once(
    svc: Services, caller: Caller, key: str, raw: Mapping[str, object], render: Render
) -> StoredResponse:
    digest = request_digest(raw)
    for _ in range(3):
        since = svc.clock() - TTL
        async with svc.db.read() as s:
            row = await queries.idempotency_key(s, caller.sid, key, since)
        if row is not None:
            return _replay(row, digest)
        try:
            return await _create(svc, caller, key, digest, raw, render)
        except IntegrityError as exc:
            if not _is_key_conflict(exc):
                raise
            # Another request holds the key: it has committed by now; read its response.
    raise PortingError(20409)


async def _create(
    svc: Services,
    caller: Caller,
    key: str,
    digest: str,
    raw: Mapping[str, object],
    render: Render,
) -> StoredResponse:
    rows: list[IdempotencyKey] = []
    responses: list[StoredResponse] = []

    async def reserve(tx: Tx) -> None:
        now = svc.clock()
        await queries.delete_expired_idempotency_key(tx, caller.sid, key, now - TTL)
        row = IdempotencyKey(
            account_sid=caller.sid, key=key, request_sha256=digest, date_created=now
        )
        tx.add(row)
        await tx.flush()  # the unique index decides here, before the order is written
        rows[:] = [row]

    async def store(tx: Tx, order: PortOrder) -> None:
        await tx.flush()
        errors = (await queries.errors_by_order(tx, [order.sid]))[order.sid]
        status, body = render(order, errors)
        rows[0].response_status = status
        rows[0].response_body = body
        responses[:] = [StoredResponse(status, body, replayed=False)]

    await port_orders.create_port_order(svc, caller, raw, before=reserve, after=store)
    return responses[0]
