"""The objective stream's vocabulary and state: what every phase reads and folds into.

Value objects (SLI, window, budgeting), the state of an objective through all its
phases, the base of its commands, and the few steps of evolve every phase shares.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from domain import codec
from domain.baseline_analysis import BaselineAnalysis
from domain.commands import actor_of, role_of
from domain.events import RecordedEvent
from domain.labels import Annotation, Label


CATEGORY = "objective"
WINDOW_KINDS: tuple[str, ...] = ("rolling", "calendar", "calendar_month", "calendar_quarter")
BUDGETING_METHODS: tuple[str, ...] = ("occurrences", "timeslices", "ratio_timeslices")
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
    "ObjectiveLabeled",
    "WhatIfEvidenceAttached",
    "SliDefined",
    "SliChangeProposed",
    "NotificationTargetsSet",
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
    "WhatIfEvidenceAttached",  # a what-if run shown to the parties
    "SliDefined",  # the queries the parties will agree to (set directly before any agreement)
    "SliChangeProposed",  # ... and, once agreed, changed only by a proposal like a target
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
class SliQuery:
    """The SLI as queries against a data source: `domain.sli_definition`'s plain form,
    flattened (only the fields of its kind are set). ratio: good or bad, and total;
    latency: histogram and le. `checked_at`: when the source itself accepted the
    queries before they were recorded (False: recorded without that check, e.g. by the demo)."""

    kind: str  # ratio | latency
    source: str
    series: str  # sum | single
    good: str | None = None
    bad: str | None = None
    total: str | None = None
    histogram: str | None = None
    le: str | None = None
    slice_minutes: int | None = None
    slice_good_ratio: float | None = None
    checked: bool = False

    def definition(self) -> dict[str, Any]:
        """The plain form `domain.sli_definition.parse_definition` reads."""
        out: dict[str, Any] = {"kind": self.kind, "source": self.source, "series": self.series}
        for name in ("good", "bad", "total", "histogram", "le"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        if self.slice_minutes is not None:
            out["slice"] = {"minutes": self.slice_minutes, "good_ratio": self.slice_good_ratio}
        return out

    def to_data(self) -> dict[str, Any]:
        """How events carry it: the plain form and whether the source checked it."""
        return {**self.definition(), "checked": self.checked}

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> "SliQuery":
        return cls.from_definition(data, bool(data.get("checked")))

    @classmethod
    def from_definition(cls, data: dict[str, Any], checked: bool) -> "SliQuery":
        rule = data.get("slice") or {}
        return cls(
            kind=data["kind"], source=data["source"], series=data.get("series", "sum"),
            good=data.get("good"), bad=data.get("bad"), total=data.get("total"),
            histogram=data.get("histogram"), le=data.get("le"),
            slice_minutes=rule.get("minutes"), slice_good_ratio=rule.get("good_ratio"), checked=checked,
        )


@dataclass(frozen=True)
class Window:
    """The compliance window (domain/budget/windows.py): rolling `days` (1..90) or
    `duration` (m, h, d, w, up to 366 days); a `calendar` period of `duration` (a week
    1w, a month 1M, a quarter 1Q, a year 1Y...) counted from `start`, a local date-time,
    in the IANA `time_zone`; or the UTC calendar_month and calendar_quarter."""

    kind: str  # rolling | calendar | calendar_month | calendar_quarter
    days: int | None = None
    duration: str | None = None
    start: str | None = None
    time_zone: str | None = None

    def budget_window(self) -> dict[str, Any]:
        """The budget ledger's form of this window (windows.py's dict), as the objective's
        events have always written it for the older kinds."""
        if self.kind == "rolling":
            return {"kind": "rolling", "days": self.days} if self.days is not None else \
                {"kind": "rolling", "duration": self.duration}
        if self.kind == "calendar":
            return {"kind": "calendar", "duration": self.duration, "start": self.start, "time_zone": self.time_zone}
        return {"kind": self.kind}


@dataclass(frozen=True)
class Budgeting:
    """occurrences: good/total events; timeslices: good/total slices, where a slice
    is good when its own good/total ratio meets slice_threshold; ratio_timeslices: each
    slice spends its bad share 1 - good/total (OpenSLO RatioTimeslices, no threshold)."""

    method: str
    slice_minutes: int | None = None
    slice_threshold: float | None = None


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
    # Measured from a source's history (measureBaseline): attainment per day and week, the
    # worst windows, candidate targets' budgets; None for a baseline typed in.
    analysis: BaselineAnalysis | None = None


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
    # Set on a proposal to change an agreed SLI definition (`SliChangeProposed`): agreeing
    # it makes this the objective's definition; its target stays the agreed one.
    sli_definition: SliQuery | None = None

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
class NotificationTarget:
    """Where an alert tier's notifications go (OpenSLO's AlertNotificationTarget): its name,
    the target as the spec writes it (a system such as pagerduty, slack or email, or an
    address), kept as data. slogov sends no notifications itself; a generator (an
    Alertmanager route) reads them."""

    name: str
    target: str
    display_name: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class AlertRoute:
    """One alert tier's notification targets. The tier by its key (`page_1h_5m`,
    `domain.monitoring.tier_key`), as the agreement's runbooks and the generated alerts'
    tier label name it; targets sorted by name."""

    tier: str
    targets: tuple[NotificationTarget, ...]


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
    runbooks: dict[str, str] = field(default_factory=dict)  # tier key -> URL; empty: none named


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
class Evidence:
    """A what-if run attached to a proposal (domain/objective/evidence.py)."""

    proposal_id: str
    evidence_id: str
    revision: int  # the proposal's revision it was shown for
    kind: str  # target | policy
    inputs: str  # canonical JSON: the period and the candidate
    summary: str  # canonical JSON: what the run answered
    position: int  # the log position the run read the history up to
    attached_by: str | None
    attached_at: datetime

    def inputs_doc(self) -> dict[str, Any]:
        return json.loads(self.inputs)

    def summary_doc(self) -> dict[str, Any]:
        return json.loads(self.summary)


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
    # The SLO this objective is one of (an OpenSLO SLO's name): an internal target beside
    # the SLA's is two objectives, each with its own name, target and budget, of one slo.
    # None: an SLO of one objective, as before SLOs were named.
    slo: str | None = None
    labels: tuple[Label, ...] = ()  # sorted (key, value) pairs; see domain.labels
    annotations: tuple[Annotation, ...] = ()  # kept as they came (OpenSLO annotations)
    # Its weight in a weighted composite (OpenSLO compositeWeight); None: 1, the default.
    composite_weight: float | None = None
    evidence: tuple[Evidence, ...] = ()  # what-if runs attached to proposals, oldest first
    sli_definition: SliQuery | None = None  # what the SLI is, as queries (None: not defined yet)
    # Who each alert tier notifies (domain/objective/notifications.py), sorted by tier key.
    notification_routes: tuple[AlertRoute, ...] = ()

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

    def notification_targets(self, tier: str) -> tuple[NotificationTarget, ...]:
        """The targets the tier of this key (`page_1h_5m`) notifies; () when none are named."""
        return next((r.targets for r in self.notification_routes if r.tier == tier), ())


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
    if "labels" not in data:  # ... and before labels, annotations and named SLOs
        data = {**data, "slo": None, "labels": [], "annotations": []}
    if "composite_weight" not in data:  # ... and before composite weights
        data = {**data, "composite_weight": None}
    if "time_zone" not in data["window"]:  # ... and before calendar windows of a zone
        data = {**data, "window": {"duration": None, "start": None, "time_zone": None, **data["window"]}}
    if "evidence" not in data:  # ... and before what-if evidence
        data = {**data, "evidence": []}
    if "sli_definition" not in data:  # ... and before SLI definitions
        data = {**data, "sli_definition": None,
                "proposals": [{**p, "sli_definition": None} for p in data.get("proposals", ())]}
    return codec.decode(ObjectiveState, data)


# --- commands -----------------------------------------------------------------


class ObjectiveCommand:
    """Every objective command writes its objective's stream; most read no other."""

    objective_id: str

    def stream(self) -> str:
        return stream_id(self.objective_id)

    def reads(self, state: ObjectiveState | None = None) -> tuple[str, ...]:
        return ()


# --- evolve: steps every phase shares -----------------------------------------


def settled_status(state: ObjectiveState) -> ObjectiveStatus:
    """The status once no first negotiation is in progress: what has been agreed decides it."""
    if state.agreed_target is None:
        return ObjectiveStatus.DRAFT
    return ObjectiveStatus.AGREED if state.agreement is None else ObjectiveStatus.ACTIVE


def with_step(
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


def with_proposal(state: ObjectiveState, proposal: Proposal) -> tuple[Proposal, ...]:
    return tuple(proposal if p.proposal_id == proposal.proposal_id else p for p in state.proposals)
