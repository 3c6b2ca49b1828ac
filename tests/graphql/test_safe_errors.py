"""Safe errors (point 4 of issue 17): no error message, in any transport, contains a value the
client sent. Every mutation's every input (from the schema itself) is sent with secret-looking
values: of the wrong type and with an unknown field (coercion errors), as literals in the
document (validation errors), and of the right type (the use cases' own refusals); every REST
write (from the OpenAPI document) likewise, JSON and form-encoded. No response may contain a
single one of the values, and malformed or absurd JSON is a 400, never a 500."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
)

from app.config import Settings
from app.graphql.schema import build_schema
from app.rest.openapi import document
from tests.builders import Tenant

SECRETS: list[str] = []
_counter = itertools.count(1)


def secret_text() -> str:
    value = f"S3CRET{next(_counter):05d}Q"
    SECRETS.append(value)
    return value


def secret_int() -> int:
    value = 918_273_000 + next(_counter)  # fits Int (32-bit): gets past coercion
    SECRETS.append(str(value))
    return value


def unwrap(type_: Any) -> Any:
    while isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    return type_


def value_for(type_: GraphQLInputType, mode: str, depth: int = 0) -> Any:
    """A value of `type_` made of secrets. mode "wrong": every leaf of the wrong type, every
    enum a value it lacks, every object with an unknown field too; "right": the right types
    (enums valid), secrets in every string and number."""
    t = unwrap(type_)
    if isinstance(t, GraphQLList):
        return [value_for(t.of_type, mode, depth + 1)]
    if isinstance(t, GraphQLInputObjectType):
        if depth > 3:
            return None
        out = {name: value_for(f.type, mode, depth + 1) for name, f in t.fields.items()}
        if mode == "wrong":
            out["zzUnknownField"] = secret_text()
        return out
    if isinstance(t, GraphQLEnumType):
        return secret_text() if mode == "wrong" else next(iter(t.values))
    assert isinstance(t, GraphQLScalarType)
    if t.name in ("Int", "Float"):
        return secret_text() if mode == "wrong" else secret_int()
    if t.name == "Boolean":
        return secret_text() if mode == "wrong" else True
    return secret_int() if mode == "wrong" else secret_text()  # String, ID, DateTime


def literal(value: Any, type_: Any) -> str:
    """`value` written as a GraphQL literal (enums bare, as a client would write them)."""
    t = unwrap(type_)
    if isinstance(value, list):
        inner = t.of_type if isinstance(t, GraphQLList) else t
        return "[" + ", ".join(literal(v, inner) for v in value) + "]"
    if isinstance(value, dict):
        fields = t.fields if isinstance(t, GraphQLInputObjectType) else {}
        parts = [
            f"{k}: {literal(v, fields[k].type if k in fields else None)}" for k, v in value.items()
        ]
        return "{" + ", ".join(parts) + "}"
    if isinstance(t, GraphQLEnumType) and isinstance(value, str):
        return value
    return json.dumps(value)


def selection(payload: Any) -> str:
    t = unwrap(payload)
    while isinstance(t, GraphQLList | GraphQLNonNull):
        t = t.of_type
    if isinstance(t, GraphQLObjectType) and "userErrors" in t.fields:
        return "{ __typename userErrors { message code field } }"
    return "{ __typename }" if isinstance(t, GraphQLObjectType) else ""


def mutation_cases() -> Iterator[tuple[str, str, dict[str, Any]]]:
    schema = build_schema(Settings())._schema
    assert schema.mutation_type is not None
    for name, field in sorted(schema.mutation_type.fields.items()):
        sel = selection(field.type)
        for mode in ("wrong", "right"):
            args = {a: value_for(arg.type, mode) for a, arg in field.args.items()}
            params = ", ".join(f"${a}: {arg.type}" for a, arg in field.args.items())
            passing = ", ".join(f"{a}: ${a}" for a in field.args)
            head = f"mutation ({params})" if params else "mutation"
            call = f"{name}({passing})" if passing else name
            yield f"{name}-{mode}-variables", f"{head} {{ {call} {sel} }}", args
        args = {a: value_for(arg.type, "wrong") for a, arg in field.args.items()}
        inline = ", ".join(f"{a}: {literal(v, field.args[a].type)}" for a, v in args.items())
        call = f"{name}({inline})" if inline else name
        yield f"{name}-literals", f"mutation {{ {call} {sel} }}", {}


CASES = list(mutation_cases())


def leaked(text: str) -> list[str]:
    return [s for s in SECRETS if s in text]


@pytest.mark.parametrize(("query", "variables"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
async def test_no_graphql_error_contains_a_value_sent(
    http: httpx.AsyncClient, alice: Tenant, op: Tenant, query: str, variables: dict[str, Any]
) -> None:
    for tenant in (alice, op):
        response = await http.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": tenant.authorization},
        )
        assert response.status_code in (200, 400), response.text
        body = response.json()
        data = body.get("data") or {}
        reported = {
            "errors": body.get("errors"),
            "userErrors": [v.get("userErrors") for v in data.values() if isinstance(v, dict)],
        }
        assert leaked(json.dumps(reported)) == [], reported


def test_the_sweep_covers_every_mutation_and_the_errors_it_checks_name_the_fields() -> None:
    schema = build_schema(Settings())._schema
    assert schema.mutation_type is not None
    swept = {c[0].split("-")[0] for c in CASES}
    assert swept == set(schema.mutation_type.fields)
    assert len(SECRETS) > 100


def properties(schema: dict[str, Any], schemas: dict[str, Any]) -> list[str]:
    if "$ref" in schema:
        return properties(schemas[schema["$ref"].rsplit("/", 1)[1]], schemas)
    found = list(schema.get("properties", {}))
    for key in ("oneOf", "anyOf", "allOf"):
        for part in schema.get(key, []):
            found += properties(part, schemas)
    return found


def rest_writes() -> Iterator[tuple[str, str, list[str]]]:
    doc = document("http://testserver")
    schemas = doc["components"]["schemas"]
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            if not isinstance(op, dict) or "requestBody" not in op:
                continue
            props: list[str] = []
            for content in op["requestBody"]["content"].values():
                props += [n for n in properties(content["schema"], schemas) if n not in props]
            props = props or ["Status", "Unknown"]  # a body that takes nothing: send some
            yield (
                method,
                path.replace("{sid}", "PN" + "0" * 32 if "Loas" not in path else "LA" + "0" * 32),
                props,
            )


REST = list(rest_writes())


@pytest.mark.parametrize(("method", "path", "names"), REST, ids=[f"{m} {p}" for m, p, _ in REST])
async def test_no_rest_error_contains_a_value_sent(
    http: httpx.AsyncClient, alice: Tenant, method: str, path: str, names: list[str]
) -> None:
    auth = {"Authorization": alice.authorization}
    if "PortOrders/" in path:  # an order of alice's, so the body is what gets refused
        created = await http.post("/porting/PortOrders", json=valid_order(), headers=auth)
        assert created.status_code == 201, created.text
        path = "/porting/PortOrders/" + created.json()["sid"]
    bodies: list[dict[str, Any]] = [
        {"json": {n: secret_text() for n in names}},
        {"json": {n: {"nested": secret_text()} for n in names}},
        {"json": {n: [secret_int()] for n in names}},
        {"data": {n: secret_text() for n in names}},
    ]
    for body in bodies:
        response = await http.request(method.upper(), path, headers=auth, **body)
        assert response.status_code < 500, response.text
        if response.status_code >= 400:
            assert leaked(response.text) == [], response.text
        else:  # accepted (a check of a number): its data may name it, its messages may not
            assert leaked(json.dumps(messages(response.json()))) == [], response.text


def messages(value: Any) -> list[Any]:
    """Every value under a key that holds a message or a reason, anywhere in `value`."""
    if isinstance(value, list):
        return [m for v in value for m in messages(v)]
    if isinstance(value, dict):
        found = [v for k, v in value.items() if "message" in k or "reason" in k]
        return found + [m for v in value.values() for m in messages(v)]
    return []


def valid_order() -> dict[str, Any]:
    return {
        "number": "+14153077754",
        "iso_country": "US",
        "region": "CA",
        "city": "SAN FRANCISCO",
        "postal_code": "94107",
        "street": "645 Harrison st.",
        "first_name": "James",
        "last_name": "The Third",
        "email": "james.thethird@random.com",
        "port_type": "landline",
    }


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"{" * 100_000, "Malformed JSON"),
        (
            b'{"query": "{ __typename }", "variables": {"x": '
            + b"[" * 100_000
            + b"]" * 100_000
            + b"}}",
            "nested more than 64 levels",
        ),
        (
            b'{"query": "{ __typename }", "variables": {"x": 1' + b"0" * 5000 + b"}}",
            "a number longer than",
        ),
        (b'{"query": "{ __typename }", "variables": {"x": 1e999}}', "a number out of range"),
        (b'{"query": "{ __typename }", "variables": {"x": NaN}}', "NaN is not valid JSON"),
        (b'{"query": "\xff\xfe"}', "not valid UTF-8"),
        (b'{"query": "S3CRETJSON1', "Malformed JSON"),
    ],
)
async def test_malformed_or_absurd_json_is_a_400_that_quotes_nothing(
    http: httpx.AsyncClient, alice: Tenant, raw: bytes, expected: str
) -> None:
    auth = {"Authorization": alice.authorization, "Content-Type": "application/json"}
    for path in ("/graphql", "/porting/PortOrders"):
        response = await http.post(path, content=raw, headers=auth)
        assert response.status_code in (400, 413), (path, response.text)
        if response.status_code == 400:
            assert expected in response.text, (path, response.text)
        assert "S3CRETJSON1" not in response.text and "[[[" not in response.text
