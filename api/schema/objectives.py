"""Objectives (SLOs) in the API: their types, their queries (``objective``, ``objectives``,
each with ``asOf``) and their mutations (the seed's phases 3 to 5: draft, baseline, the
negotiation of a target, the agreement formalized, retirement).

An objective's nested budget, ledger, exclusions and feasibility are resolved in
``api.schema.budgets``, its policy actions in ``api.schema.gate``, its reviews in
``api.schema.reports``, its journey in ``api.schema.journeys``: lazy types, so that those
areas may build on this one.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Callable

import strawberry
from strawberry.types import Info

from api.auth import current_principal
from api.schema import enums, reads
from api.schema import inputs as i
from api.schema.baselines import BaselineAnalysis, CandidateOutcome, from_analysis, from_outcome
from api.schema.connections import Connection, decode_cursor, page_size
from api.schema.enums import value_of
from api.schema.notifications import AlertRoute, routes_out
from api.schema.labels import (
    Annotation, Label, LabelSelector, annotations_out, domain_annotations, domain_labels, labels_out, selectors,
)
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
from domain import objective as od
from domain.baseline_analysis import outcome_for
from domain.errors import InvalidInput
from domain.labels import matches as labels_match
from projections.tables import objectives as objectives_table
from service.as_of import AsOfReads

if TYPE_CHECKING:
    from api.schema.budgets import Budget, BudgetExclusion, Feasibility, LedgerConnection, RecurringBudgetExclusion
    from api.schema.collection import CollectionState
    from api.schema.gate import PolicyActions
    from api.schema.journeys import Journey
    from api.schema.reports import Review
    from api.schema.sources import SliDefinition

# The areas an objective's nested fields come from; each builds on this module, so their
# types are named lazily here.
_BUDGETS = "api.schema.budgets"
_GATE = "api.schema.gate"
_REPORTS = "api.schema.reports"
_JOURNEYS = "api.schema.journeys"
_SOURCES = "api.schema.sources"
_COLLECTION = "api.schema.collection"


# --- types ------------------------------------------------------------------------


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
    days: int | None = strawberry.field(description="A rolling window given in days.")
    duration: str | None = strawberry.field(
        default=None, description="A rolling window's length given as a duration, or a calendar window's period.")
    start: str | None = strawberry.field(default=None, description="A calendar window's first start, local time.")
    time_zone: str | None = strawberry.field(default=None, description="A calendar window's IANA zone.")


def window_out(window: Any) -> Window:
    """From the objective's Window or the budget config's dict."""
    get = window.get if isinstance(window, dict) else (lambda k: getattr(window, k))
    return Window(kind=enums.WindowKind(get("kind")), days=get("days"), duration=get("duration"),
                  start=get("start"), time_zone=get("time_zone"))


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
    analysis: BaselineAnalysis | None = strawberry.field(
        description="Measured from the data source (measureBaseline): per day and week, the worst windows, "
                    "and each candidate target's budget over the period; null for a baseline typed in.")


@strawberry.type(description="One party's word on one revision of a proposal.")
class Position:
    party: enums.Party
    stance: enums.Stance
    objection: enums.ObjectionKind | None
    comment: str | None = strawberry.field(description="The endorsement's comment or the objection's reason.")
    actor: str | None
    at: datetime
    revision: int


@strawberry.type(description="A what-if run attached to a proposal: what the parties saw when they endorsed or objected.")
class WhatIfEvidence:
    id: strawberry.ID
    kind: str = strawberry.field(description="target or policy.")
    revision: int = strawberry.field(description="The proposal's revision it was shown for.")
    inputs: str = strawberry.field(description="JSON: the period and the candidate (target, window, tiers, or the "
                                               "policy document).")
    summary: str = strawberry.field(description="JSON: what the run answered (attainment and exhaustions, or the "
                                                "decisions and freezes that change).")
    position: int = strawberry.field(description="The log position the run read the history up to.")
    attached_by: str | None
    attached_at: datetime


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
    evidence: list[WhatIfEvidence] = strawberry.field(
        description="What-if runs attached to it (attachWhatIfEvidence), oldest first.")
    baseline_outcome: CandidateOutcome | None = strawberry.field(
        description="How this target's budget would have fared over the objective's latest measured baseline "
                    "(exhaustedAtEnd: breached as soon as agreed); null when that baseline did not judge this "
                    "target (measure it again: the open proposals' targets are judged).")
    sli_query: strawberry.Private[Any] = None

    @strawberry.field(description="A proposal to change the agreed SLI definition: the definition it would agree "
                                  "to (its target is the agreed one). Null for a target proposal.")
    def sli_definition(self) -> Annotated["SliDefinition", strawberry.lazy(_SOURCES)] | None:
        from api.schema.sources import from_query

        return from_query(self.sli_query)


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
    runbooks: list["Runbook"] = strawberry.field(description="One per alert tier, or none named yet.")


@strawberry.type(description="The runbook the agreement names for one alert tier.")
class Runbook:
    tier: str = strawberry.field(description="The tier key, e.g. page_1h_5m.")
    url: str


def runbook_map(items: list[i.RunbookInput] | None) -> dict[str, str] | None:
    """The input list as the command's {tier key: URL}; a tier named twice is refused."""
    if items is None:
        return None
    out: dict[str, str] = {}
    for item in items:
        if item.tier in out:
            raise InvalidInput(f"runbooks: the tier {item.tier!r} is named twice", field=f"runbooks.{item.tier}")
        out[item.tier] = item.url
    return out


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
    slo: strawberry.ID | None = strawberry.field(
        description="The SLO this objective is one of (its objectives share it, each with its own name, target "
        "and budget); null for an SLO of one objective."
    )
    labels: list[Label] = strawberry.field(description="Sorted by key, then value.")
    annotations: list[Annotation] = strawberry.field(description="Sorted by key.")
    composite_weight: float | None = strawberry.field(
        description="Its weight in a weighted composite (OpenSLO compositeWeight); null counts 1.")
    notification_routes: list[AlertRoute] = strawberry.field(
        description="Who each alert tier notifies (setNotificationTargets; OpenSLO AlertNotificationTargets), "
                    "sorted by tier key.")
    service: str | None = strawberry.field(
        description="For a component objective, the service it measures: journeys that depend critically on "
        "that service compose their attainment from it. Null for the journey's own, end-to-end objectives."
    )
    # Set under an asOf query (service.as_of.AsOfReads): nested fields answer as of it too.
    as_of: strawberry.Private[Any] = None
    sli_query: strawberry.Private[Any] = None

    @strawberry.field(description="What the SLI is, as queries against a data source (defineSli); null until "
                                  "defined. A change proposed on an agreed objective shows on its open proposal.")
    def sli_definition(self) -> Annotated["SliDefinition", strawberry.lazy(_SOURCES)] | None:
        from api.schema.sources import from_query

        return from_query(self.sli_query)

    @strawberry.field(description="What the collector does for it (collectionState): live only, null under asOf.")
    async def collection(self, info: Info) -> Annotated["CollectionState", strawberry.lazy(_COLLECTION)] | None:
        from api.schema.collection import collection_of

        return None if self.as_of is not None else await collection_of(info, str(self.id))

    @strawberry.field
    async def journey(self, info: Info) -> Annotated["Journey", strawberry.lazy(_JOURNEYS)] | None:
        from api.schema.journeys import from_journey

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

    @strawberry.field(description="Recurring exclusions (RRULE windows), in the order they were added, ended ones too.")
    async def recurring_exclusions(
        self, info: Info
    ) -> list[Annotated["RecurringBudgetExclusion", strawberry.lazy(_BUDGETS)]]:
        from api.schema.budgets import recurring_exclusions_of

        return await recurring_exclusions_of(info.context["container"], str(self.id), self.as_of)

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


