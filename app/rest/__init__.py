"""The Twilio-style REST surface of the source document, mounted at /porting."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Mount, Router
from starlette.types import Receive, Scope, Send

from app.rest.errors import not_found
from app.rest.routes import routes


async def _not_found(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":  # pragma: no cover - websockets are not served here
        return
    response: Response = not_found()
    await response(scope, receive, send)


def rest_mount(path: str = "/porting") -> Mount:
    return Mount(path, app=Router(routes(), default=_not_found))


__all__ = ["rest_mount"]
