"""An import's plan: what a SpecSet would create, propose, change or leave alone, against
the current state, and the commands that do it, in the order they must run (pure).

The commands are applied as one all-or-nothing sequence (`CommandBus.execute_sequence`).
Rules (mapping.py says how each kind maps):

  * a Prometheus DataSource with a URL is defined (`DefineDataSource`), or changed when its
    URL differs (the headers slogov keeps, named by environment variables, stay);
  * a new Service is a journey proposed and prioritized by the importing actor, depending
    critically on the service itself; an existing journey is left as it is;
  * a new objective is drafted, and its target proposed by the importing actor: a proposal
    to negotiate, never an agreement;
  * an objective whose target is already agreed (or already proposed) is left alone, so an
    unchanged file imported again plans nothing; another target opens a proposal (or
    revises the open one) and leaves the agreement in force;
  * an objective whose SLI kind, window or budgeting differ from the file's is refused:
    slogov does not redefine an objective in place (retire it, or give the SLO a new name);
  * an SLI whose queries (PromQL) differ from the objective's recorded definition is set on
    a draft (`DefineSli`) and, on an agreed objective, opens an SLI-change proposal that
    leaves the agreement in force (the same queries already proposed: nothing); during a
    first negotiation, or beside a target change or another open proposal, it is refused
    with its place (one proposal at a time);
  * alert tiers (the SLO's alert policies) are configured when they differ, and each
    tier's notification targets (its policy's AlertNotificationTargets) set on the
    objective when they differ (`SetNotificationTargets`); an SLO without alert policies
    leaves both as they are.

Labels and annotations: a Service's labels are its journey's (replaced whole when the
file's differ); an SLO's labels and annotations, and its objective's own labels, are each
objective's. What the domain has no place for yet (other data sources, a notification target no SLO's
alert policy names, a Service's annotations) is listed in `notes`, beside what the readers
did not carry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from domain import journey as journeys
from domain import sources
from domain.budget.decider import ConfigureAlerts
from domain.objective import (AlertRoute, DefineSli, DraftObjective, LabelObjective, ObjectiveState, ProposeTarget,
                              ReviseProposal, SetNotificationTargets)
from domain.objective.measurement import describe
from domain.objective.state import SliQuery

from . import mapping
from .mapping import MappingError
from .model import Slo, SpecSet, Where

CREATE = "CREATE"
PROPOSE = "PROPOSE"
CHANGE = "CHANGE"
UNCHANGED = "UNCHANGED"
NEW_JOURNEY_TIER = 3  # the least critical: the business sets the real one when it prioritizes
NEW_JOURNEY_PRIORITY = 100
PROPOSAL_PREFIX = "import-"


@dataclass(frozen=True, slots=True)
class Step:
    action: str  # CREATE | PROPOSE | CHANGE | UNCHANGED
    subject: str  # "journey checkout", "objective checkout-availability"
    detail: str
    commands: tuple[Any, ...] = ()
    where: Where | None = None

    def __str__(self) -> str:
        return f"{self.action:<9} {self.subject}: {self.detail}"


@dataclass(frozen=True, slots=True)
class Plan:
    steps: tuple[Step, ...]
    notes: tuple[str, ...] = ()

    @property
    def commands(self) -> tuple[tuple[Any, Step], ...]:
        """Every command with the step it belongs to, in order."""
        return tuple((c, s) for s in self.steps for c in s.commands)

    @property
    def empty(self) -> bool:
        return not self.commands


class PlanErrors(ValueError):
    """Everything in the specs that cannot be carried, each with its place."""

    def __init__(self, errors: list[MappingError]) -> None:
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = tuple(errors)


@dataclass(frozen=True, slots=True)
class Current:
    """The state the plan is computed against: None where the stream does not exist."""

    journeys: Mapping[str, journeys.JourneyState | None] = field(default_factory=dict)
    objectives: Mapping[str, ObjectiveState | None] = field(default_factory=dict)
    tiers: Mapping[str, list[dict[str, Any]] | None] = field(default_factory=dict)  # configured, by objective
    sources: Mapping[str, Any] = field(default_factory=dict)  # data sources by name (sources.SourceState)


def wanted_sources(specs: SpecSet) -> tuple[str, ...]:
    return tuple(sorted(s.meta.name for s in specs.data_sources))


def wanted(specs: SpecSet) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The journey ids and objective ids a plan reads."""
    return (tuple(sorted({s.service for s in specs.slos} | {s.meta.name for s in specs.services})),
            tuple(sorted({i for s in specs.slos for o in s.objectives for i in mapping.objective_ids(s, o)})))


