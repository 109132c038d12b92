"""Snapshots: bounded storage on long streams, budgets trimmed to their window, rebuilt
snapshots equal to live ones, and every as-of fold equal to a fold from the start
(SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import orjson
import pytest
from sqlalchemy import select

import projections.snapshots as snapshot_projection
from domain import objective as o
from domain.budget import Interval, decider
from projections import budget_snapshots
from projections.tables import snapshots
from service import audit
from service import budget_queries as bq
from service.aggregates import fold
from tests.budgets.support import T0, SRE, agree, do, journey
from tests.graphql.conftest import negotiating_objective

HOUR = timedelta(hours=1)
README = Path(__file__).resolve().parents[2] / "README.md"


async def snapshot_rows(container, stream_id: str | None = None) -> list[tuple]:
    async with container.read_engine.connect() as conn:
        rows = sorted(tuple(r) for r in (await conn.execute(select(snapshots))).all())
    return [r for r in rows if stream_id is None or r[0] == stream_id]


async def test_a_growing_state_is_snapshotted_less_often_so_storage_stays_linear(api, monkeypatch):
    monkeypatch.setattr(snapshot_projection, "SNAPSHOT_EVERY", 2)
    monkeypatch.setattr(snapshot_projection, "BYTES_PER_EVENT", 400)
    container = api.container
    await negotiating_objective(api, "lat", "checkout")
    for i in range(40):  # each revision adds to the proposal's and the history's size
        await api.mutate("reviseProposal", {"objectiveId": "lat", "proposalId": "p1", "target": 0.99 + i / 10000,
                                            "rationale": f"round {i} " + "x" * 200}, role="product")
    stream = await container.store.read_stream("objective-lat")
    live = await snapshot_rows(container, "objective-lat")
    sizes = [len(r[3]) for r in live]
    versions = [r[1] for r in live]
    # Under the old every-N rule every even version would have one, and the bytes would grow
    # quadratically; here each gap is at least the previous snapshot's size / BYTES_PER_EVENT.
    assert len(versions) < len(stream) // 2
    for (v0, s0), v1 in zip(zip(versions, sizes), versions[1:]):
        assert (v1 - v0) * 400 >= s0
    assert sum(sizes) <= 400 * len(stream) + sizes[-1]
    # The fold stays right at every position, however far the nearest snapshot is.
    head = await api.head()
    for position in range(0, head + 1, 3):
        expected = fold(snapshot_projection.SNAPSHOTTED["objective"].evolve, None,
                        [e for e in stream if e.position <= position])
        got = await audit.state_as_of(container, "objective-lat", position)
        assert got == expected, position

    await container.projections.rebuild(["snapshots"])
    assert await snapshot_rows(container, "objective-lat") == live


def hours(first: int, last: int, good: int = 990, total: int = 1000) -> list[dict]:
    return [{"objective_id": "b", "start": T0 + i * HOUR, "end": T0 + (i + 1) * HOUR, "good": good, "total": total}
            for i in range(first, last)]


@pytest.mark.parametrize("budgeting", [o.Budgeting("occurrences"), o.Budgeting("timeslices", 60, 0.995)],
                         ids=["occurrences", "timeslices"])
async def test_budget_snapshots_keep_the_window_and_answer_like_a_full_fold(container, monkeypatch, budgeting):
    monkeypatch.setattr(snapshot_projection, "SNAPSHOT_EVERY", 5)
    await journey(container)
    # Window 4 days; burn windows up to 3 days (a tier may not look further back than the window).
    await do(container, "sre", o.DraftObjective("b", "checkout", "SLO b", o.SLI("availability"), o.Window("rolling", 4),
                                                budgeting))
    await agree(container, "b", "p1", 0.999)
    for i in range(0, 24 * 8, 2):  # eight days of hourly data, two hours a push, a bad stretch on day 5
        bad = 4 * 24 <= i < 4 * 24 + 3
        await bq.record_observations(container, "monitoring", SRE, hours(i, i + 2, 900 if bad else 999))
    # A correction of an hour long out of every window, another inside it, and an exclusion.
    await bq.correct_observation(container, "sre", SRE, "b", Interval(T0 + 2 * HOUR, T0 + 3 * HOUR, 1, 1000), "late")
    await bq.correct_observation(container, "sre", SRE, "b", Interval(T0 + 188 * HOUR, T0 + 189 * HOUR, 10, 1000), "x")
    await bq.exclude_interval(container, "sre", SRE, "b", "x1", T0 + 187 * HOUR, T0 + 188 * HOUR, "maintenance")
    # A recurring exclusion (the hour from 03:00 UTC, daily), ended after its next occurrence.
    await bq.exclude_recurring(container, "sre", SRE, "b", "nightly", "FREQ=DAILY;BYHOUR=3;BYMINUTE=0",
                               "2025-01-01T03:00", "UTC", "1h", "nightly backup")
    for i in range(24 * 8, 24 * 8 + 12, 2):
        await bq.record_observations(container, "monitoring", SRE, hours(i, i + 2))
        if i == 24 * 8 + 6:
            await bq.end_recurring_exclusion(container, "sre", SRE, "b", "nightly", T0 + (24 * 8 + 8) * HOUR, "moved")
    # A longer burn window lengthens the horizon: folds from the trimmed snapshots before it
    # lack intervals it reads, and must refold from the start.
    configured = (await container.store.head())[0]
    await bq.configure_alerts(container, "sre", SRE, "b", [{"severity": "ticket", "long_window": "4d",
                                                            "short_window": "6h", "threshold": 1.0}])
    for i in range(24 * 8 + 12, 24 * 8 + 14):
        await bq.record_observations(container, "monitoring", SRE, hours(i, i + 1, 900, 1000))

    stream = await container.store.read_stream("budget-b")
    live = await snapshot_rows(container, "budget-b")
    assert len(live) >= 10
    kept = [len(orjson.loads(r[3])["intervals"]["good"]) for r in live if r[2] <= configured]
    assert max(kept) <= 7 * 24 + 2 < 24 * 8  # the window and the burn windows, not the history
    assert any(orjson.loads(r[3])["kept_from_us"] is not None for r in live)

    # At every position of the budget stream: the same status as folding every event from the start.
    for event in stream:
        full = fold(decider.evolve, None, [e for e in stream if e.position <= event.position])
        got = await audit.state_as_of(container, "budget-b", event.position)
        assert got.version == full.version and got.to_doc() == full.to_doc(), event.stream_version
        assert got.status() == full.status(), event.stream_version
        if got.event_time is not None:
            assert budget_snapshots.answers_at(got, got.event_time)
    # A status time before what the trimmed state keeps is recognised as such (readers refold).
    assert not budget_snapshots.answers_at(got, T0 + 6 * HOUR)

    await container.projections.rebuild(["snapshots"])
    assert await snapshot_rows(container, "budget-b") == live


def test_the_readme_states_the_spacing_the_code_uses():
    text = " ".join(README.read_text(encoding="utf-8").split())
    assert f"every {snapshot_projection.SNAPSHOT_EVERY} events while a state is small" in text
    assert f"every S/{snapshot_projection.BYTES_PER_EVENT} events once it is S bytes" in text
