"""The Critical User Journey stream, `journey-{id}`: its commands, events, state and decider.

A journey is proposed with its business inputs (phase 1), prioritized by a business
decision, scoped by a cross-functional workshop (phase 2), mapped to the technical
components it depends on, with the instrumentation gaps found on the way (phase 3),
and eventually retired. Objectives (SLOs) hang off a journey in their own streams.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Callable

from domain import codec, conventions
from domain.records import replace
from domain.commands import (
    NAME_MAX_LENGTH,
    SLI_KINDS,
    actor_of,
    optional_choice,
    optional_int,
    optional_text,
    require_bool,
    require_choice,
    require_id,
    require_int,
    require_text,
    require_texts,
    role_of,
)
from domain.errors import Conflict, NotFound
from domain.events import Context, NewEvent, RecordedEvent
from domain.labels import Label, labels_data, labels_of

CATEGORY = "journey"

DEPENDENCY_KINDS: tuple[str, ...] = (
    "service",
    "database",
    "vector_store",
    "inference_endpoint",
    "auth",
    "external_api",
)

EVENT_TYPES: tuple[str, ...] = (
    "JourneyProposed",
    "JourneyPrioritized",
    "JourneyScopeDocumented",
    "DependencyMapped",
    "DependencyRemoved",
    "InstrumentationGapRecorded",
    "InstrumentationGapClosed",
    "JourneyRetired",
    "JourneyLabeled",
)


def stream_id(journey_id: str) -> str:
    return f"{CATEGORY}-{journey_id}"


# --- state ------------------------------------------------------------------


class JourneyStatus(StrEnum):
    PROPOSED = "PROPOSED"
    PRIORITIZED = "PRIORITIZED"
    RETIRED = "RETIRED"


@dataclass(frozen=True)
class BusinessInputs:
    """What the business brought to prioritization (seed, phase 1)."""

    revenue_impact: str | None
    conversion_impact: str | None
    support_volume: int | None  # support tickets per month


@dataclass(frozen=True)
class Scope:
    """The documented CUJ scope: the cross-functional workshop's output (phase 2)."""

    includes: tuple[str, ...]
    excludes: tuple[str, ...]
    starts_at: str
    ends_at: str
    success_criteria: str
    workshop_participants: tuple[str, ...]
    documented_by: str | None
    documented_at: datetime


@dataclass(frozen=True)
class Dependency:
    service: str
    kind: str
    critical: bool
    failure_modes: tuple[str, ...]


@dataclass(frozen=True)
class Gap:
    """Missing instrumentation; while open, no target may be proposed on the journey."""

    gap_id: str
    description: str
    sli_kind: str | None
    open: bool
    resolution: str | None
    recorded_at: datetime
    closed_at: datetime | None


@dataclass(frozen=True)
class JourneyState:
    id: str
    name: str
    description: str
    steps: tuple[str, ...]
    starts_at: str
    ends_at: str
    success_criteria: str
    owner: str
    tier: int
    business: BusinessInputs
    status: JourneyStatus
    priority: int | None
    priority_rationale: str | None
    prioritized_by: str | None  # the actor who took the business decision
    prioritized_role: str | None
    prioritized_at: datetime | None
    scope: Scope | None
    dependencies: tuple[Dependency, ...]
    gaps: tuple[Gap, ...]
    retirement_reason: str | None
    proposed_by: str | None
    proposed_at: datetime
    updated_at: datetime
    version: int
    labels: tuple[Label, ...] = ()  # sorted (key, value) pairs; see domain.labels

    @property
    def open_gaps(self) -> tuple[Gap, ...]:
        return tuple(g for g in self.gaps if g.open)

    @property
    def critical_services(self) -> tuple[str, ...]:
        return tuple(d.service for d in self.dependencies if d.critical)

    @property
    def retired(self) -> bool:
        return self.status is JourneyStatus.RETIRED

    def dependency(self, service: str) -> Dependency | None:
        return next((d for d in self.dependencies if d.service == service), None)

    def gap(self, gap_id: str) -> Gap | None:
        return next((g for g in self.gaps if g.gap_id == gap_id), None)


