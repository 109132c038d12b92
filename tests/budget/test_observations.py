"""Recording intervals: validation, duplicates, conflicts, corrections, overlaps, the future."""

from datetime import datetime, timedelta, timezone

import pytest

from domain.budget import (
    BudgetInputError,
    Interval,
    IntervalConflict,
    Ledger,
    classify,
    classify_batch,
    classify_correction,
)

from .helpers import MIN, T0, minute


def ledger():
    return Ledger(0.99, {"kind": "rolling", "days": 30})


# ---- validation of a single interval ----------------------------------------------------


@pytest.mark.parametrize(
    "args, field",
    [
        ((T0, T0 + MIN, 11, 10), "good"),  # good > total
        ((T0, T0 + MIN, -1, 10), "good"),  # negative
        ((T0, T0 + MIN, 0, -1), "total"),  # negative
        ((T0, T0 + MIN, 1.5, 10), "good"),  # not a count
        ((T0, T0 + MIN, True, 10), "good"),
        ((T0, T0, 1, 1), "end"),  # empty
        ((T0 + MIN, T0, 1, 1), "end"),  # reversed
        ((T0, T0 + timedelta(days=1, seconds=1), 1, 1), "end"),  # longer than a day
        ((datetime(2024, 10, 1), T0 + MIN, 1, 1), "start"),  # naive
        ((T0, datetime(2024, 10, 1, 0, 1), 1, 1), "end"),  # naive
    ],
)
def test_invalid_intervals_refused(args, field):
    with pytest.raises(BudgetInputError) as e:
        Interval(*args)
    assert e.value.field == field
    assert isinstance(e.value, ValueError)


def test_interval_normalises_to_utc_and_integral_floats():
    plus2 = timezone(timedelta(hours=2))
    iv = Interval(datetime(2024, 10, 1, 2, 0, tzinfo=plus2), datetime(2024, 10, 1, 2, 1, tzinfo=plus2), 5.0, 10)
    assert iv.start == T0 and iv.start.tzinfo == timezone.utc
    assert iv.good == 5 and isinstance(iv.good, int)
    assert Interval.from_dict(iv.to_dict()) == iv
    assert iv.bad == 5


def test_from_dict_parses_iso_and_refuses_missing_fields():
    iv = Interval.from_dict({"start": "2024-10-01T00:00:00+00:00", "end": "2024-10-01T00:01:00Z", "good": 1, "total": 2})
    assert iv == Interval(T0, T0 + MIN, 1, 2)
    with pytest.raises(BudgetInputError) as e:
        Interval.from_dict({"start": "2024-10-01T00:00:00", "end": "2024-10-01T00:01:00Z", "good": 1, "total": 2})
    assert e.value.field == "start"  # naive ISO string
    with pytest.raises(BudgetInputError) as e:
        Interval.from_dict({"start": "2024-10-01T00:00:00Z", "end": "2024-10-01T00:01:00Z", "good": 1})
    assert e.value.field == "total"


# ---- classification against the ledger -------------------------------------------------


def test_new_then_duplicate_is_a_noop():
    L = ledger()
    iv = Interval(T0, T0 + MIN, 90, 100)
    assert classify(L, iv, at=T0 + MIN) == "new"
    assert L.record(iv) == "new"
    assert classify(L, iv) == "duplicate"
    assert L.record(Interval(T0, T0 + MIN, 90, 100)) == "duplicate"
    assert len(L) == 1
    assert L.status(T0 + MIN).total == 100  # counted once


def test_conflicting_count_refused_without_correction():
    L = ledger()
    L.record(Interval(T0, T0 + MIN, 90, 100))
    with pytest.raises(IntervalConflict) as e:
        classify(L, Interval(T0, T0 + MIN, 80, 100))
    assert e.value.kind == "conflict"
    with pytest.raises(IntervalConflict):
        L.record(Interval(T0, T0 + MIN, 90, 101))
    assert L.get(T0, T0 + MIN) == Interval(T0, T0 + MIN, 90, 100)  # unchanged


