"""Builders for the budget service tests: a prioritized journey with an agreed objective."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from domain import journey as j
from domain import objective as o
from domain.budget import Interval
from projections import budget_runs
from projections.tables import budget_runs as runs_table
from service.envelope import Envelope
from tests.service.support import propose

UTC = timezone.utc
T0 = datetime(2025, 1, 1, tzinfo=UTC)
MIN = timedelta(minutes=1)
SRE = frozenset({"sre"})


def minute(i: int) -> datetime:
    return T0 + i * MIN


def minutes(first: int, last: int, good: int, total: int) -> tuple[Interval, ...]:
    """One-minute intervals for minutes first..last-1, all with the same counts."""
    return tuple(Interval(minute(i), minute(i + 1), good, total) for i in range(first, last))


async def do(container, role: str, command, **guards):
    return await container.bus.execute(Envelope(command, f"{role}-person", frozenset({role}), **guards))


async def journey(container, journey_id: str = "checkout", critical: tuple[str, ...] = ()) -> None:
    await do(container, "product", propose(journey_id))
    await do(container, "leadership", j.PrioritizeJourney(journey_id, 1, 1, "revenue"))
    for service in critical:
        await do(container, "sre", j.MapDependency(journey_id, service, "service", True))


async def objective(container, objective_id: str, journey_id: str = "checkout", target: float | None = 0.999,
                    days: int = 30, service: str | None = None) -> None:
    await do(container, "sre", o.DraftObjective(objective_id, journey_id, f"SLO {objective_id}",
                                                o.SLI("availability"), o.Window("rolling", days), o.Budgeting("occurrences"),
                                                service))
    if target is not None:
        await agree(container, objective_id, "p1", target)


async def agree(container, objective_id: str, proposal_id: str, target: float) -> None:
    await do(container, "sre", o.ProposeTarget(objective_id, proposal_id, target, "from the baseline"))
    for party in ("product", "sre", "engineering", "leadership"):
        await do(container, party, o.EndorseProposal(objective_id, proposal_id, party))


async def run_rows(conn, objective_id: str) -> list[tuple]:
    """A budget's stored runs (objective_id, start_us, end_us, step_us, count, good, total), by start."""
    c = runs_table.c
    return [tuple(r) for r in (await conn.execute(
        select(runs_table).where(c.objective_id == objective_id).order_by(c.start_us))).all()]


def expanded(rows: list[tuple]) -> list[tuple[int, int, int, int]]:
    """The (start_us, end_us, good, total) intervals of `run_rows`, as the ledger loads them."""
    return list(zip(*budget_runs.expand((s, step, n, g, t) for _, s, _, step, n, g, t in rows)))


async def interval_rows(conn, objective_id: str) -> list[tuple[int, int, int, int]]:
    return expanded(await run_rows(conn, objective_id))
