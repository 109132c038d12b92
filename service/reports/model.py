"""The leadership report: a plain dataclass assembled by a pure function.

`build_report(quarter, now, inputs)` takes what `service.reports.fetch` read from the
read models and the log (journeys, objectives, policy actions, freeze exceptions,
deploy decisions, budget exhaustions, ledger charts) and returns a `LeadershipReport`:
per journey, grouped by tier, the numbers leadership asks for. No I/O, no clock: the
caller brings `now` (the report is as of min(now, quarter end)).

Definitions (the quarter is [start, end) in UTC; "in the quarter" is the event's own
time: a transition's `at`, a proposal's agreement time, a deploy's evaluation time):
- attainment and budget spent: the ledger's own arithmetic over the quarter taken as the
  window (`Ledger.span_budget`): occurrences, good / total events and the quarter's bad
  over the bad its traffic allowed; timeslices, good / judged slices and bad slices over
  the slices allowed. 1.0 spent means the quarter used exactly its budget. (Event counts
  would contradict a timeslice budget: 0.14% errors in every minute spend 140% of a
  99.9% event budget and no slice of a 99%-per-minute one.)
- budget remaining: the ledger's remaining budget over the objective's own window (e.g.
  rolling 30 days) at the last interval of the quarter; with a window shorter than the
  quarter it may differ from 1 - spent, and the report says which window it is.
- exhaustions: BudgetExhausted transitions; escalations: EscalationRaised.
- days under freeze: the time a freeze was active, clipped to the quarter (for a journey,
  the union over its objectives, so overlapping freezes count once).
- exceptions granted: freeze exceptions granted for a critical dependency of the journey.
- deploys: recorded gate decisions that judged one of the journey's objectives.
- median days to agreement: over proposals agreed in the quarter, proposed -> agreed.
- informational: not retired and no error-budget policy formalized.
- overdue review: ACTIVE and last review (or agreement) more than a quarter before as_of.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Mapping, Sequence

from domain import freeze_exception as exceptions_domain
from domain import gate as gate_domain
from domain import journey as journeys_domain
from domain import objective as objectives_domain
from domain import policy_actions as actions_domain
from domain import quarters
from domain.budget import ChartPoint, SpanBudget
from domain.commands import parse_iso

MAX_CHART_POINTS = 200
DAY = timedelta(days=1)


# --------------------------------------------------------------------------- the report


@dataclass(frozen=True)
class ReviewLine:
    quarter: str
    outcome: str
    reviewed_at: datetime
    reviewed_by: str | None


@dataclass(frozen=True)
class ObjectiveLine:
    objective_id: str
    name: str
    status: str
    sli_kind: str
    target: float | None  # the agreed target (None: nothing agreed yet)
    informational: bool
    policy: str | None  # "policy_id v2"
    attainment: float | None
    budget_spent: float | None
    budget_remaining: float | None
    exhaustions: int
    days_under_freeze: float
    escalations: int
    agreements: int  # proposals agreed in the quarter
    median_days_to_agreement: float | None
    last_review: ReviewLine | None
    next_review_due: datetime | None
    review_overdue: bool
    chart: tuple[tuple[datetime, float], ...] = ()  # (time, budget remaining), at most 200 points
    service: str | None = None  # the dependency a component objective measures; None: the journey's own


@dataclass(frozen=True)
class JourneyLine:
    journey_id: str
    name: str
    tier: int
    priority: int | None
    status: str
    objectives: tuple[ObjectiveLine, ...]
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


@dataclass(frozen=True)
class TierSection:
    tier: int
    journeys: tuple[JourneyLine, ...]


@dataclass(frozen=True)
class Totals:
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


@dataclass(frozen=True)
class LeadershipReport:
    quarter: str
    start: datetime
    end: datetime
    as_of: datetime  # min(now, end): what "overdue" and open freezes are measured against
    tiers: tuple[TierSection, ...]
    totals: Totals


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class ReportInputs:
    journeys: Sequence[journeys_domain.JourneyState] = ()
    objectives: Sequence[objectives_domain.ObjectiveState] = ()
    actions: Mapping[str, actions_domain.ActionsState] = field(default_factory=dict)  # by objective id
    exceptions: Sequence[exceptions_domain.ExceptionState] = ()
    decisions: Sequence[gate_domain.DeployState] = ()
    exhaustions: Sequence[tuple[str, datetime]] = ()  # (objective id, event time)
    charts: Mapping[str, Sequence[ChartPoint]] = field(default_factory=dict)  # by objective id, the quarter's
    quarter_budgets: Mapping[str, SpanBudget] = field(default_factory=dict)  # by objective id, the quarter's


# --------------------------------------------------------------------------- assembly


def _within(at: datetime, start: datetime, end: datetime) -> bool:
    return start <= at < end


def _median(values: Sequence[float]) -> float | None:
    return float(statistics.median(values)) if values else None


def downsample(points: Sequence[tuple[datetime, float]], limit: int = MAX_CHART_POINTS) -> tuple[tuple[datetime, float], ...]:
    """At most `limit` points, in time order, keeping each bucket's lowest and highest
    remaining (so a dip to exhaustion survives) and the first and last point."""
    points = list(points)
    if len(points) <= limit:
        return tuple(points)
    buckets = max(1, (limit - 2) // 2)
    size = len(points) / buckets
    keep = {0, len(points) - 1}
    for b in range(buckets):
        lo, hi = int(b * size), min(len(points), int((b + 1) * size))
        if lo >= hi:
            continue
        chunk = range(lo, hi)
        keep.add(min(chunk, key=lambda k: points[k][1]))
        keep.add(max(chunk, key=lambda k: points[k][1]))
    return tuple(points[k] for k in sorted(keep))[:limit]


def _freeze_spans(state: actions_domain.ActionsState | None, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    if state is None:
        return []
    spans = []
    for f in state.freezes:
        begin = max(parse_iso(f.started_at), start)
        finish = min(parse_iso(f.lifted_at) if f.lifted_at else end, end)
        if finish > begin:
            spans.append((begin, finish))
    return spans


def _union_days(spans: Sequence[tuple[datetime, datetime]]) -> float:
    total = timedelta(0)
    current: tuple[datetime, datetime] | None = None
    for begin, finish in sorted(spans):
        if current is None or begin > current[1]:
            if current is not None:
                total += current[1] - current[0]
            current = (begin, finish)
        else:
            current = (current[0], max(current[1], finish))
    if current is not None:
        total += current[1] - current[0]
    return total / DAY


def _agreement_days(s: objectives_domain.ObjectiveState, start: datetime, end: datetime) -> list[float]:
    done = (objectives_domain.ProposalStatus.AGREED, objectives_domain.ProposalStatus.SUPERSEDED)
    return [
        (p.closed_at - p.proposed_at) / DAY
        for p in s.proposals
        if p.status in done and p.closed_at is not None and _within(p.closed_at, start, end)
    ]


def _objective_line(
    s: objectives_domain.ObjectiveState, inputs: ReportInputs, start: datetime, end: datetime, as_of: datetime,
    exhaustions: Mapping[str, int],
) -> tuple[ObjectiveLine, list[tuple[datetime, datetime]], list[float]]:
    points = [p for p in inputs.charts.get(s.id, ()) if start < p.end <= end]  # intervals ending in the quarter
    quarter = inputs.quarter_budgets.get(s.id)
    attainment = None if quarter is None else quarter.attainment
    spent = None if quarter is None or s.agreed_target is None else quarter.consumed
    actions = inputs.actions.get(s.id)
    spans = _freeze_spans(actions, start, as_of)
    escalations = 0 if actions is None else sum(
        1 for e in actions.escalations if _within(parse_iso(e.raised_at), start, end))
    days = _agreement_days(s, start, end)
    last = s.last_review
    a = s.agreement
    line = ObjectiveLine(
        objective_id=s.id,
        name=s.name,
        status=s.status.value,
        sli_kind=s.sli.kind,
        target=s.agreed_target,
        informational=s.informational and not s.retired,
        policy=None if a is None else f"{a.policy_id} v{a.policy_version}",
        attainment=attainment,
        budget_spent=spent,
        budget_remaining=points[-1].remaining if points else None,
        exhaustions=exhaustions.get(s.id, 0),
        days_under_freeze=_union_days(spans),
        escalations=escalations,
        agreements=len(days),
        median_days_to_agreement=_median(days),
        last_review=None if last is None else ReviewLine(last.quarter, last.outcome, last.reviewed_at, last.reviewed_by),
        next_review_due=objectives_domain.review_due(s),
        review_overdue=objectives_domain.review_overdue(s, as_of),
        chart=downsample([(p.end, p.remaining) for p in points]),
        service=s.service,
    )
    return line, spans, days


def _alive(created: datetime, retired: bool, updated: datetime, start: datetime, end: datetime) -> bool:
    """Existed during the quarter: created before its end, not retired before its start."""
    return created < end and not (retired and updated < start)


def build_report(quarter: str, now: datetime, inputs: ReportInputs) -> LeadershipReport:
    quarter = quarters.require_quarter(quarter)
    start, end = quarters.bounds(quarter)
    as_of = min(now, end)
    exhaustions: dict[str, int] = {}
    for objective_id, at in inputs.exhaustions:
        if _within(at, start, end):
            exhaustions[objective_id] = exhaustions.get(objective_id, 0) + 1
    by_journey: dict[str, list[objectives_domain.ObjectiveState]] = {}
    for s in sorted(inputs.objectives, key=lambda s: s.id):
        if _alive(s.drafted_at, s.retired, s.updated_at, start, end):
            by_journey.setdefault(s.journey_id, []).append(s)
    objective_journey = {s.id: s.journey_id for s in inputs.objectives}
    decisions: dict[str, dict[str, int]] = {}
    for d in inputs.decisions:
        if not _within(parse_iso(d.at), start, end):
            continue
        for journey_id in {objective_journey.get(o) for o in d.objectives} - {None}:
            counts = decisions.setdefault(journey_id, {})
            counts[d.outcome] = counts.get(d.outcome, 0) + 1
    granted = [e for e in inputs.exceptions if _within(parse_iso(e.granted_at), start, end)]

    lines: list[JourneyLine] = []
    all_days: list[float] = []
    for j in inputs.journeys:
        if not _alive(j.proposed_at, j.retired, j.updated_at, start, end):
            continue
        objective_lines, spans, days = [], [], []
        for s in by_journey.get(j.id, ()):
            line, s_spans, s_days = _objective_line(s, inputs, start, end, as_of, exhaustions)
            objective_lines.append(line)
            spans.extend(s_spans)
            days.extend(s_days)
        all_days.extend(days)
        services = set(j.critical_services)
        counts = decisions.get(j.id, {})
        lines.append(JourneyLine(
            journey_id=j.id,
            name=j.name,
            tier=j.tier,
            priority=j.priority,
            status=j.status.value,
            objectives=tuple(objective_lines),
            exhaustions=sum(o.exhaustions for o in objective_lines),
            days_under_freeze=_union_days(spans),
            escalations=sum(o.escalations for o in objective_lines),
            exceptions_granted=sum(1 for e in granted if e.service in services),
            deploys_allowed=counts.get("ALLOW", 0),
            deploys_denied=counts.get("DENY", 0),
            deploys_require_approval=counts.get("REQUIRE_APPROVAL", 0),
            median_days_to_agreement=_median(days),
            informational_objectives=sum(1 for o in objective_lines if o.informational),
            overdue_reviews=sum(1 for o in objective_lines if o.review_overdue),
        ))
    lines.sort(key=lambda line: (line.tier, line.priority if line.priority is not None else 1 << 30, line.journey_id))
    tiers = tuple(
        TierSection(tier, tuple(line for line in lines if line.tier == tier))
        for tier in sorted({line.tier for line in lines})
    )
    in_journeys = lines
    all_decisions = [d for d in inputs.decisions if _within(parse_iso(d.at), start, end)]
    totals = Totals(
        journeys=len(in_journeys),
        objectives=sum(len(j.objectives) for j in in_journeys),
        exhaustions=sum(j.exhaustions for j in in_journeys),
        days_under_freeze=sum(j.days_under_freeze for j in in_journeys),
        escalations=sum(j.escalations for j in in_journeys),
        exceptions_granted=len(granted),
        deploys_allowed=sum(1 for d in all_decisions if d.outcome == "ALLOW"),
        deploys_denied=sum(1 for d in all_decisions if d.outcome == "DENY"),
        deploys_require_approval=sum(1 for d in all_decisions if d.outcome == "REQUIRE_APPROVAL"),
        median_days_to_agreement=_median(all_days),
        informational_objectives=sum(j.informational_objectives for j in in_journeys),
        overdue_reviews=sum(j.overdue_reviews for j in in_journeys),
    )
    return LeadershipReport(quarter, start, end, as_of, tiers, totals)
