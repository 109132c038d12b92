"""Calendar windows of a zone and rolling windows of any duration in the ledger: the
period bounds (a month is a month, DST, a leap year), the refusals, and a budget that
exhausts in one period and starts afresh at the next one's first instant, in data time."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from domain.budget import BudgetInputError, Interval, Ledger, parse_window
from domain.budget.burn import check_tiers_fit, parse_tiers
from domain.budget.instants import to_us
from domain.budget.transitions import DerivedFlags
from domain.budget.walk import walk

UTC = timezone.utc
HOUR = timedelta(hours=1)


def cal(duration: str, start: str, zone: str) -> dict:
    return {"kind": "calendar", "duration": duration, "start": start, "time_zone": zone}


def bounds(window: dict, at: datetime) -> tuple[datetime, datetime]:
    status = Ledger(0.99, window).status(at)
    return status.window_start, status.window_end


def test_a_calendar_month_in_berlin_is_march_local_time_across_the_dst_change():
    ws, we = bounds(cal("1M", "2026-01-01T00:00:00", "Europe/Berlin"), datetime(2026, 3, 31, 21, tzinfo=UTC))
    assert (ws, we) == (datetime(2026, 2, 28, 23, tzinfo=UTC), datetime(2026, 3, 31, 22, tzinfo=UTC))
    assert we - ws == timedelta(days=31) - HOUR  # spring forward: one hour short
    # 22:00 UTC is April 1st 00:00 in Berlin: April's budget, still empty.
    assert bounds(cal("1M", "2026-01-01T00:00:00", "Europe/Berlin"), datetime(2026, 3, 31, 22, tzinfo=UTC))[0] == we


def test_a_month_is_not_30_days_and_february_2028_has_29():
    ws, we = bounds(cal("1M", "2028-01-31T00:00:00", "UTC"), datetime(2028, 2, 10, tzinfo=UTC))
    assert (ws, we) == (datetime(2028, 1, 31, tzinfo=UTC), datetime(2028, 2, 29, tzinfo=UTC))  # from the 31st, clamped
    ws, we = bounds(cal("1M", "2028-01-01T00:00:00", "UTC"), datetime(2028, 2, 10, tzinfo=UTC))
    assert we - ws == timedelta(days=29)


@pytest.mark.parametrize("duration, start, at, expected", [
    ("1w", "2026-01-05T00:00:00", datetime(2026, 3, 11, tzinfo=UTC),  # Mondays, New York
     (datetime(2026, 3, 9, 4, tzinfo=UTC), datetime(2026, 3, 16, 4, tzinfo=UTC))),
    ("1Q", "2026-01-01T00:00:00", datetime(2026, 5, 10, tzinfo=UTC),
     (datetime(2026, 4, 1, 4, tzinfo=UTC), datetime(2026, 7, 1, 4, tzinfo=UTC))),
    ("1Y", "2026-01-01T00:00:00", datetime(2026, 12, 31, 23, tzinfo=UTC),
     (datetime(2026, 1, 1, 5, tzinfo=UTC), datetime(2027, 1, 1, 5, tzinfo=UTC))),
])
def test_week_quarter_and_year_in_new_york(duration, start, at, expected):
    assert bounds(cal(duration, start, "America/New_York"), at) == expected


@pytest.mark.parametrize("duration, length", [("90m", timedelta(minutes=90)), ("12h", 12 * HOUR),
                                              ("28d", timedelta(days=28)), ("4w", timedelta(weeks=4))])
def test_rolling_windows_of_any_fixed_duration(duration, length):
    at = datetime(2026, 3, 29, 12, tzinfo=UTC)
    assert bounds({"kind": "rolling", "duration": duration}, at) == (at - length, at)


@pytest.mark.parametrize("window, field", [
    ({"kind": "rolling", "duration": "1M"}, "window.duration"),
    ({"kind": "rolling", "duration": "367d"}, "window.duration"),
    ({"kind": "rolling", "days": 7, "duration": "7d"}, "window.duration"),
    ({"kind": "calendar", "duration": "1M", "start": "2026-01-01T00:00:00"}, "window.time_zone"),
    ({"kind": "calendar", "duration": "1M", "start": "2026-01-01T00:00:00", "time_zone": "Mars/Olympus"}, "window.time_zone"),
    ({"kind": "calendar", "duration": "1M", "start": "2026-01-01T00:00:00+01:00", "time_zone": "UTC"}, "window.start"),
    ({"kind": "calendar", "duration": "13M", "start": "2026-01-01T00:00:00", "time_zone": "UTC"}, "window.duration"),
    ({"kind": "calendar", "duration": "1mo", "start": "2026-01-01T00:00:00", "time_zone": "UTC"}, "window.duration"),
    ({"kind": "calendar_month", "duration": "1M"}, "window.duration"),
])
def test_windows_out_of_range_are_refused_naming_the_field(window, field):
    with pytest.raises(BudgetInputError) as e:
        parse_window(window)
    assert e.value.field == field


def test_tiers_must_fit_the_shortest_period():
    week = cal("1w", "2026-01-05T00:00:00", "Europe/Berlin")
    check_tiers_fit(parse_tiers([{"severity": "ticket", "long_window": "7d", "short_window": "6h", "threshold": 1}]), week)
    with pytest.raises(BudgetInputError, match="longer than the objective's window"):
        check_tiers_fit(parse_tiers(None), cal("1d", "2026-01-05T00:00:00", "UTC"))  # the 3d ticket tier


def test_exhausted_in_one_period_recovers_at_the_first_instant_of_the_next_in_data_time():
    """99% over calendar days of Berlin (midnight local = 23:00 UTC in winter). Bad data
    exhausts Jan 10; at 23:00 UTC, the end of Jan 10's last hour, the budget is Jan 11's,
    still empty: recovered then, whether the data came one request or all at once."""
    window = cal("1d", "2026-01-01T00:00:00", "Europe/Berlin")
    boundary = datetime(2026, 1, 10, 23, tzinfo=UTC)
    hours = [Interval(boundary - (3 - h) * HOUR, boundary - (2 - h) * HOUR, 900 if h == 0 else 1000, 1000)
             for h in range(5)]  # 20:00-01:00 UTC, the first hour 10% bad

    def derived(batches: list[list[Interval]]) -> list[tuple[str, datetime]]:
        ledger, flags, out = Ledger(0.99, window, tiers=[]), DerivedFlags(False, (), False), []
        for batch in batches:
            ledger.record_batch(batch)
            for step in walk(ledger, flags, [to_us(iv.end) for iv in batch]):
                out += [(t.kind, step.status.at) for t in step.transitions]
                flags = DerivedFlags(step.status.exhausted, step.status.alerts, step.status.stale)
        return out

    expected = [("budget_exhausted", boundary - 2 * HOUR), ("budget_recovered", boundary)]
    assert derived([[iv] for iv in hours]) == expected
    assert derived([hours]) == expected
    assert derived([hours[:3], hours[3:]]) == expected
    status = Ledger(0.99, window, tiers=[])
    status.record_batch(hours)
    assert status.status(boundary + 2 * HOUR).window_start == boundary
