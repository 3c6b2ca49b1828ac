"""Scalars: `DateTime` is written the way every Portico surface writes times (UTC, `Z`)."""

from __future__ import annotations

from datetime import UTC, datetime

import strawberry
from graphql import GraphQLError
from strawberry.types.scalar import ScalarDefinition

from app.porting.isotime import UTC_TEXT, UTC_TEXT_GUARD, format_utc, parse_utc


def _serialize(value: datetime) -> str | None:
    return format_utc(value)


# A datetime always formats, without raising: compiled plans format one inline, with
# format_utc itself (app/graphql/compiled.py, "exact").
_serialize.exact_input = datetime  # type: ignore[attr-defined]
_serialize.exact_function = format_utc  # type: ignore[attr-defined]
_serialize.exact_text = (UTC_TEXT_GUARD, UTC_TEXT, {"UTC": UTC})  # type: ignore[attr-defined]


def _parse(value: object) -> datetime:
    parsed = parse_utc(value) if isinstance(value, str) else None
    if parsed is None:
        # A GraphQLError, not a ValueError: a client's mistake, reported as it is (never masked
        # as unexpected) and without the value sent.
        raise GraphQLError(
            "DateTime must be ISO 8601 with time and zone, e.g. 2026-12-01T15:00:00Z"
        )
    return parsed


DateTime: ScalarDefinition = strawberry.scalar(
    name="DateTime",
    description="An ISO 8601 date-time in UTC, e.g. 2026-11-26T14:05:41Z.",
    serialize=_serialize,
    parse_value=_parse,
)

SCALARS: dict[object, ScalarDefinition] = {datetime: DateTime}
