"""`slogov serve` stops promptly and cleanly (exit 0) on SIGTERM, with its own rounds
running (the checkpoint schedule, the freshness probe every 0.2 s) and its worker process
for heavy reads started by a report, a replay and a chain check; the worker ends with it,
and the checkpoint key is where SLOGOV_CHECKPOINT_KEY says, not in the working directory.
One server on SQLite: what is tested is the process, not the database. (SIGINT takes the
same path: uvicorn handles both alike, and `serve` maps both to exit 0.)"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
STOP_WITHIN = 15.0  # seconds from the signal to the exit (uvicorn's own drain is 10 s at most)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def gone(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status")
    return not status.exists() or "zombie" in status.read_text()


def test_serve_exits_cleanly_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "SLOGOV_CHECKPOINT_KEY": str(tmp_path / "checkpoint.key"),
           "SLOGOV_FRESHNESS_PROBE_SECONDS": "0.2", "PYTHONPATH": str(ROOT)}
    args = [sys.executable, "-m", "api.cli", "serve", "--port", str(port), "--demo",  # tokens to ask with
            "--database-url", f"sqlite+aiosqlite:///{tmp_path / 'slogov.db'}"]
    log = (tmp_path / "server.log").open("w+")
    server = subprocess.Popen(args, cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, (tmp_path / "server.log").read_text()
            try:
                if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server never became ready"
            time.sleep(0.1)
        tokens = {line.split()[-2]: line.split()[-1] for line in (tmp_path / "server.log").read_text().splitlines()
                  if line.strip().split()[1:2] and line.split()[-2].startswith("demo-")}
        auth = {"Authorization": f"Bearer {tokens['demo-sre']}"}
        asked = httpx.post(url + "/gate/evaluate", headers=auth, timeout=30, json={
            "service": "checkout-api", "changeType": "FEATURE", "version": "1", "pipelineRunId": "run-1"})
        assert asked.status_code == 200, asked.text
        answer = httpx.post(url + "/graphql", headers=auth, timeout=60, json={"query": (
            '{ leadershipReport(quarter: "2026-Q4") { quarter } replayDeployDecision(id: "run-1") { matches } }')})
        assert answer.json() == {"data": {"leadershipReport": {"quarter": "2026-Q4"},
                                          "replayDeployDecision": {"matches": True}}}
        checked = httpx.post(url + "/graphql", headers={"Authorization": f"Bearer {tokens['demo-auditor']}"},
                             timeout=60, json={"query": "{ auditIntegrity { ok } }"})
        assert checked.json() == {"data": {"auditIntegrity": {"ok": True}}}
        worker = children(server.pid)
        assert worker, "the report ran in the server's worker process"
        time.sleep(0.5)  # a few probe rounds
        sent = time.monotonic()
        server.send_signal(signal.SIGTERM)
        code = server.wait(timeout=STOP_WITHIN + 5)
        took = time.monotonic() - sent
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    output = (tmp_path / "server.log").read_text()
    assert code == 0, output
    assert took < STOP_WITHIN, output
    assert "Application shutdown complete" in output
    assert "Traceback" not in output
    assert (tmp_path / "checkpoint.key").exists() and not (tmp_path / "slogov-checkpoint.key").exists()
    for pid in worker:
        for _ in range(50):
            if gone(pid):
                break
            time.sleep(0.1)
        assert gone(pid), f"process {pid} outlived the server"
