"""Error budgets in the API: the budget of an objective, its chartable ledger, its
exclusions (one-off and recurring), the composite/feasibility view of journeys, and the
budget mutations (recordObservations, correctObservation, adjustBudget, excludeRecurring,
endRecurringExclusion, configureBudgetAlerts, checkFreshness) with their payloads.

Everything goes through ``service.budget_queries`` (read models, read-your-writes),
not the generic command path: a ``recordObservations`` batch is validated as a whole
across objectives before anything is sent. Outcomes are counted all the same
(``measured``), and the payloads read the budget back.
Fractions (SLI, consumed, remaining, debit, targets) are Floats in [0, 1] except that
``remaining`` goes below 0 when the budget is overspent. Event counts are Floats too:
they exceed GraphQL's 32-bit Int, and a Float holds every whole number up to 2^53 exactly.
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import datetime
from typing import Any, Awaitable, Callable

import strawberry
from strawberry.types import Info

from api.auth import current_principal
from api.schema import enums
from api.schema import inputs as i
from api.schema.connections import Edge, PageInfo, page_size
from api.schema.enums import BudgetAction
from api.schema.objectives import Window, window_out
from api.schema.shared import EventRef, check_guards, event_refs, measured
from domain.budget import decider as budget_decider
from domain.budget.chart import ChartPoint
from domain.budget.instants import format_duration, from_us, to_us
from domain.budget.status import Status
from domain.errors import InvalidInput
from service import budget_queries as bq
from service.envelope import CommandResult

# A chart wants many points per request; still a hard cap.
MAX_LEDGER_PAGE_SIZE = 1000
# One recordObservations call: the service takes up to 50,000 intervals per objective;
# over HTTP a smaller request is kinder to everyone.
MAX_OBSERVATIONS_PER_CALL = 10_000

_LEDGER_CURSOR_RE = re.compile(r"^end:(-?\d{1,19})$")


# --- the budget -------------------------------------------------------------------


@strawberry.type(description="The burn rate over one window ending at the budget's time.")
class BurnRate:
    window: str = strawberry.field(description='A duration label: "5m", "30m", "1h", "2h", "6h", "1d", "3d".')
    rate: float | None = strawberry.field(
        description="(bad / total) / (1 - target) over the window; 1.0 spends the budget exactly over the "
        "objective's window. Null without traffic."
    )


@strawberry.type(description="A firing multiwindow burn-rate alert.")
class BudgetAlert:
    severity: enums.AlertSeverity
    long_window: str
    short_window: str
    long_rate: float
    short_rate: float
    threshold: float


@strawberry.type(
    description="An objective's error budget at a moment (SRE workbook arithmetic). Counts are Floats "
    "(exact to 2^53; they exceed 32-bit Int); fractions are Floats in [0, 1], except remaining, which "
    "goes below 0 when the budget is overspent. Occurrences count events; timeslices count slices."
)
class Budget:
    objective_id: strawberry.ID
    version: int = strawberry.field(description="The budget stream's version (for expectedVersion).")
    at: datetime = strawberry.field(description="The moment this budget is computed for.")
    target: float = strawberry.field(description="The agreed target in force, e.g. 0.999.")
    method: enums.BudgetingMethod
    window: Window
    window_start: datetime
    window_end: datetime
    sli: float | None = strawberry.field(description="good / total over the window; null without traffic.")
    attainment: float | None = strawberry.field(
        description="The objective's own measure: sli (occurrences) or the good-slice ratio (timeslices)."
    )
    good: float
    bad: float
    total: float
    good_slices: float | None = strawberry.field(description="Timeslices only.")
    bad_slices: float | None = strawberry.field(description="Timeslices only.")
    slice_sli: float | None = strawberry.field(description="Timeslices only: good slices / slices with data.")
    slices_in_window: float | None = strawberry.field(description="Timeslices only.")
    allowed_bad: float = strawberry.field(
        description="The allowance: (1 - target) x total (occurrences) or x slices in the window (timeslices)."
    )
    spent: float = strawberry.field(description="Bad events (occurrences) or bad slices (timeslices).")
    consumed: float = strawberry.field(description="spent / allowedBad.")
    remaining: float = strawberry.field(description="1 - consumed; below 0 when overspent.")
    exhausted: bool
    stale: bool = strawberry.field(
        description="No data for longer than staleAfterMinutes before freshnessJudgedAt: the server's now for a "
        "live read (a dead exporter shows at once, before any probe records it), else the budget's time.")
    freshness_judged_at: datetime = strawberry.field(
        description="The moment `stale` was judged at: the server's now (live reads) or `at`.")
    stale_after_minutes: float
    last_observation_end: datetime | None
    burn_rates: list[BurnRate]
    alerts: list[BudgetAlert] = strawberry.field(description="The alert tiers firing at the budget's time.")


def _window(config: dict[str, Any] | None) -> Window:
    return window_out((config or {}).get("window") or {"kind": "rolling", "days": None})


def from_status(objective_id: str, version: int, config: dict[str, Any] | None, s: Status,
                now: datetime | None = None) -> Budget:
    """`now`: judge freshness at the server's now (a live read); None: at the budget's time."""
    return Budget(
        objective_id=strawberry.ID(objective_id),
        version=version,
        at=s.at,
        target=s.target,
        method=enums.BudgetingMethod(s.method),
        window=_window(config),
        window_start=s.window_start,
        window_end=s.window_end,
        sli=s.sli,
        attainment=s.attainment,
        good=float(s.good),
        bad=float(s.bad),
        total=float(s.total),
        good_slices=None if s.good_slices is None else float(s.good_slices),
        bad_slices=None if s.bad_slices is None else float(s.bad_slices),
        slice_sli=s.slice_sli,
        slices_in_window=s.slices_in_window,
        allowed_bad=s.allowed_bad,
        spent=float(s.spent),
        consumed=s.consumed,
        remaining=s.remaining,
        exhausted=s.exhausted,
        stale=s.stale if now is None else s.stale_at(now),
        freshness_judged_at=s.at if now is None else now,
        stale_after_minutes=s.stale_after.total_seconds() / 60,
        last_observation_end=s.last_observation_end,
        burn_rates=[BurnRate(window=label, rate=rate) for label, rate in s.burn_rates.items()],
        alerts=[
            BudgetAlert(
                severity=enums.AlertSeverity(a.severity),
                long_window=a.long_window,
                short_window=a.short_window,
                long_rate=a.long_rate,
                short_rate=a.short_rate,
                threshold=a.threshold,
            )
            for a in s.alerts
        ],
    )


async def budget_for(container: Any, objective_id: str, at: datetime | None = None, reads: Any = None) -> Budget | None:
    """The objective's budget at ``at`` (default: its event time); None without a target or data.
    `reads` (``service.as_of.AsOfReads``): as the budget stood at its position."""
    if reads is not None:
        state = await reads.budget(objective_id)
        status = None if state is None else await reads.budget_status(objective_id, at)
        return None if status is None else from_status(objective_id, state.version, state.config, status)
    state = await bq.budget_state(container, objective_id)
    if state is None:
        return None
    status = await bq.budget_of(container, objective_id, at)
    if status is None:
        return None
    now = container.store.clock() if at is None else None  # a live read: fresh as of now
    return from_status(objective_id, state.version, state.config, status, now)


# --- the ledger chart ---------------------------------------------------------------


@strawberry.type(description="One recorded interval in the ledger, with the budget after it.")
class LedgerPoint:
    at: datetime = strawberry.field(description="The interval's end.")
    start: datetime
    end: datetime
    good: float
    total: float
    bad: float
    excluded: bool = strawberry.field(description="Inside an active exclusion: counts as neither good nor bad.")
    debit: float = strawberry.field(description="The share of the allowance this interval consumed.")
    remaining: float = strawberry.field(description="The budget remaining over the point's window after it.")
    exhausted: bool


@strawberry.type(description="Ledger points, oldest first. No totalCount: counting would cost a full chart.")
class LedgerConnection:
    edges: list[Edge[LedgerPoint]]
    page_info: PageInfo

    @strawberry.field(description="The nodes of this page, without edges.")
    def nodes(self) -> list[LedgerPoint]:
        return [edge.node for edge in self.edges]


def _encode_ledger_cursor(end: datetime) -> str:
    return base64.urlsafe_b64encode(f"end:{to_us(end)}".encode()).decode()


def _decode_ledger_cursor(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor.encode("ascii")).decode("ascii")
    except (binascii.Error, UnicodeError, ValueError):
        text = ""
    match = _LEDGER_CURSOR_RE.match(text)
    if match is None:
        raise InvalidInput("after is not a ledger cursor this API returned", field="after")
    return int(match.group(1))


def _point(p: ChartPoint) -> LedgerPoint:
    return LedgerPoint(
        at=p.at, start=p.start, end=p.end, good=float(p.good), total=float(p.total), bad=float(p.bad),
        excluded=p.excluded, debit=p.debit, remaining=p.remaining, exhausted=p.exhausted,
    )


async def ledger_connection(
    info: Info, objective_id: str, since: datetime | None, until: datetime | None, first: int | None, after: str | None,
    reads: Any = None,
) -> LedgerConnection:
    size = page_size(first, MAX_LEDGER_PAGE_SIZE)
    after_us = _decode_ledger_cursor(after)
    if after_us is not None:
        resume = from_us(after_us + 1)
        since = resume if since is None or since < resume else since
    if reads is None:
        points = await bq.ledger_chart(info.context["container"], objective_id, since, until)
    else:  # the chart reads every interval: the budget folded whole up to the position
        state = await reads.budget(objective_id, whole=True)
        points = [] if state is None or state.ledger is None or state.target is None else state.ledger.chart(
            since=since, until=until
        )
    edges = [Edge(cursor=_encode_ledger_cursor(p.end), node=_point(p)) for p in points[:size]]
    return LedgerConnection(
        edges=edges,
        page_info=PageInfo(has_next_page=len(points) > size, end_cursor=edges[-1].cursor if edges else None),
    )


@strawberry.type(description="An interval excluded from the budget (planned maintenance, another team's outage...).")
class BudgetExclusion:
    id: strawberry.ID
    start: datetime
    end: datetime
    reason: str
    active: bool = strawberry.field(description="False once restored.")


async def exclusions_of(container: Any, objective_id: str, reads: Any = None) -> list[BudgetExclusion]:
    if reads is None:
        active, restored = await bq.budget_exclusions(container, objective_id)
    else:
        state = await reads.budget(objective_id)
        ledger = None if state is None else state.ledger
        active, restored = ((), ()) if ledger is None else (ledger.exclusions, ledger.restored_exclusions)
    return [
        BudgetExclusion(id=strawberry.ID(x.id), start=x.start, end=x.end, reason=x.reason, active=is_active)
        for xs, is_active in ((active, True), (restored, False))
        for x in xs
    ]


MAX_NEXT_OCCURRENCES = 50


@strawberry.type(description="One occurrence of a recurring exclusion, as UTC instants.")
class ExclusionOccurrence:
    start: datetime
    end: datetime


@strawberry.type(
    description="A recurring exclusion: every occurrence of an RFC 5545 RRULE from a local start in an IANA time zone, "
    "each lasting `duration`, counts as neither good nor bad (until the data time it was ended from)."
)
class RecurringBudgetExclusion:
    id: strawberry.ID
    rrule: str
    start: str = strawberry.field(description="DTSTART, a wall-clock time in `zone` (no offset).")
    zone: str
    duration: str
    reason: str
    ended_from: datetime | None = strawberry.field(
        description="Data starting at or after this time is no longer excluded by it (null: not ended)."
    )
    active: bool = strawberry.field(description="False once ended.")
    item: strawberry.Private[Any] = None
    default_after: strawberry.Private[datetime | None] = None

    @strawberry.field(
        description="The next occurrences beginning at or after `after` (default: the budget's latest data time, "
        "else the start), at most a year ahead; none from its end on."
    )
    def next_occurrences(self, count: int = 3, after: datetime | None = None) -> list[ExclusionOccurrence]:
        if not 1 <= count <= MAX_NEXT_OCCURRENCES:
            raise InvalidInput(f"count must lie in 1..{MAX_NEXT_OCCURRENCES}", field="count")
        if after is not None and (after.tzinfo is None or after.utcoffset() is None):
            raise InvalidInput("after needs a time zone", field="after")
        since = after or self.default_after
        since_us = to_us(since) if since is not None else None
        if since_us is None:
            spans = self.item.next_occurrences(-(1 << 62), count)
        else:
            spans = self.item.next_occurrences(since_us, count)
        return [ExclusionOccurrence(start=from_us(b), end=from_us(e)) for b, e in spans]


async def recurring_exclusions_of(container: Any, objective_id: str, reads: Any = None) -> list[RecurringBudgetExclusion]:
    """An objective's recurring exclusions, in the order they were added (ended ones too)."""
    if reads is None:
        state = await bq.budget_state(container, objective_id)
    else:
        state = await reads.budget(objective_id)
    if state is None or state.ledger is None:
        return []
    after = state.event_time
    return [
        RecurringBudgetExclusion(
            id=strawberry.ID(x.id), rrule=x.rrule, start=x.start.isoformat(), zone=x.zone,
            duration=format_duration(x.duration), reason=x.reason, ended_from=x.ended_from,
            active=x.ended_from is None, item=x, default_after=after,
        )
        for x in state.ledger.recurring_exclusions
    ]


