"""Idempotent creates: an `Idempotency-Key` makes a repeated create return the first response.

Any create use case can be made idempotent (`run_once`): the key's row (unique per account
and key), the create and the stored response are written in ONE transaction, the key's row
first:
- PostgreSQL: a concurrent request with the same key blocks on the unique index until the
  first commits, then fails with a unique violation and replays the stored response (or goes
  ahead if the first rolled back).
- SQLite: writers are serialized (`BEGIN IMMEDIATE`), so the second finds the row or hits the
  same unique violation.
No row survives a failed create, so an error stores nothing and the same request may simply
be sent again. Keys expire after 24 hours. Port orders and Port Requests use it
(`create_port_order_once`, `create_port_request_once`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

from app.porting.errors import PortingError
from app.services import port_orders, port_requests
from app.services.context import ORDER_CONFLICTS, RETRY, Caller, Conflicts, Services
from app.services.reads import RequestView
from app.store import conflicts, queries
from app.store.engine import Tx
from app.store.tables import IdempotencyKey, PortOrder, PortOrderError

TTL = timedelta(hours=24)
KEY_CONFLICTS: Conflicts = {**ORDER_CONFLICTS, conflicts.IDEMPOTENCY_KEY: RETRY}

N = TypeVar("N")

# The transport's response for a new order: (HTTP status, body text).
Render = Callable[[PortOrder, Sequence[PortOrderError]], tuple[int, str]]
# The transport's response for a new Port Request.
RenderRequest = Callable[[RequestView], tuple[int, str]]
# A create and its stored response, in the transaction it is given.
Respond = Callable[[Tx], Awaitable[tuple[int, str]]]


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: str
    replayed: bool


def request_digest(raw: Mapping[str, object], resource: str | None = None) -> str:
    """What "the same request" means: the same parameters, whatever their encoding (and the
    same kind of resource: a key sent to two creates is two different requests)."""
    content: object = raw if resource is None else {resource: raw}
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _replay(row: IdempotencyKey, digest: str) -> StoredResponse:
    if row.request_sha256 != digest:
        raise PortingError(
            20422, "Idempotency key already used with a different request", "Idempotency-Key"
        )
    if row.response_status is None or row.response_body is None:  # written with the order
        raise PortingError(20409)
    return StoredResponse(row.response_status, row.response_body, replayed=True)


async def once(
    tx: Tx, svc: Services, caller: Caller, key: str, digest: str, respond: Respond
) -> StoredResponse:
    """The idempotent create, in one transaction: the key's row first (the unique index
    decides here, before the create writes anything), then the create and its response,
    stored. A key already there (committed by an earlier request) is replayed instead."""
    now = svc.clock()
    row = await queries.idempotency_key(tx, caller.sid, key, now - TTL)
    if row is not None:
        return _replay(row, digest)
    await queries.delete_expired_idempotency_key(tx, caller.sid, key, now - TTL)
    row = IdempotencyKey(account_sid=caller.sid, key=key, request_sha256=digest, date_created=now)
    tx.add(row)
    await tx.flush()
    status, body = await respond(tx)
    row.response_status = status
    row.response_body = body
    return StoredResponse(status, body, replayed=False)


async def run_once(
    svc: Services,
    caller: Caller,
    key: str,
    digest: str,
    prepare: Callable[[], Awaitable[N]],
    respond: Callable[[Tx, N], Awaitable[tuple[int, str]]],
) -> StoredResponse:
    """`prepare()` (outside any transaction: validation, the carrier), then `respond(tx,
    prepared)` once per key."""
    async with svc.db.read() as s:
        row = await queries.idempotency_key(s, caller.sid, key, svc.clock() - TTL)
    if row is not None:  # a replay answers without validating or asking the carrier again
        return _replay(row, digest)
    prepared = await prepare()

    async def respond_prepared(tx: Tx) -> tuple[int, str]:
        return await respond(tx, prepared)

    # A concurrent request holding the key makes ours fail on its unique index; by the time
    # we run again it has committed, and `once` replays its response.
    return await svc.run_with(KEY_CONFLICTS, once, svc, caller, key, digest, respond_prepared)


async def create_port_order_once(
    svc: Services, caller: Caller, key: str, raw: Mapping[str, object], render: Render
) -> StoredResponse:
    async def respond(tx: Tx, new: port_orders.NewOrder) -> tuple[int, str]:
        order = await port_orders.create(tx, svc, new)
        await tx.flush()
        errors = (await queries.errors_by_order(tx, [order.sid]))[order.sid]
        return render(order, errors)

    return await run_once(
        svc,
        caller,
        key,
        request_digest(raw),
        lambda: port_orders.prepare_create(svc, caller, raw),
        respond,
    )


async def create_port_request_once(
    svc: Services, caller: Caller, key: str, raw: Mapping[str, object], render: RenderRequest
) -> StoredResponse:
    async def respond(tx: Tx, new: port_requests.NewRequest) -> tuple[int, str]:
        return render(await port_requests.create(tx, svc, new))

    return await run_once(
        svc,
        caller,
        key,
        request_digest(raw, "port_request"),
        lambda: port_requests.prepare_create(svc, caller, raw),
        respond,
    )
