"""The OpenAPI paths and schemas of the workflow routes (app/rest/flow.py), merged into the
document of app/rest/openapi.py."""

from __future__ import annotations

from typing import Any

from app.porting import fields
from app.porting.comments import MAX_BODY
from app.porting.documents import ALLOWED, DocumentType
from app.porting.exceptions import ExceptionType
from app.rest.openapi import (
    FORM,
    JSON,
    PAGING_PARAMETERS,
    SID_PATH,
    TEXT,
    TIME,
    _error_response,
    _object,
    _ok,
    _property,
    _ref,
    _resp,
    _unavailable,
)

COMMENT_PROPERTIES: dict[str, Any] = {
    f.name: _property(f) for f in fields.rest_fields(fields.COMMENT)
}
DOCUMENT_PROPERTIES: dict[str, Any] = {
    f.name: _property(f) for f in fields.rest_fields(fields.DOCUMENT)
}
MULTIPART = "multipart/form-data"


def _comments(subject: str, op: str) -> dict[str, Any]:
    body_schema = {
        "type": "object",
        "required": ["body"],
        "properties": {
            "body": {
                "type": "string",
                "minLength": 1,
                "maxLength": MAX_BODY,
                "description": "Plain text (not only blanks)",
            }
        },
    }
    return {
        "get": {
            "operationId": f"list{op}Comments",
            "summary": f"The {subject}'s comments, oldest first (keyset pages, AfterSid)",
            "parameters": [SID_PATH, *PAGING_PARAMETERS],
            "responses": {
                **_ok("CommentPage", "One page of comments"),
                "400": _resp("BadRequest"),
                "401": _resp("Unauthorized"),
                "404": _resp("NotFound"),
            },
        },
        "post": {
            "operationId": f"add{op}Comment",
            "summary": f"Add a comment to the {subject}'s thread: a comment_added callback, "
            "and mail to the other side",
            "parameters": [SID_PATH],
            "requestBody": {
                "required": True,
                "content": {JSON: {"schema": body_schema}, FORM: {"schema": body_schema}},
            },
            "responses": {
                **_ok("Comment", "The new comment", "201"),
                "400": _resp("BadRequest"),
                "401": _resp("Unauthorized"),
                "404": _resp("NotFound"),
                "413": _resp("TooLarge"),
                "415": _resp("UnsupportedMediaType"),
            },
        },
        "put": _unavailable("Not available"),
        "delete": _unavailable("Not available"),
    }


def _windows() -> dict[str, Any]:
    return {
        "get": {
            "operationId": "listActivationWindows",
            "summary": "The next allowed FOC dates: business days of the service address from "
            "the earliest activation date on, holidays skipped, at most 30 days out",
            "parameters": [SID_PATH],
            "responses": {
                **_ok("ActivationWindows", "The allowed dates, soonest first"),
                "401": _resp("Unauthorized"),
                "404": _resp("NotFound"),
            },
        },
        "post": _unavailable("Not available"),
        "put": _unavailable("Not available"),
        "delete": _unavailable("Not available"),
    }


DOCUMENT_PATH = {
    "name": "document_sid",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
}


def _documents() -> dict[str, Any]:
    form = {
        "type": "object",
        "required": ["file", "document_type"],
        "properties": {
            "file": {
                "type": "string",
                "format": "binary",
                "description": "PDF, PNG or JPEG (recognised by its bytes), at most "
                "PORTICO_DOCUMENT_MAX_BYTES (default 10 MB)",
            },
            "document_type": {"type": "string", "enum": [t.value for t in DocumentType]},
        },
    }
    return {
        "get": {
            "operationId": "listDocuments",
            "summary": "The order's documents (metadata), oldest first (keyset pages, AfterSid)",
            "parameters": [SID_PATH, *PAGING_PARAMETERS],
            "responses": {
                **_ok("DocumentPage", "One page of documents"),
                "400": _resp("BadRequest"),
                "401": _resp("Unauthorized"),
                "404": _resp("NotFound"),
            },
        },
        "post": {
            "operationId": "uploadDocument",
            "summary": "Upload a document (multipart/form-data, streamed; refused while "
            "streaming past the size cap)",
            "parameters": [SID_PATH],
            "requestBody": {"required": True, "content": {MULTIPART: {"schema": form}}},
            "responses": {
                **_ok("Document", "The stored document's metadata", "201"),
                "400": _resp("BadRequest"),
                "401": _resp("Unauthorized"),
                "404": _resp("NotFound"),
                "413": _resp("DocumentTooLarge"),
                "415": _resp("NotMultipart"),
            },
        },
        "put": _unavailable("Not available"),
        "delete": _unavailable("Not available"),
    }


