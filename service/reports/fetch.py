"""Reading what the leadership report needs, in a few queries, then `build_report`.

One read transaction for the read models and the log's BudgetExhausted events (six
small SELECTs: journeys, objectives, policy actions, freeze exceptions, the quarter's
deploy decisions, exhaustions), then the budgets of the objectives in one batch
(`service.budget_queries`' warm ledger cache) for the quarter's charts.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import orjson
from sqlalchemy import select

from domain import freeze_exception as exceptions_domain
from domain import gate as gate_domain
from domain import journey as journeys_domain
from domain import objective as objectives_domain
from domain import policy_actions as actions_domain
from domain import quarters
from domain.budget import BudgetInputError
from domain.commands import iso, parse_iso
from eventstore.tables import events
from projections.locking import consistent_read
from projections.tables import deploy_decisions, freeze_exceptions, journeys, objectives, policy_actions
from service import budget_queries
from service.offload import run_heavy
from service.reports.model import LeadershipReport, ReportInputs, build_report

EXHAUSTED = "BudgetExhausted"
# Read in one snapshot, locked up front in the order a rebuild takes them.
_TABLES = (journeys, objectives, policy_actions, freeze_exceptions, deploy_decisions)


async def report_inputs(container: Any, quarter: str) -> ReportInputs:
    quarter = quarters.require_quarter(quarter)
    start, end = quarters.bounds(quarter)
    async with consistent_read(container.read_engine, _TABLES) as conn:
        journey_docs = (await conn.execute(select(journeys.c.doc).order_by(journeys.c.created_position))).scalars().all()
        objective_docs = (await conn.execute(select(objectives.c.doc).order_by(objectives.c.created_position))).scalars().all()
        action_docs = (await conn.execute(select(policy_actions.c.doc))).scalars().all()
        exception_docs = (await conn.execute(select(freeze_exceptions.c.doc))).scalars().all()
        # `at` is ISO 8601 in UTC as the gate writes it; the range is re-checked on parsed times.
        decision_docs = (await conn.execute(
            select(deploy_decisions.c.doc)
            .where(deploy_decisions.c.at >= iso(start)[:19], deploy_decisions.c.at < iso(end))
        )).scalars().all()
        exhausted_rows = (await conn.execute(
            select(events.c.stream_id, events.c.data, events.c.recorded_at).where(events.c.type == EXHAUSTED)
        )).all()
    objective_states = [objectives_domain.from_dict(orjson.loads(d)) for d in objective_docs]
    exhaustions = []
    for row in exhausted_rows:
        data = orjson.loads(row.data)
        at = parse_iso(data["at"]) if data.get("at") else _aware(row.recorded_at)
        exhaustions.append((data.get("objective_id") or row.stream_id.split("-", 1)[1], at))
    charts, quarter_budgets = {}, {}
    ids = [s.id for s in objective_states if s.agreed_target is not None]
    for objective_id, state in (await budget_queries.budget_states(container, ids)).items():
        if state.ledger is None or state.target is None:
            continue
        try:
            charts[objective_id] = state.ledger.chart(since=start, until=end)
            quarter_budgets[objective_id] = state.ledger.span_budget(start, end)
        except BudgetInputError:
            charts[objective_id] = []
    actions = [actions_domain.from_dict(orjson.loads(d)) for d in action_docs]
    return ReportInputs(
        journeys=[journeys_domain.from_dict(orjson.loads(d)) for d in journey_docs],
        objectives=objective_states,
        actions={a.objective_id: a for a in actions},
        exceptions=[exceptions_domain.from_dict(orjson.loads(d)) for d in exception_docs],
        decisions=[gate_domain.from_dict(orjson.loads(d)) for d in decision_docs],
        exhaustions=exhaustions,
        charts=charts,
        quarter_budgets=quarter_budgets,
    )


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=timezone.utc)


async def leadership_report(container: Any, quarter: str, now: datetime | None = None) -> LeadershipReport:
    """The report for `quarter` ("2026-Q4"), as of min(now, the quarter's end); `now`
    defaults to the server clock."""
    quarter = quarters.require_quarter(quarter)
    now = now or container.store.clock()
    async with container.long_reads.slot("report"):  # in the server's worker process (service/offload.py)
        return await run_heavy(container, built_report, quarter, now)


async def built_report(container: Any, quarter: str, now: datetime) -> LeadershipReport:
    return build_report(quarter, now, await report_inputs(container, quarter))
