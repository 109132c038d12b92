"""Migration 0006 on an existing log (SQLite and PostgreSQL): the gate epoch it computes
in SQL equals the one the inline projection kept."""

from __future__ import annotations

from sqlalchemy import select

from projections.tables import gate_epoch
from tests.migration_steps import migrate_to
from tests.policies.support import active_objective, deploy, observe


async def _epoch(container) -> int:
    async with container.engines.read.connect() as conn:
        return (await conn.execute(select(gate_epoch.c.position))).scalar_one()


async def test_upgrading_an_existing_log_computes_the_same_gate_epoch(container):
    await active_objective(container)
    await observe(container, 0, 60, 1000, 1000)
    await deploy(container, "feature", "run-1")  # the last event is a decision: not gate-relevant
    live = await _epoch(container)
    head = (await container.store.head())[0]
    assert 0 < live < head

    await migrate_to(container, "0005", downgrade=True)
    await migrate_to(container, "head")
    assert await _epoch(container) == live
    # And the gate goes on from it: a decision after the upgrade is judged and replays.
    decision = await deploy(container, "feature", "run-2")
    assert decision.outcome == "ALLOW" and decision.evaluated_at_position == head