def _evidence(e: od.Evidence) -> WhatIfEvidence:
    return WhatIfEvidence(id=strawberry.ID(e.evidence_id), kind=e.kind, revision=e.revision, inputs=e.inputs,
                          summary=e.summary, position=e.position, attached_by=e.attached_by,
                          attached_at=e.attached_at)


def _proposal(p: od.Proposal, baseline: od.Baseline | None = None, evidence: tuple[od.Evidence, ...] = ()) -> Proposal:
    outcome = None
    if baseline is not None and baseline.analysis is not None:
        found = outcome_for(baseline.analysis, p.target)
        outcome = None if found is None else from_outcome(found)
    return Proposal(
        evidence=[_evidence(e) for e in evidence if e.proposal_id == p.proposal_id],
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
        baseline_outcome=outcome,
        sli_query=p.sli_definition,
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
            analysis=None if b.analysis is None else from_analysis(b.analysis),
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
            runbooks=[Runbook(tier=k, url=v) for k, v in a.runbooks.items()],
        )
    proposals = [_proposal(p, s.baseline, s.evidence) for p in s.proposals]
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
        window=window_out(s.window),
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
        slo=None if s.slo is None else strawberry.ID(s.slo),
        labels=labels_out(s.labels),
        annotations=annotations_out(s.annotations),
        composite_weight=s.composite_weight,
        notification_routes=routes_out(s.notification_routes),
        as_of=as_of,
        sli_query=s.sli_definition,
    )


