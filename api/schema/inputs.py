"""Mutation inputs: one ``input`` object per mutation, each with the command guards."""

from __future__ import annotations

from datetime import datetime

import strawberry

from api.schema import enums
from api.schema.labels import AnnotationInput, LabelInput


GUARD_FIELDS: dict[str, tuple[str, str]] = {
    "expected_version": ("int | None", "Refuse with CONFLICT unless the stream is at this version (0: new; from 0)."),
    "idempotency_key": (
        "str | None", "Retrying with the same key appends nothing and returns the first result (1-200 characters)."
    ),
    "reason": ("str | None", "Why, recorded on the events."),
}


class CommandGuards:
    """What every mutation input carries besides its command (for type checkers)."""

    expected_version: int | None
    idempotency_key: str | None
    reason: str | None


def command_input(cls: type) -> type:
    """``strawberry.input`` with the guards appended after the command's own fields
    (an input that declares ``reason`` itself, because its command needs one, keeps it)."""
    annotations = cls.__dict__.get("__annotations__", {})
    for name, (hint, description) in GUARD_FIELDS.items():
        if name not in annotations:
            annotations[name] = hint
            setattr(cls, name, strawberry.field(default=None, description=description))
    cls.__annotations__ = annotations
    return strawberry.input(cls)


# --- journeys -----------------------------------------------------------------


@command_input
class ProposeJourneyInput:
    journey_id: strawberry.ID
    name: str
    description: str
    steps: list[str]
    starts_at: str = strawberry.field(description='Where the journey starts, e.g. "cart page".')
    ends_at: str
    success_criteria: str
    owner: str
    tier: int = strawberry.field(description="1 (most critical) to 3.")
    revenue_impact: str | None = None
    conversion_impact: str | None = None
    support_volume: int | None = strawberry.field(default=None, description="Support tickets per month, from 0.")
    labels: list[LabelInput] | None = strawberry.field(default=None, description="At most 64 key-value pairs.")


@command_input
class PrioritizeJourneyInput:
    journey_id: strawberry.ID
    priority: int = strawberry.field(description="Rank, 1 first (1 to 2147483647).")
    tier: int = strawberry.field(description="1 (most critical) to 3.")
    rationale: str


@command_input
class DocumentJourneyScopeInput:
    journey_id: strawberry.ID
    includes: list[str]
    excludes: list[str]
    starts_at: str
    ends_at: str
    success_criteria: str
    workshop_participants: list[str]


@command_input
class MapDependencyInput:
    journey_id: strawberry.ID
    service: str
    kind: enums.DependencyKind
    critical: bool
    failure_modes: list[str] = strawberry.field(default_factory=list)


@command_input
class RemoveDependencyInput:
    journey_id: strawberry.ID
    service: str
    reason: str


@command_input
class RecordInstrumentationGapInput:
    journey_id: strawberry.ID
    gap_id: strawberry.ID
    description: str
    sli_kind: enums.SliKind | None = None


@command_input
class CloseInstrumentationGapInput:
    journey_id: strawberry.ID
    gap_id: strawberry.ID
    resolution: str


@command_input
class RetireJourneyInput:
    journey_id: strawberry.ID
    reason: str


@command_input
class LabelJourneyInput:
    journey_id: strawberry.ID
    labels: list[LabelInput] = strawberry.field(
        description="The journey's labels from now on (an empty list removes them); the same ones again append nothing."
    )


# --- objectives ---------------------------------------------------------------


@strawberry.input(description="Set only the fields of the kind: latency thresholdMs; quality metric and threshold; freshness thresholdSeconds.")
class SliInput:
    kind: enums.SliKind
    threshold_ms: float | None = strawberry.field(default=None, description="Latency only: above 0.")
    metric: str | None = None
    threshold: float | None = strawberry.field(default=None, description="Quality only: a fraction in [0, 1].")
    threshold_seconds: float | None = strawberry.field(default=None, description="Freshness only: above 0.")
    description: str | None = None


@strawberry.input
class WindowInput:
    kind: enums.WindowKind
    days: int | None = strawberry.field(default=None, description="Rolling windows only, 1..90 (or a duration).")
    duration: str | None = strawberry.field(
        default=None,
        description='OpenSLO shorthand. ROLLING: m, h, d or w, up to 366 days ("90m", "28d", "4w"); CALENDAR: '
        'the period, up to a year ("1w", "1M", "1Q", "1Y"; "m" is minutes, "M" months).',
    )
    start: str | None = strawberry.field(
        default=None, description='CALENDAR only: when the first period starts, local time ("2026-01-05T00:00:00").'
    )
    time_zone: str | None = strawberry.field(default=None, description='CALENDAR only: an IANA zone ("Europe/Berlin").')

    def as_dict(self) -> dict:
        """The set fields, in the budget's form (domain/budget/windows.py)."""
        fields = {"days": self.days, "duration": self.duration, "start": self.start, "time_zone": self.time_zone}
        return {"kind": self.kind.value, **{k: v for k, v in fields.items() if v is not None}}


