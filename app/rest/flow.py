"""REST routes of the workflow around an order: comments (orders and Port Requests),
documents, the LOA as a PDF, FOC windows. Parse -> service -> serialize, as in routes.py."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from app.porting import fields
from app.porting.isotime import format_utc
from app.rest import body, errors, params, serializers, uploads
from app.services import activation, comments, documents, loa_pdf
from app.services.context import Caller, Services
from app.store.tables import Comment, Document

_COMMENT_KEYS = tuple(f.name for f in fields.rest_fields(fields.COMMENT))
_DOCUMENT_KEYS = tuple(f.name for f in fields.rest_fields(fields.DOCUMENT) if not f.computed)


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


# --- documents --------------------------------------------------------------------------------


def document_json(row: Document, svc: Services) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in _DOCUMENT_KEYS:
        value = getattr(row, name)
        out[name] = format_utc(value) if name == "date_created" else value
    out["url"] = svc.settings.url_for(
        f"/porting/PortOrders/{row.port_order_sid}/Documents/{row.sid}/Content"
    )
    return out


async def upload_document(request: Request, svc: Services, caller: Caller) -> Response:
    """The order first (20404 before a byte of the upload is read), then the streamed body."""
    order = await documents.visible_order(svc, caller, str(request.path_params["sid"]))
    upload = await uploads.read(request, svc.settings.document_max_bytes)
    new = documents.check(upload.fields.get("document_type"), upload.file_name, upload.content)
    row = await documents.upload(svc, caller, order.sid, new)
    return JSONResponse(document_json(row, svc), status_code=201)


async def list_documents(request: Request, svc: Services, caller: Caller) -> Response:
    paging = params.paging(request.query_params)
    if paging.before_sid is not None:
        raise errors.invalid("Documents are read oldest first: page with AfterSid", "BeforeSid")
    sid = str(request.path_params["sid"])
    page = await documents.list_of_order(svc, caller, sid, paging.page_size, paging.after_sid)
    path = f"/porting/PortOrders/{sid}/Documents"
    meta = serializers.meta(svc.settings, path, "documents", {}, paging, page, lambda d: d.sid)
    meta["previous_page_url"] = None  # forward only
    return JSONResponse({"meta": meta, "documents": [document_json(d, svc) for d in page.items]})


def _attachment(file_name: str) -> str:
    """Content-Disposition for a download: an ASCII fallback and the UTF-8 name (RFC 6266)."""
    fallback = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in file_name
    )
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(file_name, safe='')}"


async def document_content(request: Request, svc: Services, caller: Caller) -> Response:
    doc = await documents.content(
        svc, caller, str(request.path_params["sid"]), str(request.path_params["document_sid"])
    )
    return Response(
        doc.content,
        media_type=doc.content_type,
        headers={
            "Content-Disposition": _attachment(doc.file_name),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
            "ETag": f'"{doc.sha256}"',
        },
    )


# --- the LOA as a PDF -------------------------------------------------------------------------


async def loa_as_pdf(request: Request, svc: Services, caller: Caller) -> Response:
    loa, pdf = await loa_pdf.pdf_of(svc, caller, str(request.path_params["sid"]))
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="{loa_pdf.file_name(loa)}"',
            "Cache-Control": "private, no-store",
        },
    )


def routes() -> list[BaseRoute]:
    from app.rest.routes import Resource  # the shared endpoint (auth, dispatch, errors)

    thread = Resource({"GET": list_comments, "POST": add_comment})
    return [
        Route("/PortOrders/{sid}/Comments", thread),
        Route("/PortRequests/{sid}/Comments", thread),
        Route("/PortOrders/{sid}/ActivationWindows", Resource({"GET": activation_windows})),
        Route(
            "/PortOrders/{sid}/Documents",
            Resource({"GET": list_documents, "POST": upload_document}),
        ),
        Route("/Loas/{sid}/Pdf", Resource({"GET": loa_as_pdf})),
        Route(
            "/PortOrders/{sid}/Documents/{document_sid}/Content",
            Resource({"GET": document_content}),
        ),
    ]
