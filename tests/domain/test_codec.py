"""to_dict/from_dict: JSON-safe and lossless on states built by long histories."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest

from domain import codec, journey, objective, sources
from domain.journey import (
    CloseInstrumentationGap,
    LabelJourney,
    DocumentJourneyScope,
    MapDependency,
    PrioritizeJourney,
    RecordInstrumentationGap,
    RemoveDependency,
    RetireJourney,
)
from domain.objective import (
    AttachWhatIfEvidence,
    SLI,
    Budgeting,
    DefineSli,
    DeferNegotiation,
    DraftObjective,
    AlertRoute,
    LabelObjective,
    NotificationTarget,
    SetNotificationTargets,
    RecordBaseline,
    RecordReview,
    ReviseProposal,
    RetireObjective,
    Window,
    WithdrawProposal,
)

from domain.labels import Annotation, Label

from .support import World, agree, endorse, fold, formalize, object_to, prioritized_journey, propose

OID = "rag-faithfulness"


def long_history() -> World:
    w = World()
    prioritized_journey(w, "assistant", revenue_impact=None, support_volume=None)
    w.run(PrioritizeJourney("assistant", 2, 1, "renewals depend on it"), roles={"product"})
    w.run(
        DocumentJourneyScope(
            "assistant", ("ask", "retrieve", "answer"), ("billing",), "chat box", "answer shown", "faithful answer in 4s", ("product", "ux", "sre")
        )
    )
    w.run(MapDependency("assistant", "vector-db", "vector_store", True, ("stale index",)))
    w.run(MapDependency("assistant", "llm", "inference_endpoint", True, ("hallucination", "rate limits")))
    w.run(MapDependency("assistant", "sso", "auth", False))
    w.run(LabelJourney("assistant", (Label("team", "ml"), Label("team", "search"), Label("tier", "1"))))
    w.run(RemoveDependency("assistant", "sso", "not on the path"))
    w.run(RecordInstrumentationGap("assistant", "faithfulness-eval", "no online eval", "quality"))
    w.run(RecordInstrumentationGap("assistant", "misc", "no trace ids"))
    w.run(CloseInstrumentationGap("assistant", "faithfulness-eval", "LLM judge sampling 5%"))
    w.run(CloseInstrumentationGap("assistant", "misc", "otel"))
    w.run(
        DraftObjective(
            OID,
            "assistant",
            "Answer faithfulness",
            SLI("quality", metric="answer_faithfulness", threshold=0.8, description="judge score"),
            Window("calendar_quarter"),
            Budgeting("timeslices", slice_minutes=5, slice_threshold=0.95),
        ),
        roles={"sre"},
    )
    w.run(sources.DefineDataSource("prom", "prometheus", "http://localhost:9090"), roles={"sre"})
    judged = {"kind": "ratio", "source": "prom", "good": 'judged_total{verdict="faithful"}', "total": "judged_total"}
    w.run(DefineSli(OID, judged, rationale="the judge's verdicts"), roles={"sre"})
    tz = timezone(timedelta(hours=-5))
    w.run(RecordBaseline(OID, datetime(2025, 1, 1, tzinfo=tz), datetime(2025, 3, 1, tzinfo=tz), 9_700, 10_000, "Q1"))
    w.run(LabelObjective(OID, (Label("team", "ml"),), (Annotation("openslo.com/note", "from git\nline 2"),)))
    w.run(SetNotificationTargets(OID, (AlertRoute("page_1h_5m", (NotificationTarget("ml-pager", "pagerduty", "ML on-call"),)),)),
          roles={"sre"})
    propose(w, OID, "p1", 0.99)
    object_to(w, "engineering", "too_strict", "p1", OID)
    w.run(DeferNegotiation(OID, "p1", "needs better retrieval", w.now + timedelta(days=45)))
    propose(w, OID, "p2", 0.98)
    w.run(WithdrawProposal(OID, "p2", "wrong metric"))
    propose(w, OID, "p3", 0.97)
    w.run(AttachWhatIfEvidence(OID, "p3", "target", {"from": "2025-01-01T00:00:00+00:00", "target": 0.97},
                               {"what_if": {"attainment": 0.975, "exhaustions": []}}, 42), roles={"sre"})
    endorse(w, "sre", "p3", OID)
    w.run(ReviseProposal(OID, "p3", 0.975, "meet halfway"))
    agree(w, "p3", OID)
    formalize(w, OID, version=1)
    propose(w, OID, "p4", 0.98, ("product", "sre"))
    endorse(w, "leadership", "p4", OID)
    agree(w, "p4", OID)
    formalize(w, OID, version=2)
    # the agreed SLI changes by proposal, endorsed like a target
    w.run(DefineSli(OID, {**judged, "good": 'judged_total{verdict=~"faithful|partial"}'}, "s1", "count partial answers"))
    agree(w, "s1", OID)
    w.run(RecordReview(OID, "2024-Q4", "maintain", "budget spent evenly", ("pat", "sam")), roles={"product"})
    # a tighten review opens p5 in the same command
    w.run(RecordReview(OID, "2025-Q1", "tighten", "users expect more", ("pat", "sam", "lee"),
                       w.now + timedelta(days=30), "p5", 0.985), roles={"sre"})
    w.run(RetireObjective(OID, "replaced by a composite SLO"))
    w.run(RetireJourney("assistant", "merged"))
    return w


@pytest.fixture(scope="module")
def world() -> World:
    return long_history()


def test_the_long_history_reaches_the_states_it_should(world):
    o = world.objective(OID)
    assert o.status is objective.ObjectiveStatus.RETIRED
    assert [p.status.value for p in o.proposals] == ["DEFERRED", "WITHDRAWN", "SUPERSEDED", "SUPERSEDED", "AGREED", "WITHDRAWN"]
    assert o.agreed_target == 0.98 and o.agreement.policy_version == 2
    assert o.version == len(world.events("objective-" + OID))
    j = world.journey("assistant")
    assert j.retired and j.critical_services == ("vector-db", "llm") and j.open_gaps == ()


@pytest.mark.parametrize("module, key", [(journey, "journey-assistant"), (objective, "objective-" + OID)])
def test_round_trip_is_lossless_through_json(world, module, key):
    state = world.states[key]
    data = module.to_dict(state)
    text = json.dumps(data, allow_nan=False)  # JSON-safe, strictly
    assert module.from_dict(json.loads(text)) == state
    assert module.from_dict(data) == state


def test_round_trip_holds_after_every_event(world):
    for key, events in world.streams.items():
        if key.startswith(("policy-", "source-")):
            continue  # the policies this world adopted for its agreements: not this codec's
        module = journey if key.startswith("journey-") else objective
        for n in range(1, len(events) + 1):
            state = fold(module, events[:n])
            assert module.from_dict(json.loads(json.dumps(module.to_dict(state)))) == state
            assert state.version == n


def test_refolding_the_log_gives_the_live_state(world):
    assert fold(objective, world.events("objective-" + OID)) == world.objective(OID)
    assert fold(journey, world.events("journey-assistant")) == world.journey("assistant")


def test_encoded_shape_is_plain_and_readable(world):
    data = objective.to_dict(world.objective(OID))
    assert data["status"] == "RETIRED"
    assert data["sli"]["metric"] == "answer_faithfulness"
    assert data["baseline"]["period_start"] == "2025-01-01T05:00:00+00:00"
    assert data["proposals"][0]["revisit_on"].endswith("+00:00")
    assert data["proposals"][2]["positions"][0]["stance"] == "ENDORSED"
    assert isinstance(data["history"], list) and data["history"][1]["kind"] == "BaselineRecorded"
    assert data["sli_definition"]["good"] == 'judged_total{verdict=~"faithful|partial"}'
    assert data["notification_routes"] == [{"tier": "page_1h_5m", "targets": [
        {"name": "ml-pager", "target": "pagerduty", "display_name": "ML on-call", "description": None}]}]
    assert journey.to_dict(None) is None and objective.from_dict(None) is None


def test_event_data_is_json_safe_and_uses_zoned_iso_times(world):
    for event in world.log:
        json.dumps(event.data, allow_nan=False)
        if event.type == "BaselineRecorded":
            assert event.data["period_end"] == "2025-03-01T05:00:00+00:00"


def test_every_declared_event_type_appears_in_the_history(world):
    seen = {e.type for e in world.log}
    assert set(journey.EVENT_TYPES) <= seen
    assert set(objective.EVENT_TYPES) <= seen


# --- the codec itself --------------------------------------------------------------


def test_decode_is_strict_about_keys_and_zones(world):
    data = journey.to_dict(world.journey("assistant"))
    with pytest.raises(ValueError):
        journey.from_dict({**data, "surprise": 1})
    missing = dict(data)
    del missing["tier"]
    with pytest.raises(ValueError):
        journey.from_dict(missing)
    with pytest.raises(ValueError):
        journey.from_dict({**data, "proposed_at": "2025-01-01T00:00:00"})
    with pytest.raises(ValueError):
        codec.encode(datetime(2025, 1, 1))


def test_decode_keeps_offsets_and_floats():
    @dataclass(frozen=True)
    class Sample:
        at: datetime
        ratio: float
        label: str | None
        items: tuple[int, ...]

    sample = Sample(datetime(2025, 1, 1, 12, tzinfo=timezone(timedelta(hours=2))), 1.0, None, (1, 2))
    data = codec.encode(sample)
    assert data == {"at": "2025-01-01T12:00:00+02:00", "ratio": 1.0, "label": None, "items": [1, 2]}
    back = codec.decode(Sample, {**data, "ratio": 1})  # a JSON encoder may have written 1
    assert back == sample and isinstance(back.ratio, float)
    assert back.at.utcoffset() == timedelta(hours=2)


@dataclass(frozen=True)
class _Node:
    label: str
    children: tuple["_Node", ...]
    weight: float | None = None


@dataclass(frozen=True)
class _Odd:
    handler: "set[int]"


def test_decoders_are_built_once_per_hint_and_stay_strict():
    """Decoders are compiled per hint (codec._decoder): a self-referring state decodes,
    an unsupported hint fails the same way on every call, and the checks still hold."""
    tree = _Node("root", (_Node("a", (), 1), _Node("b", (_Node("c", ()),))))
    assert codec.decode(_Node, json.loads(json.dumps(codec.encode(tree)))) == tree
    assert codec.decode(_Node, {"label": "x", "children": [], "weight": 2}).weight == 2.0
    for _ in range(2):
        with pytest.raises(TypeError, match="cannot decode into"):
            codec.decode(_Odd, {"handler": [1]})
    bad = [
        {"label": "x", "children": [], "weight": True},  # a bool is not a number
        {"label": "x", "children": {}, "weight": None},  # a tuple comes as a list
        {"label": 1, "children": [], "weight": None},
        {"label": "x", "children": [], "weight": None, "extra": 1},
        {"label": "x", "children": []},
    ]
    for data in bad:
        with pytest.raises(ValueError):
            codec.decode(_Node, data)


def test_encoders_are_found_once_per_type_and_stay_strict():
    import enum as enum_module

    class Colour(str, enum_module.Enum):
        RED = "red"

    naive = datetime(2026, 1, 1)
    for _ in range(2):  # the second call takes the cached encoder
        assert codec.encode({"c": (Colour.RED, [1, 2.5, None, True])}) == {"c": ["red", [1, 2.5, None, True]]}
        with pytest.raises(ValueError, match="naive"):
            codec.encode(naive)
        with pytest.raises(TypeError, match="cannot encode object"):
            codec.encode(object())
    assert codec.encode(_Node("a", ())) == {"label": "a", "children": [], "weight": None}
