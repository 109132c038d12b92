"""attachWhatIfEvidence: a target or policy what-if attached to an open proposal is an event
on the objective's stream, shown with the proposal when a party endorses; refusals append
nothing (SQLite and PostgreSQL)."""

from __future__ import annotations

import json

from domain import objective as o
from tests.budgets.support import do
from tests.policies.support import OID, minute, observe
from tests.whatif.support import APPROVAL_ONLY, burn_out

EVIDENCE = "evidence { id kind revision inputs summary position attachedBy }"
ATTACH = f"""mutation($input: AttachWhatIfEvidenceInput!) {{ attachWhatIfEvidence(input: $input) {{
  objective {{ proposals {{ id {EVIDENCE} }} }} events {{ type }} }} }}"""
ENDORSE = f"""mutation($input: EndorseProposalInput!) {{ endorseProposal(input: $input) {{
  objective {{ proposals {{ id {EVIDENCE} }} }} }} }}"""


async def test_a_proposal_carries_the_what_ifs_the_parties_saw(api):
    clock = await burn_out(api.container)
    await do(api.container, "product", o.ProposeTarget(OID, "p2", 0.9995, "customers ask for more"))
    span = {"objectiveId": OID, "proposalId": "p2", "from": minute(0).isoformat(), "to": clock.now.isoformat()}
    head = await api.head()
    body = (await api.ok(ATTACH, {"input": {**span, "kind": "target"}}, "product"))["attachWhatIfEvidence"]
    assert [e["type"] for e in body["events"]] == ["WhatIfEvidenceAttached"]
    (target,) = next(p for p in body["objective"]["proposals"] if p["id"] == "p2")["evidence"]
    assert target["kind"] == "target" and target["position"] == head and target["attachedBy"] == "product-person"
    assert json.loads(target["inputs"])["target"] == 0.9995  # the proposal's own target
    summary = json.loads(target["summary"])
    assert summary["what_if"]["target"] == 0.9995 and summary["actual"]["target"] == 0.999
    assert summary["what_if"]["exhaustions"]

    await api.ok(ATTACH, {"input": {**span, "kind": "policy", "document": APPROVAL_ONLY}}, "leadership")
    shown = (await api.ok(ENDORSE, {"input": {"objectiveId": OID, "proposalId": "p2", "party": "SRE"}}, "sre"))
    evidence = next(p for p in shown["endorseProposal"]["objective"]["proposals"] if p["id"] == "p2")["evidence"]
    assert [(e["id"], e["kind"]) for e in evidence] == [("evidence-1", "target"), ("evidence-2", "policy")]
    policy = json.loads(evidence[1]["summary"])
    assert policy["changed"] == 1 and policy["freezes"] == {"actual": 1, "what_if": 0}
    assert json.loads(evidence[1]["inputs"])["document"]["rules"][0]["id"] == "approve-when-exhausted"

    # Refused, appending nothing: an agreed proposal, a kind that is none, a role that is no party.
    for variables, role, code in (({**span, "proposalId": "p1", "kind": "target"}, "sre", "CONFLICT"),
                                  ({**span, "kind": "chart"}, "sre", "BAD_USER_INPUT"),
                                  ({**span, "kind": "policy"}, "sre", "BAD_USER_INPUT"),
                                  ({**span, "kind": "target"}, "ci", "FORBIDDEN")):
        before = await api.head()
        refused = await api.post(ATTACH, {"input": variables}, role)
        assert refused["errors"][0]["extensions"]["code"] == code, (variables, refused)
        assert await api.head() == before


