"""Signed checkpoints: what the hash chain alone cannot show (the newest events removed with
the head row set back, or a rewrite with every later hash recomputed), a checkpoint the
auditor keeps does, with `slogov audit verify --checkpoint` and with docs/verify_export.py."""

from __future__ import annotations

import asyncio
import json
import os
import stat
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from eventstore.export import export_lines
from eventstore.log_checkpoints import NotSigned, sign
from eventstore.signing_key import KeyFileError, create_key, load_key, public_hex
from service.checkpoints import CheckpointSchedule, checkpoint_now
from tests.graphql.conftest import negotiating_objective

from .support import rechain, rewrite_data, rows_at, stored_hash, swap, tamper, truncate

ROOT = Path(__file__).resolve().parents[2]
VERIFIER = ROOT / "docs" / "verify_export.py"
INTEGRITY = "{ auditIntegrity { ok problem } }"
runner = CliRunner()


async def cli(api, *args: str, key: bool = True):
    """`slogov ...` against the test's database and key file (in a thread: the CLI runs its own loop)."""
    s = api.container.settings
    options = ["--database-url", s.database_url] + (["--key", s.checkpoint_key] if key else [])
    return await asyncio.to_thread(runner.invoke, app, [*args, *options])


async def cli_verify(api, checkpoints: Path) -> tuple[int, dict]:
    result = await cli(api, "audit", "verify", "--checkpoint", str(checkpoints))
    return result.exit_code, json.loads(result.stdout)


async def keep_checkpoint(api, kept: Path) -> dict:
    """`slogov audit checkpoint -o FILE`: the auditor's file grows by the new checkpoint."""
    result = await cli(api, "audit", "checkpoint", "--output", str(kept))
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


async def more_events(api, n: int) -> None:
    for i in range(n):
        await api.mutate("endorseProposal", {"objectiveId": "lat", "proposalId": "p1", "party": "SRE",
                                             "comment": f"round {i}"}, role="sre")


def script(export: Path, checkpoints: Path, public_key: str) -> subprocess.CompletedProcess:
    """The documented verifier as an auditor runs it: another Python, the file as written."""
    return subprocess.run([sys.executable, str(VERIFIER), str(export), "--checkpoints", str(checkpoints),
                           "--public-key", public_key], capture_output=True, text=True, cwd=export.parent)


async def export_to(api, path: Path) -> Path:
    path.write_text("".join([line + "\n" async for line in export_lines(api.container.engines)]), encoding="utf-8")
    return path


def problems(report: dict) -> list[str]:
    return [p["problem"] for p in report["checkpoints"]["problems"]]


async def test_a_log_that_extends_its_checkpoints_verifies_and_the_key_file_is_private(api, tmp_path):
    await negotiating_objective(api, "lat", "checkout")
    key_file = Path(api.container.settings.checkpoint_key)
    assert not key_file.exists()
    kept = tmp_path / "kept.jsonl"
    first = await keep_checkpoint(api, kept)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600  # created on first use, owner only
    head, head_hash = await api.container.store.head()
    assert (first["position"], first["head_hash"]) == (head, head_hash)
    assert first["public_key"] == public_hex(load_key(key_file))

    # Unchanged head: the same checkpoint, not a new one.
    assert await keep_checkpoint(api, kept) == first
    await more_events(api, 2)
    second = await keep_checkpoint(api, kept)
    assert second["position"] == head + 2
    code, report = await cli_verify(api, kept)
    assert code == 0 and report["ok"] and report["checkpoints"] == {"checked": 3, "hold": 3, "problems": []}
    # An auditor off the server pins the published key instead of reading the key file.
    pinned = await cli(api, "audit", "verify", "--checkpoint", str(kept), "--public-key", first["public_key"], key=False)
    assert pinned.exit_code == 0 and json.loads(pinned.stdout)["checkpoints"]["hold"] == 3
    unpinned = await asyncio.to_thread(runner.invoke, app, [
        "audit", "verify", "--checkpoint", str(kept), "--database-url", api.container.settings.database_url,
        "--key", str(tmp_path / "none.key")])
    assert unpinned.exit_code == 2 and "--public-key" in unpinned.output
    done = script(await export_to(api, tmp_path / "log.jsonl"), kept, first["public_key"])
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [f"{head + 2} {head + 2} {second['head_hash']}", "3 checkpoints hold"]


