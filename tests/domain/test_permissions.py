"""Who may issue which command: the whole matrix, and the party rule."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from domain import collection, conventions, freeze_exception, gate, journey, objective, permissions, policy, policy_actions, sources
from domain.budget import Interval
from domain.budget import decider as budget
from domain.errors import Forbidden, InvalidInput
from domain.permissions import authorize

T = datetime(2025, 1, 1, tzinfo=timezone.utc)
SLI = objective.SLI("availability")
WINDOW = objective.Window("rolling", 28)
BUDGET = objective.Budgeting("occurrences")

# One instance of every command that is not a party's position.
SAMPLES = {
    journey.ProposeJourney: journey.ProposeJourney("j", "n", "d", ("s",), "a", "b", "c", "o", 1),
    journey.PrioritizeJourney: journey.PrioritizeJourney("j", 1, 1, "r"),
    journey.DocumentJourneyScope: journey.DocumentJourneyScope("j", ("a",), (), "a", "b", "c", ("p",)),
    journey.MapDependency: journey.MapDependency("j", "s", "service", True),
    journey.RemoveDependency: journey.RemoveDependency("j", "s", "r"),
    journey.RecordInstrumentationGap: journey.RecordInstrumentationGap("j", "g", "d"),
    journey.CloseInstrumentationGap: journey.CloseInstrumentationGap("j", "g", "r"),
    journey.RetireJourney: journey.RetireJourney("j", "r"),
    journey.LabelJourney: journey.LabelJourney("j", ()),
    objective.LabelObjective: objective.LabelObjective("o"),
    objective.DraftObjective: objective.DraftObjective("o", "j", "n", SLI, WINDOW, BUDGET),
    objective.RecordBaseline: objective.RecordBaseline("o", T, T, 1, 1),
    objective.ProposeTarget: objective.ProposeTarget("o", "p", 0.99, "r"),
    objective.ReviseProposal: objective.ReviseProposal("o", "p", 0.99, "r"),
    objective.WithdrawProposal: objective.WithdrawProposal("o", "p", "r"),
    objective.DeferNegotiation: objective.DeferNegotiation("o", "p", "r"),
    objective.AttachWhatIfEvidence: objective.AttachWhatIfEvidence("o", "p", "target", {}, {}, 1),
    objective.FormalizeAgreement: objective.FormalizeAgreement("o", "pol", 1, "a", "b", ("x",), "c"),
    objective.RetireObjective: objective.RetireObjective("o", "r"),
    objective.RecordReview: objective.RecordReview("o", "2025-Q1", "maintain", "f", ("a",)),
    objective.DefineSli: objective.DefineSli("o", {"kind": "ratio", "source": "prom", "good": "a", "total": "b"}),
    objective.SetNotificationTargets: objective.SetNotificationTargets("o"),
    sources.DefineDataSource: sources.DefineDataSource("prom", "prometheus", "http://localhost:9090"),
    sources.ChangeDataSource: sources.ChangeDataSource("prom", "prometheus", "http://localhost:9091"),
    sources.RetireDataSource: sources.RetireDataSource("prom", "r"),
    budget.RecordObservations: budget.RecordObservations("o", (Interval(T, T.replace(minute=1), 1, 1),)),
    budget.CorrectObservation: budget.CorrectObservation("o", Interval(T, T.replace(minute=1), 1, 1), "r"),
    budget.ExcludeInterval: budget.ExcludeInterval("o", "x", T, T.replace(minute=1), "r"),
    budget.RestoreInterval: budget.RestoreInterval("o", "x", "r"),
    budget.ExcludeRecurring: budget.ExcludeRecurring("o", "w", "FREQ=WEEKLY", "2026-01-05T02:00", "UTC", "2h", "r"),
    budget.EndRecurringExclusion: budget.EndRecurringExclusion("o", "w", T, "r"),
    budget.ConfigureAlerts: budget.ConfigureAlerts("o", None, 30),
    budget.CheckFreshness: budget.CheckFreshness("o"),
    collection.RecordCollectionGap: collection.RecordCollectionGap("o", T, T, "down"),
    collection.RecordSourceState: collection.RecordSourceState("o", T),
    policy.AdoptPolicy: policy.AdoptPolicy("pol", None),
    policy_actions.AcknowledgeEscalation: policy_actions.AcknowledgeEscalation("o", "escalation-1"),
    policy_actions.CompletePostmortem: policy_actions.CompletePostmortem("o", "postmortem-1", "s"),
    freeze_exception.GrantFreezeException: freeze_exception.GrantFreezeException("x", "svc", T, "r"),
    freeze_exception.RevokeFreezeException: freeze_exception.RevokeFreezeException("x", "r"),
    gate.RecordDeployDecision: gate.RecordDeployDecision("run", {}),
    gate.ApproveDeploy: gate.ApproveDeploy("run", "r"),
    conventions.SetNamingConvention: conventions.SetNamingConvention(),
}

# The expected matrix, written out independently of permissions.PERMISSIONS.
P, S, E, L, AUD, CI, ADM = "product", "sre", "engineering", "leadership", "auditor", "ci", "admin"
EXPECTED = {
    journey.ProposeJourney: {P, L, S, ADM},
    journey.PrioritizeJourney: {P, L, ADM},
    journey.DocumentJourneyScope: {P, S, E, ADM},
    journey.MapDependency: {S, E, ADM},
    journey.RemoveDependency: {S, E, ADM},
    journey.RecordInstrumentationGap: {S, E, ADM},
    journey.CloseInstrumentationGap: {S, E, ADM},
    journey.RetireJourney: {P, L, ADM},
    journey.LabelJourney: {P, L, S, E, ADM},
    objective.LabelObjective: {S, P, ADM},
    objective.DraftObjective: {S, ADM},
    objective.RecordBaseline: {S, ADM},
    objective.ProposeTarget: {P, S, E, L, ADM},
    objective.ReviseProposal: {P, S, E, L, ADM},
    objective.WithdrawProposal: {P, S, E, L, ADM},
    objective.DeferNegotiation: {P, S, E, L, ADM},
    objective.AttachWhatIfEvidence: {P, S, E, L, ADM},
    objective.FormalizeAgreement: {S, P, L, ADM},
    objective.RetireObjective: {P, S, L, ADM},
    objective.RecordReview: {P, S, L, ADM},
    objective.DefineSli: {S, E, ADM},  # on an agreed objective a proposal all parties then endorse
    objective.SetNotificationTargets: {S, ADM},
    sources.DefineDataSource: {S, E, ADM},
    sources.ChangeDataSource: {S, E, ADM},
    sources.RetireDataSource: {S, E, ADM},
    budget.RecordObservations: {S, ADM},
    budget.CorrectObservation: {S, ADM},
    budget.ExcludeInterval: {S, L, ADM},
    budget.RestoreInterval: {S, L, ADM},
    budget.ExcludeRecurring: {S, L, ADM},  # like a one-off exclusion
    budget.EndRecurringExclusion: {S, L, ADM},
    budget.ConfigureAlerts: {S, ADM},
    budget.CheckFreshness: {S, ADM},
    collection.RecordCollectionGap: {S, ADM},
    collection.RecordSourceState: {S, ADM},
    policy.AdoptPolicy: {S, L, ADM},
    policy_actions.AcknowledgeEscalation: {P, S, E, L, ADM},  # the decider checks the escalation's role
    policy_actions.CompletePostmortem: {S, E, ADM},
    freeze_exception.GrantFreezeException: {L},  # leadership alone, not even admin
    freeze_exception.RevokeFreezeException: {L},
    gate.RecordDeployDecision: {CI, S, ADM},
    # the decider narrows this to the roles the applying rules name (never ci or auditor)
    gate.ApproveDeploy: {S, L, E, P, ADM},
    conventions.SetNamingConvention: {ADM},  # organisation-wide: an admin's setting
}

MATRIX = [(cls, role) for cls in EXPECTED for role in permissions.ROLES]


def test_every_command_has_a_rule():
    every = set(journey.COMMANDS) | set(objective.COMMANDS) | set(budget.COMMANDS) | set(policy.COMMANDS) \
        | set(policy_actions.COMMANDS) | set(freeze_exception.COMMANDS) | set(gate.COMMANDS) | set(conventions.COMMANDS) \
        | set(collection.COMMANDS) | set(sources.COMMANDS)
    assert set(permissions.PERMISSIONS) == every
    assert set(SAMPLES) | {objective.EndorseProposal, objective.ObjectToProposal} == every


@pytest.mark.parametrize("cls, role", MATRIX, ids=[f"{c.__name__}-{r}" for c, r in MATRIX])
def test_matrix(cls, role):
    command = SAMPLES[cls]
    if role in EXPECTED[cls]:
        assert authorize(command, frozenset({role})) == role
    else:
        with pytest.raises(Forbidden) as caught:
            authorize(command, frozenset({role}))
        # The message names the roles that would do.
        for needed in EXPECTED[cls]:
            assert needed in caught.value.message
        assert set(caught.value.details["needed_roles"]) == EXPECTED[cls]


@pytest.mark.parametrize("role", ["auditor", "ci"])
def test_auditor_and_ci_can_change_nothing(role):
    # ci's one write: recording the deploy evaluations it asks for.
    if role == "ci":
        assert authorize(SAMPLES[gate.RecordDeployDecision], frozenset({role})) == "ci"
    else:
        with pytest.raises(Forbidden):
            authorize(SAMPLES[gate.RecordDeployDecision], frozenset({role}))
    for cls, command in SAMPLES.items():
        if cls is gate.RecordDeployDecision:
            continue
        with pytest.raises(Forbidden):
            authorize(command, frozenset({role}))
    for party in permissions.PARTIES:
        with pytest.raises(Forbidden):
            authorize(objective.EndorseProposal("o", "p", party), frozenset({role}))
    with pytest.raises(Forbidden):
        authorize(objective.ObjectToProposal("o", "p", "sre", "other", "r"), frozenset({"auditor", "ci"}))


def test_no_roles_is_forbidden_and_says_so():
    with pytest.raises(Forbidden) as caught:
        authorize(SAMPLES[journey.ProposeJourney], frozenset())
    assert "no roles" in caught.value.message


def test_the_most_specific_role_is_recorded_when_several_are_held():
    assert authorize(SAMPLES[journey.ProposeJourney], frozenset({"admin", "sre"})) == "sre"
    assert authorize(SAMPLES[journey.ProposeJourney], frozenset({"sre", "product"})) == "product"
    assert authorize(SAMPLES[objective.DraftObjective], frozenset({"admin", "auditor"})) == "admin"


@pytest.mark.parametrize("party", ["product", "sre", "engineering", "leadership"])
def test_a_party_endorses_and_objects_as_itself(party):
    assert authorize(objective.EndorseProposal("o", "p", party), frozenset({party})) == party
    assert authorize(objective.ObjectToProposal("o", "p", party, "other", "r"), frozenset({party})) == party
    # Holding several roles, the role recorded is the party spoken for.
    assert authorize(objective.EndorseProposal("o", "p", party), frozenset(permissions.ROLES)) == party


def test_sre_cannot_endorse_as_product():
    with pytest.raises(Forbidden) as caught:
        authorize(objective.EndorseProposal("o", "p", "product"), frozenset({"sre"}))
    assert "product" in caught.value.message
    assert caught.value.details["needed_roles"] == ["product"]
    with pytest.raises(Forbidden):
        authorize(objective.ObjectToProposal("o", "p", "product", "too_loose", "r"), frozenset({"sre"}))


@pytest.mark.parametrize("party", ["product", "sre", "engineering", "leadership"])
def test_admin_cannot_endorse_or_object_on_a_partys_behalf(party):
    with pytest.raises(Forbidden):
        authorize(objective.EndorseProposal("o", "p", party), frozenset({"admin"}))
    with pytest.raises(Forbidden):
        authorize(objective.ObjectToProposal("o", "p", party, "other", "r"), frozenset({"admin"}))


def test_an_unknown_party_is_invalid_input():
    with pytest.raises(InvalidInput) as caught:
        authorize(objective.EndorseProposal("o", "p", "admin"), frozenset({"admin"}))
    assert caught.value.details["field"] == "party"


def test_unknown_commands_are_denied():
    with pytest.raises(Forbidden):
        authorize(object(), frozenset({"admin"}))


def test_allowed_roles():
    assert permissions.allowed_roles(objective.DraftObjective) == ("sre", "admin")
    assert permissions.allowed_roles(objective.EndorseProposal) == permissions.PARTIES
    assert permissions.allowed_roles(object) == ()
