"""A batch as columns (`IntervalRows`) is the same batch as its `Interval`s: built with the
same refusals, and decided -- a backfill over whatever the ledger holds, in any order, with
clashes, future or oversized intervals -- into the same events or the same error as the
tuple of Intervals the general path takes (the reference). Pure."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.budget import Interval, IntervalRows
from domain.budget.decider import RecordObservations
from domain.budget.errors import BudgetInputError
from domain.budget.instants import to_us
from domain.errors import DomainError
from service.envelope import jsonable

from .support import T0, World, drafted_objective

OID = "checkout-availability"
MIN_US = 60_000_000
BASE_US = to_us(T0 - timedelta(days=2))

# (start minute, length in minutes, good, total).
rows_strategy = st.lists(
    st.tuples(st.integers(0, 40), st.sampled_from([1, 1, 1, 2, 3]), st.integers(0, 5),
              st.sampled_from([0, 5, 9, 10])),
    max_size=30,
)


def as_rows(raw, future: bool = False) -> tuple[list[int], list[int], list[int], list[int]]:
    # Minute 0 of the "future" variant is after the world's clock.
    base = to_us(T0) + MIN_US if future else BASE_US
    starts = [base + m * MIN_US for m, _, _, _ in raw]
    ends = [s + n * MIN_US for s, (_, n, _, _) in zip(starts, raw)]
    return starts, ends, [min(g, t) for _, _, g, t in raw], [t for _, _, _, t in raw]


def intervals_of(starts, ends, good, total) -> tuple[Interval, ...]:
    return tuple(Interval._from_us(*r) for r in zip(starts, ends, good, total))


def outcome(world: World, intervals, backfill: bool = True):
    command = RecordObservations(OID, intervals, backfill=backfill)
    try:
        return [(e.type, e.schema_version, dict(e.data)) for e in world.decide(command, roles={"sre"})]
    except DomainError as error:
        return (type(error).__name__, error.message, error.details)


@settings(max_examples=250, deadline=None)
@given(recorded=rows_strategy, batch=rows_strategy,
       order=st.sampled_from(["disjoint", "disjoint", "sorted", "given", "reversed"]), future=st.sampled_from([False, False, True]),
       oversize=st.booleans())
def test_a_backfill_of_rows_decides_as_the_same_intervals_do(recorded, batch, order, future, oversize):
    if oversize and batch:  # one interval over the volume limit
        batch = [*batch[:-1], (*batch[-1][:3], 10**11)]
    if order == "disjoint":  # ascending, each after the last (start minute read as a gap): the usual shape
        at, spaced = 0, []
        for gap, n, g, t in batch:
            spaced.append((at + gap % 3, n, g, t))
            at += gap % 3 + n
        batch = spaced
    world = World()
    drafted_objective(world)
    # What the ledger holds already: the live path records what it accepts of `recorded`.
    for s, e, g, t in zip(*as_rows(recorded)):
        if t <= 10:
            try:
                world.run(RecordObservations(OID, (Interval._from_us(s, e, g, t),)), roles={"sre"})
            except DomainError:
                pass  # an overlap with what is there: not recorded
    cols = list(zip(*as_rows(batch, future)))
    if order == "sorted":
        cols.sort()
    elif order == "reversed":
        cols.reverse()
    starts, ends, good, total = (list(c) for c in zip(*cols)) if cols else ([], [], [], [])
    rows = IntervalRows(starts, ends, good, total)
    reference = intervals_of(starts, ends, good, total)
    assert tuple(rows) == reference and rows == reference and jsonable(rows) == jsonable(reference)
    assert outcome(world, rows) == outcome(world, reference)
    assert outcome(world, rows, backfill=False) == outcome(world, reference, backfill=False)


def test_a_long_ordered_backfill_takes_the_columns_and_writes_each_minute_once():
    world = World()
    drafted_objective(world)
    starts = [BASE_US + m * MIN_US for m in range(2000)]
    rows = IntervalRows(starts, [s + MIN_US for s in starts], [9] * 2000, [10] * 2000)
    world.run(RecordObservations(OID, intervals_of(*rows_columns(rows))[1000:1010]), roles={"sre"})
    [event] = world.run(RecordObservations(OID, rows, backfill=True), roles={"sre"})
    minute = lambda m: (T0 - timedelta(days=2) + timedelta(minutes=m)).isoformat()  # noqa: E731
    # The minutes around the ten recorded live: two runs.
    assert [(r["start"], r["step_us"], len(r["good"]), len(r["total"])) for r in event.data["runs"]] == \
        [(minute(0), MIN_US, 1000, 1000), (minute(1010), MIN_US, 990, 990)]
    assert world.decide(RecordObservations(OID, rows, backfill=True), roles={"sre"}) == []


def rows_columns(rows: IntervalRows):
    return rows.starts, rows.ends, rows.good, rows.total


bad_values = st.one_of(st.integers(-3, 12), st.sampled_from([True, 2.0, 2.5, float("nan"), "3", None]))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(-2, 3), st.integers(-1, 1500), bad_values, bad_values), min_size=1, max_size=6))
def test_rows_are_refused_as_the_first_refused_interval_is(raw):
    starts = [BASE_US + m * MIN_US for m, _, _, _ in raw]
    ends = [s + n * MIN_US for s, (_, n, _, _) in zip(starts, raw)]
    good, total = [g for _, _, g, _ in raw], [t for _, _, _, t in raw]

    def build(make):
        try:
            return make()
        except BudgetInputError as error:
            return str(error)

    ours = build(lambda: tuple(IntervalRows(starts, ends, good, total)))
    reference = build(lambda: intervals_of(starts, ends, good, total))
    assert ours == reference


def test_columns_of_other_lengths_or_times_that_are_not_integers_are_refused():
    with pytest.raises(BudgetInputError, match="equally long"):
        IntervalRows([1], [2, 3], [0], [0])
    with pytest.raises(BudgetInputError, match="start"):
        IntervalRows([1.5], [MIN_US], [0], [0])
    assert IntervalRows([], [], [], []) == () and len(IntervalRows.from_rows([])) == 0
