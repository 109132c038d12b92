"""The budget stream, `budget-{objective_id}`: one error-budget ledger per objective.

Commands (every one reads its objective's stream, `objective-{id}`):
  RecordObservations(objective_id, intervals)          a batch of SLI data from monitoring
  CorrectObservation(objective_id, interval, reason)    explicit new counts for a recorded interval
  ExcludeInterval(objective_id, exclusion_id, start, end, reason, approver)
  RestoreInterval(objective_id, exclusion_id, reason)
  ExcludeRecurring(objective_id, exclusion_id, rrule, start, zone, duration, reason, approver)
                                                        an RFC 5545 RRULE from a local DTSTART in
                                                        an IANA zone, each occurrence lasting
                                                        `duration` (recurrence.py)
  EndRecurringExclusion(objective_id, exclusion_id, from_, reason)
                                                        it stops applying to data from `from_` on
  ConfigureAlerts(objective_id, tiers, stale_after_minutes)
  CheckFreshness(objective_id)                          a scheduler's "has data stopped?" probe

Rules:
  * the objective must exist (NotFound) and not be retired (Conflict);
  * observations are accepted from DRAFT onwards (baseline data); the budget itself
    (status, transitions) is computed only once the objective has an agreed target;
  * an identical resent interval is a no-op (nothing appended when a whole batch is a
    resend); different counts for a recorded interval, or an overlap, is a Conflict; a
    correction is its own event; negative counts, good > total, a future interval
    (end after the server time of the command) are InvalidInput;
  * `BudgetInputError` -> `InvalidInput`, `IntervalConflict` -> `Conflict` (here, so every
    caller sees domain errors only).

Events carry facts only (intervals and counts as ISO times and integers, an
ObservationsRecorded's as runs: runs.py; never a clock reading), except `FreshnessChecked`,
whose `at` *is* the fact: "as of this server time no newer data had arrived"; it is
recorded only when it changes a derived state.

`BudgetConfigured` records the budgeting config (agreed target, window, method, and the
alert tiers the objective's policy states, when it states them) the ledger uses; the
decider emits it, before the data event, whenever the objective's config
differs from the one in force (first data, a renegotiated target). A renegotiated target
so takes effect in the budget stream with the next command on it.

State is a mutable `BudgetState` around a `Ledger`: `evolve` updates it in place (the bus
forgets cached states touched by a failed batch). Derived transitions compare the ledger
with the last derived flags (exhausted, alerts, stale) the stream holds, at every instant
a data event reaches (`judged_at`, `derive_at`; see walk.py): each interval end an
ObservationsRecorded adds, else the event time -- the latest of the last observation end
and the last freshness check, never the wall clock. So a replay derives the same events,
and a batch derives what its intervals would one request at a time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable, Mapping, Sequence

from domain import objective as objectives
from domain.commands import optional_text, related_state, require_id, require_int, require_text
from domain.errors import Conflict, InvalidInput, NotFound
from domain.events import Context, NewEvent, RecordedEvent

from .burn import Alert, check_tiers_fit, parse_tiers
from .errors import BudgetInputError, IntervalConflict
from .instants import US, from_us, iso_us, require_aware, to_us
from .ledger import CORRECTION, DEFAULT_STALE_AFTER, NEW, RESTORED, Ledger
from .observations import Exclusion, Interval, IntervalRows, check_volume
from .recurrence import Recurring
from .runs import Columns, observation_columns, run, to_runs
from .status import Figures, Status
from .transitions import (
    ALERT_CLEARED,
    DerivedFlags,
    ALERT_RAISED,
    BUDGET_EXHAUSTED,
    BUDGET_RECOVERED,
    OBSERVATIONS_FRESH,
    OBSERVATIONS_STALE,
    transitions,
)
from .walk import judgement_points, walk

CATEGORY = "budget"
# ObservationsRecorded's data: version 2 added `backfill`, version 3 holds the intervals as
# runs (runs.py) instead of an object each (domain/upcasters.py).
OBSERVATIONS_SCHEMA = 3
MAX_BATCH = 50_000
MAX_STALE_AFTER_MINUTES = 7 * 24 * 60
# A ledger needs a target to exist; before one is agreed the data is stored under this
# placeholder and no budget is computed from it.
_PLACEHOLDER_TARGET = 0.99

DATA_EVENTS: tuple[str, ...] = (
    "ObservationsRecorded",
    "ObservationCorrected",
    "IntervalExcluded",
    "IntervalRestored",
    "RecurringExclusionAdded",
    "RecurringExclusionEnded",
    "BudgetConfigured",
    "AlertsConfigured",
    "FreshnessChecked",
)
TRANSITION_EVENTS: dict[str, str] = {
    BUDGET_EXHAUSTED: "BudgetExhausted",
    BUDGET_RECOVERED: "BudgetRecovered",
    ALERT_RAISED: "BurnRateAlertRaised",
    ALERT_CLEARED: "BurnRateAlertCleared",
    OBSERVATIONS_STALE: "ObservationsStale",
    OBSERVATIONS_FRESH: "ObservationsFresh",
}
EVENT_TYPES: tuple[str, ...] = DATA_EVENTS + tuple(TRANSITION_EVENTS.values())


def stream_id(objective_id: str) -> str:
    return f"{CATEGORY}-{objective_id}"


# --- state ----------------------------------------------------------------------


@dataclass
class BudgetState:
    objective_id: str
    config: dict[str, Any] | None = None  # {"target": float | None, "window": {...}, "budgeting": {...}}
    ledger: Ledger | None = None
    tiers: list[dict[str, Any]] | None = None  # ConfigureAlerts' own; None: the policy's (else default) tiers
    stale_after_seconds: int | None = None  # None: the ledger default (15 minutes)
    checked_at_us: int | None = None  # the latest FreshnessChecked
    exhausted: bool = False
    alerts: dict[tuple, Alert] = field(default_factory=dict)
    stale: bool = False
    version: int = 0

    @property
    def target(self) -> float | None:
        return None if self.config is None else self.config.get("target")

    @property
    def event_time_us(self) -> int | None:
        """The model's "now" in microseconds: the latest observation end or freshness check,
        whichever is later (in integers: this is asked several times per command)."""
        last = self.ledger.last_end_us if self.ledger is not None else None
        checked = self.checked_at_us
        if last is None:
            return checked
        return last if checked is None or last >= checked else checked

    @property
    def event_time(self) -> datetime | None:
        at = self.event_time_us
        return None if at is None else from_us(at)

    def status(self, at: datetime | None = None) -> Status | None:
        """The budget at `at` (default: event time); None without a target or any data."""
        if self.ledger is None or self.target is None:
            return None
        if at is not None:
            return self.ledger.status(at)
        at_us = self.event_time_us
        return None if at_us is None else self.ledger.status_at_us(at_us)

    def figures(self) -> Figures | None:
        """`status()`'s figures, alerts and staleness at event time, without the rest of a
        Status (`Ledger.figures_at_us`): what the budget read model shows."""
        if self.ledger is None or self.target is None:
            return None
        at_us = self.event_time_us
        return None if at_us is None else self.ledger.figures_at_us(at_us)

    def to_doc(self, alerts: Any = None) -> dict[str, Any]:
        """Everything but the intervals (they live in their own rows), JSON-safe. `alerts`:
        the raised alerts' list as the caller already holds it encoded (the read model keeps
        it between minutes, see projections/budgets.py), else their dicts."""
        ledger = self.ledger
        return {
            "objective_id": self.objective_id,
            "config": self.config,
            "tiers": self.tiers,
            "stale_after_seconds": self.stale_after_seconds,
            "checked_at_us": self.checked_at_us,
            "exhausted": self.exhausted,
            "alerts": [a.to_dict() for a in self.alerts.values()] if alerts is None else alerts,
            "stale": self.stale,
            "version": self.version,
            # `is not None`: a ledger's truth is its length, a Python call each time
            "exclusions": _dicts(ledger.exclusions) if ledger is not None else [],
            "restored_exclusions": _dicts(ledger.restored_exclusions) if ledger is not None else [],
            "recurring_exclusions": _dicts(ledger.recurring_exclusions) if ledger is not None else [],
        }

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any], intervals: Iterable[Iterable[int]]) -> "BudgetState":
        """Rebuild from `to_doc()` and the [start_us, end_us, good, total] rows, in start order."""
        state = cls(doc["objective_id"])
        state.config = doc["config"]
        state.tiers = doc["tiers"]
        state.stale_after_seconds = doc["stale_after_seconds"]
        state.checked_at_us = doc["checked_at_us"]
        state.exhausted = doc["exhausted"]
        state.alerts = {a.key: a for a in (Alert(**a) for a in doc["alerts"])}
        state.stale = doc["stale"]
        state.version = doc["version"]
        if state.config is not None:
            snapshot = {
                "version": 1,
                "config": _ledger_config(state.config),
                "tiers": [t.to_dict() for t in parse_tiers(effective_tiers(state))],
                "stale_after_us": _stale_after_us(state),
                "intervals": [list(r) for r in intervals],
                "exclusions": doc["exclusions"],
                "restored_exclusions": doc["restored_exclusions"],
                # absent from rows written before recurring exclusions existed
                "recurring_exclusions": doc.get("recurring_exclusions", []),
            }
            state.ledger = Ledger.from_dict(snapshot)
        return state


def _dicts(items: Sequence[Any]) -> list[dict[str, Any]]:
    # Nearly always none (a budget without exclusions): no comprehension to run then.
    return [x.to_dict() for x in items] if items else []


def _ledger_config(config: Mapping[str, Any]) -> dict[str, Any]:
    target = config.get("target")
    return {
        "target": target if target is not None else _PLACEHOLDER_TARGET,
        "window": config["window"],
        "budgeting": config["budgeting"],
    }


def effective_tiers(state: BudgetState) -> list[dict[str, Any]] | None:
    """The tiers in force: the objective's own (ConfigureAlerts), else its policy's, else
    None (the workbook's defaults)."""
    if state.tiers is not None:
        return state.tiers
    return (state.config or {}).get("tiers")


def _stale_after_us(state: BudgetState) -> int:
    if state.stale_after_seconds is None:
        return DEFAULT_STALE_AFTER // US
    return state.stale_after_seconds * 1_000_000


def objective_config(obj: objectives.ObjectiveState) -> dict[str, Any]:
    """The budgeting config an objective implies: agreed target (or None), window, method."""
    window = obj.window.budget_window()
    b = obj.budgeting
    budgeting = (
        {"method": "timeslices", "slice_minutes": b.slice_minutes, "slice_threshold": b.slice_threshold}
        if b.method == "timeslices"
        else {"method": "ratio_timeslices", "slice_minutes": b.slice_minutes} if b.method == "ratio_timeslices"
        else {"method": "occurrences"}
    )
    config = {"target": obj.agreed_target, "window": window, "budgeting": budgeting}
    tiers = obj.agreement.alert_tiers if obj.agreement is not None else None
    if tiers is not None:  # the policy's tiers travel with the config (only when it states them)
        config["tiers"] = [{"severity": t.severity, "long_window": t.long_window, "short_window": t.short_window,
                            "threshold": t.threshold} for t in tiers]
    return config


# --- commands -------------------------------------------------------------------


class _BudgetCommand:
    objective_id: str

    def stream(self) -> str:
        return stream_id(self.objective_id)

    def reads(self, state: Any = None) -> tuple[str, ...]:
        return (objectives.stream_id(self.objective_id),)


@dataclass(frozen=True)
class RecordObservations(_BudgetCommand):
    objective_id: str
    intervals: tuple[Interval, ...]
    # History pulled from a source (a baseline): fills only what is not recorded yet (a
    # recorded interval it overlaps or repeats is kept, whatever its counts), and the event
    # says so, so readers can tell measured history from live data.
    backfill: bool = False


@dataclass(frozen=True)
class CorrectObservation(_BudgetCommand):
    objective_id: str
    interval: Interval
    reason: str


@dataclass(frozen=True)
class ExcludeInterval(_BudgetCommand):
    objective_id: str
    exclusion_id: str
    start: datetime
    end: datetime
    reason: str
    approver: str | None = None  # defaults to the actor


@dataclass(frozen=True)
class RestoreInterval(_BudgetCommand):
    objective_id: str
    exclusion_id: str
    reason: str


@dataclass(frozen=True)
class ExcludeRecurring(_BudgetCommand):
    """Exclude every occurrence of `rrule` (RFC 5545, the subset recurrence.py reads) from
    `start`, a wall-clock date-time in the IANA `zone`, each lasting `duration` ('2h')."""

    objective_id: str
    exclusion_id: str
    rrule: str
    start: Any  # a naive datetime or 'YYYY-MM-DDTHH:MM[:SS]' without an offset
    zone: str
    duration: Any  # '90m', '2h' or a timedelta
    reason: str
    approver: str | None = None  # defaults to the actor


@dataclass(frozen=True)
class EndRecurringExclusion(_BudgetCommand):
    """The recurring exclusion stops applying to data starting at `from_` (a data time) or later."""

    objective_id: str
    exclusion_id: str
    from_: datetime
    reason: str


@dataclass(frozen=True)
class ConfigureAlerts(_BudgetCommand):
    objective_id: str
    tiers: tuple[Mapping[str, Any], ...] | None = None  # None: the workbook defaults
    stale_after_minutes: int | None = None  # None: 15 minutes


@dataclass(frozen=True)
class CheckFreshness(_BudgetCommand):
    objective_id: str


COMMANDS: tuple[type, ...] = (
    RecordObservations,
    CorrectObservation,
    ExcludeInterval,
    RestoreInterval,
    ExcludeRecurring,
    EndRecurringExclusion,
    ConfigureAlerts,
    CheckFreshness,
)


# --- decide ---------------------------------------------------------------------


def domain_error(error: BudgetInputError) -> InvalidInput | Conflict:
    """The arithmetic's refusals as domain errors (field and kind kept in the details)."""
    if isinstance(error, IntervalConflict):
        return Conflict(str(error), field=error.field, kind=error.kind)
    return InvalidInput(str(error), field=error.field)


def as_interval(value: Any, field: str = "intervals") -> Interval:
    """A command's interval, with the counts a command may send (`check_volume`)."""
    try:
        interval = value if isinstance(value, Interval) else Interval.from_dict(value)
        check_volume(interval)
    except BudgetInputError as error:
        raise InvalidInput(f"{field}: {error}", field=f"{field}.{error.field}") from None
    return interval


def batch_items(intervals: Any, field: str = "intervals") -> tuple[Interval, ...]:
    """A batch's shape: a non-empty list, at most MAX_BATCH valid intervals."""
    # A tuple or list (what commands hold) skips the generic checks, which are slow.
    if type(intervals) not in (tuple, list) and (
        isinstance(intervals, (str, bytes, Mapping)) or not isinstance(intervals, Iterable)
    ):
        raise InvalidInput(f"{field} must be a list of intervals", field=field)
    items = tuple(v if type(v) is Interval else as_interval(v, f"{field}[{i}]") for i, v in enumerate(intervals))
    if not items:
        raise InvalidInput(f"{field} must hold at least one interval", field=field)
    if len(items) > MAX_BATCH:
        raise InvalidInput(f"{field} may hold at most {MAX_BATCH} intervals", field=field)
    return items


def check_batch(intervals: Any, field: str = "intervals") -> tuple[Interval, ...]:
    """The pure, state-free checks of a batch (shape, counts, bounds, overlaps inside it)."""
    items = batch_items(intervals, field)
    try:
        _checker().classify_batch(items)
    except BudgetInputError as error:
        raise domain_error(error) from None
    return items


def _empty_ledger() -> Ledger:
    return Ledger(_PLACEHOLDER_TARGET, {"kind": "rolling", "days": 1})


_CHECKER: list[Ledger] = []


def _checker() -> Ledger:
    """One empty ledger for the state-free batch checks (classify only reads it)."""
    if not _CHECKER:
        _CHECKER.append(_empty_ledger())
    return _CHECKER[0]


def decide(command: Any, state: BudgetState | None, ctx: Context) -> list[NewEvent]:
    handler = _DECIDERS.get(type(command))
    if handler is None:
        raise TypeError(f"not a budget command: {type(command).__name__}")
    objective_id = require_id(command.objective_id, "objective_id")
    obj = related_state(ctx, objectives.stream_id(objective_id))
    if obj is None:
        raise NotFound(f"objective {objective_id} does not exist", objective_id=objective_id)
    if obj.retired:
        raise Conflict(f"objective {objective_id} is retired: it takes no budget changes", objective_id=objective_id)
    config = objective_config(obj)
    if isinstance(command, ConfigureAlerts) and command.tiers is not None:
        try:
            check_tiers_fit(parse_tiers(command.tiers), obj.window.budget_window())
        except BudgetInputError as error:
            raise domain_error(error) from None
    ledger = state.ledger if state is not None and state.ledger is not None else _empty_ledger()
    try:
        events = handler(command, state, ledger, ctx)
    except BudgetInputError as error:
        raise domain_error(error) from None
    if state is None or state.config != config:
        # The config in force travels ahead of the data it applies to; a scheduler's
        # CheckFreshness also brings a renegotiated target into force on its own.
        if events or (isinstance(command, CheckFreshness) and state is not None and state.ledger is not None):
            events = [NewEvent("BudgetConfigured", {"objective_id": objective_id, **config}), *events]
    return events


def _record(cmd: RecordObservations, state: BudgetState | None, ledger: Ledger, ctx: Context) -> list[NewEvent]:
    intervals = cmd.intervals
    if type(intervals) is tuple and len(intervals) == 1 and type(intervals[0]) is Interval and cmd.backfill is False:
        return _record_one(cmd.objective_id, intervals[0], ledger, ctx.now)
    if type(cmd.intervals) is IntervalRows and cmd.backfill is True and 0 < len(cmd.intervals) <= MAX_BATCH:
        fresh = _unrecorded_rows(ledger, cmd.intervals, to_us(ctx.now))
        if fresh is not None:
            if not fresh:
                return []
            return [_recorded(cmd.objective_id, fresh.starts, fresh.ends, fresh.good, fresh.total, True)]
    # classify_batch checks the batch against itself too (what check_batch adds to the shape).
    intervals = batch_items(cmd.intervals)
    if cmd.backfill is not True and cmd.backfill is not False:
        raise InvalidInput("backfill must be true or false", field="backfill")
    if cmd.backfill:
        # Checked against the ledger here (each once); classify_batch then finds the rest
        # new and checks them against each other.
        intervals = tuple(_unrecorded(ledger, intervals, ctx.now))
        decisions = _checker().classify_batch(intervals)
    else:
        decisions = ledger.classify_batch(intervals, at=ctx.now)
    fresh = sorted((iv for iv, d in zip(intervals, decisions) if d == NEW), key=lambda iv: iv.start_us)
    if not fresh:
        return []
    return [_recorded(cmd.objective_id, [iv.start_us for iv in fresh], [iv.end_us for iv in fresh],
                      [iv.good for iv in fresh], [iv.total for iv in fresh], cmd.backfill)]


def _record_one(objective_id: str, interval: Interval, ledger: Ledger, now: datetime) -> list[NewEvent]:
    """A live push's one new interval (a collector's usual command): what the batch path
    decides for a batch of one -- `classify` is all `classify_batch` does for it, and its
    event is one run of one -- without the batch's tuples, sorting and run cutting."""
    if ledger.classify(interval, at=now) != NEW:
        return []
    step_us = interval.end_us - interval.start_us
    return [_observations(objective_id, [run(interval.start_us, step_us, [interval.good], [interval.total])], False)]


def _recorded(objective_id: str, starts: Sequence[int], ends: Sequence[int], good: Sequence[int],
              total: Sequence[int], backfill: bool) -> NewEvent:
    return _observations(objective_id, to_runs(starts, ends, good, total), backfill)


def _observations(objective_id: str, runs: list[dict[str, Any]], backfill: bool) -> NewEvent:
    return NewEvent("ObservationsRecorded", {"objective_id": objective_id, "runs": runs, "backfill": backfill},
                    OBSERVATIONS_SCHEMA)


def _unrecorded_rows(ledger: Ledger, rows: IntervalRows, now_us: int) -> IntervalRows | None:
    """A backfill's rows as columns, the usual shape (ascending, not overlapping each other,
    every count and time acceptable): the ones the ledger has no word on, in order -- what
    `_unrecorded` and `classify_batch` keep of them, without an Interval each. None for any
    other shape, which the general path decides (and refuses with its own message)."""
    if not rows.ordered() or rows.first_over_volume_or_future(now_us) is not None:
        return None
    free = ledger.free_rows(rows.starts, rows.ends)
    if len(free) == len(rows):
        return rows
    return rows.take(free)


def _unrecorded(ledger: Ledger, intervals: Iterable[Interval], now: datetime):
    """A backfill's intervals the ledger has no word on: a recorded one (same bounds, any
    counts) or an overlap is left as recorded; a future one is still refused (the
    checker ledger's classify_batch, which has no time, does not see it)."""
    for iv in intervals:
        try:
            if ledger.classify(iv, at=now) == NEW:
                yield iv
        except IntervalConflict:
            continue


def _correct(cmd: CorrectObservation, state: BudgetState | None, ledger: Ledger, ctx: Context) -> list[NewEvent]:
    interval = as_interval(cmd.interval, "interval")
    reason = require_text(cmd.reason, "reason")
    if ledger.classify_correction(interval, at=ctx.now) != CORRECTION:
        return []
    before = ledger.get(interval.start, interval.end)
    return [NewEvent("ObservationCorrected", {
        "objective_id": cmd.objective_id,
        "interval": interval.to_dict(),
        "previous": {"good": before.good, "total": before.total},
        "reason": reason,
    })]


def _exclude(cmd: ExcludeInterval, state: BudgetState | None, ledger: Ledger, ctx: Context) -> list[NewEvent]:
    exclusion_id = require_id(cmd.exclusion_id, "exclusion_id")
    reason = require_text(cmd.reason, "reason")
    approver = optional_text(cmd.approver, "approver", max_length=200) or ctx.actor
    exclusion = Exclusion(exclusion_id, cmd.start, cmd.end, reason)
    if ledger.classify_exclusion(exclusion) != NEW:
        return []
    return [NewEvent("IntervalExcluded", {
        "objective_id": cmd.objective_id, **exclusion.to_dict(), "approver": approver,
    })]


def _restore(cmd: RestoreInterval, state: BudgetState | None, ledger: Ledger, ctx: Context) -> list[NewEvent]:
    exclusion_id = require_id(cmd.exclusion_id, "exclusion_id")
    reason = require_text(cmd.reason, "reason")
    try:
        decision = ledger.classify_restore(exclusion_id)
    except BudgetInputError as error:
        raise NotFound(str(error), field="exclusion_id", exclusion_id=exclusion_id) from None
    if decision != RESTORED:
        return []
    return [NewEvent("IntervalRestored", {"objective_id": cmd.objective_id, "id": exclusion_id, "reason": reason})]


def _exclude_recurring(cmd: ExcludeRecurring, state: BudgetState | None, ledger: Ledger, ctx: Context) -> list[NewEvent]:
    exclusion_id = require_id(cmd.exclusion_id, "exclusion_id")
    reason = require_text(cmd.reason, "reason")
    approver = optional_text(cmd.approver, "approver", max_length=200) or ctx.actor
    item = Recurring.new(exclusion_id, cmd.rrule, cmd.start, cmd.zone, cmd.duration, reason)
    if ledger.classify_recurring(item) != NEW:
        return []
    return [NewEvent("RecurringExclusionAdded", {
        "objective_id": cmd.objective_id, **item.to_dict(), "approver": approver,
    })]


def _end_recurring(cmd: EndRecurringExclusion, state: BudgetState | None, ledger: Ledger, ctx: Context) -> list[NewEvent]:
    exclusion_id = require_id(cmd.exclusion_id, "exclusion_id")
    reason = require_text(cmd.reason, "reason")
    at_us = to_us(require_aware(cmd.from_, "from"), "from")
    try:
        decision = ledger.classify_end_recurring(exclusion_id, at_us)
    except IntervalConflict:
        raise
    except BudgetInputError as error:
        raise NotFound(str(error), field="exclusion_id", exclusion_id=exclusion_id) from None
    if decision != RESTORED:
        return []
    return [NewEvent("RecurringExclusionEnded", {
        "objective_id": cmd.objective_id, "id": exclusion_id, "from": from_us(at_us).isoformat(), "reason": reason,
    })]


def _configure(cmd: ConfigureAlerts, state: BudgetState | None, ledger: Ledger, ctx: Context) -> list[NewEvent]:
    tiers = None if cmd.tiers is None else [t.to_dict() for t in parse_tiers(cmd.tiers)]
    if tiers is not None and not tiers:
        raise InvalidInput("tiers must hold at least one tier (omit them for the defaults)", field="tiers")
    minutes = require_int(cmd.stale_after_minutes, "stale_after_minutes", minimum=1, maximum=MAX_STALE_AFTER_MINUTES) \
        if cmd.stale_after_minutes is not None else None
    seconds = None if minutes is None else minutes * 60
    if state is not None and state.tiers == tiers and state.stale_after_seconds == seconds:
        return []
    return [NewEvent("AlertsConfigured", {"objective_id": cmd.objective_id, "tiers": tiers, "stale_after_seconds": seconds})]


def _check(cmd: CheckFreshness, state: BudgetState | None, ledger: Ledger, ctx: Context) -> list[NewEvent]:
    if state is None or state.ledger is None or state.target is None or state.event_time is None:
        return []
    now = ctx.now.astimezone(timezone.utc)
    if now <= state.event_time:
        return []
    if not derive(state, at=now):
        return []  # nothing would change: no need to record the probe
    return [NewEvent("FreshnessChecked", {"objective_id": cmd.objective_id, "at": now.isoformat()})]


_DECIDERS = {
    RecordObservations: _record,
    CorrectObservation: _correct,
    ExcludeInterval: _exclude,
    RestoreInterval: _restore,
    ExcludeRecurring: _exclude_recurring,
    EndRecurringExclusion: _end_recurring,
    ConfigureAlerts: _configure,
    CheckFreshness: _check,
}


# --- derived transitions ----------------------------------------------------------


def derive(state: BudgetState | None, at: datetime | None = None) -> list[NewEvent]:
    """Transition events from the last derived flags to the status at event time (or `at`)."""
    if state is None:
        return []
    after = state.status(at)
    if after is None:
        return []
    before = DerivedFlags(state.exhausted, tuple(state.alerts.values()), state.stale)
    return [
        NewEvent(TRANSITION_EVENTS[t.kind], {"objective_id": state.objective_id, **t.detail})
        for t in transitions(before, after)
    ]


def judged_at(state: BudgetState | None, event_type: str, data: Mapping[str, Any]) -> list[int]:
    """The instants (microseconds, ascending) the data event just folded into `state` is
    judged at (see walk.py); none before the budget has a target and data."""
    if state is None or state.ledger is None or state.target is None:
        return []
    at = state.event_time_us
    if at is None:
        return []
    return judgement_points(state.ledger, event_type, data, at, state.checked_at_us)


def derive_at(state: BudgetState | None, points: Iterable[int]) -> list[NewEvent]:
    """Transition events from the last derived flags on, found at each of `points` in turn
    (ascending) and stamped with the instant they happened at."""
    if state is None or state.ledger is None or state.target is None:
        return []
    before = DerivedFlags(state.exhausted, tuple(state.alerts.values()), state.stale)
    return [
        NewEvent(TRANSITION_EVENTS[t.kind], {"objective_id": state.objective_id, **t.detail})
        for step in walk(state.ledger, before, points)
        for t in step.transitions
    ]


# --- evolve ---------------------------------------------------------------------


def _interval(data: Mapping[str, Any]) -> Interval:
    return Interval.from_dict(data)


def _apply_config(state: BudgetState) -> None:
    """(Re)build the ledger for the config, tiers and staleness in force, keeping the data
    (copied across: a renegotiated target on a long stream costs no re-validation)."""
    if state.config is None:
        return
    if state.ledger is not None:
        c = _ledger_config(state.config)
        state.ledger = state.ledger.with_config(
            c["target"], c["window"], c["budgeting"], tiers=effective_tiers(state),
            stale_after=timedelta(microseconds=_stale_after_us(state)))
        return
    state.ledger = Ledger.from_dict({
        "version": 1,
        "config": _ledger_config(state.config),
        "tiers": effective_tiers(state),  # None: the default tiers, already parsed
        "stale_after_us": _stale_after_us(state),
        "intervals": [],
    })


def recorded_columns(state: BudgetState | None, data: Mapping[str, Any]) -> Columns:
    """`observation_columns(data)` of an ObservationsRecorded's data, for the budget read
    model: cheap enough from the runs (ranges for one) not to keep what `evolve` read, so
    `state` is not needed. The caller does not change them."""
    return observation_columns(data)


def evolve(state: BudgetState | None, event: RecordedEvent) -> BudgetState:
    data = event.data
    if state is None:
        state = BudgetState(data["objective_id"])
    kind = event.type
    if kind == "BudgetConfigured":
        config = {"target": data["target"], "window": data["window"], "budgeting": data["budgeting"]}
        if data.get("tiers") is not None:
            config["tiers"] = data["tiers"]
        state.config = config
        _apply_config(state)
    elif state.ledger is None:
        raise ValueError(f"{kind} before BudgetConfigured in {event.stream_id}")
    elif kind == "ObservationsRecorded":
        runs = data["runs"]
        if len(runs) == 1 and len(runs[0]["good"]) == 1:
            # A live minute: its one row (the fold of a row is the fold of its columns, and
            # a row costs no ranges to build and check).
            run = runs[0]
            start_us = iso_us(run["start"])
            state.ledger.record_rows(((start_us, start_us + run["step_us"], run["good"][0], run["total"][0]),))
        else:
            state.ledger.record_columns(*observation_columns(data))
    elif kind == "ObservationCorrected":
        state.ledger.correct(_interval(data["interval"]))
    elif kind == "IntervalExcluded":
        state.ledger.exclude(Exclusion.from_dict(data))
    elif kind == "IntervalRestored":
        state.ledger.restore(data["id"])
    elif kind == "RecurringExclusionAdded":
        state.ledger.exclude_recurring(Recurring.from_dict(data))
    elif kind == "RecurringExclusionEnded":
        state.ledger.end_recurring(data["id"], iso_us(data["from"]))
    elif kind == "AlertsConfigured":
        state.tiers = data["tiers"]
        state.stale_after_seconds = data["stale_after_seconds"]
        state.ledger.tiers = parse_tiers(effective_tiers(state))
        state.ledger.stale_after = timedelta(microseconds=_stale_after_us(state))
    elif kind == "FreshnessChecked":
        state.checked_at_us = to_us(datetime.fromisoformat(data["at"]))
    elif kind == "BudgetExhausted":
        state.exhausted = True
    elif kind == "BudgetRecovered":
        state.exhausted = False
    elif kind == "BurnRateAlertRaised":
        alert = Alert(data["severity"], data["long_window"], data["short_window"],
                      data["long_rate"], data["short_rate"], data["threshold"])
        state.alerts[alert.key] = alert
    elif kind == "BurnRateAlertCleared":
        key = (data["severity"], data["long_window"], data["short_window"], float(data["threshold"]))
        state.alerts.pop(key, None)
    elif kind == "ObservationsStale":
        state.stale = True
    elif kind == "ObservationsFresh":
        state.stale = False
    else:
        raise ValueError(f"unknown budget event type {kind!r}")
    state.version = event.stream_version
    return state
