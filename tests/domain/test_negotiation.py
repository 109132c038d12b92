"""Target negotiation: proposals, positions, revisions, agreement, withdrawal, deferral, renegotiation."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from domain.errors import Conflict, InvalidInput, NotFound, PolicyViolation
from domain.journey import CloseInstrumentationGap, RecordInstrumentationGap, RetireJourney
from domain.objective import (
    DeferNegotiation,
    EndorseProposal,
    ObjectiveStatus,
    ObjectToProposal,
    ProposalStatus,
    ProposeTarget,
    ReviseProposal,
    Stance,
    WithdrawProposal,
)

from .support import UTC, World, agree, drafted_objective, endorse, formalize, object_to, propose, types

OID = "checkout-availability"


@pytest.fixture
def world() -> World:
    w = World()
    drafted_objective(w)
    return w


def state(world):
    return world.objective(OID)


# --- ProposeTarget -------------------------------------------------------------------


def test_proposing_opens_a_negotiation(world):
    events = propose(world, target=0.995)
    assert types(events) == ["TargetProposed"]
    assert events[0].data["required_parties"] == ["product", "sre", "engineering", "leadership"]
    s = state(world)
    assert s.status is ObjectiveStatus.NEGOTIATING
    p = s.open_proposal
    assert (p.proposal_id, p.target, p.revision, p.status) == ("p1", 0.995, 1, ProposalStatus.OPEN)
    assert p.proposed_by == "sam"
    assert p.required_parties == ("product", "sre", "engineering", "leadership")
    assert p.awaiting == p.required_parties
    assert s.history[-1].kind == "TargetProposed" and "99.5%" in s.history[-1].detail


def test_required_parties_are_deduplicated_in_canonical_order(world):
    propose(world, parties=("leadership", "sre", "leadership"))
    assert state(world).open_proposal.required_parties == ("sre", "leadership")


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"target": 1.0}, "target"),
        ({"target": 99.9}, "target"),
        ({"target": 0}, "target"),
        ({"target": -0.5}, "target"),
        ({"target": float("inf")}, "target"),
        ({"target": True}, "target"),
        ({"target": "0.99"}, "target"),
        ({"rationale": ""}, "rationale"),
        ({"required_parties": ()}, "required_parties"),
        ({"required_parties": ("product", "customers")}, "required_parties[1]"),
        ({"required_parties": "sre"}, "required_parties"),
        ({"proposal_id": "p 1"}, "proposal_id"),
    ],
)
def test_propose_validates(world, kwargs, field):
    fields = dict(objective_id=OID, proposal_id="p1", target=0.999, rationale="r")
    fields.update(kwargs)
    with pytest.raises(InvalidInput) as caught:
        world.run(ProposeTarget(**fields))
    assert caught.value.details["field"] == field


def test_target_error_explains_fractions(world):
    with pytest.raises(InvalidInput) as caught:
        world.run(ProposeTarget(OID, "p1", 99.9, "r"))
    assert "0.999, not 99.9" in caught.value.message


def test_an_open_instrumentation_gap_refuses_a_proposal_naming_the_gaps(world):
    world.run(RecordInstrumentationGap("checkout", "edge-latency", "no histogram"))
    world.run(RecordInstrumentationGap("checkout", "payment-errors", "errors not tagged"))
    with pytest.raises(PolicyViolation) as caught:
        propose(world)
    assert "edge-latency" in caught.value.message and "payment-errors" in caught.value.message
    assert caught.value.details["gap_ids"] == ["edge-latency", "payment-errors"]
    assert state(world).proposals == ()

    world.run(CloseInstrumentationGap("checkout", "edge-latency", "shipped"))
    with pytest.raises(PolicyViolation) as caught:
        propose(world)
    assert caught.value.details["gap_ids"] == ["payment-errors"]

    world.run(CloseInstrumentationGap("checkout", "payment-errors", "tagged"))
    propose(world)
    assert state(world).status is ObjectiveStatus.NEGOTIATING


def test_proposal_on_a_retired_journey_is_a_conflict(world):
    world.run(RetireJourney("checkout", "gone"))
    with pytest.raises(Conflict):
        propose(world)


def test_only_one_open_proposal_and_ids_are_never_reused(world):
    propose(world, proposal_id="p1")
    with pytest.raises(Conflict) as caught:
        propose(world, proposal_id="p2")
    assert caught.value.details["open_proposal_id"] == "p1"
    world.run(WithdrawProposal(OID, "p1", "wrong SLI"))
    with pytest.raises(Conflict):
        propose(world, proposal_id="p1")
    propose(world, proposal_id="p2")
    assert state(world).open_proposal.proposal_id == "p2"


# --- endorsement and agreement ------------------------------------------------------


def test_agreement_is_emitted_exactly_when_the_last_required_party_endorses(world):
    propose(world)
    for party in ("product", "sre", "engineering"):
        events = endorse(world, party)
        assert types(events) == ["ProposalEndorsed"]
        assert state(world).status is ObjectiveStatus.NEGOTIATING
    assert state(world).open_proposal.awaiting == ("leadership",)

    events = endorse(world, "leadership")
    assert types(events) == ["ProposalEndorsed", "TargetAgreed"]
    assert events[1].data == {
        "objective_id": OID,
        "proposal_id": "p1",
        "target": 0.999,
        "revision": 1,
        "parties": ["product", "sre", "engineering", "leadership"],
    }
    s = state(world)
    assert s.status is ObjectiveStatus.AGREED
    assert (s.agreed_target, s.agreed_proposal_id, s.agreed_at) == (0.999, "p1", events[1].recorded_at)
    assert s.proposal("p1").status is ProposalStatus.AGREED
    assert s.open_proposal is None
    assert s.informational  # agreed, not yet formalized
    assert s.version == len(world.events("objective-" + OID))


def test_endorsement_order_does_not_matter(world):
    propose(world)
    for party in ("leadership", "engineering", "sre"):
        assert types(endorse(world, party)) == ["ProposalEndorsed"]
    assert types(endorse(world, "product")) == ["ProposalEndorsed", "TargetAgreed"]


def test_a_subset_of_required_parties_agrees_alone(world):
    propose(world, parties=("product", "sre"))
    endorse(world, "sre")
    assert types(endorse(world, "product")) == ["ProposalEndorsed", "TargetAgreed"]
    assert state(world).agreed_target == 0.999


def test_parties_outside_the_required_set_are_heard_but_do_not_count(world):
    propose(world, parties=("product", "sre"))
    assert types(endorse(world, "leadership")) == ["ProposalEndorsed"]
    assert types(object_to(world, "engineering")) == ["ProposalObjected"]
    assert types(endorse(world, "product")) == ["ProposalEndorsed"]
    assert state(world).status is ObjectiveStatus.NEGOTIATING
    # engineering's objection does not block: it was not required.
    assert types(endorse(world, "sre")) == ["ProposalEndorsed", "TargetAgreed"]
    positions = state(world).proposal("p1").positions
    assert [p.party for p in positions] == ["leadership", "engineering", "product", "sre"]


def test_repeated_endorsement_by_the_same_party_does_not_agree(world):
    propose(world, parties=("product", "sre"))
    endorse(world, "product")
    assert types(endorse(world, "product")) == ["ProposalEndorsed"]
    assert state(world).status is ObjectiveStatus.NEGOTIATING


def test_an_objection_after_an_endorsement_replaces_it_and_blocks_agreement(world):
    propose(world)
    for party in ("product", "sre", "engineering"):
        endorse(world, party)
    object_to(world, "engineering", "too_strict")
    p = state(world).open_proposal
    assert p.standing()["engineering"].stance is Stance.OBJECTED
    assert p.standing()["engineering"].objection == "too_strict"
    assert p.awaiting == ("engineering", "leadership")
    assert types(endorse(world, "leadership")) == ["ProposalEndorsed"]
    assert state(world).status is ObjectiveStatus.NEGOTIATING
    # ...and an endorsement after the objection replaces it in turn.
    assert types(endorse(world, "engineering")) == ["ProposalEndorsed", "TargetAgreed"]


def test_objection_records_kind_reason_and_actor(world):
    propose(world)
    events = world.run(ObjectToProposal(OID, "p1", "product", "too_loose", "users churn below 99.95%"), actor="pat")
    assert events[0].data == {
        "objective_id": OID,
        "proposal_id": "p1",
        "party": "product",
        "objection": "too_loose",
        "reason": "users churn below 99.95%",
        "revision": 1,
    }
    position = state(world).open_proposal.positions[-1]
    assert (position.party, position.stance, position.objection) == ("product", Stance.OBJECTED, "too_loose")
    assert (position.comment, position.actor, position.revision) == ("users churn below 99.95%", "pat", 1)
    step = state(world).history[-1]
    assert (step.kind, step.actor, step.role, step.proposal_id) == ("ProposalObjected", "pat", "product", "p1")
    assert "too_loose" in step.detail and "users churn" in step.detail


@pytest.mark.parametrize(
    "command, field",
    [
        (EndorseProposal(OID, "p1", "customer"), "party"),
        (ObjectToProposal(OID, "p1", "sre", "too_fast", "r"), "objection"),
        (ObjectToProposal(OID, "p1", "sre", "other", ""), "reason"),
    ],
)
def test_positions_validate(world, command, field):
    propose(world)
    with pytest.raises(InvalidInput) as caught:
        world.decide(command, roles={"sre"})
    assert caught.value.details["field"] == field


def test_positions_need_the_open_proposal(world):
    with pytest.raises(NotFound):
        endorse(world, "sre", proposal_id="nope")
    propose(world)
    with pytest.raises(NotFound):
        object_to(world, "sre", proposal_id="nope")
    world.run(WithdrawProposal(OID, "p1", "rethink"))
    with pytest.raises(Conflict) as caught:
        endorse(world, "sre")
    assert caught.value.details["proposal_status"] == "WITHDRAWN"
    with pytest.raises(Conflict):
        object_to(world, "sre")


def test_an_agreed_proposal_takes_no_more_positions(world):
    propose(world)
    agree(world)
    with pytest.raises(Conflict):
        endorse(world, "sre")
    with pytest.raises(Conflict):
        object_to(world, "product")


# --- revision -----------------------------------------------------------------------


def test_revision_resets_every_position(world):
    propose(world)
    for party in ("product", "sre", "engineering"):
        endorse(world, party)
    object_to(world, "leadership", "too_strict")
    events = world.run(ReviseProposal(OID, "p1", 0.995, "relaxed after cost analysis"), actor="eve")
    assert events[0].data["revision"] == 2
    p = state(world).open_proposal
    assert (p.target, p.rationale, p.revision) == (0.995, "relaxed after cost analysis", 2)
    assert p.standing() == {}
    assert p.awaiting == ("product", "sre", "engineering", "leadership")
    assert len(p.positions) == 4  # kept for the record
    # The earlier three endorsements no longer count: leadership alone does not agree.
    assert types(endorse(world, "leadership")) == ["ProposalEndorsed"]
    for party in ("product", "sre"):
        assert types(endorse(world, party)) == ["ProposalEndorsed"]
    events = endorse(world, "engineering")
    assert types(events) == ["ProposalEndorsed", "TargetAgreed"]
    assert events[1].data["revision"] == 2 and events[1].data["target"] == 0.995
    assert state(world).agreed_target == 0.995


def test_revision_validates_and_needs_the_open_proposal(world):
    with pytest.raises(NotFound):
        world.run(ReviseProposal(OID, "p1", 0.99, "r"))
    propose(world)
    with pytest.raises(InvalidInput):
        world.run(ReviseProposal(OID, "p1", 1.0, "r"))
    with pytest.raises(InvalidInput):
        world.run(ReviseProposal(OID, "p1", 0.99, ""))
    agree(world)
    with pytest.raises(Conflict):
        world.run(ReviseProposal(OID, "p1", 0.99, "r"))


# --- withdrawal and deferral -----------------------------------------------------------


def test_withdrawing_a_first_proposal_returns_to_draft(world):
    propose(world)
    endorse(world, "sre")
    world.run(WithdrawProposal(OID, "p1", "wrong SLI boundary"))
    s = state(world)
    assert s.status is ObjectiveStatus.DRAFT
    p = s.proposal("p1")
    assert (p.status, p.closed_reason) == (ProposalStatus.WITHDRAWN, "wrong SLI boundary")
    assert p.closed_at == s.updated_at
    assert s.agreed_target is None


def test_deferring_a_first_proposal_returns_to_draft_and_keeps_the_revisit_date(world):
    propose(world)
    revisit = world.now + timedelta(days=30)
    world.run(DeferNegotiation(OID, "p1", "too strict for the current architecture", revisit))
    s = state(world)
    assert s.status is ObjectiveStatus.DRAFT
    p = s.proposal("p1")
    assert p.status is ProposalStatus.DEFERRED and p.revisit_on == revisit
    assert "deferred until" in s.history[-1].detail


def test_deferral_accepts_a_date_or_no_date(world):
    propose(world, proposal_id="p1")
    world.run(DeferNegotiation(OID, "p1", "next quarter", date(2025, 7, 1)))
    assert state(world).proposal("p1").revisit_on == datetime(2025, 7, 1, tzinfo=UTC)
    propose(world, proposal_id="p2")
    world.run(DeferNegotiation(OID, "p2", "no date yet"))
    assert state(world).proposal("p2").revisit_on is None


@pytest.mark.parametrize(
    "revisit_on",
    [
        datetime(2025, 1, 1, tzinfo=UTC),  # past
        datetime(2026, 1, 1),  # naive
        date(2025, 3, 1),  # a day already over
        "2026-01-01",
    ],
)
def test_deferral_refuses_a_revisit_date_not_in_the_future(world, revisit_on):
    propose(world)
    with pytest.raises(InvalidInput) as caught:
        world.run(DeferNegotiation(OID, "p1", "later", revisit_on))
    assert caught.value.details["field"] == "revisit_on"


def test_revisit_on_exactly_now_is_refused(world):
    propose(world)
    with pytest.raises(InvalidInput):
        world.run(DeferNegotiation(OID, "p1", "later", world.now))


def test_withdraw_and_defer_need_a_reason_and_the_open_proposal(world):
    propose(world)
    with pytest.raises(InvalidInput):
        world.run(WithdrawProposal(OID, "p1", ""))
    with pytest.raises(InvalidInput):
        world.run(DeferNegotiation(OID, "p1", ""))
    with pytest.raises(NotFound):
        world.run(WithdrawProposal(OID, "p9", "r"))
    world.run(DeferNegotiation(OID, "p1", "later"))
    with pytest.raises(Conflict):
        world.run(WithdrawProposal(OID, "p1", "r"))
    with pytest.raises(Conflict):
        world.run(DeferNegotiation(OID, "p1", "r"))


# --- renegotiation --------------------------------------------------------------------


def test_renegotiation_on_active_keeps_the_old_target_until_the_new_agreement(world):
    propose(world, "checkout-availability", "p1", 0.999)
    agree(world, "p1")
    formalize(world)
    first_agreed_at = state(world).agreed_at

    propose(world, proposal_id="p2", target=0.9995)
    s = state(world)
    assert s.status is ObjectiveStatus.ACTIVE  # not NEGOTIATING: an agreement is in force
    assert s.agreed_target == 0.999 and s.agreed_proposal_id == "p1"
    assert s.open_proposal.proposal_id == "p2"

    for party in ("product", "sre", "engineering"):
        endorse(world, party, "p2")
    assert state(world).agreed_target == 0.999
    events = endorse(world, "leadership", "p2")
    assert types(events) == ["ProposalEndorsed", "TargetAgreed"]
    s = state(world)
    assert s.status is ObjectiveStatus.ACTIVE  # still formalized
    assert (s.agreed_target, s.agreed_proposal_id) == (0.9995, "p2")
    assert s.agreed_at > first_agreed_at
    assert s.proposal("p1").status is ProposalStatus.SUPERSEDED
    assert s.proposal("p2").status is ProposalStatus.AGREED
    assert s.agreement.policy_version == 1


def test_renegotiation_on_agreed_stays_agreed(world):
    propose(world, proposal_id="p1")
    agree(world, "p1")
    propose(world, proposal_id="p2", target=0.99)
    assert state(world).status is ObjectiveStatus.AGREED
    agree(world, "p2")
    s = state(world)
    assert s.status is ObjectiveStatus.AGREED and s.agreed_target == 0.99
    assert s.informational


def test_withdrawn_or_deferred_renegotiation_keeps_the_previous_agreement(world):
    propose(world, proposal_id="p1")
    agree(world, "p1")
    formalize(world)
    propose(world, proposal_id="p2", target=0.95)
    object_to(world, "product", "too_loose", proposal_id="p2")
    world.run(WithdrawProposal(OID, "p2", "product objects"))
    s = state(world)
    assert (s.status, s.agreed_target, s.agreed_proposal_id) == (ObjectiveStatus.ACTIVE, 0.999, "p1")
    assert s.proposal("p1").status is ProposalStatus.AGREED

    propose(world, proposal_id="p3", target=0.9999)
    world.run(DeferNegotiation(OID, "p3", "needs multi-region first"))
    s = state(world)
    assert (s.status, s.agreed_target) == (ObjectiveStatus.ACTIVE, 0.999)


def test_withdrawn_renegotiation_on_agreed_returns_to_agreed(world):
    propose(world, proposal_id="p1")
    agree(world, "p1")
    propose(world, proposal_id="p2", target=0.95)
    world.run(WithdrawProposal(OID, "p2", "no"))
    assert state(world).status is ObjectiveStatus.AGREED


def test_formalizing_during_a_renegotiation_formalizes_the_agreed_target(world):
    propose(world, proposal_id="p1")
    agree(world, "p1")
    propose(world, proposal_id="p2", target=0.95)
    events = formalize(world)
    assert events[0].data["target"] == 0.999
    assert state(world).status is ObjectiveStatus.ACTIVE
    assert state(world).open_proposal.proposal_id == "p2"


def test_gap_refusal_applies_to_renegotiation_too(world):
    propose(world, proposal_id="p1")
    agree(world, "p1")
    world.run(RecordInstrumentationGap("checkout", "g1", "new dependency unmeasured"))
    with pytest.raises(PolicyViolation):
        propose(world, proposal_id="p2")


# --- history ----------------------------------------------------------------------------


def test_history_tells_the_negotiation_in_order(world):
    propose(world)
    object_to(world, "engineering", "too_strict")
    world.run(ReviseProposal(OID, "p1", 0.995, "cheaper"), actor="eve", roles={"engineering"})
    agree(world)
    formalize(world)
    history = state(world).history
    assert [h.kind for h in history] == [
        "TargetProposed",
        "ProposalObjected",
        "ProposalRevised",
        "ProposalEndorsed",
        "ProposalEndorsed",
        "ProposalEndorsed",
        "ProposalEndorsed",
        "TargetAgreed",
        "AgreementFormalized",
    ]
    revised = history[2]
    assert (revised.actor, revised.role) == ("eve", "engineering")
    assert revised.detail == "revised 99.9% -> 99.5% (revision 2): cheaper"
    assert history[7].detail == "agreed 99.5% at revision 2 by product, sre, engineering, leadership"
    assert [h.at for h in history] == sorted(h.at for h in history)
