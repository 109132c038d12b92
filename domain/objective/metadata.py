"""An objective's labels and annotations, changed after drafting: `LabelObjective`
replaces both with what it carries and appends `ObjectiveLabeled`, or nothing when they
are already in force (a spec imported again appends nothing)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from domain import conventions
from domain import journey as journeys
from domain.commands import related_state
from domain.events import Context, NewEvent, RecordedEvent
from domain.labels import Annotation, Label, annotations_data, annotations_of, labels_data, labels_of
from domain.objective.state import ObjectiveCommand, ObjectiveState
from domain.records import replace


@dataclass(frozen=True)
class LabelObjective(ObjectiveCommand):
    objective_id: str
    labels: tuple[Label, ...] = ()
    annotations: tuple[Annotation, ...] = ()

    def reads(self, state: ObjectiveState | None = None) -> tuple[str, ...]:
        # The convention's required labels may be on the objective or on its journey.
        return (conventions.STREAM_ID,) + (() if state is None else (journeys.stream_id(state.journey_id),))


def _label(cmd: LabelObjective, state: ObjectiveState, ctx: Context) -> list[NewEvent]:
    labels, annotations = labels_data(cmd.labels), annotations_data(cmd.annotations)
    if (labels_of(labels), annotations_of(annotations)) == (state.labels, state.annotations):
        return []
    journey = related_state(ctx, journeys.stream_id(state.journey_id))
    conventions.require_labels(conventions.in_force(ctx), (*(journey.labels if journey else ()), *labels_of(labels)))
    return [NewEvent("ObjectiveLabeled", {"objective_id": state.id, "labels": labels, "annotations": annotations})]


def _labeled(state: ObjectiveState, event: RecordedEvent) -> ObjectiveState:
    d = event.data
    return replace(state, labels=labels_of(d["labels"]), annotations=annotations_of(d["annotations"]))


DECIDERS: dict[type, Callable[[Any, Any, Context], list[NewEvent]]] = {LabelObjective: _label}
EVOLVERS: dict[str, Callable[[ObjectiveState, RecordedEvent], ObjectiveState]] = {"ObjectiveLabeled": _labeled}
