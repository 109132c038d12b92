"""Snapshots, copies and composite journey objectives."""

import json

import pytest

from domain.budget import (
    BudgetInputError,
    Exclusion,
    Ledger,
    composite_attainment,
    composite_ceiling,
    composite_check,
)

from .helpers import minute, per_minute


@pytest.mark.parametrize(
    "budgeting", [{"method": "occurrences"}, {"method": "timeslices", "slice_minutes": 5, "slice_threshold": 0.9}]
)
def test_snapshot_roundtrip(budgeting):
    L = Ledger(0.995, {"kind": "calendar_month"}, budgeting, tiers=[{"severity": "page", "long_window": "1h", "short_window": "5m", "threshold": 2}])
    for iv in per_minute(0, [(90, 100), (100, 100), (0, 0), (50, 60)] * 10):
        L.record(iv)
    L.exclude(Exclusion("a", minute(3), minute(9), reason="load test"))
    L.exclude(Exclusion("b", minute(20), minute(22)))
    L.restore("b")
    snap = json.loads(json.dumps(L.to_dict()))
    M = Ledger.from_dict(snap)
    for at in (minute(10), minute(25), minute(40), minute(41)):
        assert M.status(at) == L.status(at)
    assert M.chart() == L.chart()
    assert M.to_dict() == L.to_dict()
    assert M.exclusions == L.exclusions and M.restored_exclusions == L.restored_exclusions


def test_copy_is_independent():
    L = Ledger(0.99, {"kind": "rolling", "days": 1})
    for iv in per_minute(0, [(90, 100)] * 3):
        L.record(iv)
    before = L.copy()
    L.exclude(Exclusion("x", minute(0), minute(2)))
    assert before.status(minute(3)).bad == 30
    assert L.status(minute(3)).bad == 10


def test_bad_snapshot_refused():
    with pytest.raises(BudgetInputError):
        Ledger.from_dict({"version": 99})


def test_composite_feasibility():
    # 99.9% x 99.95% = 0.9985005: a 99.9% journey cannot be met, 99.85% can
    assert composite_check(0.999, {"auth": 0.999, "inference": 0.9995}) == (False, pytest.approx(0.9985005))
    feasible, ceiling = composite_check(0.9985, {"auth": 0.999, "inference": 0.9995})
    assert feasible and ceiling == pytest.approx(0.9985005)
    # exactly at the ceiling is feasible (exact arithmetic: in floats 0.999*0.999 != 0.998001)
    assert composite_check(0.998001, {"a": 0.999, "b": 0.999})[0] is True
    assert composite_check(0.99, {}) == (True, 1.0)
    assert composite_ceiling({"a": 0.9, "b": 0.9}) == pytest.approx(0.81)
    with pytest.raises(BudgetInputError) as e:
        composite_check(0.99, {"a": 1.5})
    assert e.value.field == "dependency_targets.a"
    with pytest.raises(BudgetInputError):
        composite_check(1.0, {"a": 0.9})


def test_composite_attainment():
    # 0.999 x 0.998 = 0.997002
    assert composite_attainment({"a": 0.999, "b": 0.998}) == pytest.approx(0.997002)
    assert composite_attainment({"a": 0.999, "b": None}) is None
    assert composite_attainment({}) is None
