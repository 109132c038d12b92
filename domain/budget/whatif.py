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

from domain.events import NewEvent, RecordedEvent

from . import decider
from .burn import parse_tiers
from .config import parse_budgeting, parse_target
from .errors import BudgetInputError
from .instants import EPOCH as _EPOCH, from_us, iso_us, to_us
from .ledger import Ledger
from .runs import observation_columns
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
    ledger: Ledger | None = dataclasses.field(default=None, compare=False, repr=False)  # for `series`

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


@dataclass(frozen=True)
class Judged:
    """One command on the stream, judged with the candidate in force: what a follower (the
    policy's reactions, the gate's view of the budget) reads after it. `ledger` holds the
    data through this command and maybe later appended data too (a run of appends is judged
    at once); every read at or before `event_time_us` sees only this command's data then."""

    position: int                          # the command's last data event
    event_time_us: int | None              # the stream's event time after it
    points: tuple[int, ...]                # the instants judged, ascending
    derived: tuple[RecordedEvent, ...]     # the transitions derived there, as the stream would hold them
    ledger: Ledger | None
    has_target: bool


# A run of appends is judged by halving (a span the ledger proves steady costs a few
# bisections), cut first into spans of about this many points: a long span's bounds are
# loose, and proving it steady may then read each of its intervals.
_SPAN = 1024


def _appends(group: list[RecordedEvent], state: decider.BudgetState | None) -> bool:
    """Whether the command only records intervals after every one the stream holds (and
    after its last freshness check): judged later with more such data in the ledger, every
    instant it reaches reads the same intervals (nothing ending after an instant counts at it)."""
    if state is None or state.ledger is None or state.target is None:
        return False
    last = state.ledger.last_end_us
    checked = state.checked_at_us
    for e in group:
        if e.type != "ObservationsRecorded":
            return False
        starts, ends, _, _ = observation_columns(e.data)
        if (last is not None and starts[0] < last) or (checked is not None and starts[0] < checked):
            return False
        last = ends[-1]
    return True


def _walk_groups(state: decider.BudgetState, groups: list[list[int]], points: list[int], offsets: list[int],
                 lo: int, hi: int, found: list[list[NewEvent]]) -> None:
    """The transitions each of groups[lo:hi] (each a command's points) derives from the
    state's flags on, folded into the state as found: a span the ledger proves steady is
    skipped whole, and each command is walked by `decider.derive_at` on its own points, as
    the reactor walked it (so transitions at one instant come in the reactor's order)."""
    if hi - lo == 1:
        new = decider.derive_at(state, groups[lo])
        for n in new:
            decider.evolve(state, _as_recorded(n, state))
        found[lo] = new
        return
    span = points[offsets[lo]:offsets[hi]]
    if len(span) > 1 and state.ledger.steady(span, state.exhausted, frozenset(state.alerts), state.stale):
        return
    mid = (lo + hi) // 2
    _walk_groups(state, groups, points, offsets, lo, mid, found)
    _walk_groups(state, groups, points, offsets, mid, hi, found)


def _as_recorded(new: NewEvent, state: decider.BudgetState, position: int = 0) -> RecordedEvent:
    return RecordedEvent(position=position, event_id="", stream_id=decider.stream_id(state.objective_id),
                         stream_version=state.version, type=new.type, schema_version=1, data=new.data,
                         metadata={}, recorded_at=_EPOCH)


