"""The README's walkthrough "From your Prometheus to loaded rules", run as written.

The commands are read from the README section itself: every `sh` block, in order, run
by bash (`set -euo pipefail`) with the installed `slogov` on PATH, in the directory of
a real Prometheus's configuration; the `yaml` block is merged into that configuration
between the blocks before it and those after it, where the reader makes the edit, and
the last block (which looks at the loaded rules) runs once Prometheus has evaluated them,
as the reader is told to wait. The test stands in for the section's three `export`
lines only (its own Prometheus, a database of its own, a free port). The Prometheus holds two days of request counters
up to the current minute, written with `promtool tsdb create-blocks-from openmetrics`,
so the source check, the baseline, collection and the generated rules all read real
data. At the end the rules Prometheus loaded are asked for over `/api/v1/rules`.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
import yaml

from .harness import Counter, PrometheusServer, binary, create_blocks, cumulative, free_port, openmetrics

ROOT = Path(__file__).resolve().parents[2]
HEADING = "## From your Prometheus to loaded rules"
SETTINGS = ("PROM", "SLOGOV_DATABASE_URL", "PORT")  # the lines the reader changes, and the test too
OBJECTIVE = "checkout-availability"
MINUTES = 2 * 1440


@dataclass(frozen=True)
class Walkthrough:
    before: str  # the sh blocks before the prometheus.yml edit
    edit: dict  # the yaml block
    after: list[str]  # the sh blocks after it, one by one


def walkthrough() -> Walkthrough:
    text = (ROOT / "README.md").read_text()
    start = text.index(HEADING + "\n")
    end = text.find("\n## ", start + len(HEADING))
    section = text[start:end if end >= 0 else len(text)]
    blocks = re.findall(r"^```(\w*)\n(.*?)^```$", section, re.M | re.S)
    [at] = [i for i, (lang, _) in enumerate(blocks) if lang == "yaml"]
    before = "".join(body for lang, body in blocks[:at] if lang == "sh")
    after = [body for lang, body in blocks[at + 1:] if lang == "sh"]
    for name in SETTINGS:
        setting = re.compile(rf"^export {name}=\S+.*\n", re.M)
        assert len(setting.findall(before)) == 1, f"the walkthrough sets {name} once, in its first block"
        before = setting.sub("", before)
    return Walkthrough(before, yaml.safe_load(blocks[at][1]), after)


def history(end_s: int) -> tuple[list[Counter], list[int], list[int]]:
    """Two days of per-minute counters ending at `end_s`: checkout's requests, about 0.5%
    of them failing, and another job's, which the SLI's selectors must leave out."""
    rng = random.Random(13)
    start = end_s - 60 * MINUTES
    ok = [rng.randint(900, 1100) for _ in range(MINUTES)]
    failed = [rng.randint(0, 10) for _ in range(MINUTES)]
    other = [rng.randint(0, 50) for _ in range(MINUTES)]
    series = [
        Counter("http_requests", {"job": "checkout", "code": "200"}, cumulative(start, ok)),
        Counter("http_requests", {"job": "checkout", "code": "500"}, cumulative(start, failed)),
        Counter("http_requests", {"job": "search", "code": "500"}, cumulative(start, other)),
    ]
    return series, ok, failed


def run(script: str, cwd: Path, env: dict, name: str) -> tuple[subprocess.Popen, str, str]:
    """`script` in bash, in a session of its own (what it leaves running is found by it)."""
    out, err = cwd / f"{name}.out", cwd / f"{name}.err"
    with out.open("w") as o, err.open("w") as e:
        process = subprocess.Popen([binary("bash"), "-euo", "pipefail", "-c", script], cwd=cwd, env=env,
                                   stdout=o, stderr=e, start_new_session=True)
        try:
            process.wait(timeout=180)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process, out.read_text(), err.read_text()


def session_members(sid: int) -> list[int]:
    """Live processes of session `sid` (Linux: /proc/PID/stat's sixth field; zombies left out)."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid and fields[0] != "Z":
            pids.append(int(stat.parent.name))
    return pids


def stop_session(sid: int) -> None:
    """Stop what the walkthrough left running (its server), by the session it started."""
    for sig, wait in ((signal.SIGTERM, 20.0), (signal.SIGKILL, 5.0)):
        members = session_members(sid)
        if not members:
            return
        for pid in members:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + wait
        while session_members(sid) and time.monotonic() < deadline:
            time.sleep(0.1)


def get(url: str, path: str, **params: str) -> dict:
    query = f"?{urllib.parse.urlencode(params)}" if params else ""
    with urllib.request.urlopen(f"{url}{path}{query}", timeout=10) as r:
        return json.load(r)


def answers(stdout: str) -> dict[str, list[dict]]:
    """The GraphQL answers the walkthrough printed, by field; none may be an error."""
    out: dict[str, list[dict]] = {}
    for line in stdout.splitlines():
        if line.startswith('{"data"') or line.startswith('{"errors"'):
            body = json.loads(line)
            assert "errors" not in body, line
            for field, value in body["data"].items():
                out.setdefault(field, []).append(value)
    return out


def loaded_rules(url: str, deadline_s: float = 20.0) -> list[dict]:
    """The objective's rules once Prometheus has evaluated each of them."""
    deadline = time.monotonic() + deadline_s
    while True:
        groups = get(url, "/api/v1/rules")["data"]["groups"]
        rules = [r for g in groups for r in g["rules"]]
        if rules and all(not r["lastEvaluation"].startswith("0001") for r in rules):
            return groups
        assert time.monotonic() < deadline, f"Prometheus did not evaluate the rules: {groups}"
        time.sleep(0.2)


def test_the_readme_walkthrough_runs_from_a_prometheus_to_loaded_rules(tmp_path, database_url):
    steps = walkthrough()
    assert steps.edit == {"rule_files": ["slogov-rules.yml"]}
    for command in ("slogov sources define", "slogov sources sli", "slogov baseline", "slogov collect --once",
                    "slogov monitoring rules -o slogov-rules.yml",
                    "promtool check rules slogov-rules.yml"):
        assert command in steps.before, command
    [reload, check] = steps.after  # the reader waits for Prometheus's next rule evaluation between them
    assert "/-/reload" in reload and "/api/v1/rules" in check

    end_s = int(time.time()) // 60 * 60  # the history ends at the current minute's start
    series, ok, failed = history(end_s)
    create_blocks(openmetrics(series), tmp_path / "prometheus")
    bin_dir = Path(sys.executable).parent
    if not (bin_dir / "slogov").exists():
        pytest.fail(f"no slogov beside {sys.executable}: install the project (pip install -e .)")
    binary("curl")
    with PrometheusServer(tmp_path / "prometheus", lifecycle=True) as prom:
        assert prom.config == tmp_path / "prometheus.yml"
        env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
               "PROM": prom.url, "SLOGOV_DATABASE_URL": database_url, "PORT": str(free_port())}
        first = None
        try:
            first, out, err = run(steps.before, tmp_path, env, "before")
            assert first.returncode == 0, f"{out}\n{err}\n{(tmp_path / 'slogov-serve.log').read_text()}"
            config = yaml.safe_load(prom.config.read_text())
            prom.config.write_text(yaml.safe_dump({**config, **steps.edit}))
            second, out_after, err_after = run(reload, tmp_path, env, "reload")
            assert second.returncode == 0, f"{out_after}\n{err_after}"
            [group] = loaded_rules(prom.url)
            third, out_check, err_check = run(check, tmp_path, env, "check")
            assert third.returncode == 0, f"{out_check}\n{err_check}"
        finally:
            if first is not None:
                stop_session(first.pid)

        # Every GraphQL answer, none an error; the negotiation had the baseline in view.
        got = answers(out)
        assert [p["objective"]["openProposal"]["baselineOutcome"]["exhaustedAtEnd"] for p in got["proposeTarget"]] == [True]
        revised = got["reviseProposal"][0]["objective"]["openProposal"]
        assert revised["target"] == 0.99 and revised["baselineOutcome"]["exhaustedAtEnd"] is False
        assert [e["objective"]["status"] for e in got["endorseProposal"]] == ["NEGOTIATING"] * 3 + ["AGREED"]
        assert got["formalizeAgreement"] == [{"objective": {"status": "ACTIVE", "informational": False}}]
        [collection] = got["collectionState"]
        assert (collection["source"], collection["collected"], collection["stale"], collection["fault"]) == ("prom", True, False, None)

        # The baseline counted exactly what Prometheus holds for checkout (not the other job).
        found = re.search(r"baseline of checkout-availability \[(\S+), (\S+)\): \S+ good \((\d+)/(\d+)\)", out)
        assert found, out
        first_s, last_s = (int(datetime.fromisoformat(t.replace("Z", "+00:00")).timestamp()) for t in found.groups()[:2])
        minutes = range(max(0, MINUTES - (end_s - first_s) // 60), min(MINUTES, MINUTES - (end_s - last_s) // 60))
        assert 0 < len(minutes) <= MINUTES and (int(found[3]), int(found[4])) == (
            sum(ok[m] for m in minutes), sum(ok[m] + failed[m] for m in minutes))
        assert datetime.fromisoformat(collection["collectedUntil"].replace("Z", "+00:00")).timestamp() >= last_s
        assert "EXHAUSTED (breached as soon as agreed)" in out and "collect: 1 objectives" in err and "faults: none" in err
        rules_file = (tmp_path / "slogov-rules.yml").read_text()
        assert rules_file.startswith("# Generated by slogov from the log at position")

        # Prometheus loaded the group and evaluated every rule without an error; what the
        # reader's commands print says so.
        assert out_check.count('"health": "ok"') == 9 and "unknown" not in out_check and '"err"' not in out_check
        assert group["name"] == f"slogov-checkout-{OBJECTIVE}" and group["file"].endswith("slogov-rules.yml")
        assert {r["health"] for r in group["rules"]} == {"ok"}, group["rules"]
        recorded = [r["name"] for r in group["rules"] if r["type"] == "recording"]
        assert recorded == [f"slogov:sli_error:ratio_rate{w}" for w in ("5m", "30m", "1h", "6h", "3d")] + ["slogov:objective:target"]
        alerts = [r for r in group["rules"] if r["type"] == "alerting"]
        assert [(a["name"], a["labels"]["slo_tier"], a["state"]) for a in alerts] == [
            ("ErrorBudgetBurnPage", "page_1h_5m", "inactive"), ("ErrorBudgetBurnPage", "page_6h_30m", "inactive"),
            ("ErrorBudgetBurnTicket", "ticket_3d_6h", "inactive")]
        assert all(a["labels"]["slo_objective"] == OBJECTIVE and a["labels"]["slo_owner"] == "sam" for a in alerts)
        assert alerts[0]["annotations"]["runbook_url"] == "https://wiki.example/rb/checkout-fast-burn"

        # A recorded error ratio holds the written one: checkout's last hour (up to the
        # window's edges, which rate() extrapolates), never the other job's failures.
        [sample] = json.loads(out_check.splitlines()[-1])["data"]["result"]
        assert sample["metric"]["__name__"] == "slogov:sli_error:ratio_rate1h"
        last_hour = range(MINUTES - 60, MINUTES)
        written = sum(failed[m] for m in last_hour) / sum(ok[m] + failed[m] for m in last_hour)
        assert abs(float(sample["value"][1]) - written) < 0.001, (sample, written)
        [target] = get(prom.url, "/api/v1/query", query="slogov:objective:target")["data"]["result"]
        assert float(target["value"][1]) == 0.99
