"""`slogov audit export`: JSON Lines that verify on their own with the documented verifier."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from api.cli import app
from eventstore.export import export_lines
from tests.graphql.conftest import negotiating_objective

from .support import tamper

ROOT = Path(__file__).resolve().parents[2]
VERIFIER = ROOT / "docs" / "verify_export.py"
DOC = ROOT / "docs" / "audit-export.md"
KEYS = {"position", "event_id", "stream_id", "stream_version", "type", "schema_version", "recorded_at", "data",
        "metadata", "hash", "prev_hash"}


def verify(path: Path, *prev_hash: str) -> subprocess.CompletedProcess:
    """Run the documented verifier exactly as an auditor would: a separate Python, the file as written."""
    return subprocess.run([sys.executable, str(VERIFIER), str(path), *prev_hash], capture_output=True, text=True,
                          cwd=path.parent)


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


async def export(container, since: int = 1, until: int | None = None) -> list[str]:
    return [line async for line in export_lines(container.engines, since, until, batch=3)]


def test_the_document_shows_exactly_the_verifier():
    text = DOC.read_text()
    code = VERIFIER.read_text()
    assert "```python\n" + code + "```" in text
    # Standard library only, but for the signature check of checkpoints (an Ed25519 library).
    imports = [l.strip() for l in code.splitlines() if l.strip().startswith(("import ", "from "))]
    assert imports == ["import argparse, hashlib, json",
                       "from cryptography.exceptions import InvalidSignature  # pip install cryptography",
                       "from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey"]
    assert not code.startswith(("from cryptography", "import cryptography"))


async def test_an_export_verifies_and_tampering_does_not(api, tmp_path):
    await negotiating_objective(api, "lat", "checkout")
    await api.mutate("endorseProposal", {"objectiveId": "lat", "proposalId": "p1", "party": "SRE",
                                         "comment": "ünïcode ✓ and \"quotes\""}, role="sre")
    head, head_hash = await api.container.store.head()
    lines = await export(api.container)
    assert len(lines) == head
    first = json.loads(lines[0])
    assert set(first) == KEYS and first["position"] == 1 and first["prev_hash"] == "0" * 64
    last = json.loads(lines[-1])
    assert last["hash"] == head_hash and last["position"] == head
    # The lines themselves are canonical JSON.
    assert all(l == json.dumps(json.loads(l), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
               for l in lines)

    ok = verify(write(tmp_path / "log.jsonl", lines))
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.split() == [str(head), str(head), head_hash]

    # A partial export chains onto the hash of the event before it.
    part = await export(api.container, 3, 5)
    assert [json.loads(l)["position"] for l in part] == [3, 4, 5]
    assert json.loads(part[0])["prev_hash"] == json.loads(lines[1])["hash"]
    ok = verify(write(tmp_path / "part.jsonl", part), json.loads(lines[1])["hash"])
    assert ok.returncode == 0 and ok.stdout.split() == ["3", "5", json.loads(lines[4])["hash"]]
    assert verify(tmp_path / "part.jsonl").returncode != 0  # not from the genesis

    # Tampered exports: an edited value, a removed line, two lines swapped, a forged hash.
    edited = json.loads(lines[2])
    edited["data"]["name"] = "something else" if "name" in edited["data"] else "x"
    tampered = {
        "edited": (lines[:2] + [json.dumps(edited)] + lines[3:], 3),
        "removed": (lines[:3] + lines[4:], 5),
        "swapped": (lines[:1] + [lines[2], lines[1]] + lines[3:], 3),
    }
    forged = dict(edited)
    forged["hash"] = "f" * 64
    tampered["forged"] = (lines[:2] + [json.dumps(forged)] + lines[3:], 3)
    for name, (bad, position) in tampered.items():
        result = verify(write(tmp_path / f"{name}.jsonl", bad))
        assert result.returncode != 0, name
        assert f"ValueError: position {position}:" in result.stderr, (name, result.stderr)

    # Tampering with the stored log (as a superuser could) shows in a fresh export.
    await tamper(api.container, "UPDATE events SET metadata = replace(metadata, 'sre-person', 'someone-else') "
                                "WHERE position = :p", {"p": head})
    result = verify(write(tmp_path / "after.jsonl", await export(api.container)))
    assert result.returncode != 0 and f"position {head}:" in result.stderr


def test_the_cli_exports_by_position_and_time(database_url, tmp_path):
    runner = CliRunner()

    def run(*args: str):
        result = runner.invoke(app, [*args, "--database-url", database_url])
        assert result.exit_code == 0, result.output
        return result

    run("demo")
    verified = json.loads(run("audit", "verify").stdout)
    head, head_hash = verified["head_position"], verified["head_hash"]
    assert head > 10

    out = tmp_path / "all.jsonl"
    run("audit", "export", "--output", str(out))
    ok = verify(out)
    assert ok.returncode == 0 and ok.stdout.split() == [str(head), str(head), head_hash]

    stdout = run("audit", "export", "--since", "5", "--until", "9").stdout
    lines = [json.loads(l) for l in stdout.splitlines() if l.startswith("{")]
    assert [l["position"] for l in lines] == [5, 6, 7, 8, 9]

    all_lines = [json.loads(l) for l in out.read_text().splitlines()]
    at = all_lines[4]["recorded_at"]
    by_time = [json.loads(l) for l in run("audit", "export", "--since", at).stdout.splitlines() if l.startswith("{")]
    assert by_time[0]["recorded_at"] >= at and by_time[-1]["position"] == head
    assert by_time[0]["position"] == min(l["position"] for l in all_lines if l["recorded_at"] >= at)
    until = [json.loads(l) for l in run("audit", "export", "--until", at).stdout.splitlines() if l.startswith("{")]
    assert until[0]["position"] == 1 and until[-1]["position"] == max(
        l["position"] for l in all_lines if l["recorded_at"] <= at)

    bad = runner.invoke(app, ["audit", "export", "--since", "yesterday", "--database-url", database_url])
    assert bad.exit_code != 0
