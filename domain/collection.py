"""The collector's own record, `collection-{objective_id}`: what it could not collect.

The data a collector pulls goes to the budget stream (RecordObservations); this stream
holds the two facts about collection itself that the budget cannot:

  RecordCollectionGap(objective_id, start, end, reason)
      minutes [start, end) will never be collected: the collector was down longer than
      its catch-up horizon. The resume point after it is `end` (with the budget's last
      observation end, whichever is later), so a restarted collector does not ask again.
  RecordSourceState(objective_id, at, reason, message)
      the source's answer for this objective at `at` (server time): `reason` None when it
      answered with data, else the fault's stable word (service/sources/errors.py:
      unreachable, rejected, failed, bad_data, several_series, misconfigured, no_series).

Both are idempotent: an identical gap, or the state already recorded (same fault or
still healthy), appends nothing, so a collector may send them every round. Pure.

The folded `CollectionState` is also what readers are shown (`collectionState`): the
fault in force, the last fault ever and when it cleared, and the latest gaps.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain import objective as objectives
from domain.commands import iso, optional_text, parse_iso, related_state, require_aware, require_id
from domain.errors import Conflict, InvalidInput, NotFound
from domain.events import Context, NewEvent, RecordedEvent
from domain.records import replace

CATEGORY = "collection"
FAULT_REASONS: tuple[str, ...] = (
    "unreachable", "rejected", "failed", "bad_data", "several_series", "misconfigured", "no_series",
)
EVENT_TYPES: tuple[str, ...] = ("CollectionGapRecorded", "SourceFaulted", "SourceRecovered")
RECENT_GAPS = 50  # gaps a state keeps (newest last); `gaps` counts them all


def stream_id(objective_id: str) -> str:
    return f"{CATEGORY}-{objective_id}"


@dataclass(frozen=True)
class Fault:
    reason: str
    message: str
    since: datetime


@dataclass(frozen=True)
class Gap:
    start: datetime
    end: datetime
    reason: str
    recorded_at: datetime


@dataclass(frozen=True)
class CollectionState:
    objective_id: str
    fault: Fault | None = None  # the fault in force: None while the source answers with data
    gap_end: datetime | None = None  # the end of the latest gap recorded
    gaps: int = 0
    version: int = 0
    last_fault: Fault | None = None  # the latest fault, in force or not
    recovered_at: datetime | None = None  # when `last_fault` cleared (None while in force)
    recent_gaps: tuple[Gap, ...] = ()  # the latest RECENT_GAPS gaps, oldest first


class _CollectionCommand:
    objective_id: str

    def stream(self) -> str:
        return stream_id(self.objective_id)

    def reads(self, state: Any = None) -> tuple[str, ...]:
        return (objectives.stream_id(self.objective_id),)


@dataclass(frozen=True)
class RecordCollectionGap(_CollectionCommand):
    objective_id: str
    start: datetime
    end: datetime
    reason: str


@dataclass(frozen=True)
class RecordSourceState(_CollectionCommand):
    objective_id: str
    at: datetime
    reason: str | None = None  # None: the source answered with data
    message: str | None = None


COMMANDS: tuple[type, ...] = (RecordCollectionGap, RecordSourceState)


def decide(command: Any, state: CollectionState | None, ctx: Context) -> list[NewEvent]:
    objective_id = require_id(command.objective_id, "objective_id")
    obj = related_state(ctx, objectives.stream_id(objective_id))
    if obj is None:
        raise NotFound(f"objective {objective_id} does not exist", objective_id=objective_id)
    if obj.retired:
        raise Conflict(f"objective {objective_id} is retired: nothing is collected for it", objective_id=objective_id)
    if isinstance(command, RecordCollectionGap):
        return _gap(command, state, ctx)
    if isinstance(command, RecordSourceState):
        return _source_state(command, state, ctx)
    raise TypeError(f"not a collection command: {type(command).__name__}")


def _gap(cmd: RecordCollectionGap, state: CollectionState | None, ctx: Context) -> list[NewEvent]:
    start, end = require_aware(cmd.start, "start"), require_aware(cmd.end, "end")
    if not start < end:
        raise InvalidInput("a gap's end must come after its start", field="end")
    if end > ctx.now:
        raise InvalidInput("a gap ends in the future: only past minutes can be missed", field="end")
    reason = optional_text(cmd.reason, "reason") or "not collected"
    if state is not None and state.gap_end is not None and end <= state.gap_end:
        return []  # already behind the resume point: a resend
    return [NewEvent("CollectionGapRecorded", {"objective_id": cmd.objective_id, "start": iso(start),
                                              "end": iso(end), "reason": reason})]


def _source_state(cmd: RecordSourceState, state: CollectionState | None, ctx: Context) -> list[NewEvent]:
    at = require_aware(cmd.at, "at")
    if at > ctx.now:
        raise InvalidInput("at is in the future", field="at")
    current = state.fault if state is not None else None
    if cmd.reason is None:
        if current is None:
            return []
        return [NewEvent("SourceRecovered", {"objective_id": cmd.objective_id, "at": iso(at)})]
    if cmd.reason not in FAULT_REASONS:
        raise InvalidInput(f"reason must be one of {', '.join(FAULT_REASONS)}, got {cmd.reason!r}", field="reason")
    message = optional_text(cmd.message, "message", max_length=2000) or cmd.reason
    if current is not None and (current.reason, current.message) == (cmd.reason, message):
        return []
    return [NewEvent("SourceFaulted", {"objective_id": cmd.objective_id, "at": iso(at), "reason": cmd.reason,
                                       "message": message})]


def evolve(state: CollectionState | None, event: RecordedEvent) -> CollectionState:
    d = event.data
    state = state or CollectionState(d["objective_id"])
    if event.type == "CollectionGapRecorded":
        start, end = parse_iso(d["start"]), parse_iso(d["end"])
        gap_end = end if state.gap_end is None or end > state.gap_end else state.gap_end
        recent = (*state.recent_gaps, Gap(start, end, d["reason"], event.recorded_at))[-RECENT_GAPS:]
        return replace(state, gap_end=gap_end, gaps=state.gaps + 1, recent_gaps=recent, version=event.stream_version)
    if event.type == "SourceFaulted":
        fault = Fault(d["reason"], d["message"], parse_iso(d["at"]))
        return replace(state, fault=fault, last_fault=fault, recovered_at=None, version=event.stream_version)
    if event.type == "SourceRecovered":
        return replace(state, fault=None, recovered_at=parse_iso(d["at"]), version=event.stream_version)
    raise ValueError(f"unknown collection event type {event.type!r}")