@strawberry.input
class BudgetingInput:
    method: enums.BudgetingMethod
    slice_minutes: int | None = strawberry.field(default=None, description="Timeslices and ratio timeslices, 1..60.")
    slice_threshold: float | None = strawberry.field(default=None, description="Timeslices only, a fraction in (0, 1].")

    def as_dict(self) -> dict:
        """The set fields, in the budget's form (domain/budget/config.py's `parse_budgeting`
        checks them; a candidate of the what-ifs is this dict, as the CLI's --budgeting)."""
        fields = {"slice_minutes": self.slice_minutes, "slice_threshold": self.slice_threshold}
        return {"method": self.method.value, **{k: v for k, v in fields.items() if v is not None}}


@command_input
class DraftObjectiveInput:
    objective_id: strawberry.ID
    journey_id: strawberry.ID
    name: str
    sli: SliInput
    window: WindowInput
    budgeting: BudgetingInput
    service: str | None = strawberry.field(
        default=None,
        description="Make this a component objective of the named service (one the journey, or others, "
        "depend on): journeys depending critically on it compose their attainment and target ceiling from it.",
    )
    slo: strawberry.ID | None = strawberry.field(
        default=None,
        description="The SLO this objective is one of (an OpenSLO SLO's name): an internal target beside the "
        "SLA's is two objectives of one SLO, each with its own name, target and budget. Unset: an SLO of its own.",
    )
    labels: list[LabelInput] | None = strawberry.field(default=None, description="At most 64 key-value pairs.")
    annotations: list[AnnotationInput] | None = strawberry.field(default=None, description="At most 64, keys unique.")
    composite_weight: float | None = strawberry.field(
        default=None, description="Its weight in a journey's weighted composite (OpenSLO compositeWeight): "
        "above 0, up to 1,000,000; unset counts 1.")


@command_input
class LabelObjectiveInput:
    objective_id: strawberry.ID
    labels: list[LabelInput] = strawberry.field(description="The objective's labels from now on (empty: none).")
    annotations: list[AnnotationInput] = strawberry.field(
        default_factory=list, description="The objective's annotations from now on (empty: none)."
    )


@command_input
class RecordBaselineInput:
    objective_id: strawberry.ID
    period_start: datetime
    period_end: datetime = strawberry.field(description="Must not be in the future.")
    good: int = strawberry.field(description="0 <= good <= total.")
    total: int = strawberry.field(description="At least 1 (a baseline needs events).")
    notes: str | None = None


@command_input
class ProposeTargetInput:
    objective_id: strawberry.ID
    proposal_id: strawberry.ID
    target: float = strawberry.field(description="A fraction strictly between 0 and 1: 0.999, not 99.9.")
    rationale: str
    required_parties: list[enums.Party] | None = strawberry.field(
        default=None, description="Parties whose endorsement is needed; default all four."
    )


@command_input
class EndorseProposalInput:
    objective_id: strawberry.ID
    proposal_id: strawberry.ID
    party: enums.Party = strawberry.field(description="Must be a role the caller holds.")
    comment: str | None = None


@command_input
class ObjectToProposalInput:
    objective_id: strawberry.ID
    proposal_id: strawberry.ID
    party: enums.Party
    objection: enums.ObjectionKind
    reason: str


@command_input
class ReviseProposalInput:
    objective_id: strawberry.ID
    proposal_id: strawberry.ID
    target: float = strawberry.field(description="A fraction strictly between 0 and 1: 0.999, not 99.9.")
    rationale: str


@command_input
class WithdrawProposalInput:
    objective_id: strawberry.ID
    proposal_id: strawberry.ID
    reason: str


@command_input
class DeferNegotiationInput:
    objective_id: strawberry.ID
    proposal_id: strawberry.ID
    reason: str
    revisit_on: datetime | None = strawberry.field(default=None, description="When to revisit; in the future.")


@command_input
class FormalizeAgreementInput:
    objective_id: strawberry.ID
    policy_id: strawberry.ID
    policy_version: int = strawberry.field(description="A version of the policy, from 1.")
    product_owner: str
    sre_owner: str
    escalation_path: list[str]
    resource_commitment: str
    runbooks: list["RunbookInput"] | None = strawberry.field(
        default=None, description="One runbook URL per alert tier the agreement's policy states (by tier key, "
        "e.g. page_1h_5m), or none; each generated alert links its tier's runbook.")


@strawberry.input(description="The runbook of one alert tier: http(s), no credentials.")
class RunbookInput:
    tier: str = strawberry.field(description="The tier key: severity_longwindow_shortwindow, e.g. page_1h_5m.")
    url: str


