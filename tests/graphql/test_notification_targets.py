"""Notification targets over GraphQL on both databases: an import records them, the objective
shows them (and as of a past position), setNotificationTargets replaces them (sre, admin), a
refused route names its field and appends nothing, and the export carries them."""

from __future__ import annotations

from tests.specs.support import FIXTURES

IMPORT = "mutation($input: ImportSpecsInput!) { importSpecs(input: $input) { applied events { type } } }"
ROUTES = """query($id: ID!, $asOf: AsOf) { objective(id: $id, asOf: $asOf) {
  notificationRoutes { tier targets { name target displayName description } } } }"""
SET = """mutation($input: SetNotificationTargetsInput!) { setNotificationTargets(input: $input) {
  objective { id version notificationRoutes { tier targets { name target } } } events { type } } }"""
OID = "checkout-availability__sla"


async def test_imported_shown_set_refused_and_exported(api):
    documents = [{"name": "checkout.yaml", "text": (FIXTURES / "openslo/checkout.yaml").read_text()}]
    done = (await api.ok(IMPORT, {"input": {"documents": documents, "apply": True}}, role="admin"))["importSpecs"]
    assert [e["type"] for e in done["events"]].count("NotificationTargetsSet") == 2
    imported = await api.head()
    routes = (await api.ok(ROUTES, {"id": OID}, role="auditor"))["objective"]["notificationRoutes"]
    assert routes == [{"tier": "page_1h_5m", "targets": [{"name": "payments-pager", "target": "pagerduty",
                                                          "displayName": None,
                                                          "description": "The payments on-call rotation"}]}]

    chat = {"name": "chat", "target": "slack", "displayName": "Team chat"}
    changed = (await api.ok(SET, {"input": {"objectiveId": OID, "routes": [
        {"tier": "ticket_1d_2h", "targets": [chat]}, {"tier": "page_1h_5m", "targets": [chat]}]}}))
    payload = changed["setNotificationTargets"]
    assert [e["type"] for e in payload["events"]] == ["NotificationTargetsSet"]
    assert payload["objective"]["notificationRoutes"] == [
        {"tier": "page_1h_5m", "targets": [{"name": "chat", "target": "slack"}]},
        {"tier": "ticket_1d_2h", "targets": [{"name": "chat", "target": "slack"}]}]
    past = (await api.ok(ROUTES, {"id": OID, "asOf": {"position": imported}}, role="auditor"))["objective"]
    assert past["notificationRoutes"][0]["targets"][0]["name"] == "payments-pager"

    code, error = await api.fail("setNotificationTargets", {"objectiveId": OID, "routes": [
        {"tier": "page_1h_5m", "targets": [{"name": "hook", "target": "https://u:pw@hooks.example.com/x"}]}]})
    assert code == "BAD_USER_INPUT" and error["extensions"]["field"] == "routes[0].targets[0].target"
    code, _ = await api.fail("setNotificationTargets", {"objectiveId": OID, "routes": []}, role="product")
    assert code == "FORBIDDEN"

    # an SLO's alert policies are its first objective's tiers and targets (by id: __internal)
    await api.ok(SET, {"input": {"objectiveId": "checkout-availability__internal", "routes": [
        {"tier": "page_1h_5m", "targets": [chat]}]}})
    export = (await api.ok("query { specsExport(includeDrafts: true) }", role="auditor"))["specsExport"]
    assert "kind: AlertNotificationTarget\nmetadata:\n  name: chat\n" in export
    assert "  notificationTargets:\n  - targetRef: chat\n" in export
