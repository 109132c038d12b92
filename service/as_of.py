"""Reads as the system stood at one log position: the state behind every field nested
under an ``asOf`` query (objective, journey, budget, policy actions, reviews, composite),
and the data sources a specs export writes.

Each stream is folded once per ``AsOfReads`` (one per query) from its nearest snapshot
(``projections.snapshots``). Which entities existed at the position comes from the entity
read models' ``created_position``; their state always from the log.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Sequence

from sqlalchemy import select

from domain import journey as journeys_domain
from domain import objective as objectives_domain
from domain import policy_actions as actions_domain
from domain import sources as sources_domain
from domain.budget import decider
from domain.budget.status import Status
from eventstore.store import aware
from eventstore.tables import events
from projections.budget_snapshots import answers_at
from projections.snapshots import fold_as_of
from projections.tables import objectives
from service.budget_queries import status_at


class AsOfReads:
    def __init__(self, container: Any, position: int) -> None:
        self.container = container
        self.position = position
        self._states: dict[tuple[str, bool], Any] = {}

    async def state(self, stream_id: str, *, use_snapshots: bool = True) -> Any:
        key = (stream_id, use_snapshots)
        if key not in self._states:
            async with self.container.read_engine.connect() as conn:
                self._states[key] = await fold_as_of(
                    conn, self.container.store, stream_id, self.position, use_snapshots=use_snapshots
                )
        return self._states[key]

    async def journey(self, journey_id: str) -> journeys_domain.JourneyState | None:
        return await self.state(journeys_domain.stream_id(journey_id))

    async def objective(self, objective_id: str) -> objectives_domain.ObjectiveState | None:
        return await self.state(objectives_domain.stream_id(objective_id))

    async def source(self, name: str) -> sources_domain.SourceState | None:
        """The data source as it was at the position (its URL then, retired or not)."""
        return await self.state(sources_domain.stream_id(name))

    async def actions(self, objective_id: str) -> actions_domain.ActionsState | None:
        return await self.state(actions_domain.stream_id(objective_id))

    async def budget(self, objective_id: str, *, whole: bool = False) -> decider.BudgetState | None:
        """The budget state (`whole`: with every interval, for the ledger chart; otherwise
        possibly trimmed to what a status at its event time reads)."""
        return await self.state(decider.stream_id(objective_id), use_snapshots=not whole)

    async def budget_status(self, objective_id: str, at: datetime | None = None) -> Status | None:
        """The budget at `at` (default: its event time as of the position), with the
        arithmetic of the head read."""
        state = await self.budget(objective_id)
        if state is not None and at is not None and not answers_at(state, at):
            state = await self.budget(objective_id, whole=True)  # earlier than the trimmed snapshot keeps
        return None if state is None else status_at(state, at)

    async def now(self) -> datetime | None:
        """The model's "now" at the position: when its event was recorded (None before the first)."""
        async with self.container.read_engine.connect() as conn:
            at = (await conn.execute(select(events.c.recorded_at).where(events.c.position == self.position))).scalar()
        return None if at is None else aware(at)

    async def _objectives_where(self, condition: Any) -> list[objectives_domain.ObjectiveState]:
        async with self.container.read_engine.connect() as conn:
            ids = (
                await conn.execute(
                    select(objectives.c.id)
                    .where(condition, objectives.c.created_position <= self.position)
                    .order_by(objectives.c.id)
                )
            ).scalars().all()
        states = [await self.objective(i) for i in ids]
        return [s for s in states if s is not None]

    async def journey_objectives(self, journey_id: str) -> list[objectives_domain.ObjectiveState]:
        """The journey's objectives that existed at the position, by id."""
        return await self._objectives_where(objectives.c.journey_id == journey_id)

    async def objectives_for_services(self, services: Sequence[str]) -> list[objectives_domain.ObjectiveState]:
        """Component objectives measuring these services (a service is fixed when an objective
        is drafted, so the read model's column answers for the past too), not retired then."""
        found = await self._objectives_where(objectives.c.service.in_(list(services)))
        return [s for s in found if not s.retired]
