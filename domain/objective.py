"""The objective (SLO) stream, `objective-{id}`: one SLO of one journey.

Its life follows the seed's phases 3 to 5: drafted with an SLI, a window and a
budgeting method; a baseline measured on past data; a target proposed, endorsed or
objected to by the four parties (product, sre, engineering, leadership), revised,
withdrawn or deferred, until every required party endorses the current revision and
the decider emits `TargetAgreed`; the agreement formalized with an error-budget
policy, owners, an escalation path and a resource commitment (until then the
objective is informational, and says so); retired.

Renegotiation: a new proposal on an AGREED or ACTIVE objective leaves the agreed
target in force until the new one is agreed.

Quarterly review (the seed's phase 7): `RecordReview` appends `ObjectiveReviewed`
(quarter, outcome maintain | tighten | relax | redefine, findings, attendees, the next
review date). A tighten or relax review carries a proposed target (stricter, resp.
looser, than the agreed one) and appends `TargetProposed` in the same command, so the
renegotiation above takes over. Whether a review is overdue depends on the time, so
the domain offers `review_due(state)` and `review_overdue(state, now)`; the caller
brings `now`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Callable

from domain import codec
from domain.records import replace
from domain import journey as journeys
from domain import policy as policies
from domain.budget import burn
from domain.budget.errors import BudgetInputError
from domain import quarters
from domain.commands import (
    NAME_MAX_LENGTH,
    PARTIES,
    SLI_KINDS,
    actor_of,
    iso,
    optional_text,
    parse_iso,
    parse_optional_iso,
    percent,
    related_state,
    require_aware,
    require_choice,
    require_id,
    require_int,
    require_moment,
    require_number,
    require_parties,
    require_text,
    require_texts,
    role_of,
)
from domain.errors import Conflict, InvalidInput, NotFound, PolicyViolation
from domain.events import Context, NewEvent, RecordedEvent

CATEGORY = "objective"

WINDOW_KINDS: tuple[str, ...] = ("rolling", "calendar_month", "calendar_quarter")
BUDGETING_METHODS: tuple[str, ...] = ("occurrences", "timeslices")
OBJECTION_KINDS: tuple[str, ...] = ("too_strict", "too_loose", "other")

EVENT_TYPES: tuple[str, ...] = (
    "ObjectiveDrafted",
    "BaselineRecorded",
    "TargetProposed",
    "ProposalEndorsed",
    "ProposalObjected",
    "ProposalRevised",
    "ProposalWithdrawn",
    "NegotiationDeferred",
    "TargetAgreed",
    "AgreementFormalized",
    "ObjectiveReviewed",
    "ObjectiveRetired",
)

# The events that make up the negotiation history a portal shows (phase 4 and 5).
NEGOTIATION_EVENT_TYPES: tuple[str, ...] = (
    "BaselineRecorded",  # the historical data SRE brings to the table
    "TargetProposed",
    "ProposalEndorsed",
    "ProposalObjected",
    "ProposalRevised",
    "ProposalWithdrawn",
    "NegotiationDeferred",
    "TargetAgreed",
    "AgreementFormalized",
    "ObjectiveReviewed",  # a quarterly review; tighten and relax reopen the negotiation
)

REVIEW_OUTCOMES: tuple[str, ...] = ("maintain", "tighten", "relax", "redefine")
RENEGOTIATING_OUTCOMES: tuple[str, ...] = ("tighten", "relax")


def stream_id(objective_id: str) -> str:
    return f"{CATEGORY}-{objective_id}"


# --- value objects ------------------------------------------------------------


@dataclass(frozen=True)
class SLI:
    """What is measured. Only the fields of its kind are set:
    latency: threshold_ms; quality: metric and threshold in [0, 1] (e.g. answer
    faithfulness >= 0.8); freshness: threshold_seconds; availability: none."""

    kind: str
    threshold_ms: float | None = None
    metric: str | None = None
    threshold: float | None = None
    threshold_seconds: float | None = None
    description: str | None = None


@dataclass(frozen=True)
class Window:
    kind: str  # rolling | calendar_month | calendar_quarter
    days: int | None = None  # rolling windows only, 1..90


@dataclass(frozen=True)
class Budgeting:
    """occurrences: good/total events; timeslices: good/total slices, where a slice
    is good when its own good/total ratio meets slice_threshold."""

    method: str
    slice_minutes: int | None = None
    slice_threshold: float | None = None


# The fields each SLI kind requires; the others must stay unset.
_SLI_FIELDS: dict[str, tuple[str, ...]] = {
    "availability": (),
    "latency": ("threshold_ms",),
    "quality": ("metric", "threshold"),
    "freshness": ("threshold_seconds",),
}


# --- state --------------------------------------------------------------------


class ObjectiveStatus(StrEnum):
    DRAFT = "DRAFT"
    NEGOTIATING = "NEGOTIATING"  # first negotiation, nothing agreed yet
    AGREED = "AGREED"  # a target is agreed, no policy formalized
    ACTIVE = "ACTIVE"  # formalized: operational, not just informational
    RETIRED = "RETIRED"


class ProposalStatus(StrEnum):
    OPEN = "OPEN"
    AGREED = "AGREED"
    WITHDRAWN = "WITHDRAWN"
    DEFERRED = "DEFERRED"
    SUPERSEDED = "SUPERSEDED"  # was agreed, replaced by a later agreement


class Stance(StrEnum):
    ENDORSED = "ENDORSED"
    OBJECTED = "OBJECTED"


@dataclass(frozen=True)
class Baseline:
    period_start: datetime
    period_end: datetime
    good: int
    total: int
    attainment: float  # good / total, kept so readers need not recompute it
    notes: str | None
    recorded_by: str | None
    recorded_at: datetime


@dataclass(frozen=True)
class Position:
    """One party's word on one revision of a proposal."""

    party: str
    stance: Stance
    objection: str | None  # too_strict | too_loose | other, for objections
    comment: str | None  # the endorsement's comment or the objection's reason
    actor: str | None
    at: datetime
    revision: int


