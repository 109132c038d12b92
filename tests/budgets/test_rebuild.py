"""Rebuild equals live for the budget read models, after a history with derived
transitions, corrections, exclusions, a renegotiated target and concurrent commands."""

from __future__ import annotations

import asyncio

from domain.budget.decider import (
    OBSERVATIONS_SCHEMA, CorrectObservation, ExcludeInterval, RecordObservations, RestoreInterval,
)
from domain.errors import DomainError
from service import budget_queries as bq
from service.envelope import Envelope
from tests.budgets.support import agree, do, expanded, journey, minute, minutes, objective
from tests.service.test_rebuild import snapshot
from domain.budget import Interval


async def test_rebuilt_budgets_equal_the_live_ones(container):
    await journey(container)
    for oid in ("a", "b", "c"):
        await objective(container, oid, days=1, target=None if oid == "c" else 0.999)
    # Concurrent commands on several budget streams, folded by group commit.
    envelopes = [
        Envelope(RecordObservations(oid, minutes(k * 60, (k + 1) * 60, 990 if k % 3 else 0, 1000)), "sre-p", frozenset({"sre"}))
        for k in range(6) for oid in ("a", "b", "c")
    ]
    outcomes = await asyncio.gather(*(container.bus.execute(e) for e in envelopes), return_exceptions=True)
    assert not [o for o in outcomes if isinstance(o, Exception)]
    await do(container, "sre", CorrectObservation("a", Interval(minute(0), minute(1), 1000, 1000), "recount"))
    await do(container, "leadership", ExcludeInterval("a", "load-test", minute(60), minute(120), "load test"))
    await do(container, "sre", ExcludeInterval("b", "maint", minute(0), minute(30), "planned maintenance"))
    await do(container, "sre", RestoreInterval("b", "maint", "was not planned"))
    await agree(container, "c", "p1", 0.95)
    await do(container, "sre", RecordObservations("c", minutes(360, 361, 1000, 1000)))
    try:
        await do(container, "sre", RecordObservations("a", minutes(0, 1, 1, 1000)))
    except DomainError:
        pass

    live = await snapshot(container)
    # A run per ObservationsRecorded (each request's hour is back to back), the counts as arrays.
    assert len(live["rm_budgets"]) == 3 and len(live["rm_budget_runs"]) == 3 * 6 + 1
    assert sum(r[4] for r in live["rm_budget_runs"]) == 3 * 360 + 1
    types = [e.type for e in await container.store.read_all(limit=10_000)]
    assert "BudgetExhausted" in types and "BurnRateAlertRaised" in types
    before = {oid: await bq.budget_of(container, oid) for oid in ("a", "b", "c")}

    counts = await container.projections.rebuild()
    assert counts["budgets"] == sum(1 for t in types if t in {
        "BudgetConfigured", "ObservationsRecorded", "ObservationCorrected", "IntervalExcluded", "IntervalRestored",
        "AlertsConfigured", "FreshnessChecked", "BudgetExhausted", "BudgetRecovered", "BurnRateAlertRaised",
        "BurnRateAlertCleared", "ObservationsStale", "ObservationsFresh"})
    assert await snapshot(container) == live
    bq._projection(container).read_cache.clear()
    assert {oid: await bq.budget_of(container, oid) for oid in ("a", "b", "c")} == before


async def test_events_the_bus_did_not_fold_are_folded_from_the_rows(container):
    """The projection uses the writer's folded state when there is one; without it (events
    appended outside the bus) it folds its own, and both agree with a rebuild. Two
    corrections of one interval in one transaction: the later one wins."""
    from domain.events import NewEvent

    await journey(container)
    await objective(container, "a", days=1)
    await do(container, "sre", RecordObservations("a", minutes(0, 60, 990, 1000)))

    def correction(good: int) -> NewEvent:
        return NewEvent("ObservationCorrected", {
            "objective_id": "a", "interval": Interval(minute(0), minute(1), good, 1000).to_dict(),
            "previous": {"good": 990, "total": 1000}, "reason": "recount"})

    for first, batch in ((60, [correction(1), correction(2)]), (61, [])):
        async with container.store.transaction() as tx:
            await tx.load_versions(["budget-a"])
            recorded = NewEvent("ObservationsRecorded", {
                "objective_id": "a", "backfill": False,
                "runs": [{"start": minute(first).isoformat(), "step_us": 60_000_000, "good": [0], "total": [1000]}]},
                OBSERVATIONS_SCHEMA)
            tx.append("budget-a", [recorded, *batch], {"actor": "test"})
            await container.projections.apply_inline(tx.conn, tx.appended)
    live = await snapshot(container)
    runs = live["rm_budget_runs"]  # (objective_id, start_us, end_us, step_us, count, good, total), by start
    assert [r[4] for r in runs] == [60, 1, 1]
    rows = expanded(runs)  # (start_us, end_us, good, total)
    assert len(rows) == 62 and rows[0][2:] == (2, 1000) and rows[1][2:] == (990, 1000) and rows[-1][2:] == (0, 1000)
    bq._projection(container).read_cache.clear()
    assert (await bq.budget_of(container, "a")).bad == 59 * 10 + 998 + 2 * 1000
    await container.projections.rebuild()
    assert await snapshot(container) == live


async def test_a_large_push_is_copied_and_rebuilds_to_the_same_rows(container, monkeypatch):
    """At COPY_FROM run rows or more in a transaction (a live round writes one per
    objective; here one push of minutes with gaps between them), PostgreSQL takes them with
    COPY instead of riding in the flush: the rows are the same either way, and equal a rebuild."""
    from projections import budgets as budget_projection

    copied: list[int] = []
    original = budget_projection.insert_records

    async def counting(conn, table, columns, records):
        copied.append(len(records))
        await original(conn, table, columns, records)

    monkeypatch.setattr(budget_projection, "insert_records", counting)
    await journey(container)
    await objective(container, "a", days=1)
    gappy = tuple(Interval(minute(2 * i), minute(2 * i + 1), 999, 1000) for i in range(budget_projection.COPY_FROM + 20))
    await do(container, "sre", RecordObservations("a", gappy))
    await do(container, "sre", RecordObservations("a", minutes(400, 500, 1000, 1000)))  # one run: it rides
    live = await snapshot(container)
    assert len(live["rm_budget_runs"]) == budget_projection.COPY_FROM + 21
    if container.engines.dialect == "postgresql":
        assert copied == [budget_projection.COPY_FROM + 20]
    await container.projections.rebuild()
    assert await snapshot(container) == live
