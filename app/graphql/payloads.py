"""Mutation payloads: the object (null on failure) and `userErrors`, every expected failure
(PortingError / PortingErrors) with its contract code and the input it concerns."""

from __future__ import annotations

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


def user_errors(
    exc: PortingError | PortingErrors,
    input_fields: Collection[str] = (),
    arguments: Collection[str] = (),
) -> list[UserError]:
    out: list[UserError] = []
    for e in as_list(exc):
        path: list[str] | None = None
        if e.field is not None and e.field in input_fields:
            path = ["input", camel(e.field)]
        elif e.field is not None and e.field in arguments:
            path = [camel(e.field)]
        out.append(UserError(code=e.code, field=path, message=e.message))
    return out