@dataclass(frozen=True)
class Proposal:
    proposal_id: str
    target: float
    rationale: str
    required_parties: tuple[str, ...]
    revision: int
    status: ProposalStatus
    proposed_by: str | None
    proposed_at: datetime
    positions: tuple[Position, ...]  # every position ever taken, in order
    closed_at: datetime | None
    closed_reason: str | None
    revisit_on: datetime | None  # deferred proposals only

    def standing(self) -> dict[str, Position]:
        """Each party's latest position on the current revision (older revisions no longer count)."""
        latest: dict[str, Position] = {}
        for position in self.positions:
            if position.revision == self.revision:
                latest[position.party] = position
        return latest

    @property
    def awaiting(self) -> tuple[str, ...]:
        """Required parties whose latest word on this revision is not an endorsement."""
        standing = self.standing()
        return tuple(
            p
            for p in self.required_parties
            if p not in standing or standing[p].stance is not Stance.ENDORSED
        )


@dataclass(frozen=True)
class NegotiationStep:
    """One line of the negotiation history: who did what, when, in words."""

    at: datetime
    actor: str | None
    role: str | None
    kind: str  # the event type
    proposal_id: str | None
    detail: str


@dataclass(frozen=True)
class AlertTierTerms:
    """One burn-rate alert tier as an agreement's policy states it."""

    severity: str
    long_window: str
    short_window: str
    threshold: float


@dataclass(frozen=True)
class Agreement:
    """The formalized SLO agreement (phase 5). The policy is referenced, not copied,
    except the alert tiers its version states (the budget applies them unless the
    objective configures its own); None: the workbook's tiers."""

    policy_id: str
    policy_version: int
    product_owner: str
    sre_owner: str
    escalation_path: tuple[str, ...]
    resource_commitment: str
    formalized_by: str | None
    formalized_at: datetime
    alert_tiers: tuple[AlertTierTerms, ...] | None = None


@dataclass(frozen=True)
class Review:
    """One quarterly review (phase 7)."""

    quarter: str  # "2026-Q4"
    outcome: str  # maintain | tighten | relax | redefine
    findings: str
    attendees: tuple[str, ...]
    next_review_on: datetime | None  # when the team plans the next one (at most a quarter on)
    target: float | None  # the agreed target the review looked at
    proposal_id: str | None  # tighten / relax: the proposal the review opened
    proposed_target: float | None
    reviewed_by: str | None
    role: str | None
    reviewed_at: datetime


@dataclass(frozen=True)
class ObjectiveState:
    id: str
    journey_id: str
    name: str
    sli: SLI
    window: Window
    budgeting: Budgeting
    status: ObjectiveStatus
    baseline: Baseline | None
    agreed_target: float | None
    agreed_proposal_id: str | None
    agreed_at: datetime | None
    proposals: tuple[Proposal, ...]
    history: tuple[NegotiationStep, ...]
    agreement: Agreement | None
    retirement_reason: str | None
    drafted_by: str | None
    drafted_at: datetime
    updated_at: datetime
    version: int
    reviews: tuple[Review, ...] = ()  # quarterly reviews, oldest first
    service: str | None = None  # the service a component objective measures (None: end to end)

    @property
    def component(self) -> bool:
        """True for an objective of one service the journey depends on, not of the journey itself."""
        return self.service is not None

    @property
    def last_review(self) -> Review | None:
        return self.reviews[-1] if self.reviews else None

    @property
    def reviewed_or_agreed_at(self) -> datetime | None:
        """When the objective was last looked at as a whole: its last review or agreement."""
        moments = [m for m in (self.agreed_at, self.reviews[-1].reviewed_at if self.reviews else None) if m]
        return max(moments) if moments else None

    @property
    def informational(self) -> bool:
        """True until an error-budget policy is formalized: without one, an SLO is a dashboard."""
        return self.agreement is None

    @property
    def open_proposal(self) -> Proposal | None:
        return next((p for p in self.proposals if p.status is ProposalStatus.OPEN), None)

    @property
    def owners(self) -> tuple[str, ...]:
        """(product owner, SRE owner) once formalized: the SLO is owned jointly."""
        if self.agreement is None:
            return ()
        return (self.agreement.product_owner, self.agreement.sre_owner)

    @property
    def retired(self) -> bool:
        return self.status is ObjectiveStatus.RETIRED

    def proposal(self, proposal_id: str) -> Proposal | None:
        return next((p for p in self.proposals if p.proposal_id == proposal_id), None)


def initial_state() -> ObjectiveState | None:
    return None


def to_dict(state: ObjectiveState | None) -> dict[str, Any] | None:
    return None if state is None else codec.encode(state)


def from_dict(data: dict[str, Any] | None) -> ObjectiveState | None:
    if data is None:
        return None
    if "reviews" not in data:  # read models and snapshots written before reviews existed
        data = {**data, "reviews": []}
    if "service" not in data:  # ... and before component objectives
        data = {**data, "service": None}
    return codec.decode(ObjectiveState, data)


def review_due(state: ObjectiveState) -> datetime | None:
    """When the next review is due: the date the last review planned, else one quarter after
    the last review or agreement. None without an agreed target (nothing to review)."""
    base = state.reviewed_or_agreed_at
    if base is None or state.agreed_target is None:
        return None
    last = state.last_review
    if last is not None and last.next_review_on is not None and last.reviewed_at >= base:
        return last.next_review_on
    return quarters.one_quarter_after(base)


def review_overdue(state: ObjectiveState, now: datetime) -> bool:
    """An ACTIVE objective whose last review (or agreement) is older than one quarter at `now`."""
    base = state.reviewed_or_agreed_at
    if state.status is not ObjectiveStatus.ACTIVE or base is None:
        return False
    return now > quarters.one_quarter_after(base)


