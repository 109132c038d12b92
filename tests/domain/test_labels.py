"""Labels and annotations on journeys and objectives: validation, normal form, a resend
that appends nothing, and states folded from events written before labels existed."""

from __future__ import annotations

import pytest

from domain import journey, objective
from domain.errors import InvalidInput
from domain.labels import Annotation, Label, annotations_data, labels_data, matches
from domain.objective import DraftObjective, LabelObjective

from .support import AVAILABILITY, OCCURRENCES, ROLLING_28, World, drafted_objective, prioritized_journey, propose_journey


@pytest.mark.parametrize("key", ["team", "tier_1", "app.kubernetes.io/name", "openslo.com/owner", "_x", "a" * 63])
def test_label_keys_kubernetes_and_prometheus_accept(key):
    assert labels_data([Label(key, "v")]) == {key: ["v"]}


@pytest.mark.parametrize("key", ["", "-team", "team-", "a" * 64, "Upper.Case/name", "a b", "tea\x00m", "/name", "x/"])
def test_label_keys_out_of_syntax_are_refused(key):
    with pytest.raises(InvalidInput) as e:
        labels_data([Label(key, "v")])
    assert e.value.details["field"] == "labels[0].key"


@pytest.mark.parametrize("value", ["", " padded", "line\nbreak", "tab\there", "bell\x07", "x" * 254, "del\x7f"])
def test_label_values_with_control_chars_or_padding_are_refused(value):
    with pytest.raises(InvalidInput) as e:
        labels_data([Label("team", "ok"), Label("team", value)])
    assert e.value.details["field"] == "labels[1].value"


def test_labels_normal_form_sorted_and_multi_valued():
    given = [Label("team", "b"), Label("env", "prod"), Label("team", "a"), Label("team", "b")]
    assert labels_data(given) == {"env": ["prod"], "team": ["a", "b"]}
    assert labels_data({"team": ["b", "a"], "env": "prod"}) == {"env": ["prod"], "team": ["a", "b"]}
    with pytest.raises(InvalidInput, match="at most 64"):
        labels_data([Label("k", f"v{n}") for n in range(65)])


def test_annotations_keep_free_text_but_refuse_controls_and_repeats():
    text = "Checkout SLO.\n\tOwned by payments."
    assert annotations_data([Annotation("openslo.com/description", text)]) == {"openslo.com/description": text}
    with pytest.raises(InvalidInput, match="given twice"):
        annotations_data([Annotation("a", "1"), Annotation("a", "2")])
    with pytest.raises(InvalidInput, match="control character"):
        annotations_data([Annotation("a", "esc\x1b[31m")])


def test_selectors_need_every_pair_or_key():
    labels = (Label("env", "prod"), Label("team", "a"), Label("team", "b"))
    assert matches(labels, [("team", "b"), ("env", None)])
    assert not matches(labels, [("team", "c")])
    assert not matches(labels, [("region", None)])
    assert matches(labels, [])


def test_journey_labels_on_proposal_then_replaced_and_a_resend_appends_nothing():
    world = World()
    propose_journey(world, labels=(Label("team", "payments"),))
    assert world.journey("checkout").labels == (Label("team", "payments"),)
    [event] = world.run(journey.LabelJourney("checkout", (Label("tier", "1"), Label("team", "payments"))))
    assert event.type == "JourneyLabeled" and event.data["labels"] == {"team": ["payments"], "tier": ["1"]}
    assert world.run(journey.LabelJourney("checkout", (Label("team", "payments"), Label("tier", "1")))) == []
    world.run(journey.LabelJourney("checkout", ()))
    assert world.journey("checkout").labels == ()


def test_a_refused_label_appends_nothing_and_names_the_field():
    world = World()
    propose_journey(world)
    before = len(world.log)
    with pytest.raises(InvalidInput) as e:
        world.run(journey.LabelJourney("checkout", (Label("team", "bad\rvalue"),)))
    assert e.value.details["field"] == "labels[0].value" and len(world.log) == before


def test_events_before_labels_fold_to_none_and_the_event_shape_is_unchanged():
    world = World()
    drafted_objective(world)
    proposed = world.events(journey.stream_id("checkout"))[0]
    drafted = world.events(objective.stream_id("checkout-availability"))[0]
    assert "labels" not in proposed.data and not {"labels", "annotations", "slo"} & set(drafted.data)
    state = world.objective("checkout-availability")
    assert (state.slo, state.labels, state.annotations) == (None, (), ())
    # A read model or snapshot written before labels existed decodes too.
    old = objective.to_dict(state)
    for key in ("slo", "labels", "annotations"):
        del old[key]
    assert objective.from_dict(old) == state
    old_journey = journey.to_dict(world.journey("checkout"))
    del old_journey["labels"]
    assert journey.from_dict(old_journey) == world.journey("checkout")


def test_objectives_of_one_slo_with_labels_and_annotations():
    world = World()
    prioritized_journey(world)
    for oid, name in (("checkout-sla", "SLA"), ("checkout-internal", "internal")):
        world.run(DraftObjective(
            oid, "checkout", name, AVAILABILITY, ROLLING_28, OCCURRENCES, slo="checkout-availability",
            labels=(Label("team", "payments"),), annotations=(Annotation("openslo.com/note", "from git"),),
        ))
    sla, internal = world.objective("checkout-sla"), world.objective("checkout-internal")
    assert sla.slo == internal.slo == "checkout-availability" and sla.name != internal.name
    assert sla.annotations == (Annotation("openslo.com/note", "from git"),)
    [event] = world.run(LabelObjective("checkout-sla", (Label("team", "core"),), ()))
    assert event.data == {"objective_id": "checkout-sla", "labels": {"team": ["core"]}, "annotations": {}}
    assert world.run(LabelObjective("checkout-sla", (Label("team", "core"),), ())) == []
    with pytest.raises(InvalidInput):
        world.run(DraftObjective("x", "checkout", "x", AVAILABILITY, ROLLING_28, OCCURRENCES, slo="not an id"))


def test_a_composite_weight_is_kept_and_a_non_positive_one_refused():
    world = World()
    prioritized_journey(world)
    world.run(DraftObjective("w", "checkout", "w", AVAILABILITY, ROLLING_28, OCCURRENCES, composite_weight=2))
    assert world.objective("w").composite_weight == 2.0
    assert world.events(objective.stream_id("w"))[0].data["composite_weight"] == 2.0
    with pytest.raises(InvalidInput) as e:
        world.run(DraftObjective("z", "checkout", "z", AVAILABILITY, ROLLING_28, OCCURRENCES, composite_weight=0))
    assert e.value.details["field"] == "composite_weight"
