"""Mutation payloads: the object (null on failure) and `userErrors`, every expected failure
(PortingError / PortingErrors) with its contract code and the input it concerns."""

from __future__ import annotations

import re
from collections.abc import Collection

import strawberry

from app.graphql.nodes import LoaType, PortOrderType
from app.porting.errors import PortingError, PortingErrors, as_list


@strawberry.type(description="An expected failure: its code, message and the input it concerns.")
class UserError:
    code: int
    field: list[str] | None = strawberry.field(
        description='Path to the argument or input field, e.g. ["input", "postalCode"].'
    )
    message: str


@strawberry.type
class PortOrderPayload:
    port_order: PortOrderType | None
    user_errors: list[UserError]


@strawberry.type
class LoaPayload:
    loa: LoaType | None
    user_errors: list[UserError]


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


# An error of one entry of a list input: `numbers[3].pin_number` (app/porting/requests.py).
_ENTRY = re.compile(r"(\w+)\[(\d+)\](?:\.(\w+))?")


def user_errors(
    exc: PortingError | PortingErrors,
    input_fields: Collection[str] = (),
    arguments: Collection[str] = (),
) -> list[UserError]:
    out: list[UserError] = []
    for e in as_list(exc):
        path: list[str] | None = None
        entry = _ENTRY.fullmatch(e.field) if e.field is not None else None
        if entry is not None and entry[1] in input_fields:
            path = ["input", camel(entry[1]), entry[2], *([camel(entry[3])] if entry[3] else [])]
        elif e.field is not None and e.field in input_fields:
            path = ["input", camel(e.field)]
        elif e.field is not None and e.field in arguments:
            path = [camel(e.field)]
        out.append(UserError(code=e.code, field=path, message=e.message))
    return out