def test_correction_replaces_counts_and_the_debit_follows():
    # 99% target: 100 requests allow 1 bad. 10 bad -> remaining 1 - 10 = -9; corrected to 1 bad -> 0.
    L = ledger()
    L.record(Interval(T0, T0 + MIN, 90, 100))
    assert L.status(T0 + MIN).remaining == pytest.approx(-9.0)
    fixed = Interval(T0, T0 + MIN, 99, 100)
    assert classify_correction(L, fixed) == "correction"
    assert L.correct(fixed) == "correction"
    assert L.get(T0, T0 + MIN) == fixed
    st = L.status(T0 + MIN)
    assert st.bad == 1 and st.remaining == 0.0 and st.exhausted  # exactly spent: remaining 0 is exhausted
    assert L.correct(fixed) == "duplicate"
    # the chart's debit is attributed to the corrected counts: 1 bad of 1 allowed
    assert [p.debit for p in L.chart()] == [1.0]


def test_correction_of_unknown_or_overlapping_interval_refused():
    L = ledger()
    L.record(Interval(T0, T0 + 2 * MIN, 90, 100))
    with pytest.raises(IntervalConflict) as e:
        classify_correction(L, Interval(T0 + 5 * MIN, T0 + 6 * MIN, 1, 1))
    assert e.value.kind == "missing"
    with pytest.raises(IntervalConflict) as e:
        L.correct(Interval(T0, T0 + MIN, 1, 1))
    assert e.value.kind == "overlap"


@pytest.mark.parametrize(
    "start, end",
    [
        (0, 1),  # same start, shorter
        (0, 3),  # same start, longer
        (1, 2),  # inside
        (-1, 1),  # straddles the start
        (1, 3),  # straddles the end
        (-1, 3),  # covers it
    ],
)
def test_overlap_with_different_bounds_refused(start, end):
    L = ledger()
    L.record(Interval(minute(0), minute(2), 1, 1))
    with pytest.raises(IntervalConflict) as e:
        L.record(Interval(minute(start), minute(end), 1, 1))
    assert e.value.kind == "overlap"
    assert len(L) == 1


def test_adjacent_intervals_do_not_overlap():
    L = ledger()
    L.record(Interval(minute(1), minute(2), 1, 1))
    assert L.record(Interval(minute(2), minute(3), 1, 1)) == "new"
    assert L.record(Interval(minute(0), minute(1), 1, 1)) == "new"  # out of order is fine
    assert [iv.start for iv in L.intervals()] == [minute(0), minute(1), minute(2)]


def test_future_interval_refused():
    L = ledger()
    iv = Interval(T0, T0 + MIN, 1, 1)
    with pytest.raises(BudgetInputError) as e:
        classify(L, iv, at=T0 + MIN - timedelta(seconds=1))
    assert e.value.field == "end"
    assert classify(L, iv, at=T0 + MIN) == "new"  # ending exactly now is fine


def test_batch_classification_checks_inside_the_batch():
    L = ledger()
    L.record(Interval(minute(0), minute(1), 1, 1))
    batch = [Interval(minute(0), minute(1), 1, 1), Interval(minute(1), minute(2), 1, 1), Interval(minute(1), minute(2), 1, 1)]
    assert classify_batch(L, batch, at=minute(2)) == ["duplicate", "new", "duplicate"]
    with pytest.raises(IntervalConflict) as e:
        classify_batch(L, [Interval(minute(1), minute(3), 1, 1), Interval(minute(2), minute(4), 1, 1)])
    assert e.value.kind == "overlap"
    with pytest.raises(IntervalConflict) as e:
        classify_batch(L, [Interval(minute(1), minute(2), 1, 1), Interval(minute(1), minute(2), 0, 1)])
    assert e.value.kind == "conflict"
    assert L.record_batch(batch) == ["duplicate", "new", "duplicate"]
    assert len(L) == 2
