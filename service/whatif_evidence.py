"""A what-if run attached to a proposal as its evidence (domain/objective/evidence.py).

`evidence_run(container, objective_id, proposal_id, kind, start, end, ...)` runs the what-if
the parties are to see -- a target (the proposal's own unless another is given) or a policy
document, for this objective -- and returns what the event keeps: its inputs, a summary and
the log position it read up to; the run itself appends nothing.

`attach_evidence(container, envelope, ...)` is what GraphQL's `attachWhatIfEvidence` and
`slogov whatif ... --attach` both do: the run, then `AttachWhatIfEvidence` with it in the
caller's envelope. Its idempotency is judged on what the caller asked (`Envelope.request`),
not on the run's answer: a retry with the same key is answered from the record -- before
any run, so even after the log has moved on and a run would read more -- and the key with
another request is a CONFLICT.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Callable, Mapping

from domain import objective as objectives
from domain.commands import require_choice, require_id
from domain.errors import InvalidInput, NotFound
from domain.permissions import authorize
from service.envelope import CommandResult, Envelope
from service.policy_whatif import parse_candidate, policy_whatif_of, summary as policy_summary
from service.whatif import target_whatif_of


@dataclass(frozen=True)
class EvidenceRun:
    kind: str
    inputs: dict[str, Any]
    summary: dict[str, Any]
    position: int
    result: Any = field(default=None, compare=False, repr=False)  # the whole run, for a caller to show


@dataclass(frozen=True)
class Attached:
    """What attaching did: the command's result, and the run it recorded (None when a
    retry was answered from the record: nothing ran)."""

    result: CommandResult
    run: EvidenceRun | None


def _outcome(o: Any) -> dict[str, Any]:
    status = o.status
    return {
        "target": o.target, "attainment": o.attainment, "budget_spent": o.budget_spent,
        "remaining": None if status is None else status.remaining,
        "exhaustions": [m.at for m in o.transitions if m.type == "BudgetExhausted"],
        "alerts_raised": sum(1 for m in o.transitions if m.type == "BurnRateAlertRaised"),
    }


async def evidence_run(
    container: Any, objective_id: str, proposal_id: str, kind: str, start: datetime, end: datetime, *,
    target: float | None = None, window: Any = None, budgeting: Any = None, tiers: Any = None,
    document: str | Mapping[str, Any] | None = None, progress: Callable[[int, int], None] | None = None,
) -> EvidenceRun:
    objective_id = require_id(objective_id, "objective_id")
    proposal_id = require_id(proposal_id, "proposal_id")
    kind = require_choice(kind, "kind", objectives.EVIDENCE_KINDS)
    events = await container.store.read_stream(objectives.stream_id(objective_id))
    if not events:
        raise NotFound(f"objective {objective_id} does not exist", objective_id=objective_id)
    state = None
    for e in events:
        state = objectives.evolve(state, e)
    proposal = state.proposal(proposal_id)
    if proposal is None:
        raise NotFound(f"objective {objective_id} has no proposal {proposal_id}", proposal_id=proposal_id)
    if kind == "target":
        if document is not None:
            raise InvalidInput("a target what-if takes no policy document", field="document")
        target = proposal.target if target is None else target
        r = await target_whatif_of(container, objective_id, start, end, target=target, window=window,
                                   budgeting=budgeting, tiers=tiers, progress=progress)
        inputs = {"from": r.start.isoformat(), "to": r.end.isoformat(), "target": r.candidate.target,
                  "window": r.candidate.window, "budgeting": r.candidate.budgeting,
                  "tiers": None if r.candidate.tiers is None else [dict(t) for t in r.candidate.tiers]}
        return EvidenceRun(kind, inputs, {"what_if": _outcome(r.whatif), "actual": _outcome(r.actual)}, r.position, r)
    if document is None:
        raise InvalidInput("a policy what-if needs the candidate policy document", field="document")
    if any(v is not None for v in (target, window, budgeting, tiers)):
        raise InvalidInput("a policy what-if takes only a document", field="target")
    candidate = parse_candidate(document)
    p = await policy_whatif_of(container, candidate.to_dict(), start, end, objective_ids=[objective_id],
                               progress=progress)
    inputs = {"from": p.start.isoformat(), "to": p.end.isoformat(), "policy_id": p.policy_id,
              "candidate_version": p.candidate_version, "document": candidate.to_dict()}
    return EvidenceRun(kind, inputs, policy_summary(p), p.position, p)


async def attach_evidence(
    container: Any, envelope: Envelope, objective_id: str, proposal_id: str, kind: str, start: datetime,
    end: datetime, *, target: float | None = None, window: Any = None, budgeting: Any = None, tiers: Any = None,
    document: str | Mapping[str, Any] | None = None, progress: Callable[[int, int], None] | None = None,
) -> Attached:
    """Run the what-if and attach it (`envelope`: the caller, its guards; its command is
    ignored). Who may is checked before the run, which reads the log."""
    request = {"objective_id": objective_id, "proposal_id": proposal_id, "kind": kind,
               "from": start.isoformat(), "to": end.isoformat(), "target": target, "window": window,
               "budgeting": budgeting, "tiers": tiers, "document": document}
    asked = replace(envelope, request=request,
                    command=objectives.AttachWhatIfEvidence(objective_id, proposal_id, kind, {}, {}, 0))
    authorize(asked.command, asked.roles)
    if await container.bus.recorded(asked) is not None:
        return Attached(await container.bus.execute(asked), None)  # answered from the record
    run = await evidence_run(container, objective_id, proposal_id, kind, start, end, target=target, window=window,
                             budgeting=budgeting, tiers=tiers, document=document, progress=progress)
    return Attached(await container.bus.execute(replace(asked, command=objectives.AttachWhatIfEvidence(
        objective_id, proposal_id, run.kind, run.inputs, run.summary, run.position))), run)
