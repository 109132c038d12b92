"""Notification targets (OpenSLO AlertNotificationTarget) carried faithfully: the command's
rules, an import recording each alert tier's targets on the objective, the export writing
them back as the policies' notificationTargets, and re-importing to the same state."""

from __future__ import annotations

import pytest
import yaml

from domain.errors import InvalidInput
from domain.objective import AlertRoute, NotificationTarget, SetNotificationTargets
from domain.specs.plan import CHANGE, plan
from tests.specs.support import MemoryLog, read, read_text
from tests.specs.test_plan import agree

OID = "checkout-availability__sla"
PAGER = NotificationTarget("payments-pager", "pagerduty", None, "The payments on-call rotation")


def objective(log: MemoryLog, oid: str = OID):
    return log.states[f"objective-{oid}"]


def test_an_import_records_each_tiers_targets_on_every_objective_of_the_slo():
    log = MemoryLog()
    the_plan = log.import_(read("openslo/checkout.yaml"))
    steps = [s for s in the_plan.steps if s.detail.startswith("notification targets")]
    assert [(s.action, s.subject, s.detail) for s in steps] == [
        (CHANGE, f"objective {o}", "notification targets: page_1h_5m -> payments-pager (pagerduty)")
        for o in (OID, "checkout-availability__internal")]
    for oid in (OID, "checkout-availability__internal"):
        assert objective(log, oid).notification_routes == (AlertRoute("page_1h_5m", (PAGER,)),)
        assert objective(log, oid).notification_targets("page_1h_5m") == (PAGER,)
        assert objective(log, oid).notification_targets("ticket_1d_2h") == ()
    assert not [n for n in the_plan.notes if "AlertNotificationTarget" in n]  # carried now
    assert log.import_(read("openslo/checkout.yaml")).empty


def test_changed_targets_are_set_directly_on_an_agreed_objective_and_the_agreement_stays():
    log = MemoryLog()
    log.import_(read("openslo/checkout.yaml"))
    agree(log, OID)
    text = (read.__globals__["FIXTURES"] / "openslo/checkout.yaml").read_text().replace(
        "target: pagerduty", "target: opsgenie").replace("    - targetRef: payments-pager\n",
                                                         "    - targetRef: payments-pager\n    - targetRef: chat\n")
    text += ("---\napiVersion: openslo/v1\nkind: AlertNotificationTarget\nmetadata: {name: chat, displayName: Chat}\n"
             "spec: {target: slack}\n---\napiVersion: openslo/v1\nkind: AlertNotificationTarget\n"
             "metadata: {name: unused, labels: {team: x}}\nspec: {target: email}\n")
    changed = log.import_(read_text(text, "checkout.yaml"))
    assert [s.detail for s in changed.steps if s.commands and s.subject == f"objective {OID}"] == [
        "notification targets: page_1h_5m -> chat (slack), payments-pager (opsgenie)"]
    assert "AlertNotificationTarget unused: not carried (no alert policy of an SLO names it)" in changed.notes
    state = objective(log, OID)
    assert state.agreed_target == 0.995 and state.open_proposal is None
    assert state.notification_targets("page_1h_5m") == (
        NotificationTarget("chat", "slack", "Chat", None),
        NotificationTarget("payments-pager", "opsgenie", None, "The payments on-call rotation"))
    assert log.import_(read_text(text, "checkout.yaml")).empty


def test_the_export_writes_the_targets_back_and_they_import_to_the_same_state():
    log = MemoryLog()
    log.import_(read("openslo/checkout.yaml"))
    exported = log.export()
    docs = {(d["kind"], d["metadata"]["name"]): d for d in yaml.safe_load_all(exported)}
    assert docs[("AlertNotificationTarget", "payments-pager")]["spec"] == {
        "description": "The payments on-call rotation", "target": "pagerduty"}
    assert docs[("AlertPolicy", "checkout-availability-page-1h-5m")]["spec"]["notificationTargets"] == [
        {"targetRef": "payments-pager"}]
    again = MemoryLog()
    again.import_(read_text(exported))
    assert objective(again).notification_routes == objective(log).notification_routes
    assert again.export() == exported


