"""Reading SLIs from their sources: `measureBaseline` (the seed's phase 4), and what the
collector did for an objective: `collectionState(objectiveId)` and `Objective.collection`
(`service.collection.state`)."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry
from strawberry.types import Info

from api.auth import current_principal
from api.schema import reads
from api.schema.objectives import Objective, from_objective
from api.schema.shared import EventRef, event_refs, measured, readable
from domain import collection as cd
from service.collection.baseline import MAX_DAYS, measure_baseline
from service.collection.state import NO_DATA, CollectionView, collection_view


@strawberry.enum(description="Why the collector got no count from the source (the stale reasons add NO_DATA).")
class CollectionFaultReason(Enum):
    UNREACHABLE = "unreachable"
    REJECTED = "rejected"
    FAILED = "failed"
    BAD_DATA = "bad_data"
    SEVERAL_SERIES = "several_series"
    MISCONFIGURED = "misconfigured"
    NO_SERIES = "no_series"
    NO_DATA = NO_DATA



@strawberry.type(description="A fault of the source for one objective, as the collector recorded it (SourceFaulted).")
class CollectionFault:
    reason: CollectionFaultReason = strawberry.field(description=(
        "UNREACHABLE (no answer), REJECTED (a 4xx: the query or the request refused), FAILED (a 5xx), BAD_DATA (an "
        "answer slogov cannot count, or counts the budget refused), SEVERAL_SERIES (where the SLI expects one), "
        "MISCONFIGURED (a header's environment variable unset), NO_SERIES (no count for any minute asked for: the "
        "selectors match nothing there, or only NaN)."))
    message: str = strawberry.field(description="What the source (or the collector) said, one line.")
    since: datetime = strawberry.field(description="When the collector recorded it (server time).")


@strawberry.type(description="Minutes the collector will never ask for: it was behind by more than its horizon.")
class CollectionGap:
    start: datetime
    end: datetime
    reason: str
    recorded_at: datetime


@strawberry.type(description=(
    "What the collector does for an objective, read now from the log's read models and the objective's "
    "`collection-{objectiveId}` stream. Live only (an `asOf` objective shows null)."))
class CollectionState:
    objective_id: strawberry.ID
    source: str | None = strawberry.field(description="The data source its SLI definition names; null without one.")
    collected: bool = strawberry.field(description=(
        "The collector asks the source for its minutes: it has an SLI definition whose source is defined and live, "
        "and it is not retired."))
    not_collected_reason: str | None = strawberry.field(description="Why not, when `collected` is false.")
    collected_until: datetime | None = strawberry.field(description=(
        "The end of the last minute its budget holds, in data time (collected or pushed); where collection resumes. "
        "Null before any data."))
    stale: bool = strawberry.field(description=(
        "The budget's freshness rule judged at `judgedAt`: no data for longer than `staleAfterMinutes`, or "
        "recorded stale by a probe. False before any data."))
    stale_reason: CollectionFaultReason | None = strawberry.field(description=(
        "When stale: the source's fault in force, else NO_DATA (the collector is not running, or the source "
        "has no new minutes). Null when fresh."))
    stale_after_minutes: float
    judged_at: datetime = strawberry.field(description="The server's now.")
    fault: CollectionFault | None = strawberry.field(description=(
        "The source's fault in force for this objective (the last round got no count from it); null while it "
        "answers with data."))
    last_fault: CollectionFault | None = strawberry.field(description="The latest fault, in force or cleared.")
    recovered_at: datetime | None = strawberry.field(description="When `lastFault` cleared; null while in force.")
    gap_count: int = strawberry.field(description="Gaps recorded, all of them.")
    gaps: list[CollectionGap] = strawberry.field(description=f"The latest {cd.RECENT_GAPS} gaps, newest first.")
    horizon_minutes: int = strawberry.field(description=(
        "This server's collector horizon: a collector behind by more records the older minutes as a gap."))
    delay_seconds: int = strawberry.field(description="A minute is collected this long after it ends.")
    interval_seconds: float = strawberry.field(description="Seconds between collection rounds.")
    version: int = strawberry.field(description="The collection stream's version (0: nothing recorded yet).")


def _fault(f: cd.Fault | None) -> CollectionFault | None:
    return None if f is None else CollectionFault(reason=CollectionFaultReason(f.reason), message=f.message, since=f.since)


def from_view(v: CollectionView) -> CollectionState:
    s = v.state
    return CollectionState(
        objective_id=strawberry.ID(v.objective_id), source=v.source, collected=v.collected,
        not_collected_reason=v.not_collected_reason, collected_until=v.collected_until, stale=v.stale,
        stale_reason=None if v.stale_reason is None else CollectionFaultReason(v.stale_reason),
        stale_after_minutes=v.stale_after.total_seconds() / 60, judged_at=v.judged_at,
        fault=_fault(s.fault), last_fault=_fault(s.last_fault), recovered_at=s.recovered_at, gap_count=s.gaps,
        gaps=[CollectionGap(start=g.start, end=g.end, reason=g.reason, recorded_at=g.recorded_at)
              for g in reversed(s.recent_gaps)],
        horizon_minutes=int(v.horizon.total_seconds() // 60), delay_seconds=int(v.delay.total_seconds()),
        interval_seconds=v.interval_seconds, version=s.version,
    )


async def collection_of(info: Info, objective_id: str) -> CollectionState | None:
    current_principal(info)
    view = await collection_view(info.context["container"], objective_id)
    return None if view is None else from_view(view)


@strawberry.type
class CollectionQuery:
    @strawberry.field(description=(
        "An objective's collection state (any role): its source, the last minute collected, whether it is stale "
        "and why, the source's fault, the gaps recorded and the collector's horizon. Null for an unknown objective."))
    async def collection_state(self, info: Info, objective_id: strawberry.ID) -> CollectionState | None:
        return await collection_of(info, str(objective_id))


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
