"""Against the real Prometheus, the definitions read from the log: a data source and an
SLI defined, measureBaseline, then a proposal shown beside the baseline's verdict on its target;
`slogov baseline` and `slogov collect --once` over the same log."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

from typer.testing import CliRunner

from api.cli import app
from domain import objective as od
from service.envelope import Envelope
from tests.graphql import conftest as graphql
from tests.graphql.conftest import journey_input

from .conftest import RESET_MINUTE, START

api = graphql.api  # the GraphQL fixture, found by pytest under this name

DEFINITION = {"kind": "ratio", "source": "prom", "good": 'http_requests_total{code!~"5.."}', "total": "http_requests_total"}
END = START + 60 * (RESET_MINUTE + 720)
BASELINE = """mutation($input: MeasureBaselineInput!) { measureBaseline(input: $input) {
  minutesWithData minutesRecorded events { type }
  objective { baseline { good total analysis { days { attainment } candidates { target exhaustedAtEnd } } }
              proposals { id baselineOutcome { target exhaustedAtEnd exhaustions } } } } }"""


async def defined(api, prometheus) -> None:
    await api.mutate("proposeJourney", journey_input("checkout"), role="product")
    await api.mutate("prioritizeJourney", {"journeyId": "checkout", "priority": 1, "tier": 1, "rationale": "revenue"},
                     role="product")
    await api.mutate("draftObjective", {
        "objectiveId": "o1", "journeyId": "checkout", "name": "Checkout availability",
        "sli": {"kind": "AVAILABILITY"}, "window": {"kind": "ROLLING", "days": 28}, "budgeting": {"method": "OCCURRENCES"},
    })
    await api.ok("mutation($input: DefineDataSourceInput!) { defineDataSource(input: $input) { replayed } }",
                 {"input": {"name": "prom", "url": prometheus.url}})
    # defineSli asks the source for series in the day before now; this history is months
    # old, so the definition is recorded unchecked, as the demo records its own.
    await api.container.bus.execute(Envelope(od.DefineSli("o1", DEFINITION), "sre-person", frozenset({"sre"})))


async def test_measure_baseline_then_a_proposal_beside_its_verdict(api, prometheus, history):
    await defined(api, prometheus)
    until = datetime.fromtimestamp(END, timezone.utc).isoformat()
    await api.mutate("proposeTarget", {"objectiveId": "o1", "proposalId": "p1", "target": 0.999, "rationale": "ambitious"})
    out = (await api.ok(BASELINE, {"input": {"objectiveId": "o1", "days": 1, "until": until}}))["measureBaseline"]
    assert out["minutesWithData"] == out["minutesRecorded"] == 1440 and out["events"] == [{"type": "BaselineRecorded"}]
    first = RESET_MINUTE + 720 - 1440
    assert out["objective"]["baseline"]["total"] == sum(history.total[first:first + 1440])
    assert out["objective"]["baseline"]["good"] == sum(history.good[first:first + 1440])
    [p1] = out["objective"]["proposals"]
    # About 1.5% of requests fail: 99.9% is breached as soon as it would be agreed.
    assert p1["baselineOutcome"]["target"] == 0.999 and p1["baselineOutcome"]["exhaustedAtEnd"] is True
    # Again: nothing recorded twice. Not sre: refused before the source is asked.
    again = (await api.ok(BASELINE, {"input": {"objectiveId": "o1", "days": 1, "until": until}}))["measureBaseline"]
    assert again["minutesRecorded"] == 0
    body = await api.post(BASELINE, {"input": {"objectiveId": "o1", "days": 1, "until": until}}, role="product")
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_the_cli_measures_and_collects(api, prometheus, history, settings):
    await defined(api, prometheus)
    runner = CliRunner()
    until = datetime.fromtimestamp(END, timezone.utc).isoformat()
    # The CLI runs its own loop (asyncio.run): in a thread, beside this test's.
    result = await asyncio.to_thread(runner.invoke, app, ["baseline", "o1", "--days", "1", "--until", until, "--database-url", settings.database_url])
    assert result.exit_code == 0, result.output
    assert "1440 minutes recorded as backfill" in result.stdout and "EXHAUSTED" in result.stdout
    # Each candidate as the fraction it is (99.95 was printed "100%" once).
    assert [line.split()[0] for line in result.stdout.splitlines() if line.endswith(("budget", "agreed)"))] == [
        "99%", "99.5%", "99.9%", "99.95%"]
    assert "query_range" in result.stderr  # the progress bars
    # collect --once: the wall clock is long past the history: beyond the horizon, a gap,
    # then no series in the horizon's minutes: a recorded fault, never a count.
    result = await asyncio.to_thread(runner.invoke, app, ["collect", "--once", "--database-url", settings.database_url])
    assert result.exit_code == 0, result.output
    assert "1 objectives" in result.stderr and "o1: no_series" in result.stderr