# --- commands ---------------------------------------------------------------


class _ObjectiveCommand:
    """Every objective command writes its objective's stream; most read no other."""

    objective_id: str

    def stream(self) -> str:
        return stream_id(self.objective_id)

    def reads(self, state: ObjectiveState | None = None) -> tuple[str, ...]:
        return ()


@dataclass(frozen=True)
class DraftObjective(_ObjectiveCommand):
    objective_id: str
    journey_id: str
    name: str
    sli: SLI
    window: Window
    budgeting: Budgeting
    # Set for a component objective: it measures this service (one of the journey's
    # dependencies, or a shared one), and journeys that depend critically on the
    # service compose their attainment from it. None: the journey's own, end to end.
    service: str | None = None

    def reads(self, state: ObjectiveState | None = None) -> tuple[str, ...]:
        return (journeys.stream_id(self.journey_id),)


@dataclass(frozen=True)
class RecordBaseline(_ObjectiveCommand):
    objective_id: str
    period_start: datetime
    period_end: datetime
    good: int
    total: int
    notes: str | None = None


@dataclass(frozen=True)
class ProposeTarget(_ObjectiveCommand):
    objective_id: str
    proposal_id: str
    target: float  # a fraction in (0, 1): 0.999, never 99.9
    rationale: str
    required_parties: tuple[str, ...] = PARTIES

    def reads(self, state: ObjectiveState | None = None) -> tuple[str, ...]:
        # The journey is known only from the objective's own state, so the caller
        # loads that first and passes it here. Without it there is nothing to read,
        # and decide() then fails loudly (MissingRead) rather than skip the gap rule.
        if state is None:
            return ()
        return (journeys.stream_id(state.journey_id),)


@dataclass(frozen=True)
class EndorseProposal(_ObjectiveCommand):
    objective_id: str
    proposal_id: str
    party: str
    comment: str | None = None


@dataclass(frozen=True)
class ObjectToProposal(_ObjectiveCommand):
    objective_id: str
    proposal_id: str
    party: str
    objection: str  # too_strict | too_loose | other
    reason: str


@dataclass(frozen=True)
class ReviseProposal(_ObjectiveCommand):
    objective_id: str
    proposal_id: str
    target: float
    rationale: str


@dataclass(frozen=True)
class WithdrawProposal(_ObjectiveCommand):
    objective_id: str
    proposal_id: str
    reason: str


@dataclass(frozen=True)
class DeferNegotiation(_ObjectiveCommand):
    objective_id: str
    proposal_id: str
    reason: str
    revisit_on: date | datetime | None = None  # a date is taken as its midnight UTC


@dataclass(frozen=True)
class FormalizeAgreement(_ObjectiveCommand):
    objective_id: str
    policy_id: str
    policy_version: int
    product_owner: str
    sre_owner: str
    escalation_path: tuple[str, ...]  # e.g. ("sre-oncall", "eng-manager", "vp-eng")
    resource_commitment: str

    def reads(self, state: ObjectiveState | None = None) -> tuple[str, ...]:
        # Only a policy version that exists may be pinned (domain/policy.py says which do).
        return (policies.stream_id(self.policy_id),) if isinstance(self.policy_id, str) else ()


@dataclass(frozen=True)
class RecordReview(_ObjectiveCommand):
    """A quarterly review. tighten / relax need proposal_id and proposed_target (stricter,
    resp. looser, than the agreed target): the review opens that proposal."""

    objective_id: str
    quarter: str  # "2026-Q4"
    outcome: str  # maintain | tighten | relax | redefine
    findings: str
    attendees: tuple[str, ...]
    next_review_on: date | datetime | None = None  # a date is taken as its midnight UTC
    proposal_id: str | None = None
    proposed_target: float | None = None
    rationale: str | None = None  # the proposal's rationale; default: the findings
    required_parties: tuple[str, ...] = PARTIES

    def reads(self, state: ObjectiveState | None = None) -> tuple[str, ...]:
        # A tighten / relax review proposes a target: the journey's gaps must be checked.
        if state is None or self.outcome not in RENEGOTIATING_OUTCOMES:
            return ()
        return (journeys.stream_id(state.journey_id),)


@dataclass(frozen=True)
class RetireObjective(_ObjectiveCommand):
    objective_id: str
    reason: str


COMMANDS: tuple[type, ...] = (
    DraftObjective,
    RecordBaseline,
    ProposeTarget,
    EndorseProposal,
    ObjectToProposal,
    ReviseProposal,
    WithdrawProposal,
    DeferNegotiation,
    FormalizeAgreement,
    RecordReview,
    RetireObjective,
)


# --- decide: validation of the value objects ------------------------------------


def _sli_data(sli: Any) -> dict[str, Any]:
    if not isinstance(sli, SLI):
        raise InvalidInput("sli must be an SLI", field="sli")
    kind = require_choice(sli.kind, "sli.kind", SLI_KINDS)
    needed = _SLI_FIELDS[kind]
    for name in ("threshold_ms", "metric", "threshold", "threshold_seconds"):
        value = getattr(sli, name)
        if name in needed and value is None:
            raise InvalidInput(f"a {kind} SLI needs sli.{name}", field=f"sli.{name}")
        if name not in needed and value is not None:
            raise InvalidInput(f"sli.{name} does not apply to a {kind} SLI", field=f"sli.{name}")
    data: dict[str, Any] = {
        "kind": kind,
        "threshold_ms": None,
        "metric": None,
        "threshold": None,
        "threshold_seconds": None,
        "description": optional_text(sli.description, "sli.description"),
    }
    if kind == "latency":
        data["threshold_ms"] = require_number(sli.threshold_ms, "sli.threshold_ms", above=0)
    elif kind == "quality":
        data["metric"] = require_id(sli.metric, "sli.metric")
        data["threshold"] = require_number(sli.threshold, "sli.threshold", at_least=0, at_most=1)
    elif kind == "freshness":
        data["threshold_seconds"] = require_number(sli.threshold_seconds, "sli.threshold_seconds", above=0)
    return data


