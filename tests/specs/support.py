from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from api.specs.openslo_export import render
from api.specs.reader import read_paths, read_texts
from domain.events import Context, RecordedEvent
from domain.specs.model import Provenance, SpecSet
from domain.specs.of_state import specs_of
from domain.specs.plan import Current, Plan, plan, wanted, wanted_sources
from service.aggregates import aggregate_for

FIXTURES = Path(__file__).parent / "fixtures"


def read(*names: str) -> SpecSet:
    return read_paths([FIXTURES / name for name in names])


def read_text(text: str, file: str = "inline.yaml") -> SpecSet:
    return read_texts([(file, text)])


class MemoryLog:
    """The deciders and evolves over plain dicts, no database: an import planned and run
    as the bus would run it (each command decided after the one before), for fast tests."""

    NOW = datetime(2026, 6, 1, tzinfo=timezone.utc)

    def __init__(self) -> None:
        self.states: dict[str, object] = {}
        self.versions: dict[str, int] = {}
        self.position = 0

    def run(self, command: object, actor: str = "importer", roles: frozenset[str] = frozenset({"admin"})) -> None:
        stream = command.stream()
        state = self.states.get(stream)
        related = {s: self.states.get(s) for s in command.reads(state)}
        aggregate = aggregate_for(stream)
        for new in aggregate.decide(command, state, Context(self.NOW, actor, roles, related)):
            self.position += 1
            self.versions[stream] = self.versions.get(stream, 0) + 1
            event = RecordedEvent(self.position, f"e{self.position}", stream, self.versions[stream], new.type,
                                  new.schema_version, new.data, {"actor": actor}, self.NOW)
            state = aggregate.evolve(state, event)
        self.states[stream] = state

    def current(self, specs: SpecSet) -> Current:
        journey_ids, objective_ids = wanted(specs)
        budgets = {o: self.states.get(f"budget-{o}") for o in objective_ids}
        return Current({j: self.states.get(f"journey-{j}") for j in journey_ids},
                       {o: self.states.get(f"objective-{o}") for o in objective_ids},
                       {o: b.tiers if b is not None else None for o, b in budgets.items()},
                       {n: self.states.get(f"source-{n}") for n in wanted_sources(specs)})

    def import_(self, specs: SpecSet, actor: str = "importer") -> Plan:
        the_plan = plan(specs, self.current(specs), actor=actor, source="test")
        for command, _ in the_plan.commands:
            self.run(command, actor)
        return the_plan

    def export(self, include_drafts: bool = True, provenance: Provenance | None = None) -> str:
        objectives = [s for k, s in self.states.items() if k.startswith("objective-")]
        journeys = {k.split("-", 1)[1]: s for k, s in self.states.items() if k.startswith("journey-")}
        tiers = {k.split("-", 1)[1]: s.tiers for k, s in self.states.items() if k.startswith("budget-")}
        sources = {k.split("-", 1)[1]: s for k, s in self.states.items() if k.startswith("source-")}
        specs, slos = specs_of(journeys, objectives, tiers, include_drafts=include_drafts, sources=sources)
        if provenance is not None:
            provenance = Provenance(provenance.position, provenance.chain_hash, slos)
        return render(specs, provenance)
