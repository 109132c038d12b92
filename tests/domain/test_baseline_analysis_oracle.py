"""The baseline's analysis, from a datetime-keyed mapping (`analyse`) or from one-minute
rows (`analyse_rows`, what a baseline records), equals the per-minute oracle
(`baseline_oracle.reference_analyse`: a full `Ledger.status` per step, buckets summed
minute by minute) for any history, period, window, budgeting, candidates and step."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.baseline_analysis import analyse, analyse_rows
from domain.budget import IntervalRows
from domain.budget.instants import to_us
from domain.errors import InvalidInput

from .baseline_oracle import reference_analyse

START = datetime(2026, 1, 3, 22, 17, tzinfo=timezone.utc)  # a Saturday evening, not on the hour
MIN = timedelta(minutes=1)

windows = st.sampled_from([{"kind": "rolling", "days": 1}, {"kind": "rolling", "days": 2},
                           {"kind": "calendar", "duration": "1d", "start": "2026-01-01T00:00:00", "time_zone": "Europe/Paris"}])
budgetings = st.sampled_from([None, {"method": "occurrences"},
                              {"method": "timeslices", "slice_minutes": 5, "slice_threshold": 0.95},
                              {"method": "ratio_timeslices", "slice_minutes": 10}])
# Stretches of minutes: (gap before it, length, total, bad share in percent).
stretches = st.lists(st.tuples(st.integers(0, 300), st.integers(1, 400), st.sampled_from([0, 10, 1000]),
                               st.sampled_from([0, 0, 1, 20, 100])), min_size=1, max_size=6)


def history(parts) -> dict[datetime, tuple[int, int]]:
    out, m = {}, 0
    for gap, length, total, pct in parts:
        m += gap
        for _ in range(length):
            bad = total * pct // 100
            out[START + m * MIN] = (total - bad, total)
            m += 1
    return out


@settings(max_examples=40, deadline=None)
@given(parts=stretches, window=windows, budgeting=budgetings,
       candidates=st.lists(st.sampled_from([0.9, 0.99, 0.995, 0.999, 0.9995]), min_size=1, max_size=3, unique=True),
       clip=st.tuples(st.integers(-90, 90), st.integers(-90, 90)), zone=st.sampled_from([0, 5.5, -3]),
       step=st.sampled_from([timedelta(hours=1), timedelta(minutes=25)]))
def test_the_analysis_equals_the_per_minute_oracle(parts, window, budgeting, candidates, clip, zone, step):
    minutes = history(parts)
    last = max(minutes) + MIN
    tz = timezone(timedelta(hours=zone))
    period = ((START + clip[0] * MIN).astimezone(tz), (last + clip[1] * MIN).astimezone(tz))
    if not period[0] < period[1]:
        period = (period[1], period[0] + MIN)
    kwargs = dict(window=window, budgeting=budgeting, candidates=tuple(candidates), step=step)
    expected = reference_analyse(minutes, period=period, **kwargs)
    assert analyse(minutes, period=period, **kwargs) == expected
    assert analyse(minutes, **kwargs) == reference_analyse(minutes, **kwargs)
    rows = IntervalRows.from_rows((to_us(at), to_us(at + MIN), g, t) for at, (g, t) in sorted(minutes.items()))
    assert analyse_rows(rows, period=period, **kwargs) == expected


def test_rows_that_are_not_whole_ascending_minutes_are_refused():
    us = to_us(START)
    for rows in (IntervalRows([us], [us + 120_000_000], [1], [1]), IntervalRows([us + 1], [us + 60_000_001], [1], [1]),
                 IntervalRows([us + 60_000_000, us], [us + 120_000_000, us + 60_000_000], [1, 1], [1, 1])):
        with pytest.raises(InvalidInput, match="whole minute"):
            analyse_rows(rows, window={"kind": "rolling", "days": 1}, period=(START, START + MIN))