def _window_data(window: Any) -> dict[str, Any]:
    if not isinstance(window, Window):
        raise InvalidInput("window must be a Window", field="window")
    kind = require_choice(window.kind, "window.kind", WINDOW_KINDS)
    if kind == "rolling":
        if window.days is None:
            raise InvalidInput("a rolling window needs window.days", field="window.days")
        return {"kind": kind, "days": require_int(window.days, "window.days", minimum=1, maximum=90)}
    if window.days is not None:
        raise InvalidInput(f"window.days does not apply to a {kind} window", field="window.days")
    return {"kind": kind, "days": None}


def _budgeting_data(budgeting: Any) -> dict[str, Any]:
    if not isinstance(budgeting, Budgeting):
        raise InvalidInput("budgeting must be a Budgeting", field="budgeting")
    method = require_choice(budgeting.method, "budgeting.method", BUDGETING_METHODS)
    if method == "occurrences":
        for name in ("slice_minutes", "slice_threshold"):
            if getattr(budgeting, name) is not None:
                raise InvalidInput(
                    f"budgeting.{name} applies only to timeslices", field=f"budgeting.{name}"
                )
        return {"method": method, "slice_minutes": None, "slice_threshold": None}
    for name in ("slice_minutes", "slice_threshold"):
        if getattr(budgeting, name) is None:
            raise InvalidInput(f"timeslice budgeting needs budgeting.{name}", field=f"budgeting.{name}")
    return {
        "method": method,
        "slice_minutes": require_int(budgeting.slice_minutes, "budgeting.slice_minutes", minimum=1, maximum=60),
        "slice_threshold": require_number(
            budgeting.slice_threshold, "budgeting.slice_threshold", above=0, at_most=1
        ),
    }


def _require_target(value: Any) -> float:
    try:
        return require_number(value, "target", above=0, below=1)
    except InvalidInput as error:
        raise InvalidInput(
            f"{error.message}: a target is a fraction strictly between 0 and 1 (0.999, not 99.9 or 1.0)",
            field="target",
        ) from None


# --- decide: the rules ----------------------------------------------------------


def decide(command: Any, state: ObjectiveState | None, ctx: Context) -> list[NewEvent]:
    handler = _DECIDERS.get(type(command))
    if handler is None:
        raise TypeError(f"not an objective command: {type(command).__name__}")
    objective_id = require_id(command.objective_id, "objective_id")
    if isinstance(command, DraftObjective):
        if state is not None:
            raise Conflict(f"objective {objective_id} already exists", objective_id=objective_id)
        return handler(command, None, ctx)
    if state is None:
        raise NotFound(f"objective {objective_id} does not exist", objective_id=objective_id)
    if state.retired:
        raise Conflict(f"objective {objective_id} is retired", objective_id=objective_id)
    return handler(command, state, ctx)


def _live_journey(ctx: Context, journey_id: str) -> journeys.JourneyState:
    journey = related_state(ctx, journeys.stream_id(journey_id))
    if journey is None:
        raise NotFound(f"journey {journey_id} does not exist", journey_id=journey_id)
    if journey.retired:
        raise Conflict(f"journey {journey_id} is retired", journey_id=journey_id)
    return journey


def _draft(cmd: DraftObjective, state: None, ctx: Context) -> list[NewEvent]:
    journey_id = require_id(cmd.journey_id, "journey_id")
    data = {
        "objective_id": cmd.objective_id,
        "journey_id": journey_id,
        "name": require_text(cmd.name, "name", max_length=NAME_MAX_LENGTH),
        "sli": _sli_data(cmd.sli),
        "window": _window_data(cmd.window),
        "budgeting": _budgeting_data(cmd.budgeting),
    }
    if cmd.service is not None:  # absent, not null, for end-to-end objectives (as before)
        data["service"] = require_text(cmd.service, "service", max_length=NAME_MAX_LENGTH)
    journey = _live_journey(ctx, journey_id)
    if journey.status is not journeys.JourneyStatus.PRIORITIZED:
        raise PolicyViolation(
            f"journey {journey_id} has not been prioritized: choosing journeys is a business "
            "decision, and SLOs are drafted only after it",
            journey_id=journey_id,
            journey_status=journey.status.value,
        )
    return [NewEvent("ObjectiveDrafted", data)]


def _record_baseline(cmd: RecordBaseline, state: ObjectiveState, ctx: Context) -> list[NewEvent]:
    start = require_aware(cmd.period_start, "period_start")
    end = require_aware(cmd.period_end, "period_end")
    if not start < end:
        raise InvalidInput("period_end must be after period_start", field="period_end")
    if end > ctx.now:
        raise InvalidInput(
            "period_end is in the future: a baseline is measured on data already collected",
            field="period_end",
        )
    good = require_int(cmd.good, "good", minimum=0)
    total = require_int(cmd.total, "total", minimum=0)
    if total == 0:
        raise InvalidInput("total must be greater than 0: a baseline needs events", field="total")
    if good > total:
        raise InvalidInput(f"good ({good}) cannot exceed total ({total})", field="good")
    return [
        NewEvent(
            "BaselineRecorded",
            {
                "objective_id": state.id,
                "period_start": iso(start),
                "period_end": iso(end),
                "good": good,
                "total": total,
                "notes": optional_text(cmd.notes, "notes"),
            },
        )
    ]


def _propose_target(cmd: ProposeTarget, state: ObjectiveState, ctx: Context) -> list[NewEvent]:
    proposal_id = require_id(cmd.proposal_id, "proposal_id")
    target = _require_target(cmd.target)
    rationale = require_text(cmd.rationale, "rationale")
    parties = require_parties(cmd.required_parties, "required_parties")
    return [_proposed(state, ctx, proposal_id, target, rationale, parties)]


