"""Credentials for every transport: HTTP Basic `AccountSid:AuthToken` (or `OperatorSid:Token`,
or an API key `SK...:secret`), or `Authorization: Bearer <access token>`.

REST, GraphQL over HTTP and websocket `connection_init` all resolve credentials here, so the
tenant rules (ARCHITECTURE.md §6) are decided in one place: app/services/credentials.py.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping

from app.observability import logs
from app.services import credentials
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


def parse_bearer(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value or len(value) > MAX_BEARER:
        return None
    return value


MAX_BEARER = 4096


def has_credentials(header: str | None) -> bool:
    """Whether the header holds credentials of a usable shape (not whether they are right)."""
    return parse_basic(header) is not None or parse_bearer(header) is not None


async def caller_from_authorization(svc: Services, header: str | None) -> Caller | None:
    creds = parse_basic(header)
    if creds is not None:
        caller = await credentials.authenticate(svc, *creds)
    else:
        token = parse_bearer(header)
        if token is None:
            return None
        caller = await credentials.authenticate_bearer(svc, token)
    if caller is not None:  # log lines written from here on name the caller (logs.py)
        logs.caller_sid.set(caller.sid)
    return caller


async def caller_from_headers(svc: Services, headers: Mapping[str, str]) -> Caller | None:
    return await caller_from_authorization(svc, headers.get("authorization"))