# --- composite journeys and feasibility -----------------------------------------------


@strawberry.type(description="A critical dependency measured by an objective with an agreed target.")
class DependencyTarget:
    service: str
    objective_id: strawberry.ID
    target: float


@strawberry.type(description="A critical dependency's objective: its agreed target and its attainment now.")
class CompositeDependency:
    service: str
    objective_id: strawberry.ID
    target: float | None = strawberry.field(description="Null: nothing agreed yet.")
    attainment: float | None = strawberry.field(description="Its SLI over its window now; null without data.")


@strawberry.type(description="A journey objective's target (agreed, or under an open proposal) against the ceiling.")
class TargetCheck:
    objective_id: strawberry.ID
    proposal_id: strawberry.ID | None = strawberry.field(description="Null: the agreed target.")
    target: float
    feasible: bool
    ceiling: float


@strawberry.type(
    description="Whether an objective's target (its open proposal's, else its agreed one) can be met when every "
    "critical dependency of its journey meets its own agreed target: feasible when target <= ceiling, the "
    "product of those targets. The infeasible-target flag of the negotiation."
)
class Feasibility:
    objective_id: strawberry.ID
    proposal_id: strawberry.ID | None = strawberry.field(description="Null: the agreed target is checked.")
    target: float
    feasible: bool
    ceiling: float
    dependency_targets: list[DependencyTarget]
    unmeasured: list[str] = strawberry.field(
        description="Critical services without an objective with an agreed target (left out of the ceiling)."
    )
    complete: bool = strawberry.field(description="Every critical service is measured.")


