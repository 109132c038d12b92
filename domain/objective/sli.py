"""The objective and its SLI (the seed's phase 3): drafting an SLO on a prioritized
journey, with what it measures, its window and its budgeting method."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from domain import codec, conventions
from domain import journey as journeys
from domain.commands import (
    NAME_MAX_LENGTH,
    SLI_KINDS,
    actor_of,
    optional_text,
    related_state,
    require_choice,
    require_id,
    require_int,
    require_number,
    require_text,
)
from domain.errors import Conflict, InvalidInput, NotFound, PolicyViolation
from domain.budget.composite import check_weight
from domain.budget.errors import BudgetInputError
from domain.budget.windows import parse_window
from domain.events import Context, NewEvent, RecordedEvent
from domain.labels import Annotation, Label, annotations_data, annotations_of, labels_data, labels_of
from domain.objective.state import (
    BUDGETING_METHODS,
    Budgeting,
    ObjectiveCommand,
    ObjectiveState,
    ObjectiveStatus,
    SLI,
    WINDOW_KINDS,
    Window,
)


# The fields each SLI kind requires; the others must stay unset.
_SLI_FIELDS: dict[str, tuple[str, ...]] = {
    "availability": (),
    "latency": ("threshold_ms",),
    "quality": ("metric", "threshold"),
    "freshness": ("threshold_seconds",),
}


# --- command ------------------------------------------------------------------


@dataclass(frozen=True)
class DraftObjective(ObjectiveCommand):
    objective_id: str
    journey_id: str
    name: str
    sli: SLI
    window: Window
    budgeting: Budgeting
    # Set for a component objective: it measures this service (one of the journey's
    # dependencies, or a shared one), and journeys that depend critically on the
    # service compose their attainment from it. None: the journey's own, end to end.
    service: str | None = None
    # The SLO this objective is one of (see ObjectiveState.slo); None: an SLO of its own.
    slo: str | None = None
    labels: tuple[Label, ...] = ()
    annotations: tuple[Annotation, ...] = ()
    composite_weight: float | None = None  # OpenSLO compositeWeight; None: 1

    def reads(self, state: ObjectiveState | None = None) -> tuple[str, ...]:
        # The naming convention in force decides which ids a new objective may take.
        return (journeys.stream_id(self.journey_id), conventions.STREAM_ID)


# --- decide: validation of the value objects ----------------------------------


def _sli_data(sli: Any) -> dict[str, Any]:
    if not isinstance(sli, SLI):
        raise InvalidInput("sli must be an SLI", field="sli")
    kind = require_choice(sli.kind, "sli.kind", SLI_KINDS)
    needed = _SLI_FIELDS[kind]
    for name in ("threshold_ms", "metric", "threshold", "threshold_seconds"):
        value = getattr(sli, name)
        if name in needed and value is None:
            raise InvalidInput(f"a {kind} SLI needs sli.{name}", field=f"sli.{name}")
        if name not in needed and value is not None:
            raise InvalidInput(f"sli.{name} does not apply to a {kind} SLI", field=f"sli.{name}")
    data: dict[str, Any] = {
        "kind": kind,
        "threshold_ms": None,
        "metric": None,
        "threshold": None,
        "threshold_seconds": None,
        "description": optional_text(sli.description, "sli.description"),
    }
    if kind == "latency":
        data["threshold_ms"] = require_number(sli.threshold_ms, "sli.threshold_ms", above=0)
    elif kind == "quality":
        data["metric"] = require_id(sli.metric, "sli.metric")
        data["threshold"] = require_number(sli.threshold, "sli.threshold", at_least=0, at_most=1)
    elif kind == "freshness":
        data["threshold_seconds"] = require_number(sli.threshold_seconds, "sli.threshold_seconds", above=0)
    return data


def _window_data(window: Any) -> dict[str, Any]:
    """The window as event data: {"kind", "days"} for a rolling N days and the UTC calendar
    month and quarter (as always written), the set fields for a duration or a calendar period."""
    if not isinstance(window, Window):
        raise InvalidInput("window must be a Window", field="window")
    kind = require_choice(window.kind, "window.kind", WINDOW_KINDS)
    if kind == "rolling" and window.days is not None:
        require_int(window.days, "window.days", minimum=1, maximum=90)
    given = {k: getattr(window, k) for k in ("days", "duration", "start", "time_zone") if getattr(window, k) is not None}
    try:  # the budget's rules: one place says what a window may be
        checked = parse_window({"kind": kind, **given})
    except BudgetInputError as error:
        raise InvalidInput(f"{error.field}: {error.message}", field=error.field) from None
    if checked.duration is None:
        return {"kind": kind, "days": checked.days}
    return checked.to_dict()


def _budgeting_data(budgeting: Any) -> dict[str, Any]:
    if not isinstance(budgeting, Budgeting):
        raise InvalidInput("budgeting must be a Budgeting", field="budgeting")
    method = require_choice(budgeting.method, "budgeting.method", BUDGETING_METHODS)
    if method == "occurrences":
        for name in ("slice_minutes", "slice_threshold"):
            if getattr(budgeting, name) is not None:
                raise InvalidInput(
                    f"budgeting.{name} applies only to timeslices", field=f"budgeting.{name}"
                )
        return {"method": method, "slice_minutes": None, "slice_threshold": None}
    if method == "ratio_timeslices":  # OpenSLO RatioTimeslices: slices, no threshold
        if budgeting.slice_threshold is not None:
            raise InvalidInput("ratio timeslices judge no budgeting.slice_threshold", field="budgeting.slice_threshold")
        if budgeting.slice_minutes is None:
            raise InvalidInput("ratio timeslice budgeting needs budgeting.slice_minutes", field="budgeting.slice_minutes")
        return {"method": method, "slice_threshold": None,
                "slice_minutes": require_int(budgeting.slice_minutes, "budgeting.slice_minutes", minimum=1, maximum=60)}
    for name in ("slice_minutes", "slice_threshold"):
        if getattr(budgeting, name) is None:
            raise InvalidInput(f"timeslice budgeting needs budgeting.{name}", field=f"budgeting.{name}")
    return {
        "method": method,
        "slice_minutes": require_int(budgeting.slice_minutes, "budgeting.slice_minutes", minimum=1, maximum=60),
        "slice_threshold": require_number(
            budgeting.slice_threshold, "budgeting.slice_threshold", above=0, at_most=1
        ),
    }


# --- decide: the rules --------------------------------------------------------


def live_journey(ctx: Context, journey_id: str) -> journeys.JourneyState:
    journey = related_state(ctx, journeys.stream_id(journey_id))
    if journey is None:
        raise NotFound(f"journey {journey_id} does not exist", journey_id=journey_id)
    if journey.retired:
        raise Conflict(f"journey {journey_id} is retired", journey_id=journey_id)
    return journey


def _draft(cmd: DraftObjective, state: None, ctx: Context) -> list[NewEvent]:
    journey_id = require_id(cmd.journey_id, "journey_id")
    conventions.check_id(conventions.in_force(ctx), "objective_id", cmd.objective_id)
    data = {
        "objective_id": cmd.objective_id,
        "journey_id": journey_id,
        "name": require_text(cmd.name, "name", max_length=NAME_MAX_LENGTH),
        "sli": _sli_data(cmd.sli),
        "window": _window_data(cmd.window),
        "budgeting": _budgeting_data(cmd.budgeting),
    }
    if cmd.service is not None:  # absent, not null, for end-to-end objectives (as before)
        data["service"] = require_text(cmd.service, "service", max_length=NAME_MAX_LENGTH)
    # Each absent when unset, so an objective drafted without them writes what it did before.
    if cmd.slo is not None:
        data["slo"] = require_id(cmd.slo, "slo")
    if labels := labels_data(cmd.labels):
        data["labels"] = labels
    if annotations := annotations_data(cmd.annotations):
        data["annotations"] = annotations
    if cmd.composite_weight is not None:
        try:
            data["composite_weight"] = check_weight(cmd.composite_weight)
        except BudgetInputError as error:
            raise InvalidInput(f"{error.field}: {error.message}", field=error.field) from None
    journey = live_journey(ctx, journey_id)
    conventions.require_labels(conventions.in_force(ctx), (*journey.labels, *labels_of(data.get("labels"))))
    if journey.status is not journeys.JourneyStatus.PRIORITIZED:
        raise PolicyViolation(
            f"journey {journey_id} has not been prioritized: choosing journeys is a business "
            "decision, and SLOs are drafted only after it",
            journey_id=journey_id,
            journey_status=journey.status.value,
        )
    return [NewEvent("ObjectiveDrafted", data)]


# --- evolve -------------------------------------------------------------------


def drafted(event: RecordedEvent) -> ObjectiveState:
    d = event.data
    return ObjectiveState(
        id=d["objective_id"],
        journey_id=d["journey_id"],
        name=d["name"],
        sli=codec.decode(SLI, dict(d["sli"])),
        window=Window(**d["window"]),  # older events: kind and days only
        budgeting=codec.decode(Budgeting, dict(d["budgeting"])),
        status=ObjectiveStatus.DRAFT,
        baseline=None,
        agreed_target=None,
        agreed_proposal_id=None,
        agreed_at=None,
        proposals=(),
        history=(),
        agreement=None,
        retirement_reason=None,
        drafted_by=actor_of(event),
        drafted_at=event.recorded_at,
        updated_at=event.recorded_at,
        version=event.stream_version,
        service=d.get("service"),
        slo=d.get("slo"),
        labels=labels_of(d.get("labels")),
        annotations=annotations_of(d.get("annotations")),
        composite_weight=d.get("composite_weight"),
    )


DECIDERS: dict[type, Callable[[Any, Any, Context], list[NewEvent]]] = {DraftObjective: _draft}
