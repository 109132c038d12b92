"""What-if runs as a proposal's evidence: what the parties saw when they endorsed or objected.

`AttachWhatIfEvidence(objective_id, proposal_id, kind, inputs, summary, position)` records
`WhatIfEvidenceAttached` on the objective's stream: a what-if run's kind (a candidate
"target" or "policy"), its inputs (the period, the candidate: target, window, tiers, or the
policy's document), the summary it answered and the log position it read the history up to.
The run itself is the caller's (the service runs it just before; a what-if appends nothing
on its own): the event keeps what was shown, with who attached it and when. The proposal
must be open -- a target proposal, or the one a tighten / relax review opened -- and the
evidence names the revision it was shown for.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from domain.commands import actor_of, iso, require_choice, require_id, require_int
from domain.errors import Conflict, InvalidInput, NotFound
from domain.events import Context, NewEvent, RecordedEvent
from domain.objective.state import Evidence, ObjectiveCommand, ObjectiveState, ProposalStatus, with_step
from domain.records import replace

EVIDENCE_KINDS: tuple[str, ...] = ("target", "policy")
MAX_EVIDENCE_BYTES = 64_000  # a summary and its inputs, not a whole run


@dataclass(frozen=True)
class AttachWhatIfEvidence(ObjectiveCommand):
    objective_id: str
    proposal_id: str
    kind: str  # target | policy
    inputs: Mapping[str, Any]
    summary: Mapping[str, Any]
    position: int  # the log position the run read up to


def _json(value: Any, field: str) -> Any:
    """A mapping as JSON keeps it (refused when it is not JSON-safe or too large)."""
    if not isinstance(value, Mapping):
        raise InvalidInput(f"{field} must be a mapping", field=field)
    try:
        text = json.dumps(value, sort_keys=True, allow_nan=False, separators=(",", ":"), ensure_ascii=False)
    except (TypeError, ValueError) as error:
        raise InvalidInput(f"{field} must be JSON-safe: {error}", field=field) from None
    if len(text.encode()) > MAX_EVIDENCE_BYTES:
        raise InvalidInput(f"{field} is larger than {MAX_EVIDENCE_BYTES} bytes", field=field)
    return json.loads(text)


def _attach(cmd: AttachWhatIfEvidence, state: ObjectiveState, ctx: Context) -> list[NewEvent]:
    proposal_id = require_id(cmd.proposal_id, "proposal_id")
    proposal = state.proposal(proposal_id)
    if proposal is None:
        raise NotFound(f"objective {state.id} has no proposal {proposal_id}", proposal_id=proposal_id)
    if proposal.status is not ProposalStatus.OPEN:
        raise Conflict(f"proposal {proposal_id} is {proposal.status.value.lower()}: evidence is attached "
                       "while it is negotiated", proposal_id=proposal_id)
    kind = require_choice(cmd.kind, "kind", EVIDENCE_KINDS)
    inputs, summary = _json(cmd.inputs, "inputs"), _json(cmd.summary, "summary")
    position = require_int(cmd.position, "position", minimum=0)
    n = sum(1 for e in state.evidence if e.proposal_id == proposal_id) + 1
    return [NewEvent("WhatIfEvidenceAttached", {
        "objective_id": state.id, "proposal_id": proposal_id, "evidence_id": f"evidence-{n}",
        "revision": proposal.revision, "kind": kind, "inputs": inputs, "summary": summary,
        "position": position, "at": iso(ctx.now),
    })]


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _attached(state: ObjectiveState, event: RecordedEvent) -> ObjectiveState:
    d = event.data
    evidence = Evidence(
        proposal_id=d["proposal_id"], evidence_id=d["evidence_id"], revision=d["revision"], kind=d["kind"],
        inputs=_canonical(d["inputs"]), summary=_canonical(d["summary"]), position=d["position"],
        attached_by=actor_of(event), attached_at=event.recorded_at,
    )
    detail = f"{d['kind']} what-if attached as evidence ({d['evidence_id']}, log position {d['position']})"
    return replace(state, evidence=state.evidence + (evidence,),
                   history=with_step(state, event, d["proposal_id"], detail))


DECIDERS: dict[type, Callable[[Any, Any, Context], list[NewEvent]]] = {AttachWhatIfEvidence: _attach}
EVOLVERS: dict[str, Callable[[ObjectiveState, RecordedEvent], ObjectiveState]] = {"WhatIfEvidenceAttached": _attached}