def initial_state() -> JourneyState | None:
    return None


def to_dict(state: JourneyState | None) -> dict[str, Any] | None:
    return None if state is None else codec.encode(state)


def from_dict(data: dict[str, Any] | None) -> JourneyState | None:
    if data is None:
        return None
    if "labels" not in data:  # read models and snapshots written before labels existed
        data = {**data, "labels": []}
    return codec.decode(JourneyState, data)


# --- commands ---------------------------------------------------------------


class _JourneyCommand:
    """Every journey command writes its own journey's stream and reads no other."""

    journey_id: str

    def stream(self) -> str:
        return stream_id(self.journey_id)

    def reads(self, state: Any = None) -> tuple[str, ...]:
        return ()


@dataclass(frozen=True)
class ProposeJourney(_JourneyCommand):
    journey_id: str
    name: str
    description: str
    steps: tuple[str, ...]
    starts_at: str  # where the journey starts, e.g. "product page"
    ends_at: str
    success_criteria: str
    owner: str
    tier: int  # 1 = most critical
    revenue_impact: str | None = None
    conversion_impact: str | None = None
    support_volume: int | None = None
    labels: tuple[Label, ...] = ()

    def reads(self, state: Any = None) -> tuple[str, ...]:
        # The naming convention in force decides which ids a new journey may take.
        return (conventions.STREAM_ID,)


@dataclass(frozen=True)
class PrioritizeJourney(_JourneyCommand):
    journey_id: str
    priority: int  # rank, 1 first
    tier: int
    rationale: str


@dataclass(frozen=True)
class DocumentJourneyScope(_JourneyCommand):
    journey_id: str
    includes: tuple[str, ...]
    excludes: tuple[str, ...]
    starts_at: str
    ends_at: str
    success_criteria: str
    workshop_participants: tuple[str, ...]


@dataclass(frozen=True)
class MapDependency(_JourneyCommand):
    journey_id: str
    service: str
    kind: str
    critical: bool
    failure_modes: tuple[str, ...] = ()


@dataclass(frozen=True)
class RemoveDependency(_JourneyCommand):
    journey_id: str
    service: str
    reason: str


@dataclass(frozen=True)
class RecordInstrumentationGap(_JourneyCommand):
    journey_id: str
    gap_id: str
    description: str
    sli_kind: str | None = None


@dataclass(frozen=True)
class CloseInstrumentationGap(_JourneyCommand):
    journey_id: str
    gap_id: str
    resolution: str


@dataclass(frozen=True)
class RetireJourney(_JourneyCommand):
    journey_id: str
    reason: str


@dataclass(frozen=True)
class LabelJourney(_JourneyCommand):
    """Replace the journey's labels with these (an empty tuple removes them all)."""

    journey_id: str
    labels: tuple[Label, ...]


COMMANDS: tuple[type, ...] = (
    ProposeJourney,
    PrioritizeJourney,
    DocumentJourneyScope,
    MapDependency,
    RemoveDependency,
    RecordInstrumentationGap,
    CloseInstrumentationGap,
    RetireJourney,
    LabelJourney,
)


# --- decide -------------------------------------------------------------------


def decide(command: Any, state: JourneyState | None, ctx: Context) -> list[NewEvent]:
    handler = _DECIDERS.get(type(command))
    if handler is None:
        raise TypeError(f"not a journey command: {type(command).__name__}")
    journey_id = require_id(command.journey_id, "journey_id")
    if isinstance(command, ProposeJourney):
        if state is not None:
            raise Conflict(f"journey {journey_id} already exists", journey_id=journey_id)
        return handler(command, None, ctx)
    if state is None:
        raise NotFound(f"journey {journey_id} does not exist", journey_id=journey_id)
    if state.retired:
        raise Conflict(f"journey {journey_id} is retired", journey_id=journey_id)
    return handler(command, state, ctx)


