"""Test support: an in-memory log that runs commands through authorize, decide and evolve.

`World` stands in for the store: it numbers events with increasing positions and
stream versions, stamps them with a fixed clock (advancing one minute per command),
round-trips their data through JSON as the store does, and folds them into states.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import reduce
from typing import Any

from domain import collection, conventions, journey, objective, permissions, policy, sources
from domain.budget import decider as budget
from domain.events import Context, NewEvent, RecordedEvent

UTC = timezone.utc
T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)

MODULES = {journey.CATEGORY: journey, objective.CATEGORY: objective, policy.CATEGORY: policy,
           conventions.CATEGORY: conventions,
           budget.CATEGORY: budget, collection.CATEGORY: collection, sources.CATEGORY: sources}


def module_for(command: Any):
    return MODULES[command.stream().split("-", 1)[0]]


def default_roles(command: Any) -> frozenset[str]:
    # Enough to pass authorize(): a party speaks as itself, anything else as admin.
    party = getattr(command, "party", None)
    return frozenset({party}) if party else frozenset({"admin"})


def fold(module: Any, events: list[RecordedEvent]) -> Any:
    return reduce(module.evolve, events, module.initial_state())


@dataclass
class World:
    now: datetime = T0
    tick: timedelta = timedelta(minutes=1)
    log: list[RecordedEvent] = field(default_factory=list)
    streams: dict[str, list[RecordedEvent]] = field(default_factory=dict)
    states: dict[str, Any] = field(default_factory=dict)

    # --- reading ---
    def journey(self, journey_id: str) -> journey.JourneyState | None:
        return self.states.get(journey.stream_id(journey_id))

    def objective(self, objective_id: str) -> objective.ObjectiveState | None:
        return self.states.get(objective.stream_id(objective_id))

    def events(self, stream: str) -> list[RecordedEvent]:
        return self.streams.get(stream, [])

    # --- deciding ---
    def context(self, command: Any, actor: str, roles: frozenset[str]) -> Context:
        own = self.states.get(command.stream())
        related = {s: self.states.get(s) for s in command.reads(own)}
        return Context(now=self.now, actor=actor, roles=roles, related=related)

    def decide(self, command: Any, *, actor: str = "alice", roles: Any = None) -> list[NewEvent]:
        """What the decider says, without recording it."""
        roles = frozenset(roles) if roles is not None else default_roles(command)
        ctx = self.context(command, actor, roles)
        return module_for(command).decide(command, self.states.get(command.stream()), ctx)

    def run(self, command: Any, *, actor: str = "alice", roles: Any = None) -> list[RecordedEvent]:
        """authorize, decide, record and fold, as the service would."""
        roles = frozenset(roles) if roles is not None else default_roles(command)
        role = permissions.authorize(command, roles)
        ctx = self.context(command, actor, roles)
        stream = command.stream()
        new_events = module_for(command).decide(command, self.states.get(stream), ctx)
        recorded = self.record(stream, new_events, actor=actor, role=role)
        self.now += self.tick
        return recorded

    def record(self, stream: str, new_events: list[NewEvent], *, actor: str, role: str) -> list[RecordedEvent]:
        module = MODULES[stream.split("-", 1)[0]]
        out = []
        for new in new_events:
            history = self.streams.setdefault(stream, [])
            event = RecordedEvent(
                position=len(self.log) + 1,
                event_id=f"evt-{len(self.log) + 1}",
                stream_id=stream,
                stream_version=len(history) + 1,
                type=new.type,
                schema_version=new.schema_version,
                # What a reader gets back from the store: the data after a JSON round trip.
                data=json.loads(json.dumps(dict(new.data), allow_nan=False)),
                metadata={"actor": actor, "role": role},
                recorded_at=self.now,
            )
            self.log.append(event)
            history.append(event)
            self.states[stream] = module.evolve(self.states.get(stream), event)
            out.append(event)
        return out


# --- builders: a journey or objective at a given point of its life -----------


def propose_journey(world: World, journey_id: str = "checkout", **overrides: Any) -> None:
    fields = dict(
        journey_id=journey_id,
        name="Checkout",
        description="A shopper buys what is in the cart",
        steps=("open cart", "enter payment", "confirm order"),
        starts_at="cart page",
        ends_at="order confirmation",
        success_criteria="order confirmed within 5 seconds",
        owner="payments-team",
        tier=1,
        revenue_impact="gates all revenue",
        conversion_impact="3% drop per second of delay",
        support_volume=120,
    )
    fields.update(overrides)
    world.run(journey.ProposeJourney(**fields), actor="pat", roles={"product"})


def prioritized_journey(world: World, journey_id: str = "checkout", **overrides: Any) -> None:
    propose_journey(world, journey_id, **overrides)
    world.run(
        journey.PrioritizeJourney(journey_id, priority=1, tier=1, rationale="gates revenue"),
        actor="lee",
        roles={"leadership"},
    )


AVAILABILITY = objective.SLI(kind="availability")
ROLLING_28 = objective.Window(kind="rolling", days=28)
OCCURRENCES = objective.Budgeting(method="occurrences")


def drafted_objective(
    world: World, objective_id: str = "checkout-availability", journey_id: str = "checkout"
) -> None:
    if world.journey(journey_id) is None:
        prioritized_journey(world, journey_id)
    world.run(
        objective.DraftObjective(
            objective_id, journey_id, "Checkout availability", AVAILABILITY, ROLLING_28, OCCURRENCES
        ),
        actor="sam",
        roles={"sre"},
    )


def propose(
    world: World,
    objective_id: str = "checkout-availability",
    proposal_id: str = "p1",
    target: float = 0.999,
    parties: tuple[str, ...] = objective.PARTIES,
) -> list[RecordedEvent]:
    return world.run(
        objective.ProposeTarget(objective_id, proposal_id, target, "baseline is 99.95%", parties),
        actor="sam",
        roles={"sre"},
    )


def endorse(world: World, party: str, proposal_id: str = "p1", objective_id: str = "checkout-availability"):
    return world.run(objective.EndorseProposal(objective_id, proposal_id, party, "fine by us"), actor=f"{party}-lead")


def object_to(
    world: World,
    party: str,
    objection: str = "too_strict",
    proposal_id: str = "p1",
    objective_id: str = "checkout-availability",
):
    return world.run(
        objective.ObjectToProposal(objective_id, proposal_id, party, objection, "costs too much"),
        actor=f"{party}-lead",
    )


def agree(world: World, proposal_id: str = "p1", objective_id: str = "checkout-availability") -> None:
    proposal = world.objective(objective_id).proposal(proposal_id)
    for party in proposal.required_parties:
        endorse(world, party, proposal_id, objective_id)


@dataclass(frozen=True)
class PolicyText:
    """A parsed policy as the policy decider sees one (anything with `id` and `to_dict`)."""

    id: str
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "text": self.text}


def adopt_versions(world: World, policy_id: str, up_to: int) -> None:
    """Adopt versions of `policy_id` until `up_to` exists (an agreement may pin only those)."""
    state = world.states.get(policy.stream_id(policy_id))
    for n in range(len(state.versions) if state else 0, up_to):
        world.run(policy.AdoptPolicy(policy_id, PolicyText(policy_id, f"version {n + 1}")), roles={"sre"})


def formalize(world: World, objective_id: str = "checkout-availability", version: int = 1):
    adopt_versions(world, "default-policy", version)
    return world.run(
        objective.FormalizeAgreement(
            objective_id,
            policy_id="default-policy",
            policy_version=version,
            product_owner="pat",
            sre_owner="sam",
            escalation_path=("sre-oncall", "eng-manager", "vp-eng"),
            resource_commitment="20% of the team's sprint when budget is below 25%",
        ),
        actor="sam",
        roles={"sre"},
    )


def types(events: list[Any]) -> list[str]:
    return [e.type for e in events]
