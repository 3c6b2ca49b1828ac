"""Documents and helpers shared by the operator tests."""

from __future__ import annotations

from typing import Any

from app.services import reads
from app.services.context import Services
from tests.builders import Tenant, camel, order_input
from tests.conftest import GraphQL

STEP = 0.2  # PORTICO_SANDBOX_STEP_SECONDS for these tests

USER_ERRORS = "userErrors { code field message }"
ORDER = (
    "sid accountSid number status activationDate providerSid zendeskId reasonCode reason"
    " incomingPhoneNumberSid errors { code reason }"
)

CREATE = f"""
mutation ($input: CreatePortOrderInput!) {{
  createPortOrder(input: $input) {{ portOrder {{ {ORDER} loaSid }} {USER_ERRORS} }}
}}
"""

SIGN_LOA = f"""
mutation ($sid: ID!) {{ signLoa(sid: $sid) {{ loa {{ sid status }} {USER_ERRORS} }} }}
"""

SET_STATUS = f"""
mutation ($sid: ID!, $status: PortOrderStatus!, $reasonCode: Int, $reason: String,
          $errorCode: Int) {{
  setPortOrderStatus(sid: $sid, status: $status, reasonCode: $reasonCode, reason: $reason,
                     errorCode: $errorCode) {{
    portOrder {{ {ORDER} }} {USER_ERRORS}
  }}
}}
"""

SET_ACTIVATION_DATE = f"""
mutation ($sid: ID!, $activationDate: DateTime!) {{
  setActivationDate(sid: $sid, activationDate: $activationDate) {{
    portOrder {{ {ORDER} }} {USER_ERRORS}
  }}
}}
"""

EVENTS = """
query ($sid: ID!) {
  portOrder(sid: $sid) {
    events(first: 100) { edges { node { type status callbackType actor actorSid } } }
  }
}
"""


def references_mutation(*names: str) -> str:
    """setPortOrderReferences with exactly the named arguments (providerSid, zendeskId), each
    from a variable of that name: an argument left out keeps its value, null or "" clears it."""
    declared = "".join(f", ${n}: String" for n in names)
    passed = "".join(f", {n}: ${n}" for n in names)
    return f"""
    mutation ($sid: ID!{declared}) {{
      setPortOrderReferences(sid: $sid{passed}) {{ portOrder {{ {ORDER} }} {USER_ERRORS} }}
    }}
    """


async def create_order(gql: GraphQL, who: Tenant, **fields: Any) -> dict[str, Any]:
    payload = (await gql(CREATE, {"input": camel(order_input(**fields))}, as_=who))[
        "createPortOrder"
    ]
    assert payload["userErrors"] == [], payload
    result: dict[str, Any] = payload["portOrder"]
    return result


async def events(gql: GraphQL, who: Tenant, sid: str) -> list[dict[str, Any]]:
    data = await gql(EVENTS, {"sid": sid}, as_=who)
    return [e["node"] for e in data["portOrder"]["events"]["edges"]]


async def set_status(gql: GraphQL, who: Tenant, sid: str, status: str, **kw: Any) -> dict[str, Any]:
    data = await gql(SET_STATUS, {"sid": sid, "status": status, **kw}, as_=who)
    result: dict[str, Any] = data["setPortOrderStatus"]
    return result


async def ported(gql: GraphQL, op: Tenant, owner: Tenant, number: str) -> dict[str, Any]:
    """An order of `owner`'s that an operator completes (CREATED/PENDING -> REVIEW ->
    COMPLETED): the number enters the inventory. The completed order."""
    order = await create_order(gql, owner, number=number)
    assert (await set_status(gql, op, order["sid"], "REVIEW"))["userErrors"] == []
    done = await set_status(gql, op, order["sid"], "COMPLETED")
    assert done["userErrors"] == [], done
    assert done["portOrder"]["incomingPhoneNumberSid"].startswith("PN")
    result: dict[str, Any] = done["portOrder"]
    return result


async def stored(svc: Services, who: Tenant, sid: str) -> tuple[dict[str, Any], list[int]]:
    """The order's row and its event ids, as stored: to show a refusal changed nothing."""
    order = await reads.get_port_order(svc, who.caller, sid)
    assert order is not None
    timeline = await reads.order_events(svc, who.caller, sid, limit=100)
    ids = [e.id for e in timeline.items]
    assert None not in ids
    return order.model_dump(), [i for i in ids if i is not None]


PORT_ORDERS_BY_ACCOUNT = """
query ($filter: PortOrderFilter) {
  portOrders(filter: $filter, first: 100) { totalCount edges { node { sid accountSid } } }
}
"""

CANCEL = f"""
mutation ($sid: ID!) {{ cancelPortOrder(sid: $sid) {{ portOrder {{ sid status }} {USER_ERRORS} }} }}
"""
