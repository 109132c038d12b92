"""Generated Alertmanager routing, checked by the real amtool.

`amtool check-config` must accept a whole configuration holding the generated snippet,
and `amtool config routes test` must send an alert carrying exactly the labels the
generated Prometheus rules put on each page and ticket alert to the receiver of its
objective's escalation path and severity; an alert of an objective no agreement routes
stays with the installation's default receiver. The generated inhibit rule is run by the
real Alertmanager (amtool cannot test inhibitions): a firing page mutes the tickets of its
own objective, and nothing else.
"""

from __future__ import annotations

import dataclasses
import time
from datetime import datetime, timedelta, timezone

import yaml

from domain.monitoring import WORKBOOK_TIERS, NamingConvention, receiver_name, rule_groups, tier_key
from service.monitoring_rules import alertmanager_yaml

from .harness import AlertmanagerServer, alertmanager_config, amtool_check, routed_to
from .test_monitoring_rules import CHECKOUT, SEARCH_LATENCY

ONCALL = ("sre-oncall", "payments-eng-manager", "vp-engineering")
CHECKOUT_PATHED = dataclasses.replace(CHECKOUT, escalation_path=ONCALL, product_owner="pat")
SEARCH_PATHED = dataclasses.replace(SEARCH_LATENCY, escalation_path=("search oncall", "discovery lead"))
# A dotted id under the same path as checkout: one route matches both, and nothing else.
LEGACY = dataclasses.replace(CHECKOUT_PATHED, objective_id="legacy.cart", journey_id="legacy-cart", name="Legacy cart")
OBJECTIVES = [CHECKOUT_PATHED, SEARCH_PATHED, LEGACY]


def alerts(objectives, convention=NamingConvention()) -> list[dict[str, str]]:
    """The label set of every alert the generated rules can raise (Prometheus adds alertname)."""
    return [{**r["labels"], "alertname": r["alert"]}
            for g in rule_groups(objectives, 7, convention)["groups"] for r in g["rules"] if "alert" in r]


def test_every_generated_alert_reaches_its_escalation_paths_receiver(tmp_path):
    snippet = alertmanager_yaml(OBJECTIVES, 7)
    config = tmp_path / "alertmanager.yml"
    config.write_text(alertmanager_config(snippet))
    checked = amtool_check(config)
    assert checked.returncode == 0 and "SUCCESS" in checked.stdout, checked.stdout + checked.stderr
    assert "4 receivers" in checked.stdout  # the default, checkout's path page + ticket, search's page
    assert "1 inhibit rules" in checked.stdout  # a page mutes its own objective's tickets

    labelled = alerts(OBJECTIVES)
    assert {(a["slo_objective"], a["severity"]) for a in labelled} == {
        ("checkout-availability", "page"), ("checkout-availability", "ticket"), ("search-latency", "page"),
        ("legacy.cart", "page"), ("legacy.cart", "ticket")}
    paths = {"checkout-availability": ONCALL, "legacy.cart": ONCALL, "search-latency": ("search oncall", "discovery lead")}
    for labels in labelled:
        expected = receiver_name(NamingConvention(), labels["severity"], paths[labels["slo_objective"]])
        done = routed_to(config, labels, expected)
        assert done.returncode == 0 and done.stdout.strip() == expected, (labels, done.stdout, done.stderr)


def test_other_alerts_stay_with_the_default_receiver_and_a_wrong_expectation_fails(tmp_path):
    config = tmp_path / "alertmanager.yml"
    config.write_text(alertmanager_config(alertmanager_yaml(OBJECTIVES, 7)))
    page = next(a for a in alerts([CHECKOUT_PATHED]) if a["severity"] == "page")
    for other in ({**page, "slo_objective": "checkout-latency"},  # not agreed: no route
                  {**page, "slo_objective": "legacyXcart"},  # the dot matches a dot only
                  {**page, "slo_objective": "checkout-availability-eu"},  # matchers are anchored
                  {"alertname": "Watchdog", "severity": "page"}):
        done = routed_to(config, other, "team-default")
        assert done.returncode == 0 and done.stdout.strip() == "team-default", (other, done.stdout, done.stderr)
    # Search's tiers are pages only: a ticket under its path has no route of its own.
    ticket = {**page, "slo_objective": "search-latency", "severity": "ticket"}
    assert routed_to(config, ticket).stdout.strip() == "team-default"
    # The verification is not vacuous: a wrong receiver fails.
    done = routed_to(config, page, receiver_name(NamingConvention(), "ticket", ONCALL))
    assert done.returncode != 0


