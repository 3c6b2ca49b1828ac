"""Input types: list filters (CONTRACT.md §8) and the create/update parameters (CONTRACT.md §2).

Mutation inputs are all optional at the GraphQL level on purpose: the services validate every
field and report all failures at once as `userErrors` with the contract's codes (21801
number missing, ...). An omitted field is left as it is; on update, an explicit null clears it.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import fields as dataclass_fields
from typing import Any, TypeVar

import strawberry

from app.graphql.fields import Spec, add_fields, graphql_type
from app.graphql.pagination import request_error
from app.graphql.payloads import camel
from app.porting import fields, requests
from app.store.queries import LoaFilter, PortOrderFilter, PortRequestFilter

T = TypeVar("T")


def _raw(obj: object) -> dict[str, Any]:
    """Given fields as the services' raw snake_case mapping (UNSET ones left out)."""
    raw: dict[str, Any] = {}
    for f in dataclass_fields(obj):  # type: ignore[arg-type]
        value = getattr(obj, f.name)
        if value is strawberry.UNSET:
            continue
        raw[f.name] = value.value if isinstance(value, enum.Enum) else value
    return raw


def _given(value: Any) -> Any:
    return None if value is strawberry.UNSET else value


def _optional(name: str, type_: Any, description: str | None) -> Spec:
    """An input field that may be left out: UNSET, not given; null, given as null."""
    return name, type_ | None, strawberry.field(default=strawberry.UNSET, description=description)


# --- list filters (CONTRACT.md §8) -------------------------------------------------------------


def _filters(declared: tuple[fields.Filter, ...]) -> Callable[[type[T]], type[T]]:
    return add_fields(_optional(f.name, graphql_type(f.kind), f.graphql_doc) for f in declared)


def _filter_values(obj: object, declared: tuple[fields.Filter, ...]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for f in declared:
        value = _given(getattr(obj, f.name))
        if isinstance(value, str) and (refused := f.refusal(value, camel(f.name))) is not None:
            raise request_error(refused.code, refused.message)
        values[f.name] = value.value if isinstance(value, enum.Enum) else value
    return values


@strawberry.input(name="PortOrderFilter", description="Every field given must match.")
@_filters(fields.PORT_ORDER_FILTERS)
class PortOrderFilterInput:
    def to_filter(self) -> PortOrderFilter:
        return PortOrderFilter(**_filter_values(self, fields.PORT_ORDER_FILTERS))


@strawberry.input(name="LoaFilter", description="Every field given must match.")
@_filters(fields.LOA_FILTERS)
class LoaFilterInput:
    def to_filter(self) -> LoaFilter:
        return LoaFilter(**_filter_values(self, fields.LOA_FILTERS))


@strawberry.input(name="PortRequestFilter", description="Every field given must match.")
@_filters(fields.PORT_REQUEST_FILTERS)
class PortRequestFilterInput:
    def to_filter(self) -> PortRequestFilter:
        return PortRequestFilter(**_filter_values(self, fields.PORT_REQUEST_FILTERS))


# --- create and update parameters (CONTRACT.md §2) ----------------------------------------------


def _description(f: fields.Field) -> str | None:
    """The field's GraphQL input text, after "Required." and before the write-only note."""
    parts = [
        "Required." if f.required else None,
        f.graphql_input_doc,
        fields.WRITE_ONLY_NOTE if f.write_only else None,
    ]
    return " ".join(p for p in parts if p) or None


def _parameter_type(kind: fields.Kind) -> Any:
    """Text, dates included: the services validate it and report contract code (21814, ...)."""
    return graphql_type(kind) if kind.name in ("sid", "enum", "text_list") else str


def _parameters(declared: Iterable[fields.Field]) -> Callable[[type[T]], type[T]]:
    return add_fields(_optional(f.name, _parameter_type(f.kind), _description(f)) for f in declared)


_UPDATE = fields.inputs(fields.PORT_ORDER, create=False)
_CREATE = fields.inputs(fields.PORT_ORDER, create=True)


@strawberry.input(description="The parameters of a port order; update changes the given ones.")
@_parameters(_UPDATE)
class UpdatePortOrderInput:
    def to_raw(self) -> dict[str, Any]:
        return _raw(self)


@strawberry.input(description="The parameters of a new port order.")
@_parameters(f for f in _CREATE if not f.update)  # after the update ones (inherited)
class CreatePortOrderInput(UpdatePortOrderInput):
    pass


CREATE_FIELDS = frozenset(f.name for f in _CREATE)
UPDATE_FIELDS = frozenset(f.name for f in _UPDATE)


# --- a Port Request's create (CONTRACT.md §11) -------------------------------------------------


@strawberry.input(description="One number of a Port Request; its values win over the shared ones.")
@_parameters(fields.PER_NUMBER)
class PortRequestNumberInput:
    def to_raw(self) -> dict[str, Any]:
        return _raw(self)


@strawberry.input(description="A Port Request: the values its numbers share, and the numbers.")
@_parameters(fields.SHARED)
class CreatePortRequestInput:
    numbers: list[PortRequestNumberInput] | None = strawberry.field(
        default=strawberry.UNSET,
        description="Required: the numbers, 1 to PORTICO_PORT_REQUEST_MAX_NUMBERS (default "
        "1,000); each becomes a port order, or is left out with its errors.",
    )
    all_or_nothing: bool | None = strawberry.field(
        default=strawberry.UNSET,
        description="Refuse the whole request when any number has an error (default false).",
    )

    def to_raw(self) -> dict[str, Any]:
        raw = _raw(self)
        numbers = raw.get(requests.NUMBERS)
        if isinstance(numbers, list):
            raw[requests.NUMBERS] = [n.to_raw() for n in numbers]
        return raw


REQUEST_FIELDS = frozenset({*(f.name for f in fields.SHARED), *requests.PARAMETERS})
