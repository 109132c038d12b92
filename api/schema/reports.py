"""Quarterly reviews and the leadership report in the API.

Mutation: recordReview (product, sre, leadership, admin). A TIGHTEN or RELAX review
carries proposalId and proposedTarget and opens that proposal in the same command.
Query: leadershipReport(quarter: "2026-Q4"). ``Objective.reviews``, ``lastReview``,
``nextReviewDue`` and ``reviewOverdue`` (against the server clock) are resolved here.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Any
import strawberry
from strawberry.types import Info

from api.auth import current_principal
from api.schema import enums
from api.schema import inputs as i
from api.schema import reads
from api.schema.objectives import ObjectivePayload, objective_payload
from domain import objective as od
from service.reports import leadership_report
from service.reports import model as rm


@strawberry.enum(description="A quarterly review's outcome; TIGHTEN and RELAX open a new negotiation.")
class ReviewOutcome(Enum):
    MAINTAIN = "maintain"
    TIGHTEN = "tighten"
    RELAX = "relax"
    REDEFINE = "redefine"


@i.command_input
class RecordReviewInput:
    objective_id: strawberry.ID
    quarter: str = strawberry.field(description='The quarter reviewed, e.g. "2026-Q4" (UTC); not a future one.')
    outcome: ReviewOutcome
    findings: str
    attendees: list[str]
    next_review_on: date | None = strawberry.field(
        default=None, description="When the next review is planned (at most a quarter away)."
    )
    proposal_id: strawberry.ID | None = strawberry.field(
        default=None, description="TIGHTEN / RELAX only: the id of the proposal the review opens."
    )
    proposed_target: float | None = strawberry.field(
        default=None,
        description="TIGHTEN / RELAX only: stricter (TIGHTEN) or looser (RELAX) than the agreed target.",
    )
    rationale: str | None = strawberry.field(
        default=None, description="The proposal's rationale (default: the review's findings)."
    )
    required_parties: list[enums.Party] | None = strawberry.field(
        default=None, description="TIGHTEN / RELAX only: parties whose endorsement is needed; default all four."
    )


@strawberry.type(description="One quarterly review of an objective.")
class Review:
    quarter: str
    outcome: ReviewOutcome
    findings: str
    attendees: list[str]
    next_review_on: datetime | None
    target: float | None = strawberry.field(description="The agreed target the review looked at.")
    proposal_id: strawberry.ID | None = strawberry.field(description="The proposal a TIGHTEN / RELAX review opened.")
    proposed_target: float | None
    reviewed_by: str | None
    role: str | None
    reviewed_at: datetime


def from_review(r: od.Review) -> Review:
    return Review(
        quarter=r.quarter, outcome=ReviewOutcome(r.outcome), findings=r.findings, attendees=list(r.attendees),
        next_review_on=r.next_review_on, target=r.target,
        proposal_id=None if r.proposal_id is None else strawberry.ID(r.proposal_id),
        proposed_target=r.proposed_target, reviewed_by=r.reviewed_by, role=r.role, reviewed_at=r.reviewed_at,
    )


async def objective_state(info: Info, objective_id: str, as_of: Any = None) -> od.ObjectiveState | None:
    """The objective's state, read once per request (the review fields share it); with
    `as_of` (``service.as_of.AsOfReads``), as it stood at its position."""
    if as_of is not None:
        return await as_of.objective(objective_id)
    cache = info.context.setdefault("_objective_states", {})
    if objective_id not in cache:
        cache[objective_id] = await reads.objective_by_id(info.context["container"], objective_id)
    return cache[objective_id]


async def reviews_of(info: Info, objective_id: str, as_of: Any = None) -> list[Review]:
    state = await objective_state(info, objective_id, as_of)
    return [] if state is None else [from_review(r) for r in state.reviews]


async def last_review_of(info: Info, objective_id: str, as_of: Any = None) -> Review | None:
    state = await objective_state(info, objective_id, as_of)
    return None if state is None or state.last_review is None else from_review(state.last_review)


async def next_review_due_of(info: Info, objective_id: str, as_of: Any = None) -> datetime | None:
    state = await objective_state(info, objective_id, as_of)
    return None if state is None else od.review_due(state)


async def review_overdue_of(info: Info, objective_id: str, as_of: Any = None) -> bool:
    """Overdue now, or (with `as_of`) at the time its position's event was recorded."""
    state = await objective_state(info, objective_id, as_of)
    if state is None:
        return False
    now = info.context["container"].store.clock() if as_of is None else await as_of.now()
    return now is not None and od.review_overdue(state, now)


# --- the leadership report -----------------------------------------------------------------


@strawberry.type(description="A point of a burn-down chart: the budget remaining after the interval ending at `at`.")
class BudgetPoint:
    at: datetime
    remaining: float


@strawberry.type(description="A review as the report shows it.")
class ReviewSummary:
    quarter: str
    outcome: ReviewOutcome
    reviewed_at: datetime
    reviewed_by: str | None


