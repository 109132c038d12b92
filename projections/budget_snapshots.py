"""Budget snapshots that stay the size of the objective's window, not of its history.

A budget's folded state holds every interval ever recorded, but its status at any time
``t`` reads only intervals ending after ``t - horizon`` (the SLO window's longest span,
the longest burn-rate window and one timeslice; see ``Ledger.status``). The budget's
event time never goes backwards along its stream, so a snapshot keeps its bookkeeping
(``BudgetState.to_doc``), the intervals ending after ``kept_from = event time - horizon``
and the last interval (for staleness), and nothing older.

Folding on from such a snapshot (``evolve``) is the budget decider's own ``evolve``, except
that a correction of an interval the snapshot left out changes only the version: that
interval ended at or before ``kept_from``, so no status the state can still answer reads it.
The result is sound while ``kept_from`` has not moved back (a window or tier change can
lengthen the horizon); ``sound`` says so, and readers refold from the stream's start when
it is not.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.budget import decider
from domain.budget.burn import windows_needed
from domain.budget.instants import US_PER_MINUTE, parse_duration, to_us
from domain.budget.windows import parse_window
from domain.budget.observations import Interval
from domain.events import RecordedEvent

CATEGORY = decider.CATEGORY

@dataclass
class WindowedBudget(decider.BudgetState):
    # Every interval ending after this is present (None: nothing was left out).
    kept_from_us: int | None = None


def horizon_us(state: decider.BudgetState) -> int | None:
    """How far back from a status time the status reads (None: no config yet)."""
    if state.config is None or state.ledger is None:
        return None
    longest = parse_window(state.config["window"]).longest_us
    burn = max(parse_duration(label).total_seconds() for label in windows_needed(state.ledger.tiers))
    slice_minutes = state.config["budgeting"].get("slice_minutes") or 0
    return longest + int(burn * 1_000_000) + slice_minutes * US_PER_MINUTE


def kept_from(state: decider.BudgetState) -> int | None:
    horizon, at = horizon_us(state), state.event_time
    return None if horizon is None or at is None else to_us(at) - horizon


def answers_at(state: decider.BudgetState, at: datetime) -> bool:
    """Whether the (possibly trimmed) state gives the full ledger's status at `at`."""
    kept = getattr(state, "kept_from_us", None)
    horizon = horizon_us(state)
    return kept is None or (horizon is not None and to_us(at) - horizon >= kept)


def to_dict(state: decider.BudgetState | None) -> dict[str, Any] | None:
    if state is None:
        return None
    doc = state.to_doc()
    cut = kept_from(state)
    ledger = state.ledger
    if ledger is None:
        return {"doc": doc, "kept_from_us": None, "intervals": _encode([], [], [], [])}
    starts, ends, good, total = ledger.columns()
    first = 0 if cut is None else min(bisect_right(ends, cut), max(len(ends) - 1, 0))
    return {
        "doc": doc,
        "kept_from_us": cut,
        "intervals": _encode(starts[first:], ends[first:], good[first:], total[first:]),
    }


def _encode(starts: list[int], ends: list[int], good: list[int], total: list[int]) -> dict[str, Any]:
    """Interval columns with their times as runs: a window of per-minute data is tens of
    thousands of intervals, nearly all one step after the last and one step long, so
    [step, length, count] runs make the snapshot a few times smaller than the raw times."""
    runs: list[list[int]] = []
    previous = starts[0] if starts else 0
    for s, e in zip(starts, ends):
        step, length = s - previous, e - s
        if runs and runs[-1][0] == step and runs[-1][1] == length:
            runs[-1][2] += 1
        else:
            runs.append([step, length, 1])
        previous = s
    return {"first": starts[0] if starts else 0, "runs": runs, "good": good, "total": total}


def _decode(data: dict[str, Any]) -> tuple[list[int], list[int], list[int], list[int]]:
    starts: list[int] = []
    ends: list[int] = []
    at = data["first"]
    for step, length, count in data["runs"]:
        first = at + step
        at = first + step * (count - 1)
        block = list(range(first, at + 1, step)) if step else [first] * count
        starts.extend(block)
        ends.extend([s + length for s in block])
    return starts, ends, data["good"], data["total"]


def from_dict(data: dict[str, Any] | None) -> WindowedBudget | None:
    if data is None:
        return None
    state = WindowedBudget.from_doc(data["doc"], ())
    state.kept_from_us = data["kept_from_us"]
    if state.ledger is not None:
        _load_intervals(state.ledger, *_decode(data["intervals"]))
    return state


def _load_intervals(ledger: Any, starts: list[int], ends: list[int], good: list[int], total: list[int]) -> None:
    """Fill an empty ledger with intervals our own fold wrote (ordered, valid), as
    ``Ledger.from_dict`` does but without re-validating each one: on an as-of read this
    is most of the cost."""
    ledger.load_columns(starts, ends, good, total)


def evolve(state: decider.BudgetState | None, event: RecordedEvent) -> decider.BudgetState:
    if state is None:
        state = WindowedBudget(event.data["objective_id"])
    elif (
        event.type == "ObservationCorrected"
        and getattr(state, "kept_from_us", None) is not None
        and state.ledger is not None
    ):
        iv = Interval.from_dict(event.data["interval"])
        if state.ledger.get(iv.start, iv.end) is None:
            state.version = event.stream_version  # left out of the snapshot: older than any status reads
            return state
    return decider.evolve(state, event)


def sound(stored: dict[str, Any] | None, state: decider.BudgetState | None) -> bool:
    """Whether `state`, folded on from the snapshot `stored` (its dict), is what a fold from
    the start gives (up to intervals no status reads any more)."""
    kept = None if stored is None else stored["kept_from_us"]
    if kept is None or state is None:
        return True
    now = kept_from(state)
    return now is not None and now >= kept