@strawberry.type(
    description="A journey's composite objective: its critical dependencies' attainment multiplied, and the "
    "ceiling their agreed targets put on the journey's own targets."
)
class JourneyComposite:
    journey_id: strawberry.ID
    critical_services: list[str]
    attainment: float | None = strawberry.field(
        description="The product of the dependency objectives' SLIs; null when any is unknown or there are none."
    )
    ceiling: float = strawberry.field(description="The product of their agreed targets (1.0 with none).")
    feasible: bool = strawberry.field(description="Every target in targets is feasible.")
    complete: bool
    dependencies: list[CompositeDependency]
    unmeasured: list[str]
    targets: list[TargetCheck] = strawberry.field(description="The journey's own objectives' targets, checked.")
    weighted_attainment: float | None = strawberry.field(
        default=None, description="The dependency objectives' SLIs' mean weighted by their compositeWeight "
        "(OpenSLO; 1 when unset); null when any is unknown or there are none.")
    weighted_ceiling: float | None = strawberry.field(
        default=None, description="Their agreed targets' mean weighted by compositeWeight; null when any is unagreed or there are none.")


def _dependency_targets(c: bq.JourneyComposite) -> list[DependencyTarget]:
    return [
        DependencyTarget(service=d.service, objective_id=strawberry.ID(d.objective_id), target=d.target)
        for d in c.dependencies
        if d.target is not None
    ]


