"""Reading SLIs from their sources: `measureBaseline` (the seed's phase 4)."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from api.auth import current_principal
from api.schema import reads
from api.schema.objectives import Objective, from_objective
from api.schema.shared import EventRef, event_refs, measured, readable
from service.collection.baseline import MAX_DAYS, measure_baseline


@strawberry.input
class MeasureBaselineInput:
    objective_id: strawberry.ID
    days: int = strawberry.field(default=28, description=f"Days of history before `until`, 1 to {MAX_DAYS}.")
    until: datetime | None = strawberry.field(
        default=None, description="The period's end, a whole minute; default: the last complete minute.")
    candidates: list[float] | None = strawberry.field(
        default=None, description="Targets to judge besides 0.99, 0.995, 0.999, 0.9995 and the open and agreed ones.")
    notes: str | None = None


@strawberry.type
class MeasureBaselinePayload:
    objective: Objective
    minutes_with_data: int = strawberry.field(description="Minutes of the period the source had counts for.")
    minutes_recorded: int = strawberry.field(
        description="Minutes the backfill appended to the budget (0 when they were all recorded before).")
    events: list[EventRef] = strawberry.field(description="The baseline's event.")


@strawberry.type
class CollectionMutation:
    @strawberry.mutation(description=(
        "Measure a baseline from the objective's data source (sre): the last `days` of good and total counts at "
        "one-minute resolution, recorded in its budget as backfill (a minute recorded before is kept: measuring "
        "again appends no minute twice), analysed per day and week with the worst windows and each candidate "
        "target's budget, and recorded as the objective's baseline. UNAVAILABLE when the source is down or "
        "failing; BAD_USER_INPUT with Prometheus's message when it refuses the query."))
    async def measure_baseline(self, info: Info, input: MeasureBaselineInput) -> MeasureBaselinePayload:
        container = info.context["container"]

        async def run():
            principal = current_principal(info)
            return await measure_baseline(
                container, principal.actor, principal.roles, str(input.objective_id), input.days,
                until=input.until, candidates=tuple(input.candidates or ()), notes=input.notes)

        result = await measured("MeasureBaseline", run)
        state = readable(await reads.objective_by_id(container, result.objective_id),
                         f"objective {result.objective_id}", objective_id=result.objective_id)
        return MeasureBaselinePayload(objective=from_objective(state), minutes_with_data=result.minutes_with_data,
                                      minutes_recorded=result.minutes_recorded, events=event_refs(result.result.events))
