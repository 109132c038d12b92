"""ObservationsRecorded's intervals as runs (schema 3): any columns, of any lengths to the
microsecond and in any order, read back exactly; back-to-back intervals of one length are
one run; and an event stored as version 1 or 2 reads as the runs of its intervals, folding
to the same ledger as the event written today. Pure."""

from __future__ import annotations

from datetime import datetime, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.budget.decider import evolve
from domain.budget.instants import to_us, us_iso
from domain.budget.runs import observation_columns, to_runs
from domain.events import RecordedEvent
from eventstore.upcasting import Upcasters
from service.upcasters import register_upcasters

from .helpers import minute

MIN_US = 60_000_000
BASE = to_us(minute(0))
# (gap before it in µs, length in µs, good, total): gaps and lengths of any size, often none
# and often a minute, so runs form and break.
rows = st.lists(st.tuples(st.sampled_from([0, 0, 0, 1, 7, MIN_US]), st.sampled_from([1, 999, MIN_US, MIN_US, 86_400_000_000]),
                          st.integers(0, 5), st.integers(5, 9)), max_size=40)


def columns_of(raw, shuffled: list[int] | None = None) -> tuple[list[int], ...]:
    starts, ends, at = [], [], BASE
    for gap, length, _, _ in raw:
        starts.append(at + gap)
        ends.append(at + gap + length)
        at += gap + length
    cols = [starts, ends, [g for *_, g, _ in raw], [t for *_, t in raw]]
    if shuffled is not None:
        cols = [[c[i] for i in shuffled] for c in cols]
    return tuple(cols)


def upcast(version: int, data: dict) -> tuple[int, dict]:
    registry = Upcasters()
    register_upcasters(registry)
    return registry.upcast("ObservationsRecorded", version, data)


@settings(max_examples=200, deadline=None)
@given(raw=rows, order=st.randoms())
def test_any_columns_read_back_exactly_from_their_runs(raw, order):
    shuffled = list(range(len(raw)))
    order.shuffle(shuffled)
    for cols in (columns_of(raw), columns_of(raw, shuffled)):
        runs = to_runs(*cols)
        assert tuple(map(list, observation_columns({"runs": runs}))) == cols
        assert sum(len(r["good"]) for r in runs) == len(cols[0])
        for r in runs:  # each run: back to back, one length
            assert r["step_us"] > 0 and len(r["good"]) == len(r["total"]) > 0


def test_back_to_back_intervals_of_one_length_are_one_run_and_anything_else_cuts():
    day = [BASE + m * MIN_US for m in range(1440)]
    [run] = to_runs(day, [s + MIN_US for s in day], [9] * 1440, [10] * 1440)
    assert run == {"start": minute(0).isoformat(), "step_us": MIN_US, "good": [9] * 1440, "total": [10] * 1440}
    starts, ends, good, total = observation_columns({"runs": [run]})
    assert (starts, ends) == (range(BASE, BASE + 1440 * MIN_US, MIN_US), range(BASE + MIN_US, BASE + 1441 * MIN_US, MIN_US))
    # A hole, then a two-minute interval, then minutes again: three runs.
    starts = [BASE, BASE + MIN_US, BASE + 5 * MIN_US, BASE + 7 * MIN_US, BASE + 8 * MIN_US]
    ends = [BASE + MIN_US, BASE + 2 * MIN_US, BASE + 7 * MIN_US, BASE + 8 * MIN_US, BASE + 9 * MIN_US]
    runs = to_runs(starts, ends, [1, 2, 3, 4, 5], [5] * 5)
    assert [(r["start"], r["step_us"], r["good"]) for r in runs] == [
        (minute(0).isoformat(), MIN_US, [1, 2]), (minute(5).isoformat(), 2 * MIN_US, [3]), (minute(7).isoformat(), MIN_US, [4, 5])]
    assert to_runs([], [], [], []) == []
    # Not whole seconds: exact, the start written with its microseconds.
    [odd] = to_runs([BASE + 1], [BASE + 1_500_001], [1], [2])
    assert odd["start"] == us_iso(BASE + 1) and odd["start"].endswith(".000001+00:00") and odd["step_us"] == 1_500_000


def _event(version: int, schema: int, type_: str, data: dict) -> RecordedEvent:
    return RecordedEvent(version, f"e{version}", "budget-o", version, type_, schema, data, {},
                         datetime(2025, 1, 1, tzinfo=timezone.utc), "")


@settings(max_examples=100, deadline=None)
@given(raw=rows)
def test_stored_versions_one_and_two_read_as_runs_and_fold_to_the_same_ledger(raw):
    cols = columns_of(raw)
    intervals = [{"start": us_iso(s), "end": us_iso(e), "good": g, "total": t} for s, e, g, t in zip(*cols)]
    today = {"objective_id": "o", "runs": to_runs(*cols), "backfill": True}
    assert upcast(2, {"objective_id": "o", "intervals": intervals, "backfill": True}) == (3, today)
    assert upcast(1, {"objective_id": "o", "intervals": intervals}) == (3, {**today, "backfill": False})
    assert upcast(3, today) == (3, today)

    configured = {"objective_id": "o", "target": 0.99, "window": {"kind": "rolling", "days": 30},
                  "budgeting": {"method": "occurrences"}}
    folded = []
    for data in (today, upcast(2, {"objective_id": "o", "intervals": intervals, "backfill": True})[1]):
        state = evolve(evolve(None, _event(1, 1, "BudgetConfigured", configured)), _event(2, 3, "ObservationsRecorded", data))
        folded.append((state.ledger.to_dict(), state.status()))
    assert folded[0] == folded[1]
    assert folded[0][0]["intervals"] == [list(r) for r in zip(*cols)]


def test_a_version_two_interval_written_with_another_offset_reads_as_the_same_instant():
    data = {"objective_id": "o", "backfill": False,
            "intervals": [{"start": "2025-01-01T02:00:00+02:00", "end": "2025-01-01T00:01:00+00:00", "good": 1, "total": 1}]}
    _, runs = upcast(2, data)
    assert [list(c) for c in observation_columns(runs)] == [[to_us(datetime(2025, 1, 1, tzinfo=timezone.utc))],
                                                           [to_us(datetime(2025, 1, 1, 0, 1, tzinfo=timezone.utc))], [1], [1]]