async def journey_composite(container: Any, journey_id: str, reads: Any = None) -> JourneyComposite:
    c = await bq.journey_composite(container, journey_id, reads)
    return JourneyComposite(
        journey_id=strawberry.ID(c.journey_id),
        critical_services=list(c.critical_services),
        attainment=c.attainment,
        ceiling=c.ceiling,
        feasible=c.feasible,
        complete=c.complete,
        dependencies=[
            CompositeDependency(
                service=d.service, objective_id=strawberry.ID(d.objective_id), target=d.target,
                attainment=d.attainment,
            )
            for d in c.dependencies
        ],
        unmeasured=list(c.unmeasured),
        targets=[
            TargetCheck(
                objective_id=strawberry.ID(t.objective_id),
                proposal_id=None if t.proposal_id is None else strawberry.ID(t.proposal_id),
                target=t.target, feasible=t.feasible, ceiling=t.ceiling,
            )
            for t in c.journey_targets
        ],
        weighted_attainment=c.weighted_attainment,
        weighted_ceiling=c.weighted_ceiling,
    )


async def objective_feasibility(
    container: Any, objective_id: str, journey_id: str, reads: Any = None
) -> Feasibility | None:
    """The open proposal's check (else the agreed target's), with the journey's numbers;
    None without either (or once retired)."""
    c = await bq.journey_composite(container, journey_id, reads)
    checks = [t for t in c.journey_targets if t.objective_id == objective_id]
    check = next((t for t in checks if t.proposal_id is not None), None) or next(iter(checks), None)
    if check is None:
        return None
    return Feasibility(
        objective_id=strawberry.ID(objective_id),
        proposal_id=None if check.proposal_id is None else strawberry.ID(check.proposal_id),
        target=check.target,
        feasible=check.feasible,
        ceiling=check.ceiling,
        dependency_targets=_dependency_targets(c),
        unmeasured=list(c.unmeasured),
        complete=c.complete,
    )


