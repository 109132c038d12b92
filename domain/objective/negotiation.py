"""Baseline and negotiation (the seed's phase 4): a baseline measured on past data; a
target proposed, endorsed or objected to by the parties, revised, withdrawn or deferred,
until every required party endorses the current revision and `TargetAgreed` follows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Callable

from domain.baseline_analysis import BaselineAnalysis
from domain.baseline_analysis import from_dict as analysis_from_dict
from domain.baseline_analysis import to_dict as analysis_dict
from domain.records import replace
from domain import journey as journeys
from domain.commands import (
    PARTIES,
    actor_of,
    iso,
    optional_text,
    parse_iso,
    parse_optional_iso,
    percent,
    require_aware,
    require_choice,
    require_id,
    require_int,
    require_moment,
    require_number,
    require_parties,
    require_text,
)
from domain.errors import Conflict, InvalidInput, NotFound, PolicyViolation
from domain.events import Context, NewEvent, RecordedEvent
from domain.objective.sli import live_journey
from domain.objective.state import (
    Baseline,
    OBJECTION_KINDS,
    ObjectiveCommand,
    ObjectiveState,
    ObjectiveStatus,
    Position,
    Proposal,
    ProposalStatus,
    Stance,
    settled_status,
    with_proposal,
    with_step,
)


# BaselineRecorded's data: version 2 added `analysis` (domain/upcasters.py).
BASELINE_SCHEMA = 2


# --- commands -----------------------------------------------------------------


@dataclass(frozen=True)
class RecordBaseline(ObjectiveCommand):
    objective_id: str
    period_start: datetime
    period_end: datetime
    good: int
    total: int
    notes: str | None = None
    # The analysis of the period's per-minute counts (domain.baseline_analysis), when the
    # baseline was measured from a source; its period must be the one stated.
    analysis: BaselineAnalysis | None = None


@dataclass(frozen=True)
class ProposeTarget(ObjectiveCommand):
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
class EndorseProposal(ObjectiveCommand):
    objective_id: str
    proposal_id: str
    party: str
    comment: str | None = None


@dataclass(frozen=True)
class ObjectToProposal(ObjectiveCommand):
    objective_id: str
    proposal_id: str
    party: str
    objection: str  # too_strict | too_loose | other
    reason: str


@dataclass(frozen=True)
class ReviseProposal(ObjectiveCommand):
    objective_id: str
    proposal_id: str
    target: float
    rationale: str


@dataclass(frozen=True)
class WithdrawProposal(ObjectiveCommand):
    objective_id: str
    proposal_id: str
    reason: str


@dataclass(frozen=True)
class DeferNegotiation(ObjectiveCommand):
    objective_id: str
    proposal_id: str
    reason: str
    revisit_on: date | datetime | None = None  # a date is taken as its midnight UTC


# --- decide -------------------------------------------------------------------


def require_target(value: Any) -> float:
    try:
        return require_number(value, "target", above=0, below=1)
    except InvalidInput as error:
        raise InvalidInput(
            f"{error.message}: a target is a fraction strictly between 0 and 1 (0.999, not 99.9 or 1.0)",
            field="target",
        ) from None


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
    analysis = cmd.analysis
    if analysis is not None:
        if not isinstance(analysis, BaselineAnalysis):
            raise InvalidInput("analysis must be a baseline analysis", field="analysis")
        p = analysis.period
        if (p.start, p.end, p.good, p.total) != (start, end, good, total):
            raise InvalidInput("analysis: its period and counts differ from the baseline's", field="analysis")
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
                "analysis": None if analysis is None else analysis_dict(analysis),
            },
            BASELINE_SCHEMA,
        )
    ]


def _propose_target(cmd: ProposeTarget, state: ObjectiveState, ctx: Context) -> list[NewEvent]:
    proposal_id = require_id(cmd.proposal_id, "proposal_id")
    target = require_target(cmd.target)
    rationale = require_text(cmd.rationale, "rationale")
    parties = require_parties(cmd.required_parties, "required_parties")
    return [proposed(state, ctx, proposal_id, target, rationale, parties)]


def proposed(
    state: ObjectiveState, ctx: Context, proposal_id: str, target: float, rationale: str, parties: tuple[str, ...]
) -> NewEvent:
    """TargetProposed, once the rules for a new proposal hold (a fresh id, no open proposal,
    no open instrumentation gap on the journey)."""
    check_new_proposal(state, proposal_id)
    journey = live_journey(ctx, state.journey_id)
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


def check_new_proposal(state: ObjectiveState, proposal_id: str) -> None:
    """A new proposal needs an id never used on the objective, and no proposal still open."""
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
    data = {
        "objective_id": state.id,
        "proposal_id": proposal.proposal_id,
        "target": proposal.target,
        "revision": proposal.revision,
        "parties": list(proposal.required_parties),
    }
    if proposal.sli_definition is not None:
        # The agreed SLI change, in the event itself: the log says what was agreed.
        data["sli_definition"] = proposal.sli_definition.to_data()
    return [endorsed, NewEvent("TargetAgreed", data)]


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
                "target": require_target(cmd.target),
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


# --- evolve -------------------------------------------------------------------


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
        analysis=None if d.get("analysis") is None else analysis_from_dict(d["analysis"]),
    )
    detail = (
        f"baseline {baseline.period_start.date()}..{baseline.period_end.date()}: "
        f"{percent(baseline.attainment)} good ({baseline.good}/{baseline.total})"
    )
    return replace(state, baseline=baseline, history=with_step(state, event, None, detail))


def opened_proposal(event: RecordedEvent, **what: Any) -> Proposal:
    """The open proposal an event proposing a target (or an SLI change: `what`) starts."""
    d = event.data
    return Proposal(
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
        **what,
    )


def _target_proposed(state: ObjectiveState, event: RecordedEvent) -> ObjectiveState:
    proposal = opened_proposal(event)
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
        history=with_step(state, event, proposal.proposal_id, detail),
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
        proposals=with_proposal(state, updated),
        history=with_step(state, event, proposal.proposal_id, detail),
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
        proposals=with_proposal(state, updated),
        history=with_step(state, event, updated.proposal_id, detail),
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
        proposals=with_proposal(state, updated),
        history=with_step(state, event, updated.proposal_id, detail),
    )
    return replace(closed, status=settled_status(closed))


DECIDERS: dict[type, Callable[[Any, Any, Context], list[NewEvent]]] = {
    RecordBaseline: _record_baseline,
    ProposeTarget: _propose_target,
    EndorseProposal: _endorse,
    ObjectToProposal: _object,
    ReviseProposal: _revise,
    WithdrawProposal: _withdraw,
    DeferNegotiation: _defer,
}

EVOLVERS: dict[str, Callable[[ObjectiveState, RecordedEvent], ObjectiveState]] = {
    "BaselineRecorded": _baseline_recorded,
    "TargetProposed": _target_proposed,
    "ProposalEndorsed": _position_taken,
    "ProposalObjected": _position_taken,
    "ProposalRevised": _proposal_revised,
    "ProposalWithdrawn": _proposal_closed,
    "NegotiationDeferred": _proposal_closed,
}
