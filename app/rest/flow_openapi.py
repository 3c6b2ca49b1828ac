"""The OpenAPI paths and schemas of the workflow routes (app/rest/flow.py), merged into the
document of app/rest/openapi.py."""

from __future__ import annotations

from typing import Any

from app.porting import fields
from app.porting.comments import MAX_BODY
from app.porting.exceptions import ExceptionType
from app.rest.openapi import (
    FORM,
    JSON,
    PAGING_PARAMETERS,
    SID_PATH,
    TEXT,
    TIME,
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


def paths() -> dict[str, Any]:
    return {
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
