"""Collection: every round, the last complete minutes of every objective with a source.

A round (`run_once`):
1. the targets (objectives with an SLI definition and a defined source) and, per
   objective, where collection resumes: the budget's last observation end (the read
   model) or, later, the end of the last gap the collection stream recorded -- never a
   memory of this process, so a killed collector resumes where the log says it stopped;
   an objective never collected starts with the last complete minute;
2. a collector behind by more than the horizon records the minutes it will not ask
   for as a gap (`RecordCollectionGap`) and catches up on the horizon's minutes only;
3. per data source and resume point, the counts of up to BATCH objectives come from one
   range query for their good and total selectors together (`minute_counts_many`), the
   batches' queries in flight together (the adapter bounds how many); each objective's
   counted minutes go to its budget as one `RecordObservations`, RECORD_GROUP of them in
   one transaction as soon as their batches are in (a minute recorded before is a no-op,
   so a resent minute appends nothing); minutes the source has no count for yet stay
   ahead of the resume point and are asked for again next round;
4. an objective whose source is down, refuses the query, answers with bad data, several
   series where one is expected, or no series at all is not given a count: the fault is
   recorded (`RecordSourceState`, only when it changes) and its budget is probed for
   freshness (`CheckFreshness`, the existing staleness machinery), so it goes stale when
   its data stops, and its alerts clear.

The HTTP calls are async and a round runs as its own task (`start`): it never blocks the
server's loop. On PostgreSQL exactly one process collects: each round takes a session
advisory lock on a connection the collector keeps (as the freshness probe does); another
process skips its rounds until the holder's session ends.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Sequence

from sqlalchemy import bindparam, select

from domain import collection
from domain.budget import Interval
from domain.budget import decider as budget
from domain.commands import parse_iso
from domain.errors import DomainError
from domain.sli_definition import count_queries
from projections.tables import budgets
from service.aggregates import fold
from service.envelope import Envelope
from service.leadership import Leadership
from service.sources.counters import MinuteCounts
from service.sources.errors import SourceError

from .baseline import last_complete_minute
from .catalog import Catalog, Target
from .faults import short
from .sources import open_source

log = logging.getLogger("slogov.collector")

COLLECTOR_LOCK_KEY = 0x736C6F676F76_C0  # "slogov" + 0xC0: the collector's lock only
ACTOR = "collector"
ROLES = frozenset({"sre"})
MINUTE = timedelta(minutes=1)
# Objectives whose selectors share one range query. Prometheus's cost for a union of n
# selectors grows faster than n (each `or` matches the series gathered so far), so about
# 100 selectors a query (50 ratio SLIs' good and total): 1,000 objectives as 20 queries of
# 100 selectors took 742 ms where 10 of 200 took 907 (bench/README.md).
BATCH = 50
# Objectives whose minutes are appended in one transaction. Larger groups cost less per
# command, but hold the append lock longer: other writers wait for it (readers do not);
# and a group is appended only once its last batch is in, so smaller ones overlap more of
# the source's work (1,000 objectives: two groups took 8-10% less than appending after the
# last query, three no better on SQLite; bench/README.md).
RECORD_GROUP = 500


@dataclass
class RoundReport:
    """What one round did, for logs, tests and the bench."""

    objectives: int = 0
    minutes_recorded: int = 0
    faults: dict[str, str] = field(default_factory=dict)  # objective id -> reason
    gaps: dict[str, tuple[datetime, datetime]] = field(default_factory=dict)
    skipped: bool = False  # another process holds the lock


@functools.lru_cache(maxsize=4096)
def _utc(seconds: int) -> datetime:
    # Every objective of a round counts the same few minutes: each converted once.
    return datetime.fromtimestamp(seconds, timezone.utc)


def _intervals(counts: MinuteCounts) -> tuple[Interval, ...]:
    """The counted minutes as intervals in time order: from the counts' columns, which a
    steady source gives as they are (no sort of the minutes, no tuple per minute)."""
    starts, good, total = counts.columns()
    ends = [b + 60 for b in starts]
    return tuple(map(Interval, map(_utc, starts), map(_utc, ends), good, total))


# Built once: made every round, its 1,000 ids were each coerced to a literal again.
_LAST_ENDS = (select(budgets.c.objective_id, budgets.c.last_observation_end)
              .where(budgets.c.objective_id.in_(bindparam("ids", expanding=True))))


@functools.lru_cache(maxsize=1024)
def _parsed_end(text: str) -> datetime:
    # Objectives collected together ended their last observations at the same minute:
    # a round's 1,000 resume points are a handful of texts, each parsed once.
    return parse_iso(text)


@functools.lru_cache(maxsize=16384)
def _queries(definition: Any) -> Any:
    """The definition's counter expressions (the same every round)."""
    return count_queries(definition)


