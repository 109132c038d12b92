"""Builders for the budget service tests: a prioritized journey with an agreed objective."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from domain import journey as j
from domain import objective as o
from domain.budget import Interval
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
