"""Moving a test container's schema to one Alembic revision, up or down: how the migration
tests put an existing log under an earlier schema and bring it back."""

from __future__ import annotations

from alembic import command

from service.migrate import alembic_config


async def migrate_to(container, revision: str, downgrade: bool = False) -> None:
    def run(sync_conn) -> None:
        cfg = alembic_config()
        cfg.attributes["connection"] = sync_conn
        (command.downgrade if downgrade else command.upgrade)(cfg, revision)

    async with container.engines.write.begin() as conn:
        await conn.run_sync(run)
