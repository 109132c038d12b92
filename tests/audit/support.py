"""Altering the log behind the application's back, as a database superuser could."""

from __future__ import annotations

from sqlalchemy import text

from migrations.versions import __name__ as _versions  # noqa: F401  (the triggers live in 0001)

async def tamper(container, sql: str, params: dict | None = None) -> None:
    """Run `sql` on `events` with the append-only triggers out of the way, then put them back."""
    async with container.engines.write.begin() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(text("ALTER TABLE events DISABLE TRIGGER USER"))
            await conn.execute(text(sql), params or {})
            await conn.execute(text("ALTER TABLE events ENABLE TRIGGER USER"))
            return
        triggers = (await conn.execute(text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'events'"))).all()
        for name, _ in triggers:
            await conn.execute(text(f"DROP TRIGGER {name}"))
        await conn.execute(text(sql), params or {})
        for _, create in triggers:
            await conn.execute(text(create))
