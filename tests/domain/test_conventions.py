"""The naming convention: an admin's event, checked when journeys and objectives are drafted."""

from __future__ import annotations

import pytest

from domain import conventions, journey, objective
from domain.errors import Forbidden, InvalidInput
from domain.labels import labels_of
from tests.domain.support import AVAILABILITY, OCCURRENCES, ROLLING_28, World, prioritized_journey, propose_journey

ACME = conventions.SetNamingConvention(recording_prefix="acme_slo", alert_name="SLOBurn{Severity}",
                                       label_prefix="acme_", id_pattern=r"[a-z]+(-[a-z]+)*",
                                       required_labels=("team",), note="platform guild, 2026-12")


def _set(world: World, command=ACME, roles=("admin",)):
    return world.run(command, actor="ada", roles=set(roles))


def test_an_admin_sets_it_and_the_state_holds_it():
    world = World()
    [event] = _set(world)
    assert (event.stream_id, event.type) == ("convention-naming", "NamingConventionSet")
    assert event.data == {"recording_prefix": "acme_slo", "alert_name": "SLOBurn{Severity}", "label_prefix": "acme_",
                          "id_pattern": "[a-z]+(-[a-z]+)*", "required_labels": ["team"], "note": "platform guild, 2026-12"}
    state = world.states[conventions.STREAM_ID]
    assert state.convention.recording_prefix == "acme_slo" and state.set_by == "ada" and state.version == 1
    assert _set(world) == []  # the convention in force already: nothing appended
    with pytest.raises(Forbidden, match="needs one of the roles admin"):
        _set(world, conventions.SetNamingConvention(), roles=("sre", "leadership"))


def test_before_any_convention_every_valid_id_is_accepted():
    world = World()
    prioritized_journey(world, "Checkout_EU.v2")
    world.run(objective.DraftObjective("Avail_EU.v2", "Checkout_EU.v2", "Availability", AVAILABILITY, ROLLING_28,
                                       OCCURRENCES), roles={"sre"})
    assert conventions.convention_of(None) == conventions.UNSET


def test_drafts_are_refused_ids_the_convention_does_not_match():
    world = World()
    prioritized_journey(world, "checkout")  # before the convention; it still holds its id
    _set(world)
    with pytest.raises(InvalidInput) as err:
        propose_journey(world, "Checkout_EU")
    assert err.value.details["field"] == "journey_id"
    assert err.value.message.startswith("journey_id: 'Checkout_EU' does not follow the naming convention '[a-z]+(-[a-z]+)*'")
    assert world.journey("Checkout_EU") is None
    draft = objective.DraftObjective("checkout_avail", "checkout", "Availability", AVAILABILITY, ROLLING_28, OCCURRENCES)
    with pytest.raises(InvalidInput, match="objective_id: 'checkout_avail' does not follow") as err:
        world.run(draft, roles={"sre"})
    assert err.value.details["field"] == "objective_id" and world.objective("checkout_avail") is None
    propose_journey(world, "search")
    world.run(objective.DraftObjective("checkout-avail", "checkout", "Availability", AVAILABILITY, ROLLING_28,
                                       OCCURRENCES, labels={"team": "payments"}), roles={"sre"})
    assert world.objective("checkout-avail") is not None and world.journey("search") is not None


def _draft(world: World, objective_id: str, journey_id: str, **labels):
    world.run(objective.DraftObjective(objective_id, journey_id, "Availability", AVAILABILITY, ROLLING_28,
                                       OCCURRENCES, labels=labels), roles={"sre"})


def test_an_objective_carries_the_required_labels_itself_or_on_its_journey():
    world = World()
    _set(world)
    prioritized_journey(world, "checkout")
    prioritized_journey(world, "search", labels={"team": "discovery"})
    with pytest.raises(InvalidInput) as err:
        _draft(world, "checkout-avail", "checkout", cost_center="cc-1")
    assert err.value.details["field"] == "labels" and err.value.message == (
        "labels: the naming convention requires team (on the objective or on its journey)")
    assert world.objective("checkout-avail") is None
    _draft(world, "checkout-avail", "checkout", team="payments")
    _draft(world, "search-avail", "search")  # its journey's team
    # Relabelling may not drop it either; on the journey's it may.
    with pytest.raises(InvalidInput, match="requires team"):
        world.run(objective.LabelObjective("checkout-avail", labels=labels_of({"tier": ["1"]})), roles={"sre"})
    world.run(objective.LabelObjective("search-avail", labels=labels_of({"tier": ["1"]})), roles={"sre"})
    assert world.objective("search-avail").labels == labels_of({"tier": ["1"]})


