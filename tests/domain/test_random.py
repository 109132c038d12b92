"""A seeded random walk over both deciders, checking invariants after every command.

Hundreds of commands, valid and not, from actors holding random roles. A refused
command must record nothing; after every accepted one the states must be
consistent with their own history and survive a JSON round trip.
"""

from __future__ import annotations

import json
import random
from datetime import timedelta

import pytest

from domain import journey, objective, permissions
from domain.errors import DomainError
from domain.objective import ObjectiveStatus, ProposalStatus, Stance

from .support import World, fold

JOURNEYS = ("j1", "j2")
OBJECTIVES = {"o1": "j1", "o2": "j1", "o3": "j2"}
PROPOSALS = tuple(f"p{i}" for i in range(1, 9))
GAPS = ("g1", "g2", "g3")
SERVICES = ("api", "db", "llm")
TARGETS = (0.9, 0.95, 0.99, 0.995, 0.999, 0.9999, 0.98, 0.97, 1.0, 99.9)
SLIS = (
    objective.SLI("availability"),
    objective.SLI("latency", threshold_ms=250),
    objective.SLI("quality", metric="answer_faithfulness", threshold=0.8),
    objective.SLI("freshness", threshold_seconds=30),
    objective.SLI("latency"),  # invalid
)


def random_command(rng: random.Random, world: World, late: bool = False):
    """A random command, biased toward ones that can succeed so negotiations progress."""
    j = rng.choice(JOURNEYS)
    o = rng.choice(tuple(OBJECTIVES))
    negotiating = [k for k in OBJECTIVES if world.objective(k) and world.objective(k).open_proposal]
    if negotiating and rng.random() < 0.7:
        o = rng.choice(negotiating)
    state = world.objective(o)
    p = rng.choice(PROPOSALS)
    if state is not None and rng.random() < 0.8:
        if state.open_proposal is not None:
            p = state.open_proposal.proposal_id
        else:
            used = {x.proposal_id for x in state.proposals}
            p = next((x for x in PROPOSALS if x not in used), p)
    gap = rng.choice(GAPS)
    journey_state = world.journey(j)
    if journey_state is not None and journey_state.open_gaps and rng.random() < 0.7:
        gap = journey_state.open_gaps[0].gap_id
    party = rng.choice(objective.PARTIES)
    now = world.now
    # Weights follow the situation: positions while a proposal is open, creation while
    # nothing exists yet, each still sometimes tried where it must be refused.
    talk = 1.0 if state is not None and state.open_proposal is not None else 0.1
    new_journey = 2 if journey_state is None else 0.2
    new_objective = 3 if state is None else 0.3
    # Retirement ends a stream's story, so it comes only in the last part of the walk.
    retire = 0.3 if late else 0.0
    makers = [
        (new_journey, lambda: journey.ProposeJourney(j, "J", "d", ("a", "b"), "s", "e", "c", "team", rng.randint(0, 3))),
        (3, lambda: journey.PrioritizeJourney(j, rng.randint(0, 3), rng.randint(1, 3), "why")),
        (1, lambda: journey.DocumentJourneyScope(j, ("x",), (), "s", "e", "c", ("product", "sre"))),
        (2, lambda: journey.MapDependency(j, rng.choice(SERVICES), rng.choice(journey.DEPENDENCY_KINDS), rng.random() < 0.5)),
        (1, lambda: journey.RemoveDependency(j, rng.choice(SERVICES), "gone")),
        (1, lambda: journey.RecordInstrumentationGap(j, gap, "missing")),
        (3, lambda: journey.CloseInstrumentationGap(j, gap, "fixed")),
        (retire / 3, lambda: journey.RetireJourney(j, "done")),
        (
            new_objective,
            lambda: objective.DraftObjective(
                o, OBJECTIVES[o], "O", rng.choice(SLIS), objective.Window("rolling", 28), objective.Budgeting("occurrences")
            ),
        ),
        (
            1,
            lambda: objective.RecordBaseline(
                o, now - timedelta(days=30), now + timedelta(hours=rng.choice((-1, -1, 1))), rng.randint(0, 100), rng.randint(0, 100)
            ),
        ),
        (5 / (10 * talk), lambda: objective.ProposeTarget(o, p, rng.choice(TARGETS), "r", tuple(rng.sample(objective.PARTIES, rng.randint(1, 4))))),
        (14 * talk, lambda: objective.EndorseProposal(o, p, party, None)),
        (4 * talk, lambda: objective.ObjectToProposal(o, p, party, rng.choice(objective.OBJECTION_KINDS), "no")),
        (2 * talk, lambda: objective.ReviseProposal(o, p, rng.choice(TARGETS), "again")),
        (1 * talk, lambda: objective.WithdrawProposal(o, p, "no longer")),
        (1 * talk, lambda: objective.DeferNegotiation(o, p, "later", now + timedelta(days=rng.choice((-1, 10))))),
        (2, lambda: objective.FormalizeAgreement(o, "pol", rng.randint(1, 3), "pat", "sam", ("oncall",), "time")),
        (retire, lambda: objective.RetireObjective(o, "done")),
    ]
    weights = [w for w, _ in makers]
    return rng.choices([m for _, m in makers], weights)[0]()


def random_roles(rng: random.Random, command) -> frozenset[str]:
    # Mostly a role that may act (a party speaks as itself), sometimes any role at all.
    if rng.random() < 0.1:
        return frozenset(rng.sample(permissions.ROLES, rng.randint(0, 2)))
    allowed = permissions.allowed_roles(type(command))
    if hasattr(command, "party"):
        return frozenset({command.party})
    return frozenset({rng.choice(allowed)})


