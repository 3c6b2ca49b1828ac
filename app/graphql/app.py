"""The `/graphql` endpoint on Starlette: Strawberry's ASGI view with HTTP Basic, and GraphiQL.

Order of work for one HTTP request (nobody's bytes are parsed before we know who they are):
1. the body, read under PORTICO_GRAPHQL_MAX_BODY_BYTES (app/http_body.py): 413 as soon as the
   stream passes it, the rest never read;
2. the caller (HTTP Basic, app/http_auth.py): 401 with the Basic challenge, before any JSON or
   GraphQL parsing, except for a browser's GET asking for HTML, which gets GraphiQL
   (credentials go in its Headers editor). A script's request from a browser page
   (GraphiQL's own, a frontend's) gets the 401 without the challenge, which would only block
   the page behind the browser's login dialog;
3. the JSON body (app/http_body.decode_json: deep nesting, huge numbers, malformed JSON are a
   400 that quotes nothing of it);
4. parse, validate (cached: app/graphql/documents.py), cost and budget, execute
   (app/graphql/extensions.py); a cached, valid query with a compiled plan takes the direct
   lane (app/graphql/direct.py): the same steps without Strawberry's per-request machinery.
- GraphQL over HTTP: `Accept: application/graphql-response+json` gets that media type and the
  spec's status codes (400 without a `data` entry for a document that does not parse or
  validate, a refused cost, or variables that do not coerce); `application/json` (or no
  Accept, or */*) keeps 200 with `errors`.
- GraphiQL and its assets are served from this package (app/graphql/static), so it works with
  no network.
- Websockets (subscriptions, both protocols) on the same path: app/graphql/websockets.py (the
  same cap per message; nothing but connection_init is read before it succeeds). The
  application hands them to the view directly (app/main.App), past Starlette's middleware and
  router: a socket's task then waits through a few frames instead of a dozen, each held for
  the socket's life.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData, process_result
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET

from app.config import Settings
from app.graphql.context import AUTH_FAILED, Context, wants_challenge
from app.graphql.direct import DirectLane
from app.graphql.extensions import UNAVAILABLE
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
from app.http_auth import REALM, caller_from_headers
from app.http_body import BodyTooLarge, MalformedJson, decode_json, read_capped
from app.porting.errors import CATALOG
from app.services.context import Caller, Services
from app.store.conflicts import RETRY_AFTER_SECONDS, unavailable

STATIC = Path(__file__).parent / "static"
JSON = "application/json"
GRAPHQL_RESPONSE = "application/graphql-response+json"
INVALID_PARAMETER = 20001
TOO_LARGE = 20413
UNSUPPORTED = 20415
CALLER = "portico.caller"  # the scope key the view hands the authenticated caller under
CONTEXT = "portico.context"  # and the request's GraphQL context (for process_result)


def response_media(accept: str | None) -> str:
    """application/graphql-response+json when the client lists it before application/json
    (or without it); application/json otherwise (no Accept, */*, application/json)."""
    if not accept:
        return JSON
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate(accept.split(",")):
        media, *params = (p.strip() for p in part.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if media.lower() in (JSON, GRAPHQL_RESPONSE) and q > 0:
            ranked.append((-q, i, media.lower()))
    return min(ranked)[2] if ranked else JSON


def error_body(message: str, code: int) -> dict[str, object]:
    return {"errors": [{"message": message, "extensions": {"code": code}}]}


def request_error(
    request: Request, status: int, message: str, code: int, headers: dict[str, str] | None = None
) -> Response:
    """An error answered before GraphQL ran, in the media type the client asked for."""
    media = response_media(request.headers.get("accept"))
    return JSONResponse(
        error_body(message, code), status_code=status, headers=headers, media_type=media
    )


def unauthorized(request: Request) -> Response:
    headers = {"WWW-Authenticate": REALM} if wants_challenge(request.headers) else {}
    return request_error(request, 401, CATALOG[AUTH_FAILED][0], AUTH_FAILED, headers)


def replay(body: bytes) -> Receive:
    """A receive channel that gives `body` (already read under the cap) once."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


def is_request_error(result: ExecutionResult) -> bool:
    """Nothing ran: the document did not parse or validate, its variables did not coerce, its
    cost was refused (every error without a path, no data)."""
    return (
        result.data is None and bool(result.errors) and all(not e.path for e in result.errors or ())
    )


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
        self.max_body_bytes = settings.graphql_max_body_bytes
        self._ide = (STATIC / "graphiql.html").read_text()
        self.documents = Documents(settings, services)  # APQ, trusted documents
        self.lane: DirectLane | None = DirectLane(self, schema, settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            response = await self.run_http(request)
        except HTTPException as exc:  # Strawberry's refusals of a request, as GraphQL errors
            code = UNSUPPORTED if exc.status_code == 415 else INVALID_PARAMETER
            response = request_error(request, exc.status_code, exc.reason, code)
        await response(scope, receive, send)

    async def run_http(self, request: Request) -> Response:
        if request.method == "GET" and self.should_render_graphql_ide(
            self.request_adapter_class(request)
        ):
            return await self.render_graphql_ide(request)
        body = None
        if request.method == "POST":
            try:
                body = await read_capped(request, self.max_body_bytes)
            except BodyTooLarge as exc:
                # The rest of the body is never read: uvicorn closes the connection after this.
                return request_error(request, 413, str(exc), TOO_LARGE, {"Connection": "close"})
        try:
            caller = await caller_from_headers(self.services, request.headers)
        except Exception as exc:
            if not unavailable(exc):
                raise
            retry = {"Retry-After": str(RETRY_AFTER_SECONDS)}
            return request_error(request, 503, CATALOG[UNAVAILABLE][0], UNAVAILABLE, retry)
        if caller is None:
            return unauthorized(request)
        request.scope[CALLER] = caller
        if body is not None:
            if self.lane is not None:
                answered = await self.lane.answer(request, body)
                if answered is not None:
                    return answered
            request = Request(request.scope, replay(body))  # (Strawberry's view reads it)
        response: Response = await self.run(request)  # (persisted documents refused there)
        return response

    def decode_json(self, data: str | bytes) -> object:
        """Every JSON body and websocket message: bounded, and quoting nothing of it."""
        try:
            return decode_json(data)
        except MalformedJson as exc:
            raise HTTPException(400, str(exc)) from None

    def parse_json(self, data: str | bytes) -> Any:
        return self.decode_json(data)

    async def parse_http_body(self, request: Any) -> Any:
        """Strawberry's, and `operationName` must be a string (or null) too."""
        data = await super().parse_http_body(request)
        for item in data if isinstance(data, list) else [data]:
            if not isinstance(item.operation_name, str | None):
                raise HTTPException(
                    400, "The GraphQL operation's `operationName` must be a string or null."
                )
        return data

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        data = process_result(result)
        context = request.scope.get(CONTEXT)
        response = context.response if isinstance(context, Context) else None
        if (
            isinstance(response, Response)
            and response.media_type == GRAPHQL_RESPONSE
            and is_request_error(result)
        ):
            data.pop("data", None)
            if not response.status_code:
                response.status_code = 400
        return data

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        response = Response(
            self.encode_body(response_data),
            status_code=sub_response.status_code or 200,
            media_type=sub_response.media_type or JSON,
        )
        response.headers.raw.extend(sub_response.headers.raw)
        if sub_response.background:
            response.background = sub_response.background
        return response

    async def run(
        self, request: Request | WebSocket, context: Any = UNSET, root_value: Any = UNSET
    ) -> Any:
        if isinstance(request, Request):
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
        caller = request.scope.get(CALLER)
        ctx = Context(
            services=self.services,
            request=request,
            response=response,
            caller=caller if isinstance(caller, Caller) else None,
        )
        if isinstance(request, Request):
            if isinstance(response, Response):
                response.media_type = response_media(request.headers.get("accept"))
            request.scope[CONTEXT] = ctx
        return ctx

    async def render_graphql_ide(self, request: Request) -> Response:
        return HTMLResponse(self._ide)

    @staticmethod
    def encode_body(data: object) -> bytes:
        """An HTTP response's body: orjson's bytes as they are (no text in between)."""
        return orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS)

    def encode_json(self, data: object) -> str:
        """Responses and websocket messages through orjson (issue 17: a fifth of the time
        json.dumps took); text, so websocket frames stay text frames."""
        return orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS).decode()


def graphql_routes(view: GraphQLView) -> list[BaseRoute]:
    return [
        Route("/graphql", view, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", view),
        Mount("/graphql/static", StaticFiles(directory=STATIC / "assets"), name="graphiql"),
    ]
