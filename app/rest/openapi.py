"""The OpenAPI 3.1 document of the REST surface, served at /porting/openapi.json.

Written by hand as a dict so it says exactly what the routes do; tests/rest runs schemathesis
against the running app with it, and checks its field lists against app/rest/serializers.py.
"""

from __future__ import annotations

from typing import Any

from app.porting.statuses import LoaStatus, PortOrderStatus, PortType
from app.rest.body import MAX_BODY_BYTES
from app.rest.params import DEFAULT_PAGE_SIZE, LOA_FILTERS, MAX_PAGE_SIZE, ORDER_FILTERS

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"

SID_PATTERN = {
    "PO": "^PO[0-9a-f]{32}$",
    "PX": "^PX[0-9a-f]{32}$",
    "AC": "^AC[0-9a-f]{32}$",
    "PN": "^PN[0-9a-f]{32}$",
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    kind = schema["type"]
    return {**schema, "type": [kind, "null"]}


def _sid(prefix: str, description: str) -> dict[str, Any]:
    return {"type": "string", "pattern": SID_PATTERN[prefix], "description": description}


TIME = {"type": "string", "format": "date-time", "description": "ISO 8601, UTC"}
TEXT = {"type": "string"}

PORT_ORDER_PROPERTIES: dict[str, Any] = {
    "sid": _sid("PO", "The order's SID"),
    "account_sid": _sid("AC", "The owning account or subaccount"),
    "number": {"type": "string", "description": "The number being ported, E.164"},
    "friendly_name": {"type": "string", "maxLength": 64},
    "status": {"type": "string", "enum": [s.value for s in PortOrderStatus]},
    "port_type": {"type": "string", "enum": [t.value for t in PortType]},
    "date_created": TIME,
    "date_updated": TIME,
    "loa_sid": _sid("PX", "The LOA that covers the order"),
    "iso_country": {"type": "string", "pattern": "^[A-Z]{2}$"},
    "region": TEXT,
    "city": TEXT,
    "postal_code": TEXT,
    "street": TEXT,
    "company_name": _nullable(TEXT),
    "first_name": TEXT,
    "last_name": TEXT,
    "email": TEXT,
    "status_updates_email": _nullable(TEXT),
    "billing_phone_number": _nullable(TEXT),
    "activation_date": _nullable(TIME),
    "earliest_activation_date": _nullable(TIME),
    "submitted_date": _nullable(TIME),
    "current_carrier": _nullable(TEXT),
    "incoming_phone_number_sid": {
        "type": ["string", "null"],
        "pattern": SID_PATTERN["PN"],
    },
    "status_callback": _nullable(TEXT),
    "cc_emails": {"type": "array", "items": TEXT},
    "reason_code": {"type": ["integer", "null"]},
    "reason": _nullable(TEXT),
    "errors": {"type": "array", "items": _ref("PortOrderErrorEntry")},
    "provider_sid": _nullable(TEXT),
    "zendesk_id": _nullable(TEXT),
    "url": {"type": "string", "format": "uri"},
}

LOA_PROPERTIES: dict[str, Any] = {
    "sid": _sid("PX", "The LOA's SID"),
    "account_sid": _sid("AC", "The owning account or subaccount"),
    "status": {"type": "string", "enum": [s.value for s in LoaStatus]},
    "first_name": TEXT,
    "last_name": TEXT,
    "email": TEXT,
    "date_created": TIME,
    "date_updated": TIME,
    "url": {"type": "string", "format": "uri"},
}

WRITE_ONLY_NOTE = "Write-only: stored encrypted, never returned."

# Request parameters (snake_case as in the source document; PascalCase is accepted too).
INPUT_PROPERTIES: dict[str, Any] = {
    "number": {"type": "string", "description": "E.164, e.g. +14155550123"},
    "iso_country": {"type": "string", "description": "ISO 3166-1 alpha-2 (IsoCountry)"},
    "region": {"type": "string", "description": "For US, a two-letter state code"},
    "city": {"type": "string"},
    "postal_code": {
        "type": ["string", "integer"],
        "description": "A string, or a number as in the source document's example",
    },
    "street": {"type": "string"},
    "first_name": {"type": "string"},
    "last_name": {"type": "string"},
    "email": {"type": "string"},
    "friendly_name": {"type": "string", "description": "At most 64 characters"},
    "company_name": {"type": "string"},
    "status_updates_email": {"type": "string"},
    "billing_phone_number": {"type": "string"},
    "port_type": {"type": "string", "description": ", ".join(t.value for t in PortType)},
    "account_number": {"type": "string", "writeOnly": True, "description": WRITE_ONLY_NOTE},
    "pin_number": {"type": "string", "writeOnly": True, "description": WRITE_ONLY_NOTE},
    "ssn_last_four": {"type": "string", "writeOnly": True, "description": WRITE_ONLY_NOTE},
    "activation_date": {"type": "string", "description": "ISO 8601 date-time with a zone"},
    "status_callback": {"type": "string", "description": "http(s) URL"},
    "cc_emails": {
        "type": "array",
        "items": {"type": "string"},
        "description": "JSON array, or repeated form fields (CcEmails=a&CcEmails=b)",
    },
}

CREATE_PROPERTIES: dict[str, Any] = {
    **INPUT_PROPERTIES,
    "account_sid": {
        "type": "string",
        "description": "A subaccount to own the order (default: the caller)",
    },
}
REQUIRED = [
    "number",
    "iso_country",
    "region",
    "city",
    "postal_code",
    "street",
    "first_name",
    "last_name",
    "email",
]

# The source document's curl example (postal_code as a number, as written there).
CREATE_EXAMPLE: dict[str, Any] = {
    "number": "+14153077754",
    "iso_country": "US",
    "region": "CA",
    "city": "SAN FRANCISCO",
    "postal_code": 94107,
    "street": "645 Harrison st.",
    "first_name": "James",
    "last_name": "The Third",
    "email": "james.thethird@random.com",
}

UPDATE_EXAMPLE: dict[str, Any] = {"friendly_name": "Random123", "cc_emails": ["a@example.com"]}

ERROR = {
    "type": "object",
    "required": ["code", "message", "more_info", "status"],
    "properties": {
        "code": {"type": "integer"},
        "message": {"type": "string"},
        "more_info": {"type": "string", "format": "uri"},
        "status": {"type": "integer"},
        "details": {
            "type": "array",
            "description": "Every failure of a validation run (the first is the top level one)",
            "items": {
                "type": "object",
                "required": ["code", "message", "field"],
                "properties": {
                    "code": {"type": "integer"},
                    "message": {"type": "string"},
                    "field": {"type": ["string", "null"]},
                },
            },
        },
    },
}

META = {
    "type": "object",
    "additionalProperties": False,
    "required": [
        "page",
        "page_size",
        "first_page_url",
        "previous_page_url",
        "url",
        "next_page_url",
        "key",
    ],
    "properties": {
        "page": {"type": "integer", "minimum": 0},
        "page_size": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
        "first_page_url": {"type": "string", "format": "uri"},
        "previous_page_url": {"type": ["string", "null"], "format": "uri"},
        "url": {"type": "string", "format": "uri"},
        "next_page_url": {"type": ["string", "null"], "format": "uri"},
        "key": {"type": "string", "enum": ["orders", "loas"]},
    },
}


def _object(properties: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "type": "object",
        "description": description,
        "additionalProperties": False,
        "required": list(properties),
        "properties": properties,
    }


def _error_response(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "description": description,
        "content": {JSON: {"schema": _ref("Error")}},
    }
    if headers:
        out["headers"] = headers
    return out


RESPONSES: dict[str, Any] = {
    "BadRequest": _error_response(
        "Invalid input (validation: first failure at the top, all of them in `details`)"
    ),
    "Unauthorized": _error_response(
        "Missing or wrong credentials (20003)",
        {"WWW-Authenticate": {"required": True, "schema": {"type": "string"}}},
    ),
    "NotFound": _error_response(
        "No such resource, or one the caller may not see (20404: the two look alike)"
    ),
    "MethodNotAllowed": _error_response(
        "The source document marks this method as not available (20004)",
        {"Allow": {"required": True, "schema": {"type": "string"}}},
    ),
    "Conflict": _error_response("Changed by a concurrent request; retry (20409)"),
    "TooLarge": _error_response(f"Body over {MAX_BODY_BYTES} bytes (20413)"),
    "UnsupportedMediaType": _error_response(f"Send {JSON} or {FORM} (20415)"),
    "IdempotencyMismatch": _error_response(
        "The idempotency key was used with a different request (20422)"
    ),
}


def _resp(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/responses/{name}"}


def _query(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema or {"type": "string"},
    }


PAGING_PARAMETERS = [
    _query(
        "PageSize",
        f"Rows per page (default {DEFAULT_PAGE_SIZE}; larger values are capped at {MAX_PAGE_SIZE})",
        {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
    ),
    _query(
        "Page",
        "A label for the page; 0 is the first page. Follow next_page_url/previous_page_url "
        "to move (keyset pages): a Page beyond 0 needs AfterSid or BeforeSid.",
        {"type": "integer", "minimum": 0},
    ),
    _query("AfterSid", "Rows after (older than) this SID in the list order (21826 if invalid)"),
    _query("BeforeSid", "Rows before (newer than) this SID in the list order (21825 if invalid)"),
]

_ORDER_FILTER_TEXT = {
    "Sid": "Only the order with this SID",
    "AccountSid": "Orders of this account (the caller's or one of its subaccounts)",
    "CompanyName": "Orders with this company name",
    "Email": "Orders with this signer email",
    "LoaSid": "Orders covered by this LOA",
    "ProviderSid": "Orders of this provider",
    "ZendeskId": "Orders with this Zendesk ticket",
    "ActivationDateMin": "Activation date on or after this ISO 8601 date or date-time",
    "ActivationDateMax": "Activation date on or before this ISO 8601 date or date-time",
    "IncomingPhoneNumberSid": "Orders with this incoming phone number SID",
    "Number": "Orders for this number (E.164)",
    "Status": "Orders in this status (any letter case; 21822 if unknown)",
    "FriendlyName": "Orders with this friendly name",
}
_LOA_FILTER_TEXT = {
    "Sid": "Only the LOA with this SID",
    "Status": "LOAs in this status (any letter case; 21904 if unknown)",
    "FirstName": "LOAs of signers with this first name",
    "LastName": "LOAs of signers with this last name",
    "Email": "LOAs of signers with this email",
}

SID_PATH = {
    "name": "sid",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
}

IDEMPOTENCY_PARAMETERS = [
    {
        "name": name,
        "in": "header",
        "required": False,
        "description": "Repeating a create with the same key and body within 24 hours returns "
        "the first response and creates nothing; a different body is 422 (20422).",
        "schema": {"type": "string", "minLength": 1, "maxLength": 255},
    }
    for name in ("Idempotency-Key", "I-Twilio-Idempotency-Token")
]


def _body(schema_name: str, required: bool, example: dict[str, Any]) -> dict[str, Any]:
    return {
        "required": required,
        "description": "JSON (as in the source document) or form-encoded; snake_case or "
        "PascalCase parameter names",
        "content": {
            JSON: {"schema": _ref(schema_name), "example": example},
            FORM: {"schema": _ref(schema_name)},
        },
    }


def _ok(schema_name: str, description: str, status: str = "200") -> dict[str, Any]:
    return {status: {"description": description, "content": {JSON: {"schema": _ref(schema_name)}}}}


def _unavailable(summary: str) -> dict[str, Any]:
    return {
        "summary": summary,
        "description": "Not available (the source document says so).",
        "security": [],
        "responses": {"405": _resp("MethodNotAllowed")},
    }


def _update(op_id: str) -> dict[str, Any]:
    return {
        "operationId": op_id,
        "summary": "Update a port order (only while CREATED, PENDING or REJECTED)",
        "parameters": [SID_PATH],
        "requestBody": _body("PortOrderUpdate", False, UPDATE_EXAMPLE),
        "responses": {
            **_ok("PortOrder", "The updated order"),
            "400": _resp("BadRequest"),
            "401": _resp("Unauthorized"),
            "404": _resp("NotFound"),
            "409": _resp("Conflict"),
            "413": _resp("TooLarge"),
            "415": _resp("UnsupportedMediaType"),
        },
    }


def paths() -> dict[str, Any]:
    order_filters = [_query(n, _ORDER_FILTER_TEXT[n]) for n in ORDER_FILTERS]
    loa_filters = [_query(n, _LOA_FILTER_TEXT[n]) for n in LOA_FILTERS]
    return {
        "/porting/PortOrders": {
            "get": {
                "operationId": "listPortOrders",
                "summary": "List port orders, newest first (keyset pages)",
                "parameters": [*order_filters, *PAGING_PARAMETERS],
                "responses": {
                    **_ok("PortOrderPage", "One page of orders"),
                    "400": _resp("BadRequest"),
                    "401": _resp("Unauthorized"),
                },
            },
            "post": {
                "operationId": "createPortOrder",
                "summary": "Create a port order (and its LOA, or join an open one)",
                "parameters": IDEMPOTENCY_PARAMETERS,
                "requestBody": _body("PortOrderCreate", True, CREATE_EXAMPLE),
                "responses": {
                    "201": {
                        "description": "The new order",
                        "headers": {
                            "Idempotent-Replayed": {
                                "description": "Present on a replayed idempotent create",
                                "schema": {"type": "string", "enum": ["true"]},
                            }
                        },
                        "content": {JSON: {"schema": _ref("PortOrder")}},
                    },
                    "400": _resp("BadRequest"),
                    "401": _resp("Unauthorized"),
                    "404": _resp("NotFound"),
                    "409": _resp("Conflict"),
                    "413": _resp("TooLarge"),
                    "415": _resp("UnsupportedMediaType"),
                    "422": _resp("IdempotencyMismatch"),
                },
            },
            "put": _unavailable("Not available"),
            "delete": _unavailable("Not available"),
        },
        "/porting/PortOrders/{sid}": {
            "get": {
                "operationId": "getPortOrder",
                "summary": "Fetch a port order",
                "parameters": [SID_PATH],
                "responses": {
                    **_ok("PortOrder", "The order"),
                    "401": _resp("Unauthorized"),
                    "404": _resp("NotFound"),
                },
            },
            "post": _update("updatePortOrder"),
            "put": _update("replacePortOrder"),
            "delete": {
                "operationId": "cancelPortOrder",
                "summary": "Cancel a port order; answers with the canceled order",
                "parameters": [SID_PATH],
                "responses": {
                    **_ok("PortOrder", "The canceled order"),
                    "400": _resp("BadRequest"),
                    "401": _resp("Unauthorized"),
                    "404": _resp("NotFound"),
                    "409": _resp("Conflict"),
                },
            },
        },
        "/porting/Loas": {
            "get": {
                "operationId": "listLoas",
                "summary": "List LOAs, newest first (keyset pages)",
                "parameters": [*loa_filters, *PAGING_PARAMETERS],
                "responses": {
                    **_ok("LoaPage", "One page of LOAs"),
                    "400": _resp("BadRequest"),
                    "401": _resp("Unauthorized"),
                },
            },
            "post": _unavailable("Not available"),
            "put": _unavailable("Not available"),
            "delete": _unavailable("Not available"),
        },
        "/porting/Loas/{sid}": {
            "get": {
                "operationId": "getLoa",
                "summary": "Fetch an LOA",
                "parameters": [SID_PATH],
                "responses": {
                    **_ok("Loa", "The LOA"),
                    "401": _resp("Unauthorized"),
                    "404": _resp("NotFound"),
                },
            },
            "post": {
                "operationId": "requestLoaSignature",
                "summary": "Request the signature: an empty body moves the LOA from open to "
                "signing and sends the signing email",
                "parameters": [SID_PATH],
                "requestBody": {
                    "required": False,
                    "description": "Empty (or an empty JSON object)",
                    "content": {
                        JSON: {"schema": {"type": "object", "maxProperties": 0}},
                        FORM: {"schema": {"type": "object", "maxProperties": 0}},
                    },
                },
                "responses": {
                    **_ok("Loa", "The LOA, now signing"),
                    "400": _resp("BadRequest"),
                    "401": _resp("Unauthorized"),
                    "404": _resp("NotFound"),
                    "409": _resp("Conflict"),
                    "413": _resp("TooLarge"),
                    "415": _resp("UnsupportedMediaType"),
                },
            },
            "put": _unavailable("Not available"),
            "delete": _unavailable("Not available"),
        },
    }


def schemas() -> dict[str, Any]:
    return {
        "Error": ERROR,
        "PortOrderErrorEntry": {
            "type": "object",
            "additionalProperties": False,
            "required": ["code", "date", "reason"],
            "properties": {"code": {"type": "integer"}, "date": TIME, "reason": TEXT},
        },
        "PortOrder": _object(
            PORT_ORDER_PROPERTIES,
            "A port order. Write-only fields (ssn_last_four, account_number, pin_number) "
            "never appear.",
        ),
        "Loa": _object(LOA_PROPERTIES, "A letter of authorization"),
        "Meta": META,
        "PortOrderPage": {
            "type": "object",
            "additionalProperties": False,
            "required": ["meta", "orders"],
            "properties": {
                "meta": _ref("Meta"),
                "orders": {"type": "array", "items": _ref("PortOrder")},
            },
        },
        "LoaPage": {
            "type": "object",
            "additionalProperties": False,
            "required": ["meta", "loas"],
            "properties": {
                "meta": _ref("Meta"),
                "loas": {"type": "array", "items": _ref("Loa")},
            },
        },
        "PortOrderCreate": {
            "type": "object",
            "required": REQUIRED,
            "properties": CREATE_PROPERTIES,
        },
        "PortOrderUpdate": {
            "type": "object",
            "description": "Only the parameters given change; an empty value clears one.",
            "properties": INPUT_PROPERTIES,
        },
    }


def document(public_url: str) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Portico porting API",
            "version": "1.0.0",
            "description": "Port orders and LOAs, compatible with Twilio's preview Porting API. "
            "HTTP Basic `AccountSid:AuthToken`; errors are Twilio's "
            "`{code, message, more_info, status}`.",
        },
        "servers": [{"url": public_url.rstrip("/")}],
        "security": [{"basicAuth": []}],
        "paths": paths(),
        "components": {
            "securitySchemes": {"basicAuth": {"type": "http", "scheme": "basic"}},
            "schemas": schemas(),
            "responses": RESPONSES,
        },
    }
