"""Recompute the hash chain and check positions are contiguous.

Reads the stored text exactly as written (no upcasting), so any change to a
stored event, a removed or reordered row, or a head that disagrees with the
last event is found. What the chain cannot show on its own (the newest events
removed and the head row rewritten to match, or a rewrite with every later hash
recomputed) is what signed checkpoints are for (eventstore/log_checkpoints.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

import orjson
from sqlalchemy import func, select

from eventstore.codec import GENESIS_HASH, canonical, chain_hash, iso
from eventstore.engine import Engines
from eventstore.pacing import SLICE
from eventstore.store import aware
from eventstore.tables import events, log_head

HEAD_MISMATCH = "the log head does not match the last event"


@dataclass(frozen=True)
class ChainReport:
    events_checked: int
    head_position: int
    head_hash: str
    first_broken_position: int | None
    problem: str | None
    # Every event from the start to this position was recomputed and matched.
    verified_through: int = 0
    # The walk read every event up to the head (a problem, if any, is the head row's).
    reached_end: bool = True
    # The chain hash at each position asked for (`keep`) that the walk verified.
    hashes_at: Mapping[int, str] = field(default_factory=dict, compare=False)

    @property
    def ok(self) -> bool:
        return self.first_broken_position is None and self.problem is None


async def verify_chain(
    engines: Engines,
    batch: int = 2000,
    *,
    start: tuple[int, str] = (0, GENESIS_HASH),
    keep: Collection[int] = (),
) -> ChainReport:
    """Walk the log from `start` (a position and the hash trusted there; default the
    genesis) up to the head row read first, so that events appended meanwhile are left
    for the next run instead of looking like a head that lags."""
    keep = frozenset(keep)
    after, prev_hash = start
    hashes: dict[int, str] = {after: prev_hash} if after in keep else {}
    checked = 0
    async with engines.read.connect() as conn:
        head = (await conn.execute(select(log_head.c.position, log_head.c.hash))).one()

        def report(broken: int | None, problem: str | None, reached_end: bool = False) -> ChainReport:
            return ChainReport(checked, head.position, head.hash, broken, problem, after, reached_end, hashes)

        if head.position < after:
            return report(head.position + 1, f"the log head is at position {head.position}, before position {after}")
        if after > 0:
            stored = await conn.scalar(select(events.c.hash).where(events.c.position == after))
            if stored != prev_hash:
                return report(after, f"the event at position {after} is not the one the chain starts from")
        while after < head.position:
            rows = (
                await conn.execute(
                    select(events)
                    .where(events.c.position > after, events.c.position <= head.position)
                    .order_by(events.c.position)
                    .limit(batch)
                )
            ).all()
            for row in rows:
                if not checked % SLICE:
                    await asyncio.sleep(0)  # let other requests in (eventstore/pacing.py)
                if row.position != after + 1:
                    return report(after + 1, f"position {after + 1} is missing")
                # Re-encode the parsed values: the stored text must already be canonical.
                data = canonical(orjson.loads(row.data))
                meta = canonical(orjson.loads(row.metadata))
                digest = chain_hash(
                    prev_hash, row.position, row.event_id, row.stream_id, row.stream_version,
                    row.type, row.schema_version, iso(aware(row.recorded_at)), data, meta,
                )
                if digest != row.hash or data != row.data or meta != row.metadata:
                    return report(row.position, f"event at position {row.position} does not match its hash")
                prev_hash, after, checked = row.hash, row.position, checked + 1
                if after in keep:
                    hashes[after] = prev_hash
            if len(rows) < batch:
                break
        if after != head.position or prev_hash != head.hash:
            return report(after + 1 if head.position > after else None, HEAD_MISMATCH, reached_end=True)
        # Events beyond the head: the head row was set back. Read together, since an
        # append advances both in one transaction.
        last, now = (await conn.execute(
            select(select(func.max(events.c.position)).scalar_subquery(), log_head.c.position)
        )).one()
        if last is not None and last > now:
            return report(now + 1, HEAD_MISMATCH, reached_end=True)
    return report(None, None, reached_end=True)
