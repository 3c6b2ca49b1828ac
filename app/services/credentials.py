"""Who is asking, from any credential: an account's auth token, an operator's token, an API
key (HTTP Basic), or an access token (a JWT, `Authorization: Bearer`).

Access tokens are what a customer's backend mints for its browser code (as Twilio's are):
`issue_access_token` signs, with HS256 (PyJWT), the account (`sub`), the credential that minted
it (`iss`: the account or the API key), a scope (`read` or `read_write`), an optional
restriction to one port order or Port Request (its SID), and an expiry (10 minutes by default,
at most an hour). The signing key is derived from PORTICO_SECRET_KEY (HKDF, its own purpose),
which every replica shares already to read the encrypted columns: any replica verifies any
token, and the key is never stored, shown or logged. A token minted with an API key dies with
the key: revoking the key reaches every replica (the bus) and the token is refused there.

Every verified credential is remembered a few seconds (app/services/credential_cache.py).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import jwt

from app.porting import sids
from app.porting.errors import FORBIDDEN, NOT_FOUND, PortingError
from app.services import accounts, api_keys, reads
from app.services.context import Caller, Services
from app.store import access, queries
from app.store.secrets import derive_key

Scope = Literal["read", "read_write"]
SCOPES: tuple[Scope, ...] = ("read", "read_write")
DEFAULT_TTL = 600
MAX_TTL = 3600
AUDIENCE = "portico"
ALGORITHM = "HS256"
KEY_ID = "v1"
BEARER = "bearer"  # the credential cache's key for access tokens (with the token's digest)


@dataclass(frozen=True)
class AccessToken:
    token: str
    expires_at: datetime


async def authenticate(svc: Services, sid: str, secret: str) -> Caller | None:
    """HTTP Basic `sid:secret`: an account, an operator or an API key; None when wrong."""
    cached = svc.credentials.get(sid, secret)
    if cached is not None:
        return cached
    if sids.is_sid(sid, api_keys.API_KEY):
        caller = await api_keys.authenticate_key(svc, sid, secret)
    else:
        caller = await accounts.authenticate(svc, sid, secret)
    if caller is not None:
        svc.credentials.put(sid, secret, caller)
    return caller


def _signing_key(svc: Services) -> bytes:
    return derive_key(svc.settings.resolved_secret_key, f"access-tokens-{KEY_ID}")


async def issue_access_token(
    svc: Services,
    caller: Caller,
    *,
    credential_sid: str,
    scope: str | None = None,
    restriction: str | None = None,
    ttl: int | None = None,
) -> AccessToken:
    """Mint a token for `caller` (an account, authenticated by `credential_sid`)."""
    if caller.is_operator or caller.restriction is not None or caller.expires_at is not None:
        raise PortingError(FORBIDDEN, "Access tokens are minted with an account's credentials")
    scope = scope or "read_write"
    if scope not in SCOPES:
        raise PortingError(20001, "Scope must be read or read_write", "scope")
    if scope == "read_write" and caller.read_only:
        raise PortingError(FORBIDDEN, "A read-only key mints read tokens only", "scope")
    seconds = DEFAULT_TTL if ttl is None else ttl
    if not 1 <= seconds <= MAX_TTL:
        raise PortingError(20001, f"Ttl must be 1 to {MAX_TTL} seconds", "ttl")
    if restriction is not None:
        await _check_restriction(svc, caller, restriction)
    now = svc.clock()
    expires = now + timedelta(seconds=seconds)
    claims: dict[str, Any] = {
        "iss": credential_sid,
        "sub": caller.sid,
        "aud": AUDIENCE,
        "scope": scope,
        "iat": int(now.timestamp()),
        "exp": int(expires.timestamp()),
        "jti": uuid.uuid4().hex,
    }
    if restriction is not None:
        claims["restriction"] = restriction
    token = jwt.encode(claims, _signing_key(svc), algorithm=ALGORITHM, headers={"kid": KEY_ID})
    return AccessToken(token, datetime.fromtimestamp(claims["exp"], UTC))


async def _check_restriction(svc: Services, caller: Caller, sid: str) -> None:
    if sids.is_sid(sid, sids.PORT_ORDER):
        found: object = await reads.get_port_order(svc, caller, sid)
    elif sids.is_sid(sid, sids.PORT_REQUEST):
        found = await reads.get_port_request(svc, caller, sid)
    else:
        raise PortingError(
            20001, "Restriction must be a port order or Port Request SID", "restriction"
        )
    if found is None:
        raise PortingError(NOT_FOUND, field="restriction")


async def authenticate_bearer(svc: Services, token: str) -> Caller | None:
    """An access token: its account, scope and restriction; None when expired, tampered with,
    or minted by a key revoked since. A token verified a moment ago is not decoded again (it is
    remembered at most until it expires)."""
    cached = svc.credentials.get(BEARER, token)
    if cached is not None:
        return cached
    try:
        claims = jwt.decode(
            token,
            _signing_key(svc),
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            options={"require": ["exp", "iat", "sub", "iss", "scope"]},
        )
    except jwt.PyJWTError:
        return None
    issuer, account_sid, scope = claims["iss"], claims["sub"], claims["scope"]
    restriction = claims.get("restriction")
    if scope not in SCOPES or not isinstance(issuer, str) or not sids.is_sid(account_sid):
        return None
    if restriction is not None and not (
        sids.is_sid(restriction, sids.PORT_ORDER) or sids.is_sid(restriction, sids.PORT_REQUEST)
    ):
        return None
    expires = datetime.fromtimestamp(int(claims["exp"]), UTC)
    base = await _issuer_account(svc, issuer, account_sid)
    if base is None:
        return None
    caller = replace(
        base,
        read_only=base.read_only or scope == "read",
        restriction=restriction,
        expires_at=expires,
    )
    remaining = (expires - svc.clock()).total_seconds()
    svc.credentials.put(BEARER, token, caller, until=time.monotonic() + remaining)
    return caller


async def _issuer_account(svc: Services, issuer: str, account_sid: str) -> Caller | None:
    """The account a token speaks for, if the credential that minted it still stands."""
    async with svc.db.read() as s:
        if sids.is_sid(issuer, api_keys.API_KEY):
            key = await access.api_key(s, issuer)
            if key is None or key.date_revoked is not None or key.account_sid != account_sid:
                return None
            read_only, key_sid = key.read_only, key.sid
        elif issuer == account_sid:
            read_only, key_sid = False, None
        else:
            return None
        family = await queries.account_family(s, account_sid)
    account = next((a for a in family if a.sid == account_sid), None)
    if account is None:
        return None
    visible = {a.sid for a in family} if account.parent_sid is None else {account.sid}
    return Caller(account.sid, "account", frozenset(visible), read_only=read_only, key_sid=key_sid)
