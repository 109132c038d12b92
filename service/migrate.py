"""Run Alembic migrations on a live engine (the server's first start, `slogov migrate`)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

import migrations

MIGRATION_LOCK_KEY = 0x510608


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", os.path.dirname(migrations.__file__))
    return cfg


@dataclass(frozen=True)
class Migrated:
    """What a migration did: the revision the schema was at before (None: no schema yet) and after."""

    before: str | None
    after: str

    def describe(self, where: str) -> str:
        """One plain sentence for the person who ran `slogov migrate` on the database `where`."""
        if self.before is None:
            return f"created the schema in {where} at revision {self.after} (the latest)"
        if self.before == self.after:
            return f"the schema in {where} is already at revision {self.after} (the latest): nothing to do"
        return f"upgraded the schema in {where} from revision {self.before} to {self.after} (the latest)"


async def migrate(engine: AsyncEngine) -> Migrated:
    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # Two servers starting together must not both create the schema.
            await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK_KEY})

        def upgrade(sync_conn) -> Migrated:
            # Read under the same lock and transaction as the upgrade, so the answer is what
            # this run did, not what a concurrent starter did.
            before = MigrationContext.configure(sync_conn).get_current_revision()
            cfg = alembic_config()
            cfg.attributes["connection"] = sync_conn
            command.upgrade(cfg, "head")
            return Migrated(before, MigrationContext.configure(sync_conn).get_current_revision())

        return await conn.run_sync(upgrade)
