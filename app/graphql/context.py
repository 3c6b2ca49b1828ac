"""The per-request GraphQL context: services, the caller, and the request's dataloaders.

The caller is known before anything is parsed: over HTTP the view (app/graphql/app.py)
authenticates the `Authorization` header (HTTP Basic) right after reading the body and hands the
caller in; a websocket transport sets `caller` itself when it accepts `connection_init`, and
builds fresh loaders per event with `reset_loaders()`. `authenticate()` remains for a context
built without one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from app.graphql.dataloaders import Loaders
from app.http_auth import REALM, caller_from_headers
from app.porting.errors import CATALOG
from app.services.budgets import Spent
from app.services.context import Caller, Services

AUTH_FAILED = 20003


def auth_error() -> GraphQLError:
    return GraphQLError(CATALOG[AUTH_FAILED][0], extensions={"code": AUTH_FAILED})


def wants_challenge(headers: Mapping[str, str]) -> bool:
    """Every 401 carries the Basic challenge, except for a script's request from a browser page
    (`Sec-Fetch-Dest: empty`: fetch/XHR, e.g. GraphiQL or a frontend): there the challenge would
    only pop the browser's login dialog over the page, and block it."""
    return headers.get("sec-fetch-dest") != "empty"


@dataclass
class Context:
    services: Services
    request: Request | WebSocket
    response: Response | WebSocket | None = None
    caller: Caller | None = None
    connection_params: dict[str, Any] | None = None  # a websocket's connection_init payload
    cost_nodes: int | None = None  # the running operation's node estimate (extensions.Cost)
    rate: Spent | None = None  # what it spent of the caller's budget (app/services/budgets.py)
    _loaders: Loaders | None = field(default=None, repr=False)

    async def authenticate(self) -> Caller | None:
        if self.caller is None and isinstance(self.request, Request):
            self.caller = await caller_from_headers(self.services, self.request.headers)
        return self.caller

    def refuse(self) -> None:
        """Answer 401, with the Basic challenge where it helps (HTTP only)."""
        if isinstance(self.response, Response):
            self.response.status_code = 401
            if wants_challenge(self.request.headers):
                self.response.headers["WWW-Authenticate"] = REALM

    @property
    def who(self) -> Caller:
        """The authenticated caller; execution never starts without one."""
        if self.caller is None:
            raise auth_error()
        return self.caller

    @property
    def loaders(self) -> Loaders:
        if self._loaders is None:
            self._loaders = Loaders(self.services, self.who)
        return self._loaders

    def reset_loaders(self) -> None:
        """Forget what this request's loaders cached (after a mutation changed rows)."""
        self._loaders = None
