"""Export the log as JSON Lines that verify on their own (docs/audit-export.md).

One line per event, in position order, exactly as stored (no upcasting):

    {"data": ..., "event_id": ..., "hash": ..., "metadata": ..., "position": ...,
     "prev_hash": ..., "recorded_at": ..., "schema_version": ..., "stream_id": ...,
     "stream_version": ..., "type": ...}

written in the canonical JSON form (keys sorted, no spaces, UTF-8). ``prev_hash`` of
the first line is the hash of the event before it (64 zeros from position 1), so a
partial export chains onto the previous one.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timezone
from typing import AsyncIterator

from sqlalchemy import func, select

from eventstore.codec import GENESIS_HASH, canonical, iso
from eventstore.engine import Engines
from eventstore.pacing import SLICE
from eventstore.store import aware
from eventstore.tables import events, log_head


async def position_at(engines: Engines, at: datetime, *, before: bool) -> int:
    """The last position recorded at or before `at` (before=True), or the first one
    recorded at or after it, minus one (before=False: export from there on)."""
    at = at.astimezone(timezone.utc)
    async with engines.read.connect() as conn:
        if before:
            found = await conn.scalar(select(func.max(events.c.position)).where(events.c.recorded_at <= at))
            return int(found or 0)
        found = await conn.scalar(select(func.min(events.c.position)).where(events.c.recorded_at >= at))
        if found is None:
            head = await conn.scalar(select(log_head.c.position).where(log_head.c.id == 1))
            return int(head) + 1
        return int(found)


async def export_lines(
    engines: Engines, since: int = 1, until: int | None = None, batch: int = 5000
) -> AsyncIterator[str]:
    """Canonical JSON lines (without newline) for positions since..until, both inclusive."""
    since = max(1, since)
    async with engines.read.connect() as conn:
        if until is None:
            until = int(await conn.scalar(select(log_head.c.position).where(log_head.c.id == 1)))
        prev = GENESIS_HASH
        if since > 1:
            prev = await conn.scalar(select(events.c.hash).where(events.c.position == since - 1)) or GENESIS_HASH
        after = since - 1
        while after < until:
            rows = (
                await conn.execute(
                    select(events)
                    .where(events.c.position > after, events.c.position <= until)
                    .order_by(events.c.position)
                    .limit(batch)
                )
            ).all()
            if not rows:
                return
            for n, row in enumerate(rows):
                if n and not n % SLICE:
                    await asyncio.sleep(0)  # let other requests in (eventstore/pacing.py)
                yield canonical({
                    "position": row.position,
                    "event_id": row.event_id,
                    "stream_id": row.stream_id,
                    "stream_version": row.stream_version,
                    "type": row.type,
                    "schema_version": row.schema_version,
                    "recorded_at": iso(aware(row.recorded_at)),
                    "data": json.loads(row.data),
                    "metadata": json.loads(row.metadata),
                    "hash": row.hash,
                    "prev_hash": prev,
                })
                prev = row.hash
            after = rows[-1].position

