"""One status callback attempt: the event's payload as JSON, signed, POSTed once."""

from __future__ import annotations

import json
import logging

from app.services import signing, webhook_secrets
from app.services.context import Services
from app.services.delivery_rows import Rows
from app.services.ports import HttpResult
from app.store import queries, work
from app.store.tables import Delivery

log = logging.getLogger(__name__)


def body_of(payload: dict[str, object]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()


def from_http(result: HttpResult) -> work.Outcome:
    """Only 2xx succeeds; 410 Gone stops at once, as does a target the SSRF guard refuses.
    Anything else is retried by the delivery's retry policy."""
    code = result.status_code
    if result.error is None and code is not None and 200 <= code < 300:
        return work.Outcome(True, code, None, result.latency_ms)
    if code == 410:
        return work.Outcome(
            False, code, "410 Gone: the receiver asked us to stop", result.latency_ms, True
        )
    error = result.error or f"HTTP {code}: only 2xx counts as delivered"
    return work.Outcome(False, code, error, result.latency_ms, result.permanent)


async def send(svc: Services, d: Delivery, rows: Rows | None = None) -> work.Outcome:
    """`rows`: what the worker read for the claimed batch (read here when None or stale)."""
    if rows is not None and rows.fresh:
        event, account = rows.events.get(d.event_id), rows.accounts.get(d.account_sid)
    else:
        async with svc.db.read() as s:
            event = await queries.event_by_id(s, d.event_id)
            account = await queries.account_by_sid(s, d.account_sid)
    if event is None or account is None:
        return work.Outcome(False, error="event or account no longer exists", final=True)
    body = body_of(event.payload)
    url = signing.url_with_body_hash(d.target, body)
    headers = signing.callback_headers(
        delivery_sid=d.sid,
        timestamp=int(svc.clock().timestamp()),
        url=url,
        body=body,
        auth_token=svc.cipher.decrypt(account.auth_token_enc),
        webhook_keys=await webhook_secrets.signing_keys(svc, account),
    )
    assert svc.http_sender is not None
    outcome = from_http(await svc.http_sender.post(url, body, headers))
    log.info(
        "callback %s (attempt %d): %s",
        d.sid,
        d.attempts + 1,
        "delivered" if outcome.ok else (outcome.error or outcome.status_code),
    )
    return outcome
