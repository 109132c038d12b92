"""Calendar and rolling windows as OpenSLO writes them, across DST and a leap year."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings, strategies as st

from domain.budget.calendar import (
    CalendarWindow,
    Duration,
    add_months,
    duration_of_minutes,
    parse_duration,
    rolling_window,
)
from domain.budget.errors import BudgetInputError

UTC = timezone.utc


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize("text, count, unit", [("5m", 5, "m"), ("1h", 1, "h"), ("28d", 28, "d"), ("4w", 4, "w"),
                                              ("1M", 1, "M"), ("1Q", 1, "Q"), ("1Y", 1, "Y"), ("365d", 365, "d")])
def test_shorthand_parses_and_prints_back(text: str, count: int, unit: str) -> None:
    d = parse_duration(text)
    assert (d.count, d.unit) == (count, unit)
    assert str(d) == text


@pytest.mark.parametrize("text", ["", "0d", "30", "d", "1.5h", "30D", "1s", " 1h", "-1h", "01h", 30])
def test_bad_shorthand_is_refused(text: object) -> None:
    with pytest.raises(BudgetInputError):
        parse_duration(text)


def test_minutes_is_case_sensitive_against_months() -> None:
    assert parse_duration("1m").minutes == 1
    with pytest.raises(BudgetInputError, match="no fixed length"):
        parse_duration("1M").minutes


def test_rolling_window_is_elapsed_time() -> None:
    at = utc(2026, 3, 30, 12)
    assert rolling_window(parse_duration("4w"), at) == (at - timedelta(days=28), at)
    assert rolling_window(parse_duration("90m"), at) == (at - timedelta(minutes=90), at)
    with pytest.raises(BudgetInputError, match="rolling"):
        rolling_window(parse_duration("1M"), at)


@given(st.integers(min_value=1, max_value=10**6))
def test_shortest_shorthand_has_the_same_minutes(minutes: int) -> None:
    d = duration_of_minutes(minutes)
    assert d.minutes == minutes
    assert parse_duration(str(d)) == d


def berlin(duration: str, start: datetime = datetime(2026, 1, 1)) -> CalendarWindow:
    return CalendarWindow(parse_duration(duration), start, "Europe/Berlin")


def test_calendar_month_in_berlin_starts_at_local_midnight() -> None:
    # March 2026 in Berlin: from 00:00 CET (23:00 UTC Feb 28) to 00:00 CEST (22:00 UTC Mar 31).
    start, end = berlin("1M").containing(utc(2026, 3, 15))
    assert (start, end) == (utc(2026, 2, 28, 23), utc(2026, 3, 31, 22))
    assert end - start == timedelta(days=31, hours=-1)  # the spring-forward hour is missing


def test_calendar_day_across_spring_forward_is_23_hours_and_autumn_25() -> None:
    spring = berlin("1d").containing(utc(2026, 3, 29, 10))
    autumn = berlin("1d").containing(utc(2026, 10, 25, 10))
    assert spring == (utc(2026, 3, 28, 23), utc(2026, 3, 29, 22))
    assert spring[1] - spring[0] == timedelta(hours=23)
    assert autumn == (utc(2026, 10, 24, 22), utc(2026, 10, 25, 23))
    assert autumn[1] - autumn[0] == timedelta(hours=25)


def test_instant_just_before_local_midnight_belongs_to_the_old_month() -> None:
    w = berlin("1M")
    assert w.containing(utc(2026, 3, 31, 21, 59))[0] == utc(2026, 2, 28, 23)
    assert w.containing(utc(2026, 3, 31, 22, 0))[0] == utc(2026, 3, 31, 22)  # April, local midnight


def test_calendar_week_in_new_york_across_the_dst_change() -> None:
    # Weeks from Monday 2026-03-02 09:00 New York; DST starts Sunday 2026-03-08.
    w = CalendarWindow(parse_duration("1w"), datetime(2026, 3, 2, 9), "America/New_York")
    start, end = w.containing(utc(2026, 3, 10))
    assert start == utc(2026, 3, 9, 13)  # 09:00 EDT
    assert end == utc(2026, 3, 16, 13)
    before = w.containing(utc(2026, 3, 5))
    assert before == (utc(2026, 3, 2, 14), utc(2026, 3, 9, 13))  # 09:00 EST to 09:00 EDT
    assert before[1] - before[0] == timedelta(days=7, hours=-1)


def test_february_2028_is_29_days_and_a_quarter_is_calendar_months() -> None:
    month = CalendarWindow(parse_duration("1M"), datetime(2028, 1, 1), "UTC").containing(utc(2028, 2, 29, 23))
    assert month == (utc(2028, 2, 1), utc(2028, 3, 1))
    assert month[1] - month[0] == timedelta(days=29)
    quarter = CalendarWindow(parse_duration("1Q"), datetime(2028, 1, 1), "UTC").containing(utc(2028, 2, 29))
    assert quarter == (utc(2028, 1, 1), utc(2028, 4, 1))
    assert quarter[1] - quarter[0] == timedelta(days=91)
    year = CalendarWindow(parse_duration("1Y"), datetime(2026, 1, 1), "UTC").containing(utc(2028, 6, 1))
    assert year[1] - year[0] == timedelta(days=366)


def test_month_from_the_31st_lands_on_the_last_day_without_drifting() -> None:
    assert add_months(datetime(2028, 1, 31, 8), 1) == datetime(2028, 2, 29, 8)
    w = CalendarWindow(parse_duration("1M"), datetime(2028, 1, 31), "UTC")
    assert w.period(1) == (utc(2028, 2, 29), utc(2028, 3, 31))  # back to the 31st in March
    assert w.period(3) == (utc(2028, 4, 30), utc(2028, 5, 31))


def test_start_time_in_the_spring_gap_means_the_instant_after_it() -> None:
    # 02:30 does not exist in Berlin on 2026-03-29; fold=0 reads it with the winter offset.
    w = CalendarWindow(parse_duration("1d"), datetime(2026, 3, 29, 2, 30), "Europe/Berlin")
    assert w.period(0)[0] == utc(2026, 3, 29, 1, 30)  # = 03:30 CEST


def test_hours_step_in_elapsed_time_across_dst() -> None:
    w = CalendarWindow(parse_duration("6h"), datetime(2026, 3, 29), "Europe/Berlin")
    assert w.period(1)[0] - w.period(0)[0] == timedelta(hours=6)


def test_calendar_window_refuses_unknown_zone_and_aware_start() -> None:
    with pytest.raises(BudgetInputError, match="unknown IANA"):
        CalendarWindow(parse_duration("1M"), datetime(2026, 1, 1), "Mars/Olympus")
    with pytest.raises(BudgetInputError, match="without a zone"):
        CalendarWindow(parse_duration("1M"), datetime(2026, 1, 1, tzinfo=UTC), "UTC")


ZONES = st.sampled_from(["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "UTC", "Asia/Kathmandu"])
DURATIONS = st.builds(Duration, st.integers(1, 5), st.sampled_from(["h", "d", "w", "M", "Q", "Y"]))


@settings(max_examples=100, deadline=None)
@given(DURATIONS, ZONES,
       st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1)),
       st.datetimes(min_value=datetime(2015, 1, 1), max_value=datetime(2035, 1, 1)))
def test_the_window_contains_the_instant_and_periods_tile(duration: Duration, zone: str, start: datetime,
                                                           at: datetime) -> None:
    w = CalendarWindow(duration, start.replace(second=0, microsecond=0), zone)
    instant = at.replace(tzinfo=UTC)
    lo, hi = w.containing(instant)
    assert lo <= instant < hi
    # the next period starts where this one ends: no gap, no overlap
    assert w.containing(hi)[0] == hi
    assert w.containing(lo - timedelta(microseconds=1))[1] == lo
