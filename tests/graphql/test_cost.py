"""The query cost limit (api/cost.py): an operation whose estimated work is over
`max_query_cost` is refused before anything runs, with BAD_USER_INPUT and a message that
names its cost and the limit; everyday queries pass."""

from __future__ import annotations

import pytest

from api.schema import build_schema
from service.config import Settings

AUDITS = "{ " + " ".join(f"a{i}: auditIntegrity {{ ok eventsChecked }}" for i in range(30)) + " }"
AUDITOR_SWEEP = "{ " + " ".join(
    f"o{i}: objectives(first: 100) {{ edges {{ node {{ id budget {{ remaining }} "
    f"budgetLedger(first: 1000) {{ edges {{ node {{ remaining }} }} }} }} }} }}" for i in range(30)) + " }"
README_QUERY = ("{ journeys { edges { node { id name status objectives { edges "
                "{ node { id status agreedTarget informational } } } } } } }")
BUDGETS = "query($n: Int) { objectives(first: $n) { edges { node { id budget { remaining } budgetLedger(first: 500) " \
          "{ edges { node { remaining } } } } } totalCount } }"


def _refusal(body: dict, limit: int) -> dict:
    assert body.get("data") is None, body  # nothing ran
    error = body["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    cost = error["extensions"]["cost"]
    assert error["extensions"]["maxCost"] == limit and cost > limit
    assert f"{cost:,}" in error["message"] and f"{limit:,}" in error["message"]
    assert "SLOGOV_MAX_QUERY_COST" in error["message"]
    return error


@pytest.mark.parametrize("query", [AUDITS, AUDITOR_SWEEP], ids=["30 auditIntegrity", "30 objectives sweeps"])
async def test_over_cost_queries_are_refused_before_they_run(api, query):
    before = await api.head()
    _refusal(await api.post(query, role="auditor"), Settings().max_query_cost)
    assert await api.head() == before


async def test_everyday_queries_pass(api):
    assert (await api.ok("{ auditIntegrity { ok } }", role="auditor"))["auditIntegrity"]["ok"]
    await api.ok(README_QUERY)
    await api.ok("{ objectives(first: 100) { edges { node { id budget { remaining } } } totalCount } }")
    await api.ok('{ leadershipReport(quarter: "2026-Q4") { quarter } }', role="leadership")


async def test_the_cost_follows_first_even_through_variables(api):
    # 10 objectives x 500 ledger points passes; 100 x 500 does not. The same text twice:
    # a cost that depends on variables is not remembered per query text.
    await api.ok(BUDGETS, {"n": 10})
    _refusal(await api.post(BUDGETS, {"n": 100}), Settings().max_query_cost)
    await api.ok(BUDGETS, {"n": 10})


async def test_the_limit_is_configurable(api, monkeypatch):
    monkeypatch.setenv("SLOGOV_MAX_QUERY_COST", "500")
    settings = Settings.from_env()
    assert settings.max_query_cost == 500
    result = await build_schema(settings).execute(README_QUERY, context_value={"container": api.container})
    assert result.data is None
    assert result.errors[0].extensions == {"code": "BAD_USER_INPUT", "cost": 20_301, "maxCost": 500}
