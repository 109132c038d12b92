"""`slogov migrate` says what it did: created the schema, upgraded it from a revision, or
found it already at the latest -- on a database with no schema yet, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from api.cli import app
from eventstore.engine import create_engines
from service.migrate import alembic_config
from tests.conftest import PG_SERVER, _admin

runner = CliRunner()
HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()


@pytest.fixture
def empty_database_url(backend, tmp_path):
    """A database with nothing in it (the `database_url` fixture's comes migrated)."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
        return
    name = f"slogov_fresh_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(f"CREATE DATABASE {name}"))
    yield f"{PG_SERVER}/{name}"
    asyncio.run(_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


def _downgrade(url: str, revision: str) -> None:
    async def run() -> None:
        engines = create_engines(url)
        try:
            def down(sync_conn) -> None:
                cfg = alembic_config()
                cfg.attributes["connection"] = sync_conn
                command.downgrade(cfg, revision)

            async with engines.write.begin() as conn:
                await conn.run_sync(down)
        finally:
            await engines.dispose()

    asyncio.run(run())


def test_migrate_says_it_created_the_schema_then_that_there_is_nothing_to_do(empty_database_url):
    where = make_url(empty_database_url).render_as_string(hide_password=True)
    created = runner.invoke(app, ["migrate", "--database-url", empty_database_url])
    assert created.exit_code == 0, created.output
    assert created.stderr == f"created the schema in {where} at revision {HEAD} (the latest)\n"

    again = runner.invoke(app, ["migrate", "--database-url", empty_database_url])
    assert again.exit_code == 0, again.output
    assert again.stderr == f"the schema in {where} is already at revision {HEAD} (the latest): nothing to do\n"

    previous = ScriptDirectory.from_config(alembic_config()).get_revision(HEAD).down_revision
    _downgrade(empty_database_url, previous)
    upgraded = runner.invoke(app, ["migrate", "--database-url", empty_database_url])
    assert upgraded.exit_code == 0, upgraded.output
    assert upgraded.stderr == f"upgraded the schema in {where} from revision {previous} to {HEAD} (the latest)\n"