def _propose(cmd: ProposeJourney, state: None, ctx: Context) -> list[NewEvent]:
    conventions.check_id(conventions.in_force(ctx), "journey_id", cmd.journey_id)
    return [
        NewEvent(
            "JourneyProposed",
            {
                "journey_id": cmd.journey_id,
                "name": require_text(cmd.name, "name", max_length=NAME_MAX_LENGTH),
                "description": require_text(cmd.description, "description"),
                "steps": list(require_texts(cmd.steps, "steps", min_items=1)),
                "starts_at": require_text(cmd.starts_at, "starts_at", max_length=NAME_MAX_LENGTH),
                "ends_at": require_text(cmd.ends_at, "ends_at", max_length=NAME_MAX_LENGTH),
                "success_criteria": require_text(cmd.success_criteria, "success_criteria"),
                "owner": require_text(cmd.owner, "owner", max_length=NAME_MAX_LENGTH),
                "tier": require_int(cmd.tier, "tier", minimum=1, maximum=3),
                "revenue_impact": optional_text(cmd.revenue_impact, "revenue_impact"),
                "conversion_impact": optional_text(cmd.conversion_impact, "conversion_impact"),
                "support_volume": optional_int(cmd.support_volume, "support_volume", minimum=0),
                # absent when none, as before labels existed
                **({"labels": labels} if (labels := labels_data(cmd.labels)) else {}),
            },
        )
    ]


def _label(cmd: LabelJourney, state: JourneyState, ctx: Context) -> list[NewEvent]:
    labels = labels_data(cmd.labels)
    if labels_of(labels) == state.labels:
        return []  # the labels in force already: a resend appends nothing
    return [NewEvent("JourneyLabeled", {"journey_id": state.id, "labels": labels})]


def _prioritize(cmd: PrioritizeJourney, state: JourneyState, ctx: Context) -> list[NewEvent]:
    # Re-prioritizing is allowed: business priorities change (seed, quarterly review).
    return [
        NewEvent(
            "JourneyPrioritized",
            {
                "journey_id": state.id,
                "priority": require_int(cmd.priority, "priority", minimum=1),
                "tier": require_int(cmd.tier, "tier", minimum=1, maximum=3),
                "rationale": require_text(cmd.rationale, "rationale"),
            },
        )
    ]


def _document_scope(cmd: DocumentJourneyScope, state: JourneyState, ctx: Context) -> list[NewEvent]:
    return [
        NewEvent(
            "JourneyScopeDocumented",
            {
                "journey_id": state.id,
                "includes": list(require_texts(cmd.includes, "includes", min_items=1)),
                "excludes": list(require_texts(cmd.excludes, "excludes")),
                "starts_at": require_text(cmd.starts_at, "starts_at", max_length=NAME_MAX_LENGTH),
                "ends_at": require_text(cmd.ends_at, "ends_at", max_length=NAME_MAX_LENGTH),
                "success_criteria": require_text(cmd.success_criteria, "success_criteria"),
                "workshop_participants": list(
                    require_texts(cmd.workshop_participants, "workshop_participants", min_items=1)
                ),
            },
        )
    ]


def _map_dependency(cmd: MapDependency, state: JourneyState, ctx: Context) -> list[NewEvent]:
    return [
        NewEvent(
            "DependencyMapped",
            {
                "journey_id": state.id,
                "service": require_id(cmd.service, "service"),
                "kind": require_choice(cmd.kind, "kind", DEPENDENCY_KINDS),
                "critical": require_bool(cmd.critical, "critical"),
                "failure_modes": list(require_texts(cmd.failure_modes, "failure_modes")),
            },
        )
    ]