def plan(specs: SpecSet, current: Current, *, actor: str, source: str = "a spec file") -> Plan:
    steps: list[Step] = []
    notes: list[str] = []
    errors: list[MappingError] = []
    for data_source in specs.data_sources:
        try:
            step = _data_source(data_source, current)
        except MappingError as e:
            errors.append(e)
        else:
            steps += [step] if step is not None else []
    services = {s.meta.name: s for s in specs.services}
    for name in wanted(specs)[0]:
        try:
            steps.append(_journey(name, services.get(name), current, actor, source))
        except MappingError as e:
            errors.append(e)
    ids: dict[str, Slo] = {}
    for slo in specs.slos:
        for index, objective in enumerate(slo.objectives):
            candidates = mapping.objective_ids(slo, objective)
            oid = next((i for i in candidates if current.objectives.get(i) is not None), candidates[0])
            try:
                if oid in ids:
                    raise MappingError(mapping.at(slo, f"spec.objectives[{index}]"),
                                       f"objective id {oid} is also SLO {ids[oid].meta.name}'s")
                if mapping.SEPARATOR in slo.meta.name:
                    raise MappingError(mapping.at(slo, "metadata.name"), f"an SLO name must not hold {mapping.SEPARATOR!r}")
                ids[oid] = slo
                steps += _objective(specs, slo, index, oid, current, source, notes)
            except MappingError as e:
                errors.append(e)
    if errors:  # one fault shared by several objectives (an SLO's alert policy) is said once
        raise PlanErrors(list({str(e): e for e in errors}.values()))
    return Plan(tuple(steps), tuple(str(n) for n in specs.not_carried) + _notes(specs) + tuple(notes))


def _data_source(source: Any, current: Current) -> Step | None:
    """A Prometheus DataSource with a URL: defined, or changed (its headers kept)."""
    name, where = source.meta.name, source.meta.origin
    if source.type.lower() != "prometheus" or source.url is None:
        return None  # noted: slogov reads Prometheus only, and needs the URL
    state = current.sources.get(name)
    if state is None:
        return Step(CREATE, f"data source {name}", f"prometheus at {source.url}",
                    (sources.DefineDataSource(name, "prometheus", source.url),), where)
    if state.retired:
        raise MappingError(where, f"data source {name} is retired")
    if (state.kind, state.url) == ("prometheus", source.url.rstrip("/")):
        return Step(UNCHANGED, f"data source {name}", f"prometheus at {state.url}", where=where)
    return Step(CHANGE, f"data source {name}", f"URL {state.url} -> {source.url}",
                (sources.ChangeDataSource(name, "prometheus", source.url, dict(state.headers_from_env)),), where)


def _journey(name: str, service: Any, current: Current, actor: str, source: str) -> Step:
    where = service.meta.origin if service is not None else None
    state = current.journeys.get(name)
    labels = mapping.labels(service.meta.labels) if service is not None else ()
    if state is not None:
        if state.retired:
            raise MappingError(where, f"journey {name} is retired")
        if service is not None and state.labels != labels:
            return Step(CHANGE, f"journey {name}", f"labels: {_labels_text(labels)}",
                        (journeys.LabelJourney(name, labels),), where)
        return Step(UNCHANGED, f"journey {name}", f"exists ({state.status.value.lower()})", where=where)
    display = service.meta.display_name if service is not None else None
    description = (service.description if service is not None else None) or f"The service {name}, a journey of one."
    commands = (
        journeys.ProposeJourney(
            name, display or name, description, (f"use {name}",), name, name,
            f"{name} meets its objectives", actor, NEW_JOURNEY_TIER, labels=labels),
        journeys.PrioritizeJourney(name, NEW_JOURNEY_PRIORITY, NEW_JOURNEY_TIER,
                                   f"Imported from {source}: its SLOs are negotiated on a prioritized journey; "
                                   "re-prioritize it as the business decides."),
        journeys.MapDependency(name, name, "service", True),
    )
    return Step(CREATE, f"journey {name}", f"a service of one, tier {NEW_JOURNEY_TIER}, priority {NEW_JOURNEY_PRIORITY}",
                commands, where)


