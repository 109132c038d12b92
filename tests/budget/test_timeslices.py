"""Timeslice budgeting, against occurrences on the same data, checked by hand."""

from datetime import datetime, timedelta, timezone

import pytest

from domain.budget import Exclusion, Interval, Ledger

from .helpers import MIN, T0, minute, per_minute

TS_1M = {"method": "timeslices", "slice_minutes": 1, "slice_threshold": 0.95}
DAY = {"kind": "rolling", "days": 1}


def hour_of_data():
    # 60 one-minute intervals of 100 requests:
    #   10 minutes with 10 bad (90% good  < 95% -> bad slice)
    #   20 minutes with  3 bad (97% good >= 95% -> good slice)
    #   30 minutes clean
    return per_minute(0, [(90, 100)] * 10 + [(97, 100)] * 20 + [(100, 100)] * 30)


def test_timeslices_and_occurrences_differ_on_the_same_data():
    at = minute(60)
    occ = Ledger(0.99, DAY)
    ts = Ledger(0.99, DAY, TS_1M)
    for iv in hour_of_data():
        occ.record(iv)
        ts.record(iv)

    # Occurrences: total 6,000, bad 10*10 + 20*3 = 160; allowed (1-0.99) x 6,000 = 60
    #   consumed 160/60 = 8/3 -> remaining 1 - 8/3 = -5/3
    o = occ.status(at)
    assert (o.total, o.bad, o.allowed_bad) == (6000, 160, 60.0)
    assert o.remaining == pytest.approx(-5 / 3) and o.exhausted

    # Timeslices: 10 bad slices; slices in a 1-day window = 1,440; allowed (1-0.99) x 1,440 = 14.4
    #   consumed 10/14.4 = 25/36 -> remaining 11/36 = 0.30555...
    t = ts.status(at)
    assert (t.bad_slices, t.good_slices, t.slices_in_window) == (10, 50, 1440.0)
    assert t.allowed_bad == pytest.approx(14.4)
    assert t.spent == 10
    assert t.remaining == pytest.approx(11 / 36) and not t.exhausted
    assert t.slice_sli == pytest.approx(50 / 60) and t.attainment == t.slice_sli
    # the event counts and burn rates are the same for both methods
    assert (t.total, t.bad, t.burn_rates) == (o.total, o.bad, o.burn_rates)


def test_threshold_is_inclusive_and_exact():
    # 95 of 100 good is exactly 0.95: a good slice (>=), despite 0.95 not being exact in binary
    L = Ledger(0.99, DAY, TS_1M)
    L.record(Interval(T0, T0 + MIN, 95, 100))
    L.record(Interval(T0 + MIN, T0 + 2 * MIN, 94, 100))
    st = L.status(T0 + 2 * MIN)
    assert (st.good_slices, st.bad_slices) == (1, 1)


def test_slices_with_several_intervals_and_no_traffic():
    # 5-minute slices, per-minute data. Slice [0,5): 4 clean minutes of 100 plus one of 100 with 30 bad
    # -> 470/500 = 94% < 95% -> bad, although no single minute decides it alone.
    # Slice [5,10): minutes with total 0 -> no data, neither good nor bad.
    L = Ledger(0.999, DAY, {"method": "timeslices", "slice_minutes": 5, "slice_threshold": 0.95})
    for iv in per_minute(0, [(100, 100)] * 4 + [(70, 100)] + [(0, 0)] * 5):
        L.record(iv)
    st = L.status(minute(10))
    assert (st.good_slices, st.bad_slices, st.slice_sli) == (0, 1, 0.0)
    assert st.slices_in_window == 288.0  # 1,440 / 5
    # allowed = 0.001 x 288 = 0.288 slices; 1 bad -> consumed 1/0.288 -> remaining 1 - 3.4722..
    assert st.remaining == pytest.approx(1 - 1 / 0.288)


def test_a_slice_is_judged_only_once_it_has_ended():
    L = Ledger(0.99, DAY, {"method": "timeslices", "slice_minutes": 5, "slice_threshold": 0.95})
    for iv in per_minute(0, [(0, 100)] * 3):
        L.record(iv)
    assert L.status(minute(3)).bad_slices == 0  # slice [0,5) still open
    assert L.status(minute(3)).bad == 300  # ... though the events count at once
    assert L.status(minute(5)).bad_slices == 1