# --- mutation payloads ------------------------------------------------------------------


@strawberry.type(description="One objective's part of a recordObservations call.")
class BudgetStream:
    objective_id: strawberry.ID
    version: int = strawberry.field(description="The budget stream's version after the call.")
    appended: int = strawberry.field(description="Events appended for it (0: the data was a resend).")


@strawberry.type
class RecordObservationsPayload:
    budgets: list[Budget] = strawberry.field(
        description="The budgets after the call, one per objective in first-seen order; objectives without an "
        "agreed target keep the data but have no budget yet, and are only listed in streams."
    )
    streams: list[BudgetStream] = strawberry.field(description="Every objective of the batch, in first-seen order.")
    events: list[EventRef] = strawberry.field(
        description="Every event appended, derived transitions (alerts, exhaustion) included; empty for a resend."
    )


@strawberry.type
class BudgetPayload:
    objective_id: strawberry.ID
    version: int = strawberry.field(description="The budget stream's version after the command.")
    budget: Budget | None = strawberry.field(description="Null until the objective has an agreed target and data.")
    events: list[EventRef]
    replayed: bool = strawberry.field(
        description="True when the idempotency key matched an earlier command: nothing was appended."
    )


# --- mutations ------------------------------------------------------------------------


BudgetCall = Callable[[Any, Any, dict[str, Any]], Awaitable[CommandResult]]


