"""One status callback attempt: the event's payload as JSON, signed, POSTed once."""

from __future__ import annotations

import json
import logging

from app.delivery import retry, signing
from app.services import webhook_secrets
from app.services.context import Services
from app.store import queries
from app.store.tables import Delivery

log = logging.getLogger(__name__)


def body_of(payload: dict[str, object]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()


async def send(svc: Services, d: Delivery) -> retry.Outcome:
    async with svc.db.read() as s:
        event = await queries.event_by_id(s, d.event_id)
        account = await queries.account_by_sid(s, d.account_sid)
    if event is None or account is None:
        return retry.Outcome(False, error="event or account no longer exists", final=True)
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
    outcome = retry.from_http(await svc.http_sender.post(url, body, headers))
    log.info(
        "callback %s (attempt %d): %s",
        d.sid,
        d.attempts + 1,
        "delivered" if outcome.ok else (outcome.error or outcome.status_code),
    )
    return outcome