def test_the_labels_rules_carry():
    acme = conventions.convention_of(None)
    journey = labels_of({"team": ["payments"], "openslo.com/owner": ["x"], "region": ["eu", "us"]})
    mine = labels_of({"team": ["checkout"], "slo_tier": ["mine"], "tier": ["1"]})
    assert conventions.rule_labels(journey, mine, acme) == {"region": "eu,us", "team": "checkout", "tier": "1"}


def test_the_label_check_of_generated_rules():
    acme = conventions.convention_of(None)
    conventions.check_labels(acme, {})  # UNSET requires none
    world = World()
    _set(world)
    acme = world.states[conventions.STREAM_ID].convention
    with pytest.raises(InvalidInput, match="labels: the naming convention requires team"):
        conventions.check_labels(acme, {"cost_center": "cc-1"})
    with pytest.raises(InvalidInput, match="'acme_tier' is set by slogov"):
        conventions.check_labels(acme, {"team": "payments", "acme_tier": "x"})
    conventions.check_labels(acme, {"team": "payments"})


@pytest.mark.parametrize("kwargs,field,message", [
    ({"id_pattern": "(a+)+"}, "naming.id_pattern", "exponential time"),
    ({"id_pattern": r"([a-z]{1,}-?)*"}, "naming.id_pattern", "exponential time"),
    ({"id_pattern": r"(a|aa)*"}, "naming.id_pattern", "exponential time"),
    ({"id_pattern": r"((-[a-z]+)+)*"}, "naming.id_pattern", "exponential time"),
    ({"id_pattern": r"(-[a-z-]+)*"}, "naming.id_pattern", "exponential time"),
    ({"id_pattern": "x" * 201}, "naming.id_pattern", "at most 200 characters"),
    ({"id_pattern": "[a-"}, "naming.id_pattern", "naming.id_pattern:"),
    ({"id_pattern": ""}, "naming.id_pattern", "null for any valid id"),
    ({"required_labels": ("team", "team")}, "naming.required_labels", "named twice"),
    ({"required_labels": ("severity",)}, "naming.required_labels", "slogov sets itself"),
    ({"required_labels": "team"}, "naming.required_labels", "a list of label names"),
    ({"recording_prefix": "acme-slo"}, "naming.recording_prefix", "cannot start a metric name"),
    ({"alert_name": "Burn{team}"}, "naming.alert_name", "unknown field {team}"),
    ({"label_prefix": None}, "naming.label_prefix", "a string"),
])
def test_a_bad_convention_is_refused_and_nothing_recorded(kwargs, field, message):
    world = World()
    with pytest.raises(InvalidInput) as err:
        _set(world, conventions.SetNamingConvention(**kwargs))
    assert err.value.details["field"] == field and message in err.value.message
    assert conventions.STREAM_ID not in world.states


@pytest.mark.parametrize("pattern", [r"[a-z]+(-[a-z]+)*", r"(?:\.[a-z0-9]+)+", r"(-\w+)*", r"(eu|us)-[a-z]+", r"[a-z]{2,40}"])
def test_patterns_whose_repetitions_cannot_overlap_are_accepted(pattern):
    assert _set(World(), conventions.SetNamingConvention(id_pattern=pattern))[0].data["id_pattern"] == pattern


def test_a_later_convention_replaces_the_earlier():
    world = World()
    _set(world)
    _set(world, conventions.SetNamingConvention(id_pattern=r"team-[a-z]+"))
    assert world.states[conventions.STREAM_ID].convention.id_pattern == "team-[a-z]+"
    assert world.states[conventions.STREAM_ID].convention.required_labels == ()
    with pytest.raises(InvalidInput, match="journey_id"):
        world.decide(journey.ProposeJourney("checkout", "n", "d", ("s",), "a", "b", "c", "o", 1))