# --- invariants ------------------------------------------------------------------


def check_objective(state: objective.ObjectiveState, events: list) -> None:
    assert state.version == len(events) == events[-1].stream_version
    assert state.updated_at == events[-1].recorded_at
    open_ = [p for p in state.proposals if p.status is ProposalStatus.OPEN]
    agreed = [p for p in state.proposals if p.status is ProposalStatus.AGREED]
    assert len(open_) <= 1 and len(agreed) <= 1
    assert len({p.proposal_id for p in state.proposals}) == len(state.proposals)
    assert state.open_proposal == (open_[0] if open_ else None)
    # The agreed target is the agreed proposal's.
    if agreed:
        assert (state.agreed_target, state.agreed_proposal_id) == (agreed[0].target, agreed[0].proposal_id)
    else:
        assert state.agreed_target is None and state.agreed_proposal_id is None
    # Status is consistent with the proposals and the agreement.
    status = state.status
    if status is ObjectiveStatus.RETIRED:
        assert events[-1].type == "ObjectiveRetired" and not open_
    elif status is ObjectiveStatus.DRAFT:
        assert not open_ and not agreed and state.agreement is None
    elif status is ObjectiveStatus.NEGOTIATING:
        assert open_ and not agreed and state.agreement is None
    elif status is ObjectiveStatus.AGREED:
        assert agreed and state.agreement is None
    elif status is ObjectiveStatus.ACTIVE:
        assert agreed and state.agreement is not None
    assert state.informational == (state.agreement is None)
    # An open proposal always awaits someone; an agreed one was endorsed by all it required.
    for p in open_:
        assert p.awaiting
    for p in state.proposals:
        if p.status in (ProposalStatus.AGREED, ProposalStatus.SUPERSEDED):
            assert p.awaiting == ()
        assert all(pos.revision <= p.revision for pos in p.positions)
        assert p.required_parties and set(p.required_parties) <= set(objective.PARTIES)
        assert 0 < p.target < 1
    negotiation = [e for e in events if e.type in objective.NEGOTIATION_EVENT_TYPES]
    assert [h.kind for h in state.history] == [e.type for e in negotiation]


def check_journey(state: journey.JourneyState, events: list) -> None:
    assert state.version == len(events) == events[-1].stream_version
    assert len({d.service for d in state.dependencies}) == len(state.dependencies)
    assert len({g.gap_id for g in state.gaps}) == len(state.gaps)
    assert all(g.open == (g.resolution is None) for g in state.gaps)
    assert state.retired == (events[-1].type == "JourneyRetired")
    if state.status is journey.JourneyStatus.PROPOSED:
        assert state.priority is None
    if state.status is journey.JourneyStatus.PRIORITIZED:
        assert state.priority is not None and state.prioritized_by is not None


def check_batch(events: list) -> None:
    """TargetAgreed comes only right after the endorsement that completes the agreement."""
    types = [e.type for e in events]
    if "TargetAgreed" in types:
        assert types == ["ProposalEndorsed", "TargetAgreed"]
    if "ObjectiveRetired" in types:
        assert types in (["ObjectiveRetired"], ["ProposalWithdrawn", "ObjectiveRetired"])


def agreement_expected(proposal: objective.Proposal, party: str) -> bool:
    """An oracle written from the rule, not from Proposal.awaiting: after `party`
    endorses, has every required party's latest word on this revision been an endorsement?"""
    latest = {pos.party: pos.stance for pos in proposal.positions if pos.revision == proposal.revision}
    latest[party] = Stance.ENDORSED
    return all(latest.get(p) is Stance.ENDORSED for p in proposal.required_parties)


def check_world(world: World) -> None:
    for stream, events in world.streams.items():
        state = world.states[stream]
        module = journey if stream.startswith("journey-") else objective
        (check_journey if module is journey else check_objective)(state, events)
        assert module.from_dict(json.loads(json.dumps(module.to_dict(state), allow_nan=False))) == state


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_random_walk_keeps_the_invariants(seed):
    rng = random.Random(seed)
    world = World()
    accepted = refused = 0
    agreements = 0
    steps = 600
    for step in range(steps):
        command = random_command(rng, world, late=step > steps * 0.8)
        roles = random_roles(rng, command)
        before = (len(world.log), dict(world.states))
        try:
            events = world.run(command, actor=f"actor-{rng.randint(1, 5)}", roles=roles)
        except DomainError:
            refused += 1
            # A refusal records nothing and changes nothing.
            assert (len(world.log), world.states) == before
            continue
        accepted += 1
        assert events, "an accepted command records at least one event"
        check_batch(events)
        if isinstance(command, objective.EndorseProposal):
            proposal = before[1][command.stream()].proposal(command.proposal_id)
            agreed_now = "TargetAgreed" in [e.type for e in events]
            assert agreed_now == agreement_expected(proposal, command.party)
        agreements += sum(e.type == "TargetAgreed" for e in events)
        check_world(world)
    # The walk must exercise the interesting paths, not just bounce off refusals.
    assert accepted > 150 and refused > 50
    assert agreements >= 1
    # The log as a whole folds back to the same states.
    for stream, events in world.streams.items():
        module = journey if stream.startswith("journey-") else objective
        assert fold(module, events) == world.states[stream]
    assert [e.position for e in world.log] == list(range(1, len(world.log) + 1))
