"""ISO 8601 in UTC, the way the API writes times: `2026-11-26T14:05:41Z`."""

from __future__ import annotations

from datetime import UTC, datetime


def format_utc(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


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
