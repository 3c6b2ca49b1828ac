"""The OpenAPI 3.1 document of the REST surface, served at /porting/openapi.json.

Written by hand as a dict so it says exactly what the routes do, but for the fields: their
properties, parameters and filters come from app/porting/fields.py. tests/rest runs
schemathesis against the running app with it, and checks its field lists against
app/rest/serializers.py.
"""

from __future__ import annotations

from typing import Any

from app.porting import fields, requests
from app.porting.statuses import PortOrderStatus
from app.rest.body import MAX_BODY_BYTES
from app.rest.params import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from app.rest.serializers import NUMBER_FIELDS, PORTABILITY_FIELDS

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


TIME = {"type": "string", "format": "date-time", "description": "ISO 8601, UTC"}
TEXT = {"type": "string"}


def _output_schema(kind: fields.Kind) -> dict[str, Any]:
    if kind.name == "sid":
        return {"type": "string", "pattern": f"^{kind.prefix}[0-9a-f]{{32}}$"}
    if kind.enum is not None:
        return {"type": "string", "enum": [m.value for m in kind.enum]}
    by_kind: dict[str, dict[str, Any]] = {
        "datetime": TIME,
        "country": {"type": "string", "pattern": "^[A-Z]{2}$"},
        "int": {"type": "integer"},
        "text_list": {"type": "array", "items": TEXT},
        "url": {"type": "string", "format": "uri"},
        "errors": {"type": "array", "items": _ref("PortOrderErrorEntry")},
        "exception": _ref("PortOrderException"),
        "counts": _ref("PortOrderCounts"),
        "numbers": {"type": "array", "items": _ref("PortRequestNumber")},
        "sid_list": {
            "type": "array",
            "items": {"type": "string", "pattern": f"^{kind.prefix}[0-9a-f]{{32}}$"},
        },
    }
    return by_kind.get(kind.name, TEXT)


def _property(f: fields.Field) -> dict[str, Any]:
    """The object schema of a REST field: its kind's, with its length, description, null."""
    schema = dict(_output_schema(f.kind))
    if f.max_length is not None:
        schema["maxLength"] = f.max_length
    if f.openapi_doc is not None:
        schema["description"] = f.openapi_doc
    if f.nullable and "$ref" in schema:
        ref = {"$ref": schema.pop("$ref")}
        schema["anyOf"] = [ref, {"type": "null"}]
    elif f.nullable:
        schema["type"] = [schema["type"], "null"]
    return schema


def _parameter(f: fields.Field) -> dict[str, Any]:
    """The request body schema of a create/update parameter."""
    schema: dict[str, Any]
    if f.kind == fields.TEXT_LIST:
        schema = {"type": "array", "items": {"type": "string"}}
    else:
        schema = {"type": ["string", "integer"] if f.also_integer else "string"}
    description = f.openapi_input_doc
    if f.write_only:
        schema["writeOnly"] = True
        description = fields.WRITE_ONLY_NOTE
    elif description is None and f.kind.enum is not None:
        description = ", ".join(m.value for m in f.kind.enum)
    if description is not None:
        schema["description"] = description
    return schema


PORT_ORDER_PROPERTIES: dict[str, Any] = {
    f.name: _property(f) for f in fields.rest_fields(fields.PORT_ORDER)
}
LOA_PROPERTIES: dict[str, Any] = {f.name: _property(f) for f in fields.rest_fields(fields.LOA)}
PORT_REQUEST_PROPERTIES: dict[str, Any] = {
    f.name: _property(f) for f in fields.rest_fields(fields.PORT_REQUEST)
}
PORT_REQUEST_LIST_PROPERTIES: dict[str, Any] = {
    f.name: _property(f) for f in fields.rest_fields(fields.PORT_REQUEST) if f.listed
}

