"""The seed's phases end to end through the GraphQL API, each party with its own token."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from .conftest import (
    journey_input,
    negotiating_objective,
    objective_input,
    baseline_input,
)


async def test_seed_phases_end_to_end(api):
    # Phase 1: propose and prioritize (a business decision).
    proposed = await api.mutate("proposeJourney", journey_input("checkout"), role="product")
    assert proposed["journey"] == {
        "id": "checkout", "version": 1, "status": "PROPOSED", "tier": 1, "owner": "checkout-team",
        "name": "Journey checkout",
    }
    assert [e["type"] for e in proposed["events"]] == ["JourneyProposed"]
    assert proposed["events"][0]["streamId"] == "journey-checkout"
    assert proposed["events"][0]["streamVersion"] == 1
    assert proposed["replayed"] is False

    prioritized = await api.mutate(
        "prioritizeJourney",
        {"journeyId": "checkout", "priority": 1, "tier": 1, "rationale": "largest revenue", "expectedVersion": 1},
        role="leadership",
    )
    assert prioritized["journey"]["status"] == "PRIORITIZED"
    assert prioritized["journey"]["version"] == 2

    # Phase 2: scope.
    await api.mutate("documentJourneyScope", {
        "journeyId": "checkout", "includes": ["cart", "payment"], "excludes": ["search"],
        "startsAt": "cart page", "endsAt": "confirmation", "successCriteria": "order confirmed",
        "workshopParticipants": ["product", "sre", "engineering"],
    }, role="product")

    # Phase 3: dependencies.
    for service, kind, critical in (("checkout-api", "SERVICE", True), ("orders-db", "DATABASE", True),
                                    ("vectors", "VECTOR_STORE", False), ("llm", "INFERENCE_ENDPOINT", True)):
        await api.mutate("mapDependency", {"journeyId": "checkout", "service": service, "kind": kind,
                                           "critical": critical, "failureModes": ["timeouts"]}, role="engineering")
    data = await api.ok("""{ journey(id: "checkout") {
        id version status business { revenueImpact supportVolume }
        prioritization { priority rationale decidedBy role decidedAt }
        scope { includes excludes workshopParticipants documentedBy documentedAt }
        dependencies { service kind critical failureModes } criticalServices
        proposedBy proposedAt updatedAt } }""", role="auditor")
    journey = data["journey"]
    assert journey["version"] == 7
    assert journey["business"] == {"revenueImpact": "all revenue", "supportVolume": 42}
    assert journey["prioritization"]["decidedBy"] == "leadership-person"
    assert journey["prioritization"]["role"] == "leadership"
    assert journey["scope"]["includes"] == ["cart", "payment"]
    assert journey["scope"]["documentedBy"] == "product-person"
    assert [d["kind"] for d in journey["dependencies"]] == ["SERVICE", "DATABASE", "VECTOR_STORE", "INFERENCE_ENDPOINT"]
    assert journey["criticalServices"] == ["checkout-api", "orders-db", "llm"]
    assert journey["proposedBy"] == "product-person"
    # Times carry a zone.
    for at in (journey["proposedAt"], journey["updatedAt"], journey["prioritization"]["decidedAt"]):
        assert datetime.fromisoformat(at).tzinfo is not None

    # Phase 4: objective, baseline, proposal.
    drafted = await api.mutate("draftObjective", objective_input("checkout-availability", "checkout"))
    assert drafted["objective"]["status"] == "DRAFT"
    assert drafted["objective"]["informational"] is True
    await api.mutate("recordBaseline", baseline_input("checkout-availability"))
    proposed = await api.mutate("proposeTarget", {
        "objectiveId": "checkout-availability", "proposalId": "p1", "target": 0.999,
        "rationale": "baseline 99.91%",
    }, role="product")
    objective = proposed["objective"]
    assert objective["status"] == "NEGOTIATING"
    assert objective["proposals"][0]["target"] == 0.999
    assert objective["proposals"][0]["awaiting"] == ["PRODUCT", "SRE", "ENGINEERING", "LEADERSHIP"]

    # Every party endorses with its own token.
    last = None
    for party in ("product", "sre", "engineering", "leadership"):
        last = await api.mutate("endorseProposal", {
            "objectiveId": "checkout-availability", "proposalId": "p1", "party": party.upper(),
            "comment": "agreed in the workshop",
        }, role=party)
    objective = last["objective"]
    assert objective["status"] == "AGREED"
    assert objective["agreedTarget"] == 0.999
    assert objective["informational"] is True
    assert objective["proposals"][0]["status"] == "AGREED"
    assert objective["proposals"][0]["awaiting"] == []
    assert [e["type"] for e in last["events"]] == ["ProposalEndorsed", "TargetAgreed"]
    positions = [e["position"] for e in last["events"]]
    assert positions == sorted(positions) and positions[1] == positions[0] + 1

    # Phase 5: formalize.
    formalized = await api.mutate("formalizeAgreement", {
        "objectiveId": "checkout-availability", "policyId": "default", "policyVersion": 0,
        "productOwner": "pat.product", "sreOwner": "sam.sre",
        "escalationPath": ["sre-oncall", "eng-manager", "vp-eng"], "resourceCommitment": "20% capacity",
    })
    objective = formalized["objective"]
    assert objective["status"] == "ACTIVE"
    assert objective["informational"] is False
    assert objective["owners"] == ["pat.product", "sam.sre"]

    history = objective["negotiationHistory"]
    assert [(h["kind"], h["actor"]) for h in history] == [
        ("BaselineRecorded", "sre-person"),
        ("TargetProposed", "product-person"),
        ("ProposalEndorsed", "product-person"),
        ("ProposalEndorsed", "sre-person"),
        ("ProposalEndorsed", "engineering-person"),
        ("ProposalEndorsed", "leadership-person"),
        ("TargetAgreed", "leadership-person"),
        ("AgreementFormalized", "sre-person"),
    ]
    assert all(h["detail"] for h in history)

    # The objective reads back with its journey; the journey lists it.
    data = await api.ok("""{ objective(id: "checkout-availability") {
        id status sli { kind description } window { kind days } budgeting { method }
        baseline { good total attainment recordedBy periodEnd }
        agreement { policyId policyVersion escalationPath formalizedBy }
        journey { id status } }
        journey(id: "checkout") { objectives { totalCount edges { node { id status } } } } }""", role="ci")
    o = data["objective"]
    assert o["sli"] == {"kind": "AVAILABILITY", "description": "orders / attempts"}
    assert o["window"] == {"kind": "ROLLING", "days": 30}
    assert o["budgeting"] == {"method": "OCCURRENCES"}
    assert o["baseline"]["attainment"] == 0.99912
    assert o["agreement"]["escalationPath"] == ["sre-oncall", "eng-manager", "vp-eng"]
    assert o["journey"] == {"id": "checkout", "status": "PRIORITIZED"}
    assert data["journey"]["objectives"]["totalCount"] == 1
    assert data["journey"]["objectives"]["edges"][0]["node"] == {"id": "checkout-availability", "status": "ACTIVE"}


async def test_objection_revision_and_re_endorsement(api):
    await negotiating_objective(api, "lat", "checkout")
    await api.mutate("endorseProposal", {"objectiveId": "lat", "proposalId": "p1", "party": "SRE"}, role="sre")
    objected = await api.mutate("objectToProposal", {
        "objectiveId": "lat", "proposalId": "p1", "party": "ENGINEERING", "objection": "TOO_STRICT",
        "reason": "baseline is lower than that",
    }, role="engineering")
    proposal = objected["objective"]["proposals"][0]
    assert proposal["positions"][-1] == {
        "party": "ENGINEERING", "stance": "OBJECTED", "objection": "TOO_STRICT",
        "actor": "engineering-person", "revision": 1,
    }
    assert "ENGINEERING" in proposal["awaiting"]

    revised = await api.mutate("reviseProposal", {
        "objectiveId": "lat", "proposalId": "p1", "target": 0.995, "rationale": "meet engineering halfway",
    }, role="product")
    proposal = revised["objective"]["proposals"][0]
    assert proposal["revision"] == 2 and proposal["target"] == 0.995
    # Every party must speak again on the new revision.
    assert proposal["awaiting"] == ["PRODUCT", "SRE", "ENGINEERING", "LEADERSHIP"]

    for party in ("engineering", "sre", "product", "leadership"):
        last = await api.mutate("endorseProposal", {"objectiveId": "lat", "proposalId": "p1", "party": party.upper()},
                                role=party)
    assert last["objective"]["status"] == "AGREED"
    assert last["objective"]["agreedTarget"] == 0.995
    assert "TargetAgreed" in [e["type"] for e in last["events"]]
    kinds = [h["kind"] for h in last["objective"]["negotiationHistory"]]
    assert kinds.count("ProposalRevised") == 1 and kinds.count("ProposalObjected") == 1


async def test_withdraw_defer_and_retire(api):
    await negotiating_objective(api, "o1", "checkout")
    withdrawn = await api.mutate("withdrawProposal", {"objectiveId": "o1", "proposalId": "p1",
                                                      "reason": "wrong SLI"}, role="product")
    assert withdrawn["objective"]["status"] == "DRAFT"
    assert withdrawn["objective"]["proposals"][0]["status"] == "WITHDRAWN"

    await api.mutate("proposeTarget", {"objectiveId": "o1", "proposalId": "p2", "target": 0.99,
                                       "rationale": "start lower", "requiredParties": ["PRODUCT", "SRE"]})
    revisit = (datetime.now(timezone.utc) + timedelta(days=30)).isoformat()
    deferred = await api.mutate("deferNegotiation", {"objectiveId": "o1", "proposalId": "p2",
                                                     "reason": "after the capacity upgrade", "revisitOn": revisit},
                                role="leadership")
    assert deferred["objective"]["status"] == "DRAFT"
    data = await api.ok('{ objective(id: "o1") { proposals { id status requiredParties revisitOn closedReason } } }')
    p2 = data["objective"]["proposals"][1]
    assert p2["status"] == "DEFERRED" and p2["requiredParties"] == ["PRODUCT", "SRE"]
    assert datetime.fromisoformat(p2["revisitOn"]).tzinfo is not None
    assert p2["closedReason"] == "after the capacity upgrade"

    retired = await api.mutate("retireObjective", {"objectiveId": "o1", "reason": "journey redesigned"},
                               role="product")
    assert retired["objective"]["status"] == "RETIRED"
    assert [e["type"] for e in retired["events"]] == ["ObjectiveRetired"]

    # Gaps: record, close; dependency removal; journey retirement.
    gap = await api.mutate("recordInstrumentationGap", {"journeyId": "checkout", "gapId": "g1",
                                                        "description": "no client timing", "sliKind": "LATENCY"})
    closed = await api.mutate("closeInstrumentationGap", {"journeyId": "checkout", "gapId": "g1",
                                                          "resolution": "RUM added"})
    assert closed["journey"]["version"] == gap["journey"]["version"] + 1
    data = await api.ok('{ journey(id: "checkout") { gaps { id open sliKind resolution closedAt } openGaps { id } } }')
    assert data["journey"]["gaps"][0]["open"] is False and data["journey"]["gaps"][0]["sliKind"] == "LATENCY"
    assert data["journey"]["openGaps"] == []
    await api.mutate("mapDependency", {"journeyId": "checkout", "service": "auth", "kind": "AUTH", "critical": True})
    removed = await api.mutate("removeDependency", {"journeyId": "checkout", "service": "auth", "reason": "moved"})
    assert [e["type"] for e in removed["events"]] == ["DependencyRemoved"]
    retired = await api.mutate("retireJourney", {"journeyId": "checkout", "reason": "replaced"}, role="product")
    assert retired["journey"]["status"] == "RETIRED"
