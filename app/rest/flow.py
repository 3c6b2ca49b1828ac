"""REST routes of the workflow around an order: comments (orders and Port Requests),
documents, the LOA as a PDF, FOC windows. Parse -> service -> serialize, as in routes.py."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from app.porting import fields
from app.porting.isotime import format_utc
from app.rest import body, errors, params, serializers
from app.services import activation, comments
from app.services.context import Caller, Services
from app.store.tables import Comment

_COMMENT_KEYS = tuple(f.name for f in fields.rest_fields(fields.COMMENT))


def comment_json(row: Comment) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in _COMMENT_KEYS:
        value = getattr(row, name)
        out[name] = format_utc(value) if name == "date_created" else value
    return out


def _subject_path(request: Request) -> str:
    kind = "PortOrders" if request.url.path.startswith("/porting/PortOrders") else "PortRequests"
    return f"/porting/{kind}/{request.path_params['sid']}/Comments"


async def add_comment(request: Request, svc: Services, caller: Caller) -> Response:
    raw = dict(await body.read_pairs(request))
    text = raw.get("body", raw.get("Body"))
    row = await comments.add_comment(svc, caller, str(request.path_params["sid"]), text)
    return JSONResponse(comment_json(row), status_code=201)


async def list_comments(request: Request, svc: Services, caller: Caller) -> Response:
    paging = params.paging(request.query_params)
    if paging.before_sid is not None:
        raise errors.invalid("Comments are read oldest first: page with AfterSid", "BeforeSid")
    page = await comments.thread(
        svc, caller, str(request.path_params["sid"]), paging.page_size, paging.after_sid
    )
    meta = serializers.meta(
        svc.settings, _subject_path(request), "comments", {}, paging, page, lambda c: c.sid
    )
    meta["previous_page_url"] = None  # forward only
    return JSONResponse({"meta": meta, "comments": [comment_json(c) for c in page.items]})


async def activation_windows(request: Request, svc: Services, caller: Caller) -> Response:
    found = await activation.activation_windows(svc, caller, str(request.path_params["sid"]))
    return JSONResponse(
        {
            "port_order_sid": found.order.sid,
            "earliest_activation_date": format_utc(found.earliest),
            "latest_activation_date": format_utc(found.latest),
            "activation_windows": [
                {"date": d.date().isoformat(), "activation_date": format_utc(d)}
                for d in found.dates
            ],
        }
    )


def routes() -> list[BaseRoute]:
    from app.rest.routes import Resource  # the shared endpoint (auth, dispatch, errors)

    thread = Resource({"GET": list_comments, "POST": add_comment})
    return [
        Route("/PortOrders/{sid}/Comments", thread),
        Route("/PortRequests/{sid}/Comments", thread),
        Route("/PortOrders/{sid}/ActivationWindows", Resource({"GET": activation_windows})),
    ]
