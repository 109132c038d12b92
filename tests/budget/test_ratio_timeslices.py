"""RatioTimeslices (OpenSLO): a slice spends its bad share, 1 - good/total, where
Timeslices spends 0 or 1 by a threshold; the attainment is the mean of the slices' ratios."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.budget import BudgetInputError, Interval, Ledger, parse_budgeting

from .helpers import T0

FIVE = timedelta(minutes=5)
SLICES = [(90, 100), (100, 100), (50, 100)]  # good ratios 0.9, 1.0, 0.5


def ledger(budgeting: dict) -> Ledger:
    out = Ledger(0.99, {"kind": "rolling", "days": 1}, budgeting, tiers=[])
    out.record_batch([Interval(T0 + k * FIVE, T0 + (k + 1) * FIVE, g, t) for k, (g, t) in enumerate(SLICES)])
    return out


def test_the_attainment_is_the_mean_of_slice_ratios_and_each_slice_spends_its_share():
    s = ledger({"method": "ratio_timeslices", "slice_minutes": 5}).status(T0 + 3 * FIVE)
    assert s.method == "ratio_timeslices"
    assert s.slice_sli == pytest.approx(0.8)  # (0.9 + 1.0 + 0.5) / 3
    assert s.bad_slices == pytest.approx(0.6) and s.spent == pytest.approx(0.6)
    assert s.allowed_bad == pytest.approx(0.01 * 288)  # a day of 5-minute slices
    assert s.remaining == pytest.approx(1 - 0.6 / 2.88)
    # Timeslices with a 0.95 threshold count two whole bad slices out of the same data.
    t = ledger({"method": "timeslices", "slice_minutes": 5, "slice_threshold": 0.95}).status(T0 + 3 * FIVE)
    assert t.bad_slices == 2 and t.remaining == pytest.approx(1 - 2 / 2.88)


def test_ratio_timeslices_take_slice_minutes_and_no_threshold():
    assert parse_budgeting({"method": "ratio_timeslices", "slice_minutes": 1}).to_dict() == {
        "method": "ratio_timeslices", "slice_minutes": 1}
    with pytest.raises(BudgetInputError, match="budgeting.slice_threshold"):
        parse_budgeting({"method": "ratio_timeslices", "slice_minutes": 5, "slice_threshold": 0.9})
    with pytest.raises(BudgetInputError, match="budgeting.slice_minutes"):
        parse_budgeting({"method": "ratio_timeslices"})
