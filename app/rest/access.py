"""REST: `POST /porting/AccessTokens`, and what a credential allows on each route
(app/services/grants.py): read-only credentials only read, a restricted access token reaches
its resource only."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from app.http_auth import parse_basic
from app.porting.isotime import format_utc
from app.rest import body
from app.rest.errors import invalid
from app.services import credentials, grants
from app.services.context import Caller, Services

# Handlers that change nothing although their method is POST.
READING_POSTS = frozenset({"check_portability"})


async def check(svc: Services, caller: Caller, request: Request, handler_name: str) -> None:
    """Raise 20403 / 20404 when the credential does not allow this request."""
    writes = request.method not in ("GET", "HEAD") and handler_name not in READING_POSTS
    if writes and handler_name != "create_access_token":
        grants.may_write(caller)
    if caller.restriction is None:
        return
    sid = request.path_params.get("sid")
    if sid is not None:
        await grants.check_sid(svc, caller, sid)
        return
    if handler_name == "list_orders" and request.query_params.get("PortRequestSid") == (
        caller.restriction
    ):
        return  # a Port Request's orders, for a token restricted to that request
    raise grants.restricted(caller)


def _int(value: object, name: str) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise invalid(f"{name} must be a whole number of seconds", name)
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        return int(value.strip())
    raise invalid(f"{name} must be a whole number of seconds", name)


NAMES = {
    "scope": "scope",
    "Scope": "scope",
    "restriction": "restriction",
    "Restriction": "restriction",
    "ttl": "ttl",
    "Ttl": "ttl",
}


async def create_access_token(request: Request, svc: Services, caller: Caller) -> Response:
    """`{scope?, restriction?, ttl?}` (JSON or form) -> 201 `{token, expires_at, scope,
    restriction, account_sid}`."""
    given: dict[str, object] = {}
    for name, value in await body.read_pairs(request):
        field = NAMES.get(name)
        if field is None:
            raise invalid("Unknown parameter", None)
        given[field] = value
    scope, restriction = given.get("scope"), given.get("restriction")
    if scope is not None and not isinstance(scope, str):
        raise invalid("Scope must be read or read_write", "scope")
    if restriction is not None and not isinstance(restriction, str):
        raise invalid("Restriction must be a port order or Port Request SID", "restriction")
    basic = parse_basic(request.headers.get("authorization"))
    minted = await credentials.issue_access_token(
        svc,
        caller,
        credential_sid=basic[0] if basic else caller.sid,
        scope=scope or None,
        restriction=restriction or None,
        ttl=_int(given.get("ttl"), "ttl"),
    )
    return JSONResponse(
        {
            "token": minted.token,
            "expires_at": format_utc(minted.expires_at),
            "account_sid": caller.sid,
            "scope": scope or "read_write",
            "restriction": restriction or None,
        },
        status_code=201,
        headers={"Cache-Control": "no-store"},
    )