# --- reads ------------------------------------------------------------------------


@strawberry.input
class ObjectiveFilter:
    journey_id: strawberry.ID | None = None
    status: enums.ObjectiveStatus | None = None
    owner: str | None = strawberry.field(default=None, description="The product or the SRE owner.")
    depends_on: str | None = strawberry.field(default=None, description="The journey depends on this service.")
    informational: bool | None = None
    slo: strawberry.ID | None = strawberry.field(default=None, description="The SLO's objectives.")
    labels: list[LabelSelector] | None = strawberry.field(default=None, description="Every selector must match.")


ObjectiveConnection = Connection[Objective]


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
        slo=None if f.slo is None else str(f.slo),
        labels=selectors(f.labels),
    )
    if journey_id is not None and f.journey_id is not None and f.journey_id != journey_id:
        conditions += reads.objective_conditions(journey_id=f.journey_id)
    return page_connection(await reads.objective_page(container, conditions, size, start), from_objective)


async def objectives_as_of(
    info: Info, first: int | None, after: str | None, filter: Any, reads: AsOfReads, *, journey_id: str | None = None
) -> Connection:
    journey = journey_id if journey_id is not None else (None if filter is None else filter.journey_id)
    f = filter
    keep = None
    if journey is not None or (
        f is not None and any(getattr(f, k) is not None for k in ("status", "owner", "depends_on", "informational", "slo", "labels"))
    ):
        status = None if f is None else enums.value_of(f.status)

        async def matches(s: Any) -> bool:
            if journey is not None and s.journey_id != str(journey):
                return False
            if f is None:
                return True
            if f.journey_id is not None and s.journey_id != str(f.journey_id):
                return False
            if status is not None and str(s.status) != status:
                return False
            if f.owner is not None and f.owner not in (
                (s.agreement.product_owner, s.agreement.sre_owner) if s.agreement else ()
            ):
                return False
            if f.informational is not None and s.informational != f.informational:
                return False
            if f.slo is not None and s.slo != str(f.slo):
                return False
            if not labels_match(s.labels, selectors(f.labels)):
                return False
            if f.depends_on is not None:
                j = await reads.journey(s.journey_id)
                if j is None or not any(d.service == f.depends_on for d in j.dependencies):
                    return False
            return True

        keep = matches

    # An objective's journey never changes: narrow by the read model's column before folding.
    where = () if journey is None else (objectives_table.c.journey_id == str(journey),)
    return await page_as_of(info, objectives_table, "objective", first, after, reads, keep, from_objective, *where)


# --- mutation payload -------------------------------------------------------------


@strawberry.type
class ObjectivePayload:
    objective: Objective
    events: list[EventRef]
    replayed: bool = strawberry.field(
        description="True when the idempotency key matched an earlier command: nothing was appended."
    )


async def objective_payload(
    info: Info, name: str, guards: i.CommandGuards, build: Callable[[], Any]
) -> ObjectivePayload:
    """Run an objective command (``run_command``) and read the objective back."""
    return await payload_of(info, await run_command(info, name, guards, build))


async def payload_of(info: Info, result: Any) -> ObjectivePayload:
    """An objective command's result (a `CommandResult`) with the objective read back."""
    objective_id = result.stream_id.removeprefix(f"{od.CATEGORY}-")
    state = readable(await reads.objective_by_id(info.context["container"], objective_id),
                     f"objective {objective_id}", objective_id=objective_id)
    return ObjectivePayload(
        objective=from_objective(state), events=event_refs(result.events), replayed=result.replayed
    )


@strawberry.type
class ObjectivesQuery:
    @strawberry.field(
        description="An objective by id, or null. With asOf, as it stood then (null before it was drafted), "
        "and so do its nested fields (journey, budget, ledger, exclusions, feasibility, policy actions, reviews)."
    )
    async def objective(self, info: Info, id: strawberry.ID, as_of: AsOf | None = None) -> Objective | None:
        current_principal(info)
        past = await as_of_reads(info, as_of)
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
        as_of: AsOf | None = None,
    ) -> Connection[Objective]:
        current_principal(info)
        past = await as_of_reads(info, as_of)
        if past is not None:
            return await objectives_as_of(info, first, after, filter, past)
        return await objective_connection(info, first, after, filter)