@command_input
class RetireObjectiveInput:
    objective_id: strawberry.ID
    reason: str


# --- error budgets --------------------------------------------------------------
#
# Event counts are Floats: they exceed GraphQL's 32-bit Int, and a Float holds every
# whole number up to 2^53 exactly. A count that is not a whole number is BAD_USER_INPUT,
# and so is one above 10^8 a second of its interval (domain.budget.observations).


@strawberry.input(description="SLI data for one objective over [start, end): good of total events were good.")
class ObservationInput:
    objective_id: strawberry.ID
    start: datetime
    end: datetime = strawberry.field(description="After start, at most 1 day later, and not in the future.")
    good: float = strawberry.field(description="A whole number of events, 0 <= good <= total.")
    total: float = strawberry.field(
        description="A whole number of events, at most 10^8 per second of the interval (8.64e12 for a day)."
    )


@strawberry.input(
    description="A batch from monitoring, for one or many objectives. Validated as a whole: any invalid item "
    "refuses the whole call and nothing is appended. A resent identical interval is a no-op; different "
    "counts for a recorded interval need correctObservation."
)
class RecordObservationsInput:
    observations: list[ObservationInput] = strawberry.field(description="At most 10000 items per call.")


@command_input
class CorrectObservationInput:
    objective_id: strawberry.ID
    start: datetime = strawberry.field(description="The recorded interval's exact bounds.")
    end: datetime
    good: float = strawberry.field(description="A whole number of events, 0 <= good <= total.")
    total: float = strawberry.field(description="A whole number of events, at most 10^8 per second of the interval.")
    reason: str = strawberry.field(description="Why the recorded counts were wrong (recorded on the event).")


@command_input
class AdjustBudgetInput:
    objective_id: strawberry.ID
    action: enums.BudgetAction
    exclusion_id: strawberry.ID = strawberry.field(description="Names the exclusion; RESTORE undoes it by this id.")
    reason: str
    start: datetime | None = strawberry.field(default=None, description="EXCLUDE only (required): excluded from.")
    end: datetime | None = strawberry.field(default=None, description="EXCLUDE only (required): excluded until.")
    approver: str | None = strawberry.field(
        default=None, description="EXCLUDE only: who approved the exclusion (default: the caller)."
    )


@command_input
class ExcludeRecurringInput:
    objective_id: strawberry.ID
    exclusion_id: strawberry.ID = strawberry.field(description="Names it; endRecurringExclusion ends it by this id.")
    rrule: str = strawberry.field(
        description="An RFC 5545 RRULE: FREQ=DAILY|WEEKLY|MONTHLY with INTERVAL, COUNT, UNTIL, BYDAY, BYMONTHDAY, "
        "BYHOUR, BYMINUTE (at most 24 occurrences a day), e.g. FREQ=WEEKLY;BYDAY=SU;BYHOUR=2;BYMINUTE=0."
    )
    start: str = strawberry.field(
        description="DTSTART as a wall-clock time without an offset, e.g. 2026-01-04T02:00 (the zone is given apart)."
    )
    zone: str = strawberry.field(description="The IANA time zone the rule's times are read in, e.g. Europe/Berlin.")
    duration: str = strawberry.field(description='Each occurrence\'s length: "90m", "2h", "1d" (1m to 31d).')
    reason: str
    approver: str | None = strawberry.field(default=None, description="Who approved it (default: the caller).")


@command_input
class EndRecurringExclusionInput:
    objective_id: strawberry.ID
    exclusion_id: strawberry.ID
    from_: datetime = strawberry.field(
        name="from", description="Data time: intervals starting at or after it are no longer excluded by it."
    )
    reason: str


@strawberry.input(description="A multiwindow alert tier: fires when the burn rate over both windows reaches the threshold.")
class AlertTierInput:
    severity: enums.AlertSeverity
    long_window: str = strawberry.field(description='A duration label such as "1h", "6h", "3d".')
    short_window: str = strawberry.field(description='Not longer than longWindow, e.g. "5m".')
    threshold: float = strawberry.field(
        description="A burn rate above 0 (1.0 spends the budget exactly over the window)."
    )


@command_input
class ConfigureBudgetAlertsInput:
    objective_id: strawberry.ID
    tiers: list[AlertTierInput] | None = strawberry.field(
        default=None,
        description="Omit for the SRE workbook's defaults: 14.4 over 1h/5m and 6 over 6h/30m (PAGE), 1 over 3d/6h (TICKET).",
    )
    stale_after_minutes: int | None = strawberry.field(
        default=None, description="Data older than this is stale (1..10080; omit for 15)."
    )


@strawberry.input(description="A scheduler's probe: records the server time only when that changes a derived state.")
class CheckFreshnessInput:
    objective_id: strawberry.ID
