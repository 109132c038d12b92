"""Altering the log behind the application's back, as a database superuser could."""

from __future__ import annotations

import json

from sqlalchemy import select, text

from eventstore.codec import chain_hash, iso
from eventstore.store import aware
from eventstore.tables import events


async def tamper(container, sql: str, params: dict | None = None) -> None:
    """Run `sql` on `events` with the append-only triggers out of the way, then put them back."""
    await tamper_all(container, [(sql, params or {})])


async def tamper_all(container, statements: list[tuple[str, dict]]) -> None:
    """Run the statements in one transaction with the append-only triggers out of the way."""
    async with container.engines.write.begin() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(text("ALTER TABLE events DISABLE TRIGGER USER"))
            for sql, params in statements:
                await conn.execute(text(sql), params)
            await conn.execute(text("ALTER TABLE events ENABLE TRIGGER USER"))
            return
        triggers = (await conn.execute(text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'events'"))).all()
        for name, _ in triggers:
            await conn.execute(text(f"DROP TRIGGER {name}"))
        for sql, params in statements:
            await conn.execute(text(sql), params)
        for _, create in triggers:
            await conn.execute(text(create))


async def stored_hash(container, position: int) -> str:
    async with container.engines.read.connect() as conn:
        return await conn.scalar(select(events.c.hash).where(events.c.position == position))


async def truncate(container, keep: int) -> None:
    """Delete every event after position `keep` and set the head row back to match: the
    chain and the head then agree, as if the log had always ended there."""
    await tamper_all(container, [
        ("DELETE FROM events WHERE position > :p", {"p": keep}),
        ("UPDATE log_head SET position = :p, hash = :h WHERE id = 1",
         {"p": keep, "h": await stored_hash(container, keep)}),
    ])


async def rechain(container, edits: list[tuple[str, dict]], start: int) -> None:
    """Apply `edits` to events, then recompute every hash from position `start` on (and the
    head row) as an attacker who knows the algorithm would: the chain verifies again."""
    await tamper_all(container, edits)
    async with container.engines.read.connect() as conn:
        prev = await conn.scalar(select(events.c.hash).where(events.c.position == start - 1)) or "0" * 64
        rows = (await conn.execute(select(events).where(events.c.position >= start)
                                   .order_by(events.c.position))).all()
    updates = []
    for r in rows:
        prev = chain_hash(prev, r.position, r.event_id, r.stream_id, r.stream_version, r.type, r.schema_version,
                          iso(aware(r.recorded_at)), r.data, r.metadata)
        updates.append(("UPDATE events SET hash = :h WHERE position = :p", {"h": prev, "p": r.position}))
    updates.append(("UPDATE log_head SET hash = :h WHERE id = 1", {"h": prev}))
    await tamper_all(container, updates)


def swap(i: int, j: int, rows: dict[int, dict]) -> list[tuple[str, dict]]:
    """Statements that swap the events at positions i and j (all but position and time)."""
    fields = ("event_id", "stream_id", "stream_version", "type", "schema_version", "data", "metadata")
    assign = ", ".join(f"{f} = :{f}" for f in fields)
    return [
        ("UPDATE events SET event_id = 'swap', stream_version = -1 WHERE position = :p", {"p": i}),
        (f"UPDATE events SET {assign} WHERE position = :p", {**{f: rows[i][f] for f in fields}, "p": j}),
        (f"UPDATE events SET {assign} WHERE position = :p", {**{f: rows[j][f] for f in fields}, "p": i}),
    ]


def rewrite_data(row: dict) -> tuple[str, dict]:
    """A statement giving the event `row` other data, still canonical JSON (so only its hash tells)."""
    data = {**json.loads(row["data"]), "rewritten": True}
    return ("UPDATE events SET data = :d WHERE position = :p",
            {"d": json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False), "p": row["position"]})


async def rows_at(container, *positions: int) -> dict[int, dict]:
    async with container.engines.read.connect() as conn:
        found = (await conn.execute(select(events).where(events.c.position.in_(positions)))).all()
    return {r.position: dict(r._mapping) for r in found}
