"""Monitoring through the API, on both databases: the naming convention (an admin's,
checked at draft time), the runbooks an agreement records, and the rules (checked by the
real promtool) and Alertmanager routing (checked by the real amtool) generated from the
demo's agreed objectives, through GraphQL and the CLI."""

from __future__ import annotations

import asyncio
import subprocess

import yaml
from typer.testing import CliRunner

from api.cli import app
from tests.prometheus.harness import alertmanager_config, amtool_check, binary, routed_to
from tests.graphql.conftest import objective_input, prioritized_journey
from tests.graphql.test_budgets import agreed_objective, refuse

CONVENTION = """query($asOf: AsOf) { namingConvention(asOf: $asOf) {
  recordingPrefix alertName labelPrefix idPattern requiredLabels setBy note position } }"""
SET = """mutation($input: SetNamingConventionInput!) { setNamingConvention(input: $input) {
  convention { idPattern requiredLabels setBy } events { type streamId } replayed } }"""
RUNBOOKS = "query($id: ID!) { objective(id: $id) { agreement { runbooks { tier url } } } }"
KEYS = ("page_1h_5m", "page_6h_30m", "ticket_3d_6h")  # the default policy's tiers


async def test_an_admin_sets_the_convention_and_drafts_follow_it(api):
    before = (await api.ok(CONVENTION))["namingConvention"]
    assert before["setBy"] is None and before["idPattern"] == "[A-Za-z0-9._-]{1,100}"
    code, error = await refuse(api, "setNamingConvention", {"idPattern": "[a-z]+(-[a-z]+)*"}, role="sre")
    assert code == "FORBIDDEN"
    code, error = await refuse(api, "setNamingConvention", {"idPattern": "(a+)+"}, role="admin")
    assert code == "BAD_USER_INPUT" and "naming.id_pattern" in error["message"]
    body = (await api.ok(SET, {"input": {"idPattern": "[a-z]+(-[a-z]+)*", "requiredLabels": ["team"],
                                         "note": "guild"}}, role="admin"))["setNamingConvention"]
    assert body["events"] == [{"type": "NamingConventionSet", "streamId": "convention-naming"}]
    assert body["convention"] == {"idPattern": "[a-z]+(-[a-z]+)*", "requiredLabels": ["team"], "setBy": "admin-person"}
    now = (await api.ok(CONVENTION))["namingConvention"]
    then = (await api.ok(CONVENTION, {"asOf": {"position": before["position"]}}))["namingConvention"]
    assert now["note"] == "guild" and then == before

    code, error = await api.fail("proposeJourney", {**_journey("Checkout_EU")}, role="product")
    assert code == "BAD_USER_INPUT" and error["message"].startswith("journey_id: 'Checkout_EU' does not follow")
    await prioritized_journey(api, "checkout", labels=[{"key": "team", "value": "payments"}])
    code, error = await api.fail("draftObjective", objective_input("checkout_latency", "checkout"))
    assert code == "BAD_USER_INPUT" and error["message"].startswith("objective_id: 'checkout_latency' does not follow")
    await prioritized_journey(api, "search")
    code, error = await api.fail("draftObjective", objective_input("search-ok", "search"))
    assert code == "BAD_USER_INPUT" and error["extensions"]["field"] == "labels" and "requires team" in error["message"]
    await api.mutate("draftObjective", {**objective_input("search-ok", "search"),
                                        "labels": [{"key": "team", "value": "discovery"}]})
    await api.mutate("draftObjective", objective_input("checkout-ok", "checkout"))  # the journey's team


async def test_the_agreement_records_a_runbook_per_tier(api):
    await agreed_objective(api, "checkout-ok", "checkout", 0.999)
    pin = {"objectiveId": "checkout-ok", "policyId": "default", "policyVersion": 0, "productOwner": "pat",
           "sreOwner": "sam", "escalationPath": ["oncall"], "resourceCommitment": "20%"}
    good = [{"tier": k, "url": f"https://wiki.example/rb/{k}"} for k in KEYS]
    for runbooks, field in (
        ([*good[:2], {"tier": KEYS[2], "url": "https://bot:pw@wiki.example/rb"}], "runbooks.ticket_3d_6h"),
        ([*good[:2], {"tier": KEYS[2], "url": "https://wiki.example/rb\u0007"}], "input.runbooks[2].url"),  # the edge's
        ([*good[:2], {"tier": KEYS[2], "url": "https://wiki.example/r\tb"}], "runbooks.ticket_3d_6h"),
        (good[:2], "runbooks.ticket_3d_6h"),
        ([*good, good[0]], "runbooks.page_1h_5m"),
    ):
        code, error = await refuse(api, "formalizeAgreement", {**pin, "runbooks": runbooks})
        assert code == "BAD_USER_INPUT" and field in (error["extensions"].get("field"), error["message"][:len(field)]), error
    await api.mutate("formalizeAgreement", {**pin, "runbooks": good})
    agreement = (await api.ok(RUNBOOKS, {"id": "checkout-ok"}))["objective"]["agreement"]
    assert agreement["runbooks"] == good