async def test_a_retried_attachment_is_answered_from_the_record_after_the_log_moved_on(api):
    """The same request with the same key after more data arrived: a run now would read
    further (another position, another summary), yet the retry is the first answer and
    appends nothing; the key with another request is a CONFLICT, before any run."""
    clock = await burn_out(api.container)
    await do(api.container, "product", o.ProposeTarget(OID, "p2", 0.9995, "customers ask for more"))
    sent = {"objectiveId": OID, "proposalId": "p2", "kind": "target", "from": minute(0).isoformat(),
            "to": clock.now.isoformat(), "idempotencyKey": "evidence-p2"}
    first = (await api.ok(ATTACH, {"input": sent}, "product"))["attachWhatIfEvidence"]
    assert [e["type"] for e in first["events"]] == ["WhatIfEvidenceAttached"]

    await observe(api.container, 80, 85, 0, 1000)  # the log moves on: the stream's head too
    head = await api.head()
    again = (await api.ok(ATTACH, {"input": sent}, "product"))["attachWhatIfEvidence"]
    assert again == first
    assert await api.head() == head
    replayed = await api.ok(ATTACH.replace("events { type }", "replayed events { type }"), {"input": sent}, "product")
    assert replayed["attachWhatIfEvidence"]["replayed"] is True

    for other, role in (({**sent, "target": 0.99}, "product"),
                        ({**sent, "kind": "policy", "document": APPROVAL_ONLY}, "product"), (sent, "sre")):
        refused = await api.post(ATTACH, {"input": other}, role)
        assert refused["errors"][0]["extensions"]["code"] == "CONFLICT", refused
        assert await api.head() == head


async def test_a_target_what_if_attached_takes_the_budgeting_candidate_the_cli_and_whatiftarget_take(api):
    """The candidate of attachWhatIfEvidence is the set whatIfTarget and `slogov whatif target
    --attach` take (target, window, budgeting, tiers): a budgeting method is run and kept in the
    evidence's inputs; a bad one is BAD_USER_INPUT naming the field, and appends nothing."""
    clock = await burn_out(api.container)
    await do(api.container, "product", o.ProposeTarget(OID, "p2", 0.9995, "customers ask for more"))
    span = {"objectiveId": OID, "proposalId": "p2", "kind": "target", "from": minute(0).isoformat(),
            "to": clock.now.isoformat()}
    slices = {"method": "TIMESLICES", "sliceMinutes": 5, "sliceThreshold": 0.95}
    body = (await api.ok(ATTACH, {"input": {**span, "budgeting": slices}}, "product"))["attachWhatIfEvidence"]
    (evidence,) = next(p for p in body["objective"]["proposals"] if p["id"] == "p2")["evidence"]
    assert json.loads(evidence["inputs"])["budgeting"] == {"method": "timeslices", "slice_minutes": 5,
                                                           "slice_threshold": 0.95}
    direct = await api.ok("""query($o: ID!, $f: DateTime!, $t: DateTime!, $b: BudgetingInput) {
      whatIfTarget(objectiveId: $o, from: $f, to: $t, target: 0.9995, budgeting: $b) {
        whatIf { attainment budgetSpent } } }""",
                          {"o": OID, "f": span["from"], "t": span["to"], "b": slices}, "product")
    summary = json.loads(evidence["summary"])["what_if"]
    assert summary["attainment"] == direct["whatIfTarget"]["whatIf"]["attainment"]
    assert summary["budget_spent"] == direct["whatIfTarget"]["whatIf"]["budgetSpent"]

    for bad, field in (({"method": "TIMESLICES", "sliceMinutes": 0, "sliceThreshold": 0.95}, "budgeting.slice_minutes"),
                       ({"method": "TIMESLICES", "sliceMinutes": 5, "sliceThreshold": 1.5}, "budgeting.slice_threshold")):
        before = await api.head()
        refused = await api.post(ATTACH, {"input": {**span, "budgeting": bad}}, "product")
        error = refused["errors"][0]
        assert error["extensions"]["code"] == "BAD_USER_INPUT", refused
        assert error["extensions"]["field"] == field, refused
        assert await api.head() == before
    before = await api.head()  # a policy what-if takes only its document
    refused = await api.post(ATTACH, {"input": {**span, "kind": "policy", "document": APPROVAL_ONLY,
                                                "budgeting": slices}}, "product")
    assert refused["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", refused
    assert await api.head() == before