def _content() -> dict[str, Any]:
    binary: dict[str, Any] = {}  # bytes: no JSON schema applies (OpenAPI 3.1)
    return {
        "get": {
            "operationId": "downloadDocument",
            "summary": "The document's bytes, as an attachment",
            "parameters": [SID_PATH, DOCUMENT_PATH],
            "responses": {
                "200": {
                    "description": "The bytes (Content-Disposition: attachment)",
                    "headers": {
                        "Content-Disposition": {"required": True, "schema": TEXT},
                        "ETag": {"required": True, "schema": TEXT},
                    },
                    "content": {media: binary for media in ALLOWED.values()},
                },
                "401": _resp("Unauthorized"),
                "404": _resp("NotFound"),
            },
        },
        "post": _unavailable("Not available"),
        "put": _unavailable("Not available"),
        "delete": _unavailable("Not available"),
    }


def _loa_pdf() -> dict[str, Any]:
    return {
        "get": {
            "operationId": "getLoaPdf",
            "summary": "The LOA as a PDF: the letter, its signer, business name, service address "
            "and numbers with their current carrier; once signed, the signature block (the "
            "PDF stored at signing)",
            "parameters": [SID_PATH],
            "responses": {
                "200": {
                    "description": "The PDF",
                    "content": {
                        "application/pdf": {"schema": {"type": "string", "format": "binary"}}
                    },
                },
                "401": _resp("Unauthorized"),
                "404": _resp("NotFound"),
            },
        },
        "post": _unavailable("Not available"),
        "put": _unavailable("Not available"),
        "delete": _unavailable("Not available"),
    }


def responses() -> dict[str, Any]:
    return {
        "DocumentTooLarge": _error_response("The document is over the size cap (21854)"),
        "NotMultipart": _error_response("Send multipart/form-data with a boundary (21855)"),
    }


def paths() -> dict[str, Any]:
    return {
        "/porting/Loas/{sid}/Pdf": _loa_pdf(),
        "/porting/PortOrders/{sid}/Documents": _documents(),
        "/porting/PortOrders/{sid}/Documents/{document_sid}/Content": _content(),
        "/porting/PortOrders/{sid}/ActivationWindows": _windows(),
        "/porting/PortOrders/{sid}/Comments": _comments("order", "PortOrder"),
        "/porting/PortRequests/{sid}/Comments": _comments("Port Request", "PortRequest"),
    }


def schemas() -> dict[str, Any]:
    return {
        "Comment": _object(COMMENT_PROPERTIES, "A comment on an order's or a request's thread"),
        "CommentPage": {
            "type": "object",
            "additionalProperties": False,
            "required": ["meta", "comments"],
            "properties": {
                "meta": _ref("Meta"),
                "comments": {"type": "array", "items": _ref("Comment")},
            },
        },
        "ActivationWindows": {
            "type": "object",
            "additionalProperties": False,
            "required": [
                "port_order_sid",
                "earliest_activation_date",
                "latest_activation_date",
                "activation_windows",
            ],
            "properties": {
                "port_order_sid": {"type": "string", "pattern": "^PO[0-9a-f]{32}$"},
                "earliest_activation_date": {**TIME, "type": ["string", "null"]},
                "latest_activation_date": TIME,
                "activation_windows": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["date", "activation_date"],
                        "properties": {
                            "date": {"type": "string", "format": "date"},
                            "activation_date": TIME,
                        },
                    },
                },
            },
        },
        "Document": _object(DOCUMENT_PROPERTIES, "A document of a port order (its metadata)"),
        "DocumentPage": {
            "type": "object",
            "additionalProperties": False,
            "required": ["meta", "documents"],
            "properties": {
                "meta": _ref("Meta"),
                "documents": {"type": "array", "items": _ref("Document")},
            },
        },
        "PortOrderException": {
            "type": "object",
            "additionalProperties": False,
            "required": ["type", "fields_to_fix"],
            "properties": {
                "type": {"type": "string", "enum": [t.value for t in ExceptionType]},
                "fields_to_fix": {"type": "array", "items": TEXT},
            },
        },
    }
