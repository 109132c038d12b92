"""Quarterly reviews (phase 7): RecordReview, the renegotiation it opens, overdue reviews."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from domain import objective, quarters
from domain.errors import Conflict, Forbidden, InvalidInput, PolicyViolation
from domain.journey import RecordInstrumentationGap
from domain.objective import ObjectiveStatus, ProposalStatus, RecordReview, review_due, review_overdue

from .support import T0, World, agree, drafted_objective, endorse, fold, formalize, propose, types

OID = "checkout-availability"
UTC = timezone.utc


@pytest.fixture
def world() -> World:
    w = World()
    drafted_objective(w)
    propose(w, target=0.999)
    agree(w)
    formalize(w)
    return w


def review(outcome="maintain", quarter="2025-Q1", **kw) -> RecordReview:
    return RecordReview(OID, quarter, outcome, kw.pop("findings", "budget spent evenly"),
                        kw.pop("attendees", ("pat", "sam")), **kw)


# --- quarters --------------------------------------------------------------------


def test_quarter_arithmetic():
    assert quarters.bounds("2026-Q4") == (datetime(2026, 10, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
    assert quarters.bounds("2026-Q1")[0] == datetime(2026, 1, 1, tzinfo=UTC)
    assert quarters.quarter_of(datetime(2026, 12, 31, 23, 59, tzinfo=UTC)) == "2026-Q4"
    assert quarters.previous("2026-Q1") == "2025-Q4"
    assert quarters.one_quarter_after(datetime(2025, 11, 30, tzinfo=UTC)) == datetime(2026, 2, 28, tzinfo=UTC)
    for bad in ("2026Q4", "2026-Q5", "Q4-2026", "", None, 2026):
        with pytest.raises(InvalidInput):
            quarters.require_quarter(bad)


# --- maintain / redefine -------------------------------------------------------------


def test_maintain_records_the_review_and_changes_nothing_else(world):
    before = world.objective(OID)
    events = world.run(review(next_review_on=date(2025, 5, 1)), actor="pat", roles={"product"})
    assert types(events) == ["ObjectiveReviewed"]
    d = events[0].data
    assert d["quarter"] == "2025-Q1" and d["outcome"] == "maintain" and d["target"] == 0.999
    assert d["next_review_on"] == "2025-05-01T00:00:00+00:00" and d["proposal_id"] is None
    s = world.objective(OID)
    assert s.status is ObjectiveStatus.ACTIVE and s.agreed_target == 0.999 and s.proposals == before.proposals
    r = s.last_review
    assert (r.quarter, r.outcome, r.attendees, r.reviewed_by, r.role) == ("2025-Q1", "maintain", ("pat", "sam"), "pat", "product")
    assert r.reviewed_at == events[0].recorded_at
    assert s.history[-1].kind == "ObjectiveReviewed" and "2025-Q1 review: maintain" in s.history[-1].detail
    assert review_due(s) == datetime(2025, 5, 1, tzinfo=UTC)


def test_redefine_is_recorded_without_a_proposal(world):
    events = world.run(review("redefine", findings="the SLI misses the payment provider's retries"))
    assert types(events) == ["ObjectiveReviewed"]
    assert world.objective(OID).open_proposal is None


def test_a_quarter_is_reviewed_once(world):
    world.run(review())
    with pytest.raises(Conflict):
        world.decide(review("redefine"))
    world.run(review(quarter="2024-Q4"))  # another quarter is fine


# --- tighten / relax open a renegotiation ----------------------------------------------


def test_tighten_proposes_a_stricter_target_in_the_same_command(world):
    events = world.run(review("tighten", proposal_id="p2", proposed_target=0.9995), actor="sam", roles={"sre"})
    assert types(events) == ["ObjectiveReviewed", "TargetProposed"]
    assert events[1].data["target"] == 0.9995 and events[1].data["proposal_id"] == "p2"
    assert events[1].data["rationale"].startswith("2025-Q1 review (tighten): ")
    s = world.objective(OID)
    # the agreed target stays in force until the new one is agreed
    assert s.status is ObjectiveStatus.ACTIVE and s.agreed_target == 0.999
    assert s.open_proposal.proposal_id == "p2" and s.open_proposal.target == 0.9995
    assert s.last_review.proposal_id == "p2" and s.last_review.proposed_target == 0.9995
    # the renegotiation path takes over
    agree(world, "p2")
    s = world.objective(OID)
    assert s.agreed_target == 0.9995 and s.proposal("p1").status is ProposalStatus.SUPERSEDED


def test_relax_proposes_a_looser_target(world):
    events = world.run(review("relax", proposal_id="p2", proposed_target=0.995, rationale="costs too much",
                              required_parties=("product", "sre")))
    assert types(events) == ["ObjectiveReviewed", "TargetProposed"]
    assert events[1].data["rationale"] == "costs too much"
    assert events[1].data["required_parties"] == ["product", "sre"]


@pytest.mark.parametrize("outcome, target", [("tighten", 0.999), ("tighten", 0.99), ("relax", 0.999), ("relax", 0.9999)])
def test_the_direction_must_match_the_outcome(world, outcome, target):
    with pytest.raises(InvalidInput) as caught:
        world.decide(review(outcome, proposal_id="p2", proposed_target=target))
    assert caught.value.details["field"] == "proposed_target"


def test_tighten_and_relax_need_a_proposal_and_the_others_refuse_one(world):
    with pytest.raises(InvalidInput):
        world.decide(review("tighten", proposed_target=0.9995))
    with pytest.raises(InvalidInput):
        world.decide(review("relax", proposal_id="p2"))
    with pytest.raises(InvalidInput):
        world.decide(review("maintain", proposal_id="p2"))
    with pytest.raises(InvalidInput):
        world.decide(review("redefine", proposed_target=0.99))
    with pytest.raises(InvalidInput):
        world.decide(review("tighten", proposal_id="p2", proposed_target=99.95))


def test_tighten_follows_the_proposal_rules(world):
    with pytest.raises(Conflict):  # proposal ids are used once
        world.decide(review("tighten", proposal_id="p1", proposed_target=0.9995))
    propose(world, proposal_id="p2", target=0.9995)
    with pytest.raises(Conflict):  # one open proposal at a time
        world.decide(review("tighten", proposal_id="p3", proposed_target=0.9995))
    world.run(review("maintain"))  # a maintain review is still possible


def test_tighten_is_refused_while_the_journey_has_an_open_instrumentation_gap(world):
    world.run(RecordInstrumentationGap("checkout", "traces", "no traces on payment"), roles={"sre"})
    with pytest.raises(PolicyViolation):
        world.decide(review("tighten", proposal_id="p2", proposed_target=0.9995))
    world.run(review("maintain", findings="trace gap found"))


def test_the_command_reads_the_journey_only_to_propose(world):
    state = world.objective(OID)
    assert review("tighten", proposal_id="p2", proposed_target=0.9995).reads(state) == ("journey-checkout",)
    assert review("maintain").reads(state) == ()
    assert review("tighten").reads() == ()


# --- validation ---------------------------------------------------------------------


def test_a_review_needs_an_agreed_target():
    w = World()
    drafted_objective(w)
    with pytest.raises(PolicyViolation):
        w.decide(review())
    propose(w)
    with pytest.raises(PolicyViolation):
        w.decide(review())


def test_an_agreed_but_informational_objective_can_be_reviewed():
    w = World()
    drafted_objective(w)
    propose(w)
    agree(w)
    assert types(w.run(review())) == ["ObjectiveReviewed"]


@pytest.mark.parametrize("bad", [
    dict(quarter="2025-Q2"),  # has not started (T0 is 2025-03-03)
    dict(quarter="2025Q1"),
    dict(outcome="keep"),
    dict(findings=" "),
    dict(attendees=()),
    dict(attendees="pat"),
    dict(next_review_on=T0 - timedelta(days=1)),
    dict(next_review_on=T0 + timedelta(days=120)),  # more than a quarter away
    dict(next_review_on=datetime(2025, 4, 1)),  # naive
])
def test_invalid_reviews_are_refused(world, bad):
    fields = dict(quarter="2025-Q1", outcome="maintain", findings="ok", attendees=("pat",))
    fields.update(bad)
    with pytest.raises(InvalidInput):
        world.decide(RecordReview(OID, **fields))


def test_retired_objectives_are_not_reviewed(world):
    world.run(objective.RetireObjective(OID, "replaced"))
    with pytest.raises(Conflict):
        world.decide(review())


@pytest.mark.parametrize("role", ["product", "sre", "leadership", "admin"])
def test_who_may_review(world, role):
    events = world.run(review(), actor="kim", roles={role})
    assert types(events) == ["ObjectiveReviewed"]
    last = world.objective(OID).last_review
    assert (last.quarter, last.reviewed_by, last.role) == ("2025-Q1", "kim", role)


@pytest.mark.parametrize("role", ["engineering", "auditor", "ci"])
def test_who_may_not_review(world, role):
    with pytest.raises(Forbidden):
        world.run(review(), roles={role})


# --- overdue ------------------------------------------------------------------------


def test_overdue_is_one_quarter_after_the_last_review_or_agreement(world):
    s = world.objective(OID)
    agreed = s.agreed_at
    assert s.last_review is None and s.reviewed_or_agreed_at == agreed
    assert review_due(s) == quarters.one_quarter_after(agreed)
    assert not review_overdue(s, agreed + timedelta(days=80))
    assert review_overdue(s, quarters.one_quarter_after(agreed) + timedelta(seconds=1))
    world.now = agreed + timedelta(days=85)
    world.run(review())
    s = world.objective(OID)
    assert s.reviewed_or_agreed_at == s.last_review.reviewed_at
    assert not review_overdue(s, agreed + timedelta(days=100))
    assert review_overdue(s, s.last_review.reviewed_at + timedelta(days=93))


def test_only_active_objectives_are_overdue():
    w = World()
    drafted_objective(w)
    far = T0 + timedelta(days=400)
    assert not review_overdue(w.objective(OID), far) and review_due(w.objective(OID)) is None
    propose(w)
    agree(w)
    assert w.objective(OID).status is ObjectiveStatus.AGREED
    assert not review_overdue(w.objective(OID), far)  # informational: nothing to govern yet
    formalize(w)
    assert review_overdue(w.objective(OID), far)
    w.run(objective.RetireObjective(OID, "gone"))
    assert not review_overdue(w.objective(OID), far)


def test_a_renegotiated_agreement_restarts_the_clock(world):
    world.now = T0 + timedelta(days=80)
    world.run(review("tighten", proposal_id="p2", proposed_target=0.9995))
    world.now = T0 + timedelta(days=150)
    agree(world, "p2")
    s = world.objective(OID)
    assert s.reviewed_or_agreed_at == s.agreed_at > s.last_review.reviewed_at
    assert not review_overdue(s, T0 + timedelta(days=200))


# --- the state round-trips and refolds ------------------------------------------------------


def test_reviews_round_trip_and_old_documents_still_load(world):
    world.run(review("tighten", proposal_id="p2", proposed_target=0.9995, next_review_on=T0 + timedelta(days=60)))
    s = world.objective(OID)
    assert objective.from_dict(objective.to_dict(s)) == s
    assert fold(objective, world.events("objective-" + OID)) == s
    old = objective.to_dict(s)
    del old["reviews"]
    assert objective.from_dict(old).reviews == ()


def test_endorsing_the_review_proposal_is_the_usual_negotiation(world):
    world.run(review("relax", proposal_id="p2", proposed_target=0.995))
    events = endorse(world, "product", "p2")
    assert types(events) == ["ProposalEndorsed"]