def _proposed(
    state: ObjectiveState, ctx: Context, proposal_id: str, target: float, rationale: str, parties: tuple[str, ...]
) -> NewEvent:
    """TargetProposed, once the rules for a new proposal hold (a fresh id, no open proposal,
    no open instrumentation gap on the journey)."""
    if state.proposal(proposal_id) is not None:
        raise Conflict(
            f"proposal id {proposal_id} was already used on objective {state.id}",
            proposal_id=proposal_id,
        )
    current = state.open_proposal
    if current is not None:
        raise Conflict(
            f"proposal {current.proposal_id} is still open: revise, withdraw or defer it first",
            open_proposal_id=current.proposal_id,
        )
    journey = _live_journey(ctx, state.journey_id)
    gaps = [g.gap_id for g in journey.open_gaps]
    if gaps:
        # The seed's flowchart: no instrumentation, no target. A number built on
        # incomplete instrumentation is misleading.
        raise PolicyViolation(
            f"journey {journey.id} has open instrumentation gaps ({', '.join(gaps)}): "
            "instrumentation must exist before a target is proposed",
            journey_id=journey.id,
            gap_ids=gaps,
        )
    return NewEvent(
        "TargetProposed",
        {
            "objective_id": state.id,
            "proposal_id": proposal_id,
            "target": target,
            "rationale": rationale,
            "required_parties": list(parties),
        },
    )


def _open_proposal_named(state: ObjectiveState, proposal_id: Any) -> Proposal:
    """The proposal a negotiation step acts on: it must exist and still be open."""
    proposal_id = require_id(proposal_id, "proposal_id")
    proposal = state.proposal(proposal_id)
    if proposal is None:
        raise NotFound(
            f"objective {state.id} has no proposal {proposal_id}", proposal_id=proposal_id
        )
    if proposal.status is not ProposalStatus.OPEN:
        raise Conflict(
            f"proposal {proposal_id} is {proposal.status.value.lower()}, no longer open",
            proposal_id=proposal_id,
            proposal_status=proposal.status.value,
        )
    return proposal


def _endorse(cmd: EndorseProposal, state: ObjectiveState, ctx: Context) -> list[NewEvent]:
    proposal = _open_proposal_named(state, cmd.proposal_id)
    party = require_choice(cmd.party, "party", PARTIES)
    endorsed = NewEvent(
        "ProposalEndorsed",
        {
            "objective_id": state.id,
            "proposal_id": proposal.proposal_id,
            "party": party,
            "comment": optional_text(cmd.comment, "comment"),
            "revision": proposal.revision,
        },
    )
    # Agreement is the moment the last required party endorses the current revision;
    # a party outside required_parties is heard but cannot complete it.
    still_awaiting = tuple(p for p in proposal.awaiting if p != party)
    if still_awaiting:
        return [endorsed]
    agreed = NewEvent(
        "TargetAgreed",
        {
            "objective_id": state.id,
            "proposal_id": proposal.proposal_id,
            "target": proposal.target,
            "revision": proposal.revision,
            "parties": list(proposal.required_parties),
        },
    )
    return [endorsed, agreed]


def _object(cmd: ObjectToProposal, state: ObjectiveState, ctx: Context) -> list[NewEvent]:
    proposal = _open_proposal_named(state, cmd.proposal_id)
    return [
        NewEvent(
            "ProposalObjected",
            {
                "objective_id": state.id,
                "proposal_id": proposal.proposal_id,
                "party": require_choice(cmd.party, "party", PARTIES),
                "objection": require_choice(cmd.objection, "objection", OBJECTION_KINDS),
                "reason": require_text(cmd.reason, "reason"),
                "revision": proposal.revision,
            },
        )
    ]


def _revise(cmd: ReviseProposal, state: ObjectiveState, ctx: Context) -> list[NewEvent]:
    proposal = _open_proposal_named(state, cmd.proposal_id)
    return [
        NewEvent(
            "ProposalRevised",
            {
                "objective_id": state.id,
                "proposal_id": proposal.proposal_id,
                "target": _require_target(cmd.target),
                "rationale": require_text(cmd.rationale, "rationale"),
                "revision": proposal.revision + 1,
            },
        )
    ]


def _withdraw(cmd: WithdrawProposal, state: ObjectiveState, ctx: Context) -> list[NewEvent]:
    proposal = _open_proposal_named(state, cmd.proposal_id)
    return [
        NewEvent(
            "ProposalWithdrawn",
            {
                "objective_id": state.id,
                "proposal_id": proposal.proposal_id,
                "reason": require_text(cmd.reason, "reason"),
            },
        )
    ]


def _defer(cmd: DeferNegotiation, state: ObjectiveState, ctx: Context) -> list[NewEvent]:
    proposal = _open_proposal_named(state, cmd.proposal_id)
    reason = require_text(cmd.reason, "reason")
    revisit_on = None
    if cmd.revisit_on is not None:
        revisit_on = require_moment(cmd.revisit_on, "revisit_on")
        if revisit_on <= ctx.now:
            raise InvalidInput("revisit_on must be in the future", field="revisit_on")
    return [
        NewEvent(
            "NegotiationDeferred",
            {
                "objective_id": state.id,
                "proposal_id": proposal.proposal_id,
                "reason": reason,
                "revisit_on": None if revisit_on is None else iso(revisit_on),
            },
        )
    ]


def _policy_tiers(policy_state: Any, policy_id: str, version: int, window: Window) -> list[dict[str, Any]] | None:
    """The alert tiers the pinned version states (None: not said, or the bundled version 0,
    whose tiers are the workbook's), refused when a long window outgrows the objective's."""
    pv = policy_state.at_version(version) if policy_state is not None else None
    said = pv.doc().get("alert_tiers") if pv is not None else None
    if said is None:
        return None
    try:
        tiers = burn.parse_tiers(said)
        burn.check_tiers_fit(tiers, window.kind, window.days, field="alert_tiers")
    except BudgetInputError as error:
        raise InvalidInput(f"policy {policy_id} v{version}: {error}", field=error.field) from None
    return [t.to_dict() for t in tiers]


