"""The baseline judges all its candidate targets in one walk: one ledger's window read once
a step (`Ledger.budgets_at_us`) under each target's allowed error rate answers as a ledger
with that target (`with_config(...).budget_at_us`) does; and a run of consecutive minutes
(what a baseline pulls, checked as a whole) is analysed as any minutes are."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.baseline_analysis import analyse, analyse_rows
from domain.budget import BudgetConfig, Exclusion, IntervalRows, Ledger
from domain.budget.instants import to_us
from domain.errors import InvalidInput

from .baseline_oracle import reference_analyse

START = datetime(2026, 1, 3, 22, 17, tzinfo=timezone.utc)
MIN_US = 60_000_000

windows = st.sampled_from([{"kind": "rolling", "days": 1}, {"kind": "calendar_month"},
                           {"kind": "calendar", "duration": "1d", "start": "2026-01-01T00:00:00", "time_zone": "Europe/Paris"}])
budgetings = st.sampled_from([None, {"method": "timeslices", "slice_minutes": 5, "slice_threshold": 0.95},
                              {"method": "ratio_timeslices", "slice_minutes": 10}])
targets = st.lists(st.sampled_from([0.5, 0.9, 0.99, 0.995, 0.999, 0.9995]), min_size=1, max_size=4, unique=True)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 30), st.integers(0, 50), st.integers(0, 50)), min_size=1, max_size=60),
       windows, budgetings, targets, st.lists(st.integers(-10, 4000), min_size=1, max_size=8), st.booleans())
def test_one_read_judged_per_target_is_each_targets_own_ledger(rows, window, budgeting, chosen, moments, exclude):
    ledger = Ledger(chosen[0], window, budgeting)
    s = to_us(START)
    for gap, good, extra in rows:
        s += gap * MIN_US
        ledger.record_columns([s], [s + MIN_US], [good], [good + extra])
        s += MIN_US
    if exclude:  # excluded minutes count as neither good nor bad, in both
        ledger.exclude(Exclusion("x1", START + timedelta(minutes=5), START + timedelta(minutes=40), "incident"))
    rates = [BudgetConfig.parse(t, window, budgeting).error_rate_allowed for t in chosen]
    for m in moments:
        at = to_us(START) + m * MIN_US // 3
        assert ledger.budgets_at_us(at, rates) == [ledger.with_config(t, window, budgeting).budget_at_us(at) for t in chosen]


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 1000), st.integers(0, 30)), min_size=1, max_size=300), budgetings, targets,
       st.integers(-30, 30), st.integers(0, 3))
def test_consecutive_minutes_are_analysed_as_any_minutes(counts, budgeting, chosen, clip, skip):
    """A run of consecutive minutes (checked as a whole) and the same run with minutes left
    out (checked row by row) give the oracle's analysis."""
    first = to_us(START)
    starts = [first + MIN_US * k for k in range(len(counts)) if not (skip and k % 7 == skip)]
    good, total = [counts[(s - first) // MIN_US][0] for s in starts], [sum(counts[(s - first) // MIN_US]) for s in starts]
    end = START + timedelta(minutes=len(counts) + clip)
    period = (START, max(end, START + timedelta(minutes=1)))
    kwargs = dict(window={"kind": "rolling", "days": 1}, budgeting=budgeting, candidates=tuple(chosen), period=period)
    got = analyse_rows(IntervalRows(starts, [t + MIN_US for t in starts], good, total), **kwargs)
    minutes = {datetime.fromtimestamp(t / 1e6, timezone.utc): (g, t_) for t, g, t_ in zip(starts, good, total)}
    assert got == analyse(minutes, **kwargs) == reference_analyse(minutes, **kwargs)


def test_consecutive_starts_off_the_minute_or_rows_not_a_minute_long_are_refused():
    us = to_us(START)
    for starts, ends in (([us + 1 + k * MIN_US for k in range(3)], [us + 1 + (k + 1) * MIN_US for k in range(3)]),
                         ([us + k * MIN_US for k in range(3)], [us + (k + 2) * MIN_US for k in range(3)]),
                         ([us + k * MIN_US for k in range(3)], [us + (k + 1) * MIN_US for k in range(2)] + [us + 3 * MIN_US + 1])):
        with pytest.raises(InvalidInput, match="whole minute"):
            analyse_rows(IntervalRows(starts, ends, [1] * 3, [1] * 3), window={"kind": "rolling", "days": 1},
                         period=(START, START + timedelta(minutes=3)))
