"""One lock order for the read models, shared by the rebuild and by the readers that
hold one snapshot over several tables (the deploy gate, the leadership report).

A rebuild (PostgreSQL) takes ACCESS EXCLUSIVE on the tables it refolds; a reader takes
ACCESS SHARE on each table as it first reads it, and keeps it to the end of its
transaction. Taken in different orders, the two deadlocked: the gate held the epoch row
and waited for the journey dependencies, the rebuild held those and waited for the epoch.
So both take their locks up front, in one `LOCK TABLE` statement, in `READ_ORDER`.

The reader's `LOCK TABLE` is also the first statement of its REPEATABLE READ
transaction on purpose: the snapshot is taken by the first SELECT, after the locks are
granted, so after any rebuild that held them has committed. A snapshot taken before
would see the rebuilt tables empty (TRUNCATE is not MVCC-safe).
"""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from typing import AsyncIterator, Sequence

from sqlalchemy import Table, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from projections.tables import (
    ALL_TABLES, budget_runs, budgets, deploy_decisions, event_index, freeze_exceptions, freeze_scope,
    gate_epoch, journey_dependencies, journey_labels, journeys, objective_labels, objectives, policies,
    policy_actions, snapshots, data_sources,
)

# The gate's snapshot starts at the epoch row, so it comes first: a gate read that holds
# it finishes before a rebuild can start, and one that arrives later waits on it alone.
READ_ORDER: tuple[Table, ...] = (
    gate_epoch, journey_dependencies, journey_labels, journeys, objective_labels, objectives, budgets,
    budget_runs, policies,
    policy_actions, freeze_scope, freeze_exceptions, deploy_decisions, event_index, snapshots, data_sources,
)
assert set(READ_ORDER) == set(ALL_TABLES), "every read model has its place in the lock order"
_RANK = {t.name: i for i, t in enumerate(READ_ORDER)}

# A rebuild waits this long for a table before it lets go of all and tries again: below
# PostgreSQL's deadlock_timeout (1 s), so if a reader that takes its tables in another
# order (one statement joining several) closes a cycle, the rebuild backs off rather
# than the reader failing.
REBUILD_LOCK_WAIT_MS = 200
REBUILD_LOCK_ATTEMPTS = 50
_LOCK_NOT_AVAILABLE = "55P03"
_DEADLOCK = "40P01"


def in_read_order(tables: Sequence[Table]) -> list[Table]:
    return sorted(dict.fromkeys(tables), key=lambda t: _RANK[t.name])


def _lock_sql(tables: Sequence[Table], mode: str) -> str:
    names = ", ".join(f'"{t.name}"' for t in in_read_order(tables))
    return f"LOCK TABLE {names} IN {mode} MODE"


def _sqlstate(exc: BaseException) -> str | None:
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    return getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)


async def lock_for_rebuild(conn: AsyncConnection, tables: Sequence[Table]) -> None:
    """ACCESS EXCLUSIVE on `tables`, in the read order, all or none (PostgreSQL only)."""
    if conn.dialect.name != "postgresql" or not tables:
        return
    raw = (await conn.get_raw_connection()).driver_connection
    statement = _lock_sql(tables, "ACCESS EXCLUSIVE")
    for attempt in range(REBUILD_LOCK_ATTEMPTS):
        try:
            async with raw.transaction():  # a savepoint: giving up releases what it took
                await raw.execute(f"SET LOCAL lock_timeout = '{REBUILD_LOCK_WAIT_MS}ms'")
                await raw.execute(statement)
                await raw.execute("SET LOCAL lock_timeout = 0")
            return
        except Exception as exc:  # noqa: BLE001 - only a lock wait given up is retried
            if _sqlstate(exc) not in (_LOCK_NOT_AVAILABLE, _DEADLOCK) or attempt == REBUILD_LOCK_ATTEMPTS - 1:
                raise
        await asyncio.sleep(min(0.01 * 2 ** attempt, 0.5))


@asynccontextmanager
async def consistent_read(engine: AsyncEngine, tables: Sequence[Table]) -> AsyncIterator[AsyncConnection]:
    """One read transaction over `tables` in which every query sees the same committed state.

    PostgreSQL: REPEATABLE READ, opened by a `LOCK TABLE ... IN ACCESS SHARE MODE` of
    `tables` in the read order (see the module doc); SQLite: one read transaction.
    """
    async with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn = await conn.execution_options(isolation_level="REPEATABLE READ")
        async with conn.begin():
            if conn.dialect.name == "postgresql":
                await conn.execute(text(_lock_sql(tables, "ACCESS SHARE")))
            yield conn
