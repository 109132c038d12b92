"""A baseline measured from the source's history (the seed's phase 4).

`measure_baseline(container, actor, roles, objective_id, days)`:
1. pulls the objective's good/total counts for every minute of the last `days` (up to
   the last complete minute, or `until`) with chunked `query_range` requests;
2. records them in the budget stream as backfill (`RecordObservations(backfill=True)`,
   at most `MAX_BATCH` minutes a command): a minute already recorded is kept as it is,
   so measuring again over overlapping days appends no minute twice; the transitions
   they cause are judged in data time by the budget reactor like any data;
3. analyses the same counts (`domain.baseline_analysis`: attainment per day and week,
   worst hours and days, and the budget each candidate target would have had, judged by
   the real ledger with the objective's window and budgeting) and records it with the
   baseline (`RecordBaseline` with its analysis).

Candidates: the defaults (99, 99.5, 99.9, 99.95) plus the objective's open and agreed
targets, so the negotiation shows each proposal beside how it would have fared.
A source's failure is a clear error (UNAVAILABLE when it is down or failing, else
BAD_USER_INPUT with Prometheus's own message) and nothing is appended.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Sequence

import orjson
from sqlalchemy import select

from domain import objective as objectives
from domain.baseline_analysis import DEFAULT_CANDIDATES, BaselineAnalysis, analyse_rows
from domain.budget import IntervalRows
from domain.budget import decider as budget
from domain.budget.instants import US_PER_SECOND
from domain.commands import require_aware, require_id, require_int
from domain.errors import InvalidInput, NotFound
from domain.objective.negotiation import require_target
from domain.permissions import authorize
from domain.sli_definition import count_queries
from projections.tables import objectives as objectives_table
from service.envelope import CommandResult, Envelope
from service.sources.errors import SourceError

from .catalog import Catalog, Target
from .faults import as_domain_error
from .sources import open_source

MAX_DAYS = 90
MINUTE_US = 60 * US_PER_SECOND
Progress = Callable[[str, int, int], None]  # (phase, done, total)


@dataclass(frozen=True)
class BaselineResult:
    objective_id: str
    start: datetime
    end: datetime
    minutes_with_data: int
    minutes_recorded: int  # minutes the backfill appended (0 when measured again)
    analysis: BaselineAnalysis
    result: CommandResult  # RecordBaseline's


def last_complete_minute(now: datetime, delay: timedelta) -> datetime:
    """The end of the last minute whose counts a source holds in full, `delay` after it."""
    at = (now - delay).astimezone(timezone.utc)
    return at.replace(second=0, microsecond=0)


async def objective_state(container: Any, objective_id: str) -> objectives.ObjectiveState | None:
    async with container.read_engine.connect() as conn:
        doc = (await conn.execute(select(objectives_table.c.doc).where(objectives_table.c.id == objective_id))).scalar()
    return None if doc is None else objectives.from_dict(orjson.loads(doc))


def candidates_for(state: objectives.ObjectiveState, extra: Sequence[float] = ()) -> tuple[float, ...]:
    """The default candidates, the objective's open and agreed targets, and `extra`, sorted."""
    found = set(DEFAULT_CANDIDATES) | set(extra)
    found |= {p.target for p in state.proposals if p.status == objectives.ProposalStatus.OPEN}
    if state.agreed_target is not None:
        found.add(state.agreed_target)
    return tuple(sorted(found))