@strawberry.type(description="One objective in the leadership report; fractions in [0, 1] (budget spent may exceed 1).")
class ObjectiveReport:
    objective_id: strawberry.ID
    name: str
    service: str | None = strawberry.field(description=(
        "The dependency a component objective measures (it feeds the journey's composite); "
        "null for the journey's own, end-to-end objective."))
    status: str
    sli_kind: str
    target: float | None
    informational: bool = strawberry.field(description="No error-budget policy formalized.")
    policy: str | None
    attainment: float | None = strawberry.field(description="Good / total over the quarter's intervals.")
    budget_spent: float | None = strawberry.field(
        description="The quarter's bad over what its own traffic allowed: 1.0 = the whole budget.")
    budget_remaining: float | None = strawberry.field(description="Remaining over the window at the quarter's last data.")
    exhaustions: int
    days_under_freeze: float
    escalations: int
    agreements: int = strawberry.field(description="Proposals agreed in the quarter.")
    median_days_to_agreement: float | None
    last_review: ReviewSummary | None
    next_review_due: datetime | None
    review_overdue: bool
    chart: list[BudgetPoint] = strawberry.field(description="Budget remaining over the quarter (at most 200 points).")


@strawberry.type
class JourneyReport:
    journey_id: strawberry.ID
    name: str
    tier: int
    priority: int | None
    status: str
    objectives: list[ObjectiveReport]
    exhaustions: int
    days_under_freeze: float = strawberry.field(description="Union over its objectives' freezes, in the quarter.")
    escalations: int
    exceptions_granted: int = strawberry.field(description="Freeze exceptions for its critical dependencies.")
    deploys_allowed: int
    deploys_denied: int
    deploys_require_approval: int
    median_days_to_agreement: float | None
    informational_objectives: int
    overdue_reviews: int


@strawberry.type
class TierReport:
    tier: int
    journeys: list[JourneyReport]


@strawberry.type
class ReportTotals:
    journeys: int
    objectives: int
    exhaustions: int
    days_under_freeze: float
    escalations: int
    exceptions_granted: int
    deploys_allowed: int
    deploys_denied: int
    deploys_require_approval: int
    median_days_to_agreement: float | None
    informational_objectives: int
    overdue_reviews: int


@strawberry.type(
    description="The quarterly view for leadership, built from the read models and the log: per journey, "
    "grouped by tier. The quarter is [start, end) in UTC; asOf = min(now, end)."
)
class LeadershipReport:
    quarter: str
    start: datetime
    end: datetime
    as_of: datetime
    tiers: list[TierReport]
    totals: ReportTotals


def _objective_report(o: rm.ObjectiveLine) -> ObjectiveReport:
    last = o.last_review
    return ObjectiveReport(
        objective_id=strawberry.ID(o.objective_id), name=o.name, service=o.service, status=o.status,
        sli_kind=o.sli_kind,
        target=o.target, informational=o.informational, policy=o.policy, attainment=o.attainment,
        budget_spent=o.budget_spent, budget_remaining=o.budget_remaining, exhaustions=o.exhaustions,
        days_under_freeze=o.days_under_freeze, escalations=o.escalations, agreements=o.agreements,
        median_days_to_agreement=o.median_days_to_agreement,
        last_review=None if last is None else ReviewSummary(
            quarter=last.quarter, outcome=ReviewOutcome(last.outcome), reviewed_at=last.reviewed_at,
            reviewed_by=last.reviewed_by),
        next_review_due=o.next_review_due, review_overdue=o.review_overdue,
        chart=[BudgetPoint(at=at, remaining=v) for at, v in o.chart],
    )


def _journey_report(j: rm.JourneyLine) -> JourneyReport:
    return JourneyReport(
        journey_id=strawberry.ID(j.journey_id), name=j.name, tier=j.tier, priority=j.priority, status=j.status,
        objectives=[_objective_report(o) for o in j.objectives], exhaustions=j.exhaustions,
        days_under_freeze=j.days_under_freeze, escalations=j.escalations, exceptions_granted=j.exceptions_granted,
        deploys_allowed=j.deploys_allowed, deploys_denied=j.deploys_denied,
        deploys_require_approval=j.deploys_require_approval, median_days_to_agreement=j.median_days_to_agreement,
        informational_objectives=j.informational_objectives, overdue_reviews=j.overdue_reviews,
    )


def from_report(r: rm.LeadershipReport) -> LeadershipReport:
    t = r.totals
    return LeadershipReport(
        quarter=r.quarter, start=r.start, end=r.end, as_of=r.as_of,
        tiers=[TierReport(tier=s.tier, journeys=[_journey_report(j) for j in s.journeys]) for s in r.tiers],
        totals=ReportTotals(**{name: getattr(t, name) for name in rm.Totals.__dataclass_fields__}),
    )


@strawberry.type
class ReportsQuery:
    @strawberry.field(description='The leadership report for a quarter, e.g. "2026-Q4" (any role).')
    async def leadership_report(self, info: Info, quarter: str) -> LeadershipReport:
        current_principal(info)
        return from_report(await leadership_report(info.context["container"], quarter))


@strawberry.type
class ReportsMutation:
    @strawberry.mutation(
        description="Record a quarterly review (product, sre, leadership). TIGHTEN / RELAX open a new proposal "
        "(proposalId, proposedTarget) in the same command; the agreed target stays in force until it is agreed."
    )
    async def record_review(self, info: Info, input: RecordReviewInput) -> ObjectivePayload:
        def build() -> od.RecordReview:
            parties = od.PARTIES if input.required_parties is None else tuple(p.value for p in input.required_parties)
            return od.RecordReview(
                str(input.objective_id), input.quarter, input.outcome.value, input.findings, tuple(input.attendees),
                input.next_review_on, None if input.proposal_id is None else str(input.proposal_id),
                input.proposed_target, input.rationale, parties)
        return await objective_payload(info, "RecordReview", input, build)
