"""Journeys in the API: the Critical User Journey's types, its queries (``journey``,
``journeys``, each with ``asOf``) and its mutations (phases 1 to 3 of the seed: propose,
prioritize, scope, map dependencies, record and close instrumentation gaps, retire)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Callable

import strawberry
from strawberry.types import Info

from api.auth import current_principal
from api.schema import enums, reads
from api.schema.labels import Label, LabelSelector, domain_labels, labels_out, selectors
from api.schema import inputs as i
from api.schema.connections import Connection, decode_cursor, page_size
from api.schema.enums import value_of
from api.schema.objectives import Objective, ObjectiveFilter, objective_connection, objectives_as_of
from api.schema.shared import (
    AsOf,
    EventRef,
    as_of_reads,
    event_refs,
    page_as_of,
    page_connection,
    readable,
    run_command,
    texts,
)
from domain import journey as jd
from domain.labels import matches as labels_match
from projections.tables import journeys as journeys_table
from service.as_of import AsOfReads

if TYPE_CHECKING:
    from api.schema.budgets import JourneyComposite

# The composite's types live in api.schema.budgets, which builds on the objectives.
_BUDGETS = "api.schema.budgets"


# --- types ------------------------------------------------------------------------


@strawberry.type(description="What the business brought to prioritization.")
class BusinessInputs:
    revenue_impact: str | None
    conversion_impact: str | None
    support_volume: int | None = strawberry.field(description="Support tickets per month.")


@strawberry.type(description="The business decision that prioritized the journey.")
class Prioritization:
    priority: int = strawberry.field(description="Rank, 1 first.")
    rationale: str | None
    decided_by: str | None
    role: str | None
    decided_at: datetime | None


@strawberry.type(description="The documented CUJ scope (the cross-functional workshop's output).")
class JourneyScope:
    includes: list[str]
    excludes: list[str]
    starts_at: str
    ends_at: str
    success_criteria: str
    workshop_participants: list[str]
    documented_by: str | None
    documented_at: datetime


@strawberry.type
class Dependency:
    service: str
    kind: enums.DependencyKind
    critical: bool
    failure_modes: list[str]


@strawberry.type(description="Missing instrumentation; while open, no target may be proposed on the journey.")
class InstrumentationGap:
    id: strawberry.ID
    description: str
    sli_kind: enums.SliKind | None
    open: bool
    resolution: str | None
    recorded_at: datetime
    closed_at: datetime | None


@strawberry.type(description="A Critical User Journey.")
class Journey:
    id: strawberry.ID
    version: int = strawberry.field(description="The journey stream's version (for expectedVersion).")
    name: str
    description: str
    steps: list[str]
    starts_at: str
    ends_at: str
    success_criteria: str
    owner: str
    tier: int = strawberry.field(description="1 = most critical.")
    status: enums.JourneyStatus
    business: BusinessInputs
    prioritization: Prioritization | None
    scope: JourneyScope | None
    dependencies: list[Dependency]
    gaps: list[InstrumentationGap]
    open_gaps: list[InstrumentationGap]
    critical_services: list[str]
    retirement_reason: str | None
    proposed_by: str | None
    proposed_at: datetime
    updated_at: datetime
    labels: list[Label] = strawberry.field(description="Sorted by key, then value.")
    # Set under an asOf query (service.as_of.AsOfReads): nested fields answer as of it too.
    as_of: strawberry.Private[Any] = None

    @strawberry.field(description="The journey's objectives (SLOs), oldest first.")
    async def objectives(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        filter: ObjectiveFilter | None = None,
    ) -> Connection[Objective]:
        if self.as_of is not None:
            return await objectives_as_of(info, first, after, filter, self.as_of, journey_id=str(self.id))
        return await objective_connection(info, first, after, filter, journey_id=str(self.id))

    @strawberry.field(
        description="The journey's composite objective from its critical dependencies' objectives, and the "
        "feasibility of its own objectives' targets."
    )
    async def composite(self, info: Info) -> Annotated["JourneyComposite", strawberry.lazy(_BUDGETS)]:
        from api.schema.budgets import journey_composite

        return await journey_composite(info.context["container"], str(self.id), self.as_of)


def from_journey(s: jd.JourneyState, as_of: Any = None) -> Journey:
    prioritization = None
    if s.priority is not None:
        prioritization = Prioritization(
            priority=s.priority,
            rationale=s.priority_rationale,
            decided_by=s.prioritized_by,
            role=s.prioritized_role,
            decided_at=s.prioritized_at,
        )
    scope = None
    if s.scope is not None:
        c = s.scope
        scope = JourneyScope(
            includes=list(c.includes),
            excludes=list(c.excludes),
            starts_at=c.starts_at,
            ends_at=c.ends_at,
            success_criteria=c.success_criteria,
            workshop_participants=list(c.workshop_participants),
            documented_by=c.documented_by,
            documented_at=c.documented_at,
        )
    gaps = [
        InstrumentationGap(
            id=strawberry.ID(g.gap_id),
            description=g.description,
            sli_kind=enums.optional(enums.SliKind, g.sli_kind),
            open=g.open,
            resolution=g.resolution,
            recorded_at=g.recorded_at,
            closed_at=g.closed_at,
        )
        for g in s.gaps
    ]
    return Journey(
        id=strawberry.ID(s.id),
        version=s.version,
        name=s.name,
        description=s.description,
        steps=list(s.steps),
        starts_at=s.starts_at,
        ends_at=s.ends_at,
        success_criteria=s.success_criteria,
        owner=s.owner,
        tier=s.tier,
        status=enums.JourneyStatus(s.status.value),
        business=BusinessInputs(
            revenue_impact=s.business.revenue_impact,
            conversion_impact=s.business.conversion_impact,
            support_volume=s.business.support_volume,
        ),
        prioritization=prioritization,
        scope=scope,
        dependencies=[
            Dependency(
                service=d.service,
                kind=enums.DependencyKind(d.kind),
                critical=d.critical,
                failure_modes=list(d.failure_modes),
            )
            for d in s.dependencies
        ],
        gaps=gaps,
        open_gaps=[g for g in gaps if g.open],
        critical_services=list(s.critical_services),
        retirement_reason=s.retirement_reason,
        proposed_by=s.proposed_by,
        proposed_at=s.proposed_at,
        updated_at=s.updated_at,
        labels=labels_out(s.labels),
        as_of=as_of,
    )


# --- reads ------------------------------------------------------------------------


@strawberry.input
class JourneyFilter:
    tier: int | None = None
    status: enums.JourneyStatus | None = None
    owner: str | None = None
    depends_on: str | None = strawberry.field(default=None, description="A service name the journey depends on.")
    labels: list[LabelSelector] | None = strawberry.field(default=None, description="Every selector must match.")


JourneyConnection = Connection[Journey]


async def journey_connection(info: Info, first: int | None, after: str | None, filter) -> Connection[Journey]:
    container = info.context["container"]
    size = page_size(first, container.settings.max_page_size)
    start = decode_cursor(after)
    conditions = reads.journey_conditions(
        tier=getattr(filter, "tier", None),
        status=enums.value_of(getattr(filter, "status", None)),
        owner=getattr(filter, "owner", None),
        depends_on=getattr(filter, "depends_on", None),
        labels=selectors(getattr(filter, "labels", None)),
    )
    return page_connection(await reads.journey_page(container, conditions, size, start), from_journey)


async def journeys_as_of(info: Info, first: int | None, after: str | None, filter: Any, reads: AsOfReads) -> Connection:
    keep = None
    if filter is not None and any(
        getattr(filter, k, None) is not None for k in ("tier", "status", "owner", "depends_on", "labels")
    ):
        status = enums.value_of(filter.status)
        wanted = selectors(filter.labels)

        async def matches(s: Any) -> bool:
            return (
                (filter.tier is None or s.tier == filter.tier)
                and (status is None or str(s.status) == status)
                and (filter.owner is None or s.owner == filter.owner)
                and (filter.depends_on is None or any(d.service == filter.depends_on for d in s.dependencies))
                and labels_match(s.labels, wanted)
            )

        keep = matches

    return await page_as_of(info, journeys_table, "journey", first, after, reads, keep, from_journey)


# --- mutation payload -------------------------------------------------------------


@strawberry.type
class JourneyPayload:
    journey: Journey
    events: list[EventRef]
    replayed: bool = strawberry.field(
        description="True when the idempotency key matched an earlier command: nothing was appended."
    )


async def _journey(info: Info, name: str, guards: i.CommandGuards, build: Callable[[], Any]) -> JourneyPayload:
    result = await run_command(info, name, guards, build)
    journey_id = result.stream_id.removeprefix(f"{jd.CATEGORY}-")
    state = readable(await reads.journey_by_id(info.context["container"], journey_id), f"journey {journey_id}",
                     journey_id=journey_id)
    return JourneyPayload(journey=from_journey(state), events=event_refs(result.events), replayed=result.replayed)


@strawberry.type
class JourneysQuery:
    @strawberry.field(
        description="A journey by id, or null. With asOf, as it stood then (null before it was proposed), "
        "and so do its nested fields (objectives, composite)."
    )
    async def journey(self, info: Info, id: strawberry.ID, as_of: AsOf | None = None) -> Journey | None:
        current_principal(info)
        past = await as_of_reads(info, as_of)
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
        as_of: AsOf | None = None,
    ) -> Connection[Journey]:
        current_principal(info)
        past = await as_of_reads(info, as_of)
        if past is not None:
            return await journeys_as_of(info, first, after, filter, past)
        return await journey_connection(info, first, after, filter)


@strawberry.type
class JourneysMutation:
    @strawberry.mutation(description="Phase 1: propose a Critical User Journey with its business inputs.")
    async def propose_journey(self, info: Info, input: i.ProposeJourneyInput) -> JourneyPayload:
        return await _journey(info, "ProposeJourney", input, lambda: jd.ProposeJourney(
            str(input.journey_id), input.name, input.description, texts(input.steps), input.starts_at,
            input.ends_at, input.success_criteria, input.owner, input.tier, input.revenue_impact,
            input.conversion_impact, input.support_volume, domain_labels(input.labels)))

    @strawberry.mutation(description="Replace a journey's labels (product, leadership, sre, engineering).")
    async def label_journey(self, info: Info, input: i.LabelJourneyInput) -> JourneyPayload:
        return await _journey(info, "LabelJourney", input, lambda: jd.LabelJourney(
            str(input.journey_id), domain_labels(input.labels)))

    @strawberry.mutation(description="The business decision: rank and tier a journey (product, leadership).")
    async def prioritize_journey(self, info: Info, input: i.PrioritizeJourneyInput) -> JourneyPayload:
        return await _journey(info, "PrioritizeJourney", input, lambda: jd.PrioritizeJourney(
            str(input.journey_id), input.priority, input.tier, input.rationale))

    @strawberry.mutation(description="Phase 2: record the workshop's scope of the journey.")
    async def document_journey_scope(self, info: Info, input: i.DocumentJourneyScopeInput) -> JourneyPayload:
        return await _journey(info, "DocumentJourneyScope", input, lambda: jd.DocumentJourneyScope(
            str(input.journey_id), texts(input.includes), texts(input.excludes), input.starts_at,
            input.ends_at, input.success_criteria, texts(input.workshop_participants)))

    @strawberry.mutation(description="Phase 3: map a component the journey depends on.")
    async def map_dependency(self, info: Info, input: i.MapDependencyInput) -> JourneyPayload:
        return await _journey(info, "MapDependency", input, lambda: jd.MapDependency(
            str(input.journey_id), input.service, value_of(input.kind), input.critical,
            texts(input.failure_modes)))

    @strawberry.mutation
    async def remove_dependency(self, info: Info, input: i.RemoveDependencyInput) -> JourneyPayload:
        return await _journey(info, "RemoveDependency", input, lambda: jd.RemoveDependency(
            str(input.journey_id), input.service, input.reason))

    @strawberry.mutation(description="Record missing instrumentation; blocks target proposals while open.")
    async def record_instrumentation_gap(self, info: Info, input: i.RecordInstrumentationGapInput) -> JourneyPayload:
        return await _journey(info, "RecordInstrumentationGap", input, lambda: jd.RecordInstrumentationGap(
            str(input.journey_id), str(input.gap_id), input.description, value_of(input.sli_kind)))

    @strawberry.mutation
    async def close_instrumentation_gap(self, info: Info, input: i.CloseInstrumentationGapInput) -> JourneyPayload:
        return await _journey(info, "CloseInstrumentationGap", input, lambda: jd.CloseInstrumentationGap(
            str(input.journey_id), str(input.gap_id), input.resolution))

    @strawberry.mutation
    async def retire_journey(self, info: Info, input: i.RetireJourneyInput) -> JourneyPayload:
        return await _journey(info, "RetireJourney", input, lambda: jd.RetireJourney(
            str(input.journey_id), input.reason))
