"""Exceptions over REST (issue 13 point 5, "REST and GraphQL alike"): a rejected order's
`exception` in its JSON (null otherwise), the tenant rules, an address fixed over REST taking the
order back to PENDING on a new LOA (the signer's address changed), and the operator's refused
exception type (21856) storing nothing."""

from __future__ import annotations

import httpx

from app.porting.statuses import Actor, LoaStatus, PortOrderStatus
from app.services import loas, operators, reads
from app.services.context import Services
from tests.builders import Tenant, signature
from tests.rest.conftest import LOAS, ORDERS, assert_error
from tests.services.helpers import refused, status_of, submitted

S = PortOrderStatus


async def test_a_rejection_s_exception_over_rest_and_an_address_fixed_on_a_new_loa(
    http: httpx.AsyncClient, svc: Services, alice: Tenant, bob: Tenant, op: Tenant
) -> None:
    order = await submitted(svc, alice.caller)
    path = f"{ORDERS}/{order.sid}"
    shown = (await http.get(path, auth=alice.auth)).json()
    assert shown["status"] == "SUBMITTED" and shown["exception"] is None

    await operators.set_status(
        svc,
        Actor.OPERATOR,
        op.sid,
        order.sid,
        S.REJECTED,
        reason="The carrier has another service address",
        error_code=21831,
        exception_type="ADDRESS_MISMATCH",
    )
    r = await http.get(path, auth=alice.auth)
    assert r.status_code == 200, r.text
    rejected = r.json()
    assert rejected["status"] == "REJECTED"
    assert rejected["exception"] == {
        "type": "ADDRESS_MISMATCH",
        "fields_to_fix": ["street", "city", "region", "postal_code"],
    }
    listed = (await http.get(f"{ORDERS}?Status=rejected", auth=alice.auth)).json()
    assert [o["exception"] for o in listed[listed["meta"]["key"]]] == [rejected["exception"]]
    assert_error(await http.get(path, auth=bob.auth), 404, 20404)
    assert_error(await http.post(path, json={"street": "1 Market St"}, auth=bob.auth), 404, 20404)

    # The address is the signer's: the signed letter no longer holds, a new one is to be signed.
    r = await http.post(
        path, json={"street": "1 Market St", "postal_code": "94105"}, auth=alice.auth
    )
    assert r.status_code == 200, r.text
    fixed = r.json()
    assert (fixed["status"], fixed["exception"]) == ("PENDING", None)
    assert fixed["loa_sid"] != order.loa_sid
    new_loa = (await http.get(f"{LOAS}/{fixed['loa_sid']}", auth=alice.auth)).json()
    assert new_loa["status"] == LoaStatus.OPEN.value
    await loas.request_signature(svc, alice.caller, fixed["loa_sid"])
    await loas.sign(svc, fixed["loa_sid"], signature())
    again = await status_of(svc, order.sid, S.SUBMITTED)
    assert again.exception is None and again.loa_sid == fixed["loa_sid"]


async def test_an_unknown_exception_type_is_21856_and_nothing_is_stored(
    svc: Services, alice: Tenant, op: Tenant
) -> None:
    order = await submitted(svc, alice.caller)
    async with refused(svc, 21856, "exception_type"):
        await operators.set_status(
            svc, Actor.OPERATOR, op.sid, order.sid, S.REJECTED, exception_type="PIN_WRONG"
        )
    kept = await reads.get_port_order(svc, alice.caller, order.sid)
    assert kept is not None and kept.status == S.SUBMITTED and kept.exception is None