def _judge(
    events: Sequence[RecordedEvent],
    candidate: Candidate | None,
    start: datetime,
    end: datetime,
    progress: Callable[[int, int], None] | None,
    follow: Callable[[Judged], None] | None,
) -> tuple[Outcome, decider.BudgetState | None]:
    start_us, end_us = to_us(start), to_us(end)
    rewrite = candidate.rewrite if candidate is not None else (lambda e: e)
    state: decider.BudgetState | None = None
    if candidate is not None and candidate.tiers is not None and events:
        state = decider.BudgetState(events[0].data["objective_id"])
        state.tiers = [dict(t) for t in candidate.tiers]
    derived: list[Moment] = []
    # A run of appends waiting to be judged: (last event, points, event time) per command.
    run: list[tuple[RecordedEvent, list[int], int | None]] = []

    def judge_run() -> None:
        groups = [ps for _, ps, _ in run]
        points = [p for ps in groups for p in ps]
        offsets = [0]
        for ps in groups:
            offsets.append(offsets[-1] + len(ps))
        found: list[list[NewEvent]] = [[] for _ in groups]
        lo = 0
        while lo < len(groups):  # spans of about _SPAN points: a long span's bounds are loose
            hi = lo + 1
            while hi < len(groups) and offsets[hi + 1] - offsets[lo] <= _SPAN:
                hi += 1
            _walk_groups(state, groups, points, offsets, lo, hi, found)
            lo = hi
        for (last, ps, event_time), here in zip(run, found):
            _found(last, ps, here, event_time)
        run.clear()

    def _found(last: RecordedEvent, points: list[int], new: list[NewEvent], event_time: int | None) -> None:
        for n in new:
            moment = Moment(n.type, n.data)
            if _in(moment.at, start_us, end_us):
                derived.append(moment)
        if follow is not None:
            follow(Judged(last.position, event_time, tuple(points),
                          tuple(_as_recorded(n, state, last.position) for n in new),
                          state.ledger if state is not None else None,
                          state is not None and state.target is not None))

    done, told = 0, 0
    judging = True
    for group in commands(events):
        done += len(group)
        # The event time only moves on, and each instant judged is at or after it: once it
        # reaches `end`, nothing later falls in the period. The rest is folded for the figures.
        if judging and state is not None and state.event_time_us is not None and state.event_time_us >= end_us:
            if run:
                judge_run()
            judging = False
        last = group[-1]
        if judging and _appends(group, state):
            for e in group:
                state = decider.evolve(state, rewrite(e))
            run.append((last, decider.judged_at(state, last.type, last.data), state.event_time_us))
        else:
            if run:
                judge_run()
            for e in group:
                state = decider.evolve(state, rewrite(e))
            if judging:
                points = decider.judged_at(state, last.type, last.data)
                new = decider.derive_at(state, points)
                for n in new:
                    state = decider.evolve(state, dataclasses.replace(last, type=n.type, data=n.data))
                _found(last, points, new, state.event_time_us)
            elif follow is not None:
                _found(last, [], [], state.event_time_us)
        if progress is not None and done - told >= 2000:
            progress(done, len(events))
            told = done
    if run:
        judge_run()
    return _outcome(state, tuple(derived), start, end), state


def target_whatif(
    events: Sequence[RecordedEvent],
    candidate: Candidate | None,
    start: datetime,
    end: datetime,
    progress: Callable[[int, int], None] | None = None,
    follow: Callable[[Judged], None] | None = None,
) -> Outcome:
    """Fold `events` (one budget stream, in log order) with `candidate` in force; see the
    module docstring. `follow` is handed each command judged, in log order; `progress(done,
    total)` is told the events folded now and then."""
    return _judge(events, candidate, start, end, progress, follow)[0]


def both(
    events: Sequence[RecordedEvent],
    candidate: Candidate | None,
    start: datetime,
    end: datetime,
    progress: Callable[[int, int], None] | None = None,
    follow: Callable[[Judged], None] | None = None,
) -> tuple[Outcome, Outcome]:
    """(the candidate's outcome, the recorded one) from one fold: the data does not depend on
    the configuration, so the recorded side is the candidate's final ledger under the
    configuration last recorded, with the transitions the log holds (which the candidate
    equal to what was in force derives again; tests/whatif checks that)."""
    outcome, state = _judge(events, candidate, start, end, progress, follow)
    actual: decider.BudgetState | None = None
    configured = next((e for e in reversed(events) if e.type == "BudgetConfigured"), None)
    if state is not None and state.ledger is not None and configured is not None:
        actual = decider.BudgetState(state.objective_id)
        actual.ledger = state.ledger
        actual = decider.evolve(actual, configured)
        alerts = next((e for e in reversed(events) if e.type == "AlertsConfigured"), None)
        if alerts is not None:
            actual = decider.evolve(actual, alerts)
    return outcome, _outcome(actual, recorded(events, start, end), start, end)


def _outcome(state: decider.BudgetState | None, moments: tuple[Moment, ...], start: datetime, end: datetime) -> Outcome:
    if state is None or state.ledger is None:
        return Outcome(moments, None, None, 0, 0)
    ledger = state.ledger
    good, total = ledger.counted(start, end)
    status = None
    last = ledger.last_end_us
    if state.target is not None and last is not None and last > to_us(start):
        status = ledger.status_at_us(min(last, to_us(end)))
    return Outcome(moments, status, state.target, good, total, ledger if state.target is not None else None)


@dataclass(frozen=True)
class SeriesPoint:
    at: datetime
    remaining: float        # the budget over the window then
    attainment: float | None  # good / total from the period's start to then


def series(outcome: Outcome, start: datetime, end: datetime, samples: int = 200) -> list[SeriesPoint]:
    """The outcome's budget and running attainment at `samples` even instants of the period
    (up to its last data): what a chart draws of it, from the ledger after the whole stream."""
    ledger = outcome.ledger
    if ledger is None or ledger.last_end_us is None:
        return []
    s, e = to_us(start), min(to_us(end), ledger.last_end_us)
    if e <= s:
        return []
    out = []
    for k in range(1, samples + 1):
        at_us = s + (e - s) * k // samples
        good, total = ledger.counted(start, from_us(at_us))
        out.append(SeriesPoint(from_us(at_us), ledger.judge_at_us(at_us).remaining, good / total if total else None))
    return out
