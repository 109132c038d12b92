"""The gate epoch: the position of the last event that can change what the deploy gate
sees (a journey's dependencies, an objective's status or agreement, a budget, a policy,
a freeze, an exception). One row, written inline in the same transaction as those
events, so any process reading it knows at once whether a gate state it cached is
still the gate state at the log head: the cache key that stays sound with several
server processes on one database. Deploy decisions and approvals do not move it.

    rm_gate_epoch   id = 1, position
"""

from __future__ import annotations

from typing import AsyncIterator, Sequence

from sqlalchemy.ext.asyncio import AsyncConnection

from domain.events import RecordedEvent
from projections.bulk import write_pg
from projections.tables import gate_epoch

# The stream categories the gate state is folded from (service/gate_state.py folds
# exactly these for a replay): an event in any of them may change a decision.
GATE_CATEGORIES: frozenset[str] = frozenset({"journey", "objective", "budget", "policy", "actions", "exception"})
EPOCH_ROW = 1


def is_gate_relevant(event: RecordedEvent) -> bool:
    return event.stream_id.split("-", 1)[0] in GATE_CATEGORIES


_UPSERT = (
    f"INSERT INTO {gate_epoch.name} (id, position) VALUES ({{}}, {{}}) "
    "ON CONFLICT (id) DO UPDATE SET position = excluded.position"
)
_PG_UPSERT = _UPSERT.format("$1", "$2")
# The driver's own parameters: building and compiling an SQLAlchemy upsert on every
# append cost more than the statement itself.
_SQLITE_UPSERT = _UPSERT.format("?", "?")


async def _write(conn: AsyncConnection, position: int) -> None:
    if conn.dialect.name == "postgresql":
        await write_pg(conn, _PG_UPSERT, EPOCH_ROW, position)
        return
    await conn.exec_driver_sql(_SQLITE_UPSERT, (EPOCH_ROW, position))


class GateEpochProjection:
    name = "gate_epoch"
    tables = (gate_epoch,)

    def handles(self, event: RecordedEvent) -> bool:
        return is_gate_relevant(event)

    async def apply(self, conn: AsyncConnection, events: Sequence[RecordedEvent]) -> None:
        await _write(conn, events[-1].position)

    async def rebuild(self, conn: AsyncConnection, batches: AsyncIterator[list[RecordedEvent]]) -> None:
        last = 0
        async for batch in batches:
            last = batch[-1].position
        if last:
            await _write(conn, last)
