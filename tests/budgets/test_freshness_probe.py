"""A dead exporter does not look fresh: the server's own freshness probe records the
staleness and clears the alerts in the log without anyone calling checkFreshness; on
PostgreSQL only one process probes. (Live reads: tests/graphql/test_budget_freshness.py.)"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

from domain.budget import Interval
from domain.budget.decider import RecordObservations
from service import budget_queries as bq
from service.bootstrap import build
from service.freshness import FreshnessProbe, stopped_feeds
from tests.budgets.support import agree, do, journey, objective


async def dead_exporter(container, oid: str = "o") -> datetime:
    """30 minutes of data ending 32 minutes ago, its last 10 minutes all errors (pages firing)."""
    await journey(container)
    await objective(container, oid, days=1)
    base = datetime.now(timezone.utc).replace(second=0, microsecond=0) - timedelta(minutes=62)
    ivs = tuple(Interval(base + timedelta(minutes=i), base + timedelta(minutes=i + 1), 0 if i >= 20 else 1000, 1000)
                for i in range(30))
    r = await do(container, "sre", RecordObservations(oid, ivs))
    assert "BurnRateAlertRaised" in [e.type for e in r.events]
    return base + timedelta(minutes=30)


async def test_the_probe_records_staleness_and_clears_alerts_once(container):
    await dead_exporter(container)
    await objective(container, "live", days=1)  # no data: nothing to probe
    assert await stopped_feeds(container.engines.read, container.store.clock()) == ["o"]
    head = (await container.store.head())[0]
    probe = FreshnessProbe(container, interval=0)
    assert await probe.run_once() == 1
    new = await container.store.read_stream("budget-o")
    derived = [(e.type, e.actor) for e in new if e.position > head]
    assert derived[0] == ("FreshnessChecked", "freshness-probe")
    types = {t for t, _ in derived}
    assert {"ObservationsStale", "BurnRateAlertCleared"} <= types
    s = await bq.budget_of(container, "o")
    assert s.stale and [a.severity for a in s.alerts] == ["ticket"]  # pages cleared; 6h still holds the errors
    # Nothing new to say: the next round appends nothing.
    head = (await container.store.head())[0]
    await probe.run_once()
    assert (await container.store.head())[0] == head


async def test_the_server_probes_on_its_own_schedule(settings):
    from dataclasses import replace

    container = build(replace(settings, freshness_probe_seconds=0.05), auto_migrate=False)
    await container.startup()
    try:
        await dead_exporter(container)
        container.start_schedules()
        for _ in range(200):  # the probe's rounds run as their own task; nothing here calls them
            if (await bq.budget_of(container, "o")).stale:
                break
            await asyncio.sleep(0.05)
        s = await bq.budget_of(container, "o")
        assert s.stale and "page" not in {a.severity for a in s.alerts} and container.freshness.rounds >= 1
    finally:
        await container.shutdown()
    assert container.freshness.rounds >= 1 and container.freshness._task is None


async def test_one_process_probes(settings):
    first, second = build(settings, auto_migrate=False), build(settings, auto_migrate=False)
    await first.startup()
    await second.startup()
    a, b = FreshnessProbe(first, 60), FreshnessProbe(second, 60)
    try:
        leaders = [await a.leadership.held(a.container.engines.read), await b.leadership.held(b.container.engines.read)]
        if first.engines.read.dialect.name == "postgresql":
            assert leaders == [True, False]  # the advisory lock: exactly one
            await a.stop()  # the holder goes away: the other takes over at its next round
            assert await b.leadership.held(b.container.engines.read)
        else:
            assert leaders == [True, True]  # SQLite: one server process
    finally:
        await a.stop()
        await b.stop()
        await first.shutdown()
        await second.shutdown()


async def test_the_probe_brings_a_target_agreed_after_backfilled_history_into_force(container):
    """A baseline backfills history before any target is agreed; once one is, the budget
    reads against it from the probe's next round, without waiting for new data."""
    from service.freshness import unconfigured_budgets

    await journey(container)
    await objective(container, "o", target=None, days=1)
    base = datetime.now(timezone.utc).replace(second=0, microsecond=0) - timedelta(minutes=32)
    ivs = tuple(Interval(base + timedelta(minutes=i), base + timedelta(minutes=i + 1), 995, 1000) for i in range(30))
    await do(container, "sre", RecordObservations("o", ivs, backfill=True))
    await agree(container, "o", "p1", 0.99)
    assert await bq.budget_of(container, "o") is None  # no target in force in the budget yet
    assert await stopped_feeds(container.engines.read, container.store.clock()) == []  # fresh data
    assert await unconfigured_budgets(container.engines.read) == ["o"]
    head = (await container.store.head())[0]
    probe = FreshnessProbe(container, interval=0)
    assert await probe.run_once() == 1
    new = [(e.type, e.actor, e.data.get("target")) for e in await container.store.read_stream("budget-o") if e.position > head]
    assert new == [("BudgetConfigured", "freshness-probe", 0.99)]
    s = await bq.budget_of(container, "o")
    assert s is not None and s.total == 30_000 and not s.exhausted  # 0.5% bad of a 1% allowance
    # In force now: the next round has nothing to bring in.
    assert await unconfigured_budgets(container.engines.read) == []
    head = (await container.store.head())[0]
    assert await probe.run_once() == 0 and (await container.store.head())[0] == head
