"""Data sources and defineSli over GraphQL: the source read model, and defineSli's refusals
before anything is appended (the accepted path needs a live Prometheus:
tests/prometheus/test_sli_check.py)."""

from __future__ import annotations

from .conftest import journey_input
from tests.prometheus.harness import free_port

SOURCE = "dataSource { name url kind retired version headersFromEnv { header envVar } }"
RATIO = {"kind": "RATIO", "source": "prom", "good": 'http_requests_total{code!~"5.."}', "total": "http_requests_total"}


async def _objective(api) -> None:
    await api.mutate("proposeJourney", journey_input("checkout"), role="product")
    await api.mutate("prioritizeJourney", {"journeyId": "checkout", "priority": 1, "tier": 1, "rationale": "revenue"},
                     role="product")
    await api.mutate("draftObjective", {
        "objectiveId": "o1", "journeyId": "checkout", "name": "Checkout availability",
        "sli": {"kind": "AVAILABILITY"}, "window": {"kind": "ROLLING", "days": 28}, "budgeting": {"method": "OCCURRENCES"},
    })


async def test_sources_are_defined_listed_and_changed(api):
    q = f"mutation($input: DefineDataSourceInput!) {{ defineDataSource(input: $input) {{ {SOURCE} events {{ type }} }} }}"
    out = (await api.ok(q, {"input": {"name": "prom", "url": "http://127.0.0.1:9090/",
                                      "headersFromEnv": [{"header": "Authorization", "envVar": "PROM_AUTH"}]}}))
    source = out["defineDataSource"]["dataSource"]
    assert source == {"name": "prom", "url": "http://127.0.0.1:9090", "kind": "prometheus", "retired": False,
                      "version": 1, "headersFromEnv": [{"header": "Authorization", "envVar": "PROM_AUTH"}]}
    q = f"mutation($input: ChangeDataSourceInput!) {{ changeDataSource(input: $input) {{ {SOURCE} }} }}"
    out = await api.ok(q, {"input": {"name": "prom", "url": "https://prom.internal", "expectedVersion": 1}})
    assert out["changeDataSource"]["dataSource"]["version"] == 2
    listed = await api.ok("{ dataSources(first: 10) { totalCount nodes { name url } } }", role="auditor")
    assert listed["dataSources"] == {"totalCount": 1, "nodes": [{"name": "prom", "url": "https://prom.internal"}]}
    code, error = await api.fail("defineDataSource", {"name": "p2", "url": "http://u:secret@h:9090"})
    assert code == "BAD_USER_INPUT" and error["extensions"]["field"] == "source.url"
    code, _ = await api.fail("defineDataSource", {"name": "p3", "url": "http://h:9090"}, role="product")
    assert code == "FORBIDDEN"


async def test_define_sli_refusals_append_nothing(api):
    await _objective(api)
    await api.ok("mutation($input: DefineDataSourceInput!) { defineDataSource(input: $input) { replayed } }",
                 {"input": {"name": "prom", "url": f"http://127.0.0.1:{free_port()}"}})
    # Our own parser first, naming the field; then the source must exist; then it must answer.
    code, error = await api.fail("defineSli", {"objectiveId": "o1", "definition": {**RATIO, "total": "sum(x)"}})
    assert code == "BAD_USER_INPUT" and error["extensions"]["field"] == "definition.total"
    code, error = await api.fail("defineSli", {"objectiveId": "o1", "definition": {**RATIO, "source": "nope"}})
    assert code == "NOT_FOUND" and error["extensions"]["field"] == "definition.source"
    code, error = await api.fail("defineSli", {"objectiveId": "o1", "definition": RATIO})
    assert code == "UNAVAILABLE" and error["extensions"]["reason"] == "unreachable"
    assert "Nothing was recorded" in error["message"]
    code, _ = await api.fail("defineSli", {"objectiveId": "o1", "definition": RATIO}, role="product")
    assert code == "FORBIDDEN"
    objective = await api.ok('{ objective(id: "o1") { sliDefinition { kind } } }')
    assert objective["objective"]["sliDefinition"] is None
