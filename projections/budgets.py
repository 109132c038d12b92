"""Error budgets: a summary row per objective (`rm_budgets`) and its observation
intervals, stored as runs (`rm_budget_runs`, see `projections/budget_runs.py`).

The fold is the budget decider's own `evolve`. The summary columns are the status at
event time (the latest observation end or freshness check, never the wall clock), so
the live rows and a rebuild agree exactly. Intervals are written incrementally: each
ObservationsRecorded's intervals as the fewest runs they make (a run row per event,
never merged with an earlier one, so a rebuild writes the same rows), a correction as a
read-modify-write of its run. The summary row keeps everything else (`doc`: config,
tiers, exclusions, derived flags), so a ledger reloads from `doc` + its run rows without
refolding the log.

A cache of folded states (per process, per projection instance) keeps a warm ledger in
memory between transactions. An entry is trusted only when the row's `last_event_id`
matches it -- after a rolled-back transaction it does not, and the state is reloaded
from the rows.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import OrderedDict
from typing import Any, AsyncIterator, Iterable, NamedTuple, Sequence

import orjson
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.budget import decider
from domain.budget.burn import Alert
from domain.budget.instants import iso_us, us_iso
from domain.events import RecordedEvent
from eventstore.sqlite_bulk import insert_tuples
from eventstore.store import active_transaction
from projections import budget_runs as runs
from projections.bulk import insert_records, write_pg
from projections.documents import doc_json
from projections.tables import budget_runs, budgets

NAME = "budgets"
_PREFIX = decider.CATEGORY + "-"
_SEVERITY_ORDER = ("page", "ticket")
_NO_CONFIG = {"window": {"kind": "rolling"}, "budgeting": {"method": "occurrences"}}


class LedgerCache:
    """objective id -> (last event id, folded state), least recently used dropped first."""

    def __init__(self, size: int = 1000) -> None:
        self._items: OrderedDict[str, tuple[str, decider.BudgetState]] = OrderedDict()
        self._size = size

    def get(self, objective_id: str, last_event_id: str) -> decider.BudgetState | None:
        item = self._items.get(objective_id)
        if item is None or item[0] != last_event_id:
            return None
        self._items.move_to_end(objective_id)
        return item[1]

    def peek(self, objective_id: str) -> tuple[str, decider.BudgetState] | None:
        """The entry whatever event id it was stored for (to bring it up to date)."""
        return self._items.get(objective_id)

    def put(self, objective_id: str, last_event_id: str, state: decider.BudgetState) -> None:
        self._items[objective_id] = (last_event_id, state)
        self._items.move_to_end(objective_id)
        while len(self._items) > self._size:
            self._items.popitem(last=False)

    def forget(self, objective_id: str) -> None:
        self._items.pop(objective_id, None)

    def clear(self) -> None:
        self._items.clear()


async def load_state(conn: AsyncConnection, objective_id: str, doc: str) -> decider.BudgetState:
    """A budget's folded state from its summary row's doc and its run rows (in start order:
    a backfill may have filled a hole between earlier runs)."""
    c = budget_runs.c
    rows = await conn.execute(
        select(c.start_us, c.step_us, c.count, c.good, c.total)
        .where(c.objective_id == objective_id)
        .order_by(c.start_us)
    )
    return decider.BudgetState.from_doc(orjson.loads(doc), zip(*runs.expand(rows)))


class SummaryRow(NamedTuple):
    """An `rm_budgets` row, its fields in the table's column order (a tuple: what the
    writes take, without a dict per row to read back column by column)."""

    objective_id: str
    target: float | None
    method: str
    window_kind: str
    good: int
    total: int
    sli: float | None
    allowed_bad: float | None
    consumed: float | None
    remaining: float | None
    exhausted: bool
    alert_severity: str | None
    alerts: str
    stale: bool
    event_time: str | None
    last_observation_end: str | None
    intervals: int
    version: int
    last_event_id: str
    doc: str


_EMPTY_LIST = orjson.Fragment(b"[]")


class AlertTexts:
    """objective id -> (its raised alerts, their list encoded): the summary doc encodes a
    budget's raised alerts again only when they change (a raise or a clear), not every
    minute. An entry answers only for alerts equal to the ones it was made from."""

    def __init__(self, size: int = 10_000) -> None:
        self._items: dict[str, tuple[tuple[Alert, ...], orjson.Fragment]] = {}
        self._size = size

    def of(self, state: decider.BudgetState) -> orjson.Fragment:
        if not state.alerts:
            return _EMPTY_LIST
        alerts = tuple(state.alerts.values())
        item = self._items.get(state.objective_id)
        if item is not None and item[0] == alerts:
            return item[1]
        if len(self._items) >= self._size:
            self._items.clear()
        text = orjson.Fragment(doc_json([a.to_dict() for a in alerts]))
        self._items[state.objective_id] = (alerts, text)
        return text


def doc_text(state: decider.BudgetState, alert_texts: AlertTexts | None = None) -> str:
    """`doc_json(state.to_doc())`; with `alert_texts`, the raised alerts' list taken from it."""
    if alert_texts is not None:
        try:  # doc_json's own first step, over the encoded list
            return orjson.dumps(state.to_doc(alerts=alert_texts.of(state)), option=orjson.OPT_SORT_KEYS).decode()
        except TypeError:  # what orjson refuses: doc_json's canonical fallback needs the plain doc
            pass
    return doc_json(state.to_doc())


