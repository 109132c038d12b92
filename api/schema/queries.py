"""Queries. Every one needs a valid token; any role may read."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from api.auth import current_principal
from api.schema import audit, enums, reads
from api.schema.types import (
    Connection,
    Journey,
    Objective,
    ObjectiveFilter,
    Viewer,
    from_journey,
    from_objective,
    journey_connection,
    objective_connection,
)


@strawberry.input
class JourneyFilter:
    tier: int | None = None
    status: enums.JourneyStatus | None = None
    owner: str | None = None
    depends_on: str | None = strawberry.field(default=None, description="A service name the journey depends on.")


@strawberry.type
class Query:
    @strawberry.field(description="The caller: the actor recorded on their events and their roles.")
    def viewer(self, info: Info) -> Viewer:
        principal = current_principal(info)
        return Viewer(actor=principal.actor, roles=[r for r in enums.Role if r.value in principal.roles])

    @strawberry.field(
        description="A journey by id, or null. With asOf, as it stood then (null before it was proposed), "
        "and so do its nested fields (objectives, composite)."
    )
    async def journey(self, info: Info, id: strawberry.ID, as_of: audit.AsOf | None = None) -> Journey | None:
        current_principal(info)
        past = await audit.as_of_reads(info, as_of)
        if past is not None:
            state = await past.journey(str(id))
            return None if state is None else from_journey(state, past)
        state = await reads.journey_by_id(info.context["container"], str(id))
        return None if state is None else from_journey(state)

    @strawberry.field(description="Journeys, oldest first.")
    async def journeys(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        filter: JourneyFilter | None = None,
        as_of: audit.AsOf | None = None,
    ) -> Connection[Journey]:
        current_principal(info)
        past = await audit.as_of_reads(info, as_of)
        if past is not None:
            return await audit.journeys_as_of(info, first, after, filter, past)
        return await journey_connection(info, first, after, filter)

    @strawberry.field(
        description="An objective by id, or null. With asOf, as it stood then (null before it was drafted), "
        "and so do its nested fields (journey, budget, ledger, exclusions, feasibility, policy actions, reviews)."
    )
    async def objective(self, info: Info, id: strawberry.ID, as_of: audit.AsOf | None = None) -> Objective | None:
        current_principal(info)
        past = await audit.as_of_reads(info, as_of)
        if past is not None:
            state = await past.objective(str(id))
            return None if state is None else from_objective(state, past)
        state = await reads.objective_by_id(info.context["container"], str(id))
        return None if state is None else from_objective(state)

    @strawberry.field(description="Objectives, oldest first.")
    async def objectives(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        filter: ObjectiveFilter | None = None,
        as_of: audit.AsOf | None = None,
    ) -> Connection[Objective]:
        current_principal(info)
        past = await audit.as_of_reads(info, as_of)
        if past is not None:
            return await audit.objectives_as_of(info, first, after, filter, past)
        return await objective_connection(info, first, after, filter)