def _formalize(cmd: FormalizeAgreement, state: ObjectiveState, ctx: Context) -> list[NewEvent]:
    policy_id = require_id(cmd.policy_id, "policy_id")
    policy_version = require_int(cmd.policy_version, "policy_version", minimum=0)
    policy_state = related_state(ctx, policies.stream_id(policy_id))
    if not policies.version_exists(policy_state, policy_id, policy_version):
        raise NotFound(
            f"policy {policy_id} has no version {policy_version}: adopt it first, or pin a version that exists"
            + (f" ({policies.BUILTIN_POLICY_ID} version {policies.BUILTIN_VERSION} is the bundled text)"
               if policy_id == policies.BUILTIN_POLICY_ID else ""),
            field="policy_version", policy_id=policy_id, policy_version=policy_version,
        )
    data = {
        "objective_id": state.id,
        "policy_id": policy_id,
        "policy_version": policy_version,
        "product_owner": require_text(cmd.product_owner, "product_owner", max_length=NAME_MAX_LENGTH),
        "sre_owner": require_text(cmd.sre_owner, "sre_owner", max_length=NAME_MAX_LENGTH),
        "escalation_path": list(require_texts(cmd.escalation_path, "escalation_path", min_items=1)),
        "resource_commitment": require_text(cmd.resource_commitment, "resource_commitment"),
        "target": state.agreed_target,  # what was formalized, for the reader of the log
        "alert_tiers": _policy_tiers(policy_state, policy_id, policy_version, state.window),
    }
    if state.status not in (ObjectiveStatus.AGREED, ObjectiveStatus.ACTIVE):
        raise PolicyViolation(
            f"objective {state.id} has no agreed target yet: every required party must "
            "agree before the agreement is formalized",
            objective_status=state.status.value,
        )
    current = state.agreement
    if current is not None and current.policy_id == policy_id and policy_version < current.policy_version:
        raise Conflict(
            f"objective {state.id} is already under {policy_id} v{current.policy_version}; "
            f"policy versions only move forward",
            policy_version=current.policy_version,
        )
    return [NewEvent("AgreementFormalized", data)]


def _review(cmd: RecordReview, state: ObjectiveState, ctx: Context) -> list[NewEvent]:
    quarter = quarters.require_quarter(cmd.quarter)
    start, _ = quarters.bounds(quarter)
    if start > ctx.now:
        raise InvalidInput(f"quarter {quarter} has not started yet: only a past or the current quarter is reviewed",
                           field="quarter")
    outcome = require_choice(cmd.outcome, "outcome", REVIEW_OUTCOMES)
    findings = require_text(cmd.findings, "findings")
    attendees = require_texts(cmd.attendees, "attendees", min_items=1)
    next_review_on = None
    if cmd.next_review_on is not None:
        next_review_on = require_moment(cmd.next_review_on, "next_review_on")
        if next_review_on <= ctx.now:
            raise InvalidInput("next_review_on must be in the future", field="next_review_on")
        if next_review_on > quarters.one_quarter_after(ctx.now):
            raise InvalidInput(
                "next_review_on must be at most a quarter away: SLOs are reviewed at least quarterly",
                field="next_review_on",
            )
    renegotiate = outcome in RENEGOTIATING_OUTCOMES
    proposal_id = target = None
    if renegotiate:
        if cmd.proposal_id is None:
            raise InvalidInput(f"a {outcome} review opens a proposal: proposal_id is required", field="proposal_id")
        if cmd.proposed_target is None:
            raise InvalidInput(f"a {outcome} review needs proposed_target", field="proposed_target")
        proposal_id = require_id(cmd.proposal_id, "proposal_id")
        try:
            target = _require_target(cmd.proposed_target)
        except InvalidInput as error:
            raise InvalidInput(error.message, field="proposed_target") from None
        parties = require_parties(cmd.required_parties, "required_parties")
        rationale = optional_text(cmd.rationale, "rationale")
    else:
        for name in ("proposal_id", "proposed_target", "rationale"):
            if getattr(cmd, name) is not None:
                raise InvalidInput(
                    f"{name} applies only to tighten and relax reviews (this one is {outcome})", field=name
                )
    if state.agreed_target is None:
        raise PolicyViolation(
            f"objective {state.id} has no agreed target yet: a review looks at an agreed SLO",
            objective_status=state.status.value,
        )
    if any(r.quarter == quarter for r in state.reviews):
        raise Conflict(f"objective {state.id} was already reviewed for {quarter}", quarter=quarter)
    if renegotiate:
        agreed = state.agreed_target
        if outcome == "tighten" and not target > agreed:
            raise InvalidInput(
                f"a tighten review proposes a stricter target than the agreed {percent(agreed)} "
                f"(got {percent(target)})",
                field="proposed_target",
            )
        if outcome == "relax" and not target < agreed:
            raise InvalidInput(
                f"a relax review proposes a looser target than the agreed {percent(agreed)} (got {percent(target)})",
                field="proposed_target",
            )
    reviewed = NewEvent(
        "ObjectiveReviewed",
        {
            "objective_id": state.id,
            "quarter": quarter,
            "outcome": outcome,
            "findings": findings,
            "attendees": list(attendees),
            "next_review_on": None if next_review_on is None else iso(next_review_on),
            "target": state.agreed_target,
            "proposal_id": proposal_id,
            "proposed_target": target,
        },
    )
    if not renegotiate:
        return [reviewed]
    text = rationale or f"{quarter} review ({outcome}): {findings}"
    return [reviewed, _proposed(state, ctx, proposal_id, target, text[:5000], parties)]


