"""What an agreed objective's rules are made from, or why it has none yet (service.monitoring.monitored)."""

from __future__ import annotations

from domain import conventions, objective
from domain.budget.burn import DEFAULT_TIERS
from domain.labels import labels_of
from domain.monitoring import tier_key
from service.monitoring import monitored

from tests.domain.support import adopt_versions, agree, drafted_objective, propose
from tests.domain.test_measurement import OID, RATIO, world_with_source

RUNBOOKS = {tier_key(t): f"https://rb.example/{tier_key(t)}" for t in DEFAULT_TIERS}


def _formalize(world, runbooks):
    adopt_versions(world, "default-policy", 1)
    world.run(objective.FormalizeAgreement(OID, "default-policy", 1, "pat", "sam", ("sre-oncall", "vp"), "20%",
                                           runbooks), roles={"sre"})


def test_each_reason_an_agreed_objective_has_no_rules_yet_then_its_rules():
    w = world_with_source()
    drafted_objective(w)
    propose(w)
    agree(w)
    unset = conventions.UNSET
    assert monitored(w.objective(OID), None, unset).startswith("agreed but not formalized")
    _formalize(w, None)
    assert monitored(w.objective(OID), None, unset).startswith("no SLI definition")
    w.run(objective.DefineSli(OID, RATIO, proposal_id="s1", rationale="queries"), roles={"sre"})
    agree(w, "s1")
    assert monitored(w.objective(OID), None, unset) == (
        "its agreement names no runbooks: formalize it again with one per tier (page_1h_5m, page_6h_30m, ticket_3d_6h)")
    _formalize(w, RUNBOOKS)
    w.run(objective.LabelObjective(OID, labels=labels_of({"team": ["payments"]})), roles={"sre"})
    made = monitored(w.objective(OID), w.journey("checkout"), unset)
    assert (made.owner, made.target, made.window, made.runbooks, made.tiers) == (
        "sam", 0.999, "rolling 28d", RUNBOOKS, DEFAULT_TIERS)
    assert made.agreement_id == f"{OID}/s1/default-policy@v1"  # the proposal agreed last: the SLI change and made.team_labels == {"team": "payments"}
    assert made.sli.source == "prom"
