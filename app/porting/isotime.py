"""ISO 8601 in UTC, the way the API writes times: `2026-11-26T14:05:41Z`."""

from __future__ import annotations

from datetime import UTC, datetime


def format_utc(value: datetime | None) -> str | None:
    """`YYYY-MM-DDTHH:MM:SSZ` (whole seconds, UTC): strftime's text, in half its time (a page
    of orders formats hundreds of these)."""
    if value is None:
        return None
    utc = value.astimezone(UTC)
    if utc.year < 1000:  # (strftime does not pad the year)
        return utc.strftime("%Y-%m-%dT%H:%M:%SZ")
    return utc.replace(microsecond=0, tzinfo=None).isoformat() + "Z"


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
