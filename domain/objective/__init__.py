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

The package follows those phases, one module each, around the shared state:
``state`` (vocabulary, value objects, the folded state), ``sli`` (the objective and its
SLI), ``measurement`` (the SLI as queries against a data source), ``negotiation``
(baseline and negotiation), ``agreement``, ``notifications`` (who each alert tier notifies), ``review`` (review and retirement). Each phase module holds its commands, their rules and the evolve of its
events, and offers them as ``DECIDERS`` and ``EVOLVERS``; ``decide`` and ``evolve`` here
are the stream's one entry each. Everything public is re-exported here, so callers keep
importing from ``domain.objective``.
"""

from __future__ import annotations

from typing import Any, Callable

from domain.commands import PARTIES, require_id
from domain.errors import Conflict, NotFound
from domain.events import Context, NewEvent, RecordedEvent
from domain.objective import agreement, evidence, measurement, metadata, negotiation, notifications, review, sli
from domain.objective.agreement import FormalizeAgreement
from domain.objective.evidence import EVIDENCE_KINDS, AttachWhatIfEvidence
from domain.objective.measurement import DefineSli, gaps_closed, sources_named, takes_effect
from domain.objective.metadata import LabelObjective
from domain.objective.notifications import SetNotificationTargets
from domain.objective.negotiation import (
    DeferNegotiation,
    EndorseProposal,
    ObjectToProposal,
    ProposeTarget,
    RecordBaseline,
    ReviseProposal,
    WithdrawProposal,
)
from domain.objective.review import RecordReview, RetireObjective, review_due, review_overdue
from domain.objective.sli import DraftObjective
from domain.objective.state import (
    BUDGETING_METHODS,
    CATEGORY,
    EVENT_TYPES,
    NEGOTIATION_EVENT_TYPES,
    OBJECTION_KINDS,
    RENEGOTIATING_OUTCOMES,
    REVIEW_OUTCOMES,
    SLI,
    WINDOW_KINDS,
    SliQuery,
    Agreement,
    AlertRoute,
    NotificationTarget,
    Baseline,
    Evidence,
    Budgeting,
    NegotiationStep,
    ObjectiveState,
    ObjectiveStatus,
    Position,
    Proposal,
    ProposalStatus,
    Review,
    Stance,
    Window,
    from_dict,
    initial_state,
    stream_id,
    to_dict,
)
from domain.records import replace



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
    LabelObjective,
    AttachWhatIfEvidence,
    DefineSli,
    SetNotificationTargets,
)


_DECIDERS: dict[type, Callable[[Any, Any, Context], list[NewEvent]]] = {
    **sli.DECIDERS,
    **negotiation.DECIDERS,
    **agreement.DECIDERS,
    **review.DECIDERS,
    **metadata.DECIDERS,
    **evidence.DECIDERS,
    **measurement.DECIDERS,
    **notifications.DECIDERS,
}

_EVOLVERS: dict[str, Callable[[ObjectiveState, RecordedEvent], ObjectiveState]] = {
    **negotiation.EVOLVERS,
    **agreement.EVOLVERS,
    **review.EVOLVERS,
    **metadata.EVOLVERS,
    **evidence.EVOLVERS,
    **measurement.EVOLVERS,
    **notifications.EVOLVERS,
}


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


def evolve(state: ObjectiveState | None, event: RecordedEvent) -> ObjectiveState:
    if event.type == "ObjectiveDrafted":
        if state is not None:
            raise ValueError(f"{event.stream_id} was drafted twice (version {event.stream_version})")
        new = sli.drafted(event)
    else:
        apply = _EVOLVERS.get(event.type)
        if apply is None:
            raise ValueError(f"unknown objective event type {event.type!r}")
        if state is None:
            raise ValueError(f"{event.type} before ObjectiveDrafted in {event.stream_id}")
        new = apply(state, event)
    return replace(new, version=event.stream_version, updated_at=event.recorded_at)


__all__ = [
    "AlertRoute", "AttachWhatIfEvidence", "BUDGETING_METHODS", "CATEGORY", "COMMANDS", "EVENT_TYPES", "EVIDENCE_KINDS", "Evidence", "NEGOTIATION_EVENT_TYPES", "OBJECTION_KINDS",
    "PARTIES", "RENEGOTIATING_OUTCOMES", "REVIEW_OUTCOMES", "SLI", "WINDOW_KINDS", "Agreement", "Baseline",
    "Budgeting", "DefineSli", "DeferNegotiation", "DraftObjective", "EndorseProposal", "FormalizeAgreement", "LabelObjective",
    "NegotiationStep", "NotificationTarget", "ObjectToProposal", "ObjectiveState", "ObjectiveStatus", "Position", "Proposal",
    "ProposalStatus", "ProposeTarget", "RecordBaseline", "RecordReview", "RetireObjective", "Review",
    "ReviseProposal", "SetNotificationTargets", "SliQuery", "Stance", "Window", "WithdrawProposal", "decide", "evolve", "from_dict", "gaps_closed", "initial_state",
    "review_due", "review_overdue", "sources_named", "stream_id", "takes_effect", "to_dict",
]
