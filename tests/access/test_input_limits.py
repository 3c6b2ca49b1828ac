"""Input limits (issue 14, point 5): every string input has a maximum length and a character
policy (no control characters anywhere; no bidirectional controls in names and addresses),
declared with its field (app/porting/fields.py) and enforced once (app/porting/validation.py)
for REST and GraphQL: a clear code naming the field, never the value, and nothing stored."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from app.porting import fields
from app.services import port_orders
from app.services.context import Services
from tests.access.support import ORDERS
from tests.builders import Tenant, camel, mobile_input, order_input, request_input
from tests.conftest import GraphQL, snapshot

CREATE = """
mutation($input: CreatePortOrderInput!) {
  createPortOrder(input: $input) { portOrder { sid } userErrors { code field message } }
}
"""
UPDATE = """
mutation($sid: ID!, $input: UpdatePortOrderInput!) {
  updatePortOrder(sid: $sid, input: $input) { portOrder { sid } userErrors { code field message } }
}
"""
CONTROL = ("\x1b", "\x07", "\r\n", "\x00", "\x85")  # ESC, BEL, CRLF, NUL, NEL (C1)
BIDI = ("\u202e", "\u2066", "\u200f")  # RIGHT-TO-LEFT OVERRIDE, LRI, RLM


def inputs() -> list[fields.Field]:
    return [f for f in fields.VALUES if f.max_length is not None]


def with_value(name: str, value: Any) -> dict[str, Any]:
    base = mobile_input() if name in fields.WRITE_ONLY else order_input()
    base[name] = [value] if name == "cc_emails" else value
    return base


def bad_values() -> Iterator[tuple[str, str, int, str]]:
    """(field, value, code, what) for every declared input: one over its length, one per
    control character, and (names and addresses) one per bidirectional control."""
    for f in inputs():
        assert f.max_length is not None
        yield f.name, "7" * (f.max_length + 1), f.too_long_code, "too long"
        for ch in CONTROL:
            yield f.name, f"1{ch}2", 21861, f"control U+{ord(ch[0]):04X}"
        if f.chars == fields.NAME:
            for ch in BIDI:
                yield f.name, f"ab{ch}cd", 21861, f"bidi U+{ord(ch):04X}"


def test_every_string_input_declares_its_length_and_policy() -> None:
    names = {f.name for f in inputs()}
    assert names == {f.name for f in fields.VALUES}
    names_and_addresses = {
        "friendly_name", "region", "city", "postal_code", "street", "company_name",
        "first_name", "last_name", "email", "status_updates_email", "cc_emails",
    }  # fmt: skip
    assert {f.name for f in inputs() if f.chars == fields.NAME} == names_and_addresses


@pytest.mark.dialects("sqlite")
async def test_rest_refuses_each_bad_value_naming_the_field_and_stores_nothing(
    http: httpx.AsyncClient, svc: Services, alice: Tenant
) -> None:
    order = await port_orders.create_port_order(svc, alice.caller, order_input())
    before = await snapshot(svc)
    auth = {"Authorization": alice.authorization}
    for name, value, code, what in bad_values():
        for path, body in (
            (ORDERS, with_value(name, value)),
            (f"{ORDERS}/{order.sid}", {name: value}),
        ):
            response = await http.post(path, json=body, headers=auth)
            assert response.status_code == 400, (name, what, response.text)
            answer = response.json()
            if "\x00" in value:  # refused earlier, by REST's own check of what a database can
                assert answer["code"] == 20001 and name in answer["message"]  # hold (NUL)
                continue
            details = answer["details"]
            assert {"code": code, "field": name} in [
                {"code": d["code"], "field": d["field"]} for d in details
            ], (name, what, details)
            assert value not in response.text and value.strip() not in response.text
    assert await snapshot(svc) == before


@pytest.mark.dialects("sqlite")
async def test_graphql_refuses_each_bad_value_naming_the_field_and_stores_nothing(
    http: httpx.AsyncClient, svc: Services, alice: Tenant
) -> None:
    order = await port_orders.create_port_order(svc, alice.caller, order_input())
    before = await snapshot(svc)
    auth = {"Authorization": alice.authorization}
    for name, value, code, what in bad_values():
        if name == "port_type":
            continue  # an enum in GraphQL: its type admits its values only
        for query, variables, key in (
            (CREATE, {"input": camel(with_value(name, value))}, "createPortOrder"),
            (
                UPDATE,
                {
                    "sid": order.sid,
                    "input": camel({name: [value] if name == "cc_emails" else value}),
                },
                "updatePortOrder",
            ),
        ):
            response = await http.post(
                "/graphql", json={"query": query, "variables": variables}, headers=auth
            )
            assert response.json().get("data"), (name, what, response.text)
            payload = response.json()["data"][key]
            assert payload["portOrder"] is None, (name, what)
            pairs = [(e["code"], e["field"]) for e in payload["userErrors"]]
            assert (code, ["input", camel({name: 0}).popitem()[0]]) in pairs, (name, what, pairs)
            assert value not in response.text and value.strip() not in response.text
    assert await snapshot(svc) == before


async def test_the_issues_oversized_values_are_refused_on_both_transports(
    http: httpx.AsyncClient, svc: Services, alice: Tenant
) -> None:
    # the issue's attack: a 0.9 MB street, a 200 KB company_name and account_number
    before = await snapshot(svc)
    auth = {"Authorization": alice.authorization}
    street = await http.post(ORDERS, json=order_input(street="S" * 900_000), headers=auth)
    assert street.status_code == 400
    assert [(d["code"], d["field"]) for d in street.json()["details"]] == [(21860, "street")]
    huge = mobile_input(company_name="C" * 200_000, account_number="1" * 200_000)
    rest = await http.post(ORDERS, json=huge, headers=auth)
    assert rest.status_code == 400
    got = [(d["code"], d["field"]) for d in rest.json()["details"]]
    assert got == [(21860, "company_name"), (21860, "account_number")]
    # GraphQL: such a body passes the body cap (PORTICO_GRAPHQL_MAX_BODY_BYTES, 256 KiB) and is
    # refused whole, unread (413); under the cap, each oversized field is refused by name
    whole = {"input": camel({**huge, "street": "S" * 200_000})}
    capped = await http.post("/graphql", json={"query": CREATE, "variables": whole}, headers=auth)
    assert capped.status_code == 413 and capped.json()["errors"][0]["extensions"]["code"] == 20413
    under = mobile_input(company_name="C" * 60_000, account_number="1" * 60_000)
    variables = {"input": camel({**under, "street": "S" * 60_000})}
    gql = await http.post("/graphql", json={"query": CREATE, "variables": variables}, headers=auth)
    errors = gql.json()["data"]["createPortOrder"]["userErrors"]
    assert {(e["code"], e["field"][-1]) for e in errors} >= {
        (21860, "street"),
        (21860, "companyName"),
    }
    assert max(len(r.content) for r in (gql, capped, rest, street)) < 5_000
    assert await snapshot(svc) == before


async def test_a_port_request_keeps_no_oversized_or_control_number_text(
    http: httpx.AsyncClient, svc: Services, alice: Tenant
) -> None:
    body = request_input(entries=["+1415555" + "0" * 5000, "+1212\x1b5550101", "+12125550177"])
    response = await http.post(
        "/porting/PortRequests", json=body, headers={"Authorization": alice.authorization}
    )
    assert response.status_code == 201, response.text
    numbers = response.json()["numbers"]
    assert [n["number"] for n in numbers][:2] == [None, None]
    assert all(e["code"] in (21812, 21860, 21861) for n in numbers[:2] for e in n["errors"])
    assert "\x1b" not in response.text and "0" * 100 not in response.text
    stored = (
        await http.get(
            f"/porting/PortRequests/{response.json()['sid']}",
            headers={"Authorization": alice.authorization},
        )
    ).text
    assert "0" * 100 not in stored


ADD_COMMENT = """
mutation($s: ID!, $b: String!) {
  addComment(subjectSid: $s, body: $b) { comment { body } userErrors { code field message } }
}
"""
NEW_KEY = """
mutation($name: String) {
  createApiKey(friendlyName: $name) { secret userErrors { code field message } }
}
"""
REFERENCES = """
mutation($sid: ID!, $p: String) {
  setPortOrderReferences(sid: $sid, providerSid: $p) {
    portOrder { sid } userErrors { code field message }
  }
}
"""
STATUS = """
mutation($sid: ID!, $reason: String) {
  setPortOrderStatus(sid: $sid, status: SUBMITTED, reason: $reason) {
    portOrder { sid } userErrors { code field message }
  }
}
"""


@pytest.mark.dialects("sqlite")
async def test_the_other_string_inputs_refuse_control_characters_and_store_nothing(
    http: httpx.AsyncClient, gql: GraphQL, svc: Services, alice: Tenant, op: Tenant
) -> None:
    """Beyond a port order's fields: a comment's body (line breaks and tabs allowed), an API
    key's friendly name (a name: no bidirectional controls) and an operator's texts, on REST and
    GraphQL: 21861 naming the field, never the value."""
    order = await port_orders.create_port_order(svc, alice.caller, order_input())
    before = await snapshot(svc)
    auth = {"Authorization": alice.authorization}
    cases: list[tuple[str, str, tuple[str, ...]]] = []
    for ch in CONTROL:
        if ch not in ("\r\n", "\x00"):  # (a comment's lines; NUL: 20001/21850 before)
            cases.append((f"body{ch}text", "body", ("comment",)))
        cases.append((f"name{ch}x", "friendlyName", ("key",)))
        cases.append((f"PV{ch}1", "providerSid", ("references", "reason")))
    for ch in BIDI:
        cases.append((f"ab{ch}cd", "friendlyName", ("key",)))
    for value, field, where in cases:
        answers: list[tuple[httpx.Response, str]] = []
        if "comment" in where:
            rest = await http.post(
                f"{ORDERS}/{order.sid}/Comments", json={"body": value}, headers=auth
            )
            assert rest.status_code == 400, (repr(value), rest.text)
            assert rest.json()["code"] == 21861 and "body" in rest.json()["message"]
            answers.append((rest, "rest"))
            response = await gql.post(ADD_COMMENT, {"s": order.sid, "b": value}, as_=alice)
            answers.append((response, "addComment"))
        if "key" in where:
            answers.append((await gql.post(NEW_KEY, {"name": value}, as_=alice), "createApiKey"))
        if "references" in where:
            response = await gql.post(REFERENCES, {"sid": order.sid, "p": value}, as_=op)
            answers.append((response, "setPortOrderReferences"))
        if "reason" in where:
            response = await gql.post(STATUS, {"sid": order.sid, "reason": value}, as_=op)
            answers.append((response, "setPortOrderStatus"))
        for response, key in answers:
            assert value not in response.text and value.strip() not in response.text
            if key == "rest":
                continue
            payload = response.json()["data"][key]
            codes = [(e["code"], e["field"][-1]) for e in payload["userErrors"]]
            expected = "reason" if key == "setPortOrderStatus" else field
            assert codes == [(21861, expected)], (repr(value), key, payload)
    assert await snapshot(svc) == before
    # and a comment of several lines, with a tab, is taken as written
    lines = "First line\r\nsecond\tline\n"
    taken = await gql(ADD_COMMENT, {"s": order.sid, "b": lines}, as_=alice)
    assert taken["addComment"]["comment"]["body"] == lines


@pytest.mark.dialects("sqlite")
async def test_list_filters_have_a_length_and_no_control_characters(
    http: httpx.AsyncClient, alice: Tenant
) -> None:
    """A list filter's text: at most its field's input limit (else fields.FILTER_MAX), no
    control characters; 21860 / 21861 naming the filter, on REST and GraphQL."""
    auth = {"Authorization": alice.authorization}
    cases = [
        ("/porting/PortOrders", "CompanyName", "portOrders", "companyName", 128),
        ("/porting/PortOrders", "ZendeskId", "portOrders", "zendeskId", fields.FILTER_MAX),
        ("/porting/Loas", "FirstName", "loas", "firstName", fields.FILTER_MAX),
    ]
    for path, rest_name, root, gql_name, limit in cases:
        query = f"query($f: String) {{ {root}(filter: {{{gql_name}: $f}}) {{ totalCount }} }}"
        for value, code in (("x" * (limit + 1), 21860), ("a\x1bb", 21861), ("a\r\nb", 21861)):
            rest = await http.get(path, params={rest_name: value}, headers=auth)
            assert rest.status_code == 400, (rest_name, rest.text)
            assert rest.json()["code"] == code and rest_name in rest.json()["message"]
            gql = await http.post(
                "/graphql", json={"query": query, "variables": {"f": value}}, headers=auth
            )
            error = gql.json()["errors"][0]
            assert error["extensions"]["code"] == code and gql_name in error["message"]
            for response in (rest, gql):
                assert value not in response.text and value.strip() not in response.text
        # the longest value is a plain filter (it matches nothing here)
        longest = "x" * limit
        rest = await http.get(path, params={rest_name: longest}, headers=auth)
        assert rest.status_code == 200, rest.text
        gql = await http.post(
            "/graphql", json={"query": query, "variables": {"f": longest}}, headers=auth
        )
        assert gql.json() == {"data": {root: {"totalCount": 0}}}
    # and the inventory's number filter (GraphQL only), as long as an order's
    query = "query($f: String) { incomingPhoneNumbers(filter: {number: $f}) { totalCount } }"
    numbers: list[tuple[str, int | None]] = [
        ("+1" + "4" * 31, 21860),
        ("+1415\x1b5550100", 21861),
        ("+1" * 16, None),  # 32 characters: taken (it matches nothing)
    ]
    for value, want in numbers:
        gql = await http.post(
            "/graphql", json={"query": query, "variables": {"f": value}}, headers=auth
        )
        if want is None:
            assert gql.json() == {"data": {"incomingPhoneNumbers": {"totalCount": 0}}}
            continue
        error = gql.json()["errors"][0]
        assert error["extensions"]["code"] == want and "number" in error["message"]
        assert value not in gql.text


async def test_page_cursors_have_a_length_and_no_control_characters(
    http: httpx.AsyncClient, alice: Tenant
) -> None:
    """A page cursor (REST AfterSid/BeforeSid, GraphQL after/before) is at most
    fields.CURSOR_MAX characters without control characters, refused with 21860 / 21861
    naming it before any lookup; one of that length is looked up as always (a cursor of no
    row of ours: 21826 / 21825)."""
    auth = {"Authorization": alice.authorization}
    limit = fields.CURSOR_MAX
    for value, code in (("PN" + "a" * (limit - 1), 21860), ("PN\x1b" + "a" * 30, 21861)):
        for rest_name in ("AfterSid", "BeforeSid"):
            for path in ("/porting/PortOrders", "/porting/Loas", "/porting/PortRequests"):
                rest = await http.get(path, params={rest_name: value}, headers=auth)
                assert rest.status_code == 400, (path, rest.text)
                assert rest.json()["code"] == code and rest_name in rest.json()["message"]
                assert value not in rest.text
        for gql_name, paging in (("after", "first: 5"), ("before", "last: 5")):
            query = f"query($c: String) {{ portOrders({paging}, {gql_name}: $c) {{ totalCount }} }}"
            gql = await http.post(
                "/graphql", json={"query": query, "variables": {"c": value}}, headers=auth
            )
            error = gql.json()["errors"][0]
            assert error["extensions"]["code"] == code and gql_name in error["message"]
            assert value not in gql.text
    longest = "PN" + "a" * (limit - 2)
    rest = await http.get("/porting/PortOrders", params={"AfterSid": longest}, headers=auth)
    assert rest.status_code == 400 and rest.json()["code"] == 21826, rest.text
    query = "query($c: String) { portOrders(first: 5, after: $c) { totalCount } }"
    gql = await http.post(
        "/graphql", json={"query": query, "variables": {"c": longest}}, headers=auth
    )
    assert gql.json()["errors"][0]["extensions"]["code"] == 21826
