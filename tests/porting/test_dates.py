"""Earliest activation dates: business days, weekends and public holidays (CONTRACT.md §6)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from app.porting.dates import (
    DEFAULT_BUSINESS_DAYS,
    add_business_days,
    earliest_activation_date,
    effective_activation_date,
    is_business_day,
)
from app.porting.statuses import PortType


def utc(year: int, month: int, day: int, hour: int = 15, minute: int = 30) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (utc(2026, 3, 2), 0, utc(2026, 3, 2)),  # Monday, nothing to add
        (utc(2026, 3, 2), 1, utc(2026, 3, 3)),  # Monday -> Tuesday
        (utc(2026, 3, 5), 1, utc(2026, 3, 6)),  # Thursday -> Friday
        (utc(2026, 3, 6), 1, utc(2026, 3, 9)),  # Friday -> Monday
        (utc(2026, 3, 6), 3, utc(2026, 3, 11)),  # Friday -> Wednesday
        (utc(2026, 3, 7), 1, utc(2026, 3, 9)),  # Saturday -> Monday
        (utc(2026, 3, 8), 1, utc(2026, 3, 9)),  # Sunday -> Monday
        (utc(2026, 3, 2), 10, utc(2026, 3, 16)),  # two whole weeks
    ],
)
def test_weekends_are_skipped(start: datetime, days: int, expected: datetime) -> None:
    assert add_business_days(start, days, "US") == expected


def test_thanksgiving_is_skipped() -> None:
    # Wed 2026-11-25; Thu 26 is Thanksgiving; Fri 27, Mon 30, Tue Dec 1 are business days.
    assert add_business_days(utc(2026, 11, 25), 3, "US") == utc(2026, 12, 1)


def test_state_holidays_apply_when_the_region_is_known() -> None:
    # California also observes the day after Thanksgiving.
    assert add_business_days(utc(2026, 11, 25), 3, "US", "CA") == utc(2026, 12, 2)
    assert add_business_days(utc(2026, 11, 25), 3, "us", "us-ca") == utc(2026, 12, 2)


def test_unknown_region_falls_back_to_national_holidays() -> None:
    assert add_business_days(utc(2026, 11, 25), 3, "US", "Atlantis") == utc(2026, 12, 1)


def test_holidays_across_the_new_year() -> None:
    # Thu 2026-12-24 -> Fri 25 Christmas, weekend, Mon 28 .. Thu 31, Fri 2027-01-01 New Year.
    assert add_business_days(utc(2026, 12, 24), 5, "US") == utc(2027, 1, 4)


def test_other_countries_use_their_own_holidays() -> None:
    # Easter Monday 2026 is 6 April: a holiday in Germany and England, a working day in the
    # US and Scotland (the GB national calendar holds only the UK-wide bank holidays).
    start = utc(2026, 4, 3)  # Good Friday
    assert add_business_days(start, 1, "US") == utc(2026, 4, 6)
    assert add_business_days(start, 1, "DE") == utc(2026, 4, 7)
    assert add_business_days(start, 1, "GB", "ENG") == utc(2026, 4, 7)
    assert add_business_days(start, 1, "GB", "SCT") == utc(2026, 4, 6)


def test_country_without_holiday_data_skips_weekends_only() -> None:
    # "XX" is a user-assigned code: no calendar exists, so Thanksgiving week is ordinary.
    assert add_business_days(utc(2026, 11, 25), 3, "XX") == utc(2026, 11, 30)
    assert add_business_days(utc(2026, 11, 25), 3, "XX", "CA") == utc(2026, 11, 30)


def test_result_is_utc_and_keeps_the_time_of_day() -> None:
    start = datetime(2026, 3, 2, 9, 15, tzinfo=timezone(timedelta(hours=-5)))  # 14:15 UTC
    result = add_business_days(start, 1, "US")
    assert result == utc(2026, 3, 3, 14, 15)
    assert result.tzinfo is UTC


def test_naive_start_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        add_business_days(datetime(2026, 3, 2, 12, 0), 1, "US")
    with pytest.raises(ValueError):
        earliest_activation_date(datetime(2026, 3, 2), PortType.MOBILE, "US")


def test_negative_days_are_refused() -> None:
    with pytest.raises(ValueError):
        add_business_days(utc(2026, 3, 2), -1, "US")


@pytest.mark.parametrize(
    ("port_type", "expected"),
    [
        (PortType.MOBILE, utc(2026, 3, 3)),
        (PortType.LANDLINE, utc(2026, 3, 5)),
        (PortType.UNKNOWN, utc(2026, 3, 5)),
        (PortType.TOLL_FREE, utc(2026, 3, 9)),
    ],
)
def test_earliest_activation_date_defaults(port_type: PortType, expected: datetime) -> None:
    assert earliest_activation_date(utc(2026, 3, 2), port_type, "US") == expected


def test_default_business_days() -> None:
    assert dict(DEFAULT_BUSINESS_DAYS) == {
        PortType.LANDLINE: 3,
        PortType.MOBILE: 1,
        PortType.TOLL_FREE: 5,
        PortType.UNKNOWN: 3,
    }


def test_earliest_activation_date_with_configured_days() -> None:
    settings = {**DEFAULT_BUSINESS_DAYS, PortType.MOBILE: 2}
    assert earliest_activation_date(utc(2026, 3, 2), PortType.MOBILE, "US", None, settings) == utc(
        2026, 3, 4
    )
    # A setting that leaves a type out falls back to the default for it.
    partial = {PortType.LANDLINE: 1}
    assert earliest_activation_date(utc(2026, 3, 2), PortType.TOLL_FREE, "US", None, partial) == (
        utc(2026, 3, 9)
    )


def test_earliest_activation_date_respects_regional_holidays() -> None:
    start = utc(2026, 11, 25)
    assert earliest_activation_date(start, PortType.MOBILE, "US") == utc(2026, 11, 27)
    assert earliest_activation_date(start, PortType.MOBILE, "US", "CA") == utc(2026, 11, 30)


@pytest.mark.parametrize(
    ("requested", "earliest", "expected"),
    [
        (None, utc(2026, 3, 5), None),
        (utc(2026, 3, 10), utc(2026, 3, 5), utc(2026, 3, 10)),  # later: kept
        (utc(2026, 3, 1), utc(2026, 3, 5), utc(2026, 3, 5)),  # earlier: replaced
        (utc(2026, 3, 5), utc(2026, 3, 5), utc(2026, 3, 5)),
        (
            datetime(2026, 3, 10, 1, 0, tzinfo=timezone(timedelta(hours=9))),
            utc(2026, 3, 5),
            utc(2026, 3, 9, 16, 0),
        ),
    ],
)
def test_effective_activation_date(
    requested: datetime | None, earliest: datetime, expected: datetime | None
) -> None:
    result = effective_activation_date(requested, earliest)
    assert result == expected
    assert result is None or result.tzinfo is UTC


def test_effective_activation_date_refuses_naive_dates() -> None:
    with pytest.raises(ValueError):
        effective_activation_date(datetime(2026, 3, 10), utc(2026, 3, 5))


@pytest.mark.parametrize(
    ("day", "country", "region", "expected"),
    [
        (datetime(2026, 11, 26).date(), "US", None, False),
        (datetime(2026, 11, 27).date(), "US", None, True),
        (datetime(2026, 11, 27).date(), "US", "CA", False),
        (datetime(2026, 11, 28).date(), "XX", None, False),
        (datetime(2026, 11, 26).date(), "XX", None, True),
    ],
)
def test_is_business_day(day: object, country: str, region: str | None, expected: bool) -> None:
    assert is_business_day(day, country, region) is expected  # type: ignore[arg-type]