def _remove_dependency(cmd: RemoveDependency, state: JourneyState, ctx: Context) -> list[NewEvent]:
    service = require_id(cmd.service, "service")
    if state.dependency(service) is None:
        raise NotFound(
            f"journey {state.id} has no dependency on {service}",
            journey_id=state.id,
            service=service,
        )
    reason = require_text(cmd.reason, "reason")
    return [NewEvent("DependencyRemoved", {"journey_id": state.id, "service": service, "reason": reason})]


def _record_gap(cmd: RecordInstrumentationGap, state: JourneyState, ctx: Context) -> list[NewEvent]:
    gap_id = require_id(cmd.gap_id, "gap_id")
    # Gap ids are never reused, even once closed, so the log names one gap per id.
    if state.gap(gap_id) is not None:
        raise Conflict(f"gap {gap_id} was already recorded on journey {state.id}", gap_id=gap_id)
    return [
        NewEvent(
            "InstrumentationGapRecorded",
            {
                "journey_id": state.id,
                "gap_id": gap_id,
                "description": require_text(cmd.description, "description"),
                "sli_kind": optional_choice(cmd.sli_kind, "sli_kind", SLI_KINDS),
            },
        )
    ]


def _close_gap(cmd: CloseInstrumentationGap, state: JourneyState, ctx: Context) -> list[NewEvent]:
    gap_id = require_id(cmd.gap_id, "gap_id")
    gap = state.gap(gap_id)
    if gap is None:
        raise NotFound(f"journey {state.id} has no gap {gap_id}", gap_id=gap_id)
    if not gap.open:
        raise Conflict(f"gap {gap_id} is already closed", gap_id=gap_id)
    resolution = require_text(cmd.resolution, "resolution")
    return [
        NewEvent(
            "InstrumentationGapClosed",
            {"journey_id": state.id, "gap_id": gap_id, "resolution": resolution},
        )
    ]


def _retire(cmd: RetireJourney, state: JourneyState, ctx: Context) -> list[NewEvent]:
    reason = require_text(cmd.reason, "reason")
    return [NewEvent("JourneyRetired", {"journey_id": state.id, "reason": reason})]


_DECIDERS: dict[type, Callable[[Any, Any, Context], list[NewEvent]]] = {
    ProposeJourney: _propose,
    PrioritizeJourney: _prioritize,
    DocumentJourneyScope: _document_scope,
    MapDependency: _map_dependency,
    RemoveDependency: _remove_dependency,
    RecordInstrumentationGap: _record_gap,
    CloseInstrumentationGap: _close_gap,
    RetireJourney: _retire,
    LabelJourney: _label,
}


# --- evolve -------------------------------------------------------------------


def evolve(state: JourneyState | None, event: RecordedEvent) -> JourneyState:
    if event.type == "JourneyProposed":
        if state is not None:
            raise ValueError(f"{event.stream_id} was proposed twice (version {event.stream_version})")
        new = _proposed(event)
    else:
        apply = _EVOLVERS.get(event.type)
        if apply is None:
            raise ValueError(f"unknown journey event type {event.type!r}")
        if state is None:
            raise ValueError(f"{event.type} before JourneyProposed in {event.stream_id}")
        new = apply(state, event)
    # Bookkeeping every event shares, kept out of the individual evolvers.
    return replace(new, version=event.stream_version, updated_at=event.recorded_at)


def _proposed(event: RecordedEvent) -> JourneyState:
    d = event.data
    return JourneyState(
        id=d["journey_id"],
        name=d["name"],
        description=d["description"],
        steps=tuple(d["steps"]),
        starts_at=d["starts_at"],
        ends_at=d["ends_at"],
        success_criteria=d["success_criteria"],
        owner=d["owner"],
        tier=d["tier"],
        business=BusinessInputs(
            revenue_impact=d.get("revenue_impact"),
            conversion_impact=d.get("conversion_impact"),
            support_volume=d.get("support_volume"),
        ),
        status=JourneyStatus.PROPOSED,
        priority=None,
        priority_rationale=None,
        prioritized_by=None,
        prioritized_role=None,
        prioritized_at=None,
        scope=None,
        dependencies=(),
        gaps=(),
        retirement_reason=None,
        proposed_by=actor_of(event),
        proposed_at=event.recorded_at,
        updated_at=event.recorded_at,
        version=event.stream_version,
        labels=labels_of(d.get("labels")),
    )


