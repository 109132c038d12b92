"""Agreement (the seed's phase 5): the agreed target, then the agreement formalized with an
error-budget policy, owners, an escalation path and a resource commitment. Until then the
objective is informational, and says so."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

from domain import policy as policies
from domain import runbooks as runbook_links
from domain.budget import burn
from domain.budget.errors import BudgetInputError
from domain.records import replace
from domain.commands import (
    NAME_MAX_LENGTH,
    actor_of,
    percent,
    related_state,
    require_id,
    require_int,
    require_text,
    require_texts,
)
from domain.errors import Conflict, InvalidInput, NotFound, PolicyViolation
from domain.events import Context, NewEvent, RecordedEvent
from domain.objective.state import (
    Agreement,
    AlertTierTerms,
    ObjectiveCommand,
    ObjectiveState,
    ObjectiveStatus,
    Proposal,
    ProposalStatus,
    SliQuery,
    Window,
    settled_status,
    with_step,
)


# Version 2 records the runbooks (domain/upcasters.py gives older events none).
AGREEMENT_SCHEMA_VERSION = 2


# --- command ------------------------------------------------------------------


@dataclass(frozen=True)
class FormalizeAgreement(ObjectiveCommand):
    objective_id: str
    policy_id: str
    policy_version: int
    product_owner: str
    sre_owner: str
    escalation_path: tuple[str, ...]  # e.g. ("sre-oncall", "eng-manager", "vp-eng")
    resource_commitment: str
    # One runbook URL per alert tier, by tier key (`page_1h_5m`, see domain.runbooks);
    # None or empty: none yet (the generated alerts wait for them).
    runbooks: Mapping[str, str] | None = None

    def reads(self, state: ObjectiveState | None = None) -> tuple[str, ...]:
        # Only a policy version that exists may be pinned (domain/policy.py says which do).
        return (policies.stream_id(self.policy_id),) if isinstance(self.policy_id, str) else ()


# --- decide -------------------------------------------------------------------


def _policy_tiers(policy_state: Any, policy_id: str, version: int, window: Window) -> list[dict[str, Any]] | None:
    """The alert tiers the pinned version states, refused when a long window outgrows the
    objective's window. None: the workbook's tiers (`burn.DEFAULT_TIERS`) -- what the bundled
    version 0 states (policies/default.yaml; a test holds the two equal), and what a
    version that says nothing gets; those are checked as well when the bundled text is pinned."""
    pv = policy_state.at_version(version) if policy_state is not None else None
    said = pv.doc().get("alert_tiers") if pv is not None else None
    bundled = pv is None and policy_id == policies.BUILTIN_POLICY_ID and version == policies.BUILTIN_VERSION
    if said is None and not bundled:
        return None
    try:
        tiers = burn.parse_tiers(said)  # None: the workbook's
        burn.check_tiers_fit(tiers, window.budget_window(), field="alert_tiers")
    except BudgetInputError as error:
        raise InvalidInput(f"policy {policy_id} v{version}: {error}", field=error.field) from None
    return None if said is None else [t.to_dict() for t in tiers]


def _formalize(cmd: FormalizeAgreement, state: ObjectiveState, ctx: Context) -> list[NewEvent]:
    policy_id = require_id(cmd.policy_id, "policy_id")
    policy_version = require_int(cmd.policy_version, "policy_version", minimum=0)
    policy_state = related_state(ctx, policies.stream_id(policy_id))
    if not policies.version_exists(policy_state, policy_id, policy_version):
        raise NotFound(
            f"policy {policy_id} has no version {policy_version}: adopt it first, or pin a version that exists"
            + (f" ({policies.BUILTIN_POLICY_ID} version {policies.BUILTIN_VERSION} is the bundled text)"
               if policy_id == policies.BUILTIN_POLICY_ID else ""),
            field="policy_version", policy_id=policy_id, policy_version=policy_version,
        )
    tiers = _policy_tiers(policy_state, policy_id, policy_version, state.window)
    data = {
        "objective_id": state.id,
        "policy_id": policy_id,
        "policy_version": policy_version,
        "product_owner": require_text(cmd.product_owner, "product_owner", max_length=NAME_MAX_LENGTH),
        "sre_owner": require_text(cmd.sre_owner, "sre_owner", max_length=NAME_MAX_LENGTH),
        "escalation_path": list(require_texts(cmd.escalation_path, "escalation_path", min_items=1)),
        "resource_commitment": require_text(cmd.resource_commitment, "resource_commitment"),
        "target": state.agreed_target,  # what was formalized, for the reader of the log
        "alert_tiers": tiers,
        "runbooks": runbook_links.parse_runbooks(cmd.runbooks, burn.parse_tiers(tiers)),
    }
    if state.status not in (ObjectiveStatus.AGREED, ObjectiveStatus.ACTIVE):
        raise PolicyViolation(
            f"objective {state.id} has no agreed target yet: every required party must "
            "agree before the agreement is formalized",
            objective_status=state.status.value,
        )
    current = state.agreement
    if current is not None and current.policy_id == policy_id and policy_version < current.policy_version:
        raise Conflict(
            f"objective {state.id} is already under {policy_id} v{current.policy_version}; "
            f"policy versions only move forward",
            policy_version=current.policy_version,
        )
    return [NewEvent("AgreementFormalized", data, AGREEMENT_SCHEMA_VERSION)]


# --- evolve -------------------------------------------------------------------


def _target_agreed(state: ObjectiveState, event: RecordedEvent) -> ObjectiveState:
    d = event.data
    agreed_id = d["proposal_id"]

    def settle(p: Proposal) -> Proposal:
        if p.proposal_id == agreed_id:
            return replace(p, status=ProposalStatus.AGREED, closed_at=event.recorded_at)
        if p.status is ProposalStatus.AGREED:
            return replace(p, status=ProposalStatus.SUPERSEDED)
        return p

    detail = (
        f"agreed {percent(d['target'])} at revision {d['revision']} "
        f"by {', '.join(d['parties'])}"
    )
    changes = {}
    if d.get("sli_definition") is not None:  # an agreed SLI change takes effect with it
        changes["sli_definition"] = SliQuery.from_data(d["sli_definition"])
    agreed = replace(
        state,
        **changes,
        agreed_target=d["target"],
        agreed_proposal_id=agreed_id,
        agreed_at=event.recorded_at,
        proposals=tuple(settle(p) for p in state.proposals),
        history=with_step(state, event, agreed_id, detail),
    )
    return replace(agreed, status=settled_status(agreed))


def _agreement_formalized(state: ObjectiveState, event: RecordedEvent) -> ObjectiveState:
    d = event.data
    agreement = Agreement(
        policy_id=d["policy_id"],
        policy_version=d["policy_version"],
        product_owner=d["product_owner"],
        sre_owner=d["sre_owner"],
        escalation_path=tuple(d["escalation_path"]),
        resource_commitment=d["resource_commitment"],
        formalized_by=actor_of(event),
        formalized_at=event.recorded_at,
        alert_tiers=None if d.get("alert_tiers") is None else tuple(AlertTierTerms(**t) for t in d["alert_tiers"]),
        runbooks=dict(d["runbooks"]),
    )
    detail = (
        f"formalized under policy {agreement.policy_id} v{agreement.policy_version}; "
        f"owners {agreement.product_owner} (product) and {agreement.sre_owner} (sre); "
        f"escalation {' -> '.join(agreement.escalation_path)}"
    )
    return replace(
        state,
        agreement=agreement,
        status=ObjectiveStatus.ACTIVE,
        history=with_step(state, event, None, detail),
    )


DECIDERS: dict[type, Callable[[Any, Any, Context], list[NewEvent]]] = {FormalizeAgreement: _formalize}

EVOLVERS: dict[str, Callable[[ObjectiveState, RecordedEvent], ObjectiveState]] = {
    "TargetAgreed": _target_agreed,
    "AgreementFormalized": _agreement_formalized,
}
