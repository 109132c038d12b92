"""Folding a logged batch column by column (`observation_columns` of its runs +
`Ledger.record_columns`, what the budget's evolve does) leaves the ledger as the row-by-row
fold does (`record_rows` of each interval), whatever the ledger held, excluded or
recurring-excluded, with occurrences or timeslices, and whatever order the rows come in."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.budget import Exclusion, Interval, Ledger
from domain.budget.decider import observation_columns
from domain.budget.instants import to_us
from domain.budget.recurrence import Recurring
from domain.budget.runs import to_runs

from .helpers import minute

budgetings = st.sampled_from([{"method": "occurrences"}, {"method": "timeslices", "slice_minutes": 5, "slice_threshold": 0.9}])
batches = st.lists(st.tuples(st.integers(0, 120), st.sampled_from([1, 1, 2]), st.integers(0, 5), st.integers(5, 6)),
                   max_size=25)


def logged(raw) -> dict:
    """An ObservationsRecorded's data of (start minute, minutes, good, total) rows."""
    rows = [(to_us(minute(m)), to_us(minute(m + n)), g, t) for m, n, g, t in raw]
    return {"objective_id": "o", "runs": to_runs(*zip(*rows)) if rows else [], "backfill": False}


def state(ledger: Ledger):
    return ledger.to_dict(), ledger.status(minute(200)), ledger.chart()


@settings(max_examples=150, deadline=None)
@given(budgeting=budgetings, before=batches, batch=batches, ordered=st.booleans(),
       excluded=st.sampled_from([None, "range", "recurring"]))
def test_the_column_fold_is_the_row_fold(budgeting, before, batch, ordered, excluded):
    ledger = Ledger(0.99, {"kind": "rolling", "days": 1}, budgeting)
    if excluded == "range":
        ledger.exclude(Exclusion("x", minute(30), minute(50), "maintenance"))
    elif excluded == "recurring":
        ledger.exclude_recurring(Recurring.new("r", "FREQ=DAILY;BYHOUR=1;BYMINUTE=10", "2024-10-01T01:10", "UTC", "30m", "probe"))
    for m, n, g, t in sorted(before)[:3]:  # in the first 45 minutes
        try:
            ledger.record(Interval(minute(m % 42), minute(m % 42 + n), g, t))
        except ValueError:
            pass
    if ordered:  # ascending and disjoint, after what is there: the column path
        at, spaced = 65, []  # into the recurring exclusion (minutes 70-100)
        for gap, n, g, t in batch:
            spaced.append((at + gap % 3, n, g, t))
            at += gap % 3 + n
        batch = spaced
    data = logged(batch)
    rows = [(to_us(minute(m)), to_us(minute(m + n)), g, t) for m, n, g, t in batch]
    assert tuple(map(list, observation_columns(data))) == (tuple(map(list, zip(*rows))) if rows else ([], [], [], []))
    by_rows, by_columns = ledger.copy(), ledger.copy()
    outcomes = []
    for target, fold in ((by_rows, lambda: by_rows.record_rows(rows)),
                         (by_columns, lambda: by_columns.record_columns(*observation_columns(data)))):
        try:
            fold()
            outcomes.append(state(target))
        except ValueError as error:
            outcomes.append((type(error), str(error), state(target)))
    assert outcomes[0] == outcomes[1]


def test_the_read_model_takes_the_columns_of_the_data_however_it_was_folded():
    """`recorded_columns` (what the budget read model writes) is `observation_columns` of the
    data, whether `evolve` folded that data last, earlier or not at all."""
    from datetime import datetime, timezone

    from domain.budget.decider import evolve, recorded_columns
    from domain.events import RecordedEvent

    def event(version: int, type_: str, data: dict) -> RecordedEvent:
        return RecordedEvent(version, f"e{version}", "budget-o", version, type_, 3, data, {}, datetime.now(timezone.utc), "")

    configured = {"objective_id": "o", "target": 0.99, "window": {"kind": "rolling", "days": 1}, "budgeting": {"method": "occurrences"}}
    first, second = logged([(0, 1, 5, 6), (1, 1, 6, 6)]), logged([(5, 2, 1, 5)])
    state = evolve(evolve(None, event(1, "BudgetConfigured", configured)), event(2, "ObservationsRecorded", first))
    assert recorded_columns(state, first) == observation_columns(first)
    state = evolve(state, event(3, "ObservationsRecorded", second))
    assert recorded_columns(state, first) == observation_columns(first)
    assert recorded_columns(None, second) == observation_columns(second)
    assert [list(c) for c in observation_columns(first)] == [
        [to_us(minute(0)), to_us(minute(1))], [to_us(minute(1)), to_us(minute(2))], [5, 6], [6, 6]]
