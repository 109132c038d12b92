"""The journey decider: each command's happy path and each refusal."""

from __future__ import annotations

import pytest

from domain import journey
from domain.errors import Conflict, InvalidInput, NotFound
from domain.labels import Label
from domain.journey import (
    CloseInstrumentationGap,
    DocumentJourneyScope,
    JourneyStatus,
    MapDependency,
    PrioritizeJourney,
    ProposeJourney,
    RecordInstrumentationGap,
    RemoveDependency,
    RetireJourney,
)

from .support import T0, World, prioritized_journey, propose_journey, types


@pytest.fixture
def world() -> World:
    return World()


def proposal(**overrides):
    fields = dict(
        journey_id="search",
        name="Search",
        description="A user finds a product",
        steps=("type query", "see results"),
        starts_at="home page",
        ends_at="result list",
        success_criteria="results in under a second",
        owner="search-team",
        tier=2,
    )
    fields.update(overrides)
    return ProposeJourney(**fields)


def test_stream_ids_and_category():
    assert journey.CATEGORY == "journey"
    assert journey.stream_id("checkout") == "journey-checkout"
    assert proposal().stream() == "journey-search"
    assert proposal().reads() == ("convention-naming",)  # the naming convention in force


# --- ProposeJourney ----------------------------------------------------------


def test_propose_records_the_journey_and_its_business_inputs(world):
    events = world.run(
        proposal(revenue_impact="30% of orders start here", support_volume=40), actor="pat", roles={"product"}
    )
    assert types(events) == ["JourneyProposed"]
    assert events[0].data["steps"] == ["type query", "see results"]
    state = world.journey("search")
    assert state.status is JourneyStatus.PROPOSED
    assert state.steps == ("type query", "see results")
    assert state.tier == 2
    assert state.business.revenue_impact == "30% of orders start here"
    assert state.business.conversion_impact is None
    assert state.business.support_volume == 40
    assert state.proposed_by == "pat"
    assert state.proposed_at == T0 and state.updated_at == T0
    assert state.version == 1
    assert state.priority is None and state.scope is None
    assert state.dependencies == () and state.gaps == ()


def test_proposing_an_existing_journey_is_a_conflict(world):
    world.run(proposal())
    with pytest.raises(Conflict):
        world.run(proposal(name="Search again"))


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"journey_id": ""}, "journey_id"),
        ({"journey_id": "has space"}, "journey_id"),
        ({"journey_id": "x" * 101}, "journey_id"),
        ({"journey_id": "naïve"}, "journey_id"),
        ({"name": "  "}, "name"),
        ({"steps": ()}, "steps"),
        ({"steps": "type query"}, "steps"),  # a bare string is not a list of steps
        ({"steps": ("ok", "")}, "steps[1]"),
        ({"tier": 0}, "tier"),
        ({"tier": 4}, "tier"),
        ({"tier": True}, "tier"),
        ({"tier": "1"}, "tier"),
        ({"support_volume": -1}, "support_volume"),
        ({"owner": ""}, "owner"),
        ({"success_criteria": ""}, "success_criteria"),
    ],
)
def test_propose_validates_its_input(world, overrides, field):
    with pytest.raises(InvalidInput) as caught:
        world.run(proposal(**overrides))
    assert caught.value.details["field"] == field
    assert world.log == []  # a refusal records nothing


def test_id_of_exactly_100_safe_characters_is_accepted(world):
    journey_id = "a.b_c-D9" + "x" * 92
    world.run(proposal(journey_id=journey_id))
    assert world.journey(journey_id).id == journey_id


# --- PrioritizeJourney -------------------------------------------------------


def test_prioritize_is_a_business_decision_recording_who_decided(world):
    propose_journey(world, "checkout", tier=2)
    world.run(PrioritizeJourney("checkout", priority=1, tier=1, rationale="gates revenue"), actor="lee", roles={"leadership"})
    state = world.journey("checkout")
    assert state.status is JourneyStatus.PRIORITIZED
    assert (state.priority, state.tier, state.priority_rationale) == (1, 1, "gates revenue")
    assert (state.prioritized_by, state.prioritized_role) == ("lee", "leadership")
    assert state.prioritized_at == state.updated_at


def test_journey_may_be_reprioritized(world):
    prioritized_journey(world, "checkout")
    world.run(PrioritizeJourney("checkout", priority=3, tier=2, rationale="new strategy"), actor="pat", roles={"product"})
    state = world.journey("checkout")
    assert (state.priority, state.tier, state.prioritized_by) == (3, 2, "pat")
    assert state.status is JourneyStatus.PRIORITIZED
    assert state.version == 3


def test_prioritize_unknown_journey_is_not_found(world):
    with pytest.raises(NotFound):
        world.run(PrioritizeJourney("ghost", priority=1, tier=1, rationale="x"))


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"priority": 0, "tier": 1, "rationale": "x"}, "priority"),
        ({"priority": 1, "tier": 5, "rationale": "x"}, "tier"),
        ({"priority": 1, "tier": 1, "rationale": " "}, "rationale"),
    ],
)
def test_prioritize_validates(world, kwargs, field):
    propose_journey(world, "checkout")
    with pytest.raises(InvalidInput) as caught:
        world.run(PrioritizeJourney("checkout", **kwargs))
    assert caught.value.details["field"] == field


