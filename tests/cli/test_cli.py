"""The `slogov` command line, as a script or a person would use it."""

from __future__ import annotations

import os

import asyncio
import json
import logging
import signal
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from api.auth import TokenVerifier
from api.cli import app
from eventstore.engine import create_engines
from tests.service.test_two_servers import free_port

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]


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


def test_token_list_is_a_table_json_or_ids_and_the_ids_pipe_into_revoke(database_url):
    for actor in ("sam", "sam", "kim"):
        assert run("token", "create", "--actor", actor, "--role", "sre", url=database_url).exit_code == 0
    table = run("token", "list", url=database_url)
    assert table.exit_code == 0, table.output
    header, *rows = table.stdout.splitlines()
    assert header.split() == ["ID", "ACTOR", "ROLES", "CREATED", "REVOKED"]
    assert [r.split()[1:3] for r in rows] == [["sam", "sre"], ["sam", "sre"], ["kim", "sre"]]
    listed = json.loads(run("token", "list", "--json", url=database_url).stdout)
    assert [(t["actor"], t["roles"], t["active"], t["revoked_at"]) for t in listed] == [
        ("sam", ["sre"], True, None), ("sam", ["sre"], True, None), ("kim", ["sre"], True, None)]
    assert [r.split()[0] for r in rows] == [t["id"] for t in listed]

    # The README's pipe: one actor's ids, one a line, into `token revoke` on stdin.
    sams = run("token", "list", "--actor", "sam", "--quiet", url=database_url).stdout
    assert sams.split() == [t["id"] for t in listed[:2]]
    revoked = runner.invoke(app, ["token", "revoke", "--database-url", database_url], input=sams)
    assert revoked.exit_code == 0, revoked.output
    after = json.loads(run("token", "list", "--json", url=database_url).stdout)
    assert [t["active"] for t in after] == [False, False, True]
    assert run("token", "list", "--active", "--quiet", url=database_url).stdout.split() == [listed[2]["id"]]


def test_token_revoke_of_an_unknown_id_is_one_line_and_revokes_nothing(database_url):
    assert run("token", "create", "--actor", "kim", "--role", "sre", url=database_url).exit_code == 0
    known = run("token", "list", "--quiet", url=database_url).stdout.split()
    result = run("token", "revoke", *known, "tok_0000000000000000", url=database_url)
    assert result.exit_code == 2
    assert result.stderr == "error: no token with id tok_0000000000000000; none revoked\n"
    assert json.loads(run("token", "list", "--json", url=database_url).stdout)[0]["active"]


ERRORS = [
    ("token", "revoke", "tok_0000000000000000"),
    ("projections", "rebuild", "--only", "no-such-projection"),
    ("report", "--quarter", "2026-Q4", "--output", "{missing}/report.md"),
    ("audit", "export", "--output", "{missing}/log.jsonl"),
    ("audit", "verify", "--database-url", "sqlite+aiosqlite:///{missing}/slogov.db"),
    ("migrate", "--database-url", "sqlite+aiosqlite:///{missing}/slogov.db"),
    ("migrate", "--database-url", "mysql://nowhere/slogov"),
]


def _failing(args: tuple[str, ...], tmp_path: Path) -> list[str]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'ok.db'}"
    args = [a.format(missing=tmp_path / "missing") for a in args]
    return args if "--database-url" in args else [*args, "--database-url", url]


@pytest.mark.parametrize("args", ERRORS)
def test_every_cli_error_is_one_line_and_exit_2(args, tmp_path):
    """Not a traceback, and not exit 1 (which `audit verify` and `gate` give meanings of their own)."""
    result = runner.invoke(app, _failing(args, tmp_path))
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.output


class _SlowToStop(logging.Handler):
    """Holds aiosqlite's worker thread as it is about to stop a connection (its debug log
    names each call it runs), so a command's event loop would close first if nothing waited."""

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.startswith("executing") and "close_and_stop" in message:
            time.sleep(0.3)


@pytest.mark.parametrize("args", ERRORS)
def test_a_failed_command_leaves_no_thread_behind(args, tmp_path, monkeypatch):
    """The threads a command started (aiosqlite's, one per connection) have ended when it
    returns, even a connection that failed to open, which stops its thread unawaited: else
    the thread's last step, on the closed loop, raised "Event loop is closed" in it, a
    traceback after the one-line error (tests/cli/test_cli.py's check above, 4 runs in 10)."""
    aiosqlite_log = logging.getLogger("aiosqlite")
    handler, level = _SlowToStop(), aiosqlite_log.level
    aiosqlite_log.setLevel(logging.DEBUG)
    aiosqlite_log.addHandler(handler)
    raised: list[BaseException] = []
    monkeypatch.setattr(threading, "excepthook", lambda hook: raised.append(hook.exc_value))
    before = set(threading.enumerate())
    try:
        result = runner.invoke(app, _failing(args, tmp_path))
        left = [t for t in threading.enumerate() if t not in before]
        for thread in left:  # so that what they would raise is seen here
            thread.join(5)
    finally:
        aiosqlite_log.removeHandler(handler)
        aiosqlite_log.setLevel(level)
    assert result.exit_code == 2, result.output
    assert left == [] and raised == [], (left, raised)


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


def test_make_demo_serves_on_the_port_it_is_given(tmp_path):
    """`make demo PORT=...`: the server listens there and its banner says so."""
    port = free_port()
    env = {**os.environ, "SLOGOV_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}"}
    # -o: the installed venv counts as up to date (no pip install inside a test).
    proc = subprocess.Popen(["make", "--no-print-directory", "-o", ".venv/.installed", "demo", f"PORT={port}"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        for _ in range(600):
            assert proc.poll() is None, proc.stderr.read()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise AssertionError("the demo server never answered on its port")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # make and the server it started
        banner = proc.communicate(timeout=30)[1]
    assert f"curl -s http://127.0.0.1:{port}/graphql" in banner