async def _budget(
    info: Info, name: str, objective_id: str, guards: i.CommandGuards | None, call: BudgetCall,
    *, with_reason: bool = False,
) -> BudgetPayload:
    """Run a budget service call as the caller (``call(container, principal, guard kwargs)``)
    and read the budget back. ``with_reason``: the input's optional reason goes on the
    envelope (inputs whose command takes a reason of its own record it there)."""
    container = info.context["container"]

    async def execute() -> CommandResult:
        principal = current_principal(info)
        kwargs: dict[str, Any] = {"correlation_id": info.context.get("correlation_id")}
        if guards is not None:
            check_guards(guards)
            kwargs.update(expected_version=guards.expected_version, idempotency_key=guards.idempotency_key)
            if with_reason:
                kwargs["reason"] = guards.reason
        return await call(container, principal, kwargs)

    result = await measured(name, execute)
    return BudgetPayload(
        objective_id=strawberry.ID(objective_id),
        version=result.version,
        budget=await budget_for(container, objective_id),
        events=event_refs(result.events),
        replayed=result.replayed,
    )


def tier_dicts(tiers: list[i.AlertTierInput] | None) -> list[dict[str, Any]] | None:
    """Alert tiers as the budget decider takes them (None: the defaults, or as recorded)."""
    return None if tiers is None else [
        {"severity": t.severity.value, "long_window": t.long_window, "short_window": t.short_window,
         "threshold": t.threshold}
        for t in tiers
    ]


def _interval(input: Any) -> dict[str, Any]:
    return {"start": input.start, "end": input.end, "good": input.good, "total": input.total}


