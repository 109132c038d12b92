"""Rebuild equals live: after a long random command sequence (many refused, many
concurrent), dropping and refolding every read model gives the same rows."""

from __future__ import annotations

import asyncio
import random

from sqlalchemy import select

from domain.errors import DomainError
from projections.tables import ALL_TABLES
from service.envelope import Envelope
from tests.domain.support import World
from tests.domain.test_random import random_command, random_roles


async def snapshot(container) -> dict[str, list[tuple]]:
    async with container.engines.read.connect() as conn:
        return {
            t.name: sorted(tuple(r) for r in (await conn.execute(select(t))).all()) for t in ALL_TABLES
        }


async def test_rebuilt_read_models_equal_the_live_ones_after_a_random_history(container):
    rng = random.Random(20261123)
    world = World()  # only steers the walk toward commands that can succeed
    accepted = 0
    for round_ in range(40):
        envelopes = []
        for _ in range(8):
            command = random_command(rng, world, late=round_ > 32)
            roles = random_roles(rng, command)
            actor = f"actor-{rng.randint(1, 4)}"
            try:
                world.run(command, actor=actor, roles=roles)
            except DomainError:
                pass
            envelopes.append(Envelope(command, actor, roles))
        # Sent together, so group commit folds several commands per transaction.
        outcomes = await asyncio.gather(*(container.bus.execute(e) for e in envelopes), return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, Exception) and not isinstance(outcome, DomainError):
                raise outcome
        accepted += sum(not isinstance(o, Exception) for o in outcomes)
    assert accepted > 80

    live = await snapshot(container)
    assert live["rm_journeys"] and live["rm_objectives"]
    counts = await container.projections.rebuild()
    head, _ = await container.store.head()
    log = await container.store.read_all(limit=10_000)
    prefixes = {
        "journeys": "journey-", "objectives": "objective-", "budgets": "budget-", "policies": "policy-",
        "policy_actions": "actions-", "freeze_exceptions": "exception-", "deploy_decisions": "deploy-",
        "data_sources": "source-",
    }
    audit_counts = {name: counts.pop(name) for name in ("event_index", "snapshots")}
    gate_epoch_count = counts.pop("gate_epoch")
    assert counts == {name: sum(1 for e in log if e.stream_id.startswith(p)) for name, p in prefixes.items()}
    assert sum(counts.values()) == head
    assert audit_counts["event_index"] == head
    assert gate_epoch_count == sum(
        1 for e in log if e.stream_id.split("-", 1)[0] in ("journey", "objective", "budget", "policy", "actions", "exception")
    )
    assert audit_counts["snapshots"] == sum(
        1 for e in log if e.stream_id.split("-", 1)[0] in ("journey", "objective", "policy", "actions")
    )
    assert await snapshot(container) == live
