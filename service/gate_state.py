"""What the deploy gate sees of one service: the active end-to-end objectives whose journey
depends critically on it and the active component objectives that measure it (with their
budgets and pinned policies), the active freezes naming it and its unexpired, unrevoked
exceptions.

  GateReader(engine).view(service, at) -> (GateState, policies)   now, cached
  read_gate_state(engine, service, at) -> (GateState, policies, epoch)  one snapshot
  gate_state_at(container, service, position, at) -> (GateState, policies)  folded from the log

A snapshot is five small queries in one transaction (REPEATABLE READ on PostgreSQL, its
tables locked first in the order a rebuild takes them: projections/locking.py; one read
transaction on SQLite). `GateReader` keeps the last snapshot per service and reuses
it while the gate epoch -- the position of the last gate-relevant event, written inline
with those events (projections/gate_epoch.py) -- has not moved: then no event since the
snapshot can change the state, and the state at the current head is the cached one.
The head and the epoch come from one statement, so every process on the database sees
a new freeze (or budget, policy, exception...) the moment it commits. A decision records
that head as its `evaluated_at_position`; its replay folds the log up to it
(`gate_state_at`) and must agree.
"""

from __future__ import annotations

import asyncio
from contextlib import aclosing
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Mapping

import orjson
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from domain import codec
from domain import freeze_exception as exceptions_domain
from domain import journey as journeys_domain
from domain import objective as objectives_domain
from domain import policy as policy_domain
from domain import policy_actions as actions_domain
from domain.budget.instants import to_us
from eventstore.reader import fold_log, paused_gc, read_log
from eventstore.tables import log_head
from policies.evaluate import GateState, ObjectiveFacts, policy_key
from policies.gate_view import GateStreams, exception_facts, freeze_facts, gate_state, unknown_service
from policies.language import Policy
from policies.registry import resolve
from projections.gate_epoch import EPOCH_ROW, GATE_CATEGORIES
from projections.locking import consistent_read
from projections.tables import (
    budgets,
    freeze_exceptions,
    freeze_scope,
    gate_epoch,
    journey_dependencies,
    journeys,
    objectives,
    policies as policies_table,
)
from service.aggregates import AGGREGATES

_ACTIVE = str(objectives_domain.ObjectiveStatus.ACTIVE)
_RETIRED_JOURNEY = str(journeys_domain.JourneyStatus.RETIRED)
# (log head, gate epoch) in one statement: one consistent read even under READ COMMITTED.
_POSITIONS = select(
    log_head.c.position,
    select(gate_epoch.c.position).where(gate_epoch.c.id == EPOCH_ROW).scalar_subquery(),
).where(log_head.c.id == 1)
MAX_CACHED_SERVICES = 10_000
EXPIRY_SLACK = timedelta(hours=1)

# --------------------------------------------------------------------------- facts


def _severities(alerts_json: str | None) -> tuple[str, ...]:
    if not alerts_json:
        return ()
    return tuple(sorted({a["severity"] for a in orjson.loads(alerts_json)}))


def _objective_facts(objective_id: str, journey_id: str, agreement: Mapping[str, Any],
                     policy_states: Mapping[str, policy_domain.PolicyState | None],
                     exhausted: bool, remaining: float | None, severities: tuple[str, ...],
                     found: dict[str, Policy]) -> ObjectiveFacts:
    pid, pver = agreement["policy_id"], agreement["policy_version"]
    resolved = resolve(policy_states.get(pid), pid, pver)
    if resolved is not None:
        pver, policy = resolved
        found[policy_key(pid, pver)] = policy
    return ObjectiveFacts(objective_id, journey_id, pid, pver, bool(exhausted), remaining, severities)


# --------------------------------------------------------------------------- now, from the read models


# What a snapshot reads, locked up front in the one order a rebuild takes them too.
_GATE_TABLES = (gate_epoch, journey_dependencies, journeys, objectives, budgets, freeze_scope, freeze_exceptions,
                policies_table)


