"""What-if runs as a proposal's evidence in the API.

Mutation: attachWhatIfEvidence -- runs a target what-if (the proposal's target unless another
is given) or a policy what-if (a candidate document, for this objective) over [from, to) and
records its inputs, summary and log position on the objective's stream
(`WhatIfEvidenceAttached`), so the evidence the parties saw is in the audit trail; the
proposal then shows it (`Proposal.evidence`) when a party endorses or objects. A tighten or
relax review's proposal takes evidence the same way. The parties (and admin) may attach.
A retry with the same idempotencyKey is answered from the record, however far the log has
moved since (service/whatif_evidence.py).
"""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from api.schema import inputs as i
from api.schema.budgets import tier_dicts
from api.schema.objectives import ObjectivePayload, payload_of
from api.schema.shared import envelope_for, measured
from service.whatif_evidence import attach_evidence


@i.command_input
class AttachWhatIfEvidenceInput:
    objective_id: strawberry.ID
    proposal_id: strawberry.ID
    kind: str = strawberry.field(description="target or policy.")
    start: datetime = strawberry.field(name="from")
    end: datetime = strawberry.field(name="to")
    target: float | None = strawberry.field(default=None, description="target: the candidate; default the proposal's.")
    window: i.WindowInput | None = None
    budgeting: i.BudgetingInput | None = strawberry.field(
        default=None, description="target: the candidate budgeting method (as whatIfTarget and the CLI's --budgeting).")
    tiers: list[i.AlertTierInput] | None = None
    document: str | None = strawberry.field(default=None, description="policy: the candidate document (YAML or JSON).")


@strawberry.type
class WhatIfEvidenceMutation:
    @strawberry.mutation(description=(
        "Run a target or policy what-if over [from, to) and attach its inputs and summary to an open proposal "
        "as evidence (an event on the objective's stream). The parties and admin."))
    async def attach_what_if_evidence(self, info: Info, input: AttachWhatIfEvidenceInput) -> ObjectivePayload:
        async def attach():  # who may is checked before the run, which reads the log
            return await attach_evidence(
                info.context["container"], envelope_for(info, input, None), str(input.objective_id),
                str(input.proposal_id), input.kind, input.start, input.end, target=input.target,
                window=None if input.window is None else input.window.as_dict(),
                budgeting=None if input.budgeting is None else input.budgeting.as_dict(),
                tiers=tier_dicts(input.tiers), document=input.document)

        return await payload_of(info, (await measured("AttachWhatIfEvidence", attach)).result)
