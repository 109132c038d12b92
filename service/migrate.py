"""Run Alembic migrations on a live engine (the server's first start, `slogov migrate`)."""

from __future__ import annotations

import os

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

import migrations

MIGRATION_LOCK_KEY = 0x510608


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", os.path.dirname(migrations.__file__))
    return cfg


async def migrate(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # Two servers starting together must not both create the schema.
            await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK_KEY})

        def upgrade(sync_conn) -> None:
            cfg = alembic_config()
            cfg.attributes["connection"] = sync_conn
            command.upgrade(cfg, "head")

        await conn.run_sync(upgrade)
