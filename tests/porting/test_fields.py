"""The declaration of the order and LOA fields (app/porting/fields.py) and its storage helpers."""

from __future__ import annotations

from dataclasses import dataclass, field
from dataclasses import fields as dataclass_fields
from datetime import datetime
from typing import Any

import pytest

from app.graphql.nodes import LoaType, PortOrderType
from app.porting import fields as F
from app.porting.statuses import PortType
from app.porting.validation import PortOrderFields, validate_create
from app.store.queries import LoaFilter, PortOrderFilter
from app.store.tables import Loa, PortOrder

SECRETS = {"ssn_last_four": "1234", "account_number": "ACC-1", "pin_number": "0000"}


def _fields(**changes: object) -> PortOrderFields:
    raw: dict[str, object] = {
        "number": "+442079460958",
        "iso_country": "GB",
        "region": "England",
        "city": "London",
        "postal_code": "SW1A 1AA",
        "street": "1 Main St",
        "first_name": "Jane",
        "last_name": "Doe",
        "email": "jane@example.com",
    }
    return validate_create({**raw, **changes})


def test_no_output_has_a_write_only_field() -> None:
    for declared in (F.PORT_ORDER, F.LOA):
        outputs = {f.name for f in F.rest_fields(declared) + F.graphql_fields(declared)}
        assert not outputs & {f.name for f in declared if f.write_only}
    for cls in (PortOrderType, LoaType):
        definition: Any = getattr(cls, "__strawberry_definition__")  # noqa: B009
        names = {f.python_name for f in definition.fields}
        assert not names & set(F.WRITE_ONLY)
    assert F.WRITE_ONLY == ("ssn_last_four", "account_number", "pin_number")


def test_filters_are_the_store_filters() -> None:
    assert [f.name for f in F.PORT_ORDER_FILTERS] == [
        f.name for f in dataclass_fields(PortOrderFilter)
    ]
    assert [f.name for f in F.LOA_FILTERS] == [f.name for f in dataclass_fields(LoaFilter)]


def test_stored_names_are_columns() -> None:
    columns = PortOrder.model_fields
    assert all(name in columns for name in F.STORED)
    assert not set(F.WRITE_ONLY) & set(columns)
    assert all(name in Loa.model_fields for name in F.ON_LOA)


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {
            **SECRETS,
            "number": "+447400123456",
            "company_name": "Acme",
            "cc_emails": ["a@example.com"],
            "activation_date": "2026-05-01T10:00:00Z",
            "status_callback": "https://hooks.example.com/x",
        },
    ],
)
def test_storage_round_trip(changes: dict[str, object]) -> None:
    f = _fields(**changes)
    values, secrets = F.stored_values(f), F.write_only_values(f)
    assert set(values) == set(F.STORED)
    assert secrets == {k: v for k, v in SECRETS.items() if k in changes}
    assert isinstance(values["port_type"], str) and not isinstance(values["port_type"], PortType)
    assert values["cc_emails"] == f.cc_emails and values["cc_emails"] is not f.cc_emails
    back = F.fields_from(values, secrets)
    assert back == f and back.port_type is f.port_type
    columns: dict[str, Any] = dict(values)
    row = PortOrder(**columns)
    assert F.fields_from(F.values_of(row), secrets) == f


def test_loa_values_are_the_signer_address_and_port_type() -> None:
    f = _fields(company_name="Acme")
    assert F.loa_values(f) == {
        "port_type": "LANDLINE",
        "iso_country": "GB",
        "region": "England",
        "city": "London",
        "postal_code": "SW1A 1AA",
        "street": "1 Main St",
        "company_name": "Acme",
        "first_name": "Jane",
        "last_name": "Doe",
        "email": "jane@example.com",
    }


def test_the_values_class_cannot_drift_from_the_declaration() -> None:
    F.check_values_class(PortOrderFields)

    @dataclass(kw_only=True)
    class Missing:
        number: str

    @dataclass(kw_only=True)
    class WrongType(PortOrderFields):
        activation_date: str | None = None  # type: ignore[assignment]

    @dataclass(kw_only=True)
    class Extra(PortOrderFields):
        nickname: list[str] = field(default_factory=list)

    for cls in (Missing, WrongType, Extra):
        with pytest.raises(TypeError, match="differs from the declaration"):
            F.check_values_class(cls)


def test_field_rules() -> None:
    with pytest.raises(ValueError, match="write-only"):
        F.Field("secret", F.TEXT, create=True, update=True, write_only=True)  # not nullable
    with pytest.raises(ValueError, match="required"):
        F.Field("x", F.TEXT, create=True, required=True)
    with pytest.raises(ValueError, match="computed"):
        F.Field("x", F.URL, computed=True, create=True)
    assert F.Filter(F.PORT_ORDER[0], "d", bound="min").rest_name == "SidMin"
    by_name = {f.name: f for f in F.PORT_ORDER}
    assert F.python_type(by_name["activation_date"]) == datetime | None
    assert F.python_type(by_name["cc_emails"]) == list[str]
    assert F.python_type(by_name["port_type"]) is PortType
