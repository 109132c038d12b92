"""Recompute the hash chain and check positions are contiguous.

Reads the stored text exactly as written (no upcasting), so any change to a
stored event, a removed or reordered row, or a head that disagrees with the
last event is found.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import orjson
from sqlalchemy import select

from eventstore.codec import GENESIS_HASH, canonical, chain_hash, iso
from eventstore.engine import Engines
from eventstore.pacing import SLICE
from eventstore.store import aware
from eventstore.tables import events, log_head


@dataclass(frozen=True)
class ChainReport:
    events_checked: int
    head_position: int
    head_hash: str
    first_broken_position: int | None
    problem: str | None

    @property
    def ok(self) -> bool:
        return self.first_broken_position is None and self.problem is None


async def verify_chain(engines: Engines, batch: int = 2000) -> ChainReport:
    prev_hash, expected, checked = GENESIS_HASH, 1, 0
    async with engines.read.connect() as conn:
        head = (await conn.execute(select(log_head.c.position, log_head.c.hash))).one()
        after = 0
        while True:
            rows = (
                await conn.execute(
                    select(events)
                    .where(events.c.position > after)
                    .order_by(events.c.position)
                    .limit(batch)
                )
            ).all()
            for row in rows:
                if not checked % SLICE:
                    await asyncio.sleep(0)  # let other requests in (eventstore/pacing.py)
                if row.position != expected:
                    return ChainReport(checked, head.position, head.hash, expected,
                                       f"position {expected} is missing")
                # Re-encode the parsed values: the stored text must already be canonical.
                data = canonical(orjson.loads(row.data))
                meta = canonical(orjson.loads(row.metadata))
                digest = chain_hash(
                    prev_hash, row.position, row.event_id, row.stream_id, row.stream_version,
                    row.type, row.schema_version, iso(aware(row.recorded_at)), data, meta,
                )
                if digest != row.hash or data != row.data or meta != row.metadata:
                    return ChainReport(checked, head.position, head.hash, row.position,
                                       f"event at position {row.position} does not match its hash")
                prev_hash, expected, checked = row.hash, expected + 1, checked + 1
                after = row.position
            if len(rows) < batch:
                break
    if head.position != checked or head.hash != prev_hash:
        return ChainReport(checked, head.position, head.hash, checked + 1 if head.position > checked else None,
                           "the log head does not match the last event")
    return ChainReport(checked, head.position, head.hash, None, None)
