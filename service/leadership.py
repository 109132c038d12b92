"""Which process does a background job when several serve one database: the one holding
a session-level PostgreSQL advisory lock, kept on a connection of its own until
released. On SQLite there is one writing process, so it always leads."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import text

log = logging.getLogger(__name__)


class Leadership:
    def __init__(self, key: int, job: str) -> None:
        self.key = key
        self.job = job  # for the log: "the collector", "the freshness probe"
        self._conn: Any = None  # PostgreSQL: the session holding the lock

    async def held(self, engine: Any) -> bool:
        """True when this process leads: it holds the lock, or just took it."""
        if engine.dialect.name != "postgresql":
            return True
        if self._conn is None:
            conn = await engine.connect()
            got = (await conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key})).scalar()
            if not got:
                await conn.close()
                return False
            self._conn = conn
        return True

    async def release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:  # the connection goes back to the pool: unlock first (a dead session took it along)
            await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
            await conn.close()
        except Exception:
            log.exception("releasing %s's lock failed", self.job)
            try:
                await conn.invalidate()  # never back to the pool: the session, and its lock, end
            except Exception:
                log.exception("dropping %s's lock session failed", self.job)
