"""Relay connections: cursors, the page-size cap, totals and filters."""

from __future__ import annotations

import base64

from .conftest import negotiating_objective, objective_input, prioritized_journey, journey_input

PAGE = """query($first: Int, $after: String, $filter: JourneyFilter) {
  journeys(first: $first, after: $after, filter: $filter) {
    totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id } } } }"""


async def test_paging_through_seven_journeys(api):
    ids = [f"j{i}" for i in range(7)]
    for journey_id in ids:
        await api.mutate("proposeJourney", journey_input(journey_id), role="product")
    seen, after, pages = [], None, 0
    while True:
        data = (await api.ok(PAGE, {"first": 3, "after": after}))["journeys"]
        pages += 1
        assert data["totalCount"] == 7
        assert len(data["edges"]) <= 3
        seen += [edge["node"]["id"] for edge in data["edges"]]
        assert data["pageInfo"]["endCursor"] == data["edges"][-1]["cursor"]
        if not data["pageInfo"]["hasNextPage"]:
            break
        after = data["pageInfo"]["endCursor"]
    assert pages == 3
    assert seen == ids  # in creation order, no duplicates, none missing
    data = (await api.ok(PAGE, {"first": 3, "after": after}))["journeys"]
    assert data["edges"] == [] or data["pageInfo"]["hasNextPage"] is False
    data = (await api.ok("{ journeys { nodes { id } } }"))["journeys"]
    assert [n["id"] for n in data["nodes"]] == ids


async def test_page_size_cap_and_bad_cursors(api):
    for variables in ({"first": 1000}, {"first": -1}, {"after": "garbage"},
                      {"after": base64.urlsafe_b64encode(b"something:else").decode()}):
        body = await api.post(PAGE, variables)
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", variables
    body = await api.post('{ objectives(first: 101) { totalCount } }')
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    data = await api.ok(PAGE, {"first": 100})
    assert data["journeys"]["totalCount"] == 0
    assert data["journeys"]["pageInfo"] == {"hasNextPage": False, "endCursor": None}


async def test_journey_filters(api):
    await prioritized_journey(api, "checkout", tier=1)
    await prioritized_journey(api, "search", tier=2, owner="discovery-team")
    await api.mutate("proposeJourney", journey_input("returns", tier=3), role="product")
    await api.mutate("mapDependency", {"journeyId": "checkout", "service": "auth-service", "kind": "AUTH",
                                       "critical": True})
    await api.mutate("mapDependency", {"journeyId": "search", "service": "auth-service", "kind": "AUTH",
                                       "critical": False})
    await api.mutate("mapDependency", {"journeyId": "search", "service": "search-index", "kind": "DATABASE",
                                       "critical": True})

    async def ids(filter: dict) -> list[str]:
        data = (await api.ok(PAGE, {"filter": filter}))["journeys"]
        assert data["totalCount"] == len(data["edges"])
        return [e["node"]["id"] for e in data["edges"]]

    assert await ids({"tier": 1}) == ["checkout"]
    assert await ids({"tier": 3}) == ["returns"]
    assert await ids({"status": "PRIORITIZED"}) == ["checkout", "search"]
    assert await ids({"status": "PROPOSED"}) == ["returns"]
    assert await ids({"dependsOn": "auth-service"}) == ["checkout", "search"]
    assert await ids({"dependsOn": "search-index"}) == ["search"]
    assert await ids({"dependsOn": "nothing"}) == []
    assert await ids({"owner": "discovery-team"}) == ["search"]
    assert await ids({"tier": 2, "dependsOn": "auth-service"}) == ["search"]


async def test_objective_filters(api):
    await negotiating_objective(api, "checkout-availability", "checkout")
    for party in ("product", "sre", "engineering", "leadership"):
        await api.mutate("endorseProposal", {"objectiveId": "checkout-availability", "proposalId": "p1",
                                             "party": party.upper()}, role=party)
    await api.mutate("formalizeAgreement", {
        "objectiveId": "checkout-availability", "policyId": "default", "policyVersion": 0,
        "productOwner": "pat.product", "sreOwner": "sam.sre", "escalationPath": ["oncall"],
        "resourceCommitment": "20%"})
    await api.mutate("draftObjective", objective_input("checkout-latency", "checkout"))
    await prioritized_journey(api, "search")
    await api.mutate("draftObjective", objective_input("search-availability", "search"))
    await api.mutate("mapDependency", {"journeyId": "search", "service": "search-index", "kind": "DATABASE",
                                       "critical": True})

    async def ids(filter: dict) -> list[str]:
        data = await api.ok("""query($f: ObjectiveFilter) { objectives(filter: $f) {
            totalCount edges { node { id } } } }""", {"f": filter})
        assert data["objectives"]["totalCount"] == len(data["objectives"]["edges"])
        return [e["node"]["id"] for e in data["objectives"]["edges"]]

    assert await ids({}) == ["checkout-availability", "checkout-latency", "search-availability"]
    assert await ids({"journeyId": "search"}) == ["search-availability"]
    assert await ids({"status": "ACTIVE"}) == ["checkout-availability"]
    assert await ids({"status": "DRAFT"}) == ["checkout-latency", "search-availability"]
    assert await ids({"informational": False}) == ["checkout-availability"]
    assert await ids({"informational": True}) == ["checkout-latency", "search-availability"]
    assert await ids({"owner": "sam.sre"}) == ["checkout-availability"]
    assert await ids({"owner": "pat.product"}) == ["checkout-availability"]
    assert await ids({"owner": "nobody"}) == []
    assert await ids({"dependsOn": "search-index"}) == ["search-availability"]

    # A journey's objectives connection pages too.
    data = await api.ok("""{ journey(id: "checkout") { objectives(first: 1) {
        totalCount pageInfo { hasNextPage endCursor } edges { node { id } } } } }""")
    conn = data["journey"]["objectives"]
    assert conn["totalCount"] == 2 and conn["pageInfo"]["hasNextPage"] is True
    after = conn["pageInfo"]["endCursor"]
    data = await api.ok("""query($a: String) { journey(id: "checkout") { objectives(first: 1, after: $a) {
        pageInfo { hasNextPage } edges { node { id } } } } }""", {"a": after})
    assert data["journey"]["objectives"]["edges"][0]["node"]["id"] == "checkout-latency"
    assert data["journey"]["objectives"]["pageInfo"]["hasNextPage"] is False
