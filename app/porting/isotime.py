"""ISO 8601 in UTC, the way the API writes times: `2026-11-26T14:05:41Z`."""

from __future__ import annotations

from datetime import UTC, datetime

# format_utc's text of a datetime `v` that is in UTC (its tzinfo `UTC`) with a year of four
# digits, as a Python expression: what compiled GraphQL plans write inline for a DateTime
# (app/graphql/scalars.py). tests/porting/test_isotime.py holds it equal to format_utc.
UTC_TEXT = 'f"{v.year}-{v.month:02d}-{v.day:02d}T{v.hour:02d}:{v.minute:02d}:{v.second:02d}Z"'
UTC_TEXT_GUARD = "v.tzinfo is UTC and v.year >= 1000"


def format_utc(value: datetime | None) -> str | None:
    """`YYYY-MM-DDTHH:MM:SSZ` (whole seconds, UTC): strftime's text, in a third of its time (a page
    of orders formats hundreds of these)."""
    if value is None:
        return None
    utc = value if value.tzinfo is UTC else value.astimezone(UTC)
    if utc.year < 1000:  # (strftime does not pad the year)
        return utc.strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        f"{utc.year}-{utc.month:02d}-{utc.day:02d}T{utc.hour:02d}:{utc.minute:02d}:"
        f"{utc.second:02d}Z"
    )


def parse_utc(value: str) -> datetime | None:
    """Parse an ISO 8601 date-time that carries a zone; None when it is not one."""
    text = value.strip()
    if len(text) < 16 or "T" not in text.upper():
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return None
    return parsed.astimezone(UTC)
