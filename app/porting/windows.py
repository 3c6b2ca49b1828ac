"""FOC windows (pure): the dates an order's activation may be set to, and where a requested
date lands (CONTRACT.md §6).

An allowed date is a business day of the service address (weekends and the public holidays of
its country and region skipped, app/porting/dates.py) from the earliest activation date on, at
most HORIZON_DAYS calendar days from now. A requested date on a weekend or holiday moves to the
next allowed date (same UTC time of day), one before the earliest date moves up to it, and
either way the order says why (`activation_date_reason`); one beyond the horizon, or whose next
allowed date is, is refused (21814). Days are counted on the UTC calendar, as everywhere in
dates.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from app.porting.dates import holiday_name, is_business_day
from app.porting.errors import PortingError

HORIZON_DAYS = 30
MAX_WINDOWS = HORIZON_DAYS + 1
_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class Placed:
    """Where a requested activation date landed, and why it moved (None: it did not)."""

    activation_date: datetime | None
    reason: str | None = None


def horizon(now: datetime) -> datetime:
    """The last moment an activation date may be requested for: the end of the UTC day
    HORIZON_DAYS after `now`."""
    last_day = (now.astimezone(UTC) + timedelta(days=HORIZON_DAYS)).date()
    return datetime(last_day.year, last_day.month, last_day.day, 23, 59, 59, tzinfo=UTC)


def too_far() -> PortingError:
    return PortingError(
        21814,
        f"Activation date invalid: at most {HORIZON_DAYS} days from now (see the order's "
        "ActivationWindows for the allowed dates)",
        "activation_date",
    )


def next_allowed(start: datetime, iso_country: str, region: str | None) -> datetime:
    """`start` if its UTC day is a business day, else the next business day, same time."""
    current = start.astimezone(UTC)
    while not is_business_day(current.date(), iso_country, region):
        current += timedelta(days=1)
    return current


def _why_not(day: datetime, iso_country: str, region: str | None) -> str:
    name = holiday_name(day.date(), iso_country, region)
    if name is not None:
        return f"a public holiday ({name})"
    return f"a {_DAY_NAMES[day.weekday()]}"


def place(
    requested: datetime | None,
    earliest: datetime,
    iso_country: str,
    region: str | None,
    now: datetime | None = None,
) -> Placed:
    """Where `requested` lands. With `now`, a date past the horizon is 21814 (a new request);
    without, it is not checked (a date accepted before, placed again at submission)."""
    if requested is None:
        return Placed(None)
    requested = requested.astimezone(UTC)
    if now is not None and requested > horizon(now):
        raise too_far()
    if requested < earliest:
        moved = next_allowed(earliest, iso_country, region)
        return Placed(
            moved,
            f"Requested {requested.date().isoformat()} is before the earliest activation date; "
            f"moved to {moved.date().isoformat()}",
        )
    moved = next_allowed(requested, iso_country, region)
    if moved == requested:
        return Placed(requested)
    if now is not None and moved > horizon(now):
        raise too_far()  # the next allowed date is past the horizon: no allowed date is left
    return Placed(
        moved,
        f"Requested {requested.date().isoformat()} is {_why_not(requested, iso_country, region)}"
        f" in {iso_country.upper()}{'-' + region.upper() if region else ''}; moved to the next "
        f"business day, {moved.date().isoformat()}",
    )


def windows(
    earliest: datetime, now: datetime, iso_country: str, region: str | None, limit: int
) -> list[datetime]:
    """The next allowed activation dates, at most `limit`: each business day from the earliest
    date (or now, if later) to the horizon, at the earliest date's UTC time of day."""
    current = max(earliest.astimezone(UTC), now.astimezone(UTC))
    last = horizon(now)
    out: list[datetime] = []
    while current <= last and len(out) < limit:
        if is_business_day(current.date(), iso_country, region):
            out.append(current)
        current += timedelta(days=1)
    return out
