"""A rejection's structured reason (pure): the exception's type, from a fixed set, and the
order's fields the customer must fix before the order goes to the carrier again.

An order carries its exception while REJECTED (`PortOrder.exception`, `{"type",
"fields_to_fix"}`); the customer's update that takes it back to PENDING clears it.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

from app.porting import fields
from app.porting.errors import PortingError


class ExceptionType(enum.StrEnum):
    ACCOUNT_NUMBER_MISMATCH = "ACCOUNT_NUMBER_MISMATCH"
    PIN_INVALID = "PIN_INVALID"
    NAME_MISMATCH = "NAME_MISMATCH"
    ADDRESS_MISMATCH = "ADDRESS_MISMATCH"
    BTN_MISMATCH = "BTN_MISMATCH"
    NUMBER_NOT_PORTABLE = "NUMBER_NOT_PORTABLE"
    OTHER = "OTHER"


E = ExceptionType

# What each type asks the customer to fix, when the rejection names no fields itself.
DEFAULT_FIELDS: Mapping[ExceptionType, tuple[str, ...]] = MappingProxyType(
    {
        E.ACCOUNT_NUMBER_MISMATCH: ("account_number",),
        E.PIN_INVALID: ("pin_number",),
        E.NAME_MISMATCH: ("first_name", "last_name"),
        E.ADDRESS_MISMATCH: ("street", "city", "region", "postal_code"),
        E.BTN_MISMATCH: ("billing_phone_number",),
        E.NUMBER_NOT_PORTABLE: ("port_type",),
        E.OTHER: (),
    }
)

# The fields a customer can change on an order: the update parameters (fields.py).
FIXABLE: frozenset[str] = frozenset(f.name for f in fields.VALUES)
MAX_FIELDS = len(fields.VALUES)

EXPLANATION: Mapping[ExceptionType, str] = MappingProxyType(
    {
        E.ACCOUNT_NUMBER_MISMATCH: "the account number does not match the losing carrier's records",
        E.PIN_INVALID: "the PIN does not match the losing carrier's records",
        E.NAME_MISMATCH: "the account holder's name does not match the losing carrier's records",
        E.ADDRESS_MISMATCH: "the service address does not match the losing carrier's records",
        E.BTN_MISMATCH: "the billing telephone number does not match the losing carrier's records",
        E.NUMBER_NOT_PORTABLE: "the losing carrier cannot port the number as ordered",
        E.OTHER: "the losing carrier refused the port",
    }
)


def parse_type(value: object) -> ExceptionType:
    """An exception type in any letter case; 21856 otherwise."""
    if isinstance(value, str):
        try:
            return ExceptionType(value.strip().upper())
        except ValueError:
            pass
    raise PortingError(21856, field="exception_type")


def check_fields(names: Iterable[object] | None, kind: ExceptionType) -> tuple[str, ...]:
    """The fields to fix: the given names (each an order field a customer can change, no
    repeats), or the type's defaults when none are given; 21857 otherwise."""
    if names is None:
        return DEFAULT_FIELDS[kind]
    out: list[str] = []
    for name in names:
        if not isinstance(name, str) or name.strip() not in FIXABLE:
            raise PortingError(21857, field="fields_to_fix")
        if name.strip() not in out:
            out.append(name.strip())
    if len(out) > MAX_FIELDS:
        raise PortingError(21857, field="fields_to_fix")
    return tuple(out)


def value(kind: ExceptionType, fields_to_fix: Iterable[str]) -> dict[str, Any]:
    """The stored (and shown) exception."""
    return {"type": kind.value, "fields_to_fix": list(fields_to_fix)}


def explain(exception: Mapping[str, Any], reason: str | None = None) -> str:
    """A comment's text for a rejection with this exception (Portico's own comment)."""
    try:
        kind = ExceptionType(str(exception.get("type")))
    except ValueError:
        kind = E.OTHER
    fix = list(exception.get("fields_to_fix") or [])
    text = f"The port was rejected ({kind.value}): {EXPLANATION[kind]}."
    if reason:
        text += f" The carrier said: {reason}"
    if fix:
        text += (
            " Please correct " + ", ".join(fix) + " (update the order); it goes back to PENDING "
            "and is submitted again once its LOA is signed."
        )
    return text
