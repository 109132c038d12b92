"""Rebuild's bulk path: the read models' indexes and constraints come back exactly as they
were, a rebuild over many read pages equals live, and a failing projection leaves the
old read models in place."""

from __future__ import annotations

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.exc import IntegrityError

from projections.tables import ALL_TABLES, event_index
from tests.budgets.support import agree, do, journey
from tests.policies.support import observe
from tests.service.test_rebuild import snapshot


async def _history(container) -> None:
    from domain import objective as o

    for jid in ("checkout", "search"):
        await journey(container, jid, critical=(f"{jid}-api",))
        oid = f"{jid}-availability"
        await do(container, "sre", o.DraftObjective(oid, jid, "SLO", o.SLI("availability"),
                                                    o.Window("rolling", 30), o.Budgeting("occurrences")))
        await agree(container, oid, "p1", 0.999)
        for minute in range(0, 30, 5):
            await observe(container, minute, minute + 5, 990, 1000, oid=oid)


async def _indexes(container) -> list[tuple]:
    names = [t.name for t in ALL_TABLES]
    async with container.engines.read.connect() as conn:
        if conn.dialect.name == "postgresql":
            rows = await conn.execute(text(
                "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE tablename = ANY(:names)"
            ), {"names": names})
            constraints = await conn.execute(text(
                "SELECT conrelid::regclass::text, conname, contype FROM pg_constraint"
                " WHERE conrelid::regclass::text = ANY(:names)"
            ), {"names": names})
            return sorted(map(tuple, rows)) + sorted(map(tuple, constraints))
        rows = await conn.execute(text("SELECT tbl_name, name, sql FROM sqlite_master WHERE type = 'index'"))
        return sorted(tuple(r) for r in rows if r[0] in names)


async def test_indexes_and_constraints_survive_a_rebuild(container):
    await _history(container)
    before = await _indexes(container)
    assert any("rm_event_index" in str(r) for r in before)
    await container.projections.rebuild()
    assert await _indexes(container) == before
    # The unique event id is enforced again.
    async with container.engines.read.connect() as conn:
        first = (await conn.execute(select(event_index).limit(1))).one()._asdict()
    with pytest.raises(IntegrityError):
        async with container.engines.write.begin() as conn:
            await conn.execute(insert(event_index).values(**{**first, "position": 10**9}))


async def test_a_rebuild_reading_many_small_pages_equals_live(container):
    await _history(container)
    live = await snapshot(container)
    head, _ = await container.store.head()
    container.projections.page = 4  # many pages, each requested before the last is folded
    assert head >= 40
    counts = await container.projections.rebuild()
    assert counts["event_index"] == head
    assert await snapshot(container) == live


async def test_a_failing_projection_leaves_the_read_models_as_they_were(container):
    await _history(container)
    live = await snapshot(container)
    before = await _indexes(container)
    journeys = next(p for p in container.projections.inline if p.name == "journeys")
    original = journeys.evolve

    def broken(state, event):
        if event.type == "DependencyMapped":
            raise RuntimeError("a projection bug")
        return original(state, event)

    journeys.evolve = broken
    with pytest.raises(RuntimeError, match="a projection bug"):
        await container.projections.rebuild()
    journeys.evolve = original
    assert await snapshot(container) == live
    assert await _indexes(container) == before
    # And the log takes new commands with its read models intact.
    await journey(container, "after-the-failure")