def _retire(cmd: RetireObjective, state: ObjectiveState, ctx: Context) -> list[NewEvent]:
    reason = require_text(cmd.reason, "reason")
    events = []
    # An open proposal is closed explicitly, so the log tells why it ended.
    if state.open_proposal is not None:
        events.append(
            NewEvent(
                "ProposalWithdrawn",
                {
                    "objective_id": state.id,
                    "proposal_id": state.open_proposal.proposal_id,
                    "reason": f"objective retired: {reason}",
                },
            )
        )
    events.append(NewEvent("ObjectiveRetired", {"objective_id": state.id, "reason": reason}))
    return events


_DECIDERS: dict[type, Callable[[Any, Any, Context], list[NewEvent]]] = {
    DraftObjective: _draft,
    RecordBaseline: _record_baseline,
    ProposeTarget: _propose_target,
    EndorseProposal: _endorse,
    ObjectToProposal: _object,
    ReviseProposal: _revise,
    WithdrawProposal: _withdraw,
    DeferNegotiation: _defer,
    FormalizeAgreement: _formalize,
    RecordReview: _review,
    RetireObjective: _retire,
}


# --- evolve -------------------------------------------------------------------


def evolve(state: ObjectiveState | None, event: RecordedEvent) -> ObjectiveState:
    if event.type == "ObjectiveDrafted":
        if state is not None:
            raise ValueError(f"{event.stream_id} was drafted twice (version {event.stream_version})")
        new = _drafted(event)
    else:
        apply = _EVOLVERS.get(event.type)
        if apply is None:
            raise ValueError(f"unknown objective event type {event.type!r}")
        if state is None:
            raise ValueError(f"{event.type} before ObjectiveDrafted in {event.stream_id}")
        new = apply(state, event)
    return replace(new, version=event.stream_version, updated_at=event.recorded_at)


def _settled_status(state: ObjectiveState) -> ObjectiveStatus:
    """The status once no first negotiation is in progress: what has been agreed decides it."""
    if state.agreed_target is None:
        return ObjectiveStatus.DRAFT
    return ObjectiveStatus.AGREED if state.agreement is None else ObjectiveStatus.ACTIVE


def _with_step(
    state: ObjectiveState, event: RecordedEvent, proposal_id: str | None, detail: str
) -> tuple[NegotiationStep, ...]:
    step = NegotiationStep(
        at=event.recorded_at,
        actor=actor_of(event),
        role=role_of(event),
        kind=event.type,
        proposal_id=proposal_id,
        detail=detail,
    )
    return state.history + (step,)


def _with_proposal(state: ObjectiveState, proposal: Proposal) -> tuple[Proposal, ...]:
    return tuple(proposal if p.proposal_id == proposal.proposal_id else p for p in state.proposals)


def _drafted(event: RecordedEvent) -> ObjectiveState:
    d = event.data
    return ObjectiveState(
        id=d["objective_id"],
        journey_id=d["journey_id"],
        name=d["name"],
        sli=codec.decode(SLI, dict(d["sli"])),
        window=codec.decode(Window, dict(d["window"])),
        budgeting=codec.decode(Budgeting, dict(d["budgeting"])),
        status=ObjectiveStatus.DRAFT,
        baseline=None,
        agreed_target=None,
        agreed_proposal_id=None,
        agreed_at=None,
        proposals=(),
        history=(),
        agreement=None,
        retirement_reason=None,
        drafted_by=actor_of(event),
        drafted_at=event.recorded_at,
        updated_at=event.recorded_at,
        version=event.stream_version,
        service=d.get("service"),
    )


def _baseline_recorded(state: ObjectiveState, event: RecordedEvent) -> ObjectiveState:
    d = event.data
    baseline = Baseline(
        period_start=parse_iso(d["period_start"]),
        period_end=parse_iso(d["period_end"]),
        good=d["good"],
        total=d["total"],
        attainment=d["good"] / d["total"],
        notes=d.get("notes"),
        recorded_by=actor_of(event),
        recorded_at=event.recorded_at,
    )
    detail = (
        f"baseline {baseline.period_start.date()}..{baseline.period_end.date()}: "
        f"{percent(baseline.attainment)} good ({baseline.good}/{baseline.total})"
    )
    return replace(state, baseline=baseline, history=_with_step(state, event, None, detail))


def _target_proposed(state: ObjectiveState, event: RecordedEvent) -> ObjectiveState:
    d = event.data
    proposal = Proposal(
        proposal_id=d["proposal_id"],
        target=d["target"],
        rationale=d["rationale"],
        required_parties=tuple(d["required_parties"]),
        revision=1,
        status=ProposalStatus.OPEN,
        proposed_by=actor_of(event),
        proposed_at=event.recorded_at,
        positions=(),
        closed_at=None,
        closed_reason=None,
        revisit_on=None,
    )
    # A renegotiation leaves an AGREED or ACTIVE objective as it is: the agreed
    # target stays in force until a new one is agreed.
    status = ObjectiveStatus.NEGOTIATING if state.agreed_target is None else state.status
    detail = (
        f"proposed {percent(proposal.target)} "
        f"(needs {', '.join(proposal.required_parties)}): {proposal.rationale}"
    )
    return replace(
        state,
        status=status,
        proposals=state.proposals + (proposal,),
        history=_with_step(state, event, proposal.proposal_id, detail),
    )


def _position_taken(state: ObjectiveState, event: RecordedEvent) -> ObjectiveState:
    d = event.data
    proposal = state.proposal(d["proposal_id"])
    endorsed = event.type == "ProposalEndorsed"
    position = Position(
        party=d["party"],
        stance=Stance.ENDORSED if endorsed else Stance.OBJECTED,
        objection=None if endorsed else d["objection"],
        comment=d.get("comment") if endorsed else d["reason"],
        actor=actor_of(event),
        at=event.recorded_at,
        revision=d["revision"],
    )
    if endorsed:
        detail = f"{position.party} endorsed {percent(proposal.target)} (revision {position.revision})"
    else:
        detail = (
            f"{position.party} objected to {percent(proposal.target)} "
            f"(revision {position.revision}) as {position.objection}"
        )
    if position.comment:
        detail += f": {position.comment}"
    updated = replace(proposal, positions=proposal.positions + (position,))
    return replace(
        state,
        proposals=_with_proposal(state, updated),
        history=_with_step(state, event, proposal.proposal_id, detail),
    )