def _journey(journey_id: str) -> dict:
    from tests.graphql.conftest import journey_input
    return journey_input(journey_id)


RULES = """query($id: ID, $asOf: AsOf) { monitoringRules(objectiveId: $id, asOf: $asOf) {
  yaml position objectiveIds skipped { objectiveId reason } } }"""


DEMO_OBJECTIVES = "{ objectives(first: 100) { nodes { id status sliDefinition { kind } } } }"


async def test_the_demo_rules_from_graphql_and_the_cli_pass_promtool(api, tmp_path):
    """Every agreed objective of the demo with an SLI definition gets rules, generated through
    both doors, in a file Prometheus loads."""
    from service.demo import load_demo

    assert await load_demo(api.container)
    body = (await api.ok(RULES, role="auditor"))["monitoringRules"]
    nodes = (await api.ok(DEMO_OBJECTIVES, role="auditor"))["objectives"]["nodes"]
    agreed = [n for n in nodes if n["status"] in ("AGREED", "ACTIVE")]
    with_sli = sorted(n["id"] for n in agreed if n["sliDefinition"] is not None)
    assert with_sli == body["objectiveIds"] == ["checkout-availability", "search-availability"]
    # The rest of the agreed ones (checkout's components) have no SLI definition yet, and say so.
    assert sorted(s["objectiveId"] for s in body["skipped"]) == sorted(n["id"] for n in agreed if n["id"] not in with_sli)
    assert {s["reason"] for s in body["skipped"]} == {"agreed but not formalized: the agreement names the runbooks "
                                                      "the alerts link"}
    assert body["yaml"].startswith(f"# Generated by slogov from the log at position {body['position']}.")
    groups = yaml.safe_load(body["yaml"])["groups"]
    assert [g["name"] for g in groups] == ["slogov-checkout-checkout-availability", "slogov-search-search-availability"]
    search = [r for r in groups[1]["rules"] if "alert" in r]
    assert {a["annotations"]["runbook_url"] for a in search} == {
        f"https://runbooks.example.com/search/{k}" for k in ("page_1h_5m", "page_6h_30m", "ticket_3d_6h")}
    rules = groups[0]["rules"]
    alerts = [r for r in rules if "alert" in r]
    assert [a["labels"]["slo_tier"] for a in alerts] == ["page_1h_5m", "page_6h_30m", "ticket_3d_6h"]
    assert {a["annotations"]["runbook_url"] for a in alerts} == {
        f"https://runbooks.example.com/checkout/{k}" for k in ("page_1h_5m", "page_6h_30m", "ticket_3d_6h")}
    assert {a["labels"]["slo_owner"] for a in alerts} == {"sam.sre"}
    assert {a["annotations"]["slo_agreement_id"] for a in alerts} == {"checkout-availability/p1/default@v1"}
    graphql_file = tmp_path / "graphql.rules.yml"
    graphql_file.write_text(body["yaml"], encoding="utf-8")
    checked = subprocess.run([binary("promtool"), "check", "rules", str(graphql_file)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr

    # The CLI, from the database it opens itself, at the same position: the same bytes.
    cli_file = tmp_path / "cli.rules.yml"
    done = await asyncio.to_thread(CliRunner().invoke, app, [
        "monitoring", "rules", "--as-of", str(body["position"]), "-o", str(cli_file),
        "--database-url", api.container.settings.database_url])
    assert done.exit_code == 0, done.output
    assert cli_file.read_bytes() == graphql_file.read_bytes()
    assert f"wrote rules for 2 objective(s) at log position {body['position']}" in done.stderr

    # One objective that is not monitored yet says why, through either door.
    code, error = await _query_error(api, {"id": "search-latency"})
    assert code == "POLICY_VIOLATION" and "not agreed yet" in error["message"]
    code, _ = await _query_error(api, {"id": "nope"})
    assert code == "NOT_FOUND"
    refused = await asyncio.to_thread(CliRunner().invoke, app, [
        "monitoring", "rules", "--objective", "search-latency", "--database-url", api.container.settings.database_url])
    assert refused.exit_code == 2 and "search-latency is not agreed yet" in refused.stderr


async def _query_error(api, variables: dict) -> tuple[str, dict]:
    body = await api.post(RULES, variables, role="auditor")
    assert body.get("errors"), body
    return body["errors"][0]["extensions"]["code"], body["errors"][0]


ALERTMANAGER = """query($id: ID, $asOf: AsOf) { monitoringAlertmanager(objectiveId: $id, asOf: $asOf) {
  yaml position objectiveIds skipped { objectiveId reason } } }"""
DEMO_PATHS = {"checkout-availability": "sre-oncall > checkout-eng-manager > vp-engineering",
              "search-availability": "search-oncall > discovery-eng-manager"}


async def test_the_demo_alerts_reach_their_escalation_paths_through_graphql_and_the_cli(api, tmp_path):
    """The Alertmanager snippet for the demo's agreed objectives, through both doors, in a whole
    configuration amtool accepts; every page and ticket alert the demo's rules can raise, with
    exactly their labels, reaches the receiver of its agreement's escalation path."""
    from service.demo import load_demo

    assert await load_demo(api.container)
    body = (await api.ok(ALERTMANAGER, role="auditor"))["monitoringAlertmanager"]
    rules = (await api.ok(RULES, {"asOf": {"position": body["position"]}}, role="auditor"))["monitoringRules"]
    assert body["objectiveIds"] == rules["objectiveIds"] == sorted(DEMO_PATHS)
    assert body["skipped"] == rules["skipped"]
    assert body["yaml"].startswith(f"# Generated by slogov from the log at position {body['position']}.")
    assert "# checkout-availability (journey checkout): agreement checkout-availability/p1/default@v1; " \
           "owners sam.sre (SRE), pat.product (product)" in body["yaml"]
    config = tmp_path / "alertmanager.yml"
    config.write_text(alertmanager_config(body["yaml"]), encoding="utf-8")
    checked = amtool_check(config)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "1 inhibit rules" in checked.stdout  # each objective's page mutes its own tickets

    alerts = [{**r["labels"], "alertname": r["alert"]} for g in yaml.safe_load(rules["yaml"])["groups"]
              for r in g["rules"] if "alert" in r]
    assert {(a["slo_objective"], a["severity"]) for a in alerts} == {(o, s) for o in DEMO_PATHS for s in ("page", "ticket")}
    for labels in alerts:
        expected = f"slogov {labels['severity']}: {DEMO_PATHS[labels['slo_objective']]}"
        done = await asyncio.to_thread(routed_to, config, labels, expected)
        assert done.returncode == 0 and done.stdout.strip() == expected, (labels, done.stdout, done.stderr)

    # The CLI, from the database it opens itself, at the same position: the same bytes.
    cli_file = tmp_path / "cli.alertmanager.yml"
    done = await asyncio.to_thread(CliRunner().invoke, app, [
        "monitoring", "alertmanager", "--as-of", str(body["position"]), "-o", str(cli_file),
        "--database-url", api.container.settings.database_url])
    assert done.exit_code == 0, done.output
    assert cli_file.read_text(encoding="utf-8") == body["yaml"]
    assert f"wrote Alertmanager routing for 2 objective(s) at log position {body['position']}" in done.stderr
    one = await asyncio.to_thread(CliRunner().invoke, app, [
        "monitoring", "alertmanager", "--objective", "search-availability",
        "--database-url", api.container.settings.database_url])
    assert one.exit_code == 0 and "search-oncall > discovery-eng-manager" in one.stdout
    assert "checkout" not in one.stdout.split("\nroutes:\n", 1)[1]

    # One that has no rules has no routing either, and says why.
    refused = await api.post(ALERTMANAGER, {"id": "checkout-latency"}, role="auditor")
    assert refused["errors"][0]["extensions"]["code"] == "POLICY_VIOLATION"
    assert "not agreed yet" in refused["errors"][0]["message"]
