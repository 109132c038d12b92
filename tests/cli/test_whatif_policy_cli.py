"""`slogov whatif policy FILE`: the table, the JSON, progress on stderr, and a bad file
named with its field and line (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import json

from typer.testing import CliRunner

from api.cli import app
from service.bootstrap import build
from service.config import Settings
from tests.policies.support import minute
from tests.whatif.support import APPROVAL_ONLY, burn_out

runner = CliRunner()


def _history(url: str) -> tuple[str, int]:
    async def build_it():
        container = build(Settings(database_url=url), auto_migrate=False)
        await container.startup()
        try:
            clock = await burn_out(container)
            return clock.now.isoformat(), (await container.store.head())[0]
        finally:
            await container.shutdown()
    return asyncio.run(build_it())


def test_whatif_policy_as_json_and_as_a_table(database_url, tmp_path):
    end, head = _history(database_url)
    candidate = tmp_path / "approval.yaml"
    candidate.write_text(APPROVAL_ONLY)
    span = ["--from", minute(0).isoformat(), "--to", end, "--database-url", database_url]
    result = runner.invoke(app, ["whatif", "policy", str(candidate), *span, "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["position"] == head and body["summary"]["changed"] == 1
    assert [(d["pipeline_run_id"], d["recorded"]["outcome"], d["what_if"]["outcome"]) for d in body["changed"]] == [
        ("run-1", "DENY", "REQUIRE_APPROVAL")]
    assert f"{head}/{head} events judged" in result.stderr
    table = runner.invoke(app, ["whatif", "policy", str(candidate), *span])
    assert table.exit_code == 0, table.output
    assert "run-1" in table.stdout and "DENY -> REQUIRE_APPROVAL" in table.stdout
    assert "freezes" in table.stdout and "started as recorded, not under the candidate" in table.stdout

    bad = tmp_path / "bad.yaml"
    bad.write_text("id: default\nrules:\n  - id: r\n    when: {budget_remaining_at_most: 2}\n    actions: [{type: freeze}]\n")
    refused = runner.invoke(app, ["whatif", "policy", str(bad), *span])
    assert refused.exit_code == 2
    assert f"{bad}: rules[0].when.budget_remaining_at_most (line 4)" in refused.stderr


def test_whatif_policy_shows_the_alerts_under_the_candidates_tiers(database_url, tmp_path):
    from tests.whatif.test_policy import PAGED

    end, _ = _history(database_url)
    candidate = tmp_path / "paged.yaml"
    candidate.write_text(PAGED.format(threshold=14.4))
    span = ["--from", minute(0).isoformat(), "--to", end, "--database-url", database_url]
    table = runner.invoke(app, ["whatif", "policy", str(candidate), *span])
    assert table.exit_code == 0, table.output
    assert "alert tiers of checkout-availability under the candidate" in table.stdout
    assert f"what-if   {minute(61).isoformat()}  BurnRateAlertRaised page 1h/5m over 14.4" in table.stdout
    body = json.loads(runner.invoke(app, ["whatif", "policy", str(candidate), *span, "--json"]).stdout)
    assert body["summary"]["alerts_raised"]["what_if"] == 1 and body["summary"]["alerts_raised"]["actual"] == 3
    assert body["alerts"][0]["what_if"][0]["at"] == minute(61).isoformat()


def test_a_candidate_tier_longer_than_an_objectives_window_is_named_with_its_line(database_url, tmp_path):
    """A tier whose long window outgrows the 30-day objective the candidate governs: exit 2,
    one line naming the file, the field and its line, as formalizing would refuse it."""
    from tests.whatif.test_policy import LONG_TICKET

    end, head = _history(database_url)
    candidate = tmp_path / "long.yaml"
    candidate.write_text(LONG_TICKET.replace("10d", "31d"))
    result = runner.invoke(app, ["whatif", "policy", str(candidate), "--from", minute(0).isoformat(), "--to", end,
                                 "--database-url", database_url])
    assert result.exit_code == 2, result.output
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"error (BAD_USER_INPUT): {candidate}: alert_tiers[1].long_window (line 6): "), line
    assert "31d is longer than the objective's window (30d)" in line and "whatif:" not in result.stderr