async def test_truncation_with_the_head_row_set_back_is_named_only_with_a_checkpoint(api, tmp_path):
    await negotiating_objective(api, "lat", "checkout")
    await more_events(api, 2)
    kept = tmp_path / "kept.jsonl"
    signed = await keep_checkpoint(api, kept)
    head = signed["position"]

    # Without the head row set back, the chain alone finds the cut (the head check)...
    await tamper(api.container, "DELETE FROM events WHERE position = :p", {"p": head})
    code, report = await cli_verify(api, kept)
    assert code == 1 and report["problem"] == "the log head does not match the last event"
    assert problems(report) == [f"position {head}: truncated: the log ends at position {head - 1}, before the "
                                f"checkpoint signed at {signed['at']}; events were removed from its end"]
    # ...with it set back as well, the chain verifies and only the checkpoint shows the loss.
    await truncate(api.container, keep=head - 2)
    assert (await api.ok(INTEGRITY, role="auditor"))["auditIntegrity"] == {"ok": True, "problem": None}
    plain = await cli(api, "audit", "verify")
    assert plain.exit_code == 0 and json.loads(plain.stdout)["ok"]
    code, report = await cli_verify(api, kept)
    assert code == 1 and not report["ok"] and report["problem"] is None
    assert problems(report) == [f"position {head}: truncated: the log ends at position {head - 2}, before the "
                                f"checkpoint signed at {signed['at']}; events were removed from its end"]
    done = script(await export_to(api, tmp_path / "log.jsonl"), kept, signed["public_key"])
    assert done.returncode != 0
    assert f"ValueError: position {head}: truncated: the log ends at position {head - 2}" in done.stderr

    # The signer will not vouch for it either.
    with pytest.raises(NotSigned, match=f"checkpoint at position {head}: the log head is at position {head - 2}"):
        await checkpoint_now(api.container)
    refused = await cli(api, "audit", "checkpoint")
    assert refused.exit_code == 1 and "not signed" in refused.output


@pytest.mark.parametrize("attack", ["rewrite", "reorder"])
async def test_a_rechained_rewrite_before_a_checkpoint_is_caught_only_by_the_checkpoint(api, tmp_path, attack):
    await negotiating_objective(api, "lat", "checkout")
    kept = tmp_path / "kept.jsonl"
    before = await keep_checkpoint(api, kept)  # holds: everything it covers is left alone
    await more_events(api, 3)
    target = before["position"] + 2
    after = await keep_checkpoint(api, kept)
    await more_events(api, 1)
    latest = await keep_checkpoint(api, kept)
    code, report = await cli_verify(api, kept)
    assert code == 0 and report["checkpoints"]["hold"] == 3

    # An attacker with the database and the algorithm, but not the key: edit, then recompute
    # every hash after the edit and the head row, so that the chain verifies again.
    if attack == "rewrite":
        edits = [rewrite_data((await rows_at(api.container, target))[target])]
    else:
        edits = swap(target, target + 1, await rows_at(api.container, target, target + 1))
    original = await stored_hash(api.container, target)
    await rechain(api.container, edits, start=target)
    assert await stored_hash(api.container, target) != original
    plain = await cli(api, "audit", "verify")
    assert plain.exit_code == 0 and json.loads(plain.stdout)["ok"], plain.stdout

    code, report = await cli_verify(api, kept)
    assert code == 1 and report["problem"] is None and report["checkpoints"]["hold"] == 1
    found = problems(report)
    assert [p.split(":")[0] for p in found] == [f"position {after['position']}", f"position {latest['position']}"]
    assert found[0].startswith(f"position {after['position']}: rewritten or reordered: ")
    assert f"events after position {before['position']} and at or before {after['position']} were changed" in found[0]
    done = script(await export_to(api, tmp_path / "log.jsonl"), kept, before["public_key"])
    assert done.returncode != 0
    assert f"ValueError: position {after['position']}: rewritten or reordered" in done.stderr


async def test_a_forged_checkpoint_is_refused(api, tmp_path):
    await negotiating_objective(api, "lat", "checkout")
    kept = tmp_path / "kept.jsonl"
    signed = await keep_checkpoint(api, kept)
    head = signed["position"]
    await more_events(api, 1)
    real = await keep_checkpoint(api, kept)
    public_key = signed["public_key"]

    # The attacker rewrites the log, then wants the checkpoints to match it: editing a signed
    # hash breaks its signature, and a key of their own is not the published one.
    await rechain(api.container, [rewrite_data((await rows_at(api.container, head))[head])], start=head)
    edited = {**signed, "head_hash": await stored_hash(api.container, head)}
    theirs = sign(create_key(tmp_path / "attacker.key"), real["position"],
                  await stored_hash(api.container, real["position"]), datetime.now(timezone.utc))
    for name, forged in (("edited", edited), ("own key", json.loads(theirs.line))):
        path = tmp_path / f"{name}.jsonl"
        path.write_text(json.dumps(forged) + "\n")
        code, report = await cli_verify(api, path)
        assert code == 1, name
        [problem] = problems(report)
        assert problem.startswith(f"position {forged['position']}: forged: "), problem
        done = script(await export_to(api, tmp_path / "log.jsonl"), path, public_key)
        assert done.returncode != 0
        assert f"ValueError: position {forged['position']}: forged checkpoint" in done.stderr, done.stderr

    # A line that is no checkpoint at all: one line, exit 2.
    junk = tmp_path / "junk.jsonl"
    junk.write_text('{"position": 1}\n')
    bad = await cli(api, "audit", "verify", "--checkpoint", str(junk))
    assert bad.exit_code == 2 and f"{junk} line 1: not a checkpoint" in bad.output