def _objective(specs: SpecSet, slo: Slo, index: int, oid: str, current: Current, source: str,
               notes: list[str]) -> list[Step]:
    objective = slo.objectives[index]
    where = objective.origin or mapping.at(slo, f"spec.objectives[{index}]")
    sli = mapping.sli_of(specs, slo, index, objective)
    window = mapping.window_of(slo)
    budgeting = mapping.budgeting_of(slo, index, objective)
    target = objective.target
    rationale = f"Imported from {source} (SLO {slo.meta.name}, objective {objective.name})."
    subject = f"objective {oid}"
    labels = mapping.labels(slo.meta.labels, objective.labels)
    annotations = mapping.annotations(slo.meta.annotations)
    definition = mapping.definition_of(specs, slo, objective, budgeting)
    state = current.objectives.get(oid)
    steps: list[Step] = []
    if state is None:
        # the definition before the proposal: the parties negotiate the target on what it measures
        define = (DefineSli(oid, definition),) if definition is not None else ()
        detail = f"drafted on journey {slo.service}" + (f", SLI read from {definition['source']}" if definition else "")
        steps.append(Step(CREATE, subject, f"{detail}, target {target} proposed",
                          (DraftObjective(oid, slo.service, objective.name, sli, window, budgeting,
                                          slo=slo.meta.name, labels=labels, annotations=annotations,
                                          composite_weight=objective.composite_weight),
                           *define, ProposeTarget(oid, _proposal_id(None), target, rationale)), where))
    else:
        differs = [f"{what} {ours} (the file: {theirs})" for what, ours, theirs, same in (
            ("journey", state.journey_id, slo.service, state.journey_id == slo.service),
            ("SLI", state.sli, sli, state.sli == sli),
            ("window", state.window, window, mapping.same_window(state.window, window)),
            ("budgeting", state.budgeting, budgeting, state.budgeting == budgeting)) if not same]
        if state.retired:
            raise MappingError(where, f"{subject} is retired: give the SLO a new name")
        if differs:
            raise MappingError(where, f"{subject} exists with another definition: " + "; ".join(differs)
                               + ". slogov does not redefine an objective in place: retire it, or name the SLO anew")
        target_step = _target(state, subject, target, rationale, where)
        sli_step = _sli_definition(state, subject, definition, target_step,
                                   f"Imported from {source} (SLO {slo.meta.name}, objective {objective.name}): "
                                   "the SLI as the file defines it.", where)
        # the definition before a proposal: the parties negotiate the target on what it measures
        steps += [sli_step, target_step] if sli_step is not None else [target_step]
        if state.composite_weight != objective.composite_weight:
            notes.append(f"{subject}: compositeWeight {objective.composite_weight} not carried: an objective's "
                         f"weight ({state.composite_weight}) is set when it is drafted")
        if (state.labels, state.annotations) != (labels, annotations):
            steps.append(Step(CHANGE, subject, f"labels: {_labels_text(labels)}; {len(annotations)} annotations",
                              (LabelObjective(oid, labels, annotations),), where))
    tiers = mapping.tiers_of(specs, slo)
    if tiers is not None:
        wanted_tiers = [t.to_dict() for t in tiers]
        now = current.tiers.get(oid)
        if now is None or sorted(now, key=_tier_key) != wanted_tiers:
            steps.append(Step(CHANGE, subject, f"alert tiers: {_tiers_text(wanted_tiers)}",
                              (ConfigureAlerts(oid, tuple(wanted_tiers)),), where))
    routes = mapping.routes_of(specs, slo)
    if routes is not None and routes != (state.notification_routes if state is not None else ()):
        steps.append(Step(CHANGE, subject, f"notification targets: {_routes_text(routes)}",
                          (SetNotificationTargets(oid, routes),), where))
    return steps


def _target(state: ObjectiveState, subject: str, target: float, rationale: str, where: Where | None) -> Step:
    open_ = state.open_proposal
    agreed = state.agreed_target
    if agreed == target:
        detail = f"target {target} agreed"
        if open_ is not None:
            what = "an SLI change" if open_.sli_definition is not None else open_.target
            detail += f"; proposal {open_.proposal_id} for {what} stays open"
        return Step(UNCHANGED, subject, detail, where=where)
    if open_ is not None and open_.target == target:
        return Step(UNCHANGED, subject, f"target {target} already proposed ({open_.proposal_id})", where=where)
    if open_ is not None:
        return Step(CHANGE, subject, f"proposal {open_.proposal_id} revised from {open_.target} to {target}",
                    (ReviseProposal(state.id, open_.proposal_id, target, rationale),), where)
    detail = f"target {target} proposed" + (f"; the agreed {agreed} stays in force until it is agreed"
                                            if agreed is not None else "")
    return Step(PROPOSE, subject, detail, (ProposeTarget(state.id, _proposal_id(state), target, rationale),), where)