def summary_row(state: decider.BudgetState, last_event_id: str, alert_texts: AlertTexts | None = None) -> SummaryRow:
    status = state.figures()  # status()'s figures: all the row shows, at a third of the cost
    config = state.config or _NO_CONFIG
    ledger = state.ledger
    last_us = ledger.last_end_us if ledger is not None else None
    event_us = state.event_time_us
    alerts = status.alerts if status is not None else ()
    if alerts:
        dicts = [a.to_dict() for a in alerts]
        severities = [a.severity for a in alerts]
        severity = next((s for s in _SEVERITY_ORDER if s in severities), severities[0])
        alerts_json = doc_json(dicts)
    else:  # nearly always: what doc_json([]) writes
        severity, alerts_json = None, "[]"
    # Positional, in the fields' order: a third of the cost of naming twenty keywords.
    return SummaryRow(
        state.objective_id,  # objective_id
        state.target,  # target
        config["budgeting"]["method"],  # method
        config["window"]["kind"],  # window_kind
        status.good if status else 0,  # good
        status.total if status else 0,  # total
        status.sli if status else None,  # sli
        status.allowed_bad if status else None,  # allowed_bad
        status.consumed if status else None,  # consumed
        status.remaining if status else None,  # remaining
        status.exhausted if status else False,  # exhausted
        severity,  # alert_severity
        alerts_json,  # alerts
        status.stale if status else False,  # stale
        # us_iso: the datetimes' isoformat(), without making them (a whole minute, remembered)
        us_iso(event_us) if event_us is not None else None,  # event_time
        us_iso(last_us) if last_us is not None else None,  # last_observation_end
        len(ledger) if ledger is not None else 0,  # intervals
        state.version,  # version
        last_event_id,  # last_event_id
        doc_text(state, alert_texts),  # doc
    )


_SUMMARY_TYPES = {
    "objective_id": "varchar", "target": "float8", "method": "varchar", "window_kind": "varchar",
    "good": "int8", "total": "int8", "sli": "float8", "allowed_bad": "float8", "consumed": "float8",
    "remaining": "float8", "exhausted": "bool", "alert_severity": "varchar", "alerts": "text", "stale": "bool",
    "event_time": "varchar", "last_observation_end": "varchar", "intervals": "int4", "version": "int4",
    "last_event_id": "varchar", "doc": "text",
}
_SUMMARY_COLUMNS = SummaryRow._fields
assert tuple(_SUMMARY_TYPES) == _SUMMARY_COLUMNS
_PG_UPSERT_SUMMARIES = (
    f"INSERT INTO rm_budgets ({', '.join(_SUMMARY_COLUMNS)}) SELECT * FROM unnest("
    + ", ".join(f"${n}::{t}[]" for n, t in enumerate(_SUMMARY_TYPES.values(), 1))
    + ") ON CONFLICT (objective_id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in _SUMMARY_COLUMNS[1:])
)
_RUN_COLUMNS = ("objective_id", "start_us", "end_us", "step_us", "count", "good", "total")
_PG_INSERT_RUNS = (
    f"INSERT INTO rm_budget_runs ({', '.join(_RUN_COLUMNS)}) "
    "SELECT * FROM unnest($1::varchar[], $2::int8[], $3::int8[], $4::int8[], $5::int4[], $6::text[], $7::text[])"
)
_PG_UPDATE_RUNS = (
    "UPDATE rm_budget_runs AS r SET good = c.good, total = c.total "
    "FROM unnest($1::varchar[], $2::int8[], $3::text[], $4::text[]) AS c(objective_id, start_us, good, total) "
    "WHERE r.objective_id = c.objective_id AND r.start_us = c.start_us"
)
_SQLITE_INSERT_RUNS = f"INSERT INTO rm_budget_runs ({', '.join(_RUN_COLUMNS)}) VALUES ({', '.join('?' * len(_RUN_COLUMNS))})"
_SQLITE_UPDATE_RUNS = "UPDATE rm_budget_runs SET good = ?, total = ? WHERE objective_id = ? AND start_us = ?"
# From this many run rows in a transaction (a live round: one per objective), COPY them
# rather than ride in the flush.
COPY_FROM = 100