# --- DocumentJourneyScope ----------------------------------------------------


def scope(**overrides):
    fields = dict(
        journey_id="checkout",
        includes=("cart", "payment", "confirmation"),
        excludes=("recommendations",),
        starts_at="cart page, items present",
        ends_at="order confirmation shown",
        success_criteria="confirmation within 3 s, charge captured once",
        workshop_participants=("product", "ux", "engineering", "sre"),
    )
    fields.update(overrides)
    return DocumentJourneyScope(**fields)


def test_scope_documented_refines_start_end_and_success(world):
    prioritized_journey(world, "checkout")
    world.run(scope(), actor="pat", roles={"product"})
    state = world.journey("checkout")
    assert state.scope.includes == ("cart", "payment", "confirmation")
    assert state.scope.excludes == ("recommendations",)
    assert state.scope.workshop_participants == ("product", "ux", "engineering", "sre")
    assert state.scope.documented_by == "pat"
    assert state.starts_at == "cart page, items present"
    assert state.ends_at == "order confirmation shown"
    assert state.success_criteria == "confirmation within 3 s, charge captured once"
    assert state.status is JourneyStatus.PRIORITIZED  # scoping does not change the status


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"includes": ()}, "includes"),
        ({"workshop_participants": ()}, "workshop_participants"),
        ({"ends_at": ""}, "ends_at"),
    ],
)
def test_scope_validates(world, overrides, field):
    propose_journey(world, "checkout")
    with pytest.raises(InvalidInput) as caught:
        world.run(scope(**overrides))
    assert caught.value.details["field"] == field


# --- dependencies -------------------------------------------------------------


def test_map_remap_and_remove_dependencies(world):
    propose_journey(world, "checkout")
    world.run(MapDependency("checkout", "payments-api", "service", True, ("timeouts",)), roles={"sre"})
    world.run(MapDependency("checkout", "orders-db", "database", True), roles={"engineering"})
    world.run(MapDependency("checkout", "recs", "inference_endpoint", False), roles={"sre"})
    state = world.journey("checkout")
    assert [d.service for d in state.dependencies] == ["payments-api", "orders-db", "recs"]
    assert state.critical_services == ("payments-api", "orders-db")

    # Re-mapping updates in place.
    world.run(MapDependency("checkout", "recs", "inference_endpoint", True, ("hallucination", "slow")), roles={"sre"})
    state = world.journey("checkout")
    assert [d.service for d in state.dependencies] == ["payments-api", "orders-db", "recs"]
    assert state.dependency("recs").failure_modes == ("hallucination", "slow")
    assert state.critical_services == ("payments-api", "orders-db", "recs")

    world.run(RemoveDependency("checkout", "orders-db", "moved behind payments-api"), roles={"sre"})
    state = world.journey("checkout")
    assert [d.service for d in state.dependencies] == ["payments-api", "recs"]
    assert state.dependency("orders-db") is None


@pytest.mark.parametrize("kind", ["service", "database", "vector_store", "inference_endpoint", "auth", "external_api"])
def test_every_dependency_kind_is_accepted(world, kind):
    propose_journey(world, "checkout")
    world.run(MapDependency("checkout", "dep", kind, False))
    assert world.journey("checkout").dependency("dep").kind == kind


@pytest.mark.parametrize(
    "args, field",
    [
        (("checkout", "payments api", "service", True), "service"),
        (("checkout", "payments", "queue", True), "kind"),
        (("checkout", "payments", "service", "yes"), "critical"),
    ],
)
def test_map_dependency_validates(world, args, field):
    propose_journey(world, "checkout")
    with pytest.raises(InvalidInput) as caught:
        world.run(MapDependency(*args))
    assert caught.value.details["field"] == field


def test_removing_an_unmapped_service_is_not_found(world):
    propose_journey(world, "checkout")
    with pytest.raises(NotFound):
        world.run(RemoveDependency("checkout", "nothing", "because"))


def test_removal_needs_a_reason(world):
    propose_journey(world, "checkout")
    world.run(MapDependency("checkout", "payments", "service", True))
    with pytest.raises(InvalidInput):
        world.run(RemoveDependency("checkout", "payments", ""))


# --- instrumentation gaps ------------------------------------------------------