def test_two_slos_routing_one_name_to_different_targets_export_under_two_names():
    log = MemoryLog()
    log.import_(read("openslo/checkout.yaml"))
    text = (read.__globals__["FIXTURES"] / "openslo/checkout.yaml").read_text()
    other = text.replace("name: checkout-availability\n  displayName: Checkout availability",
                         "name: basket-availability\n  displayName: Basket availability").replace(
        "target: pagerduty", "target: opsgenie")
    log.import_(read_text(other, "basket.yaml"))
    exported = log.export()
    targets = {d["metadata"]["name"]: d["spec"]["target"] for d in yaml.safe_load_all(exported)
               if d["kind"] == "AlertNotificationTarget"}
    assert targets == {"payments-pager": "opsgenie", "payments-pager-checkout-availability": "pagerduty"}
    again = MemoryLog()
    again.import_(read_text(exported))
    assert again.export() == exported


@pytest.mark.parametrize("routes, field, says", [
    ((AlertRoute("page_60m_5m", (PAGER,)),), "routes[0].tier", "severity_longwindow_shortwindow"),
    ((AlertRoute("page", (PAGER,)),), "routes[0].tier", "got 'page'"),
    ((AlertRoute("page_1h_5m", ()),), "routes[0].targets", "1 to 16 targets"),
    ((AlertRoute("page_1h_5m", (PAGER,)), AlertRoute("page_1h_5m", (PAGER,))), "routes[1].tier", "routed twice"),
    ((AlertRoute("page_1h_5m", (PAGER, PAGER)),), "routes[0].targets[1].name", "appears twice"),
    ((AlertRoute("page_1h_5m", (NotificationTarget("x y", "email"),)),), "routes[0].targets[0].name", "may contain only"),
    ((AlertRoute("page_1h_5m", (NotificationTarget("x", " "),)),), "routes[0].targets[0].target", "empty"),
    ((AlertRoute("page_1h_5m", (NotificationTarget("x", "https://u:pw@hooks.example.com/a"),)),),
     "routes[0].targets[0].target", "credentials"),
])
def test_a_bad_route_is_refused_naming_its_field_and_appends_nothing(routes, field, says):
    log = MemoryLog()
    log.import_(read("openslo/checkout.yaml"))
    before = log.position
    with pytest.raises(InvalidInput, match=says) as refused:
        log.run(SetNotificationTargets(OID, routes), roles=frozenset({"sre"}))
    assert refused.value.details["field"] == field and log.position == before


def test_a_target_the_domain_refuses_is_refused_with_its_place_in_the_file():
    text = (read.__globals__["FIXTURES"] / "openslo/checkout.yaml").read_text().replace(
        "target: pagerduty", "target: 'https://hooks.example.com/in?token=abc'")
    specs = read_text(text, "checkout.yaml")
    with pytest.raises(Exception) as refused:
        plan(specs, MemoryLog().current(specs), actor="ada")
    (error,) = refused.value.errors
    assert str(error.where) == "checkout.yaml: document 7, spec.target (line 101)"
    assert error.message == ("AlertNotificationTarget payments-pager: the query parameter 'token' looks like a "
                             "credential; name the target without it")


def test_no_routes_clears_them_and_the_same_routes_append_nothing():
    log = MemoryLog()
    log.import_(read("openslo/checkout.yaml"))
    before = log.position
    log.run(SetNotificationTargets(OID, (AlertRoute("page_1h_5m", (PAGER,)),)))
    assert log.position == before
    log.run(SetNotificationTargets(OID, ()))
    assert log.position == before + 1 and objective(log).notification_routes == ()


def test_an_inline_target_is_refused_at_its_own_place_inside_the_policy():
    text = (read.__globals__["FIXTURES"] / "openslo/checkout.yaml").read_text().replace(
        "    - targetRef: payments-pager\n",
        "    - kind: AlertNotificationTarget\n      metadata: {name: hook}\n"
        "      spec: {target: 'https://ops:secret@hooks.example.com/in'}\n")
    specs = read_text(text, "checkout.yaml")
    with pytest.raises(Exception) as refused:
        plan(specs, MemoryLog().current(specs), actor="ada")
    (error,) = refused.value.errors
    assert str(error.where) == "checkout.yaml: document 5, spec.notificationTargets[0].spec.target (line 83)"
    assert error.message.startswith("AlertNotificationTarget hook: a URL with credentials")
