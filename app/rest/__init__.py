"""The Twilio-style REST surface of the source document, mounted at /porting."""

from __future__ import annotations

import re

from starlette.responses import Response
from starlette.routing import Mount, Router
from starlette.types import ASGIApp, Receive, Scope, Send

from app.rest.errors import not_found
from app.rest.routes import routes


async def _not_found(scope: Scope, receive: Receive, send: Send) -> None:
    response: Response = not_found()
    await response(scope, receive, send)


class _Mount(Mount):
    """Starlette's mount pattern (`/porting/(?P<path>.*)`) misses paths holding a newline
    (`%0A`); DOTALL makes every path under the prefix get the REST 404 body."""

    def __init__(self, path: str, app: ASGIApp):
        super().__init__(path, app=app)
        self.path_regex = re.compile(self.path_regex.pattern, re.DOTALL)


def rest_mount(path: str = "/porting") -> Mount:
    return _Mount(path, Router(routes(), default=_not_found))


__all__ = ["rest_mount"]
