"""Monitoring's command guards through the API, on both databases: the naming convention
(an admin's, checked at draft time) and the runbooks an agreement records."""

from __future__ import annotations

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
