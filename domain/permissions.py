"""Who may issue which command, and under which role the event records it.

The table follows the seed: choosing and prioritizing journeys is a business
decision (product, leadership); mapping components and instrumentation is SRE and
engineering work; SRE drafts objectives and measures baselines; all four parties
negotiate; a party endorses or objects only in its own name. auditor and ci change
nothing to journeys or objectives; ci records deploy evaluations. admin may do
everything except speak for a party in a negotiation and grant a freeze exception
(leadership's decision alone).
"""

from __future__ import annotations

from typing import Any

from domain import collection, conventions, freeze_exception, gate, journey, objective, policy, policy_actions, sources
from domain.budget import decider as budget
from domain.commands import PARTIES
from domain.errors import Forbidden, InvalidInput

ROLES: tuple[str, ...] = ("product", "sre", "engineering", "leadership", "auditor", "ci", "admin")

# Endorsing and objecting: the actor must hold the role named by `command.party`.
AS_PARTY = "as_party"

_ALL_PARTIES = (*PARTIES, "admin")

# Command -> the roles allowed, in the order one is picked when the actor holds
# several (the most specific first, admin last), or AS_PARTY.
PERMISSIONS: dict[type, tuple[str, ...] | str] = {
    # journeys
    journey.ProposeJourney: ("product", "leadership", "sre", "admin"),
    journey.PrioritizeJourney: ("product", "leadership", "admin"),
    journey.DocumentJourneyScope: ("product", "sre", "engineering", "admin"),
    journey.MapDependency: ("sre", "engineering", "admin"),
    journey.RemoveDependency: ("sre", "engineering", "admin"),
    journey.RecordInstrumentationGap: ("sre", "engineering", "admin"),
    journey.CloseInstrumentationGap: ("sre", "engineering", "admin"),
    journey.RetireJourney: ("product", "leadership", "admin"),
    # labels are bookkeeping: whoever may propose or map a journey, or draft an objective
    journey.LabelJourney: ("product", "leadership", "sre", "engineering", "admin"),
    # objectives
    objective.DraftObjective: ("sre", "admin"),
    objective.RecordBaseline: ("sre", "admin"),
    objective.LabelObjective: ("sre", "product", "admin"),
    objective.ProposeTarget: _ALL_PARTIES,
    objective.ReviseProposal: _ALL_PARTIES,
    objective.WithdrawProposal: _ALL_PARTIES,
    objective.DeferNegotiation: _ALL_PARTIES,
    objective.AttachWhatIfEvidence: _ALL_PARTIES,  # what a party shows the others
    objective.EndorseProposal: AS_PARTY,
    objective.ObjectToProposal: AS_PARTY,
    objective.FormalizeAgreement: ("sre", "product", "leadership", "admin"),
    objective.RetireObjective: ("product", "sre", "leadership", "admin"),
    # the quarterly review (phase 7): product and SRE own the SLO, leadership sponsors it
    objective.RecordReview: ("product", "sre", "leadership", "admin"),
    # the SLI as queries (phase 3: what to measure and with what query) is SRE and
    # engineering work, like instrumentation; on an agreed objective a change is a
    # proposal, and all four parties then endorse or object as for a target
    objective.DefineSli: ("sre", "engineering", "admin"),
    objective.SetNotificationTargets: ("sre", "admin"),  # who is paged is the on-call's business, like the tiers
    # data sources: where the monitoring lives, SRE and engineering's
    sources.DefineDataSource: ("sre", "engineering", "admin"),
    sources.ChangeDataSource: ("sre", "engineering", "admin"),
    sources.RetireDataSource: ("sre", "engineering", "admin"),
    # error budgets: SLI data comes from monitoring under an sre token; adjusting a
    # budget (excluding or restoring an interval) is an sre or leadership decision
    budget.RecordObservations: ("sre", "admin"),
    budget.CorrectObservation: ("sre", "admin"),
    budget.ExcludeInterval: ("sre", "leadership", "admin"),
    budget.RestoreInterval: ("sre", "leadership", "admin"),
    budget.ExcludeRecurring: ("sre", "leadership", "admin"),
    budget.EndRecurringExclusion: ("sre", "leadership", "admin"),
    budget.ConfigureAlerts: ("sre", "admin"),
    budget.CheckFreshness: ("sre", "admin"),
    # the collector's record of what it could not collect (it runs under sre)
    collection.RecordCollectionGap: ("sre", "admin"),
    collection.RecordSourceState: ("sre", "admin"),
    # error-budget policies: adopted or revised by SRE or leadership
    policy.AdoptPolicy: ("sre", "leadership", "admin"),
    # policy actions: an escalation is acknowledged by the role it names (the decider
    # checks which); postmortems are written by the engineers and SREs who ran the incident
    policy_actions.AcknowledgeEscalation: ("leadership", "sre", "engineering", "product", "admin"),
    policy_actions.CompletePostmortem: ("sre", "engineering", "admin"),
    # a freeze exception is a business decision: leadership only
    freeze_exception.GrantFreezeException: ("leadership",),
    freeze_exception.RevokeFreezeException: ("leadership",),
    # the deploy gate: pipelines ask under a ci token; SRE and admin may too
    gate.RecordDeployDecision: ("ci", "sre", "admin"),
    # approving a REQUIRE_APPROVAL answer: the decider narrows this to the roles the
    # applying rules name (a policy may name any of these)
    gate.ApproveDeploy: ("sre", "leadership", "engineering", "product", "admin"),
    # the naming convention holds for the whole organisation: an admin sets it
    conventions.SetNamingConvention: ("admin",),
}


# Reads that are not commands but cost a pass over the whole log: who may ask.
WHATIF_POLICY_ROLES: tuple[str, ...] = (*PARTIES, "admin")  # "what would this policy have blocked?"


def allowed_roles(command_type: type) -> tuple[str, ...]:
    """The roles that may issue commands of this type (for a party command: the four parties)."""
    rule = PERMISSIONS.get(command_type, ())
    return PARTIES if rule == AS_PARTY else tuple(rule)


def authorize(command: Any, roles: frozenset[str]) -> str:
    """The role the actor acts under for `command`, or `Forbidden` naming the roles needed."""
    name = type(command).__name__
    rule = PERMISSIONS.get(type(command))
    if rule is None:
        # Deny by default: a command nobody listed is a command nobody may issue.
        raise Forbidden(f"{name} is not a command anyone may issue", command=name)
    if rule == AS_PARTY:
        return _authorize_party(command, roles)
    for role in rule:
        if role in roles:
            return role
    raise Forbidden(
        f"{name} needs one of the roles {', '.join(rule)}; you hold {_held(roles)}",
        command=name,
        needed_roles=list(rule),
    )


def _authorize_party(command: Any, roles: frozenset[str]) -> str:
    name = type(command).__name__
    party = command.party
    if party not in PARTIES:
        raise InvalidInput(f"party must be one of {', '.join(PARTIES)} (got {party!r})", field="party")
    if party not in roles:
        # Not even admin: an endorsement is a party's own commitment.
        raise Forbidden(
            f"{name} as {party} needs the {party} role: a party speaks only for itself; "
            f"you hold {_held(roles)}",
            command=name,
            needed_roles=[party],
        )
    return party


def _held(roles: frozenset[str]) -> str:
    return ", ".join(sorted(roles)) or "no roles"
