"""Activation dates (CONTRACT.md §6): business days, public holidays, the earliest FOC date.

Pure: no I/O (the holiday calendars are computed by the `holidays` package, in memory).
Days are counted on the UTC calendar: the start is converted to UTC, whole days are added,
and the result keeps the start's UTC time of day.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from types import MappingProxyType

import holidays

from app.porting.statuses import PortType

DEFAULT_BUSINESS_DAYS: Mapping[PortType, int] = MappingProxyType(
    {
        PortType.LANDLINE: 3,
        PortType.MOBILE: 1,
        PortType.TOLL_FREE: 5,
        PortType.UNKNOWN: 3,
    }
)

_SATURDAY = 5


def add_business_days(
    start: datetime, days: int, iso_country: str, region: str | None = None
) -> datetime:
    """`start` plus `days` business days, skipping weekends and the country's public holidays.

    `region` picks the holidays of a subdivision where the `holidays` package knows it (e.g. a
    US state code, "CA" or "US-CA"); otherwise the national calendar applies. A country the
    package does not know has no holidays: only weekends are skipped. With `days` = 0 the start
    itself is returned (in UTC).
    """
    _require_aware(start, "start")
    if days < 0:
        raise ValueError("days must not be negative")
    country = iso_country.strip().upper()
    subdiv = _subdivision(country, region)
    current = start.astimezone(UTC)
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if _is_business_day(current.date(), country, subdiv):
            remaining -= 1
    return current


def earliest_activation_date(
    start: datetime,
    port_type: PortType,
    iso_country: str,
    region: str | None = None,
    business_days: Mapping[PortType, int] = DEFAULT_BUSINESS_DAYS,
) -> datetime:
    """The earliest FOC date for an order submitted at `start` (or, before submission, now)."""
    days = business_days.get(port_type, DEFAULT_BUSINESS_DAYS[port_type])
    return add_business_days(start, days, iso_country, region)


def effective_activation_date(requested: datetime | None, earliest: datetime) -> datetime | None:
    """The requested date, or `earliest` when the request is earlier; None when none requested."""
    if requested is None:
        return None
    _require_aware(requested, "requested")
    _require_aware(earliest, "earliest")
    return max(requested, earliest).astimezone(UTC)


def is_business_day(day: date, iso_country: str, region: str | None = None) -> bool:
    """Not a Saturday, a Sunday, or a public holiday of the country (or its subdivision)."""
    country = iso_country.strip().upper()
    return _is_business_day(day, country, _subdivision(country, region))


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")


def _is_business_day(day: date, country: str, subdiv: str | None) -> bool:
    return day.weekday() < _SATURDAY and day not in _holiday_dates(country, subdiv, day.year)


@lru_cache(maxsize=1)
def _supported() -> Mapping[str, Mapping[str, str]]:
    """country -> {upper-cased subdivision code -> the package's own spelling}."""
    return {
        country: {code.upper(): code for code in subdivs}
        for country, subdivs in holidays.list_supported_countries(include_aliases=False).items()
    }


def _subdivision(country: str, region: str | None) -> str | None:
    """The `holidays` subdivision code for `region`, or None for the national calendar."""
    if not region:
        return None
    key = region.strip().upper().removeprefix(f"{country}-")
    return _supported().get(country, {}).get(key)


@lru_cache(maxsize=256)
def _holiday_dates(country: str, subdiv: str | None, year: int) -> frozenset[date]:
    if country not in _supported():
        return frozenset()
    try:
        calendar = holidays.country_holidays(country, subdiv=subdiv, years=year)
    except NotImplementedError:
        return frozenset()
    return frozenset(calendar.keys())


def holiday_name(day: date, iso_country: str, region: str | None = None) -> str | None:
    """The public holiday's name on `day` (the country's or its subdivision's), or None."""
    country = iso_country.strip().upper()
    subdiv = _subdivision(country, region)
    if day not in _holiday_dates(country, subdiv, day.year):
        return None
    try:
        calendar = holidays.country_holidays(country, subdiv=subdiv, years=day.year)
    except NotImplementedError:
        return None
    name = calendar.get(day)
    return str(name) if name else None
