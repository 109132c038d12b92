"""Output types: journeys and objectives as the read models hold them.

Each type is built from the domain's folded state (``from_journey`` /
``from_objective``); fractions are floats in [0, 1], times are zoned DateTimes.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.types import Info

from api.schema import enums, reads
from api.schema.connections import Connection, Edge, PageInfo, decode_cursor, encode_cursor, page_size
from domain import journey as jd
from domain import objective as od
from service.envelope import EventRef as DomainEventRef

if TYPE_CHECKING:
    from api.schema.budgets import Budget, BudgetExclusion, Feasibility, JourneyComposite, LedgerConnection
    from api.schema.gate import PolicyActions
    from api.schema.reports import Review

# The budget types live in api.schema.budgets, which builds on this module.
_BUDGETS = "api.schema.budgets"
_GATE = "api.schema.gate"
_REPORTS = "api.schema.reports"

# --- journeys -----------------------------------------------------------------


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


@strawberry.input
class ObjectiveFilter:
    journey_id: strawberry.ID | None = None
    status: enums.ObjectiveStatus | None = None
    owner: str | None = strawberry.field(default=None, description="The product or the SRE owner.")
    depends_on: str | None = strawberry.field(default=None, description="The journey depends on this service.")
    informational: bool | None = None


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
            from api.schema.audit import objectives_as_of

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
        as_of=as_of,
    )


# --- objectives ---------------------------------------------------------------


@strawberry.type(description="What is measured; only the fields of its kind are set.")
class Sli:
    kind: enums.SliKind
    threshold_ms: float | None
    metric: str | None
    threshold: float | None = strawberry.field(description="Quality SLIs: a fraction in [0, 1].")
    threshold_seconds: float | None
    description: str | None


@strawberry.type
class Window:
    kind: enums.WindowKind
    days: int | None = strawberry.field(description="Rolling windows only.")


@strawberry.type
class Budgeting:
    method: enums.BudgetingMethod
    slice_minutes: int | None
    slice_threshold: float | None


@strawberry.type(description="Historical performance SRE brings to the negotiation.")
class Baseline:
    period_start: datetime
    period_end: datetime
    good: int
    total: int
    attainment: float = strawberry.field(description="good / total, a fraction.")
    notes: str | None
    recorded_by: str | None
    recorded_at: datetime


@strawberry.type(description="One party's word on one revision of a proposal.")
class Position:
    party: enums.Party
    stance: enums.Stance
    objection: enums.ObjectionKind | None
    comment: str | None = strawberry.field(description="The endorsement's comment or the objection's reason.")
    actor: str | None
    at: datetime
    revision: int


@strawberry.type
class Proposal:
    id: strawberry.ID
    target: float = strawberry.field(description="A fraction: 0.999, never 99.9.")
    rationale: str
    required_parties: list[enums.Party]
    revision: int
    status: enums.ProposalStatus
    proposed_by: str | None
    proposed_at: datetime
    positions: list[Position] = strawberry.field(description="Every position ever taken, in order.")
    standing: list[Position] = strawberry.field(
        description="Each party's latest position on the current revision."
    )
    awaiting: list[enums.Party] = strawberry.field(
        description="Required parties that have not endorsed the current revision."
    )
    closed_at: datetime | None
    closed_reason: str | None
    revisit_on: datetime | None


@strawberry.type(description="One line of the negotiation history: who did what, when.")
class NegotiationStep:
    at: datetime
    actor: str | None
    role: str | None
    kind: str = strawberry.field(description="The event type, e.g. ProposalEndorsed.")
    proposal_id: strawberry.ID | None
    detail: str


@strawberry.type(description="The formalized SLO agreement.")
class Agreement:
    policy_id: strawberry.ID
    policy_version: int
    product_owner: str
    sre_owner: str
    escalation_path: list[str]
    resource_commitment: str
    formalized_by: str | None
    formalized_at: datetime


@strawberry.type(description="A Service Level Objective of one journey.")
class Objective:
    id: strawberry.ID
    version: int = strawberry.field(description="The objective stream's version (for expectedVersion).")
    journey_id: strawberry.ID
    name: str
    status: enums.ObjectiveStatus
    sli: Sli
    window: Window
    budgeting: Budgeting
    baseline: Baseline | None
    agreed_target: float | None
    agreed_proposal_id: strawberry.ID | None
    agreed_at: datetime | None
    proposals: list[Proposal]
    open_proposal: Proposal | None
    negotiation_history: list[NegotiationStep]
    agreement: Agreement | None
    informational: bool = strawberry.field(
        description="True until an error-budget policy is formalized: without one, an SLO is a dashboard."
    )
    owners: list[str] = strawberry.field(description="Product owner and SRE owner, once formalized.")
    retirement_reason: str | None
    drafted_by: str | None
    drafted_at: datetime
    updated_at: datetime
    service: str | None = strawberry.field(
        description="For a component objective, the service it measures: journeys that depend critically on "
        "that service compose their attainment from it. Null for the journey's own, end-to-end objectives."
    )
    # Set under an asOf query (service.as_of.AsOfReads): nested fields answer as of it too.
    as_of: strawberry.Private[Any] = None

    @strawberry.field
    async def journey(self, info: Info) -> Journey | None:
        if self.as_of is not None:
            state = await self.as_of.journey(str(self.journey_id))
        else:
            state = await reads.journey_by_id(info.context["container"], str(self.journey_id))
        return None if state is None else from_journey(state, self.as_of)

    @strawberry.field(
        description="The error budget at `at` (default: the latest data); null without an agreed target or data. "
        "An `at` before the latest data ignores data that ended after it."
    )
    async def budget(
        self, info: Info, at: datetime | None = None
    ) -> Annotated["Budget", strawberry.lazy(_BUDGETS)] | None:
        from api.schema.budgets import budget_for

        return await budget_for(info.context["container"], str(self.id), at, self.as_of)

    @strawberry.field(
        description="The chartable ledger: one point per recorded interval ending in [since, until], oldest "
        "first, each with its debit and the budget remaining after it. At most 1000 per page."
    )
    async def budget_ledger(
        self,
        info: Info,
        since: datetime | None = None,
        until: datetime | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Annotated["LedgerConnection", strawberry.lazy(_BUDGETS)]:
        from api.schema.budgets import ledger_connection

        return await ledger_connection(info, str(self.id), since, until, first, after, self.as_of)

    @strawberry.field(description="Intervals excluded from the budget: active ones, then restored ones.")
    async def exclusions(self, info: Info) -> list[Annotated["BudgetExclusion", strawberry.lazy(_BUDGETS)]]:
        from api.schema.budgets import exclusions_of

        return await exclusions_of(info.context["container"], str(self.id), self.as_of)

    @strawberry.field(
        description="The negotiation's infeasible-target flag: the open proposal's target (else the agreed one) "
        "against the product of the journey's critical dependencies' agreed targets. Null without a target."
    )
    async def feasibility(self, info: Info) -> Annotated["Feasibility", strawberry.lazy(_BUDGETS)] | None:
        from api.schema.budgets import objective_feasibility

        return await objective_feasibility(info.context["container"], str(self.id), str(self.journey_id), self.as_of)

    @strawberry.field(
        description="What its error-budget policy did: active freezes (scope, rule, cause), escalations, "
        "postmortems, incidents. Null until the policy acts."
    )
    async def policy_actions(self, info: Info) -> Annotated["PolicyActions", strawberry.lazy(_GATE)] | None:
        from api.schema.gate import actions_of

        return await actions_of(info.context["container"], str(self.id), self.as_of)

    # --- quarterly reviews (api.schema.reports) ---

    @strawberry.field(description="Its quarterly reviews, oldest first.")
    async def reviews(self, info: Info) -> list[Annotated["Review", strawberry.lazy(_REPORTS)]]:
        from api.schema.reports import reviews_of

        return await reviews_of(info, str(self.id), self.as_of)

    @strawberry.field(description="The latest quarterly review, or null.")
    async def last_review(self, info: Info) -> Annotated["Review", strawberry.lazy(_REPORTS)] | None:
        from api.schema.reports import last_review_of

        return await last_review_of(info, str(self.id), self.as_of)

    @strawberry.field(
        description="When the next review is due: the date the last review planned, else one quarter after the "
        "last review or agreement. Null without an agreed target."
    )
    async def next_review_due(self, info: Info) -> datetime | None:
        from api.schema.reports import next_review_due_of

        return await next_review_due_of(info, str(self.id), self.as_of)

    @strawberry.field(
        description="True for an ACTIVE objective whose last review (or agreement) is more than a quarter old now."
    )
    async def review_overdue(self, info: Info) -> bool:
        from api.schema.reports import review_overdue_of

        return await review_overdue_of(info, str(self.id), self.as_of)


def _position(p: od.Position) -> Position:
    return Position(
        party=enums.Party(p.party),
        stance=enums.Stance(p.stance.value),
        objection=enums.optional(enums.ObjectionKind, p.objection),
        comment=p.comment,
        actor=p.actor,
        at=p.at,
        revision=p.revision,
    )


def _proposal(p: od.Proposal) -> Proposal:
    return Proposal(
        id=strawberry.ID(p.proposal_id),
        target=p.target,
        rationale=p.rationale,
        required_parties=[enums.Party(x) for x in p.required_parties],
        revision=p.revision,
        status=enums.ProposalStatus(p.status.value),
        proposed_by=p.proposed_by,
        proposed_at=p.proposed_at,
        positions=[_position(x) for x in p.positions],
        standing=[_position(x) for x in p.standing().values()],
        awaiting=[enums.Party(x) for x in p.awaiting],
        closed_at=p.closed_at,
        closed_reason=p.closed_reason,
        revisit_on=p.revisit_on,
    )


def from_objective(s: od.ObjectiveState, as_of: Any = None) -> Objective:
    baseline = None
    if s.baseline is not None:
        b = s.baseline
        baseline = Baseline(
            period_start=b.period_start,
            period_end=b.period_end,
            good=b.good,
            total=b.total,
            attainment=b.attainment,
            notes=b.notes,
            recorded_by=b.recorded_by,
            recorded_at=b.recorded_at,
        )
    agreement = None
    if s.agreement is not None:
        a = s.agreement
        agreement = Agreement(
            policy_id=strawberry.ID(a.policy_id),
            policy_version=a.policy_version,
            product_owner=a.product_owner,
            sre_owner=a.sre_owner,
            escalation_path=list(a.escalation_path),
            resource_commitment=a.resource_commitment,
            formalized_by=a.formalized_by,
            formalized_at=a.formalized_at,
        )
    proposals = [_proposal(p) for p in s.proposals]
    return Objective(
        id=strawberry.ID(s.id),
        version=s.version,
        service=s.service,
        journey_id=strawberry.ID(s.journey_id),
        name=s.name,
        status=enums.ObjectiveStatus(s.status.value),
        sli=Sli(
            kind=enums.SliKind(s.sli.kind),
            threshold_ms=s.sli.threshold_ms,
            metric=s.sli.metric,
            threshold=s.sli.threshold,
            threshold_seconds=s.sli.threshold_seconds,
            description=s.sli.description,
        ),
        window=Window(kind=enums.WindowKind(s.window.kind), days=s.window.days),
        budgeting=Budgeting(
            method=enums.BudgetingMethod(s.budgeting.method),
            slice_minutes=s.budgeting.slice_minutes,
            slice_threshold=s.budgeting.slice_threshold,
        ),
        baseline=baseline,
        agreed_target=s.agreed_target,
        agreed_proposal_id=None if s.agreed_proposal_id is None else strawberry.ID(s.agreed_proposal_id),
        agreed_at=s.agreed_at,
        proposals=proposals,
        open_proposal=next((p for p in proposals if p.status is enums.ProposalStatus.OPEN), None),
        negotiation_history=[
            NegotiationStep(
                at=h.at,
                actor=h.actor,
                role=h.role,
                kind=h.kind,
                proposal_id=None if h.proposal_id is None else strawberry.ID(h.proposal_id),
                detail=h.detail,
            )
            for h in s.history
        ],
        agreement=agreement,
        informational=s.informational,
        owners=list(s.owners),
        retirement_reason=s.retirement_reason,
        drafted_by=s.drafted_by,
        drafted_at=s.drafted_at,
        updated_at=s.updated_at,
        as_of=as_of,
    )


# --- connections ----------------------------------------------------------------

JourneyConnection = Connection[Journey]
ObjectiveConnection = Connection[Objective]


def _connection(page: reads.Page, convert) -> Connection:
    edges = [Edge(cursor=encode_cursor(pos), node=convert(state)) for pos, state in page.items]
    return Connection(
        edges=edges,
        page_info=PageInfo(has_next_page=page.has_next, end_cursor=edges[-1].cursor if edges else None),
        total_count=page.total,
    )


async def objective_connection(
    info: Info,
    first: int | None,
    after: str | None,
    filter: ObjectiveFilter | None,
    *,
    journey_id: str | None = None,
) -> Connection[Objective]:
    container = info.context["container"]
    size = page_size(first, container.settings.max_page_size)
    start = decode_cursor(after)
    f = filter or ObjectiveFilter()
    conditions = reads.objective_conditions(
        journey_id=journey_id if journey_id is not None else f.journey_id,
        status=enums.value_of(f.status),
        owner=f.owner,
        depends_on=f.depends_on,
        informational=f.informational,
    )
    if journey_id is not None and f.journey_id is not None and f.journey_id != journey_id:
        conditions += reads.objective_conditions(journey_id=f.journey_id)
    return _connection(await reads.objective_page(container, conditions, size, start), from_objective)


async def journey_connection(info: Info, first: int | None, after: str | None, filter) -> Connection[Journey]:
    container = info.context["container"]
    size = page_size(first, container.settings.max_page_size)
    start = decode_cursor(after)
    conditions = reads.journey_conditions(
        tier=getattr(filter, "tier", None),
        status=enums.value_of(getattr(filter, "status", None)),
        owner=getattr(filter, "owner", None),
        depends_on=getattr(filter, "depends_on", None),
    )
    return _connection(await reads.journey_page(container, conditions, size, start), from_journey)


# --- mutation results -------------------------------------------------------------


@strawberry.type(description="An event a command appended (or, replayed, had appended).")
class EventRef:
    position: int = strawberry.field(description="Global log position.")
    type: str
    stream_id: str
    stream_version: int


def event_refs(events: tuple[DomainEventRef, ...]) -> list[EventRef]:
    return [EventRef(position=e.position, type=e.type, stream_id=e.stream_id, stream_version=e.stream_version) for e in events]


@strawberry.type
class JourneyPayload:
    journey: Journey
    events: list[EventRef]
    replayed: bool = strawberry.field(
        description="True when the idempotency key matched an earlier command: nothing was appended."
    )


@strawberry.type
class ObjectivePayload:
    objective: Objective
    events: list[EventRef]
    replayed: bool = strawberry.field(
        description="True when the idempotency key matched an earlier command: nothing was appended."
    )


@strawberry.type(description="Who is calling.")
class Viewer:
    actor: str
    roles: list[enums.Role]
