"""Test fixtures: every database test runs on SQLite and on PostgreSQL.

Each test gets its own database: a copy of a migrated SQLite file, or a
PostgreSQL database created from a migrated template and dropped after.
PostgreSQL being unreachable is an error, never a skip: set
SLOGOV_TEST_BACKENDS=sqlite to run the SQLite half alone on purpose (the tests marked
`pg_only`, which need PostgreSQL itself, are then deselected).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from datetime import datetime, timezone

import asyncpg
import pytest

from service.config import Settings

PG_SERVER = os.environ.get("SLOGOV_TEST_PG", "postgresql+asyncpg://postgres@127.0.0.1:5432")
BACKENDS = [b.strip() for b in os.environ.get("SLOGOV_TEST_BACKENDS", "sqlite,postgresql").split(",") if b.strip()]


@pytest.fixture(autouse=True, scope="session")
def _checkpoint_key_outside_the_repository(tmp_path_factory):
    """Whatever a test signs without naming a key (a CLI command, a served app) signs with a
    key in a temporary directory, never `./slogov-checkpoint.key` in the working directory."""
    before = os.environ.get("SLOGOV_CHECKPOINT_KEY")
    os.environ["SLOGOV_CHECKPOINT_KEY"] = str(tmp_path_factory.mktemp("keys") / "checkpoint.key")
    yield
    if before is None:
        os.environ.pop("SLOGOV_CHECKPOINT_KEY", None)
    else:
        os.environ["SLOGOV_CHECKPOINT_KEY"] = before


def _dsn(database: str) -> str:
    return PG_SERVER.replace("postgresql+asyncpg", "postgresql") + "/" + database


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(_dsn("postgres"))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _migrate(url: str) -> None:
    from eventstore.engine import create_engines
    from service.migrate import migrate

    engines = create_engines(url)
    try:
        await migrate(engines.write)
    finally:
        await engines.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("template") / "template.db"
    asyncio.run(_migrate(f"sqlite+aiosqlite:///{path}"))
    return str(path)


@pytest.fixture(scope="session")
def pg_template():
    name = f"slogov_tpl_{uuid.uuid4().hex[:12]}"
    try:
        asyncio.run(_admin(f"CREATE DATABASE {name}"))
    except (OSError, asyncpg.PostgresError) as exc:  # unreachable is a failure, not a skip
        pytest.fail(f"PostgreSQL at {PG_SERVER} is not usable ({exc}); start it or set SLOGOV_TEST_BACKENDS=sqlite")
    asyncio.run(_migrate(f"{PG_SERVER}/{name}"))
    yield name
    asyncio.run(_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


def pytest_collection_modifyitems(config, items) -> None:
    """Without PostgreSQL among the backends, the tests that need it alone (`pg_only`) are
    deselected, so that no test in an SQLite-only run connects to PostgreSQL."""
    if "postgresql" in BACKENDS:
        return
    deselected = [item for item in items if item.get_closest_marker("pg_only")]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if not item.get_closest_marker("pg_only")]


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    if request.param not in BACKENDS:  # a test pinned to one backend with parametrize(indirect=True)
        pytest.fail(f"this test needs {request.param}, which SLOGOV_TEST_BACKENDS leaves out: mark it pg_only")
    return request.param


@pytest.fixture
def database_url(backend, request, tmp_path):
    if backend == "sqlite":
        path = tmp_path / "slogov.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    template = request.getfixturevalue("pg_template")
    name = f"slogov_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(f"CREATE DATABASE {name} TEMPLATE {template}"))
    yield f"{PG_SERVER}/{name}"
    asyncio.run(_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


@pytest.fixture
def settings(database_url, tmp_path) -> Settings:
    # The checkpoint key lives outside the database: here, beside the test's files.
    return Settings(database_url=database_url, checkpoint_key=str(tmp_path / "checkpoint.key"))


@pytest.fixture
async def container(settings):
    from service.bootstrap import build

    c = build(settings, auto_migrate=False)
    await c.startup()
    yield c
    await c.shutdown()


@pytest.fixture
def now() -> datetime:
    return datetime.now(timezone.utc)
