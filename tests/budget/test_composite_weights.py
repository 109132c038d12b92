"""Composite weights (OpenSLO compositeWeight): the weighted mean beside the product."""

from __future__ import annotations

import pytest

from domain.budget import BudgetInputError
from domain.budget.composite import check_weight, composite_attainment, weighted_mean


def test_weighted_mean_of_slis_and_its_unknowns():
    assert weighted_mean({"pay": (0.99, 3), "search": (0.95, 1)}) == pytest.approx((3 * 0.99 + 0.95) / 4)
    assert weighted_mean({"pay": (0.99, 1), "search": (0.95, 1)}) == pytest.approx(0.97)
    assert weighted_mean({"pay": (0.99, 1), "search": (None, 1)}) is None
    assert weighted_mean({}) is None
    # the product asks every part at once; the weighted mean lets one part degrade
    assert composite_attainment({"pay": 0.99, "search": 0.95}) < weighted_mean({"pay": (0.99, 1), "search": (0.95, 1)})


@pytest.mark.parametrize("weight", [0, -1, float("inf"), float("nan"), True, "2", 1_000_001])
def test_weights_must_be_positive_finite_numbers(weight):
    with pytest.raises(BudgetInputError, match="composite_weight"):
        check_weight(weight)