class Collector:
    def __init__(self, container: Any, *, interval: float | None = None, catalog: Catalog | None = None,
                 source_options: dict[str, Any] | None = None) -> None:
        settings = container.settings
        self.container = container
        self.interval = settings.collect_interval_seconds if interval is None else interval
        self.delay = timedelta(seconds=settings.collect_delay_seconds)
        self.horizon = timedelta(minutes=settings.collect_horizon_minutes)
        self.catalog = catalog
        self.source_options = source_options or {}
        self.rounds = 0
        self._task: asyncio.Task | None = None
        self.leadership = Leadership(COLLECTOR_LOCK_KEY, "the collector")
        # Objectives this process saw faulted; until its first round ends, any objective
        # (a restart forgets), so each one's recovery is recorded once.
        self._faulted: set[str] = set()
        self._first_round = True

    # --- schedule ------------------------------------------------------------------

    def start(self) -> None:
        if self._task is None and self.interval > 0:
            self._task = asyncio.get_running_loop().create_task(self._loop(), name="slogov-collector")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
        await self.leadership.release()

    async def _loop(self) -> None:
        while True:
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:  # the next round runs as planned
                log.exception("collection round failed")
                await self.leadership.release()
            await asyncio.sleep(self.interval)

    # --- a round -------------------------------------------------------------------

    async def run_once(self, now: datetime | None = None) -> RoundReport:
        report = RoundReport()
        if not await self.leadership.held(self.container.engines.read):
            report.skipped = True
            return report
        container = self.container
        now = now or container.store.clock()
        end = last_complete_minute(now, self.delay)
        targets = list(await (self.catalog or container.catalog).targets())
        report.objectives = len(targets)
        starts = await self._resume_points(targets, end)
        groups: dict[tuple[Any, datetime], list[Target]] = {}
        horizon_start = end - self.horizon
        for t in targets:
            start = starts[t.objective_id]
            if start < horizon_start:
                await self._guarded(self._gap(t.objective_id, start, horizon_start, report))
                start = horizon_start
            if start < end:
                groups.setdefault((t.source, start), []).append(t)
        await asyncio.gather(*(self._collect(source, start, end, members, now, report)
                               for (source, start), members in groups.items()))
        self._first_round = False
        self.rounds += 1
        return report

    async def _resume_points(self, targets: Sequence[Target], end: datetime) -> dict[str, datetime]:
        """Where each objective's collection resumes, from the log's read models."""
        ids = [t.objective_id for t in targets]
        last: dict[str, datetime] = {}
        async with self.container.read_engine.connect() as conn:
            for i in range(0, len(ids), 500):
                rows = await conn.execute(_LAST_ENDS, {"ids": ids[i:i + 500]})
                last.update({oid: _parsed_end(at) for oid, at in rows if at})
        out = {}
        horizon_start = end - self.horizon
        for oid in ids:
            at = last.get(oid)
            if at is None or at < horizon_start:
                # Behind by more than the horizon, or never collected: a gap recorded
                # earlier may have moved the resume point on.
                gap_end = await self._gap_end(oid)
                if gap_end is not None and (at is None or gap_end > at):
                    at = gap_end
            out[oid] = end - MINUTE if at is None else at
        return out

    async def _gap_end(self, objective_id: str) -> datetime | None:
        events = await self.container.store.read_stream(collection.stream_id(objective_id))
        state = fold(collection.evolve, None, events)
        return None if state is None else state.gap_end

    async def _gap(self, objective_id: str, start: datetime, end: datetime, report: RoundReport) -> None:
        minutes = int((end - start) / MINUTE)
        reason = f"the collector was behind by more than its horizon of {self.horizon}; {minutes} minutes not collected"
        await self._send(collection.RecordCollectionGap(objective_id, start, end, reason))
        report.gaps[objective_id] = (start, end)

    async def _collect(self, source: Any, start: datetime, end: datetime, members: list[Target], now: datetime,
                       report: RoundReport) -> None:
        try:
            adapter = open_source(source, **self.source_options)
        except SourceError as exc:  # misconfigured: every objective on it
            await self._faults(members, exc, now, report)
            return
        recordings: list[asyncio.Future] = []
        try:
            async with adapter:
                await self._pull(adapter, members, start, end, now, report, recordings)
        finally:
            # What was handed to the bus is recorded (or refused) whatever became of the rest.
            outcomes = await asyncio.gather(*recordings, return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome

    async def _pull(self, adapter: Any, members: list[Target], start: datetime, end: datetime, now: datetime,
                    report: RoundReport, recordings: list[asyncio.Future]) -> None:
        """The batches' queries go out together (the adapter bounds how many are in flight);
        their counts are taken in the members' order, and each RECORD_GROUP objectives'
        are handed to the bus as soon as they are in, so the first group is appended while
        the source still computes the last batches (the log's order is the members' order,
        as when every group waited for the last query)."""
        pulls = [asyncio.ensure_future(self._batch(adapter, members[i:i + BATCH], start, end, now, report))
                 for i in range(0, len(members), BATCH)]
        try:
            pending: list[tuple[Target, tuple[Interval, ...]]] = []
            for k, pull in enumerate(pulls):
                pending += await pull
                if pending and (len(pending) >= RECORD_GROUP or k == len(pulls) - 1):
                    recordings.append(asyncio.ensure_future(self._record_group(pending, now, report)))
                    pending = []
        finally:
            for pull in pulls:  # done already, unless one failed
                pull.cancel()
            await asyncio.gather(*pulls, return_exceptions=True)

    async def _batch(self, adapter: Any, group: list[Target], start: datetime, end: datetime, now: datetime,
                     report: RoundReport) -> list[tuple[Target, tuple[Interval, ...]]]:
        try:
            results: list[MinuteCounts | SourceError] = await adapter.minute_counts_many(
                [_queries(t.definition) for t in group], start, end, batch=len(group))
        except SourceError as exc:  # the source itself failed this batch's query: each objective of it
            await self._faults(group, exc, now, report)
            return []
        counted: list[tuple[Target, tuple[Interval, ...]]] = []
        faults = []
        for t, r in zip(group, results):
            if isinstance(r, SourceError):
                faults.append(self._guarded(self._fault(t.objective_id, r.reason, r.message, now, report)))
            elif not r.counts:
                # The message names no times, so a source that stays empty is recorded once.
                faults.append(self._guarded(self._fault(
                    t.objective_id, "no_series", "no count for any minute asked for: the SLI's selectors match no "
                    "series there (or they hold NaN)", now, report)))
            else:
                counted.append((t, _intervals(r)))
        await asyncio.gather(*faults)
        return counted

    async def _faults(self, targets: Sequence[Target], exc: SourceError, now: datetime, report: RoundReport) -> None:
        await asyncio.gather(*(self._guarded(self._fault(t.objective_id, exc.reason, exc.message, now, report))
                               for t in targets))

    async def _guarded(self, step) -> None:
        """One objective's refusal (retired meanwhile, say) does not stop the others'."""
        try:
            await step
        except DomainError:
            log.exception("collecting an objective failed")

    async def _record_group(self, counted: list[tuple[Target, tuple[Interval, ...]]], now: datetime,
                            report: RoundReport) -> None:
        """Each objective's minutes as its own RecordObservations, the group sent as one:
        one transaction, and one turn of the bus, for what was one transaction per 256
        commands, each queued, decided and answered on its own. A refusal of any sends
        each of the group on its own, so the others are recorded and the refused one's
        fault is."""
        try:
            results = await self.container.bus.execute_all(
                [Envelope(budget.RecordObservations(t.objective_id, intervals), ACTOR, ROLES) for t, intervals in counted])
        except DomainError:
            await asyncio.gather(*(self._guarded(self._record(t, intervals, now, report)) for t, intervals in counted))
            return
        # A task only for an objective whose source state is recorded (its first round, or
        # a recovery): not one per objective every round.
        recoveries = [self._guarded(self._recovered(t.objective_id, now))
                      for (t, intervals), r in zip(counted, results) if self._recorded(t, intervals, r, report)]
        await asyncio.gather(*recoveries)

    async def _record(self, target: Target, intervals: tuple[Interval, ...], now: datetime, report: RoundReport) -> None:
        try:
            r = await self._send(budget.RecordObservations(target.objective_id, intervals))
        except DomainError as exc:  # a conflict with what the budget holds: never overwritten
            await self._fault(target.objective_id, "bad_data", f"the budget refused the counts: {exc.message}", now, report)
            return
        if self._recorded(target, intervals, r, report):
            await self._recovered(target.objective_id, now)

    def _recorded(self, target: Target, intervals: tuple[Interval, ...], r: Any, report: RoundReport) -> bool:
        """Count what was recorded; True when the objective's source state is to be recorded
        as answering (this process's first round, or a recovery from a fault)."""
        if any(e.type == "ObservationsRecorded" for e in r.events):
            report.minutes_recorded += len(intervals)
        return self._first_round or target.objective_id in self._faulted

    async def _recovered(self, objective_id: str, now: datetime) -> None:
        await self._send(collection.RecordSourceState(objective_id, now))
        self._faulted.discard(objective_id)

    async def _fault(self, objective_id: str, reason: str, message: str, now: datetime, report: RoundReport) -> None:
        report.faults[objective_id] = reason
        if reason not in collection.FAULT_REASONS:
            reason = "bad_data"
        self._faulted.add(objective_id)
        await self._send(collection.RecordSourceState(objective_id, now, reason, short(message)))
        await self._send(budget.CheckFreshness(objective_id))

    async def _send(self, command: Any):
        return await self.container.bus.execute(Envelope(command, ACTOR, ROLES))