@strawberry.type
class BudgetsMutation:
    @strawberry.mutation(
        description="Record SLI data from monitoring for one or many objectives (sre). All or nothing: the whole "
        "batch is validated first (counts, no future data, overlaps, unknown objectives, conflicts with recorded "
        "counts) and any problem refuses the call with its code, appending nothing."
    )
    async def record_observations(self, info: Info, input: i.RecordObservationsInput) -> RecordObservationsPayload:
        container = info.context["container"]
        items = input.observations

        async def execute() -> list[CommandResult]:
            principal = current_principal(info)
            if len(items) > MAX_OBSERVATIONS_PER_CALL:
                raise InvalidInput(
                    f"observations may hold at most {MAX_OBSERVATIONS_PER_CALL} items per call (got {len(items)})",
                    field="observations",
                )
            batch = [{"objective_id": str(o.objective_id), **_interval(o)} for o in items]
            return await bq.record_observations(
                container, principal.actor, principal.roles, batch,
                correlation_id=info.context.get("correlation_id"),
            )

        results = await measured("RecordObservations", execute)
        budgets, streams, events = [], [], []
        for result in results:
            objective_id = result.stream_id.removeprefix(f"{budget_decider.CATEGORY}-")
            streams.append(BudgetStream(
                objective_id=strawberry.ID(objective_id), version=result.version, appended=len(result.events)))
            events.extend(event_refs(result.events))
            budget = await budget_for(container, objective_id)
            if budget is not None:
                budgets.append(budget)
        return RecordObservationsPayload(budgets=budgets, streams=streams, events=events)

    @strawberry.mutation(description="Replace the counts of a recorded interval, with a reason (sre).")
    async def correct_observation(self, info: Info, input: i.CorrectObservationInput) -> BudgetPayload:
        objective_id = str(input.objective_id)
        return await _budget(info, "CorrectObservation", objective_id, input, lambda c, p, g: bq.correct_observation(
            c, p.actor, p.roles, objective_id, _interval(input), input.reason, **g))

    @strawberry.mutation(
        description="EXCLUDE an interval from the budget (counts as neither good nor bad), or RESTORE an exclusion "
        "by its id (sre, leadership)."
    )
    async def adjust_budget(self, info: Info, input: i.AdjustBudgetInput) -> BudgetPayload:
        objective_id = str(input.objective_id)
        exclusion_id = str(input.exclusion_id)
        if input.action is BudgetAction.EXCLUDE:
            def call(c: Any, p: Any, g: dict[str, Any]) -> Awaitable[CommandResult]:
                for field in ("start", "end"):
                    if getattr(input, field) is None:
                        raise InvalidInput(f"{field} is required to EXCLUDE an interval", field=field)
                return bq.exclude_interval(c, p.actor, p.roles, objective_id, exclusion_id, input.start, input.end,
                                           input.reason, input.approver, **g)
            return await _budget(info, "ExcludeInterval", objective_id, input, call)

        def restore(c: Any, p: Any, g: dict[str, Any]) -> Awaitable[CommandResult]:
            for field in ("start", "end", "approver"):
                if getattr(input, field) is not None:
                    raise InvalidInput(f"{field} is only taken by EXCLUDE; RESTORE names the exclusion by id",
                                       field=field)
            return bq.restore_interval(c, p.actor, p.roles, objective_id, exclusion_id, input.reason, **g)
        return await _budget(info, "RestoreInterval", objective_id, input, restore)

    @strawberry.mutation(
        description="Exclude a recurring window (an RFC 5545 RRULE, e.g. a weekly maintenance) from the budget: each "
        "occurrence counts as neither good nor bad, for the data recorded and to come (sre, leadership)."
    )
    async def exclude_recurring(self, info: Info, input: i.ExcludeRecurringInput) -> BudgetPayload:
        objective_id = str(input.objective_id)
        return await _budget(info, "ExcludeRecurring", objective_id, input, lambda c, p, g: bq.exclude_recurring(
            c, p.actor, p.roles, objective_id, str(input.exclusion_id), input.rrule, input.start, input.zone,
            input.duration, input.reason, input.approver, **g))

    @strawberry.mutation(
        description="End a recurring exclusion from a data time on: intervals starting then or later count again "
        "(sre, leadership)."
    )
    async def end_recurring_exclusion(self, info: Info, input: i.EndRecurringExclusionInput) -> BudgetPayload:
        objective_id = str(input.objective_id)
        return await _budget(info, "EndRecurringExclusion", objective_id, input,
                             lambda c, p, g: bq.end_recurring_exclusion(
                                 c, p.actor, p.roles, objective_id, str(input.exclusion_id), input.from_,
                                 input.reason, **g))

    @strawberry.mutation(description="Set the burn-rate alert tiers and the staleness limit of a budget (sre).")
    async def configure_budget_alerts(self, info: Info, input: i.ConfigureBudgetAlertsInput) -> BudgetPayload:
        objective_id = str(input.objective_id)
        tiers = tier_dicts(input.tiers)
        return await _budget(info, "ConfigureAlerts", objective_id, input, lambda c, p, g: bq.configure_alerts(
            c, p.actor, p.roles, objective_id, tiers, input.stale_after_minutes, **g), with_reason=True)

    @strawberry.mutation(
        description="A scheduler's freshness probe (sre): appends only when the server time changes a derived "
        "state (the data went stale, an alert cleared as its windows emptied)."
    )
    async def check_freshness(self, info: Info, input: i.CheckFreshnessInput) -> BudgetPayload:
        objective_id = str(input.objective_id)
        return await _budget(info, "CheckFreshness", objective_id, None, lambda c, p, g: bq.check_freshness(
            c, p.actor, p.roles, objective_id))
