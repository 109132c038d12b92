"""Budget intervals stored as runs (`rm_budget_runs`): how intervals are cut into runs, a
correction inside a long run, a backfill filling holes between runs, and migration 0012
in both directions -- each loading the ledger a full refold of the log gives, on SQLite
and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import select, text

from domain.budget import Interval
from domain.budget import decider
from domain.budget.decider import OBSERVATIONS_SCHEMA, CorrectObservation, RecordObservations
from domain.budget.instants import to_us
from domain.budget.runs import spans
from domain.events import NewEvent
from projections import budget_runs
from projections import budgets as budget_projection
from projections.tables import budgets
from service import budget_queries as bq
from tests.migration_steps import migrate_to
from tests.budgets.support import do, interval_rows, journey, minute, minutes, objective, run_rows
from tests.service.test_rebuild import snapshot

M = 60_000_000  # a minute in microseconds


def test_intervals_are_cut_into_runs_of_back_to_back_intervals_of_one_length():
    assert spans([], []) == []
    assert spans([0], [M]) == [(0, 1, M)]
    assert spans([0, M, 2 * M], [M, 2 * M, 3 * M]) == [(0, 3, M)]
    # a gap, then a longer interval, then back to minutes
    starts = [0, M, 3 * M, 4 * M, 9 * M, 10 * M]
    ends = [M, 2 * M, 4 * M, 9 * M, 10 * M, 11 * M]
    assert spans(starts, ends) == [(0, 2, M), (2, 1, M), (3, 1, 5 * M), (4, 2, M)]
    rows = [(starts[i], step, n, budget_runs.encode([7] * n), budget_runs.encode(list(range(n))))
            for i, n, step in spans(starts, ends)]
    assert budget_runs.expand(rows) == (starts, ends, [7] * 6, [0, 1, 0, 0, 0, 1])


async def refolded(container, oid: str) -> decider.BudgetState:
    state = None
    for event in await container.store.read_stream(f"budget-{oid}"):
        state = decider.evolve(state, event)
    return state


async def loaded(container, oid: str) -> decider.BudgetState:
    async with container.engines.read.connect() as conn:
        doc = (await conn.execute(select(budgets.c.doc).where(budgets.c.objective_id == oid))).scalar_one()
        return await budget_projection.load_state(conn, oid, doc)


async def assert_loads_the_refold(container, oid: str) -> None:
    ours, reference = await loaded(container, oid), await refolded(container, oid)
    assert ours.ledger.columns() == reference.ledger.columns()
    assert ours.status() == reference.status()
    bq._projection(container).read_cache.clear()
    assert await bq.budget_of(container, oid) == reference.status()


async def test_a_correction_inside_a_long_run_changes_that_interval_alone(container):
    await journey(container)
    await objective(container, "a", days=1)
    await do(container, "sre", RecordObservations("a", minutes(0, 1440, 999, 1000)))
    await do(container, "sre", CorrectObservation("a", Interval(minute(700), minute(701), 500, 1000), "recount"))
    # A correction in the same transaction as its interval's insert, and one of the stored run.
    async with container.store.transaction() as tx:
        await tx.load_versions(["budget-a"])
        tx.append("budget-a", [
            NewEvent("ObservationsRecorded", {"objective_id": "a", "backfill": False, "runs": [
                {"start": minute(1440).isoformat(), "step_us": M, "good": [990] * 10, "total": [1000] * 10}]},
                OBSERVATIONS_SCHEMA),
            NewEvent("ObservationCorrected", {"objective_id": "a", "interval": Interval(minute(1445), minute(1446), 1, 1000).to_dict(),
                                              "previous": {"good": 990, "total": 1000}, "reason": "recount"}),
            NewEvent("ObservationCorrected", {"objective_id": "a", "interval": Interval(minute(0), minute(1), 2, 1000).to_dict(),
                                              "previous": {"good": 999, "total": 1000}, "reason": "recount"}),
        ], {"actor": "test"})
        await container.projections.apply_inline(tx.conn, tx.appended)
        appended = tx.appended[0]

    async with container.engines.read.connect() as conn:
        runs = await run_rows(conn, "a")
        intervals = await interval_rows(conn, "a")
    assert [(r[1], r[3], r[4]) for r in runs] == [(to_us(minute(0)), M, 1440), (to_us(minute(1440)), M, 10)]
    changed = {i: iv[2:] for i, iv in enumerate(intervals) if iv[2:] != ((999, 1000) if i < 1440 else (990, 1000))}
    assert changed == {0: (2, 1000), 700: (500, 1000), 1445: (1, 1000)}
    # The run shared the event's count lists until the correction: the event is as sent.
    assert appended.data["runs"][0]["good"] == [990] * 10
    await assert_loads_the_refold(container, "a")
    live = await snapshot(container)
    await container.projections.rebuild()
    assert await snapshot(container) == live


async def test_a_backfill_filling_holes_between_runs_loads_in_time_order(container):
    await journey(container)
    await objective(container, "a", days=1)
    for first in (0, 120, 300):
        await do(container, "sre", RecordObservations("a", minutes(first, first + 60, 1000, 1000)))
    # The backfill's event holds only the holes: the runs 60-120, 180-300 and 360-400.
    await do(container, "sre", RecordObservations("a", minutes(0, 400, 990, 1000), backfill=True))
    async with container.engines.read.connect() as conn:
        runs = await run_rows(conn, "a")
        intervals = await interval_rows(conn, "a")
    assert [(r[1] - to_us(minute(0))) // M for r in runs] == [0, 60, 120, 180, 300, 360]
    assert [r[4] for r in runs] == [60, 60, 60, 120, 60, 40]
    assert [s for s, *_ in intervals] == [to_us(minute(m)) for m in range(400)]
    await assert_loads_the_refold(container, "a")
    live = await snapshot(container)
    await container.projections.rebuild()
    assert await snapshot(container) == live


async def test_migration_0012_turns_interval_rows_into_runs_and_back(container):
    await journey(container)
    await objective(container, "a", days=1)
    await do(container, "sre", RecordObservations("a", minutes(0, 90, 999, 1000)))
    await do(container, "sre", RecordObservations("a", minutes(100, 110, 990, 1000)))
    await do(container, "sre", CorrectObservation("a", Interval(minute(5), minute(6), 1, 1000), "recount"))
    async with container.engines.read.connect() as conn:
        intervals = await interval_rows(conn, "a")
    assert len(intervals) == 100

    await migrate_to(container, "0011", downgrade=True)
    async with container.engines.read.connect() as conn:
        old = [tuple(r) for r in (await conn.execute(text(
            "SELECT start_us, end_us, good, total FROM rm_budget_intervals ORDER BY start_us"))).all()]
    assert old == intervals

    await migrate_to(container, "head")
    async with container.engines.read.connect() as conn:
        runs = await run_rows(conn, "a")
        assert await interval_rows(conn, "a") == intervals
    assert len(runs) == 100 and {r[4] for r in runs} == {1}  # each old row a run of one
    bq._projection(container).cache.clear()
    await assert_loads_the_refold(container, "a")
    # Live writes go on from the converted rows: a correction, and new minutes.
    await do(container, "sre", CorrectObservation("a", Interval(minute(6), minute(7), 2, 1000), "recount"))
    await do(container, "sre", RecordObservations("a", minutes(110, 120, 1000, 1000)))
    await assert_loads_the_refold(container, "a")


def test_an_events_runs_taken_as_logged_are_the_ones_cut_from_its_columns():
    from domain.budget.runs import observation_columns, to_runs

    def data(starts, ends, good, total):
        return {"runs": to_runs(starts, ends, good, total)}

    cases = [
        data([0], [M], [3], [4]),  # a live minute
        data([0, M, 2 * M], [M, 2 * M, 3 * M], [1, 2, 3], [4, 5, 6]),  # a gapless backfill
        data([0, M, 3 * M, 4 * M], [M, 2 * M, 4 * M, 9 * M], [1, 2, 3, 4], [5, 6, 7, 8]),  # gaps, lengths
        # two logged runs back to back (as an upcaster may write them): cut into one
        {"runs": to_runs([0], [M], [1], [2]) + to_runs([M], [2 * M], [3], [4])},
        {"runs": []},
    ]
    for d in cases:
        assert budget_runs.recorded(d) == budget_runs.cut(*observation_columns(d)), d