def test_a_naming_convention_routes_on_its_own_labels(tmp_path):
    convention = NamingConvention(recording_prefix="acme_slo", alert_name="{objective}_{severity}", label_prefix="acme_")
    config = tmp_path / "alertmanager.yml"
    config.write_text(alertmanager_config(alertmanager_yaml([CHECKOUT_PATHED], 9, convention)))
    assert amtool_check(config).returncode == 0
    for labels in alerts([CHECKOUT_PATHED], convention):
        expected = receiver_name(convention, labels["severity"], ONCALL)
        assert expected.startswith("acme_slo ")
        done = routed_to(config, labels, expected)
        assert done.returncode == 0, (labels, done.stdout, done.stderr)


def test_amtool_check_config_catches_a_broken_snippet(tmp_path):
    """The check above can fail: a route naming a receiver the file lacks is refused."""
    text = alertmanager_config(alertmanager_yaml([CHECKOUT_PATHED], 1))
    first = receiver_name(NamingConvention(), "ticket", ONCALL)
    config = tmp_path / "alertmanager.yml"
    config.write_text(text.replace(f"- name: '{first}'\n", ""))
    assert yaml.safe_load(config.read_text())["route"]["routes"]
    done = amtool_check(config)
    assert done.returncode != 0 and "undefined receiver" in done.stdout + done.stderr


def test_the_agreement_owners_labels_and_tiers_are_named_beside_each_route():
    snippet = alertmanager_yaml(OBJECTIVES, 7)
    assert snippet.startswith("# Generated by slogov from the log at position 7.")
    note = next(line for line in snippet.splitlines() if line.startswith("# checkout-availability "))
    assert "agreement agr-7" in note and "owners sam (SRE), pat (product)" in note and "team=payments" in note
    assert all(tier_key(t) in note for t in WORKBOOK_TIERS)
    assert "# escalation path: sre-oncall > payments-eng-manager > vp-engineering" in snippet


def _states(am: AlertmanagerServer) -> dict[tuple[str, str], dict]:
    return {(a["labels"]["alertname"], a["labels"].get("slo_objective", "")): a["status"] for a in am.alerts()}


def test_a_firing_page_mutes_the_tickets_of_its_own_objective_and_nothing_else(tmp_path):
    """The generated configuration in a real Alertmanager. Checkout's page and ticket fire, so
    do the ticket of legacy.cart (the same route, path and journey labels aside) and another
    system's page and ticket, which carry no objective label. Only checkout's ticket is
    suppressed, inhibited by checkout's page; once that page resolves, the ticket is active."""
    config = tmp_path / "alertmanager.yml"
    config.write_text(alertmanager_config(alertmanager_yaml(OBJECTIVES, 7)))
    assert amtool_check(config).returncode == 0
    fired = {(a["slo_objective"], a["severity"]): a for a in alerts(OBJECTIVES)}
    page, ticket = fired["checkout-availability", "page"], fired["checkout-availability", "ticket"]
    # Alertmanager counts a label missing on both sides as equal: these must stay untouched.
    foreign = [{"alertname": "NodeDown", "severity": "page"}, {"alertname": "DiskFilling", "severity": "ticket"}]
    with AlertmanagerServer(config) as am:
        am.post([page, ticket, fired["legacy.cart", "ticket"], *foreign])
        muted = ("ErrorBudgetBurnTicket", "checkout-availability")
        deadline = time.monotonic() + 20
        while _states(am).get(muted, {}).get("state") != "suppressed" and time.monotonic() < deadline:
            time.sleep(0.1)  # the inhibitor learns of the page asynchronously
        states = _states(am)
        page_fingerprint = next(a["fingerprint"] for a in am.alerts() if a["labels"] == page)
        assert states[muted] == {"state": "suppressed", "inhibitedBy": [page_fingerprint], "silencedBy": []}, states
        for active in [("ErrorBudgetBurnPage", "checkout-availability"), ("ErrorBudgetBurnTicket", "legacy.cart"),
                       ("NodeDown", ""), ("DiskFilling", "")]:
            assert states[active]["state"] == "active" and not states[active]["inhibitedBy"], (active, states)

        ended = (datetime.now(timezone.utc) - timedelta(seconds=1)).isoformat()
        body = [{"labels": page, "endsAt": ended}]
        am.post_raw(body)  # the page resolves: its objective's ticket is no longer muted
        deadline = time.monotonic() + 20
        while _states(am)[muted]["state"] != "active" and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _states(am)[muted] == {"state": "active", "inhibitedBy": [], "silencedBy": []}