# A run being written: [start_us, step_us, count, good, total] (`budget_runs.cut`).
Run = list


def _row(objective_id: str, run: Run) -> tuple[Any, ...]:
    start, step, count, good, total = run
    return (objective_id, start, start + step * count, step, count, runs.encode(good), runs.encode(total))


def _containing(candidates: Iterable[Run], start_us: int) -> Run | None:
    for run in candidates:
        if run[0] <= start_us < run[0] + run[1] * run[2]:
            return run
    return None


class BudgetProjection:
    name = NAME
    tables = (budgets, budget_runs)

    def __init__(self) -> None:
        self.cache = LedgerCache()
        # A separate cache for reads, so a reader never sees a state this projection
        # is changing inside an uncommitted transaction.
        self.read_cache = LedgerCache()
        self.alert_texts = AlertTexts()

    def handles(self, event: RecordedEvent) -> bool:
        return event.stream_id.startswith(_PREFIX)

    async def apply(self, conn: AsyncConnection, events: Sequence[RecordedEvent]) -> None:
        by_objective: dict[str, list[RecordedEvent]] = {}
        for event in events:
            by_objective.setdefault(event.stream_id[len(_PREFIX):], []).append(event)
        ids = list(by_objective)
        tx = active_transaction(conn)
        folded = tx.folded if tx is not None else {}
        existing: dict[str, Any] | None = None
        summaries: list[SummaryRow] = []
        new: dict[str, list[Run]] = {}  # objective -> the runs its events of this batch recorded
        corrections: list[tuple[str, int, int, int]] = []  # in log order: the latest counts win
        for objective_id, stream_events in by_objective.items():
            last = stream_events[-1]
            shared = folded.get(last.stream_id)
            if shared is not None and shared[0] == last.stream_version and shared[1] is not None \
                    and shared[1].version == last.stream_version:
                # The writer folded exactly these events with the same `evolve`: use its
                # state (and the status its reactor already computed) instead of a second
                # fold. It is not cached here: the writer keeps changing it.
                state = shared[1]
                self.cache.forget(objective_id)
            else:
                if existing is None:
                    existing = await self._rows(conn, ids)
                state = await self._own_state(conn, objective_id, existing.get(objective_id))
                for event in stream_events:
                    if event.stream_version > (state.version if state is not None else 0):
                        state = decider.evolve(state, event)
                self.cache.put(objective_id, last.event_id, state)
            for event in stream_events:
                if event.type == "ObservationsRecorded":
                    cut = runs.recorded(event.data)
                    if objective_id in new:
                        new[objective_id].extend(cut)
                    else:
                        new[objective_id] = cut
                elif event.type == "ObservationCorrected":
                    d = event.data["interval"]
                    corrections.append((objective_id, iso_us(d["start"]), d["good"], d["total"]))
            summaries.append(summary_row(state, last.event_id, self.alert_texts))
        changed = await self._corrected(conn, new, corrections) if corrections else {}
        await self._write(
            conn,
            [_row(oid, run) for oid, rs in new.items() for run in rs],
            [(oid, run[0], runs.encode(run[3]), runs.encode(run[4])) for oid, rs in changed.items() for run in rs],
            summaries,
        )

    @staticmethod
    async def _corrected(
        conn: AsyncConnection, new: dict[str, list[Run]], corrections: list[tuple[str, int, int, int]],
    ) -> dict[str, list[Run]]:
        """Each correction put into its run: one this batch records (a correction may follow
        its interval's insert), else its stored row, read once. Returns the stored runs changed."""
        changed: dict[str, list[Run]] = {}
        owned: set[int] = set()  # runs whose count lists are copies (a new run may share the event's)
        c = budget_runs.c
        for objective_id, start_us, good, total in corrections:
            run = _containing(new.get(objective_id, ()), start_us) or _containing(changed.get(objective_id, ()), start_us)
            if run is None:
                row = (await conn.execute(
                    select(c.start_us, c.step_us, c.count, c.good, c.total)
                    .where(c.objective_id == objective_id, c.start_us <= start_us)
                    .order_by(c.start_us.desc()).limit(1)
                )).first()
                run = _containing([[row[0], row[1], row[2]]] if row is not None else [], start_us)
                if run is None:
                    raise LookupError(f"budget {objective_id} has no recorded interval at {start_us} to correct")
                run.extend((orjson.loads(row[3]), orjson.loads(row[4])))
                changed.setdefault(objective_id, []).append(run)
                owned.add(id(run))
            i, off = divmod(start_us - run[0], run[1])
            if off:
                raise LookupError(f"budget {objective_id} has no recorded interval at {start_us} to correct")
            if id(run) not in owned:
                run[3], run[4] = list(run[3]), list(run[4])
                owned.add(id(run))
            run[3][i] = good
            run[4][i] = total
        return changed

    async def _rows(self, conn: AsyncConnection, ids: list[str]) -> dict[str, Any]:
        return {
            r.objective_id: r
            for r in await conn.execute(
                select(budgets.c.objective_id, budgets.c.last_event_id, budgets.c.version, budgets.c.doc)
                .where(budgets.c.objective_id.in_(ids))
            )
        }

    async def _own_state(self, conn: AsyncConnection, objective_id: str, row: Any) -> decider.BudgetState | None:
        """This projection's folded state at the row's version (None: no row yet). A cached
        one is trusted only for the row's event id and version (a rolled-back transaction
        may have moved it on); it is changed in place, so it is dropped until rewritten."""
        if row is None:
            self.cache.forget(objective_id)
            return None
        state = self.cache.get(objective_id, row.last_event_id)
        self.cache.forget(objective_id)
        if state is None or state.version != row.version:
            state = await load_state(conn, objective_id, row.doc)
        return state

    @staticmethod
    async def _write(
        conn: AsyncConnection,
        inserts: list[tuple[Any, ...]],
        updates: list[tuple[str, int, str, str]],
        summaries: list[SummaryRow],
    ) -> None:
        """New run rows, the stored runs a correction changed (other rows: no order between
        them) and summary rows: on PostgreSQL the new runs with COPY when there are many,
        otherwise as arrays riding in the store's flush; elsewhere as executemany."""
        if conn.dialect.name == "postgresql":
            if len(inserts) >= COPY_FROM:
                # A live round (a run per objective): COPY costs a round trip of its own
                # but half the client CPU of encoding arrays and less server work per row.
                await insert_records(conn, budget_runs, _RUN_COLUMNS, inserts)
            elif inserts:
                await write_pg(conn, _PG_INSERT_RUNS, *map(list, zip(*inserts)))
            if updates:
                await write_pg(conn, _PG_UPDATE_RUNS, *map(list, zip(*updates)))
            if summaries:
                await write_pg(conn, _PG_UPSERT_SUMMARIES, *map(list, zip(*summaries)))
            return
        if inserts:
            # The driver's own executemany over the tuples: no parameter dict per row for
            # SQLAlchemy to compile.
            await conn.exec_driver_sql(_SQLITE_INSERT_RUNS, inserts)
        if updates:
            await conn.exec_driver_sql(_SQLITE_UPDATE_RUNS, [(g, t, oid, start) for oid, start, g, t in updates])
        # One upsert over tuples, as on PostgreSQL (was a DELETE of the ids, then an INSERT).
        await insert_tuples(conn, budgets, _SUMMARY_COLUMNS, summaries, upsert_on=("objective_id",))

    async def rebuild(self, conn: AsyncConnection, batches: AsyncIterator[list[RecordedEvent]]) -> None:
        self.cache.clear()
        self.read_cache.clear()
        states: dict[str, tuple[decider.BudgetState, str]] = {}
        # objective -> (start, step, count) of the runs its events recorded, as `apply` cut them
        recorded: dict[str, list[tuple[int, int, int]]] = {}
        async for batch in batches:
            for event in batch:
                objective_id = event.stream_id[len(_PREFIX):]
                state = decider.evolve(states.get(objective_id, (None, ""))[0], event)
                states[objective_id] = (state, event.event_id)
                if event.type == "ObservationsRecorded":
                    starts, ends, _, _ = decider.recorded_columns(state, event.data)
                    recorded.setdefault(objective_id, []).extend(
                        (starts[i], step, count) for i, count, step in runs.spans(starts, ends))
        summaries = [summary_row(state, last_id) for state, last_id in states.values()]
        # The counts from the final ledgers: what the live rows hold after every correction.
        records: list[tuple[Any, ...]] = []
        for objective_id, spans in recorded.items():
            starts, _, good, total = states[objective_id][0].ledger.columns()
            for start, step, count in spans:
                i = bisect_left(starts, start)
                records.append(_row(objective_id, [start, step, count, good[i:i + count], total[i:i + count]]))
        await insert_records(conn, budget_runs, _RUN_COLUMNS, records)
        await insert_records(conn, budgets, _SUMMARY_COLUMNS, summaries)
        for objective_id, (state, last_id) in states.items():
            self.cache.put(objective_id, last_id, state)


def projection() -> BudgetProjection:
    return BudgetProjection()


def find(projections: Iterable[Any]) -> BudgetProjection | None:
    return next((p for p in projections if isinstance(p, BudgetProjection)), None)
