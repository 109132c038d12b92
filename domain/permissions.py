"""Who may issue which command, and under which role the event records it.

The table follows the seed: choosing and prioritizing journeys is a business
decision (product, leadership); mapping components and instrumentation is SRE and
engineering work; SRE drafts objectives and measures baselines; all four parties
negotiate; a party endorses or objects only in its own name. auditor and ci change
nothing here (ci's deploy evaluations are not journey or objective commands).
admin may do everything except speak for a party in a negotiation.
"""

from __future__ import annotations

from typing import Any

from domain import journey, objective
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
    # objectives
    objective.DraftObjective: ("sre", "admin"),
    objective.RecordBaseline: ("sre", "admin"),
    objective.ProposeTarget: _ALL_PARTIES,
    objective.ReviseProposal: _ALL_PARTIES,
    objective.WithdrawProposal: _ALL_PARTIES,
    objective.DeferNegotiation: _ALL_PARTIES,
    objective.EndorseProposal: AS_PARTY,
    objective.ObjectToProposal: AS_PARTY,
    objective.FormalizeAgreement: ("sre", "product", "leadership", "admin"),
    objective.RetireObjective: ("product", "sre", "leadership", "admin"),
    # error budgets: SLI data comes from monitoring under an sre token; adjusting a
    # budget (excluding or restoring an interval) is an sre or leadership decision
    budget.RecordObservations: ("sre", "admin"),
    budget.CorrectObservation: ("sre", "admin"),
    budget.ExcludeInterval: ("sre", "leadership", "admin"),
    budget.RestoreInterval: ("sre", "leadership", "admin"),
    budget.ConfigureAlerts: ("sre", "admin"),
    budget.CheckFreshness: ("sre", "admin"),
}


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
