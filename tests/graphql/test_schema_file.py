"""schema.graphql at the repo root is the exported SDL: the suite fails when they differ."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.cli import main
from app.graphql.schema import sdl

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schema.graphql"


def test_schema_graphql_is_the_exported_schema() -> None:
    assert SCHEMA_FILE.read_text() == sdl(), (
        "schema.graphql is stale: run `portico export-schema > schema.graphql`"
    )


def test_export_schema_prints_the_sdl(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export-schema"]) == 0
    assert capsys.readouterr().out == SCHEMA_FILE.read_text()


def test_the_contract_names_are_in_the_schema() -> None:
    text = sdl()
    for name in (
        "portOrder(sid: ID!): PortOrder",
        "portOrders(filter: PortOrderFilter",
        "): PortOrderConnection!",
        "loa(sid: ID!): Loa",
        "): LoaConnection!",
        "node(id: ID!): Node",
        "createPortOrder(input: CreatePortOrderInput!): PortOrderPayload!",
        "updatePortOrder(sid: ID!, input: UpdatePortOrderInput!): PortOrderPayload!",
        "cancelPortOrder(sid: ID!): PortOrderPayload!",
        "signLoa(sid: ID!): LoaPayload!",
        "type UserError",
        "field: [String!]",
        "enum PortOrderStatus",
        "enum LoaStatus",
        "enum PortType",
        "type PageInfo",
        "totalCount: Int!",
    ):
        assert name in text, name
    # write-only parameters exist only as inputs
    output = text.split("type PortOrder implements Node")[1].split("\n}\n")[0]
    for field in ("ssnLastFour", "accountNumber", "pinNumber"):
        assert field not in output
        assert f"  {field}: String" in text.split("input CreatePortOrderInput")[1]
