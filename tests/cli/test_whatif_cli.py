"""`slogov whatif target`: the table a person reads and the JSON a script reads, from the
recorded history of a database the CLI opens itself (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

from typer.testing import CliRunner

from api.cli import app
from service.bootstrap import build
from service.config import Settings
from tests.budgets.support import T0, minute
from tests.budgets.test_batching import adopt_one_day, fixed_clock, governed_objective, send

runner = CliRunner()


def _history(url: str) -> tuple[str, int]:
    """99% over a day, an hour at 0.5% errors; returns the objective and the log head."""
    async def build_it():
        container = build(Settings(database_url=url), auto_migrate=False)
        await container.startup()
        try:
            fixed_clock(container)
            await adopt_one_day(container)
            oid = await governed_objective(container, "c-", target=0.99, days=1, policy_id="one-day")
            history = [(m, m + 1, 995 if 60 <= m < 120 else 1000, 1000) for m in range(240)]
            await send(container, oid, history, [60, 120, 180])
            return oid, (await container.store.head())[0]
        finally:
            await container.shutdown()
    return asyncio.run(build_it())


def test_whatif_target_as_json_as_a_table_and_as_a_page(database_url, tmp_path):
    oid, head = _history(database_url)
    span = ["--from", T0.isoformat(), "--to", (T0 + timedelta(hours=4)).isoformat()]
    result = runner.invoke(app, ["whatif", "target", oid, "--target", "0.999", *span, "--json",
                                 "--database-url", database_url])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["position"] == head
    assert body["candidate"]["target"] == 0.999
    assert body["actual"]["exhaustions"] == [] and body["what_if"]["exhaustions"] == [minute(75).isoformat()]
    assert abs(body["actual"]["budget_spent"] - (300 / 240_000) / 0.01) < 1e-12

    table = runner.invoke(app, ["whatif", "target", oid, "--target", "0.999", *span, "--database-url", database_url])
    assert table.exit_code == 0, table.output
    assert f"log position {head}" in table.stdout
    assert "99.9000%" in table.stdout and "99.0000%" in table.stdout
    assert f"  {minute(75).isoformat()}  BudgetExhausted" in table.stdout

    page = tmp_path / "whatif.html"
    drawn = runner.invoke(app, ["whatif", "target", oid, "--target", "0.999", *span, "--html", str(page), "--json",
                                "--database-url", database_url])
    assert drawn.exit_code == 0, drawn.output
    html = page.read_text()
    # the budget under both (the report's burn-down chart) and the attainment under both
    assert html.count('class="burndown"') == 2 and 'class="lines"' in html
    assert html.count('class="series"') == 2 and "What-if: c-obj at 99.9%" in html
    assert "series" not in json.loads(drawn.stdout)["what_if"]  # the chart's data stays in the page

    quarter = runner.invoke(app, ["whatif", "target", oid, "--quarter", "2025-Q1", "--window", "calendar_month",
                                  "--tier", "page:1h:5m:0.4", "--json", "--database-url", database_url])
    assert quarter.exit_code == 0, quarter.output
    body = json.loads(quarter.stdout)
    assert body["candidate"]["window"] == {"kind": "calendar_month"}
    # 0.5% errors burn 99% at 0.5: the one candidate tier pages for the slow hour, the
    # recorded (default) tiers never did.
    assert [t["long_window"] for t in body["what_if"]["transitions"] if t["type"] == "BurnRateAlertRaised"] == ["1h"]
    assert body["actual"]["transitions"] == []


def test_whatif_target_takes_candidate_tiers_from_a_file_or_a_spec(database_url, tmp_path):
    oid, _ = _history(database_url)
    span = ["--from", T0.isoformat(), "--to", (T0 + timedelta(hours=4)).isoformat(), "--json",
            "--database-url", database_url]
    policy = tmp_path / "policy.yaml"  # a policy file's alert_tiers, as an agreement would carry them
    policy.write_text("id: x\nalert_tiers:\n  - {severity: page, long_window: 1h, short_window: 5m, threshold: 0.31}\n"
                      "  - {severity: ticket, long_window: 6h, short_window: 30m, threshold: 0.1}\nrules: []\n")
    listed = tmp_path / "tiers.json"
    listed.write_text(json.dumps([{"severity": "page", "long_window": "1h", "short_window": "5m", "threshold": 0.31},
                                  {"severity": "ticket", "long_window": "6h", "short_window": "30m", "threshold": 0.1}]))
    answers = []
    for given in (str(policy), str(listed), "page:1h:5m:0.31, ticket:6h:30m:0.1"):
        result = runner.invoke(app, ["whatif", "target", oid, "--tiers", given, *span])
        assert result.exit_code == 0, (given, result.output)
        answers.append(json.loads(result.stdout))
    assert answers[0] == answers[1] == answers[2]
    body = answers[0]
    assert [t["severity"] for t in body["candidate"]["tiers"]] == ["page", "ticket"]
    raised = [(t["at"], t["severity"]) for t in body["what_if"]["transitions"] if t["type"] == "BurnRateAlertRaised"]
    assert (minute(98).isoformat(), "page") in raised and any(s == "ticket" for _, s in raised)
    assert body["actual"]["transitions"] == []

    bad = tmp_path / "bad.yaml"
    bad.write_text("alert_tiers: {severity: page}\n")
    for given, says in ((str(bad), "alert_tiers"), ("page:1h:5m", "SEVERITY:LONG:SHORT:THRESHOLD"),
                        ("no-such-file.yaml", "no file"), ("page:1h:5m:-1", "threshold: a positive burn rate"),
                        ("page:3d:6h:1", "tiers[0].long_window")):
        refused = runner.invoke(app, ["whatif", "target", oid, "--tiers", given, *span])
        assert refused.exit_code == 2, (given, refused.output)
        assert says in refused.output, (given, refused.output)
    table = runner.invoke(app, ["whatif", "target", oid, "--tiers", "page:1h:5m:0.31,ticket:6h:30m:0.1",
                                *[a for a in span if a != "--json"]])
    assert table.exit_code == 0, table.output
    assert "candidate alert tiers: page 0.31 over 1h/5m, ticket 0.1 over 6h/30m" in table.stdout
    assert f"  {minute(98).isoformat()}  BurnRateAlertRaised page 1h/5m over 0.31" in table.stdout
    page = tmp_path / "tiers.html"
    drawn = runner.invoke(app, ["whatif", "target", oid, "--tiers", "page:1h:5m:0.31", "--html", str(page), *span])
    assert drawn.exit_code == 0, drawn.output
    html = page.read_text()
    assert "Candidate alert tiers: page over 0.31 (1h/5m)." in html
    assert f"<td>{minute(98).isoformat()}</td><td>raised</td><td>page</td>" in html
    assert "<h2>Burn-rate alerts recorded</h2><p>No burn-rate alert.</p>" in html
    both = runner.invoke(app, ["whatif", "target", oid, "--tiers", "page:1h:5m:1", "--tier", "page:1h:5m:1", *span])
    assert both.exit_code == 2 and "not both" in both.output


def test_whatif_target_refuses_bad_input_with_exit_2(database_url):
    oid, _ = _history(database_url)
    span = ["--from", T0.isoformat(), "--to", (T0 + timedelta(hours=4)).isoformat()]
    for args, says in ((["--target", "99.9", *span], "BAD_USER_INPUT"),
                       (["--from", "yesterday", "--to", "today"], "error"),
                       (["--target", "0.9"], "--from"),
                       (["--tier", "page", *span], "--tier")):
        result = runner.invoke(app, ["whatif", "target", oid, *args, "--database-url", database_url])
        assert result.exit_code == 2, result.output
        assert says in result.output
    missing = runner.invoke(app, ["whatif", "target", "nobody", *span, "--database-url", database_url])
    assert missing.exit_code == 2 and "NOT_FOUND" in missing.output