def test_gaps_are_recorded_and_closed(world):
    propose_journey(world, "checkout")
    world.run(RecordInstrumentationGap("checkout", "gap-1", "no latency histogram at the edge", "latency"), roles={"sre"})
    world.run(RecordInstrumentationGap("checkout", "gap-2", "no faithfulness eval", "quality"), roles={"engineering"})
    state = world.journey("checkout")
    assert [g.gap_id for g in state.open_gaps] == ["gap-1", "gap-2"]

    world.run(CloseInstrumentationGap("checkout", "gap-1", "histogram shipped in v2.3"), roles={"engineering"})
    state = world.journey("checkout")
    assert [g.gap_id for g in state.open_gaps] == ["gap-2"]
    closed = state.gap("gap-1")
    assert not closed.open and closed.resolution == "histogram shipped in v2.3"
    assert closed.closed_at == state.updated_at
    assert len(state.gaps) == 2


def test_gap_refusals(world):
    propose_journey(world, "checkout")
    world.run(RecordInstrumentationGap("checkout", "gap-1", "missing"))
    with pytest.raises(Conflict):
        world.run(RecordInstrumentationGap("checkout", "gap-1", "again"))
    with pytest.raises(NotFound):
        world.run(CloseInstrumentationGap("checkout", "gap-9", "done"))
    world.run(CloseInstrumentationGap("checkout", "gap-1", "done"))
    with pytest.raises(Conflict):
        world.run(CloseInstrumentationGap("checkout", "gap-1", "done twice"))
    # A closed gap's id is not reused either.
    with pytest.raises(Conflict):
        world.run(RecordInstrumentationGap("checkout", "gap-1", "reopened?"))
    with pytest.raises(InvalidInput) as caught:
        world.run(RecordInstrumentationGap("checkout", "gap-2", "x", sli_kind="throughput"))
    assert caught.value.details["field"] == "sli_kind"
    with pytest.raises(InvalidInput):
        world.run(RecordInstrumentationGap("checkout", "gap-2", ""))


# --- retirement ---------------------------------------------------------------


def test_retired_journey_refuses_every_command(world):
    prioritized_journey(world, "checkout")
    world.run(MapDependency("checkout", "payments", "service", True))
    world.run(RecordInstrumentationGap("checkout", "gap-1", "missing"))
    world.run(RetireJourney("checkout", "merged into purchase journey"), roles={"product"})
    state = world.journey("checkout")
    assert state.status is JourneyStatus.RETIRED and state.retired
    assert state.retirement_reason == "merged into purchase journey"
    for command in [
        proposal(journey_id="checkout"),
        PrioritizeJourney("checkout", 1, 1, "x"),
        scope(),
        MapDependency("checkout", "x", "service", False),
        RemoveDependency("checkout", "payments", "x"),
        RecordInstrumentationGap("checkout", "gap-2", "x"),
        CloseInstrumentationGap("checkout", "gap-1", "x"),
        RetireJourney("checkout", "again"),
    ]:
        with pytest.raises(Conflict):
            world.run(command)
    assert world.journey("checkout").version == state.version


def test_retirement_needs_a_reason(world):
    propose_journey(world, "checkout")
    with pytest.raises(InvalidInput):
        world.run(RetireJourney("checkout", ""))


def test_every_command_on_a_missing_journey_is_not_found(world):
    for command in [
        PrioritizeJourney("ghost", 1, 1, "x"),
        scope(journey_id="ghost"),
        MapDependency("ghost", "x", "service", False),
        RemoveDependency("ghost", "x", "x"),
        RecordInstrumentationGap("ghost", "g", "x"),
        CloseInstrumentationGap("ghost", "g", "x"),
        RetireJourney("ghost", "x"),
    ]:
        with pytest.raises(NotFound):
            world.run(command)


# --- evolve ---------------------------------------------------------------------


def test_version_follows_the_stream_and_event_types_are_declared(world):
    prioritized_journey(world, "checkout")
    world.run(scope())
    world.run(MapDependency("checkout", "payments", "service", True))
    world.run(RemoveDependency("checkout", "payments", "gone"))
    world.run(RecordInstrumentationGap("checkout", "g", "x"))
    world.run(CloseInstrumentationGap("checkout", "g", "y"))
    world.run(journey.LabelJourney("checkout", (Label("team", "payments"),)))
    world.run(RetireJourney("checkout", "z"))
    events = world.events("journey-checkout")
    assert world.journey("checkout").version == len(events) == 9
    assert sorted({e.type for e in events}) == sorted(journey.EVENT_TYPES)


def test_evolve_refuses_an_unknown_event_or_a_missing_start(world):
    propose_journey(world, "checkout")
    first = world.events("journey-checkout")[0]
    from dataclasses import replace

    with pytest.raises(ValueError):
        journey.evolve(world.journey("checkout"), replace(first, type="JourneyTeleported"))
    with pytest.raises(ValueError):
        journey.evolve(None, replace(first, type="JourneyRetired", data={"journey_id": "x", "reason": "r"}))
    with pytest.raises(ValueError):
        journey.evolve(world.journey("checkout"), first)


def test_decide_is_pure_and_leaves_state_untouched(world):
    propose_journey(world, "checkout")
    before = world.journey("checkout")
    events = world.decide(MapDependency("checkout", "payments", "service", True))
    assert types(events) == ["DependencyMapped"]
    assert world.journey("checkout") is before and before.dependencies == ()
