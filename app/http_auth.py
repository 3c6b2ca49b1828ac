"""HTTP Basic `AccountSid:AuthToken` (or `OperatorSid:Token`) for every transport.

REST, GraphQL over HTTP and websocket `connection_init` all resolve credentials here, so the
tenant rules (ARCHITECTURE.md §6) are decided in one place: app/services/accounts.authenticate.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping

from app.observability import logs
from app.services import accounts
from app.services.context import Caller, Services

REALM = 'Basic realm="Portico"'


def parse_basic(header: str | None) -> tuple[str, str] | None:
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "basic" or not value:
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    sid, sep, secret = decoded.partition(":")
    if not sep or not sid or not secret:
        return None
    return sid, secret


async def caller_from_authorization(svc: Services, header: str | None) -> Caller | None:
    creds = parse_basic(header)
    if creds is None:
        return None
    caller = await accounts.authenticate(svc, *creds)
    if caller is not None:  # log lines written from here on name the caller (logs.py)
        logs.caller_sid.set(caller.sid)
    return caller


async def caller_from_headers(svc: Services, headers: Mapping[str, str]) -> Caller | None:
    return await caller_from_authorization(svc, headers.get("authorization"))
