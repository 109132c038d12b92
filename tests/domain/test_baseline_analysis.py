"""Baseline from history: attainment by day and week, worst windows, and candidate
targets judged by the real budget ledger."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from domain.baseline_analysis import analyse
from domain.errors import InvalidInput

START = datetime(2026, 1, 5, tzinfo=timezone.utc)  # a Monday
MIN = timedelta(minutes=1)
WINDOW = {"kind": "rolling", "days": 30}


def history() -> dict[datetime, tuple[int, int]]:
    """Three days at 100 requests a minute; on day 2, 50 bad a minute from 10:00 to 10:30
    and 10 bad at 14:05 (1,510 bad in all)."""
    out = {}
    for m in range(3 * 1440):
        at = START + m * MIN
        bad = 0
        if at.day == 6 and at.hour == 10 and at.minute < 30:
            bad = 50
        if at.day == 6 and at.hour == 14 and at.minute == 5:
            bad = 10
        out[at] = (100 - bad, 100)
    return out


def test_attainment_by_period_and_the_worst_windows():
    a = analyse(history(), window=WINDOW)
    assert (a.period.start, a.period.end, a.period.good, a.period.total) == (START, START + timedelta(days=3), 432_000 - 1_510, 432_000)
    assert a.minutes_with_data == 4320
    assert [(d.start.day, d.good, d.total) for d in a.days] == [(5, 144_000, 144_000), (6, 144_000 - 1_510, 144_000), (7, 144_000, 144_000)]
    [week] = a.weeks
    assert (week.start, week.end, week.good) == (START, START + timedelta(days=3), 432_000 - 1_510)
    assert [(h.start.day, h.start.hour, h.good) for h in a.worst_hours] == [(6, 10, 6000 - 1500), (6, 14, 5990), (5, 0, 6000)]
    assert a.worst_days[0].start == START + timedelta(days=1)


def test_candidate_targets_through_the_budget_ledger():
    a = analyse(history(), window=WINDOW, candidates=(0.99, 0.995, 0.999))
    loose, mid, tight = a.candidates
    # 1% of everything seen so far always exceeds 1,510 by the incident (>= 2,100 by then).
    assert (loose.exhausted, loose.exhaustions, loose.exhausted_at_end) == (0, 0, False)
    # 0.5%: 30 allowed per hour of history; exhausted from 11:00 on day 2 (hour 35) until
    # the allowance passes 1,510 at hour 51.
    assert loose.judged == mid.judged == 72
    assert (mid.exhausted, mid.exhaustions, mid.first_exhausted_at, mid.exhausted_at_end) == (
        16, 1, START + timedelta(hours=35), False)
    # 0.1%: never recovers within the period -- breached from the day it is agreed.
    assert (tight.exhaustions, tight.first_exhausted_at, tight.exhausted_at_end) == (1, START + timedelta(hours=35), True)
    assert tight.exhausted == 72 - 34 and tight.min_remaining < mid.min_remaining < 0 < loose.min_remaining


def test_timeslice_budgeting_is_judged_by_the_same_ledger():
    a = analyse(history(), window=WINDOW, budgeting={"method": "timeslices", "slice_minutes": 5, "slice_threshold": 0.9},
                candidates=(0.999, 0.9995))
    # Six bad 5-minute slices (10:00-10:30; the one at 14:05 stays at 98%) against a
    # fixed allowance: 0.1% of the 30-day window's 8,640 slices is 8.64, 0.05% is 4.32.
    fits, breached = a.candidates
    assert fits.exhaustions == 0 and fits.min_remaining == pytest.approx(1 - 6 / 8.64)
    assert breached.exhaustions == 1 and breached.first_exhausted_at == START + timedelta(hours=35) and breached.exhausted_at_end


@pytest.mark.parametrize("minutes,message", [
    ({datetime(2026, 1, 5): (1, 1)}, "not the start of a minute with a zone"),
    ({START + timedelta(seconds=30): (1, 1)}, "not the start of a minute"),
    ({START: (2, 1)}, "good <= total"),
    ({}, "no counts to analyse"),
])
def test_bad_input_is_refused(minutes, message):
    with pytest.raises(InvalidInput, match=message):
        analyse(minutes, window=WINDOW)
