"""Review and retirement (the seed's phase 7): quarterly reviews, whose tighten or relax
outcome opens a proposal in the same command, when a review is due, and retirement."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Callable

from domain.records import replace
from domain import journey as journeys
from domain import quarters
from domain.commands import (
    PARTIES,
    actor_of,
    iso,
    optional_text,
    parse_optional_iso,
    percent,
    require_choice,
    require_id,
    require_moment,
    require_parties,
    require_text,
    require_texts,
    role_of,
)
from domain.errors import Conflict, InvalidInput, PolicyViolation
from domain.events import Context, NewEvent, RecordedEvent
from domain.objective.negotiation import proposed, require_target
from domain.objective.state import (
    ObjectiveCommand,
    ObjectiveState,
    ObjectiveStatus,
    RENEGOTIATING_OUTCOMES,
    REVIEW_OUTCOMES,
    Review,
    with_step,
)


# --- commands -----------------------------------------------------------------


@dataclass(frozen=True)
class RecordReview(ObjectiveCommand):
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
class RetireObjective(ObjectiveCommand):
    objective_id: str
    reason: str


# --- when a review is due (the caller brings now) -----------------------------


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


# --- decide -------------------------------------------------------------------


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
            target = require_target(cmd.proposed_target)
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
    return [reviewed, proposed(state, ctx, proposal_id, target, text[:5000], parties)]


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


# --- evolve -------------------------------------------------------------------


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
        history=with_step(state, event, review.proposal_id, detail),
    )


def _retired(state: ObjectiveState, event: RecordedEvent) -> ObjectiveState:
    return replace(state, status=ObjectiveStatus.RETIRED, retirement_reason=event.data["reason"])


DECIDERS: dict[type, Callable[[Any, Any, Context], list[NewEvent]]] = {
    RecordReview: _review,
    RetireObjective: _retire,
}

EVOLVERS: dict[str, Callable[[ObjectiveState, RecordedEvent], ObjectiveState]] = {
    "ObjectiveReviewed": _reviewed,
    "ObjectiveRetired": _retired,
}
