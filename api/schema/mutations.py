"""Mutations: one per domain command, each a few lines over ``_run``.

``_run`` checks the caller, builds the command, sends it through the command bus
in an ``Envelope`` (actor, roles, guards, correlation id), counts the outcome and
returns the result; the payload then reads the entity back from the read model
(inline projections commit with the events, so this is read-your-writes).
Domain errors propagate: ``ErrorCodesExtension`` gives them their code.

The error-budget mutations go through ``service.budget_queries`` instead (a
``recordObservations`` batch is validated as a whole across objectives before
anything is sent), inside the same ``_measured`` outcome counting; their payloads
read the budget back from the read model too.
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable, TypeVar

import strawberry
from strawberry.types import Info

from api.auth import current_principal
from api.errors import INTERNAL_SERVER_ERROR
from api.metrics import record_command
from api.schema import budgets as b
from api.schema import inputs as i
from api.schema import reads
from api.schema.enums import BudgetAction, value_of
from api.schema.types import JourneyPayload, ObjectivePayload, event_refs, from_journey, from_objective
from domain import journey as jd
from domain import objective as od
from domain.budget import decider as budget_decider
from domain.errors import DomainError, InvalidInput, NotFound
from service import budget_queries as bq
from service.envelope import CommandResult, Envelope

IDEMPOTENCY_KEY_MAX_LENGTH = 200
# One recordObservations call: the service takes up to 50,000 intervals per objective;
# over HTTP a smaller request is kinder to everyone.
MAX_OBSERVATIONS_PER_CALL = 10_000

T = TypeVar("T")


def _check_guards(guards: i.CommandGuards) -> None:
    if guards.expected_version is not None and guards.expected_version < 0:
        raise InvalidInput("expectedVersion must not be negative", field="expectedVersion")
    key = guards.idempotency_key
    if key is not None and not (0 < len(key) <= IDEMPOTENCY_KEY_MAX_LENGTH):
        raise InvalidInput(
            f"idempotencyKey must be 1 to {IDEMPOTENCY_KEY_MAX_LENGTH} characters", field="idempotencyKey"
        )


async def _measured(name: str, action: Callable[[], Awaitable[T]]) -> T:
    """Run ``action``; count its outcome under ``name`` (ok, or the refusal's code)."""
    try:
        result = await action()
    except DomainError as error:
        record_command(name, error.code)
        raise
    except Exception:
        record_command(name, INTERNAL_SERVER_ERROR)
        raise
    record_command(name, "ok")
    return result


async def _run(info: Info, name: str, guards: i.CommandGuards, build: Callable[[], Any]) -> CommandResult:
    """Authenticate, build and execute one command; count its outcome under ``name``."""
    context = info.context

    async def execute() -> CommandResult:
        principal = current_principal(info)
        _check_guards(guards)
        command = build()
        envelope = Envelope(
            command=command,
            actor=principal.actor,
            roles=principal.roles,
            expected_version=guards.expected_version,
            idempotency_key=guards.idempotency_key,
            reason=guards.reason,
            correlation_id=context.get("correlation_id"),
        )
        return await context["container"].bus.execute(envelope)

    return await _measured(name, execute)


async def _journey(info: Info, name: str, guards: i.CommandGuards, build: Callable[[], Any]) -> JourneyPayload:
    result = await _run(info, name, guards, build)
    journey_id = result.stream_id.removeprefix(f"{jd.CATEGORY}-")
    state = await reads.journey_by_id(info.context["container"], journey_id)
    if state is None:  # only if the read model lags (a read replica)
        raise NotFound(f"journey {journey_id} is not readable yet", journey_id=journey_id)
    return JourneyPayload(journey=from_journey(state), events=event_refs(result.events), replayed=result.replayed)


async def _objective(info: Info, name: str, guards: i.CommandGuards, build: Callable[[], Any]) -> ObjectivePayload:
    result = await _run(info, name, guards, build)
    objective_id = result.stream_id.removeprefix(f"{od.CATEGORY}-")
    state = await reads.objective_by_id(info.context["container"], objective_id)
    if state is None:
        raise NotFound(f"objective {objective_id} is not readable yet", objective_id=objective_id)
    return ObjectivePayload(
        objective=from_objective(state), events=event_refs(result.events), replayed=result.replayed
    )


BudgetCall = Callable[[Any, Any, dict[str, Any]], Awaitable[CommandResult]]


async def _budget(
    info: Info, name: str, objective_id: str, guards: i.CommandGuards | None, call: BudgetCall,
    *, with_reason: bool = False,
) -> b.BudgetPayload:
    """Run a budget service call as the caller (``call(container, principal, guard kwargs)``)
    and read the budget back. ``with_reason``: the input's optional reason goes on the
    envelope (inputs whose command takes a reason of its own record it there)."""
    container = info.context["container"]

    async def execute() -> CommandResult:
        principal = current_principal(info)
        kwargs: dict[str, Any] = {"correlation_id": info.context.get("correlation_id")}
        if guards is not None:
            _check_guards(guards)
            kwargs.update(expected_version=guards.expected_version, idempotency_key=guards.idempotency_key)
            if with_reason:
                kwargs["reason"] = guards.reason
        return await call(container, principal, kwargs)

    result = await _measured(name, execute)
    return b.BudgetPayload(
        objective_id=strawberry.ID(objective_id),
        version=result.version,
        budget=await b.budget_for(container, objective_id),
        events=event_refs(result.events),
        replayed=result.replayed,
    )


def _interval(input: Any) -> dict[str, Any]:
    return {"start": input.start, "end": input.end, "good": input.good, "total": input.total}


def _texts(values: list[str] | None) -> tuple[str, ...]:
    return tuple(values or ())


@strawberry.type
class Mutation:
    # --- journeys -------------------------------------------------------------

    @strawberry.mutation(description="Phase 1: propose a Critical User Journey with its business inputs.")
    async def propose_journey(self, info: Info, input: i.ProposeJourneyInput) -> JourneyPayload:
        return await _journey(info, "ProposeJourney", input, lambda: jd.ProposeJourney(
            str(input.journey_id), input.name, input.description, _texts(input.steps), input.starts_at,
            input.ends_at, input.success_criteria, input.owner, input.tier, input.revenue_impact,
            input.conversion_impact, input.support_volume))

    @strawberry.mutation(description="The business decision: rank and tier a journey (product, leadership).")
    async def prioritize_journey(self, info: Info, input: i.PrioritizeJourneyInput) -> JourneyPayload:
        return await _journey(info, "PrioritizeJourney", input, lambda: jd.PrioritizeJourney(
            str(input.journey_id), input.priority, input.tier, input.rationale))

    @strawberry.mutation(description="Phase 2: record the workshop's scope of the journey.")
    async def document_journey_scope(self, info: Info, input: i.DocumentJourneyScopeInput) -> JourneyPayload:
        return await _journey(info, "DocumentJourneyScope", input, lambda: jd.DocumentJourneyScope(
            str(input.journey_id), _texts(input.includes), _texts(input.excludes), input.starts_at,
            input.ends_at, input.success_criteria, _texts(input.workshop_participants)))

    @strawberry.mutation(description="Phase 3: map a component the journey depends on.")
    async def map_dependency(self, info: Info, input: i.MapDependencyInput) -> JourneyPayload:
        return await _journey(info, "MapDependency", input, lambda: jd.MapDependency(
            str(input.journey_id), input.service, value_of(input.kind), input.critical,
            _texts(input.failure_modes)))

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

    # --- objectives -----------------------------------------------------------

    @strawberry.mutation(description="Draft an SLO on a prioritized journey (sre).")
    async def draft_objective(self, info: Info, input: i.DraftObjectiveInput) -> ObjectivePayload:
        def build() -> od.DraftObjective:
            sli, window, budgeting = input.sli, input.window, input.budgeting
            return od.DraftObjective(
                str(input.objective_id), str(input.journey_id), input.name,
                od.SLI(value_of(sli.kind), sli.threshold_ms, sli.metric, sli.threshold,
                       sli.threshold_seconds, sli.description),
                od.Window(value_of(window.kind), window.days),
                od.Budgeting(value_of(budgeting.method), budgeting.slice_minutes, budgeting.slice_threshold),
                input.service)
        return await _objective(info, "DraftObjective", input, build)

    @strawberry.mutation(description="Record historical performance measured on past data (sre).")
    async def record_baseline(self, info: Info, input: i.RecordBaselineInput) -> ObjectivePayload:
        return await _objective(info, "RecordBaseline", input, lambda: od.RecordBaseline(
            str(input.objective_id), input.period_start, input.period_end, input.good, input.total, input.notes))

    @strawberry.mutation(description="Propose a target; refused while the journey has open instrumentation gaps.")
    async def propose_target(self, info: Info, input: i.ProposeTargetInput) -> ObjectivePayload:
        def build() -> od.ProposeTarget:
            parties = od.PARTIES if input.required_parties is None else tuple(p.value for p in input.required_parties)
            return od.ProposeTarget(
                str(input.objective_id), str(input.proposal_id), input.target, input.rationale, parties)
        return await _objective(info, "ProposeTarget", input, build)

    @strawberry.mutation(description="Endorse the current revision as a party you hold the role of.")
    async def endorse_proposal(self, info: Info, input: i.EndorseProposalInput) -> ObjectivePayload:
        return await _objective(info, "EndorseProposal", input, lambda: od.EndorseProposal(
            str(input.objective_id), str(input.proposal_id), value_of(input.party), input.comment))

    @strawberry.mutation(description="Object to the current revision as a party you hold the role of.")
    async def object_to_proposal(self, info: Info, input: i.ObjectToProposalInput) -> ObjectivePayload:
        return await _objective(info, "ObjectToProposal", input, lambda: od.ObjectToProposal(
            str(input.objective_id), str(input.proposal_id), value_of(input.party),
            value_of(input.objection), input.reason))

    @strawberry.mutation(description="Revise an open proposal: every party must speak again.")
    async def revise_proposal(self, info: Info, input: i.ReviseProposalInput) -> ObjectivePayload:
        return await _objective(info, "ReviseProposal", input, lambda: od.ReviseProposal(
            str(input.objective_id), str(input.proposal_id), input.target, input.rationale))

    @strawberry.mutation
    async def withdraw_proposal(self, info: Info, input: i.WithdrawProposalInput) -> ObjectivePayload:
        return await _objective(info, "WithdrawProposal", input, lambda: od.WithdrawProposal(
            str(input.objective_id), str(input.proposal_id), input.reason))

    @strawberry.mutation
    async def defer_negotiation(self, info: Info, input: i.DeferNegotiationInput) -> ObjectivePayload:
        return await _objective(info, "DeferNegotiation", input, lambda: od.DeferNegotiation(
            str(input.objective_id), str(input.proposal_id), input.reason, input.revisit_on))

    @strawberry.mutation(description="Formalize an agreed target under an error-budget policy: ACTIVE, no longer informational.")
    async def formalize_agreement(self, info: Info, input: i.FormalizeAgreementInput) -> ObjectivePayload:
        return await _objective(info, "FormalizeAgreement", input, lambda: od.FormalizeAgreement(
            str(input.objective_id), str(input.policy_id), input.policy_version, input.product_owner,
            input.sre_owner, _texts(input.escalation_path), input.resource_commitment))

    @strawberry.mutation
    async def retire_objective(self, info: Info, input: i.RetireObjectiveInput) -> ObjectivePayload:
        return await _objective(info, "RetireObjective", input, lambda: od.RetireObjective(
            str(input.objective_id), input.reason))

    # --- error budgets --------------------------------------------------------

    @strawberry.mutation(
        description="Record SLI data from monitoring for one or many objectives (sre). All or nothing: the whole "
        "batch is validated first (counts, no future data, overlaps, unknown objectives, conflicts with recorded "
        "counts) and any problem refuses the call with its code, appending nothing."
    )
    async def record_observations(self, info: Info, input: i.RecordObservationsInput) -> b.RecordObservationsPayload:
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

        results = await _measured("RecordObservations", execute)
        budgets, streams, events = [], [], []
        for result in results:
            objective_id = result.stream_id.removeprefix(f"{budget_decider.CATEGORY}-")
            streams.append(b.BudgetStream(
                objective_id=strawberry.ID(objective_id), version=result.version, appended=len(result.events)))
            events.extend(event_refs(result.events))
            budget = await b.budget_for(container, objective_id)
            if budget is not None:
                budgets.append(budget)
        return b.RecordObservationsPayload(budgets=budgets, streams=streams, events=events)

    @strawberry.mutation(description="Replace the counts of a recorded interval, with a reason (sre).")
    async def correct_observation(self, info: Info, input: i.CorrectObservationInput) -> b.BudgetPayload:
        objective_id = str(input.objective_id)
        return await _budget(info, "CorrectObservation", objective_id, input, lambda c, p, g: bq.correct_observation(
            c, p.actor, p.roles, objective_id, _interval(input), input.reason, **g))

    @strawberry.mutation(
        description="EXCLUDE an interval from the budget (counts as neither good nor bad), or RESTORE an exclusion "
        "by its id (sre, leadership)."
    )
    async def adjust_budget(self, info: Info, input: i.AdjustBudgetInput) -> b.BudgetPayload:
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

    @strawberry.mutation(description="Set the burn-rate alert tiers and the staleness limit of a budget (sre).")
    async def configure_budget_alerts(self, info: Info, input: i.ConfigureBudgetAlertsInput) -> b.BudgetPayload:
        objective_id = str(input.objective_id)
        tiers = None if input.tiers is None else [
            {"severity": t.severity.value, "long_window": t.long_window, "short_window": t.short_window,
             "threshold": t.threshold}
            for t in input.tiers
        ]
        return await _budget(info, "ConfigureAlerts", objective_id, input, lambda c, p, g: bq.configure_alerts(
            c, p.actor, p.roles, objective_id, tiers, input.stale_after_minutes, **g), with_reason=True)

    @strawberry.mutation(
        description="A scheduler's freshness probe (sre): appends only when the server time changes a derived "
        "state (the data went stale, an alert cleared as its windows emptied)."
    )
    async def check_freshness(self, info: Info, input: i.CheckFreshnessInput) -> b.BudgetPayload:
        objective_id = str(input.objective_id)
        return await _budget(info, "CheckFreshness", objective_id, None, lambda c, p, g: bq.check_freshness(
            c, p.actor, p.roles, objective_id))
