"""The REST routes of the source document: parse -> service -> serialize. No rule lives here.

Each path takes every method: the ones the document offers go to their handler, the others
answer 405 with an error body (the document marks them "not available").
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from app.http_auth import caller_from_headers
from app.porting import sids
from app.porting.errors import PortingError, PortingErrors
from app.rest import access, body, errors, params, serializers
from app.rest.openapi import document
from app.services import idempotency, loas, port_orders, port_requests, reads
from app.services.budgets import budget_of
from app.services.context import Caller, Services
from app.services.reads import RequestView
from app.store import conflicts
from app.store.tables import PortOrder, PortOrderError

log = logging.getLogger(__name__)

Handler = Callable[[Request, Services, Caller], Awaitable[Response]]


def fast_json(content: Any) -> Response:
    """JSONResponse's bytes for a page (compact, UTF-8, keys in order), through orjson."""
    return Response(orjson.dumps(content), media_type="application/json")


def to_json(content: Any) -> str:
    """The same text JSONResponse writes (so a stored response replays byte for byte)."""
    return json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


class Resource:
    """An ASGI endpoint taking every method; authenticates, dispatches, maps errors."""

    def __init__(self, handlers: Mapping[str, Handler]):
        self.handlers = dict(handlers)
        self.allowed = sorted(self.handlers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        response = await self.respond(request)
        await response(scope, receive, send)

    async def respond(self, request: Request) -> Response:
        handler = self.handlers.get(request.method)
        if handler is None:
            return errors.method_not_allowed(request.method, self.allowed)
        svc: Services = request.app.state.services
        try:
            caller = await caller_from_headers(svc, request.headers)
            if caller is None:
                return errors.unauthorized()
            await access.check(svc, caller, request, handler.__name__)  # scope, restriction
            budget = budget_of(svc)
            if budget.enabled:  # one point per request, shared with GraphQL
                spent = await budget.spend(caller.sid, 1)
                if not spent.ok:
                    return errors.rate_limited(spent.retry_after(svc.clock()))
            return await handler(request, svc, caller)
        except (PortingError, PortingErrors) as exc:
            return errors.from_porting(exc)
        except Exception as exc:
            if conflicts.unavailable(exc):
                log.warning("REST %s: database unreachable (%s)", request.method, _kind(exc))
                return errors.unavailable()
            log.exception("REST %s %s failed", request.method, request.url.path)
            return errors.internal_error()


# --- port orders ------------------------------------------------------------------------------


async def _order_json(svc: Services, order: PortOrder) -> dict[str, Any]:
    errs = (await reads.errors_by_order(svc, [order.sid]))[order.sid]
    return serializers.port_order(order, errs, svc.settings)


async def list_orders(request: Request, svc: Services, caller: Caller) -> Response:
    f, given = params.port_order_filter(request.query_params)
    paging = params.paging(request.query_params)
    page = await reads.list_port_orders(
        svc, caller, f, paging.page_size, paging.after_sid, paging.before_sid
    )
    errs = await reads.errors_by_order(svc, [o.sid for o in page.items])
    return fast_json(serializers.port_order_page(svc.settings, given, paging, page, errs))


async def create_order(request: Request, svc: Services, caller: Caller) -> Response:
    key = params.idempotency_key(request.headers)
    raw = params.order_input(await body.read_pairs(request), form=_is_form(request))
    if key is None:
        order = await port_orders.create_port_order(svc, caller, raw)
        return JSONResponse(await _order_json(svc, order), status_code=201)

    def render(order: PortOrder, errs: Sequence[PortOrderError]) -> tuple[int, str]:
        return 201, to_json(serializers.port_order(order, errs, svc.settings))

    stored = await idempotency.create_port_order_once(svc, caller, key, raw, render)
    headers = {"Idempotent-Replayed": "true"} if stored.replayed else {}
    return Response(
        stored.body, status_code=stored.status, media_type="application/json", headers=headers
    )


def _is_form(request: Request) -> bool:
    return body.media_type(request) == body.FORM


def _sid(request: Request) -> str:
    return str(request.path_params["sid"])


def _order_sid(request: Request) -> str:
    """A port order SID from the path; a malformed one names no order (20404)."""
    sid = _sid(request)
    if not sids.is_sid(sid, sids.PORT_ORDER):
        raise PortingError(20404, field="sid")
    return sid


async def get_order(request: Request, svc: Services, caller: Caller) -> Response:
    order = await reads.get_port_order(svc, caller, _sid(request))
    if order is None:
        raise PortingError(20404, field="sid")
    return JSONResponse(await _order_json(svc, order))


async def update_order(request: Request, svc: Services, caller: Caller) -> Response:
    raw = params.order_input(await body.read_pairs(request), form=_is_form(request))
    raw.pop("account_sid", None)  # an order does not change hands
    order = await port_orders.update_port_order(svc, caller, _order_sid(request), raw)
    return JSONResponse(await _order_json(svc, order))


async def cancel_order(request: Request, svc: Services, caller: Caller) -> Response:
    order = await port_orders.cancel_port_order(svc, caller, _order_sid(request))
    return JSONResponse(await _order_json(svc, order))


# --- LOAs -----------------------------------------------------------------------------------------


async def list_loas(request: Request, svc: Services, caller: Caller) -> Response:
    f, given = params.loa_filter(request.query_params)
    paging = params.paging(request.query_params)
    page = await reads.list_loas(
        svc, caller, f, paging.page_size, paging.after_sid, paging.before_sid
    )
    return fast_json(serializers.loa_page(svc.settings, given, paging, page))


async def get_loa(request: Request, svc: Services, caller: Caller) -> Response:
    row = await reads.get_loa(svc, caller, _sid(request))
    if row is None:
        raise PortingError(20404, field="sid")
    return JSONResponse(serializers.loa(row, svc.settings))


async def request_signature(request: Request, svc: Services, caller: Caller) -> Response:
    """POST with an empty body (the document's curl sends `-d ''`): start the signing."""
    pairs = await body.read_pairs(request)
    if pairs:
        names = ", ".join(sorted({str(name) for name, _ in pairs}))
        raise errors.invalid(f"This request takes an empty body (got: {names})", "body")
    row = await loas.request_signature(svc, caller, _sid(request))
    return JSONResponse(serializers.loa(row, svc.settings))


# --- port requests (CONTRACT.md §11) ---------------------------------------------------------


def _request_sid(request: Request) -> str:
    """A Port Request SID from the path; a malformed one names no request (20404)."""
    sid = _sid(request)
    if not sids.is_sid(sid, sids.PORT_REQUEST):
        raise PortingError(20404, field="sid")
    return sid


async def list_requests(request: Request, svc: Services, caller: Caller) -> Response:
    f, given = params.request_filter(request.query_params)
    paging = params.paging(request.query_params)
    page = await reads.list_port_requests(
        svc, caller, f, paging.page_size, paging.after_sid, paging.before_sid
    )
    loa_sids = await reads.loa_sids_of_requests(svc, [r.sid for r in page.items])
    return fast_json(serializers.port_request_page(svc.settings, given, paging, page, loa_sids))


async def create_request(request: Request, svc: Services, caller: Caller) -> Response:
    key = params.idempotency_key(request.headers)
    raw = params.request_input(await body.read_pairs(request), form=_is_form(request))
    if key is None:
        view = await port_requests.create_port_request(svc, caller, raw)
        return JSONResponse(serializers.port_request(view, svc.settings), status_code=201)

    def render(view: RequestView) -> tuple[int, str]:
        return 201, to_json(serializers.port_request(view, svc.settings))

    stored = await idempotency.create_port_request_once(svc, caller, key, raw, render)
    headers = {"Idempotent-Replayed": "true"} if stored.replayed else {}
    return Response(
        stored.body, status_code=stored.status, media_type="application/json", headers=headers
    )


async def get_request(request: Request, svc: Services, caller: Caller) -> Response:
    view = await reads.get_port_request(svc, caller, _sid(request))
    if view is None:
        raise PortingError(20404, field="sid")
    return JSONResponse(serializers.port_request(view, svc.settings))


async def cancel_request(request: Request, svc: Services, caller: Caller) -> Response:
    view = await port_requests.cancel_port_request(svc, caller, _request_sid(request))
    return JSONResponse(serializers.port_request(view, svc.settings))


async def check_portability(request: Request, svc: Services, caller: Caller) -> Response:
    raw = params.request_input(await body.read_pairs(request), form=_is_form(request))
    results = await port_requests.check_portability(svc, caller, raw)
    return JSONResponse(serializers.portability(results))


# --- the OpenAPI document -------------------------------------------------------------------------


async def openapi_json(request: Request) -> Response:
    settings = request.app.state.services.settings
    return JSONResponse(document(settings.public_url))


def routes() -> list[BaseRoute]:
    from app.rest import flow  # comments, documents, the LOA PDF, FOC windows (it uses Resource)

    return [
        *flow.routes(),
        Route("/openapi.json", openapi_json, methods=["GET"]),
        Route("/PortOrders", Resource({"GET": list_orders, "POST": create_order})),
        Route(
            "/PortOrders/{sid}",
            Resource(
                {
                    "GET": get_order,
                    "POST": update_order,
                    "PUT": update_order,
                    "DELETE": cancel_order,
                }
            ),
        ),
        Route("/PortRequests", Resource({"GET": list_requests, "POST": create_request})),
        Route("/PortRequests/{sid}", Resource({"GET": get_request, "DELETE": cancel_request})),
        Route("/PortabilityChecks", Resource({"POST": check_portability})),
        Route("/Loas", Resource({"GET": list_loas})),
        Route("/Loas/{sid}", Resource({"GET": get_loa, "POST": request_signature})),
        Route("/AccessTokens", Resource({"POST": access.create_access_token})),
    ]


def _kind(exc: BaseException) -> str:
    return type(exc).__name__
