"""Error budgets at the service level: the batch write the monitoring side uses, budget
adjustments, and the reads (status, chart, exclusions, journey composite, feasibility).

Writes go through the command bus like every command (`domain/budget/decider.py` decides).
Reads use the `rm_budgets` / `rm_budget_runs` read models: a ledger is loaded once
(summary doc + interval runs) and kept warm per process, keyed by the last event id the
row was written for, so a read costs one small SELECT plus O(log n) arithmetic. When the
row has moved on, the warm state is brought forward with the stream's newer events from
the log (one indexed SELECT, the decider's own `evolve`) instead of reloading the history.
`record_observations` checks what needs no state, then hands the bus one all-or-nothing
group of commands (one per objective), which it decides against the log itself.

Composite journeys: a journey's critical dependency `S` (a service name) is measured by
the objectives whose id is `S`, or that belong to a journey whose id is `S` (a service
modelled as a journey of its own). Retired objectives, and the journey's own objectives,
are left out. A dependency without such an objective, or without an agreed target, is
listed as `unmeasured`; attainment and ceiling then cover only what is measured and
`complete` is False.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable, Mapping, Sequence

import orjson
from sqlalchemy import and_, or_, select, text

from domain import journey as journeys_domain
from domain import objective as objectives_domain
from domain.budget import (
    BudgetInputError,
    ChartPoint,
    Exclusion,
    Interval,
    Status,
    composite_attainment,
    composite_check,
)
from domain.budget import decider
from domain.budget.composite import composite_ceiling, weighted_mean
from domain.budget.recurrence import Recurring
from domain.commands import require_id
from domain.errors import InvalidInput, NotFound
from domain.permissions import authorize
from eventstore.ids import new_id
from eventstore.store import EVENT_COLUMNS
from eventstore.tables import events
from projections import budgets as budget_projection
from projections.tables import budgets, journeys, objectives
from service.envelope import CommandResult, Envelope

# --------------------------------------------------------------------------- writes


@dataclass(frozen=True)
class ObservationItem:
    """One row of a `recordObservations` batch."""

    objective_id: str
    interval: Interval


def _items(batch: Iterable[Any]) -> list[ObservationItem]:
    """Rows as ObservationItem, or mappings {objective_id, start, end, good, total}."""
    if isinstance(batch, (str, bytes, Mapping)):
        raise InvalidInput("observations must be a list", field="observations")
    out = []
    for i, item in enumerate(batch):
        if isinstance(item, ObservationItem):
            out.append(item)
            continue
        if not isinstance(item, Mapping) or "objective_id" not in item:
            raise InvalidInput(f"observations[{i}] needs an objective_id", field=f"observations[{i}].objective_id")
        out.append(ObservationItem(item["objective_id"], decider.as_interval(item, f"observations[{i}]")))
    if not out:
        raise InvalidInput("observations must hold at least one interval", field="observations")
    return out


async def record_observations(
    container: Any,
    actor: str,
    roles: frozenset[str],
    batch: Iterable[ObservationItem | Mapping[str, Any]],
    *,
    correlation_id: str | None = None,
) -> list[CommandResult]:
    """Record a batch of observations for many objectives, all or nothing.

    The state-free checks run first (the role, the ids, every interval's shape and
    counts, overlaps inside the batch); then one `RecordObservations` per objective goes
    to the bus as one group (`CommandBus.execute_all`): every command is decided against
    the log before any is appended, so an unknown or retired objective, future data or a
    conflict with what a ledger holds refuses the whole batch (InvalidInput, NotFound,
    Conflict, Forbidden) and nothing is appended, whatever else is being written.
    Returns one result per objective, in first-seen order (a resend appends nothing and
    returns its stream's current version with no events).
    """
    items = _items(batch)
    grouped: dict[str, list[Interval]] = {}
    for item in items:
        oid = item.objective_id
        ivs = grouped.get(oid) if isinstance(oid, str) else None
        if ivs is None:
            ivs = grouped[require_id(item.objective_id, "objective_id")] = []
        ivs.append(item.interval)
    commands = [decider.RecordObservations(oid, tuple(ivs)) for oid, ivs in grouped.items()]
    for command in commands:
        authorize(command, roles)
    for command in commands:
        decider.check_batch(command.intervals, f"observations[{command.objective_id}]")
    correlation_id = correlation_id or new_id()
    roles = frozenset(roles)
    return await container.bus.execute_all(
        [Envelope(c, actor, roles, correlation_id=correlation_id) for c in commands]
    )


async def correct_observation(
    container: Any, actor: str, roles: frozenset[str], objective_id: str, interval: Interval | Mapping[str, Any],
    reason: str, **guards: Any,
) -> CommandResult:
    command = decider.CorrectObservation(objective_id, decider.as_interval(interval, "interval"), reason)
    return await container.bus.execute(Envelope(command, actor, frozenset(roles), **guards))


async def exclude_interval(
    container: Any, actor: str, roles: frozenset[str], objective_id: str, exclusion_id: str,
    start: datetime, end: datetime, reason: str, approver: str | None = None, **guards: Any,
) -> CommandResult:
    """adjustBudget(action: EXCLUDE): the interval counts as neither good nor bad."""
    command = decider.ExcludeInterval(objective_id, exclusion_id, start, end, reason, approver)
    return await container.bus.execute(Envelope(command, actor, frozenset(roles), **guards))


async def restore_interval(
    container: Any, actor: str, roles: frozenset[str], objective_id: str, exclusion_id: str, reason: str,
    **guards: Any,
) -> CommandResult:
    """adjustBudget(action: RESTORE): undo an exclusion by its id."""
    command = decider.RestoreInterval(objective_id, exclusion_id, reason)
    return await container.bus.execute(Envelope(command, actor, frozenset(roles), **guards))


async def exclude_recurring(
    container: Any, actor: str, roles: frozenset[str], objective_id: str, exclusion_id: str, rrule: str,
    start: Any, zone: str, duration: Any, reason: str, approver: str | None = None, **guards: Any,
) -> CommandResult:
    """excludeRecurring: every occurrence of an RRULE from a local start in an IANA zone,
    each lasting `duration`, counts as neither good nor bad."""
    command = decider.ExcludeRecurring(objective_id, exclusion_id, rrule, start, zone, duration, reason, approver)
    return await container.bus.execute(Envelope(command, actor, frozenset(roles), **guards))


async def end_recurring_exclusion(
    container: Any, actor: str, roles: frozenset[str], objective_id: str, exclusion_id: str, from_: datetime,
    reason: str, **guards: Any,
) -> CommandResult:
    """endRecurringExclusion: it no longer applies to data starting at `from_` or later."""
    command = decider.EndRecurringExclusion(objective_id, exclusion_id, from_, reason)
    return await container.bus.execute(Envelope(command, actor, frozenset(roles), **guards))


async def configure_alerts(
    container: Any, actor: str, roles: frozenset[str], objective_id: str,
    tiers: Sequence[Mapping[str, Any]] | None = None, stale_after_minutes: int | None = None, **guards: Any,
) -> CommandResult:
    command = decider.ConfigureAlerts(objective_id, None if tiers is None else tuple(tiers), stale_after_minutes)
    return await container.bus.execute(Envelope(command, actor, frozenset(roles), **guards))


async def check_freshness(container: Any, actor: str, roles: frozenset[str], objective_id: str) -> CommandResult:
    """For a scheduler: records the server time only when it changes a derived state
    (ObservationsStale, an alert clearing as its windows empty)."""
    return await container.bus.execute(Envelope(decider.CheckFreshness(objective_id), actor, frozenset(roles)))


# --------------------------------------------------------------------------- reads


def _projection(container: Any) -> budget_projection.BudgetProjection:
    found = budget_projection.find(container.projections.inline)
    if found is None:
        raise RuntimeError("the budgets projection is not installed")
    return found


# A cached state this many events behind its row is reloaded from the rows instead.
_MAX_CATCH_UP = 1000


async def _stream_events(
    container: Any, conn: Any, ranges: Mapping[str, tuple[int, int]]
) -> dict[str, list[Any]]:
    """Budget stream events with after < stream_version <= until, per objective id, in
    version order (committed: the rows that name them are)."""
    out: dict[str, list[Any]] = {}
    if not ranges:
        return out
    items = list(ranges.items())
    if conn.dialect.name == "postgresql" and len(items) > 1:
        cols = ", ".join(f"e.{c.name}" for c in EVENT_COLUMNS)
        query = text(
            f"SELECT {cols} FROM events e JOIN unnest(CAST(:sids AS varchar[]), CAST(:afters AS integer[]),"
            " CAST(:untils AS integer[])) AS w(sid, after_v, until_v)"
            " ON e.stream_id = w.sid AND e.stream_version > w.after_v AND e.stream_version <= w.until_v"
            " ORDER BY e.stream_id, e.stream_version"
        )
        params = {
            "sids": [decider.stream_id(oid) for oid, _ in items],
            "afters": [a for _, (a, _) in items],
            "untils": [u for _, (_, u) in items],
        }
        chunks = [(query, params)]
    else:
        chunks = []
        for start in range(0, len(items), 100):
            part = items[start:start + 100]
            cond = or_(*(
                and_(events.c.stream_id == decider.stream_id(oid), events.c.stream_version > a,
                     events.c.stream_version <= u)
                for oid, (a, u) in part
            ))
            chunks.append((select(*EVENT_COLUMNS).where(cond).order_by(events.c.stream_id, events.c.stream_version), None))
    decode = container.store.decode
    prefix = len(decider.CATEGORY) + 1
    for query, params in chunks:
        rows = await conn.execute(query, params) if params is not None else await conn.execute(query)
        for row in rows:
            out.setdefault(row.stream_id[prefix:], []).append(decode(row))
    return out


async def budget_states(
    container: Any, objective_ids: Sequence[str], conn: Any = None
) -> dict[str, decider.BudgetState]:
    """The committed folded states of these budgets (absent: no budget data yet).

    A cached state whose row has moved on is brought up to date in place with the
    stream's newer events (the same `evolve` the projection folds with), not reloaded:
    a read after new data costs the new events, not the history."""
    if conn is None:
        async with container.read_engine.connect() as conn:
            return await budget_states(container, objective_ids, conn)
    out: dict[str, decider.BudgetState] = {}
    if not objective_ids:
        return out
    cache = _projection(container).read_cache
    query = select(budgets.c.objective_id, budgets.c.last_event_id, budgets.c.version, budgets.c.doc)
    if len(objective_ids) == 1:
        query = query.where(budgets.c.objective_id == objective_ids[0])
    else:
        query = query.where(budgets.c.objective_id.in_(list(objective_ids)))
    rows = (await conn.execute(query)).all()
    behind: dict[str, Any] = {}
    cold: list[Any] = []
    for row in rows:
        state = cache.get(row.objective_id, row.last_event_id)
        if state is not None:
            out[row.objective_id] = state
            continue
        entry = cache.peek(row.objective_id)
        if entry is not None and 0 <= row.version - entry[1].version <= _MAX_CATCH_UP:
            behind[row.objective_id] = row
        else:
            cold.append(row)
    if behind:
        ranges = {oid: (cache.peek(oid)[1].version, row.version) for oid, row in behind.items()}
        found = await _stream_events(container, conn, ranges)
        for oid, row in behind.items():
            state = _catch_up(cache, oid, row, found.get(oid, ()))
            if state is None:
                cold.append(row)
            else:
                out[oid] = state
    for row in cold:
        state = await budget_projection.load_state(conn, row.objective_id, row.doc)
        cache.put(row.objective_id, row.last_event_id, state)
        out[row.objective_id] = state
    return out


def _catch_up(cache: Any, objective_id: str, row: Any, new_events: Sequence[Any]) -> decider.BudgetState | None:
    """Evolve the cached state (in place, synchronously: no reader sees it half done) to
    the row's version; None when that cannot be done exactly (then reload)."""
    entry = cache.peek(objective_id)
    if entry is None:
        return None
    state = entry[1]
    todo = [e for e in new_events if e.stream_version > state.version]
    if state.version + len(todo) != row.version or (todo and todo[-1].event_id != row.last_event_id):
        return None
    if any(e.stream_version != state.version + n + 1 for n, e in enumerate(todo)):
        return None
    if not todo and entry[0] != row.last_event_id:
        return None
    try:
        for event in todo:
            decider.evolve(state, event)
    except Exception:
        cache.forget(objective_id)
        return None
    cache.put(objective_id, row.last_event_id, state)
    return state


async def budget_state(container: Any, objective_id: str) -> decider.BudgetState | None:
    """The folded budget state as of the last commit (shared: do not change it).

    The object is the read cache's: a later read may bring it forward, in place, to a
    later committed version. Use it before the next await, or read it again."""
    async with container.long_reads.turn():
        return (await budget_states(container, [objective_id])).get(objective_id)


async def budget_of(container: Any, objective_id: str, at: datetime | None = None) -> Status | None:
    """The budget of an objective at `at` (default: its event time, the latest observation
    end or freshness check): SLI, allowed bad, bad, consumed, remaining, exhausted, burn
    rates over 5m..3d, firing alerts, staleness. None when the objective has no budget data
    yet or no agreed target. An `at` before the event time ignores data ended after `at`
    (exclusions as they stand now)."""
    async with container.long_reads.turn():
        state = (await budget_states(container, [objective_id])).get(objective_id)
        return None if state is None else status_at(state, at)


def status_at(state: decider.BudgetState, at: datetime | None) -> Status:
    """`state.status(at)`, with the arithmetic's refusal as the API's."""
    try:
        return state.status(at)
    except BudgetInputError as error:
        raise decider.domain_error(error) from None


async def budget_summary(container: Any, objective_id: str) -> dict[str, Any] | None:
    """The `rm_budgets` row (status at event time as columns) without loading the ledger."""
    async with container.read_engine.connect() as conn:
        row = (await conn.execute(select(budgets).where(budgets.c.objective_id == objective_id))).mappings().first()
    if row is None:
        return None
    out = dict(row)
    out["alerts"] = orjson.loads(out["alerts"])
    del out["doc"]
    return out


async def budget_summaries(container: Any, *, exhausted: bool | None = None) -> list[dict[str, Any]]:
    """Every budget's summary row (optionally only the exhausted or unexhausted ones)."""
    query = select(budgets).order_by(budgets.c.objective_id)
    if exhausted is not None:
        query = query.where(budgets.c.exhausted == exhausted)
    async with container.read_engine.connect() as conn:
        rows = (await conn.execute(query)).mappings().all()
    out = []
    for row in rows:
        item = dict(row)
        item["alerts"] = orjson.loads(item["alerts"])
        del item["doc"]
        out.append(item)
    return out


async def ledger_chart(
    container: Any, objective_id: str, since: datetime | None = None, until: datetime | None = None
) -> list[ChartPoint]:
    """One point per recorded interval ending in [since, until]: its counts, whether it is
    excluded, the share of the allowance it debited, and the budget remaining after it.
    Empty when the objective has no data or no agreed target."""
    async with container.long_reads.turn():
        state = (await budget_states(container, [objective_id])).get(objective_id)
        if state is None or state.ledger is None or state.target is None:
            return []
        try:
            return state.ledger.chart(since=since, until=until)
        except BudgetInputError as error:
            raise decider.domain_error(error) from None


async def budget_exclusions(container: Any, objective_id: str) -> tuple[tuple[Exclusion, ...], tuple[Exclusion, ...]]:
    """(active exclusions, restored exclusions)."""
    state = await budget_state(container, objective_id)
    if state is None or state.ledger is None:
        return (), ()
    return state.ledger.exclusions, state.ledger.restored_exclusions


async def recurring_exclusions(container: Any, objective_id: str) -> tuple[Recurring, ...]:
    """The recurring exclusions, in the order they were added (ended ones too)."""
    state = await budget_state(container, objective_id)
    if state is None or state.ledger is None:
        return ()
    return state.ledger.recurring_exclusions


# ---- journeys: composite attainment and feasibility -----------------------------


@dataclass(frozen=True)
class DependencyObjective:
    service: str
    objective_id: str
    target: float | None  # the agreed target; None: nothing agreed yet
    attainment: float | None  # the objective's SLI over its window now; None: no data


@dataclass(frozen=True)
class Feasibility:
    journey_id: str
    target: float
    feasible: bool  # target <= ceiling
    ceiling: float  # the product of the dependencies' agreed targets
    dependency_targets: dict[str, float]  # objective id -> agreed target
    unmeasured: tuple[str, ...]  # critical services without an objective with an agreed target
    complete: bool  # every critical service is measured


@dataclass(frozen=True)
class JourneyComposite:
    journey_id: str
    critical_services: tuple[str, ...]
    dependencies: tuple[DependencyObjective, ...]
    attainment: float | None  # product of the dependency objectives' SLIs (None if any is unknown)
    ceiling: float  # product of their agreed targets
    targets: dict[str, float]  # objective id -> agreed target
    unmeasured: tuple[str, ...]
    complete: bool
    # The journey's own objectives' targets (agreed, or under proposal) checked against the ceiling
    journey_targets: tuple["JourneyTargetCheck", ...] = field(default_factory=tuple)
    # Weighted by the dependency objectives' composite weights (OpenSLO compositeWeight):
    # the weighted mean of their SLIs and of their agreed targets (None: unknown, or none).
    weighted_attainment: float | None = None
    weighted_ceiling: float | None = None

    @property
    def feasible(self) -> bool:
        return all(c.feasible for c in self.journey_targets)


@dataclass(frozen=True)
class JourneyTargetCheck:
    objective_id: str
    proposal_id: str | None  # None: the agreed target
    target: float
    feasible: bool
    ceiling: float


async def _objective_states(container: Any, ids: Sequence[str]) -> dict[str, objectives_domain.ObjectiveState]:
    if not ids:
        return {}
    async with container.read_engine.connect() as conn:
        rows = await conn.execute(select(objectives.c.doc).where(objectives.c.id.in_(list(ids))))
        return {s.id: s for s in (objectives_domain.from_dict(orjson.loads(r.doc)) for r in rows)}


async def _journey(container: Any, journey_id: str, reads: Any = None) -> journeys_domain.JourneyState:
    if reads is not None:
        state = await reads.journey(journey_id)
    else:
        async with container.read_engine.connect() as conn:
            doc = (await conn.execute(select(journeys.c.doc).where(journeys.c.id == journey_id))).scalar()
        state = None if doc is None else journeys_domain.from_dict(orjson.loads(doc))
    if state is None:
        raise NotFound(f"journey {journey_id} does not exist", journey_id=journey_id)
    return state


_RETIRED = str(objectives_domain.ObjectiveStatus.RETIRED)


async def _dependency_objectives(
    container: Any, journey: journeys_domain.JourneyState, reads: Any = None
) -> tuple[list[tuple[str, objectives_domain.ObjectiveState]], tuple[str, ...]]:
    """The component objectives measuring the journey's critical services (from any journey:
    a shared service such as auth has one objective that every journey composes), and the
    critical services that have none with an agreed target."""
    services = journey.critical_services
    if not services:
        return [], ()
    if reads is not None:
        states = await reads.objectives_for_services(services)
    else:
        async with container.read_engine.connect() as conn:
            rows = await conn.execute(
                select(objectives.c.doc)
                .where(objectives.c.service.in_(list(services)))
                .where(objectives.c.status != _RETIRED)
                .order_by(objectives.c.id)
            )
            states = [objectives_domain.from_dict(orjson.loads(r.doc)) for r in rows]
    order = {service: i for i, service in enumerate(services)}
    found = sorted(((s.service, s) for s in states), key=lambda pair: (order[pair[0]], pair[1].id))
    measured = {service for service, s in found if s.agreed_target is not None}
    return found, tuple(s for s in services if s not in measured)


async def feasibility(container: Any, journey_id: str, target: float, reads: Any = None) -> Feasibility:
    """Whether a journey-level target can be met when every critical dependency meets its
    own agreed target: feasible when target <= the product of those targets (exact).
    `reads` (``service.as_of.AsOfReads``): as the system stood at its position."""
    journey = await _journey(container, journey_id, reads)
    deps, unmeasured = await _dependency_objectives(container, journey, reads)
    targets = {s.id: s.agreed_target for _, s in deps if s.agreed_target is not None}
    try:
        feasible, ceiling = composite_check(target, targets)
    except BudgetInputError as error:
        raise decider.domain_error(error) from None
    return Feasibility(journey_id, float(target), feasible, ceiling, targets, unmeasured, not unmeasured)


def weight(objective: Any) -> float:
    """An objective's composite weight: OpenSLO's default 1 when none was given."""
    return 1.0 if objective.composite_weight is None else objective.composite_weight


async def journey_composite(container: Any, journey_id: str, reads: Any = None) -> JourneyComposite:
    """Composite attainment of a journey from its critical dependencies' objectives, their
    target ceiling, and the feasibility of the journey's own objectives' targets (agreed
    and under open proposal): the negotiation flag, with the numbers. `reads`
    (``service.as_of.AsOfReads``): as the system stood at its position."""
    journey = await _journey(container, journey_id, reads)
    deps, unmeasured = await _dependency_objectives(container, journey, reads)
    targets = {s.id: s.agreed_target for _, s in deps if s.agreed_target is not None}
    ceiling = composite_ceiling(targets)
    dependencies = []
    slis: dict[str, float | None] = {}
    for service, s in deps:
        status = await (budget_of(container, s.id) if reads is None else reads.budget_status(s.id))
        attainment = status.attainment if status is not None else None
        dependencies.append(DependencyObjective(service, s.id, s.agreed_target, attainment))
        slis[s.id] = attainment
    checks = []
    if reads is not None:
        own = await reads.journey_objectives(journey_id)
    else:
        async with container.read_engine.connect() as conn:
            rows = await conn.execute(
                select(objectives.c.doc).where(objectives.c.journey_id == journey_id).order_by(objectives.c.id)
            )
            own = [objectives_domain.from_dict(orjson.loads(r.doc)) for r in rows]
    for s in own:
        if s.retired or s.component:  # a component objective is a dependency, not the journey's target
            continue
        if s.agreed_target is not None:
            ok, _ = composite_check(s.agreed_target, targets)
            checks.append(JourneyTargetCheck(s.id, None, s.agreed_target, ok, ceiling))
        proposal = s.open_proposal
        if proposal is not None:
            ok, _ = composite_check(proposal.target, targets)
            checks.append(JourneyTargetCheck(s.id, proposal.proposal_id, proposal.target, ok, ceiling))
    return JourneyComposite(
        journey_id=journey_id,
        critical_services=journey.critical_services,
        dependencies=tuple(dependencies),
        attainment=composite_attainment(slis),
        ceiling=ceiling,
        weighted_attainment=weighted_mean({s.id: (slis[s.id], weight(s)) for _, s in deps}),
        weighted_ceiling=weighted_mean({s.id: (s.agreed_target, weight(s)) for _, s in deps}),
        targets=targets,
        unmeasured=unmeasured,
        complete=not unmeasured,
        journey_targets=tuple(checks),
    )


async def objective_feasibility(container: Any, objective_id: str) -> JourneyTargetCheck | None:
    """The negotiation flag for an objective's open proposal (or, without one, its agreed
    target) against its journey's critical dependencies. None when it has neither."""
    states = await _objective_states(container, [objective_id])
    s = states.get(objective_id)
    if s is None:
        raise NotFound(f"objective {objective_id} does not exist", objective_id=objective_id)
    if s.component:  # it measures one service: the journey's ceiling is made of objectives like it
        return None
    proposal = s.open_proposal
    target = proposal.target if proposal is not None else s.agreed_target
    if target is None:
        return None
    f = await feasibility(container, s.journey_id, target)
    return JourneyTargetCheck(objective_id, proposal.proposal_id if proposal else None, target, f.feasible, f.ceiling)
