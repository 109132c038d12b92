"""A live rebuild must not break the gate: `slogov projections rebuild` while pipelines
ask for decisions and gate-relevant events move the gate epoch (so the gate keeps
taking fresh snapshots of the read models it shares with the rebuild).

On PostgreSQL the gate's snapshot reads the head and the epoch, then the journey and
objective tables, in one transaction; a rebuild that locked those tables in another
order deadlocked with it and the pipeline got an internal error. Every decision here
must be answered, every rebuild must finish, and every decision must still replay.
"""

from __future__ import annotations

import asyncio
import itertools

from domain import journey as j
from tests.budgets.support import do
from tests.policies.support import (
    assert_every_decision_replays, assert_rebuild_equals_live, active_objective, deploy, observe,
)

SERVICES = ("payments", "ledger", "cards", "fraud")
REBUILDS = 6
DEPLOYERS = 6


async def test_rebuilds_under_gate_load_and_moving_epochs(container):
    await active_objective(container, services=SERVICES)
    await observe(container, 0, 30, 1000, 1000)
    runs = itertools.count()
    done = asyncio.Event()
    answered: list[str] = []

    async def pipeline(n: int) -> None:
        while not done.is_set():
            service = SERVICES[n % len(SERVICES)]
            decision = await deploy(container, "feature", f"run-{next(runs)}", service=service)
            answered.append(decision.outcome)

    async def move_epochs() -> None:
        # Each of these is gate-relevant: the epoch moves and every service's cached view goes stale.
        for minute in itertools.count(30):
            if done.is_set():
                return
            await observe(container, minute, minute + 1, 1000, 1000)
            await do(container, "sre", j.MapDependency("checkout", f"svc-{minute}", "service", minute % 2 == 0))

    async def rebuild() -> None:
        try:
            for _ in range(REBUILDS):
                await container.projections.rebuild()
                await asyncio.sleep(0.01)
        finally:
            done.set()

    await asyncio.gather(rebuild(), move_epochs(), *(pipeline(n) for n in range(DEPLOYERS)))
    assert len(answered) >= DEPLOYERS and set(answered) <= {"ALLOW", "REQUIRE_APPROVAL", "DENY"}
    assert await assert_every_decision_replays(container) == len(answered)
    await assert_rebuild_equals_live(container)
