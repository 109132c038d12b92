"""`slogov gate` against a real `slogov serve` process on the test database (SQLite and
PostgreSQL): exit 0 on ALLOW, 1 on DENY, 3 on REQUIRE_APPROVAL, 2 without an answer."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.auth import create_token
from api.cli import app, default_pipeline_run
from service import gate as gate_service
from tests.policies.support import LEADERSHIP, OID, SERVICE, active_objective, observe
from tests.service.test_two_servers import free_port, wait_ready

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()
CAREFUL = {"id": "careful", "rules": [{"id": "low", "when": {"budget_remaining_at_most": 0.5},
                                       "actions": [{"type": "require_approval", "role": "sre"}]}]}


@pytest.fixture
async def server(container, settings):
    """A frozen `payments` (budget exhausted), a `ledger` needing approval, tokens, and a server."""
    await active_objective(container)
    await observe(container, 0, 60, 1000, 1000)
    await observe(container, 60, 70, 0, 1000)
    await gate_service.adopt_policy(container, "vp", LEADERSHIP, CAREFUL)
    await active_objective(container, oid="ledger-availability", journey_id="billing", services=("ledger",),
                           policy_id="careful", policy_version=1)
    await observe(container, 0, 10, 1000, 1000, oid="ledger-availability")
    await observe(container, 10, 11, 994, 1000, oid="ledger-availability")
    now = datetime.now(timezone.utc)
    tokens = {role: (await create_token(container.engines.write, f"{role}-bot", [role], now))[1]
              for role in ("ci", "auditor", "sre")}
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SLOGOV_DATABASE_URL": settings.database_url}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "api.cli", "serve", "--port", str(port), cwd=ROOT, env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        await wait_ready(url, proc)
        yield url, tokens
    finally:
        if proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), 10)
            except asyncio.TimeoutError:
                proc.kill()


def gate(url: str, token: str | None, *args: str, env: dict | None = None):
    base = {"SLOGOV_URL": url, "CI_PIPELINE_ID": "", "GITHUB_RUN_ID": ""}
    if token is not None:
        base["SLOGOV_TOKEN"] = token
    return runner.invoke(app, ["gate", *args], env={**base, **(env or {})})


async def test_gate_exit_codes_and_output(server, container):
    url, tokens = server
    ci = tokens["ci"]

    denied = gate(url, ci, "--service", SERVICE, "--change-type", "feature", "--version", "abc123",
                  "--pipeline-run", "run-1")
    assert denied.exit_code == 1, denied.output
    assert denied.stdout.startswith("DENY: feature abc123 of payments (pipeline run run-1)")
    assert "frozen" in denied.stdout and "freeze-when-exhausted" in denied.stdout and OID in denied.stdout

    allowed = gate(url, ci, "--service", SERVICE, "--change-type", "rollback", "--version", "abc122",
                   "--pipeline-run", "run-2", "--json")
    assert allowed.exit_code == 0, allowed.output
    decision = json.loads(allowed.stdout)
    assert decision["outcome"] == "ALLOW" and decision["id"] == "run-2" and decision["changeType"] == "ROLLBACK"
    assert decision["objectives"] == [OID] and decision["freezes"] == [f"{OID}/freeze-1"]
    assert decision["actor"] == "ci-bot" and not decision["replayed"]

    # The same pipeline run again: the first answer, nothing appended.
    head = (await container.store.head())[0]
    again = gate(url, ci, "--service", SERVICE, "--change-type", "reliability-fix", "--pipeline-run", "run-1",
                 "--json")
    assert again.exit_code == 1 and json.loads(again.stdout)["replayed"]
    assert json.loads(again.stdout)["version"] == "abc123"
    assert (await container.store.head())[0] == head

    approval = gate(url, ci, "--service", "ledger", "--change-type", "FEATURE", "--pipeline-run", "run-3")
    assert approval.exit_code == 3, approval.output
    assert approval.stdout.startswith("REQUIRE_APPROVAL") and "approval by sre" in approval.stdout
    assert "slogov gate approve --pipeline-run run-3" in approval.stdout

    # Approval: ci may not (the rule names sre; nothing appended), sre may, once.
    head = (await container.store.head())[0]
    refused = gate(url, ci, "approve", "--pipeline-run", "run-3", "--reason", "looks fine")
    assert refused.exit_code == 2 and "FORBIDDEN" in refused.stderr and refused.stdout == ""
    unknown = gate(url, tokens["sre"], "approve", "--pipeline-run", "run-404", "--reason", "looks fine")
    assert unknown.exit_code == 2 and "NOT_FOUND" in unknown.stderr
    assert (await container.store.head())[0] == head
    approved = gate(url, tokens["sre"], "approve", "--pipeline-run", "run-3", "--reason", "canary is clean")
    assert approved.exit_code == 0, approved.output
    assert "APPROVED by sre-bot (sre)" in approved.stdout and "canary is clean" in approved.stdout
    twice = gate(url, tokens["sre"], "approve", "--pipeline-run", "run-3", "--reason", "again")
    assert twice.exit_code == 2 and "CONFLICT" in twice.stderr
    # The gate asked again for the approved run: exit 0, saying so; the decision itself is unchanged.
    go = gate(url, ci, "--service", "ledger", "--change-type", "FEATURE", "--pipeline-run", "run-3")
    assert go.exit_code == 0, go.output
    assert go.stdout.startswith("REQUIRE_APPROVAL") and "APPROVED by sre-bot" in go.stdout
    # Another run of the same change still needs its own approval.
    other_run = gate(url, ci, "--service", "ledger", "--change-type", "FEATURE", "--pipeline-run", "run-3b")
    assert other_run.exit_code == 3, other_run.output

    # A typo of the frozen service: not waved through (exit 3), with the name meant; the
    # version and run id come from the CI's environment.
    other = gate(url, ci, "--service", "payment", "--change-type", "feature", "--json",
                 env={"CI_PIPELINE_ID": "4242", "GIT_SHA": "deadbeef"})
    assert other.exit_code == 3, other.output
    assert json.loads(other.stdout)["id"] == "4242.payment.feature"
    assert json.loads(other.stdout)["version"] == "deadbeef"
    assert json.loads(other.stdout)["suggestions"] == ["payments"]
    typo = gate(url, ci, "--service", "payment", "--change-type", "feature", "--pipeline-run", "run-typo")
    assert typo.exit_code == 3 and "no objective covers this service" in typo.stdout
    assert "did you mean payments?" in typo.stdout

    # Every recorded decision replays to the same answer.
    for run in ("run-1", "run-2", "run-3", "run-3b", "4242.payment.feature", "run-typo"):
        assert (await gate_service.replay_deploy_decision(container, run)).matches


async def test_gate_without_an_answer_exits_2(server, container):
    url, tokens = server
    head = (await container.store.head())[0]
    cases = {
        "UNAUTHENTICATED": gate(url, "slg_not-a-token", "--service", SERVICE, "--change-type", "feature"),
        "FORBIDDEN": gate(url, tokens["auditor"], "--service", SERVICE, "--change-type", "feature"),
        "BAD_USER_INPUT": gate(url, tokens["ci"], "--service", SERVICE, "--change-type", "yolo"),
        "no token": gate(url, None, "--service", SERVICE, "--change-type", "feature"),
        "--service and --change-type are required": gate(url, tokens["ci"], "--service", SERVICE),
        "could not reach": gate(f"http://127.0.0.1:{free_port()}", tokens["ci"], "--service", SERVICE,
                                "--change-type", "feature"),
    }
    for needle, result in cases.items():
        assert result.exit_code == 2, (needle, result.output)
        assert result.stdout == "" and "no answer" in result.stderr and needle in result.stderr, result.stderr
    assert (await container.store.head())[0] == head


async def test_gate_as_a_pipeline_step_runs(server):
    """The installed command, as a CI shell step runs it: real process, real exit status."""
    url, tokens = server
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SLOGOV_URL": url, "SLOGOV_TOKEN": tokens["ci"],
           "CI_PIPELINE_ID": "777", "GITHUB_RUN_ID": ""}
    step = [sys.executable, "-m", "api.cli", "gate", "--service", SERVICE, "--change-type", "feature",
            "--version", "v2"]
    first = await asyncio.to_thread(subprocess.run, step, env=env, cwd=ROOT, capture_output=True, text=True,
                                    timeout=60)
    assert first.returncode == 1, first.stderr
    assert "DENY" in first.stdout and "pipeline run 777.payments.feature" in first.stdout
    fixed = await asyncio.to_thread(subprocess.run, [*step[:-3], "rollback", "--version", "v1"], env=env, cwd=ROOT,
                                    capture_output=True, text=True, timeout=60)
    assert fixed.returncode == 0, fixed.stderr


def test_default_pipeline_run():
    assert default_pipeline_run("api", "feature", {"CI_PIPELINE_ID": "12"}) == "12.api.feature"
    assert default_pipeline_run("api", "rollback", {"GITHUB_RUN_ID": "9", "GITHUB_RUN_ATTEMPT": "2"}) == \
        "9.2.api.rollback"
    assert default_pipeline_run("a b", "feature", {"BUILD_ID": "x/y"}) == "x-y.a-b.feature"
    assert default_pipeline_run("api", "feature", {}).startswith("run-")
