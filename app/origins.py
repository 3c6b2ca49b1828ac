"""Browser origins: CORS for the API, and the CSRF guard (README, "Frontend access").

For `/graphql` and `/porting/...` only, before routing, authentication or any body is read:

- CORS: an `Origin` on `PORTICO_CORS_ALLOWED_ORIGINS` gets `Access-Control-Allow-Origin` (that
  origin, `Vary: Origin`) and the headers a frontend reads (`X-Request-Id`, `Retry-After`,
  `Idempotent-Replayed`); its preflight (`OPTIONS` with `Access-Control-Request-Method`) is
  answered 204, allowing `Authorization`, `Content-Type`, `Idempotency-Key` and
  `X-Request-Id`. No cookies are involved (credentials travel in `Authorization`), so
  `Access-Control-Allow-Credentials` is never sent. Any other origin gets no CORS header at all
  (its preflight: 403 without them, so the browser sends nothing).
- CSRF: a state-changing request (any method but GET, HEAD, OPTIONS) whose `Origin` is neither
  the server's own (its Host, or PORTICO_PUBLIC_URL) nor on the list, or that says
  `Sec-Fetch-Site: cross-site` without an allowed `Origin`, is refused with 20403 before any
  work. A request without `Origin` (curl, servers, SDKs) is not a browser's cross-site request
  and passes unchanged.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.config import Settings
from app.porting.errors import CATALOG, FORBIDDEN

GUARDED = ("/graphql", "/porting")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
ALLOW_METHODS = "GET, POST, PUT, DELETE, OPTIONS"
ALLOW_HEADERS = "Authorization, Content-Type, Idempotency-Key, X-Request-Id"
EXPOSE_HEADERS = "X-Request-Id, Retry-After, Idempotent-Replayed"
MAX_AGE = "600"
REFUSED = "Cross-site request refused: its Origin is not allowed"


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _guarded(path: str) -> bool:
    return any(path == p or path.startswith(p + "/") for p in GUARDED)


class OriginGuard:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.allowed = frozenset(o.rstrip("/").lower() for o in settings.cors_allowed_origins)
        self.own = origin_of(settings.public_url)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _guarded(scope["path"]):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        allowed = origin is not None and origin.lower() in self.allowed
        method = scope["method"]
        if (
            method == "OPTIONS"
            and origin is not None
            and "access-control-request-method" in headers
        ):
            await self._preflight(allowed, origin, scope, send)
            return
        if method not in SAFE_METHODS and not allowed and self._cross_site(headers, origin, scope):
            await _refuse(scope, send)
            return
        if not allowed:
            await self.app(scope, receive, send)
            return
        assert origin is not None

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    *_cors_headers(origin),
                    (b"access-control-expose-headers", EXPOSE_HEADERS.encode()),
                ]
            await send(message)

        await self.app(scope, receive, send_with_cors)

    def _cross_site(self, headers: Headers, origin: str | None, scope: Scope) -> bool:
        if headers.get("sec-fetch-site") == "cross-site":
            return True
        if origin is None:
            return False  # not a browser's cross-site request (curl, servers)
        own = {self.own}
        host = headers.get("host")
        if host:
            own.add(f"{scope.get('scheme', 'http')}://{host}".lower())
        return origin.lower() not in own

    async def _preflight(self, allowed: bool, origin: str, scope: Scope, send: Send) -> None:
        if not allowed:
            await _refuse(scope, send)
            return
        headers = [
            *_cors_headers(origin),
            (b"access-control-allow-methods", ALLOW_METHODS.encode()),
            (b"access-control-allow-headers", ALLOW_HEADERS.encode()),
            (b"access-control-max-age", MAX_AGE.encode()),
            (b"content-length", b"0"),
        ]
        await send({"type": "http.response.start", "status": 204, "headers": headers})
        await send({"type": "http.response.body", "body": b""})


def _cors_headers(origin: str) -> list[tuple[bytes, bytes]]:
    return [(b"access-control-allow-origin", origin.encode("latin-1")), (b"vary", b"Origin")]


async def _refuse(scope: Scope, send: Send) -> None:
    """20403, in the body shape of the API asked (REST's error body, or GraphQL's errors)."""
    code, status = FORBIDDEN, CATALOG[FORBIDDEN][1]
    if scope["path"].startswith("/porting"):
        content: object = {
            "code": code,
            "message": REFUSED,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        }
    else:
        content = {"errors": [{"message": REFUSED, "extensions": {"code": code}}]}
    body = json.dumps(content).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
