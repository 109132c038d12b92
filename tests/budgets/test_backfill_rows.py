"""A backfill sent as columns (`IntervalRows`, what a baseline sends) appends what the same
minutes sent as `Interval`s do -- the reference, the general path -- through the real
container (bus, reactors, inline projections), on SQLite and PostgreSQL: the same events
with the same data, so the same log bytes; the same read models, also after a rebuild; a
chain that verifies; and a resend appends nothing. Cut into any number of commands it
derives the same as in one (`test_batching`'s sense of "the same")."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from domain import objective as o
from domain.budget import Interval, IntervalRows
from domain.budget.decider import RecordObservations
from domain.budget.instants import to_us
from eventstore.verify import verify_chain
from projections.tables import budgets
from tests.budgets.support import do, expanded, journey, minute, run_rows
from tests.budgets.test_batching import (
    _same_names,
    adopt_one_day,
    build_history,
    derived_view,
    fixed_clock,
    governed_objective,
    segments,
)

_ids = itertools.count()
VOLATILE_METADATA = ("command_id", "correlation_id", "causation_id")


def intervals(history) -> tuple[Interval, ...]:
    return tuple(Interval(minute(s), minute(e), g, t) for s, e, g, t in history)


def columns(history) -> IntervalRows:
    return IntervalRows.from_rows((to_us(minute(s)), to_us(minute(e)), g, t) for s, e, g, t in history)


async def log_of(container, oid: str, prefix: str) -> list:
    """Every event of the objective's budget and actions streams, ids aside."""
    out = []
    for stream in (f"budget-{oid}", f"actions-{oid}"):
        for e in await container.store.read_stream(stream):
            meta = {k: v for k, v in e.metadata.items() if k not in VOLATILE_METADATA}
            out.append((e.stream_id, e.stream_version, e.type, e.schema_version, e.data, meta))
    return _same_names(out, prefix)


async def read_models(container, oid: str, prefix: str) -> dict:
    async with container.read_engine.connect() as conn:
        summary = (await conn.execute(select(budgets).where(budgets.c.objective_id == oid))).mappings().one()
        runs = await run_rows(conn, oid)
    return _same_names({"summary": {k: v for k, v in summary.items() if k != "last_event_id"},
                        "runs": runs, "intervals": expanded(runs)}, prefix)


@settings(max_examples=5, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large])
@given(segs=segments, data=st.data())
async def test_a_backfill_of_columns_appends_what_the_same_intervals_do(container, segs, data):
    history = build_history(segs)
    # Some minutes recorded live first, with other counts: a backfill keeps them as they are.
    live = sorted(data.draw(st.sets(st.sampled_from(range(len(history))), max_size=len(history) // 2), label="live"))
    cuts = data.draw(st.lists(st.integers(1, max(1, len(history) - 1)), max_size=5), label="cuts")
    n = next(_ids)
    fixed_clock(container)
    await adopt_one_day(container)
    results = {}
    for name in ("reference", "columns", "reference-cut", "columns-cut"):
        prefix = f"b{n}{name}-"
        oid = await governed_objective(container, prefix, target=0.99, days=1, policy_id="one-day")
        if live:
            recorded = [(s, e, 0, t) for s, e, _, t in (history[i] for i in live)]
            await do(container, "sre", RecordObservations(oid, intervals(recorded)))
        batch = intervals(history) if name.startswith("reference") else columns(history)
        bounds = [0, *sorted(set(c for c in cuts if 0 < c < len(batch))), len(batch)] if name.endswith("cut") \
            else [0, len(batch)]
        for a, b in zip(bounds, bounds[1:]):
            await do(container, "sre", RecordObservations(oid, batch[a:b], backfill=True))
        before = await container.store.read_stream(f"budget-{oid}")
        again = await do(container, "sre", RecordObservations(oid, columns(history), backfill=True))
        assert again.events == () and len(await container.store.read_stream(f"budget-{oid}")) == len(before)
        results[name] = (oid, prefix, await log_of(container, oid, prefix), await read_models(container, oid, prefix),
                         await derived_view(container, oid, prefix))

    for ours, reference in ((results["columns"], results["reference"]), (results["columns-cut"], results["reference-cut"])):
        assert ours[2] == reference[2]  # the same events, data and metadata
        assert ours[3] == reference[3]  # the same read-model rows
    if not live:
        # In time order, like any data: the same as when cut into several commands. (Data
        # behind the stream's event time is judged at that time, so after live minutes a
        # cut changes what is judged with what -- for Intervals and columns alike.)
        assert results["columns"][4] == results["columns-cut"][4]

    await container.projections.rebuild()
    for oid, prefix, _, models, _ in results.values():
        assert await read_models(container, oid, prefix) == models
    assert (await verify_chain(container.engines)).ok


async def test_a_draft_objectives_long_backfill_is_written_once_in_one_event(container):
    """The baseline's case at a smaller scale: a day of minutes on a draft objective, then the
    same day again over a live stretch, and the two halves of a longer range."""
    fixed_clock(container)
    await journey(container, "rows-journey")
    await do(container, "sre", o.DraftObjective("rows", "rows-journey", "rows", o.SLI("availability"),
                                                o.Window("rolling", 28), o.Budgeting("occurrences")))
    day = [(m, m + 1, 99, 100) for m in range(1440)]
    result = await do(container, "sre", RecordObservations("rows", columns(day[:1000]), backfill=True))
    assert [e.type for e in result.events] == ["BudgetConfigured", "ObservationsRecorded"]
    result = await do(container, "sre", RecordObservations("rows", columns(day), backfill=True))
    [event] = await container.store.read_stream("budget-rows", result.events[0].stream_version - 1)
    # The 440 new minutes, one run (what a baseline counts as appended).
    assert event.data["runs"] == [{"start": minute(1000).isoformat(), "step_us": 60_000_000,
                                   "good": [99] * 440, "total": [100] * 440}]
    models = await read_models(container, "rows", "rows")
    assert len(models["intervals"]) == 1440 and models["summary"]["intervals"] == 1440
    assert [(r[1], r[4]) for r in models["runs"]] == [(to_us(minute(0)), 1000), (to_us(minute(1000)), 440)]
