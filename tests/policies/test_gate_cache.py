"""The gate's cached view (service/gate_state.py) on SQLite and PostgreSQL: reused while
only decisions are recorded, dropped the moment a gate-relevant event commits -- in this
process or in another one on the same database -- and every decision still replays."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from domain import journey as j
from projections.tables import gate_epoch
from service import gate
from service.bootstrap import build
from tests.budgets.support import do
from tests.policies.support import (
    CI, LEADERSHIP, OID, SERVICE, Clock, active_objective, assert_every_decision_replays, assert_rebuild_equals_live,
    deploy, head, observe,
)


async def _epoch(container) -> int:
    async with container.engines.read.connect() as conn:
        return (await conn.execute(select(gate_epoch.c.position))).scalar_one()


async def test_decisions_reuse_the_view_until_a_gate_relevant_event(container):
    await active_objective(container)
    await observe(container, 0, 60, 1000, 1000)
    epoch = await _epoch(container)
    assert epoch == await head(container)  # the last event was a budget event

    first = await deploy(container, "feature", "run-1")
    reads = container.gate.snapshots
    decisions = [await deploy(container, "feature", f"run-{i}") for i in range(2, 6)]
    assert container.gate.snapshots == reads  # decisions do not move the epoch: no new snapshot
    assert await _epoch(container) == epoch
    # Each decision records the head it was judged at, not the snapshot's.
    assert [d.evaluated_at_position for d in decisions] == [first.position + i for i in range(4)]
    assert all(d.outcome == "ALLOW" for d in decisions)

    await observe(container, 60, 70, 0, 1000)  # exhausted: a freeze starts
    assert await _epoch(container) == await head(container)
    denied = await deploy(container, "feature", "run-6")
    assert denied.outcome == "DENY" and container.gate.snapshots == reads + 1

    # A mapping change is gate-relevant too: a new critical service is judged at once
    # against the journey's objective (the running freeze keeps the scope it started with).
    assert (await deploy(container, "feature", "run-7", service="ledger")).objectives == ()
    await do(container, "sre", j.MapDependency("checkout", "ledger", "database", True))
    assert (await deploy(container, "feature", "run-8", service="ledger")).objectives == (OID,)
    assert await assert_every_decision_replays(container) == 8
    await assert_rebuild_equals_live(container)  # the epoch row refolds to the same value


async def test_another_process_sees_a_freeze_and_a_revocation_at_once(container, settings):
    """Two containers on one database stand for two server processes: B's writes reach A's cache."""
    clock = Clock()
    container.store.clock = clock
    other = build(settings, auto_migrate=False)
    other.store.clock = clock
    await other.startup()
    try:
        await active_objective(container)
        await observe(container, 0, 60, 1000, 1000)
        assert (await deploy(container, "feature", "a-1")).outcome == "ALLOW"  # A caches the view
        assert (await deploy(container, "feature", "a-2")).outcome == "ALLOW"

        await observe(other, 60, 70, 0, 1000)  # B records the data that freezes payments
        assert (await deploy(container, "feature", "a-3")).outcome == "DENY"

        await gate.grant_freeze_exception(other, "vp", LEADERSHIP, SERVICE, clock.now + timedelta(hours=1),
                                          "launch", exception_id="x-1")
        assert (await deploy(container, "feature", "a-4")).outcome == "ALLOW"
        preview = await gate.deploy_preview(container, "dev", CI, SERVICE, "feature", "v1")
        assert preview.outcome == "ALLOW"

        # Expiry needs no event: a cached exception past its expiry lets nothing through.
        clock.advance(timedelta(hours=2))
        assert (await deploy(container, "feature", "a-5")).outcome == "DENY"
        clock.now -= timedelta(hours=2)  # (only a test's clock goes back)
        assert (await deploy(container, "feature", "a-6")).outcome == "ALLOW"

        await gate.revoke_freeze_exception(other, "vp", LEADERSHIP, "x-1", "launch slipped")
        assert (await deploy(container, "feature", "a-7")).outcome == "DENY"
        assert (await deploy(other, "feature", "b-1")).outcome == "DENY"
        assert await assert_every_decision_replays(container) == 8
    finally:
        await other.shutdown()


async def test_concurrent_decisions_share_reads_and_one_snapshot(container):
    import asyncio

    await active_objective(container)
    await observe(container, 0, 60, 1000, 1000)
    await observe(container, 60, 70, 0, 1000)  # frozen; the next decisions find no cached view
    reads, snapshots = container.gate.position_reads, container.gate.snapshots
    answers = await asyncio.gather(*(deploy(container, "feature", f"c-{i}") for i in range(16)))
    assert {a.outcome for a in answers} == {"DENY"}
    assert container.gate.snapshots == snapshots + 1  # one snapshot shared by sixteen callers
    assert container.gate.position_reads - reads < 16  # and fewer head reads than callers
    assert await assert_every_decision_replays(container) == 16
