"""The `slogov` command line, as a script or a person would use it."""

from __future__ import annotations

import os

import asyncio
import json

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from api.auth import TokenVerifier
from api.cli import app
from eventstore.engine import create_engines

runner = CliRunner()


def run(*args: str, url: str):
    return runner.invoke(app, [*args, "--database-url", url])


def test_token_create_prints_the_token_alone_and_it_authenticates(database_url):
    result = run("token", "create", "--actor", "sam", "--role", "sre", "--role", "ci", url=database_url)
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert token.startswith("slg_") and "\n" not in token

    async def verify():
        engines = create_engines(database_url)
        try:
            return await TokenVerifier(engines.read).verify(token)
        finally:
            await engines.dispose()

    principal = asyncio.run(verify())
    assert principal.actor == "sam" and principal.roles == frozenset({"sre", "ci"})
    listed = run("token", "list", url=database_url).stdout
    assert "sam" in listed and token not in listed


def test_token_create_refuses_an_unknown_role(database_url):
    result = run("token", "create", "--actor", "sam", "--role", "wizard", url=database_url)
    assert result.exit_code == 2
    assert "wizard" in result.output


def test_demo_rebuild_and_verify(database_url, backend):
    assert run("demo", url=database_url).exit_code == 0
    rebuilt = run("projections", "rebuild", url=database_url)
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "journeys:" in rebuilt.stdout and "objectives:" in rebuilt.stdout

    verified = run("audit", "verify", url=database_url)
    report = json.loads(verified.stdout)
    assert verified.exit_code == 0 and report["ok"] and report["events_checked"] > 40

    async def tamper():
        engines = create_engines(database_url)
        try:
            async with engines.write.begin() as conn:
                if backend == "postgresql":
                    await conn.execute(text("ALTER TABLE events DISABLE TRIGGER events_append_only"))
                else:
                    await conn.execute(text("DROP TRIGGER events_no_delete"))
                await conn.execute(text("DELETE FROM events WHERE position = 5"))
        finally:
            await engines.dispose()

    asyncio.run(tamper())
    broken = run("audit", "verify", url=database_url)
    assert broken.exit_code == 1
    assert json.loads(broken.stdout)["first_broken_position"] == 5


def test_demo_loads_once(database_url):
    assert run("demo", url=database_url).exit_code == 0
    second = run("demo", url=database_url)
    assert second.exit_code == 0 and "not loaded" in second.output


def test_serve_with_workers_hands_uvicorn_the_app_factory_and_refuses_sqlite(monkeypatch):
    import uvicorn

    calls: list[tuple[tuple, dict]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: calls.append((args, kwargs)))
    monkeypatch.setenv("SLOGOV_DATABASE_URL", "sqlite+aiosqlite:///unused.db")  # restored after the test
    url = "postgresql+asyncpg://postgres@127.0.0.1:5432/somewhere"
    result = runner.invoke(app, ["serve", "--workers", "3", "--database-url", url])
    assert result.exit_code == 0, result.output
    (args, kwargs), = calls
    # Each worker process imports the factory and reads its database from the environment.
    assert args == ("api.main:create_app_for",) and kwargs["factory"] and kwargs["workers"] == 3
    assert os.environ["SLOGOV_DATABASE_URL"] == url

    refused = runner.invoke(app, ["serve", "--workers", "2", "--database-url", "sqlite+aiosqlite:///x.db"])
    assert refused.exit_code != 0 and "--workers" in refused.output
    assert len(calls) == 1
