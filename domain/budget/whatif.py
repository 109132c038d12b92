"""Target what-if: a budget stream's recorded history judged again with one input changed.

`target_whatif(events, candidate, start, end)` folds the recorded data events of one
`budget-{objective}` stream into a fresh state, in log order, with the candidate's
target, window, budgeting method or alert tiers written into the configuration events
(`BudgetConfigured`, `AlertsConfigured`) as it reads them. Everything else is live's own
machinery: the decider's `evolve`, and after each command's last data event the instants
the budget reactor judges (`judged_at`) and the transitions it derives there
(`derive_at`), which are then folded back in, as the reactor's appends are. The recorded
transitions are skipped: the copy derives its own. Nothing is appended anywhere.

So with no candidate (or one equal to what was in force) the copy derives exactly the
transitions the log holds; that is the property the tests check.

A command's events share `metadata["command_id"]`; the reactor judges once per command, on
the state after its last data event (a renegotiated target's `BudgetConfigured` travels in
the command of the data it applies to), and so does the copy.

What it cannot see: between data, live judges only at the freshness checks it recorded,
and a check is recorded only when it changed something under the configuration in force.
A candidate's transitions in a quiet stretch (a budget recovering as old errors leave the
window while no data arrives) surface at the next recorded instant.

Period figures follow the leadership report's definitions (service/reports/model.py):
attainment is good / total over the intervals ending in (start, end], excluded ones left
out, and budget spent is (1 - attainment) / (1 - target). They are read from the ledger
after the whole stream (so later corrections and exclusions count, as in the report);
`status` is the budget over the window at the period's last data (or `end`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

from domain.events import RecordedEvent

from . import decider
from .burn import parse_tiers
from .config import parse_budgeting, parse_target
from .errors import BudgetInputError
from .instants import iso_us, to_us
from .status import Status
from .windows import parse_window

_DATA = frozenset(decider.DATA_EVENTS)
_TRANSITIONS = frozenset(decider.TRANSITION_EVENTS.values())


@dataclass(frozen=True)
class Candidate:
    """What changes; None leaves the recorded value in force (tiers None: as recorded,
    which may be the defaults)."""

    target: float | None = None
    window: Mapping[str, Any] | None = None
    budgeting: Mapping[str, Any] | None = None
    tiers: tuple[Mapping[str, Any], ...] | None = None

    @staticmethod
    def parse(target: Any = None, window: Any = None, budgeting: Any = None, tiers: Any = None) -> "Candidate":
        """Checked and normalised as the decider would (raises `BudgetInputError`)."""
        parsed_tiers = None
        if tiers is not None:
            parsed_tiers = tuple(t.to_dict() for t in parse_tiers(tiers))
            if not parsed_tiers:
                raise BudgetInputError("tiers", "must hold at least one tier (omit them to keep the recorded ones)")
        return Candidate(
            target=None if target is None else parse_target(target),
            window=None if window is None else parse_window(window).to_dict(),
            budgeting=None if budgeting is None else parse_budgeting(budgeting).to_dict(),
            tiers=parsed_tiers,
        )

    def rewrite(self, event: RecordedEvent) -> RecordedEvent:
        """The event as it would have been recorded with the candidate in force."""
        if event.type == "BudgetConfigured":
            data = dict(event.data)
            for key in ("target", "window", "budgeting"):
                value = getattr(self, key)
                if value is not None:
                    data[key] = value
            return dataclasses.replace(event, data=data)
        if event.type == "AlertsConfigured" and self.tiers is not None:
            return dataclasses.replace(event, data={**event.data, "tiers": [dict(t) for t in self.tiers]})
        return event


@dataclass(frozen=True)
class Moment:
    """A budget transition: its event type and data (`at` is its data time)."""

    type: str
    data: Mapping[str, Any]

    @property
    def at(self) -> str:
        return self.data["at"]


@dataclass(frozen=True)
class Outcome:
    """One history judged over [start, end)."""

    transitions: tuple[Moment, ...]  # at in [start, end), in the order they were derived
    status: Status | None            # the budget over the window at the period's last data
    target: float | None             # the target in force at the end (None: never agreed)
    good: int
    total: int

    @property
    def attainment(self) -> float | None:
        return self.good / self.total if self.total else None

    @property
    def budget_spent(self) -> float | None:
        a = self.attainment
        return None if a is None or self.target is None else (1 - a) / (1 - self.target)

    def of(self, *types: str) -> tuple[Moment, ...]:
        return tuple(m for m in self.transitions if m.type in types)


def commands(events: Iterable[RecordedEvent]) -> Iterator[list[RecordedEvent]]:
    """The stream's data events, grouped by the command that appended them (in log order);
    recorded transitions are left out."""
    group: list[RecordedEvent] = []
    key: object = None
    for e in events:
        if e.type not in _DATA:
            continue
        k = e.metadata.get("command_id") or e.event_id
        if group and k != key:
            yield group
            group = []
        group.append(e)
        key = k
    if group:
        yield group


def _in(moment_at: str, start_us: int, end_us: int) -> bool:
    return start_us <= iso_us(moment_at) < end_us


def recorded(events: Iterable[RecordedEvent], start: datetime, end: datetime) -> tuple[Moment, ...]:
    """The transitions the log holds with data time in [start, end)."""
    s, e = to_us(start), to_us(end)
    return tuple(Moment(ev.type, ev.data) for ev in events if ev.type in _TRANSITIONS and _in(ev.data["at"], s, e))


def target_whatif(
    events: Sequence[RecordedEvent],
    candidate: Candidate | None,
    start: datetime,
    end: datetime,
    progress: Callable[[int, int], None] | None = None,
) -> Outcome:
    """Fold `events` (one budget stream, in log order) with `candidate` in force; see the
    module docstring. `progress(done, total)` is told the events folded now and then."""
    start_us, end_us = to_us(start), to_us(end)
    rewrite = candidate.rewrite if candidate is not None else (lambda e: e)
    state: decider.BudgetState | None = None
    if candidate is not None and candidate.tiers is not None and events:
        state = decider.BudgetState(events[0].data["objective_id"])
        state.tiers = [dict(t) for t in candidate.tiers]
    derived: list[Moment] = []
    done, told = 0, 0
    judging = True
    for group in commands(events):
        done += len(group)
        # The event time only moves on, and each instant judged is at or after it: once it
        # reaches `end`, nothing later falls in the period. The rest is folded for the figures.
        if judging and state is not None and state.event_time_us is not None and state.event_time_us >= end_us:
            judging = False
        for e in group:
            state = decider.evolve(state, rewrite(e))
        if judging:
            last = group[-1]
            for new in decider.derive_at(state, decider.judged_at(state, last.type, last.data)):
                moment = Moment(new.type, new.data)
                if _in(moment.at, start_us, end_us):
                    derived.append(moment)
                state = decider.evolve(state, dataclasses.replace(last, type=new.type, data=new.data))
        if progress is not None and done - told >= 2000:
            progress(done, len(events))
            told = done
    return _outcome(state, tuple(derived), start, end)


def _outcome(state: decider.BudgetState | None, moments: tuple[Moment, ...], start: datetime, end: datetime) -> Outcome:
    if state is None or state.ledger is None:
        return Outcome(moments, None, None, 0, 0)
    ledger = state.ledger
    good, total = ledger.counted(start, end)
    status = None
    last = ledger.last_end_us
    if state.target is not None and last is not None and last > to_us(start):
        status = ledger.status_at_us(min(last, to_us(end)))
    return Outcome(moments, status, state.target, good, total)
