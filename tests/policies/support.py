"""Builders for the gate tests: a journey mapping a service critically, an ACTIVE
objective under a policy, budget data through `record_observations`, a movable clock."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from domain import objective as o
from service import budget_queries as bq
from service import gate
from tests.budgets.support import T0, agree, do, journey, minute

OID = "checkout-availability"
SERVICE = "payments"
CI = frozenset({"ci"})
SRE = frozenset({"sre"})
LEADERSHIP = frozenset({"leadership"})


class Clock:
    """The store's clock, moved forward by tests (the log never goes back in time)."""

    def __init__(self) -> None:
        self.now = datetime.now(timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


async def active_objective(container, oid: str = OID, journey_id: str = "checkout",
                           services: tuple[str, ...] = (SERVICE,), policy_version: int = 0,
                           policy_id: str = "default") -> None:
    await journey(container, journey_id, critical=services)
    await do(container, "sre", o.DraftObjective(oid, journey_id, f"SLO {oid}", o.SLI("availability"),
                                                o.Window("rolling", 30), o.Budgeting("occurrences")))
    await agree(container, oid, "p1", 0.999)
    await do(container, "sre", o.FormalizeAgreement(oid, policy_id, policy_version, "pm", "sre-lead",
                                                    ("sre-oncall", "vp-eng"), "two engineers"))


async def observe(container, first: int, last: int, good: int, total: int, oid: str = OID):
    rows = [{"objective_id": oid, "start": minute(i), "end": minute(i + 1), "good": good, "total": total}
            for i in range(first, last)]
    return await bq.record_observations(container, "monitoring", SRE, rows)


async def deploy(container, change: str, run: str, version: str = "v1", service: str = SERVICE):
    return await gate.evaluate_deploy(container, "pipeline", CI, service, change, version, run)


async def head(container) -> int:
    return (await container.store.head())[0]


async def assert_every_decision_replays(container) -> int:
    ids = await gate.deploy_decision_ids(container)
    for run in ids:
        replay = await gate.replay_deploy_decision(container, run)
        assert replay.matches, (run, replay.differences)
        assert replay.replayed.outcome == replay.recorded.outcome
    return len(ids)


__all__ = ["T0", "minute"]


async def assert_rebuild_equals_live(container) -> None:
    """Dropping and refolding every read model gives the rows the live system has."""
    from sqlalchemy import select

    from projections.tables import ALL_TABLES

    async def snapshot():
        async with container.engines.read.connect() as conn:
            return {t.name: sorted(tuple(r) for r in (await conn.execute(select(t))).all()) for t in ALL_TABLES}

    live = await snapshot()
    await container.projections.rebuild()
    assert await snapshot() == live
