"""Property: after any sequence of observations, corrections and adjustments through the
bus (many refused), the budget read model equals a Ledger recomputed from scratch from
the log -- and the stream's derived flags agree with it. On SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.budget import Exclusion, Interval, Ledger
from domain.errors import DomainError
from domain.budget.decider import (
    CorrectObservation, ExcludeInterval, RecordObservations, RestoreInterval, observation_columns,
)
from service import budget_queries as bq
from tests.budgets.support import do, journey, minute, objective

_ids = itertools.count()

counts = st.integers(0, 20).flatmap(lambda t: st.tuples(st.integers(0, t), st.just(t)))
spans = st.tuples(st.integers(0, 40), st.integers(1, 3))  # start minute, length in minutes


def interval(span, c) -> Interval:
    (s, n), (g, t) = span, c
    return Interval(minute(s), minute(s + n), g, t)


op = st.one_of(
    st.tuples(st.just("record"), st.lists(st.tuples(spans, counts), min_size=1, max_size=4)),
    st.tuples(st.just("correct"), st.tuples(spans, counts)),
    st.tuples(st.just("exclude"), st.tuples(st.sampled_from("xyz"), st.integers(0, 40), st.integers(1, 15))),
    st.tuples(st.just("restore"), st.sampled_from("xyz")),
)


def recompute(events) -> Ledger | None:
    ledger = None
    for e in events:
        d = e.data
        if e.type == "BudgetConfigured":
            snap = ledger.to_dict() if ledger is not None else None
            ledger = Ledger(d["target"], d["window"], d["budgeting"])
            if snap:
                for s, en, g, t in snap["intervals"]:
                    ledger.record(Interval._from_us(s, en, g, t))
        elif e.type == "ObservationsRecorded":
            for s, en, g, t in zip(*observation_columns(d)):
                ledger.record(Interval._from_us(s, en, g, t))
        elif e.type == "ObservationCorrected":
            ledger.correct(Interval.from_dict(d["interval"]))
        elif e.type == "IntervalExcluded":
            ledger.exclude(Exclusion.from_dict(d))
        elif e.type == "IntervalRestored":
            ledger.restore(d["id"])
    return ledger


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(ops=st.lists(op, min_size=1, max_size=8))
async def test_read_model_equals_a_recomputation_from_the_log(container, ops):
    oid = f"prop-{next(_ids)}"
    try:
        await journey(container, "pj")
    except DomainError:
        pass
    await objective(container, oid, journey_id="pj", days=1)
    for kind, arg in ops:
        try:
            if kind == "record":
                await do(container, "sre", RecordObservations(oid, tuple(interval(s, c) for s, c in arg)))
            elif kind == "correct":
                await do(container, "sre", CorrectObservation(oid, interval(*arg), "fix"))
            elif kind == "exclude":
                xid, s, n = arg
                await do(container, "leadership", ExcludeInterval(oid, xid, minute(s), minute(s + n), "maintenance"))
            else:
                await do(container, "sre", RestoreInterval(oid, arg, "undo"))
        except (DomainError, ValueError):
            pass  # refused commands append nothing; the property must still hold

    events = await container.store.read_stream(f"budget-{oid}")
    ledger = recompute(events)
    status = await bq.budget_of(container, oid)
    if ledger is None or len(ledger) == 0:
        assert status is None or status.total == 0
        return
    at = ledger.last_observation_end
    expected = ledger.status(at)
    assert status == expected
    summary = await bq.budget_summary(container, oid)
    assert summary["remaining"] == expected.remaining and summary["intervals"] == len(ledger)
    assert summary["exhausted"] == expected.exhausted
    # The derived transition events leave the flags where the status is.
    flags = {"exhausted": False, "alerts": set()}
    for e in events:
        if e.type == "BudgetExhausted":
            flags["exhausted"] = True
        elif e.type == "BudgetRecovered":
            flags["exhausted"] = False
        elif e.type == "BurnRateAlertRaised":
            flags["alerts"].add((e.data["severity"], e.data["long_window"]))
        elif e.type == "BurnRateAlertCleared":
            flags["alerts"].discard((e.data["severity"], e.data["long_window"]))
    assert flags["exhausted"] == expected.exhausted
    assert flags["alerts"] == {(a.severity, a.long_window) for a in expected.alerts}
    # A cold reload of the read model (no cache) gives the same state.
    bq._projection(container).read_cache.clear()
    assert await bq.budget_of(container, oid) == expected
    chart = await bq.ledger_chart(container, oid)
    assert [(p.start, p.good, p.total, p.excluded) for p in chart] == [
        (p.start, p.good, p.total, p.excluded) for p in ledger.chart()]
