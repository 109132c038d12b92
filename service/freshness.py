"""The freshness probe: the server asks "has data stopped?" on its own schedule, so a dead
exporter's budget goes stale, and its alerts clear, in the log without anyone calling
`checkFreshness`.

Every `interval` seconds the probe sends `CheckFreshness` for each budget whose latest
data ended longer ago than its staleness limit (the only budgets whose answer at the
server's now can differ from the one at their event time), and for each budget holding
data but not the target agreed since (history a baseline backfilled before the
agreement): the decider brings the agreed target into force with `BudgetConfigured`, so
the budget reads against it without waiting for new data. The decider is the existing
one: it records `FreshnessChecked` (and the transitions it brings: ObservationsStale,
alerts cleared) only when something changes, so a budget already judged appends nothing.
The domain stays clock-free: the probe is the only part that reads the wall clock, and
only to decide when to run; the commands take the server time as any command does.

On PostgreSQL exactly one process probes: each round takes a session advisory lock on a
connection the probe keeps (`pg_try_advisory_lock`), and a process that does not get it
skips the round (it takes over if the holder dies: the lock goes with its session). On
SQLite the one server process probes. A round runs as its own task and awaits the bus
like any request, so it never blocks the server's loop; a failed round is logged and the
next one runs as planned.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import or_, select

from domain.budget import decider
from domain.budget.ledger import DEFAULT_STALE_AFTER
from domain.commands import parse_iso
from domain.objective import ObjectiveStatus
from projections.tables import budgets, objectives
from service.envelope import Envelope
from service.leadership import Leadership

log = logging.getLogger("slogov.freshness")

FRESHNESS_LOCK_KEY = 0x736C6F676F76_0F  # "slogov" + 0x0F: this lock only
PROBE_ACTOR = "freshness-probe"
PROBE_ROLES = frozenset({"sre"})
MIN_STALE_AFTER = timedelta(minutes=1)  # the smallest limit ConfigureAlerts accepts


async def stopped_feeds(engine: Any, now: datetime) -> list[str]:
    """Objectives whose latest data ended longer than their staleness limit before `now`."""
    async with engine.connect() as conn:
        rows = (await conn.execute(
            select(budgets.c.objective_id, budgets.c.last_observation_end, budgets.c.doc)
            .where(budgets.c.last_observation_end.is_not(None), budgets.c.target.is_not(None))
            .order_by(budgets.c.objective_id)
        )).all()
    out = []
    for row in rows:
        last = parse_iso(row.last_observation_end)
        if last >= now - MIN_STALE_AFTER:
            continue  # fresh under any limit: no need to read the document
        seconds = orjson.loads(row.doc).get("stale_after_seconds")
        limit = DEFAULT_STALE_AFTER if seconds is None else timedelta(seconds=seconds)
        if last < now - limit:
            out.append(row.objective_id)
    return out


async def unconfigured_budgets(engine: Any) -> list[str]:
    """Objectives whose budget holds data but not their agreed target (none yet, or an
    older one): agreed after the data was recorded, with no data since to bring it in."""
    async with engine.connect() as conn:
        rows = (await conn.execute(
            select(budgets.c.objective_id)
            .join(objectives, objectives.c.id == budgets.c.objective_id)
            .where(budgets.c.last_observation_end.is_not(None), objectives.c.agreed_target.is_not(None),
                   objectives.c.status != ObjectiveStatus.RETIRED.value,
                   or_(budgets.c.target.is_(None), budgets.c.target != objectives.c.agreed_target))
            .order_by(budgets.c.objective_id)
        )).all()
    return [row.objective_id for row in rows]


class FreshnessProbe:
    def __init__(self, container: Any, interval: float) -> None:
        self.container = container
        self.interval = interval
        self.rounds = 0  # rounds this process ran (tests, metrics)
        self._task: asyncio.Task | None = None
        self.leadership = Leadership(FRESHNESS_LOCK_KEY, "the freshness probe")

    def start(self) -> None:
        if self._task is None and self.interval > 0:
            self._task = asyncio.get_running_loop().create_task(self._loop(), name="slogov-freshness-probe")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
        await self.leadership.release()

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                if await self.leadership.held(self.container.engines.read):
                    await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:  # the next round runs as planned
                log.exception("freshness probe round failed")
                await self.leadership.release()

    async def run_once(self) -> int:
        """One round: probe every stopped feed and every budget behind its agreed target;
        returns how many budgets it probed."""
        container = self.container
        engine = container.engines.read
        ids = sorted(set(await stopped_feeds(engine, container.store.clock())) | set(await unconfigured_budgets(engine)))
        if ids:
            await asyncio.gather(*(
                container.bus.execute(Envelope(decider.CheckFreshness(oid), PROBE_ACTOR, PROBE_ROLES))
                for oid in ids
            ))
        self.rounds += 1
        return len(ids)
