"""The objective decider outside the negotiation itself: draft, baseline, formalize, retire."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

import pytest

from domain import objective
from domain.commands import MissingRead
from domain.errors import Conflict, InvalidInput, NotFound, PolicyViolation
from domain.events import Context
from domain.journey import RetireJourney
from domain.objective import (
    SLI,
    Budgeting,
    DraftObjective,
    FormalizeAgreement,
    ObjectiveStatus,
    ProposeTarget,
    RecordBaseline,
    RetireObjective,
    Window,
)

from .support import (
    adopt_versions,
    AVAILABILITY,
    OCCURRENCES,
    ROLLING_28,
    T0,
    World,
    agree,
    drafted_objective,
    formalize,
    prioritized_journey,
    propose,
    propose_journey,
    types,
)

OID = "checkout-availability"


@pytest.fixture
def world() -> World:
    return World()


def draft(objective_id=OID, journey_id="checkout", sli=AVAILABILITY, window=ROLLING_28, budgeting=OCCURRENCES, name="Checkout availability"):
    return DraftObjective(objective_id, journey_id, name, sli, window, budgeting)


def test_stream_ids_and_reads():
    assert objective.CATEGORY == "objective"
    assert objective.stream_id("o1") == "objective-o1"
    assert draft().stream() == "objective-checkout-availability"
    assert draft().reads() == ("journey-checkout", "convention-naming")
    assert RecordBaseline(OID, T0, T0, 1, 1).reads() == ()


def test_propose_target_reads_the_journey_known_from_the_objective_state(world):
    drafted_objective(world)
    command = ProposeTarget(OID, "p1", 0.99, "r")
    assert command.stream() == "objective-checkout-availability"
    assert command.reads(world.objective(OID)) == ("journey-checkout",)
    assert command.reads() == ()


def test_propose_target_without_the_journey_state_fails_loudly(world):
    # The gap rule must never be skipped because the caller forgot to load the journey.
    drafted_objective(world)
    ctx = Context(now=world.now, actor="sam", roles=frozenset({"sre"}), related={})
    with pytest.raises(MissingRead):
        objective.decide(ProposeTarget(OID, "p1", 0.99, "r"), world.objective(OID), ctx)


# --- DraftObjective -----------------------------------------------------------


def test_draft_on_a_prioritized_journey(world):
    prioritized_journey(world, "checkout")
    events = world.run(draft(), actor="sam", roles={"sre"})
    assert types(events) == ["ObjectiveDrafted"]
    state = world.objective(OID)
    assert state.status is ObjectiveStatus.DRAFT
    assert state.journey_id == "checkout"
    assert state.sli == AVAILABILITY and state.window == ROLLING_28 and state.budgeting == OCCURRENCES
    assert state.drafted_by == "sam" and state.version == 1
    assert state.informational and state.owners == () and state.open_proposal is None
    assert state.agreed_target is None and state.baseline is None


def test_a_component_objective_names_the_service_it_measures(world):
    prioritized_journey(world, "checkout")
    events = world.run(replace(draft(), service="payments-api"))
    assert events[0].data["service"] == "payments-api"
    state = world.objective(OID)
    assert state.service == "payments-api" and state.component
    assert objective.from_dict(objective.to_dict(state)) == state


def test_an_end_to_end_objective_records_no_service(world):
    # absent rather than null, so events drafted before component objectives read the same
    prioritized_journey(world, "checkout")
    events = world.run(draft())
    assert "service" not in events[0].data and world.objective(OID).service is None
    legacy = {k: v for k, v in objective.to_dict(world.objective(OID)).items() if k != "service"}
    assert objective.from_dict(legacy).service is None


@pytest.mark.parametrize("service", ["", "   ", "x" * 201, 7])
def test_a_component_objective_needs_a_service_name(world, service):
    prioritized_journey(world, "checkout")
    with pytest.raises(InvalidInput) as info:
        world.run(replace(draft(), service=service))
    assert info.value.details.get("field") == "service"
    assert world.objective(OID) is None


@pytest.mark.parametrize(
    "sli, window, budgeting",
    [
        (SLI("latency", threshold_ms=300, description="p99 of checkout POST"), Window("calendar_month"), OCCURRENCES),
        (SLI("quality", metric="answer_faithfulness", threshold=0.85), Window("calendar_quarter"), OCCURRENCES),
        (SLI("freshness", threshold_seconds=60), Window("rolling", 7), Budgeting("timeslices", 5, 0.95)),
        (SLI("quality", metric="relevance", threshold=1), Window("rolling", 90), Budgeting("timeslices", 60, 1.0)),
        (AVAILABILITY, Window("rolling", 1), Budgeting("timeslices", 1, 0.5)),
    ],
)
def test_draft_accepts_every_sli_window_and_budgeting(world, sli, window, budgeting):
    prioritized_journey(world, "checkout")
    world.run(draft(sli=sli, window=window, budgeting=budgeting))
    state = world.objective(OID)
    assert state.sli == sli and state.window == window and state.budgeting == budgeting


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"objective_id": "bad id"}, "objective_id"),
        ({"name": ""}, "name"),
        ({"sli": SLI("errors")}, "sli.kind"),
        ({"sli": SLI("latency")}, "sli.threshold_ms"),
        ({"sli": SLI("latency", threshold_ms=0)}, "sli.threshold_ms"),
        ({"sli": SLI("latency", threshold_ms=-5)}, "sli.threshold_ms"),
        ({"sli": SLI("latency", threshold_ms=float("nan"))}, "sli.threshold_ms"),
        ({"sli": SLI("availability", threshold_ms=300)}, "sli.threshold_ms"),
        ({"sli": SLI("quality", threshold=0.9)}, "sli.metric"),
        ({"sli": SLI("quality", metric="faithfulness")}, "sli.threshold"),
        ({"sli": SLI("quality", metric="faithfulness", threshold=1.5)}, "sli.threshold"),
        ({"sli": SLI("quality", metric="faithfulness", threshold=-0.1)}, "sli.threshold"),
        ({"sli": SLI("freshness")}, "sli.threshold_seconds"),
        ({"sli": SLI("freshness", threshold_seconds=0)}, "sli.threshold_seconds"),
        ({"sli": "availability"}, "sli"),
        ({"window": Window("weekly")}, "window.kind"),
        ({"window": Window("rolling")}, "window.days"),
        ({"window": Window("rolling", 0)}, "window.days"),
        ({"window": Window("rolling", 91)}, "window.days"),
        ({"window": Window("calendar_month", 30)}, "window.days"),
        ({"budgeting": Budgeting("events")}, "budgeting.method"),
        ({"budgeting": Budgeting("timeslices")}, "budgeting.slice_minutes"),
        ({"budgeting": Budgeting("timeslices", 5)}, "budgeting.slice_threshold"),
        ({"budgeting": Budgeting("timeslices", 0, 0.9)}, "budgeting.slice_minutes"),
        ({"budgeting": Budgeting("timeslices", 61, 0.9)}, "budgeting.slice_minutes"),
        ({"budgeting": Budgeting("timeslices", 5, 0)}, "budgeting.slice_threshold"),
        ({"budgeting": Budgeting("timeslices", 5, 1.01)}, "budgeting.slice_threshold"),
        ({"budgeting": Budgeting("occurrences", slice_minutes=5)}, "budgeting.slice_minutes"),
    ],
)
def test_draft_validates(world, overrides, field):
    prioritized_journey(world, "checkout")
    with pytest.raises(InvalidInput) as caught:
        world.run(draft(**overrides))
    assert caught.value.details["field"] == field


def test_draft_needs_an_existing_live_prioritized_journey(world):
    with pytest.raises(NotFound):
        world.run(draft(journey_id="ghost"))

    propose_journey(world, "checkout")
    with pytest.raises(PolicyViolation) as caught:
        world.run(draft())
    assert "prioritized" in caught.value.message

    prioritized_journey(world, "search")
    world.run(RetireJourney("search", "gone"))
    with pytest.raises(Conflict):
        world.run(draft(objective_id="search-latency", journey_id="search"))


def test_drafting_an_existing_objective_is_a_conflict(world):
    drafted_objective(world)
    with pytest.raises(Conflict):
        world.run(draft(name="again"))


def test_every_command_on_a_missing_objective_is_not_found(world):
    prioritized_journey(world, "checkout")
    for command in [
        RecordBaseline("ghost", T0 - timedelta(days=2), T0 - timedelta(days=1), 1, 1),
        ProposeTarget("ghost", "p1", 0.99, "r"),
        objective.EndorseProposal("ghost", "p1", "sre"),
        objective.ObjectToProposal("ghost", "p1", "sre", "other", "r"),
        objective.ReviseProposal("ghost", "p1", 0.9, "r"),
        objective.WithdrawProposal("ghost", "p1", "r"),
        objective.DeferNegotiation("ghost", "p1", "r"),
        FormalizeAgreement("ghost", "pol", 1, "pat", "sam", ("oncall",), "time"),
        RetireObjective("ghost", "r"),
    ]:
        with pytest.raises(NotFound):
            world.run(command)


# --- RecordBaseline -------------------------------------------------------------


def baseline(start=T0 - timedelta(days=28), end=T0 - timedelta(days=1), good=99_950, total=100_000, notes="28 days of LB logs"):
    return RecordBaseline(OID, start, end, good, total, notes)


def test_baseline_keeps_the_latest_measurement_and_its_attainment(world):
    drafted_objective(world)
    world.run(baseline(), actor="sam", roles={"sre"})
    state = world.objective(OID)
    assert state.baseline.good == 99_950 and state.baseline.total == 100_000
    assert state.baseline.attainment == pytest.approx(0.9995)
    assert state.baseline.period_start == T0 - timedelta(days=28)
    assert state.baseline.recorded_by == "sam"
    assert state.history[-1].kind == "BaselineRecorded"
    assert "99.95%" in state.history[-1].detail

    world.run(baseline(good=9_000, total=10_000, notes=None))
    assert world.objective(OID).baseline.attainment == pytest.approx(0.9)
    assert world.objective(OID).baseline.notes is None
    assert world.objective(OID).status is ObjectiveStatus.DRAFT


def test_baseline_may_end_exactly_now_and_accepts_other_zones(world):
    drafted_objective(world)
    cet = timezone(timedelta(hours=1))
    world.run(baseline(start=datetime(2025, 2, 1, tzinfo=cet), end=world.now, good=0, total=5))
    state = world.objective(OID)
    assert state.baseline.period_start == datetime(2025, 2, 1, tzinfo=cet)
    assert state.baseline.attainment == 0.0


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"end": T0 + timedelta(days=1)}, "period_end"),  # cannot end in the future
        ({"start": T0 - timedelta(days=1), "end": T0 - timedelta(days=2)}, "period_end"),
        ({"start": T0 - timedelta(days=1), "end": T0 - timedelta(days=1)}, "period_end"),
        ({"start": datetime(2025, 1, 1)}, "period_start"),  # naive
        ({"end": datetime(2025, 2, 1)}, "period_end"),
        ({"start": date(2025, 1, 1)}, "period_start"),
        ({"good": -1}, "good"),
        ({"total": 0, "good": 0}, "total"),
        ({"good": 11, "total": 10}, "good"),
        ({"good": 1.5}, "good"),
    ],
)
def test_baseline_validates(world, overrides, field):
    drafted_objective(world)
    with pytest.raises(InvalidInput) as caught:
        world.run(baseline(**overrides))
    assert caught.value.details["field"] == field


# --- FormalizeAgreement -----------------------------------------------------------


def test_formalizing_makes_the_objective_active_and_owned(world):
    drafted_objective(world)
    propose(world)
    agree(world)
    assert world.objective(OID).status is ObjectiveStatus.AGREED
    assert world.objective(OID).informational
    events = formalize(world)
    assert events[0].data["target"] == 0.999
    state = world.objective(OID)
    assert state.status is ObjectiveStatus.ACTIVE
    assert not state.informational
    assert state.owners == ("pat", "sam")
    assert state.agreement.policy_id == "default-policy" and state.agreement.policy_version == 1
    assert state.agreement.escalation_path == ("sre-oncall", "eng-manager", "vp-eng")
    assert state.agreement.formalized_by == "sam"
    assert state.history[-1].kind == "AgreementFormalized"


def test_reformalizing_a_new_policy_version_is_allowed_but_never_backwards(world):
    drafted_objective(world)
    propose(world)
    agree(world)
    formalize(world, version=2)
    formalize(world, version=3)
    assert world.objective(OID).agreement.policy_version == 3
    with pytest.raises(Conflict):
        formalize(world, version=1)
    assert world.objective(OID).status is ObjectiveStatus.ACTIVE


def _pin(world, policy_id: str, version: int):
    return world.run(FormalizeAgreement(OID, policy_id, version, "pat", "sam", ("oncall",), "time"),
                     actor="sam", roles={"sre"})


def test_an_agreement_pins_only_a_policy_version_that_exists(world):
    drafted_objective(world)
    propose(world)
    agree(world)
    # A fresh installation has "default" at version 0 (the bundled text) and nothing else.
    for policy_id, version in (("default", 1), ("careful", 0), ("careful", 1)):
        with pytest.raises(NotFound) as caught:
            _pin(world, policy_id, version)
        assert caught.value.details["field"] == "policy_version"
    assert world.objective(OID).agreement is None  # nothing recorded
    _pin(world, "default", 0)
    assert world.objective(OID).agreement.policy_version == 0
    adopt_versions(world, "default", 1)  # version 1 adopted: now it exists, and 2 does not
    with pytest.raises(NotFound):
        _pin(world, "default", 2)
    _pin(world, "default", 1)
    assert (world.objective(OID).agreement.policy_id, world.objective(OID).agreement.policy_version) == ("default", 1)


def test_formalizing_before_agreement_is_refused(world):
    drafted_objective(world)
    with pytest.raises(PolicyViolation):
        formalize(world)  # DRAFT
    propose(world)
    with pytest.raises(PolicyViolation):
        formalize(world)  # NEGOTIATING


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"policy_id": ""}, "policy_id"),
        ({"policy_version": -1}, "policy_version"),
        ({"product_owner": " "}, "product_owner"),
        ({"sre_owner": ""}, "sre_owner"),
        ({"escalation_path": ()}, "escalation_path"),
        ({"escalation_path": "sre-oncall"}, "escalation_path"),
        ({"resource_commitment": ""}, "resource_commitment"),
    ],
)
def test_formalize_validates(world, overrides, field):
    drafted_objective(world)
    propose(world)
    agree(world)
    fields = dict(
        objective_id=OID,
        policy_id="default",
        policy_version=0,  # the bundled text: exists everywhere
        product_owner="pat",
        sre_owner="sam",
        escalation_path=("sre-oncall",),
        resource_commitment="one engineer",
    )
    fields.update(overrides)
    with pytest.raises(InvalidInput) as caught:
        world.run(FormalizeAgreement(**fields))
    assert caught.value.details["field"] == field


# --- RetireObjective ----------------------------------------------------------------


def test_retired_objective_refuses_every_command(world):
    drafted_objective(world)
    propose(world)
    agree(world)
    formalize(world)
    world.run(RetireObjective(OID, "journey redefined"), roles={"product"})
    state = world.objective(OID)
    assert state.status is ObjectiveStatus.RETIRED and state.retirement_reason == "journey redefined"
    for command in [
        draft(),
        baseline(),
        ProposeTarget(OID, "p2", 0.99, "r"),
        objective.EndorseProposal(OID, "p1", "sre"),
        objective.ObjectToProposal(OID, "p1", "sre", "other", "r"),
        objective.ReviseProposal(OID, "p1", 0.9, "r"),
        objective.WithdrawProposal(OID, "p1", "r"),
        objective.DeferNegotiation(OID, "p1", "r"),
        FormalizeAgreement(OID, "pol", 2, "pat", "sam", ("oncall",), "time"),
        RetireObjective(OID, "again"),
    ]:
        with pytest.raises(Conflict):
            world.run(command)


def test_retiring_closes_an_open_proposal_explicitly(world):
    drafted_objective(world)
    propose(world)
    events = world.run(RetireObjective(OID, "not worth it"))
    assert types(events) == ["ProposalWithdrawn", "ObjectiveRetired"]
    assert events[0].data["reason"] == "objective retired: not worth it"
    state = world.objective(OID)
    assert state.open_proposal is None
    assert state.proposal("p1").status is objective.ProposalStatus.WITHDRAWN
    assert state.status is ObjectiveStatus.RETIRED


def test_retirement_needs_a_reason(world):
    drafted_objective(world)
    with pytest.raises(InvalidInput):
        world.run(RetireObjective(OID, ""))


def test_evolve_refuses_an_unknown_event(world):
    drafted_objective(world)
    first = world.events("objective-" + OID)[0]
    with pytest.raises(ValueError):
        objective.evolve(world.objective(OID), replace(first, type="ObjectiveTeleported"))
    with pytest.raises(ValueError):
        objective.evolve(world.objective(OID), first)
