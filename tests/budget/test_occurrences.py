"""Occurrence budgeting, with the workbook's worked numbers checked by hand."""

from datetime import datetime, timedelta, timezone

import pytest

from domain.budget import Interval, Ledger, budget_status

from .helpers import MIN, T0, minute, per_minute


def test_999_over_30_days_with_a_million_requests():
    # 99.9% over 30 days, 1,000,000 requests: allowed bad = (1 - 0.999) x 1,000,000 = 1,000.
    # 250 bad -> consumed 250/1000 = 0.25 -> remaining 0.75.
    L = Ledger(0.999, {"kind": "rolling", "days": 30})
    day = timedelta(days=1)
    # ten daily intervals of 100,000 requests; 250 bad in all (100 + 150 on two days)
    for d in range(10):
        bad = {3: 100, 7: 150}.get(d, 0)
        L.record(Interval(T0 + d * day, T0 + (d + 1) * day, 100_000 - bad, 100_000))
    st = budget_status(L, T0 + 10 * day)
    assert (st.good, st.total, st.bad) == (999_750, 1_000_000, 250)
    assert st.allowed_bad == 1000.0
    assert st.spent == 250
    assert st.consumed == 0.25
    assert st.remaining == 0.75  # exact: the arithmetic is rational, not float
    assert st.sli == pytest.approx(0.99975)
    assert st.attainment == st.sli
    assert not st.exhausted
    assert st.window_start == T0 + 10 * day - 30 * day and st.window_end == T0 + 10 * day


def test_no_traffic_means_no_sli_and_a_full_budget():
    L = Ledger(0.999, {"kind": "rolling", "days": 30})
    st = L.status(T0)
    assert st.sli is None and st.remaining == 1.0 and st.allowed_bad == 0.0 and not st.exhausted
    L.record(Interval(T0, T0 + MIN, 0, 0))  # an interval that saw no requests
    st = L.status(T0 + MIN)
    assert st.total == 0 and st.sli is None and st.remaining == 1.0
    assert st.burn_rates["5m"] is None


def test_overspent_budget_goes_negative_and_is_exhausted():
    # 99% of 1,000 allows 10 bad; 25 bad -> consumed 2.5 -> remaining -1.5
    L = Ledger(0.99, {"kind": "calendar_month"})
    L.record(Interval(T0, T0 + MIN, 975, 1000))
    st = L.status(T0 + MIN)
    assert st.remaining == -1.5 and st.consumed == 2.5 and st.exhausted


def test_exactly_spent_is_exhausted():
    # 99.9% of 10,000 allows exactly 10; 10 bad -> remaining exactly 0 (floats would say 8.9e-16)
    L = Ledger(0.999, {"kind": "calendar_month"})
    L.record(Interval(T0, T0 + MIN, 9990, 10000))
    st = L.status(T0 + MIN)
    assert st.remaining == 0.0 and st.exhausted


def test_calendar_month_boundary():
    # Data for Oct 31 23:59-Nov 1 00:00 belongs to October. At Nov 1 00:00 the budget is
    # November's, which has no data yet: remaining 1.0.
    L = Ledger(0.999, {"kind": "calendar_month"})
    oct31 = datetime(2024, 10, 31, 23, 59, tzinfo=timezone.utc)
    nov1 = datetime(2024, 11, 1, tzinfo=timezone.utc)
    L.record(Interval(oct31, nov1, 500, 1000))
    st = L.status(nov1)
    assert (st.window_start, st.window_end) == (nov1, datetime(2024, 12, 1, tzinfo=timezone.utc))
    assert st.total == 0 and st.remaining == 1.0 and not st.exhausted
    # ... but the burn rate is not bounded by the compliance window: the 5m rate sees it
    assert st.burn_rates["5m"] == 500.0  # (500/1000)/0.001
    # the chart shows October's closing balance for that interval: 500 bad of 1 allowed
    (point,) = L.chart()
    assert point.remaining == -499.0 and point.exhausted
    # a minute later in November, still nothing
    L.record(Interval(nov1, nov1 + MIN, 1000, 1000))
    st = L.status(nov1 + MIN)
    assert st.total == 1000 and st.remaining == 1.0


def test_calendar_quarter_accumulates_across_months():
    L = Ledger(0.99, {"kind": "calendar_quarter"})
    L.record(Interval(datetime(2024, 10, 2, tzinfo=timezone.utc), datetime(2024, 10, 2, 0, 1, tzinfo=timezone.utc), 99, 100))
    L.record(Interval(datetime(2024, 11, 2, tzinfo=timezone.utc), datetime(2024, 11, 2, 0, 1, tzinfo=timezone.utc), 99, 100))
    # 2 bad of 200; allowed 2 -> remaining 0
    st = L.status(datetime(2024, 12, 31, tzinfo=timezone.utc))
    assert (st.bad, st.total, st.remaining) == (2, 200, 0.0)
    # Jan 1: a new quarter
    assert L.status(datetime(2025, 1, 1, tzinfo=timezone.utc)).total == 0


def test_status_as_of_ignores_data_that_had_not_ended():
    L = Ledger(0.99, {"kind": "rolling", "days": 1})
    for iv in per_minute(0, [(90, 100), (100, 100), (50, 100)]):
        L.record(iv)
    assert L.status(minute(1)).bad == 10
    assert L.status(minute(2)).bad == 10
    assert L.status(minute(2) + timedelta(seconds=59)).bad == 10
    assert L.status(minute(3)).bad == 60
    assert L.status(minute(3)).last_observation_end == minute(3)
    assert L.status(minute(1)).last_observation_end == minute(1)


def test_rolling_window_membership_by_start():
    # 1-day window as of 24:01: the interval that started at 00:00 has left it, the one at 00:01 is in
    L = Ledger(0.99, {"kind": "rolling", "days": 1})
    for iv in per_minute(0, [(0, 10), (0, 20)]):
        L.record(iv)
    at = minute(24 * 60 + 1)
    assert L.status(at).total == 20
    assert L.status(minute(24 * 60)).total == 30