async def read_gate_state(engine: AsyncEngine, service: str, at: datetime) -> tuple[GateState, dict[str, Policy], int]:
    """The gate's view now, from the read models in one snapshot, with the gate epoch it is valid for."""
    async with consistent_read(engine, _GATE_TABLES) as conn:
        position, epoch = (await conn.execute(_POSITIONS)).one()
        columns = (objectives.c.id, objectives.c.journey_id, objectives.c.doc,
                   budgets.c.exhausted, budgets.c.remaining, budgets.c.alerts)
        # The journeys' own (end-to-end) objectives, where the journey depends critically on it ...
        end_to_end = (await conn.execute(
            select(*columns)
            .select_from(
                journey_dependencies
                .join(journeys, journeys.c.id == journey_dependencies.c.journey_id)
                .join(objectives, objectives.c.journey_id == journey_dependencies.c.journey_id)
                .outerjoin(budgets, budgets.c.objective_id == objectives.c.id)
            )
            .where(journey_dependencies.c.service == service, journey_dependencies.c.critical.is_(True),
                   journeys.c.status != _RETIRED_JOURNEY, objectives.c.status == _ACTIVE,
                   objectives.c.service.is_(None))
        )).all()
        # ... and the component objectives that measure the service itself.
        components = (await conn.execute(
            select(*columns)
            .select_from(
                objectives.join(journeys, journeys.c.id == objectives.c.journey_id)
                .outerjoin(budgets, budgets.c.objective_id == objectives.c.id)
            )
            .where(objectives.c.service == service, journeys.c.status != _RETIRED_JOURNEY,
                   objectives.c.status == _ACTIVE)
        )).all()
        rows = list({r.id: r for r in (*end_to_end, *components)}.values())
        freeze_docs = (await conn.execute(
            select(freeze_scope.c.doc).where(freeze_scope.c.service == service)
        )).scalars().all()
        exception_docs = (await conn.execute(
            select(freeze_exceptions.c.doc).where(
                freeze_exceptions.c.service == service, freeze_exceptions.c.expires_at_us > to_us(at))
        )).scalars().all()
        agreements = {r.id: orjson.loads(r.doc)["agreement"] for r in rows}
        policy_ids = sorted({a["policy_id"] for a in agreements.values() if a})
        # A service nothing restricts: is it known at all? (Only asked on this path.)
        names = None
        if not rows and not freeze_docs and not await _known(conn, service):
            names = await _service_names(conn)
            policy_ids = [policy_domain.BUILTIN_POLICY_ID]
        policy_rows = (await conn.execute(
            select(policies_table.c.id, policies_table.c.doc).where(policies_table.c.id.in_(policy_ids))
        )).all() if policy_ids else []
    policy_states = {r.id: policy_domain.from_dict(orjson.loads(r.doc)) for r in policy_rows}
    found: dict[str, Policy] = {}
    unknown = None if names is None else unknown_service(
        service, names, policy_states.get(policy_domain.BUILTIN_POLICY_ID), found)
    objs = [
        _objective_facts(r.id, r.journey_id, agreements[r.id], policy_states,
                         bool(r.exhausted) if r.exhausted is not None else False, r.remaining,
                         _severities(r.alerts), found)
        for r in rows if agreements[r.id]
    ]
    freezes = [freeze_facts(codec.decode(actions_domain.Freeze, orjson.loads(d))) for d in freeze_docs]
    excs = [exception_facts(e) for e in map(exceptions_domain.from_dict, map(orjson.loads, exception_docs))
            if not e.revoked]
    return gate_state(service, position, objs, freezes, excs, unknown), found, epoch or 0


async def _known(conn: Any, service: str) -> bool:
    """A journey lists the service as a dependency (any status), or an objective measures it."""
    mapped = select(journey_dependencies.c.service).where(journey_dependencies.c.service == service).limit(1)
    measured = select(objectives.c.service).where(objectives.c.service == service).limit(1)
    return (await conn.execute(mapped)).first() is not None or (await conn.execute(measured)).first() is not None


async def _service_names(conn: Any) -> list[str]:
    mapped = (await conn.execute(select(journey_dependencies.c.service).distinct())).scalars().all()
    measured = (await conn.execute(
        select(objectives.c.service).where(objectives.c.service.is_not(None)).distinct())).scalars().all()
    return [*mapped, *measured]


@dataclass(frozen=True)
class _Cached:
    epoch: int
    at: datetime  # exceptions expired by then were left out: valid for this time on
    state: GateState
    policies: dict[str, Policy]

    def valid(self, epoch: int, at: datetime) -> bool:
        return self.epoch == epoch and at >= self.at


