"""Signatures on status callbacks, two ways (pure functions).

1. Twilio's scheme: for a JSON body the URL carries `bodySHA256` (hex SHA-256 of the body) and
   `X-Twilio-Signature` is base64(HMAC-SHA1(auth token, full URL)), so `twilio`'s
   `RequestValidator(auth_token).validate(url, body, signature)` accepts it.
2. Standard Webhooks: `webhook-signature` = "v1," + base64(HMAC-SHA256(secret,
   "{webhook-id}.{webhook-timestamp}.{body}")), one entry per valid secret, space-separated.
   Secrets are shown as "whsec_" + base64(key bytes).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Sequence
from urllib.parse import urlparse, urlsplit, urlunsplit

SECRET_PREFIX = "whsec_"


def url_with_body_hash(url: str, body: bytes) -> str:
    """The URL to POST to: the callback URL plus `bodySHA256`, in the form Twilio's validator
    rebuilds (urlparse(...).geturl()), without a fragment."""
    parts = urlsplit(url)
    digest = hashlib.sha256(body).hexdigest()
    query = f"{parts.query}&bodySHA256={digest}" if parts.query else f"bodySHA256={digest}"
    return urlparse(urlunsplit(parts._replace(query=query, fragment=""))).geturl()


def twilio_signature(auth_token: str, url: str) -> str:
    mac = hmac.new(auth_token.encode(), url.encode(), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode()


def new_webhook_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def public_secret(stored: str) -> str:
    """A stored secret as shown to its owner. Secrets stored before the "whsec_" form (raw
    strings) stand for their UTF-8 bytes."""
    if stored.startswith(SECRET_PREFIX):
        return stored
    return SECRET_PREFIX + base64.b64encode(stored.encode()).decode()


def secret_key(stored: str) -> bytes:
    return base64.b64decode(public_secret(stored)[len(SECRET_PREFIX) :])


def standard_signature(keys: Sequence[bytes], msg_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return " ".join(
        "v1," + base64.b64encode(hmac.new(k, signed, hashlib.sha256).digest()).decode()
        for k in keys
    )


def callback_headers(
    *,
    delivery_sid: str,
    timestamp: int,
    url: str,
    body: bytes,
    auth_token: str,
    webhook_keys: Sequence[bytes],
) -> dict[str, str]:
    """Every header of one callback attempt (`url` already carries bodySHA256)."""
    headers = {
        "Content-Type": "application/json",
        "X-Twilio-Signature": twilio_signature(auth_token, url),
        "I-Twilio-Idempotency-Token": delivery_sid,
        "webhook-id": delivery_sid,
        "webhook-timestamp": str(timestamp),
    }
    if webhook_keys:
        headers["webhook-signature"] = standard_signature(
            webhook_keys, delivery_sid, timestamp, body
        )
    return headers