async def test_graphql_publishes_the_checkpoints_and_the_key(api, tmp_path):
    query = """query($after: String) { checkpointKey { publicKey publicKeyPem }
      logCheckpoints(first: 1, after: $after) { totalCount pageInfo { hasNextPage endCursor }
        edges { node { position headHash at publicKey signature line } } } }"""
    empty = await api.ok(query, {"after": None}, role="auditor")
    assert empty["checkpointKey"] is None and empty["logCheckpoints"]["totalCount"] == 0
    await negotiating_objective(api, "lat", "checkout")
    kept = tmp_path / "kept.jsonl"
    first = await keep_checkpoint(api, kept)
    await more_events(api, 1)
    second = await keep_checkpoint(api, kept)

    page = await api.ok(query, {"after": None}, role="ci")
    assert page["checkpointKey"]["publicKey"] == first["public_key"]
    assert page["checkpointKey"]["publicKeyPem"].startswith("-----BEGIN PUBLIC KEY-----")
    [edge] = page["logCheckpoints"]["edges"]
    assert edge["node"]["line"] == kept.read_text().splitlines()[0]
    assert json.loads(edge["node"]["line"]) == first
    assert {k: edge["node"][k] for k in ("position", "headHash", "at", "publicKey", "signature")} == {
        "position": first["position"], "headHash": first["head_hash"], "at": first["at"],
        "publicKey": first["public_key"], "signature": first["signature"]}
    assert page["logCheckpoints"]["totalCount"] == 2 and page["logCheckpoints"]["pageInfo"]["hasNextPage"]
    rest = await api.ok(query, {"after": page["logCheckpoints"]["pageInfo"]["endCursor"]}, role="auditor")
    assert [json.loads(e["node"]["line"]) for e in rest["logCheckpoints"]["edges"]] == [second]
    assert not rest["logCheckpoints"]["pageInfo"]["hasNextPage"]
    assert (await api.post(query, {"after": None}, role=None))["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

    # The CLI prints the same lines for an auditor to keep.
    listed = await cli(api, "audit", "checkpoints", "--after", str(first["position"]), key=False)
    assert listed.exit_code == 0 and listed.stdout.splitlines() == [kept.read_text().splitlines()[1]]


async def test_the_server_signs_on_a_schedule_while_the_head_moves(api):
    schedule = CheckpointSchedule(api.container, interval=0.05)
    schedule.start()
    try:
        async def published() -> list[dict]:
            return [json.loads(e["node"]["line"]) for e in (await api.ok(
                "{ logCheckpoints { edges { node { line } } } }"))["logCheckpoints"]["edges"]]

        async def until(condition) -> list[dict]:
            for _ in range(200):
                found = await published()
                if condition(found):
                    return found
                await asyncio.sleep(0.05)
            raise AssertionError(f"no checkpoint as expected: {found}")

        await asyncio.sleep(0.2)
        assert await published() == []  # an empty log: nothing to sign
        await negotiating_objective(api, "lat", "checkout")
        head, head_hash = await api.container.store.head()
        found = await until(lambda f: f and f[-1]["position"] == head)
        assert found[-1]["head_hash"] == head_hash
        await asyncio.sleep(0.3)  # the head did not move: no new checkpoint
        assert await published() == found
        await more_events(api, 1)
        await until(lambda f: f[-1]["position"] == head + 1)
    finally:
        await schedule.stop()


def test_the_key_file_is_created_once_and_must_stay_private(tmp_path):
    path = tmp_path / "keys" / "checkpoint.key"
    made = runner.invoke(app, ["audit", "keygen", "--key", str(path)])
    assert made.exit_code == 0 and made.stdout.strip() == public_hex(load_key(path))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = runner.invoke(app, ["audit", "keygen", "--key", str(path)])
    assert again.exit_code == 2 and "not replacing" in again.output
    assert runner.invoke(app, ["audit", "public-key", "--key", str(path)]).stdout.strip() == made.stdout.strip()
    os.chmod(path, 0o640)
    with pytest.raises(KeyFileError, match="open to other users"):
        load_key(path)
    with pytest.raises(KeyFileError, match="no signing key"):
        load_key(tmp_path / "missing.key")
