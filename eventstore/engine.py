"""Engines for the two supported databases.

SQLite (the embedded default) has one writer: the write engine holds a single
connection and starts every transaction with BEGIN IMMEDIATE, so the append
lock is the database's own write lock; readers use a separate engine and, in
WAL mode, never block it. PostgreSQL uses one pool for both, and appends take a
transaction-level advisory lock instead (see store.py); its reads run in autocommit,
and so does the SQLAlchemy side of an append, whose transaction is asyncpg's own.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool


@dataclass(frozen=True)
class Engines:
    write: AsyncEngine
    read: AsyncEngine
    dialect: str  # "sqlite" | "postgresql"

    async def dispose(self) -> None:
        await self.write.dispose()
        if self.read.sync_engine.pool is not self.write.sync_engine.pool:
            await self.read.dispose()


def _sqlite_engine(url: str, *, writer: bool) -> AsyncEngine:
    kwargs: dict = {"connect_args": {"timeout": 30}}
    if writer:
        kwargs.update(poolclass=AsyncAdaptedQueuePool, pool_size=1, max_overflow=0)
    engine = create_async_engine(url, **kwargs)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:  # pragma: no cover - driver hook
        # Let us issue BEGIN ourselves (the driver's implicit BEGIN is DEFERRED).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn) -> None:  # pragma: no cover - driver hook
        conn.exec_driver_sql("BEGIN IMMEDIATE" if writer else "BEGIN")

    return engine


def create_engines(url: str) -> Engines:
    if url.startswith("sqlite"):
        return Engines(
            write=_sqlite_engine(url, writer=True),
            read=_sqlite_engine(url, writer=False),
            dialect="sqlite",
        )
    if url.startswith("postgresql"):
        engine = create_async_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=False)
        # Reads share the pool but run without BEGIN and ROLLBACK: one round trip per query
        # instead of three. Under READ COMMITTED each statement took its own snapshot anyway;
        # a read that needs one snapshot for several statements asks for it (reports).
        read = engine.execution_options(isolation_level="AUTOCOMMIT")
        return Engines(write=engine, read=read, dialect="postgresql")
    raise ValueError(f"unsupported database URL scheme: {url.split(':', 1)[0]}")