@strawberry.type
class ObjectivesMutation:
    @strawberry.mutation(description="Draft an SLO on a prioritized journey (sre).")
    async def draft_objective(self, info: Info, input: i.DraftObjectiveInput) -> ObjectivePayload:
        def build() -> od.DraftObjective:
            sli, window, budgeting = input.sli, input.window, input.budgeting
            return od.DraftObjective(
                str(input.objective_id), str(input.journey_id), input.name,
                od.SLI(value_of(sli.kind), sli.threshold_ms, sli.metric, sli.threshold,
                       sli.threshold_seconds, sli.description),
                od.Window(value_of(window.kind), window.days, window.duration, window.start, window.time_zone),
                od.Budgeting(value_of(budgeting.method), budgeting.slice_minutes, budgeting.slice_threshold),
                input.service, None if input.slo is None else str(input.slo), domain_labels(input.labels),
                domain_annotations(input.annotations), input.composite_weight)
        return await objective_payload(info, "DraftObjective", input, build)

    @strawberry.mutation(description="Replace an objective's labels and annotations (sre, product).")
    async def label_objective(self, info: Info, input: i.LabelObjectiveInput) -> ObjectivePayload:
        return await objective_payload(info, "LabelObjective", input, lambda: od.LabelObjective(
            str(input.objective_id), domain_labels(input.labels), domain_annotations(input.annotations)))

    @strawberry.mutation(description="Record historical performance measured on past data (sre).")
    async def record_baseline(self, info: Info, input: i.RecordBaselineInput) -> ObjectivePayload:
        return await objective_payload(info, "RecordBaseline", input, lambda: od.RecordBaseline(
            str(input.objective_id), input.period_start, input.period_end, input.good, input.total, input.notes))

    @strawberry.mutation(description="Propose a target; refused while the journey has open instrumentation gaps.")
    async def propose_target(self, info: Info, input: i.ProposeTargetInput) -> ObjectivePayload:
        def build() -> od.ProposeTarget:
            parties = od.PARTIES if input.required_parties is None else tuple(p.value for p in input.required_parties)
            return od.ProposeTarget(
                str(input.objective_id), str(input.proposal_id), input.target, input.rationale, parties)
        return await objective_payload(info, "ProposeTarget", input, build)

    @strawberry.mutation(description="Endorse the current revision as a party you hold the role of.")
    async def endorse_proposal(self, info: Info, input: i.EndorseProposalInput) -> ObjectivePayload:
        return await objective_payload(info, "EndorseProposal", input, lambda: od.EndorseProposal(
            str(input.objective_id), str(input.proposal_id), value_of(input.party), input.comment))

    @strawberry.mutation(description="Object to the current revision as a party you hold the role of.")
    async def object_to_proposal(self, info: Info, input: i.ObjectToProposalInput) -> ObjectivePayload:
        return await objective_payload(info, "ObjectToProposal", input, lambda: od.ObjectToProposal(
            str(input.objective_id), str(input.proposal_id), value_of(input.party),
            value_of(input.objection), input.reason))

    @strawberry.mutation(description="Revise an open proposal: every party must speak again.")
    async def revise_proposal(self, info: Info, input: i.ReviseProposalInput) -> ObjectivePayload:
        return await objective_payload(info, "ReviseProposal", input, lambda: od.ReviseProposal(
            str(input.objective_id), str(input.proposal_id), input.target, input.rationale))

    @strawberry.mutation
    async def withdraw_proposal(self, info: Info, input: i.WithdrawProposalInput) -> ObjectivePayload:
        return await objective_payload(info, "WithdrawProposal", input, lambda: od.WithdrawProposal(
            str(input.objective_id), str(input.proposal_id), input.reason))

    @strawberry.mutation
    async def defer_negotiation(self, info: Info, input: i.DeferNegotiationInput) -> ObjectivePayload:
        return await objective_payload(info, "DeferNegotiation", input, lambda: od.DeferNegotiation(
            str(input.objective_id), str(input.proposal_id), input.reason, input.revisit_on))

    @strawberry.mutation(description="Formalize an agreed target under an error-budget policy: ACTIVE, no longer informational.")
    async def formalize_agreement(self, info: Info, input: i.FormalizeAgreementInput) -> ObjectivePayload:
        return await objective_payload(info, "FormalizeAgreement", input, lambda: od.FormalizeAgreement(
            str(input.objective_id), str(input.policy_id), input.policy_version, input.product_owner,
            input.sre_owner, texts(input.escalation_path), input.resource_commitment, runbook_map(input.runbooks)))

    @strawberry.mutation
    async def retire_objective(self, info: Info, input: i.RetireObjectiveInput) -> ObjectivePayload:
        return await objective_payload(info, "RetireObjective", input, lambda: od.RetireObjective(
            str(input.objective_id), input.reason))
