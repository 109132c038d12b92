"""What-if over the recorded history: an objective's budget stream read from the log up to
one position and judged twice by the pure `domain.budget.whatif` -- as recorded, and with
the candidate in force -- beside the transitions the log holds. Reads only: nothing is
appended, and the same position gives the same answer (the result names it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from domain import objective as objectives
from domain.budget import BudgetInputError, decider
from domain.budget.whatif import Candidate, Moment, Outcome, both
from domain.commands import require_id
from domain.errors import InvalidInput, NotFound

MAX_PERIOD_DAYS = 400  # a year and a quarter-review's margin; the cost grows with the stream, not this


@dataclass(frozen=True)
class TargetWhatIf:
    objective_id: str
    start: datetime
    end: datetime
    position: int                 # the log position the history was read up to
    candidate: Candidate
    whatif: Outcome               # the candidate in force
    actual: Outcome               # the recorded configuration, judged again the same way
    recorded: tuple[Moment, ...]  # the transitions the log holds in the period


def period(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidInput("from and to need a time zone (ISO 8601 with Z or an offset)", field="from")
    if not start < end:
        raise InvalidInput("the period is [from, to): from must be before to", field="to")
    if (end - start).days > MAX_PERIOD_DAYS:
        raise InvalidInput(f"a period spans at most {MAX_PERIOD_DAYS} days", field="to")
    return start, end


async def target_whatif_of(
    container: Any,
    objective_id: str,
    start: datetime,
    end: datetime,
    *,
    target: float | None = None,
    window: Any = None,
    budgeting: Any = None,
    tiers: Any = None,
    progress: Callable[[int, int], None] | None = None,
) -> TargetWhatIf:
    """The objective's recorded history over [start, end) judged with the candidate (any
    of target, window, budgeting, tiers; None keeps the recorded one) and as recorded."""
    objective_id = require_id(objective_id, "objective_id")
    start, end = period(start, end)
    try:
        candidate = Candidate.parse(target, window, budgeting, tiers)
    except BudgetInputError as error:
        raise decider.domain_error(error) from None
    store = container.store
    async with container.read_engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn = await conn.execution_options(isolation_level="REPEATABLE READ")
        async with conn.begin():
            position, _ = await store.head(conn)
            if not await store.read_stream(objectives.stream_id(objective_id), until_position=position, conn=conn):
                raise NotFound(f"objective {objective_id} does not exist", objective_id=objective_id)
            events = await store.read_stream(decider.stream_id(objective_id), until_position=position, conn=conn)
    whatif, actual = both(events, candidate, start, end, progress)
    return TargetWhatIf(
        objective_id=objective_id, start=start, end=end, position=position, candidate=candidate,
        whatif=whatif, actual=actual, recorded=actual.transitions,
    )


def _outcome_dict(o: Outcome, transitions: tuple[Moment, ...]) -> dict[str, Any]:
    s = o.status
    return {
        "target": o.target, "attainment": o.attainment, "budget_spent": o.budget_spent,
        "good": o.good, "total": o.total,
        "remaining": None if s is None else s.remaining, "exhausted": None if s is None else s.exhausted,
        "exhaustions": [m.at for m in transitions if m.type == "BudgetExhausted"],
        "recoveries": [m.at for m in transitions if m.type == "BudgetRecovered"],
        "transitions": [{"type": m.type, **m.data} for m in transitions],
    }


def to_dict(r: TargetWhatIf) -> dict[str, Any]:
    """JSON-safe: the inputs (what changed, the period, the position) and both outcomes."""
    c = r.candidate
    return {
        "objective_id": r.objective_id, "from": r.start.isoformat(), "to": r.end.isoformat(), "position": r.position,
        "candidate": {"target": c.target, "window": c.window, "budgeting": c.budgeting,
                      "tiers": None if c.tiers is None else [dict(t) for t in c.tiers]},
        "what_if": _outcome_dict(r.whatif, r.whatif.transitions),
        "actual": _outcome_dict(r.actual, r.recorded),
    }
