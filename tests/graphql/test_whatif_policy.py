"""whatIfPolicy over GraphQL: leadership and the parties see which recorded decisions a
candidate policy would have answered otherwise; others are refused; bad input is
BAD_USER_INPUT; nothing is appended (SQLite and PostgreSQL)."""

from __future__ import annotations

from tests.policies.support import minute
from tests.whatif.support import APPROVAL_ONLY, burn_out

QUERY = """query($doc: String!, $from: DateTime!, $to: DateTime!) {
  whatIfPolicy(document: $doc, from: $from, to: $to) {
    policyId candidateVersion position decisions allowToDeny denyToAllow affectedObjectives
    changed { changed differences recorded { id outcome } whatIf { outcome ruleIds policyVersions reasons } }
    freezes { actual whatIf } postmortems { actual whatIf }
    onlyActual { objectiveId type actionId ruleId at policy } onlyWhatIf { type } } }"""


async def test_leadership_sees_what_a_candidate_would_have_let_through(api):
    clock = await burn_out(api.container)
    head = await api.head()
    variables = {"doc": APPROVAL_ONLY, "from": minute(0).isoformat(), "to": clock.now.isoformat()}
    body = (await api.ok(QUERY, variables, "leadership"))["whatIfPolicy"]
    assert body["position"] == head and body["decisions"] == 4 and body["candidateVersion"] == 1
    (changed,) = body["changed"]
    assert changed["recorded"] == {"id": "run-1", "outcome": "DENY"}
    assert changed["whatIf"]["outcome"] == "REQUIRE_APPROVAL" and changed["whatIf"]["policyVersions"] == ["default@1"]
    assert body["freezes"] == {"actual": 1, "whatIf": 0} and body["postmortems"] == {"actual": 1, "whatIf": 0}
    assert [a["type"] for a in body["onlyActual"]] == ["FreezeStarted", "PostmortemRequired"]
    assert body["onlyActual"][0]["policy"] == "default@0"
    assert (await api.ok(QUERY, variables, "product"))["whatIfPolicy"]["changed"] == body["changed"]
    for role, code in (("ci", "FORBIDDEN"), (None, "UNAUTHENTICATED")):
        refused = await api.post(QUERY, variables, role)
        assert refused["errors"][0]["extensions"]["code"] == code
    bad = await api.post(QUERY, {**variables, "doc": "id: x\nrules: {"}, "leadership")
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert await api.head() == head


async def test_a_candidates_alert_tiers_are_judged_not_flagged(api):
    """A candidate that pages only at 500 over 1h/5m: no page under it where the workbook's
    tiers paged, shown per objective beside the recorded alerts."""
    from tests.policies.support import OID
    from tests.whatif.test_policy import PAGED

    clock = await burn_out(api.container)
    query = """query($doc: String!, $from: DateTime!, $to: DateTime!) { whatIfPolicy(document: $doc, from: $from,
      to: $to) { tiersDiffer alerts { objectiveId sincePosition actual { type at severity longWindow shortWindow
      threshold } whatIf { type at longWindow } } } }"""
    for threshold, raised in ((500, []), (14.4, [minute(61).isoformat()])):
        body = (await api.ok(query, {"doc": PAGED.format(threshold=threshold), "from": minute(0).isoformat(),
                                     "to": clock.now.isoformat()}, "leadership"))["whatIfPolicy"]
        assert body["tiersDiffer"] == [OID]
        [alerts] = body["alerts"]
        assert alerts["objectiveId"] == OID and alerts["sincePosition"] > 0
        assert {(a["severity"], a["longWindow"]) for a in alerts["actual"]} == {("page", "1h"), ("page", "6h"),
                                                                              ("ticket", "3d")}
        assert [a["at"] for a in alerts["whatIf"] if a["type"] == "BurnRateAlertRaised"] == raised


async def test_a_candidate_tier_longer_than_an_objectives_window_is_bad_user_input(api):
    from tests.whatif.test_policy import LONG_TICKET

    clock = await burn_out(api.container)
    head = await api.head()
    variables = {"doc": LONG_TICKET.replace("10d", "31d"), "from": minute(0).isoformat(), "to": clock.now.isoformat()}
    refused = (await api.post(QUERY, variables, "leadership"))["errors"][0]
    assert refused["extensions"]["code"] == "BAD_USER_INPUT", refused
    assert refused["extensions"]["field"] == "alert_tiers[1].long_window", refused
    assert "checkout-availability" in refused["message"] and "31d" in refused["message"]
    assert await api.head() == head