def _sli_definition(state: ObjectiveState, subject: str, definition: dict[str, Any] | None, target_step: Step,
                    rationale: str, where: Where | None) -> Step | None:
    """The file's SLI definition (PromQL) against the recorded one, by the domain's rules
    (domain/objective/measurement.py): set on a draft; on an agreed objective, a proposal
    the parties endorse, the agreement staying in force; during a first negotiation,
    refused (the parties are weighing the definition they see). None: nothing to say (the
    file defines no queries, or the same ones)."""
    held = state.sli_definition.definition() if state.sli_definition is not None else None
    if definition is None or held == definition:
        return None
    what = describe(SliQuery.from_definition(definition, False))
    open_ = state.open_proposal
    if state.agreed_target is None:
        if open_ is not None:
            raise MappingError(where, f"{subject}: the file changes the SLI to {what}, but proposal "
                                      f"{open_.proposal_id} is open and the parties are weighing the definition "
                                      "they see; withdraw or defer it, then import again")
        return Step(CHANGE, subject, f"SLI defined as {what}", (DefineSli(state.id, definition),), where)
    if open_ is not None and open_.sli_definition is not None and open_.sli_definition.definition() == definition:
        return Step(UNCHANGED, subject, f"SLI change to {what} already proposed ({open_.proposal_id})", where=where)
    if target_step.commands:
        raise MappingError(where, f"{subject}: the file changes both the agreed target and the SLI (to {what}); "
                                  "each is its own proposal: import one change, settle it, then the other")
    if open_ is not None:
        raise MappingError(where, f"{subject}: the file changes the SLI to {what}, but proposal "
                                  f"{open_.proposal_id} is open; an SLI change is its own proposal: settle "
                                  f"{open_.proposal_id} first")
    proposal_id = _proposal_id(state)
    return Step(PROPOSE, subject, f"SLI change to {what} proposed as {proposal_id}; the agreed definition stays in "
                                  "force until it is agreed",
                (DefineSli(state.id, definition, proposal_id=proposal_id, rationale=rationale),), where)


def _proposal_id(state: ObjectiveState | None) -> str:
    n = 1 if state is None else len(state.proposals) + 1
    while state is not None and state.proposal(f"{PROPOSAL_PREFIX}{n}") is not None:
        n += 1
    return f"{PROPOSAL_PREFIX}{n}"


def _tier_key(tier: Mapping[str, Any]) -> tuple:
    return (tier["severity"], tier["long_window"], tier["short_window"], tier["threshold"])


def _tiers_text(tiers: list[dict[str, Any]]) -> str:
    return ", ".join(f"{t['severity']} {t['threshold']:g} over {t['long_window']}/{t['short_window']}" for t in tiers)


def _routes_text(routes: tuple[AlertRoute, ...]) -> str:
    return "; ".join(f"{r.tier} -> {', '.join(f'{t.name} ({t.target})' for t in r.targets)}" for r in routes) or "none"


def _labels_text(labels: Any) -> str:
    return ", ".join(f"{x.key}={x.value}" for x in labels) or "none"


def _notes(specs: SpecSet) -> tuple[str, ...]:
    notes = [f"DataSource {s.meta.name}: not carried (slogov reads Prometheus, by its URL)"
             for s in specs.data_sources if s.type.lower() != "prometheus" or s.url is None]
    routed = {t for s in specs.slos for p in specs.alert_policies if p.meta.name in s.alert_policies for t in p.targets}
    notes += [f"AlertNotificationTarget {t.meta.name}: not carried (no alert policy of an SLO names it)"
              for t in specs.notification_targets if t.meta.name not in routed]
    notes += [f"AlertNotificationTarget {t.meta.name}: labels and annotations not carried (a target keeps its name, "
              "displayName, target and description)"
              for t in specs.notification_targets if t.meta.name in routed and (t.meta.labels or t.meta.annotations)]
    notes += [f"Service {s.meta.name}: annotations not carried (journeys keep labels only)"
              for s in specs.services if mapping.annotations(s.meta.annotations)]
    return tuple(notes)