def _prioritized(state: JourneyState, event: RecordedEvent) -> JourneyState:
    d = event.data
    return replace(
        state,
        status=JourneyStatus.PRIORITIZED,
        priority=d["priority"],
        tier=d["tier"],
        priority_rationale=d["rationale"],
        prioritized_by=actor_of(event),
        prioritized_role=role_of(event),
        prioritized_at=event.recorded_at,
    )


def _scope_documented(state: JourneyState, event: RecordedEvent) -> JourneyState:
    d = event.data
    scope = Scope(
        includes=tuple(d["includes"]),
        excludes=tuple(d["excludes"]),
        starts_at=d["starts_at"],
        ends_at=d["ends_at"],
        success_criteria=d["success_criteria"],
        workshop_participants=tuple(d["workshop_participants"]),
        documented_by=actor_of(event),
        documented_at=event.recorded_at,
    )
    # The workshop's answer refines the proposal's: the journey now starts, ends
    # and succeeds where the documented scope says.
    return replace(
        state,
        scope=scope,
        starts_at=scope.starts_at,
        ends_at=scope.ends_at,
        success_criteria=scope.success_criteria,
    )


def _dependency_mapped(state: JourneyState, event: RecordedEvent) -> JourneyState:
    d = event.data
    mapped = Dependency(
        service=d["service"],
        kind=d["kind"],
        critical=d["critical"],
        failure_modes=tuple(d["failure_modes"]),
    )
    # Re-mapping a service replaces its entry in place, keeping the mapping order.
    if state.dependency(mapped.service) is not None:
        deps = tuple(mapped if x.service == mapped.service else x for x in state.dependencies)
    else:
        deps = state.dependencies + (mapped,)
    return replace(state, dependencies=deps)


def _dependency_removed(state: JourneyState, event: RecordedEvent) -> JourneyState:
    service = event.data["service"]
    return replace(state, dependencies=tuple(d for d in state.dependencies if d.service != service))


def _gap_recorded(state: JourneyState, event: RecordedEvent) -> JourneyState:
    d = event.data
    gap = Gap(
        gap_id=d["gap_id"],
        description=d["description"],
        sli_kind=d.get("sli_kind"),
        open=True,
        resolution=None,
        recorded_at=event.recorded_at,
        closed_at=None,
    )
    return replace(state, gaps=state.gaps + (gap,))


def _gap_closed(state: JourneyState, event: RecordedEvent) -> JourneyState:
    d = event.data
    gaps = tuple(
        replace(g, open=False, resolution=d["resolution"], closed_at=event.recorded_at)
        if g.gap_id == d["gap_id"]
        else g
        for g in state.gaps
    )
    return replace(state, gaps=gaps)


def _retired(state: JourneyState, event: RecordedEvent) -> JourneyState:
    return replace(state, status=JourneyStatus.RETIRED, retirement_reason=event.data["reason"])


def _labeled(state: JourneyState, event: RecordedEvent) -> JourneyState:
    return replace(state, labels=labels_of(event.data["labels"]))


_EVOLVERS: dict[str, Callable[[JourneyState, RecordedEvent], JourneyState]] = {
    "JourneyLabeled": _labeled,
    "JourneyPrioritized": _prioritized,
    "JourneyScopeDocumented": _scope_documented,
    "DependencyMapped": _dependency_mapped,
    "DependencyRemoved": _dependency_removed,
    "InstrumentationGapRecorded": _gap_recorded,
    "InstrumentationGapClosed": _gap_closed,
    "JourneyRetired": _retired,
}