# Request parameters (snake_case as in the source document; PascalCase is accepted too).
INPUT_PROPERTIES: dict[str, Any] = {
    f.name: _parameter(f) for f in fields.inputs(fields.PORT_ORDER, create=False)
}
CREATE_PROPERTIES: dict[str, Any] = {
    **INPUT_PROPERTIES,
    **{
        f.name: _parameter(f) for f in fields.inputs(fields.PORT_ORDER, create=True) if not f.update
    },
}
REQUIRED = list(fields.REQUIRED)

# A Port Request's create: the shared values, `numbers` (E.164 strings or objects of the
# per-number values) and `all_or_nothing`.
SHARED_PROPERTIES: dict[str, Any] = {f.name: _parameter(f) for f in fields.SHARED}
NUMBER_PROPERTIES: dict[str, Any] = {f.name: _parameter(f) for f in fields.PER_NUMBER}
REQUEST_REQUIRED = [*(f.name for f in fields.SHARED if f.required), requests.NUMBERS]
_NUMBERS_DOC = (
    "1 to PORTICO_PORT_REQUEST_MAX_NUMBERS (default 1,000) numbers (21840 for none, 21841 for "
    "too many)"
)
ALL_OR_NOTHING = {
    "type": "boolean",
    "description": "Refuse the whole request when any number has an error (default false)",
}
REQUEST_EXAMPLE: dict[str, Any] = {
    "iso_country": "US",
    "region": "CA",
    "city": "SAN FRANCISCO",
    "postal_code": "94107",
    "street": "645 Harrison st.",
    "first_name": "James",
    "last_name": "The Third",
    "email": "james.thethird@random.com",
    "numbers": [
        "+14153077755",
        {"number": "+14153077756", "friendly_name": "Front desk"},
    ],
}
CHECK_EXAMPLE: dict[str, Any] = {"numbers": ["+14153077757", "+14155230001"]}

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
        "key": {
            "type": "string",
            "enum": ["orders", "loas", "port_requests", "comments", "documents"],
        },
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
    "TooManyRequests": _error_response(
        "The account's hourly budget of points is spent, GraphQL and REST together (20429)",
        {"Retry-After": {"required": True, "schema": {"type": "integer"}}},
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


def _body(
    schema_name: str, required: bool, example: dict[str, Any], form: str | None = None
) -> dict[str, Any]:
    return {
        "required": required,
        "description": "JSON (as in the source document) or form-encoded; snake_case or "
        "PascalCase parameter names",
        "content": {
            JSON: {"schema": _ref(schema_name), "example": example},
            FORM: {"schema": _ref(form or schema_name)},
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
            "429": _resp("TooManyRequests"),
            "404": _resp("NotFound"),
            "409": _resp("Conflict"),
            "413": _resp("TooLarge"),
            "415": _resp("UnsupportedMediaType"),
        },
    }


def _request_paths() -> dict[str, Any]:
    request_filters = [_query(f.rest_name, f.openapi_doc) for f in fields.PORT_REQUEST_FILTERS]
    return {
        "/porting/PortRequests": {
            "get": {
                "operationId": "listPortRequests",
                "summary": "List Port Requests, newest first (keyset pages; entries without "
                "`numbers`)",
                "parameters": [*request_filters, *PAGING_PARAMETERS],
                "responses": {
                    **_ok("PortRequestPage", "One page of Port Requests"),
                    "400": _resp("BadRequest"),
                    "401": _resp("Unauthorized"),
                    "429": _resp("TooManyRequests"),
                },
            },
            "post": {
                "operationId": "createPortRequest",
                "summary": "Create a Port Request: one port order per number; a number with "
                "errors is left out (or, with all_or_nothing, refuses the request)",
                "parameters": IDEMPOTENCY_PARAMETERS,
                "requestBody": _body(
                    "PortRequestCreate", True, REQUEST_EXAMPLE, "PortRequestCreateForm"
                ),
                "responses": {
                    "201": {
                        "description": "The new Port Request, with what became of each number",
                        "headers": {
                            "Idempotent-Replayed": {
                                "description": "Present on a replayed idempotent create",
                                "schema": {"type": "string", "enum": ["true"]},
                            }
                        },
                        "content": {JSON: {"schema": _ref("PortRequest")}},
                    },
                    "400": _resp("BadRequest"),
                    "401": _resp("Unauthorized"),
                    "429": _resp("TooManyRequests"),
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
        "/porting/PortRequests/{sid}": {
            "get": {
                "operationId": "getPortRequest",
                "summary": "Fetch a Port Request with every number",
                "parameters": [SID_PATH],
                "responses": {
                    **_ok("PortRequest", "The Port Request"),
                    "401": _resp("Unauthorized"),
                    "429": _resp("TooManyRequests"),
                    "404": _resp("NotFound"),
                },
            },
            "delete": {
                "operationId": "cancelPortRequest",
                "summary": "Cancel every order of the request the cancel rules allow; each "
                "number's `errors` says why its order was not canceled",
                "parameters": [SID_PATH],
                "responses": {
                    **_ok("PortRequest", "The Port Request after the cancel"),
                    "401": _resp("Unauthorized"),
                    "429": _resp("TooManyRequests"),
                    "404": _resp("NotFound"),
                    "409": _resp("Conflict"),
                },
            },
            "post": _unavailable("Not available"),
            "put": _unavailable("Not available"),
        },
        "/porting/PortabilityChecks": {
            "post": {
                "operationId": "checkPortability",
                "summary": "Check whether numbers can be ported now; stores nothing",
                "requestBody": _body("PortabilityCheck", True, CHECK_EXAMPLE),
                "responses": {
                    **_ok("PortabilityCheckResults", "One result per number, in order"),
                    "400": _resp("BadRequest"),
                    "401": _resp("Unauthorized"),
                    "429": _resp("TooManyRequests"),
                    "413": _resp("TooLarge"),
                    "415": _resp("UnsupportedMediaType"),
                },
            },
            "get": _unavailable("Not available"),
            "put": _unavailable("Not available"),
            "delete": _unavailable("Not available"),
        },
    }


def paths() -> dict[str, Any]:
    order_filters = [_query(f.rest_name, f.openapi_doc) for f in fields.PORT_ORDER_FILTERS]
    loa_filters = [_query(f.rest_name, f.openapi_doc) for f in fields.LOA_FILTERS]
    return {
        **_request_paths(),
        "/porting/PortOrders": {
            "get": {
                "operationId": "listPortOrders",
                "summary": "List port orders, newest first (keyset pages)",
                "parameters": [*order_filters, *PAGING_PARAMETERS],
                "responses": {
                    **_ok("PortOrderPage", "One page of orders"),
                    "400": _resp("BadRequest"),
                    "401": _resp("Unauthorized"),
                    "429": _resp("TooManyRequests"),
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
                    "429": _resp("TooManyRequests"),
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
                    "429": _resp("TooManyRequests"),
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
                    "429": _resp("TooManyRequests"),
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
                    "429": _resp("TooManyRequests"),
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
                    "429": _resp("TooManyRequests"),
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
                    "429": _resp("TooManyRequests"),
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
            f"A port order. Write-only fields ({', '.join(fields.WRITE_ONLY)}) never appear.",
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
        **_request_schemas(),
    }


def _request_schemas() -> dict[str, Any]:
    nullable_sid = {"type": ["string", "null"], "pattern": "^PO[0-9a-f]{32}$"}
    number_entry: dict[str, Any] = {
        "number": {"type": ["string", "null"], "description": "E.164 (as given if invalid)"},
        "port_order_sid": nullable_sid,
        "status": {"type": ["string", "null"], "enum": [*(s.value for s in PortOrderStatus), None]},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["code", "message"],
                "properties": {"code": {"type": "integer"}, "message": TEXT},
            },
        },
    }
    assert tuple(number_entry) == NUMBER_FIELDS
    result_types: dict[str, Any] = {
        "number": {"type": ["string", "null"]},
        "portable": {"type": "boolean"},
        "port_type": {"type": ["string", "null"]},
        "current_carrier": {"type": ["string", "null"]},
        "pin_and_account_number_required": {"type": "boolean"},
        "not_portable_reason_code": {"type": ["integer", "null"]},
        "not_portable_reason": {"type": ["string", "null"]},
    }
    assert tuple(result_types) == PORTABILITY_FIELDS
    return {
        "PortOrderCounts": {
            "type": "object",
            "additionalProperties": False,
            "required": [s.value for s in PortOrderStatus],
            "properties": {s.value: {"type": "integer", "minimum": 0} for s in PortOrderStatus},
        },
        "PortRequestNumber": _object(number_entry, "One number: its order, or why it has none"),
        "PortRequest": _object(PORT_REQUEST_PROPERTIES, "A Port Request"),
        "PortRequestListEntry": _object(
            PORT_REQUEST_LIST_PROPERTIES, "A Port Request in a list (fetch it for `numbers`)"
        ),
        "PortRequestPage": {
            "type": "object",
            "additionalProperties": False,
            "required": ["meta", "port_requests"],
            "properties": {
                "meta": _ref("Meta"),
                "port_requests": {"type": "array", "items": _ref("PortRequestListEntry")},
            },
        },
        "PortRequestNumberInput": {
            "type": "object",
            "description": "One number; its values win over the shared ones",
            "required": ["number"],
            "properties": NUMBER_PROPERTIES,
        },
        "PortRequestCreate": {
            "type": "object",
            "required": REQUEST_REQUIRED,
            "properties": {
                **SHARED_PROPERTIES,
                requests.NUMBERS: {
                    "type": "array",
                    "description": _NUMBERS_DOC + ": E.164 strings or objects",
                    "items": {"oneOf": [TEXT, _ref("PortRequestNumberInput")]},
                },
                requests.ALL_OR_NOTHING: ALL_OR_NOTHING,
            },
        },
        "PortRequestCreateForm": {
            "type": "object",
            "required": REQUEST_REQUIRED,
            "properties": {
                **SHARED_PROPERTIES,
                requests.NUMBERS: {
                    "type": "array",
                    "description": _NUMBERS_DOC + ": repeated fields (Numbers=a&Numbers=b)",
                    "items": TEXT,
                },
                requests.ALL_OR_NOTHING: {"type": "string", "enum": ["true", "false"]},
            },
        },
        "PortabilityCheck": {
            "type": "object",
            "required": [requests.NUMBERS],
            "properties": {
                requests.NUMBERS: {"type": "array", "description": _NUMBERS_DOC, "items": TEXT}
            },
        },
        "PortabilityResult": _object(result_types, "Whether one number can be ported now"),
        "PortabilityCheckResults": {
            "type": "object",
            "additionalProperties": False,
            "required": ["results"],
            "properties": {"results": {"type": "array", "items": _ref("PortabilityResult")}},
        },
    }


def document(public_url: str) -> dict[str, Any]:
    from app.rest import flow_openapi  # the workflow routes (it uses this module's helpers)

    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Portico porting API",
            "version": "1.0.0",
            "description": "Port orders, LOAs and Port Requests, compatible with Twilio's "
            "preview Porting API. "
            "HTTP Basic `AccountSid:AuthToken`; errors are Twilio's "
            "`{code, message, more_info, status}`.",
        },
        "servers": [{"url": public_url.rstrip("/")}],
        "security": [{"basicAuth": []}],
        "paths": {**paths(), **flow_openapi.paths()},
        "components": {
            "securitySchemes": {"basicAuth": {"type": "http", "scheme": "basic"}},
            "schemas": {**schemas(), **flow_openapi.schemas()},
            "responses": {**RESPONSES, **flow_openapi.responses()},
        },
    }
