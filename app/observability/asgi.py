"""The ASGI middleware around the whole application: for every HTTP request and websocket,

- a request id: the incoming `X-Request-Id` when it is safe to repeat (logs.accept_request_id),
  else a new one; returned as `X-Request-Id` on every response (and on a websocket's accept),
  and set in the context of every log line written for the request;
- one observation of `portico_http_request_duration_seconds` (method, route template, status);
- one access line (logger `app.access`): method, route template, status, duration; probes and
  scrapes (/healthz, /readyz, /metrics) at DEBUG, everything else at INFO. A websocket's line
  is written when it closes.

The route is the template of the route that matches (`/porting/PortOrders/{sid}`, mounts
joined), "unmatched" for none: never the raw path, which may hold a signing token.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from starlette.routing import BaseRoute, Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.observability import logs
from app.observability.metrics import HTTP_REQUESTS, method_label

access = logging.getLogger("app.access")
HEADER = b"x-request-id"
QUIET_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})
UNMATCHED = "unmatched"


def route_template(routes: Sequence[BaseRoute], scope: Scope, prefix: str = "") -> str | None:
    """The template of the route `scope` goes to, as Starlette's router picks it (a full
    match first, else the first partial one: a method the route does not take)."""
    partial: str | None = None
    for route in routes:
        match, child = route.matches(scope)
        if match is Match.NONE:
            continue
        if isinstance(route, Mount):
            inner = route_template(route.routes, {**scope, **child}, prefix + route.path)
            return inner or f"{prefix}{route.path}/{{path}}"
        path = getattr(route, "path", "")
        if match is Match.FULL:
            return prefix + path
        partial = partial or prefix + path
    return partial


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


class ObserveRequests:
    def __init__(self, app: ASGIApp, routes: Sequence[BaseRoute]) -> None:
        self.app = app
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        rid = logs.accept_request_id(_header(scope, HEADER))
        tokens = (
            logs.request_id.set(rid),
            logs.caller_sid.set(None),
            logs.operation.set(None),
        )
        route = route_template(self.routes, scope) or UNMATCHED
        method = method_label(scope.get("method", "GET")) if kind == "http" else "WEBSOCKET"
        status = 500 if kind == "http" else 1000
        start = time.perf_counter()

        async def tagged(message: Message) -> None:
            nonlocal status
            if message["type"] in ("http.response.start", "websocket.accept"):
                status = message.get("status", 101)
                headers = [*message.get("headers", ()), (HEADER, rid.encode())]
                message = {**message, "headers": headers}
            elif message["type"] == "websocket.close":
                status = message.get("code", 1000)
            await send(message)

        async def heard() -> Message:
            nonlocal status
            message = await receive()
            if message["type"] == "websocket.disconnect":
                status = message.get("code", 1005)
            return message

        try:
            await self.app(scope, heard if kind == "websocket" else receive, tagged)
        finally:
            elapsed = time.perf_counter() - start
            if kind == "http":
                HTTP_REQUESTS.labels(method, route, str(status)).observe(elapsed)
            level = logging.DEBUG if route in QUIET_ROUTES else logging.INFO
            duration_ms = round(elapsed * 1000, 1)
            access.log(
                level,
                "%s %s %s %.1f ms",
                method,
                route,
                status,
                duration_ms,
                extra={
                    "method": method,
                    "route": route,
                    "status": status,
                    "duration_ms": duration_ms,
                },
            )
            for var, token in zip(
                (logs.request_id, logs.caller_sid, logs.operation), tokens, strict=True
            ):
                var.reset(token)
