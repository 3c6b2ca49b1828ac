"""The `/graphql` endpoint on Starlette: Strawberry's ASGI view with HTTP Basic, and GraphiQL.

- A request without usable Basic credentials gets 401 with the Basic challenge at once, except
  a browser's GET asking for HTML, which gets GraphiQL (credentials go in its Headers editor).
  A script's request from a browser page (GraphiQL's own, a frontend's) gets the 401 without
  the challenge, which would only block the page behind the browser's login dialog.
- Credentials that parse are checked after validation (extensions.Authenticate): wrong ones get
  401 too; a document over the limits is refused before any database work.
- GraphiQL and its assets are served from this package (app/graphql/static), so it works with
  no network.
- Websockets (subscriptions, both protocols) on the same path: app/graphql/websockets.py. The
  application hands them to the view directly (app/main.App), past Starlette's middleware and
  router: a socket's task then waits through a few frames instead of a dozen, each held for
  the socket's life.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLRequestData
from strawberry.types.unset import UNSET

from app.config import Settings
from app.graphql.context import AUTH_FAILED, Context, wants_challenge
from app.graphql.fanout import FanOut
from app.graphql.persisted import Documents, Refusal, Refused
from app.graphql.schema import build_schema
from app.graphql.websockets import (
    SERVICE_RESTART,
    LegacyWSHandler,
    OpenSockets,
    SocketAdapter,
    TransportWSHandler,
    connect,
    rejection_payload,
)
from app.http_auth import REALM, has_credentials
from app.porting.errors import CATALOG
from app.services.context import Services
from app.store.conflicts import RETRY_AFTER_SECONDS, unavailable

STATIC = Path(__file__).parent / "static"


def unauthorized(request: Request) -> Response:
    body = {"errors": [{"message": CATALOG[AUTH_FAILED][0], "extensions": {"code": AUTH_FAILED}}]}
    headers = {"WWW-Authenticate": REALM} if wants_challenge(request.headers) else {}
    return JSONResponse(body, status_code=401, headers=headers)


AUTH_REFUSAL = Refusal(CATALOG[AUTH_FAILED][0], AUTH_FAILED, 401)
UNAVAILABLE_REFUSAL = Refusal(CATALOG[20503][0], 20503, 503)


class GraphQLView(GraphQL[Context, None]):
    websocket_adapter_class = SocketAdapter
    graphql_transport_ws_handler_class = TransportWSHandler
    graphql_ws_handler_class = LegacyWSHandler

    def __init__(self, settings: Settings, services: Services, sockets: OpenSockets) -> None:
        schema = build_schema(settings)
        self.core_schema = schema._schema  # graphql-core's, for registering APQ documents
        super().__init__(
            schema,
            keep_alive=True,  # graphql-ws `ka` messages; graphql-transport-ws: TransportWSHandler
            keep_alive_interval=settings.ws_keepalive_interval,
            connection_init_wait_timeout=timedelta(seconds=settings.ws_connection_init_timeout),
            max_subscriptions_per_connection=settings.ws_max_subscriptions,
            allowed_origins=settings.ws_allowed_origins + settings.cors_allowed_origins,
        )
        self.services = services
        self.sockets = sockets
        self.fanout: FanOut | None = FanOut(services.hub)
        self.max_queued_messages = settings.ws_max_queued_messages
        self._ide = (STATIC / "graphiql.html").read_text()
        self.documents = Documents(settings, services)  # APQ, trusted documents

    async def run(
        self, request: Request | WebSocket, context: Any = UNSET, root_value: Any = UNSET
    ) -> Any:
        if isinstance(request, Request):
            header = request.headers.get("authorization")
            wants_ide = self.should_render_graphql_ide(self.request_adapter_class(request))
            if not wants_ide and not has_credentials(header):
                return unauthorized(request)
            try:
                return await super().run(request, context, root_value)
            except Refused as refused:  # a persisted document refused (app/graphql/persisted.py)
                status = refused.refusal.status
                retry = {"Retry-After": str(RETRY_AFTER_SECONDS)} if status == 503 else {}
                return JSONResponse(refused.refusal.body, status_code=status, headers=retry)
        if self.sockets.closing:  # shutting down: clients go to another replica
            await request.close(code=SERVICE_RESTART)
            return request
        self.sockets.add(request)
        try:
            return await super().run(request, context, root_value)
        finally:
            self.sockets.discard(request)

    async def execute_operation(
        self,
        request: Request,
        request_adapter: Any,
        request_data: GraphQLRequestData | list[GraphQLRequestData],
        context: Context,
        root_value: Any,
        sub_response: Response,
    ) -> Any:
        """The request's document (persisted or trusted: app/graphql/persisted.py) before any
        parsing, once the caller is known where the store is read."""
        if isinstance(request_data, GraphQLRequestData):
            request_data = await self.persisted_document(request, request_data, context)
        return await super().execute_operation(
            request, request_adapter, request_data, context, root_value, sub_response
        )

    async def persisted_document(
        self, request: Request, data: GraphQLRequestData, context: Context
    ) -> GraphQLRequestData:
        docs = self.documents
        try:
            if docs.needs_caller(data.extensions) and await context.authenticate() is None:
                raise Refused(AUTH_REFUSAL)
            found = await docs.document_of(data.query, data.extensions)
        except Exception as exc:
            if not unavailable(exc):
                raise
            raise Refused(UNAVAILABLE_REFUSAL) from None
        if isinstance(found, Refusal):
            raise Refused(found)
        if found is None or found.text == data.query:
            if found is not None:
                await docs.register(self.core_schema, found)
            return data
        return dataclasses.replace(data, query=found.text)

    async def on_ws_connect(self, context: Context) -> None:
        """graphql-transport-ws `connection_init`: authenticate or close with 4403."""
        if not await connect(context):
            raise ConnectionRejectionError(rejection_payload())

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        return Context(services=self.services, request=request, response=response)

    async def render_graphql_ide(self, request: Request) -> Response:
        return HTMLResponse(self._ide)


def graphql_routes(view: GraphQLView) -> list[BaseRoute]:
    return [
        Route("/graphql", view, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", view),
        Mount("/graphql/static", StaticFiles(directory=STATIC / "assets"), name="graphiql"),
    ]