async def measure_baseline(
    container: Any,
    actor: str,
    roles: frozenset[str],
    objective_id: str,
    days: int,
    *,
    until: datetime | None = None,
    candidates: Sequence[float] = (),
    notes: str | None = None,
    catalog: Catalog | None = None,
    on_progress: Progress | None = None,
    source_options: dict[str, Any] | None = None,
) -> BaselineResult:
    objective_id = require_id(objective_id, "objective_id")
    days = require_int(days, "days", minimum=1, maximum=MAX_DAYS)
    for value in candidates:
        require_target(value)
    probe = objectives.RecordBaseline(objective_id, datetime.now(timezone.utc), datetime.now(timezone.utc), 0, 0)
    authorize(probe, roles)  # before any request goes to the source
    authorize(budget.RecordObservations(objective_id, ()), roles)
    state = await objective_state(container, objective_id)
    if state is None:
        raise NotFound(f"objective {objective_id} does not exist", objective_id=objective_id)
    target: Target = await (catalog or container.catalog).target(objective_id)
    now = container.store.clock()
    end = last_complete_minute(now, timedelta(seconds=container.settings.collect_delay_seconds)) if until is None \
        else require_aware(until, "until")
    if end.second or end.microsecond:
        raise InvalidInput("until must be the start of a minute", field="until")
    if end > now:
        raise InvalidInput("until is in the future: a baseline is measured on data already collected", field="until")
    start = end - timedelta(days=days)

    def pulled(done: int, total: int) -> None:
        if on_progress is not None:
            on_progress("query", done, total)

    try:
        async with open_source(target.source, **(source_options or {})) as source:
            counts = await source.minute_counts(count_queries(target.definition), start, end, on_progress=pulled)
    except SourceError as exc:
        raise as_domain_error(exc, target.source.name) from None

    # The minutes as columns of microseconds and counts: no Interval or datetime per minute.
    starts, good, total = counts.columns()
    starts_us = range(starts.start * US_PER_SECOND, starts.stop * US_PER_SECOND, MINUTE_US) if isinstance(starts, range) \
        else [t * US_PER_SECOND for t in starts]
    rows = IntervalRows(starts_us, [t + MINUTE_US for t in starts_us], good, total)
    config = budget.objective_config(state)
    # The analysis is pure and CPU-bound: a thread, beside the recording, off the server's loop.
    analysing = asyncio.ensure_future(asyncio.to_thread(
        analyse_rows, rows, window=config["window"], budgeting=config["budgeting"],
        candidates=candidates_for(state, candidates), period=(start, end)))
    # Each batch's appended minutes are counted in the stored event (a read) beside what
    # follows it -- the next batch, the baseline -- not before it.
    counting: list[asyncio.Future[int]] = []
    try:
        try:
            batches = range(0, len(rows), budget.MAX_BATCH)
            for n, i in enumerate(batches):
                command = budget.RecordObservations(objective_id, rows[i:i + budget.MAX_BATCH], backfill=True)
                r = await container.bus.execute(Envelope(command, actor, roles))
                counting.append(asyncio.ensure_future(_recorded_minutes(container, r)))
                if on_progress is not None:
                    on_progress("record", n + 1, len(batches))
        finally:
            analysis = await analysing
        if on_progress is not None:
            on_progress("analyse", 1, 1)
        if analysis.period.total == 0:
            raise InvalidInput(
                f"the source had no events for {objective_id} in {start.isoformat()}..{end.isoformat()}: "
                "a baseline needs traffic (check the SLI's selectors)", field="days")
        command = objectives.RecordBaseline(objective_id, start, end, analysis.period.good, analysis.period.total,
                                            notes or f"measured from data source {target.source.name!r}: {days} days",
                                            analysis)
        result = await container.bus.execute(Envelope(command, actor, roles))
        recorded = sum(await asyncio.gather(*counting))
    finally:
        await asyncio.gather(*counting, return_exceptions=True)  # none left running on a refusal
    return BaselineResult(objective_id, start, end, analysis.minutes_with_data, recorded, analysis, result)


async def _recorded_minutes(container: Any, result: CommandResult) -> int:
    """How many minutes the command's ObservationsRecorded appended (0 on a resend), read
    from the stored event: its runs' counts, a few hundred kilobytes for 28 days."""
    n = 0
    for ref in result.events:
        if ref.type == "ObservationsRecorded":
            [event] = await container.store.read_all(ref.position - 1, 1)
            n += len(budget.observation_columns(event.data)[0])
    return n
