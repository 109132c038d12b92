"""The read cache brings a warm state forward with the stream's new events instead of
reloading the whole history, and the result equals a reload from the rows."""

from __future__ import annotations

from domain.budget import Interval
from domain.budget.decider import ConfigureAlerts, CorrectObservation, ExcludeInterval, RecordObservations, RestoreInterval
from projections import budgets as budget_projection
from service import budget_queries as bq
from tests.budgets.support import agree, do, journey, minute, minutes, objective


async def _reloaded(container, oid):
    bq._projection(container).read_cache.forget(oid)
    return await bq.budget_of(container, oid), await bq.ledger_chart(container, oid), await bq.budget_exclusions(container, oid)


async def test_warm_reads_catch_up_without_reloading(container, monkeypatch):
    await journey(container)
    for oid in ("a", "b"):
        await objective(container, oid, days=1)
    await do(container, "sre", RecordObservations("a", minutes(0, 120, 1000, 1000)))
    await do(container, "sre", RecordObservations("b", minutes(0, 60, 1000, 1000)))
    assert (await bq.budget_of(container, "a")).total == 120_000  # loaded once, now warm
    assert (await bq.budget_of(container, "b")).total == 60_000

    loads = []
    real = budget_projection.load_state

    async def counting(conn, objective_id, doc):
        loads.append(objective_id)
        return await real(conn, objective_id, doc)

    monkeypatch.setattr(budget_projection, "load_state", counting)
    steps = [
        lambda: do(container, "sre", RecordObservations("a", minutes(120, 125, 900, 1000))),  # raises an alert
        lambda: do(container, "sre", CorrectObservation("a", Interval(minute(3), minute(4), 10, 1000), "recount")),
        lambda: do(container, "leadership", ExcludeInterval("a", "x1", minute(120), minute(125), "load test")),
        lambda: do(container, "sre", ConfigureAlerts("a", None, 30)),
        lambda: do(container, "leadership", RestoreInterval("a", "x1", "not a load test after all")),
        lambda: agree(container, "a", "p2", 0.99),  # renegotiated: BudgetConfigured with the next data
        lambda: do(container, "sre", RecordObservations("a", minutes(125, 130, 1000, 1000))),
        lambda: bq.record_observations(container, "sre-p", frozenset({"sre"}), [
            bq.ObservationItem("a", Interval(minute(130), minute(131), 1, 2)),
            bq.ObservationItem("b", Interval(minute(60), minute(61), 2, 2)),
        ]),
    ]
    for step in steps:
        await step()
        warm = (await bq.budget_of(container, "a"), await bq.ledger_chart(container, "a"),
                await bq.budget_exclusions(container, "a"))
        assert loads == []  # brought forward from the log, not reloaded
        assert await _reloaded(container, "a") == warm
        assert loads == ["a"]
        loads.clear()
    assert (await bq.budget_of(container, "a")).target == 0.99