def _proposal_revised(state: ObjectiveState, event: RecordedEvent) -> ObjectiveState:
    d = event.data
    proposal = state.proposal(d["proposal_id"])
    # Positions are kept for the record; standing() counts only the new revision's,
    # so every party has to speak again.
    updated = replace(proposal, target=d["target"], rationale=d["rationale"], revision=d["revision"])
    detail = (
        f"revised {percent(proposal.target)} -> {percent(updated.target)} "
        f"(revision {updated.revision}): {updated.rationale}"
    )
    return replace(
        state,
        proposals=_with_proposal(state, updated),
        history=_with_step(state, event, updated.proposal_id, detail),
    )


def _proposal_closed(state: ObjectiveState, event: RecordedEvent) -> ObjectiveState:
    """ProposalWithdrawn and NegotiationDeferred: the proposal ends unagreed."""
    d = event.data
    proposal = state.proposal(d["proposal_id"])
    deferred = event.type == "NegotiationDeferred"
    revisit_on = parse_optional_iso(d.get("revisit_on")) if deferred else None
    updated = replace(
        proposal,
        status=ProposalStatus.DEFERRED if deferred else ProposalStatus.WITHDRAWN,
        closed_at=event.recorded_at,
        closed_reason=d["reason"],
        revisit_on=revisit_on,
    )
    if deferred:
        until = f" until {revisit_on.date()}" if revisit_on else ""
        detail = f"negotiation deferred{until}: {d['reason']}"
    else:
        detail = f"withdrawn: {d['reason']}"
    closed = replace(
        state,
        proposals=_with_proposal(state, updated),
        history=_with_step(state, event, updated.proposal_id, detail),
    )
    return replace(closed, status=_settled_status(closed))


def _target_agreed(state: ObjectiveState, event: RecordedEvent) -> ObjectiveState:
    d = event.data
    agreed_id = d["proposal_id"]

    def settle(p: Proposal) -> Proposal:
        if p.proposal_id == agreed_id:
            return replace(p, status=ProposalStatus.AGREED, closed_at=event.recorded_at)
        if p.status is ProposalStatus.AGREED:
            return replace(p, status=ProposalStatus.SUPERSEDED)
        return p

    detail = (
        f"agreed {percent(d['target'])} at revision {d['revision']} "
        f"by {', '.join(d['parties'])}"
    )
    agreed = replace(
        state,
        agreed_target=d["target"],
        agreed_proposal_id=agreed_id,
        agreed_at=event.recorded_at,
        proposals=tuple(settle(p) for p in state.proposals),
        history=_with_step(state, event, agreed_id, detail),
    )
    return replace(agreed, status=_settled_status(agreed))


def _agreement_formalized(state: ObjectiveState, event: RecordedEvent) -> ObjectiveState:
    d = event.data
    agreement = Agreement(
        policy_id=d["policy_id"],
        policy_version=d["policy_version"],
        product_owner=d["product_owner"],
        sre_owner=d["sre_owner"],
        escalation_path=tuple(d["escalation_path"]),
        resource_commitment=d["resource_commitment"],
        formalized_by=actor_of(event),
        formalized_at=event.recorded_at,
        alert_tiers=None if d.get("alert_tiers") is None else tuple(AlertTierTerms(**t) for t in d["alert_tiers"]),
    )
    detail = (
        f"formalized under policy {agreement.policy_id} v{agreement.policy_version}; "
        f"owners {agreement.product_owner} (product) and {agreement.sre_owner} (sre); "
        f"escalation {' -> '.join(agreement.escalation_path)}"
    )
    return replace(
        state,
        agreement=agreement,
        status=ObjectiveStatus.ACTIVE,
        history=_with_step(state, event, None, detail),
    )


def _reviewed(state: ObjectiveState, event: RecordedEvent) -> ObjectiveState:
    d = event.data
    review = Review(
        quarter=d["quarter"],
        outcome=d["outcome"],
        findings=d["findings"],
        attendees=tuple(d["attendees"]),
        next_review_on=parse_optional_iso(d.get("next_review_on")),
        target=d.get("target"),
        proposal_id=d.get("proposal_id"),
        proposed_target=d.get("proposed_target"),
        reviewed_by=actor_of(event),
        role=role_of(event),
        reviewed_at=event.recorded_at,
    )
    detail = f"{review.quarter} review: {review.outcome}"
    if review.proposed_target is not None:
        detail += f", proposes {percent(review.proposed_target)} as {review.proposal_id}"
    detail += f": {review.findings}"
    return replace(
        state,
        reviews=state.reviews + (review,),
        history=_with_step(state, event, review.proposal_id, detail),
    )


def _retired(state: ObjectiveState, event: RecordedEvent) -> ObjectiveState:
    return replace(state, status=ObjectiveStatus.RETIRED, retirement_reason=event.data["reason"])


_EVOLVERS: dict[str, Callable[[ObjectiveState, RecordedEvent], ObjectiveState]] = {
    "BaselineRecorded": _baseline_recorded,
    "TargetProposed": _target_proposed,
    "ProposalEndorsed": _position_taken,
    "ProposalObjected": _position_taken,
    "ProposalRevised": _proposal_revised,
    "ProposalWithdrawn": _proposal_closed,
    "NegotiationDeferred": _proposal_closed,
    "TargetAgreed": _target_agreed,
    "AgreementFormalized": _agreement_formalized,
    "ObjectiveReviewed": _reviewed,
    "ObjectiveRetired": _retired,
}