class GateReader:
    """The gate's view per service, reused while the gate epoch stands (see the module doc)."""

    def __init__(self, engine: AsyncEngine, max_services: int = MAX_CACHED_SERVICES) -> None:
        self.engine = engine
        self.max_services = max_services
        self._cache: dict[str, _Cached] = {}
        self._waiting: asyncio.Future | None = None  # callers for the next positions read
        self._reader: asyncio.Task | None = None
        self._loading: dict[str, asyncio.Task] = {}  # one snapshot in flight per service
        self.snapshots = 0  # how many times the read models were read (for tests and benchmarks)
        self.position_reads = 0

    async def positions(self) -> tuple[int, int]:
        """(log head, gate epoch), from a read that started after this call.

        Concurrent callers share reads, one at a time, like group commit: whoever
        arrives while a read is in flight waits for the next one, so no answer
        predates its question (a client that saw a freeze commit is never judged
        on the state before it) and sixteen concurrent decisions cost one or two
        round trips instead of sixteen.
        """
        loop = asyncio.get_running_loop()
        if self._waiting is None:
            self._waiting = loop.create_future()
            if self._reader is None or self._reader.done():
                self._reader = loop.create_task(self._read_positions())
        return await asyncio.shield(self._waiting)

    async def _read_positions(self) -> None:
        while self._waiting is not None:
            waiting, self._waiting = self._waiting, None  # later callers wait for the next read
            try:
                async with self.engine.connect() as conn:
                    head, epoch = (await conn.execute(_POSITIONS)).one()
                self.position_reads += 1
                waiting.set_result((head, epoch or 0))
            except Exception as exc:  # every caller of this read sees the failure
                waiting.set_exception(exc)

    async def view(self, service: str, at: datetime) -> tuple[GateState, dict[str, Policy]]:
        head, epoch = await self.positions()
        cached = self._cache.get(service)
        if cached is None or not cached.valid(epoch, at):
            loading = self._loading.get(service)
            if loading is not None:  # a snapshot of this service is on its way: share it if it fits
                cached = await asyncio.shield(loading)
            if cached is None or not cached.valid(epoch, at):
                cached = await self._load(service, at)
                head = cached.state.position  # the snapshot's own head (it may be newer than ours)
        # The gate epoch at `head` is the snapshot's: nothing gate-relevant happened between
        # the two positions, so the snapshot's state is the state at `head`.
        live = tuple(e for e in cached.state.exceptions if e.expires_at > at)
        return replace(cached.state, position=head, exceptions=live), cached.policies

    async def _load(self, service: str, at: datetime) -> _Cached:
        task = asyncio.get_running_loop().create_task(self._snapshot(service, at))
        self._loading[service] = task
        try:
            return await asyncio.shield(task)
        finally:
            if self._loading.get(service) is task:
                del self._loading[service]

    async def _snapshot(self, service: str, at: datetime) -> _Cached:
        # Exceptions expired a little before `at` are kept, so that concurrent callers
        # whose `at` came a moment earlier can share this snapshot.
        since = at - EXPIRY_SLACK
        state, policies, epoch = await read_gate_state(self.engine, service, since)
        self.snapshots += 1
        if len(self._cache) >= self.max_services:
            self._cache.clear()
        cached = self._cache[service] = _Cached(epoch, since, state, policies)
        return cached


# --------------------------------------------------------------------------- then, folded from the log


def _skip(state: Any, event: Any) -> None:
    return None


# The gate's categories fold with their own evolve; the rest (deploy decisions) are skipped.
_EVOLVERS = {c: (a.evolve if c in GATE_CATEGORIES else _skip) for c, a in AGGREGATES.items()}


async def _fold(container: Any, position: int) -> dict[str, Any]:
    """Every stream the gate reads, folded from the log up to `position` (the replay
    path's own fold: one pass, decoded and folded page by page)."""
    states, _ = await fold_log(container.store, _EVOLVERS, until=position)
    return {stream_id: state for stream_id, state in states.items() if state is not None}


async def gate_state_at(container: Any, service: str, position: int, at: datetime) -> tuple[GateState, dict[str, Policy]]:
    """The gate's view as of log position `position` and time `at`, folded from the log."""
    # The collector stays off until the folded states are dropped again: turned back on
    # while they live, its first young collection would walk all of them (a pause of
    # ~0.1 s a 100,000 events, in which the server answers no one).
    with paused_gc():
        return GateStreams.of(await _fold(container, position)).view(service, position, at)


async def gate_states_along(
    container: Any, asks: list[tuple[str, int, datetime]],
) -> list[tuple[GateState, dict[str, Policy]]]:
    """The gate's view for each (service, position, time), as `gate_state_at` gives it, from
    one pass over the log instead of a fold per ask (a what-if re-judges many decisions)."""
    order = sorted(range(len(asks)), key=lambda i: asks[i][1])
    out: list[Any] = [None] * len(asks)
    if not asks:
        return out
    states: dict[str, Any] = {}
    streams = GateStreams()
    k = 0
    with paused_gc():
        async with aclosing(read_log(container.store, until=asks[order[-1]][1])) as chunks:
            async for chunk in chunks:
                for event in chunk:
                    while k < len(order) and asks[order[k]][1] < event.position:
                        out[order[k]] = streams.view(*asks[order[k]])
                        k += 1
                    evolve = _EVOLVERS[event.stream_id.split("-", 1)[0]]
                    if evolve is not _skip:
                        state = states[event.stream_id] = evolve(states.get(event.stream_id), event)
                        streams.put(event.stream_id, state)
                await asyncio.sleep(0)  # let other requests in
    while k < len(order):
        out[order[k]] = streams.view(*asks[order[k]])
        k += 1
    return out
