"""Mutations: one per domain command, each a few lines over ``_run``.

``_run`` checks the caller, builds the command, sends it through the command bus
in an ``Envelope`` (actor, roles, guards, correlation id), counts the outcome and
returns the result; the payload then reads the entity back from the read model
(inline projections commit with the events, so this is read-your-writes).
Domain errors propagate: ``ErrorCodesExtension`` gives them their code.
"""

from __future__ import annotations

from typing import Any, Callable

import strawberry
from strawberry.types import Info

from api.auth import current_principal
from api.errors import INTERNAL_SERVER_ERROR
from api.metrics import record_command
from api.schema import inputs as i
from api.schema import reads
from api.schema.enums import value_of
from api.schema.types import JourneyPayload, ObjectivePayload, event_refs, from_journey, from_objective
from domain import journey as jd
from domain import objective as od
from domain.errors import DomainError, InvalidInput, NotFound
from service.envelope import CommandResult, Envelope

IDEMPOTENCY_KEY_MAX_LENGTH = 200


def _check_guards(guards: i.CommandGuards) -> None:
    if guards.expected_version is not None and guards.expected_version < 0:
        raise InvalidInput("expectedVersion must not be negative", field="expectedVersion")
    key = guards.idempotency_key
    if key is not None and not (0 < len(key) <= IDEMPOTENCY_KEY_MAX_LENGTH):
        raise InvalidInput(
            f"idempotencyKey must be 1 to {IDEMPOTENCY_KEY_MAX_LENGTH} characters", field="idempotencyKey"
        )


async def _run(info: Info, name: str, guards: i.CommandGuards, build: Callable[[], Any]) -> CommandResult:
    """Authenticate, build and execute one command; count its outcome under ``name``."""
    context = info.context
    try:
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
        result = await context["container"].bus.execute(envelope)
    except DomainError as error:
        record_command(name, error.code)
        raise
    except Exception:
        record_command(name, INTERNAL_SERVER_ERROR)
        raise
    record_command(name, "ok")
    return result


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
                od.Budgeting(value_of(budgeting.method), budgeting.slice_minutes, budgeting.slice_threshold))
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