def test_an_interval_straddling_slices_is_split_in_proportion():
    # 1-minute slices; one 2-minute interval [00:00:30, 00:02:30) with 100 requests, 10 bad:
    # slices [0,1) and [2,3) get a quarter each (25 requests, 2.5 bad), [1,2) half.
    # Every share is 90% good -> three bad slices once they have all ended.
    L = Ledger(0.99, DAY, TS_1M)
    s = T0 + timedelta(seconds=30)
    L.record(Interval(s, s + 2 * MIN, 90, 100))
    assert L.status(minute(3)).bad_slices == 3
    # As of 00:02:00 the interval has not been observed: no slices judged from it
    st = L.status(minute(2))
    assert (st.bad_slices, st.good_slices, st.total) == (0, 0, 0)


def test_straddling_interval_is_taken_out_of_past_reads():
    # [0,1) has its own clean data and also receives part of a later interval that straddles
    # a later read time. As of 00:01:00 only the clean data counts.
    L = Ledger(0.99, DAY, TS_1M)
    L.record(Interval(T0, T0 + timedelta(seconds=30), 10, 10))
    L.record(Interval(T0 + timedelta(seconds=30), T0 + timedelta(seconds=90), 0, 100))
    # at 00:01:00, slice [0,1) ended, but the 0/100 interval ends at 00:01:30 -> not yet seen
    st = L.status(T0 + MIN)
    assert (st.good_slices, st.bad_slices) == (1, 0)
    st = L.status(T0 + 2 * MIN)
    # now slice [0,1) = 10 + 0 good of 10 + 50 -> bad; slice [1,2) = 0 of 50 -> bad
    assert (st.good_slices, st.bad_slices) == (0, 2)


def test_calendar_month_timeslice_allowance_counts_the_whole_month():
    # November: 30 x 1,440 = 43,200 one-minute slices; 99.9% -> 43.2 bad slices allowed
    L = Ledger(0.999, {"kind": "calendar_month"}, TS_1M)
    nov1 = datetime(2024, 11, 1, tzinfo=timezone.utc)
    for iv in per_minute(0, [(0, 10)] * 4, base=nov1):
        L.record(iv)
    st = L.status(nov1 + 4 * MIN)
    assert st.slices_in_window == 43200.0 and st.allowed_bad == pytest.approx(43.2)
    assert st.bad_slices == 4 and st.remaining == pytest.approx(1 - 4 / 43.2)


def test_excluded_slices_count_neither_way():
    L = Ledger(0.99, DAY, TS_1M)
    for iv in hour_of_data():
        L.record(iv)
    L.exclude(Exclusion("deploy-window", minute(0), minute(5)))
    st = L.status(minute(60))
    assert (st.bad_slices, st.good_slices) == (5, 50)
    L.restore("deploy-window")
    assert L.status(minute(60)).bad_slices == 10


def test_overlapping_exclusions_on_a_shared_slice():
    # 5-minute slices, threshold 0.9. Slice [0,5) holds a clean minute (10/10) and a bad one
    # (0/10): 10/20 -> bad. Excluding the bad minute under two overlapping exclusions leaves
    # 10/10 -> good; it comes back only when both are restored.
    L = Ledger(0.99, DAY, {"method": "timeslices", "slice_minutes": 5, "slice_threshold": 0.9})
    L.record(Interval(minute(0), minute(1), 10, 10))
    L.record(Interval(minute(1), minute(2), 0, 10))
    assert L.status(minute(5)).bad_slices == 1
    L.exclude(Exclusion("a", minute(1), minute(2)))
    L.exclude(Exclusion("b", minute(0) + timedelta(seconds=30), minute(3)))
    st = L.status(minute(5))
    assert (st.good_slices, st.bad_slices) == (1, 0)
    L.restore("a")
    assert L.status(minute(5)).bad_slices == 0
    L.restore("b")
    assert L.status(minute(5)).bad_slices == 1


def test_chart_point_of_an_interval_straddling_the_month_end():
    # One 10-minute interval Oct 31 23:55 -> Nov 1 00:05, all bad, 1-minute slices. It belongs
    # to October (by its start); its chart point shows October's balance: the 5 October slices
    # are bad, the November slices are November's business. October: 31 x 1,440 = 44,640
    # slices, 99.9% -> 44.64 allowed -> remaining 1 - 5/44.64.
    L = Ledger(0.999, {"kind": "calendar_month"}, TS_1M)
    nov1 = datetime(2024, 11, 1, tzinfo=timezone.utc)
    L.record(Interval(nov1 - 5 * MIN, nov1 + 5 * MIN, 0, 100))
    (point,) = L.chart()
    assert point.remaining == pytest.approx(1 - 5 / 44.64)
    assert point.debit == pytest.approx(5 / 44.64)
    # November's status sees its own 5 bad slices (the interval's counts split by time)
    st = L.status(nov1 + 5 * MIN)
    assert st.bad_slices == 5 and st.total == 0  # events count by start: October's
