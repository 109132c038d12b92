"""Backfill, the baseline's analysis in its event, and the collection stream: pure."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain import collection, objective
from domain.baseline_analysis import analyse, from_dict, to_dict
from domain.budget import Interval
from domain.budget.decider import RecordObservations
from domain.errors import Conflict, InvalidInput
from domain.upcasters import UPCASTERS

from .support import T0, World, drafted_objective

OID = "checkout-availability"
MIN = timedelta(minutes=1)
START = T0 - timedelta(days=1)


@pytest.fixture
def world() -> World:
    w = World()
    drafted_objective(w)
    return w


def minutes(first: int, last: int, good: int = 9, total: int = 10) -> tuple[Interval, ...]:
    return tuple(Interval(START + i * MIN, START + (i + 1) * MIN, good, total) for i in range(first, last))


def test_a_backfill_fills_only_what_is_not_recorded_and_says_so(world):
    world.run(RecordObservations(OID, minutes(0, 10)), roles={"sre"})
    # Live data refuses other counts for a recorded minute; a backfill keeps the recorded one.
    with pytest.raises(Conflict):
        world.decide(RecordObservations(OID, minutes(5, 15, good=1)), roles={"sre"})
    [event] = world.run(RecordObservations(OID, minutes(5, 15, good=1), backfill=True), roles={"sre"})
    assert event.data["backfill"] is True and event.schema_version == 3
    assert event.data["runs"] == [{"start": minutes(10, 11)[0].start.isoformat(), "step_us": 60_000_000,
                                   "good": [1] * 5, "total": [10] * 5}]
    assert world.decide(RecordObservations(OID, minutes(0, 15), backfill=True), roles={"sre"}) == []
    with pytest.raises(InvalidInput):  # still no future data
        world.decide(RecordObservations(OID, (Interval(T0 + timedelta(days=1), T0 + timedelta(days=1) + MIN, 1, 1),), backfill=True), roles={"sre"})


def test_old_events_read_as_live_data_and_typed_baselines():
    steps = {(t, v): f for t, v, f in UPCASTERS}
    assert steps[("ObservationsRecorded", 1)]({"intervals": []})["backfill"] is False
    assert steps[("ObservationsRecorded", 2)]({"intervals": [], "backfill": False}) == {"runs": [], "backfill": False}
    assert steps[("BaselineRecorded", 1)]({"good": 1})["analysis"] is None


def test_a_baseline_carries_its_analysis_and_refuses_one_of_another_period(world):
    counts = {START + i * MIN: (99 if i % 10 else 90, 100) for i in range(120)}
    a = analyse(counts, window={"kind": "rolling", "days": 28})
    assert from_dict(to_dict(a)) == a
    end = START + 120 * MIN
    world.run(objective.RecordBaseline(OID, START, end, a.period.good, a.period.total, None, a), roles={"sre"})
    assert world.objective(OID).baseline.analysis == a
    with pytest.raises(InvalidInput, match="analysis"):
        world.decide(objective.RecordBaseline(OID, START, end, a.period.good + 1, a.period.total, None, a), roles={"sre"})


def test_faults_and_gaps_are_recorded_once(world):
    sid = collection.stream_id(OID)
    fault = collection.RecordSourceState(OID, T0, "unreachable", "connection refused")
    assert [e.type for e in world.run(fault, roles={"sre"})] == ["SourceFaulted"]
    assert world.run(fault, roles={"sre"}) == []  # the same fault: nothing new
    assert [e.data["reason"] for e in world.run(collection.RecordSourceState(OID, T0, "failed", "503"), roles={"sre"})] == ["failed"]
    assert [e.type for e in world.run(collection.RecordSourceState(OID, T0), roles={"sre"})] == ["SourceRecovered"]
    assert world.run(collection.RecordSourceState(OID, T0), roles={"sre"}) == []
    with pytest.raises(InvalidInput):
        world.decide(collection.RecordSourceState(OID, T0, "gremlins", "?"), roles={"sre"})
    gap = collection.RecordCollectionGap(OID, START, START + 60 * MIN, "down")
    assert [e.type for e in world.run(gap, roles={"sre"})] == ["CollectionGapRecorded"]
    assert world.run(gap, roles={"sre"}) == []  # behind the resume point: a resend
    state = world.states[sid]
    assert state.gap_end == START + 60 * MIN and state.fault is None
    # What a reader is shown: the last fault and when it cleared, the gaps recorded.
    assert (state.last_fault.reason, state.last_fault.message, state.recovered_at) == ("failed", "503", T0)
    assert [(g.start, g.end, g.reason) for g in state.recent_gaps] == [(START, START + 60 * MIN, "down")]
    assert state.gaps == 1
    with pytest.raises(InvalidInput):
        world.decide(collection.RecordCollectionGap(OID, T0, T0 + timedelta(days=1), "down"), roles={"sre"})
