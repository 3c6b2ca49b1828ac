"""The OpenAPI 3.1 document: served, in step with the serializers, and true to the running app
(schemathesis against uvicorn on loopback: no 5xx, no response the document does not allow)."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.config import Settings
from app.rest.openapi import (
    CHECK_EXAMPLE,
    CREATE_EXAMPLE,
    JSON,
    LOA_PROPERTIES,
    PORT_ORDER_PROPERTIES,
    PORT_REQUEST_LIST_PROPERTIES,
    PORT_REQUEST_PROPERTIES,
    REQUEST_EXAMPLE,
    UPDATE_EXAMPLE,
)
from app.rest.serializers import (
    LOA_FIELDS,
    PORT_ORDER_FIELDS,
    PORT_REQUEST_FIELDS,
    PORT_REQUEST_LIST_FIELDS,
)
from app.services import port_orders, port_requests
from app.wiring import build_services
from tests.builders import basic, next_number, order_input, tenant
from tests.conftest import LiveServer

pytestmark = pytest.mark.dialects("sqlite")

# The workflow routes (issue 13, app/rest/flow.py).
FLOW_PATHS = {
    "/porting/PortOrders/{sid}/Comments",
    "/porting/PortRequests/{sid}/Comments",
    "/porting/PortOrders/{sid}/ActivationWindows",
    "/porting/PortOrders/{sid}/Documents",
    "/porting/PortOrders/{sid}/Documents/{document_sid}/Content",
    "/porting/Loas/{sid}/Pdf",
}
FLOW_OPERATIONS = 24

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def test_field_lists_agree_with_the_serializers(database_url: str) -> None:
    assert tuple(PORT_ORDER_PROPERTIES) == PORT_ORDER_FIELDS
    assert tuple(LOA_PROPERTIES) == LOA_FIELDS
    assert tuple(PORT_REQUEST_PROPERTIES) == PORT_REQUEST_FIELDS
    assert tuple(PORT_REQUEST_LIST_PROPERTIES) == PORT_REQUEST_LIST_FIELDS
    assert not {"ssn_last_four", "account_number", "pin_number"} & set(PORT_ORDER_FIELDS)


async def test_document_is_served(http: httpx.AsyncClient) -> None:
    r = await http.get("/porting/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    assert doc["openapi"].startswith("3.1")
    assert doc["servers"] == [{"url": "http://testserver"}]
    assert (
        set(doc["paths"])
        == {
            "/porting/PortOrders",
            "/porting/PortOrders/{sid}",
            "/porting/Loas",
            "/porting/Loas/{sid}",
            "/porting/PortRequests",
            "/porting/PortRequests/{sid}",
            "/porting/PortabilityChecks",
        }
        | FLOW_PATHS
    )
    assert set(doc["paths"]["/porting/PortOrders/{sid}"]) == {"get", "post", "put", "delete"}


def _seed(live: Settings) -> tuple[str, str, dict[str, str]]:
    """An account with orders, so the fuzzing meets real rows too: (sid, token, path sids)."""

    async def go() -> tuple[str, str, dict[str, str]]:
        svc = build_services(live)
        try:
            owner = await tenant(svc)
            orders = [
                await port_orders.create_port_order(svc, owner.caller, order_input())
                for _ in range(3)
            ]
            request = await port_requests.create_port_request(
                svc, owner.caller, {**order_input(number=...), "numbers": [next_number()]}
            )
            paths = {
                "PortOrders": orders[0].sid,
                "Loas": orders[0].loa_sid,
                "PortRequests": request.row.sid,
            }
            return owner.sid, owner.token, paths
        finally:
            await svc.close()

    return asyncio.run(go())


EXAMPLES = 10  # per operation and run: about 1,400 generated requests over the 52 operations
# (Hypothesis's generation is most of the test's time)
UVICORN_REFUSAL = "Invalid HTTP request received."


def test_app_keeps_to_its_document(live_server: LiveServer) -> None:
    sid, token, seeded = _seed(live_server.settings)
    auth = {"Authorization": basic(sid, token)}
    api = schemathesis.openapi.from_url(f"{live_server.url}/porting/openapi.json")
    operations = []
    for result in api.get_all_operations():
        assert isinstance(result, Ok), result
        operations.append(result.ok())
    assert len(operations) == 28 + FLOW_OPERATIONS
    by_label = {op.label: op for op in operations}

    def call(label: str, status: int, **kwargs: Any) -> Any:
        case = by_label[label].Case(**kwargs)
        response = case.call_and_validate(headers=auth, checks=CHECKS)
        assert response.status_code == status, response.text
        return response.json()

    # The documented flow, each answer checked against the document.
    key = {"Idempotency-Key": "doc-example"}
    create = "POST /porting/PortOrders"
    created = call(create, 201, body=CREATE_EXAMPLE, media_type=JSON, headers=key)
    assert call(create, 201, body=CREATE_EXAMPLE, media_type=JSON, headers=key) == created
    order = {"sid": created["sid"]}
    loa = {"sid": created["loa_sid"]}
    update = {"body": UPDATE_EXAMPLE, "media_type": JSON}
    call("GET /porting/PortOrders/{sid}", 200, path_parameters=order)
    call("POST /porting/PortOrders/{sid}", 200, path_parameters=order, **update)
    call("PUT /porting/PortOrders/{sid}", 200, path_parameters=order, **update)
    call("GET /porting/PortOrders", 200, query={"FriendlyName": "Random123"})
    call("GET /porting/Loas/{sid}", 200, path_parameters=loa)
    assert (
        by_label["GET /porting/Loas/{sid}/Pdf"]
        .Case(path_parameters=loa)
        .call(headers=auth)
        .content.startswith(b"%PDF-")
    )
    call("POST /porting/Loas/{sid}", 200, path_parameters=loa)
    call("GET /porting/Loas", 200, query={"Status": "SIGNING"})
    thread = "/porting/PortOrders/{sid}/Comments"
    call(f"POST {thread}", 201, path_parameters=order, body={"body": "Hi"}, media_type=JSON)
    call(f"GET {thread}", 200, path_parameters=order, query={"PageSize": 1})
    call("GET /porting/PortOrders/{sid}/ActivationWindows", 200, path_parameters=order)
    call("GET /porting/PortOrders/{sid}/Documents", 200, path_parameters=order)
    call("DELETE /porting/PortOrders/{sid}", 200, path_parameters=order)
    call("DELETE /porting/Loas/{sid}", 405, path_parameters=loa)
    call(create, 422, body={}, media_type=JSON, headers=key)
    bulk = call("POST /porting/PortRequests", 201, body=REQUEST_EXAMPLE, media_type=JSON)
    assert [n["status"] for n in bulk["numbers"]] == ["PENDING", "PENDING"]
    request = {"sid": bulk["sid"]}
    call("GET /porting/PortRequests/{sid}", 200, path_parameters=request)
    call("GET /porting/PortRequests", 200, query={"Status": "pending"})
    call("POST /porting/PortabilityChecks", 200, body=CHECK_EXAMPLE, media_type=JSON)
    call("DELETE /porting/PortRequests/{sid}", 200, path_parameters=request)

    failures: list[str] = []
    seen: dict[str, set[int]] = defaultdict(set)
    for operation in operations:
        runs: list[tuple[GenerationMode, dict[str, str] | None]] = [
            (GenerationMode.POSITIVE, None),
            (GenerationMode.NEGATIVE, None),
        ]
        if "{sid}" in operation.path:  # also on a row that exists
            resource = operation.path.split("/")[2]
            runs.append((GenerationMode.POSITIVE, {"sid": seeded[resource]}))
        for mode, path_parameters in runs:
            strategy = operation.as_strategy(generation_mode=mode, path_parameters=path_parameters)

            @given(case=strategy)
            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                database=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            def run(case: schemathesis.Case[Any]) -> None:
                response = case.call(headers=auth)
                # A request line uvicorn itself cannot parse never reaches the app: not ours.
                assume(response.content != UVICORN_REFUSAL.encode())
                case.validate_response(response, checks=CHECKS)
                seen[case.operation.label].add(response.status_code)

            try:
                run()
            except Unsatisfiable:
                # Nothing to make invalid (no parameters, no body): negative mode has no case.
                assert mode is GenerationMode.NEGATIVE, operation.label
            except Exception as exc:  # collect, so one run reports every operation
                failures.append(f"{operation.label} [{mode.value} {path_parameters}]: {exc}")
    assert not failures, "\n\n".join(failures)
    # The runs reached real rows, not only refusals.
    for label in ("GET /porting/PortOrders/{sid}", "GET /porting/Loas/{sid}", "GET /porting/Loas"):
        assert 200 in seen[label], (label, seen[label])
    assert 405 in seen["PUT /porting/PortOrders"]
