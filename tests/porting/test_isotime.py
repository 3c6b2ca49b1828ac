"""format_utc writes what strftime("%Y-%m-%dT%H:%M:%SZ") writes in UTC, for any date-time
(aware in any zone, or naive: local time), microseconds dropped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from app.porting.isotime import UTC_TEXT, UTC_TEXT_GUARD, format_utc

zones = st.one_of(
    st.none(),
    st.just(UTC),  # (the common case, formatted without a conversion)
    st.integers(min_value=-14 * 60, max_value=14 * 60).map(
        lambda m: timezone(timedelta(minutes=m))
    ),
)


@given(st.datetimes(min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 31)), zones)
def test_the_same_text_as_strftime(value: datetime, zone: timezone | None) -> None:
    moment = value if zone is None else value.replace(tzinfo=zone)
    assert format_utc(moment) == moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_none_and_an_example() -> None:
    assert format_utc(None) is None
    assert (
        format_utc(datetime(2026, 12, 1, 15, 4, 5, 999_999, tzinfo=UTC)) == "2026-12-01T15:04:05Z"
    )


@given(st.datetimes(min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 31)), zones)
def test_the_inline_text_is_format_utc_where_its_guard_accepts(
    value: datetime, zone: timezone | None
) -> None:
    """UTC_TEXT (written inline by compiled GraphQL plans) gives format_utc's text for every
    value UTC_TEXT_GUARD accepts; the rest go to format_utc itself."""
    v = value if zone is None else value.replace(tzinfo=zone)
    names = {"v": v, "UTC": UTC}
    if eval(UTC_TEXT_GUARD, {}, names):  # noqa: S307 (our own constant expressions)
        assert eval(UTC_TEXT, {}, names) == format_utc(v)  # noqa: S307
