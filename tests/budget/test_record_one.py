"""A RecordObservations of one interval (a collector's live minute) is decided by a
shorter path than a batch's; it must decide as the batch path does for a batch of one:
the same events, or the same refusal (a list of one takes the batch path)."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from domain.budget import Interval
from domain.budget.decider import RecordObservations, stream_id
from domain.budget.runs import observation_columns
from domain.errors import DomainError
from tests.domain.support import T0, World, agree, drafted_objective, propose

OBJECTIVE = "checkout-availability"


def world_with(recorded: list[tuple[int, int, int, int]]) -> World:
    """An agreed objective whose budget holds `recorded` (start second, seconds, good, total)."""
    world = World()
    drafted_objective(world, OBJECTIVE)
    propose(world, OBJECTIVE)
    agree(world, "p1", OBJECTIVE)
    world.now = T0 + timedelta(hours=3)
    for s, n, g, t in recorded:
        try:
            world.run(RecordObservations(OBJECTIVE, (interval(s, n, g, t),)))
        except DomainError:
            pass
    return world


def interval(start_s: int, seconds: int, good: int, total: int) -> Interval:
    return Interval(T0 + timedelta(seconds=start_s), T0 + timedelta(seconds=start_s + seconds), good, total)


def outcome(world: World, intervals) -> tuple:
    try:
        return ("events", [(e.type, e.data, e.schema_version) for e in world.decide(RecordObservations(OBJECTIVE, intervals))])
    except DomainError as error:
        return ("refused", type(error), str(error), error.details)


rows = st.tuples(st.integers(0, 4 * 3600).map(lambda s: s - s % 30), st.sampled_from([30, 60, 60, 120, 86_400]),
                 st.integers(0, 5), st.sampled_from([5, 6, 10**12]))


@settings(max_examples=200, deadline=None)
@given(recorded=st.lists(rows, max_size=6), one=rows)
def test_one_interval_decides_as_a_batch_of_one(recorded, one):
    world = world_with(recorded)
    s, n, g, t = one
    iv = interval(s, n, min(g, t), t)
    assert outcome(world, (iv,)) == outcome(world, [iv])


def test_a_repeat_of_a_recorded_minute_is_nothing_and_a_new_minute_one_run_of_one():
    world = world_with([(0, 60, 5, 5)])
    assert outcome(world, (interval(0, 60, 5, 5),)) == ("events", [])
    kind, events = outcome(world, (interval(60, 60, 4, 5),))
    assert events[0][1]["runs"] == [{"start": "2025-03-03T09:01:00+00:00", "step_us": 60_000_000, "good": [4], "total": [5]}]


@settings(max_examples=100, deadline=None)
@given(recorded=st.lists(rows, min_size=1, max_size=6), one=rows)
def test_a_logged_interval_folds_as_its_columns(recorded, one):
    """`evolve` folds an ObservationsRecorded of one interval as its one row; the ledger
    ends as the column fold of its data leaves it."""
    world = world_with(recorded)
    stream = stream_id(OBJECTIVE)
    assume(world.states.get(stream) is not None)
    s, n, g, t = one
    try:
        new_events = world.decide(RecordObservations(OBJECTIVE, (interval(s, n, min(g, t), t),)))
    except DomainError:
        return
    assume([e.type for e in new_events] == ["ObservationsRecorded"])
    by_columns = world.states[stream].ledger.copy()
    by_columns.record_columns(*observation_columns(new_events[0].data))
    world.record(stream, new_events, actor="collector", role="sre")
    folded = world.states[stream].ledger
    assert folded.to_dict() == by_columns.to_dict()
    assert folded.status(world.now) == by_columns.status(world.now)
