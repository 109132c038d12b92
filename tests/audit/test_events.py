"""The log for auditors: filters, metadata, paging, and the causation chain."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from policies.loader import POLICY_DIR
from tests.graphql.conftest import journey_input, negotiating_objective
from tests.policies.support import OID, Clock, active_objective, observe

FIELDS = """position eventId streamId streamVersion type schemaVersion recordedAt data metadata actor role
  reason command commandId causationId correlationId idempotencyKey hash prevHash"""
EVENTS = f"""query($first: Int, $after: String, $filter: EventFilter) {{
  events(first: $first, after: $after, filter: $filter) {{ totalCount pageInfo {{ hasNextPage endCursor }}
    edges {{ cursor node {{ {FIELDS} }} }} }} }}"""


async def events(api, role="auditor", **variables) -> dict:
    return (await api.ok(EVENTS, variables, role=role))["events"]


async def test_filters_metadata_and_paging(api):
    await api.mutate("proposeJourney", journey_input("checkout"), role="product")
    # A request's id becomes the correlation id of everything it appends.
    response = await api.client.post(
        "/graphql",
        headers={"Authorization": f"Bearer {api.tokens['leadership']}", "X-Request-Id": "req-prioritize-1"},
        json={"query": """mutation { prioritizeJourney(input: {journeyId: "checkout", priority: 1, tier: 1,
              rationale: "revenue", idempotencyKey: "k-1"}) { replayed } }"""},
    )
    assert not response.json().get("errors"), response.json()
    await negotiating_objective(api, "search-latency", "search")
    head = await api.head()

    everything = await events(api)
    assert everything["totalCount"] == head
    nodes = [e["node"] for e in everything["edges"]]
    assert [n["position"] for n in nodes] == list(range(1, head + 1))
    # Each event chains onto the one before it.
    assert nodes[0]["prevHash"] == "0" * 64
    assert all(b["prevHash"] == a["hash"] for a, b in zip(nodes, nodes[1:]))

    by_stream = await events(api, filter={"streamId": "journey-checkout"})
    assert [e["node"]["type"] for e in by_stream["edges"]] == ["JourneyProposed", "JourneyPrioritized"]
    assert by_stream["totalCount"] == 2
    prioritized = by_stream["edges"][1]["node"]
    assert prioritized["actor"] == "leadership-person" and prioritized["role"] == "leadership"
    assert prioritized["correlationId"] == "req-prioritize-1"
    assert prioritized["command"] == "PrioritizeJourney" and prioritized["idempotencyKey"] == "k-1"
    assert prioritized["causationId"] == prioritized["commandId"]  # a command's own event
    assert prioritized["data"]["rationale"] == "revenue"
    assert prioritized["metadata"]["actor"] == "leadership-person"

    correlated = await events(api, filter={"correlationId": "req-prioritize-1"})
    assert [e["node"]["position"] for e in correlated["edges"]] == [prioritized["position"]]

    by_actor = await events(api, filter={"actor": "product-person"})
    assert {e["node"]["type"] for e in by_actor["edges"]} == {"JourneyProposed"}
    assert by_actor["totalCount"] == 2  # checkout and search

    by_type = await events(api, filter={"types": ["TargetProposed", "BaselineRecorded"]})
    assert [e["node"]["type"] for e in by_type["edges"]] == ["BaselineRecorded", "TargetProposed"]
    both = await events(api, filter={"types": ["JourneyProposed"], "actor": "product-person",
                                     "streamId": "journey-search"})
    assert [e["node"]["streamId"] for e in both["edges"]] == ["journey-search"]

    # Time range: both ends inclusive.
    at = prioritized["recordedAt"]
    since = await events(api, filter={"since": at})
    assert since["edges"][0]["node"]["position"] <= prioritized["position"]
    assert all(e["node"]["recordedAt"] >= at for e in since["edges"])
    until = await events(api, filter={"until": at})
    assert until["edges"][-1]["node"]["position"] >= prioritized["position"]
    future = (datetime.now(timezone.utc) + timedelta(days=1)).isoformat()
    assert (await events(api, filter={"since": future}))["totalCount"] == 0

    # Pages never skip or repeat an event.
    seen, after = [], None
    while True:
        page = await events(api, first=2, after=after)
        seen += [e["node"]["position"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == list(range(1, head + 1))

    one = (await api.ok("query($p: Int!) { event(position: $p) { type streamId } }", {"p": 1}, role="ci"))["event"]
    assert one == {"type": "JourneyProposed", "streamId": "journey-checkout"}
    assert (await api.ok("{ event(position: 99999) { type } }"))["event"] is None


async def test_bad_input_and_no_token(api):
    body = await api.post(EVENTS, {"first": 101})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    body = await api.post(EVENTS, {"after": "not-a-cursor"})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    body = await api.post(EVENTS, {"filter": {"since": "2026-01-01T00:00:00"}})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    body = await api.post(EVENTS, role=None)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_why_did_this_freeze_start(api):
    container = api.container
    container.store.clock = Clock()
    await api.ok("""mutation($input: AdoptPolicyInput!) { adoptPolicy(input: $input) { adopted } }""",
                 {"input": {"document": (POLICY_DIR / "default.yaml").read_text()}}, role="leadership")
    await active_objective(container)
    await observe(container, 0, 60, 1000, 1000)
    await observe(container, 60, 70, 0, 1000)  # the budget burns out: a freeze

    walk = f"""{{ events(filter: {{types: ["FreezeStarted"]}}) {{ nodes {{ {FIELDS}
        causes(transitive: true) {{ type streamId causationId eventId data actor role }}
        direct: causes {{ type eventId }} }} }} }}"""
    freezes = (await api.ok(walk, role="auditor"))["events"]["nodes"]
    assert len(freezes) == 1
    freeze = freezes[0]
    assert freeze["actor"] == "slogov" and freeze["role"] == "system" and freeze["command"] is None
    chain = freeze["causes"]
    # freeze <- budget exhausted <- the observations that exhausted it (a command's event: the chain ends).
    assert [c["type"] for c in chain][:1] == ["BudgetExhausted"]
    assert chain[-1]["type"] == "ObservationsRecorded" and chain[-1]["role"] != "system"
    assert freeze["direct"] == [{"type": chain[0]["type"], "eventId": chain[0]["eventId"]}]
    assert freeze["causationId"] == chain[0]["eventId"]
    for child, parent in zip([freeze] + chain, chain):
        assert child["causationId"] == parent["eventId"]
    # All of it shares the observing command's correlation id.
    observed = chain[-1]
    assert observed["causationId"] is not None

    # And forwards: what did those observations cause?
    forward = """query($f: EventFilter) { events(filter: $f) { nodes { type
        consequences { type } all: consequences(transitive: true) { type position } } } }"""
    nodes = (await api.ok(forward, {"f": {"types": ["ObservationsRecorded"], "streamId": observed["streamId"]}},
                          role="auditor"))["events"]["nodes"]
    last = nodes[-1]
    assert "BudgetExhausted" in [c["type"] for c in last["consequences"]]
    assert "FreezeStarted" not in [c["type"] for c in last["consequences"]]
    assert "FreezeStarted" in [c["type"] for c in last["all"]]
    positions = [c["position"] for c in last["all"]]
    assert positions == sorted(positions)
    # The first observations caused nothing.
    assert nodes[0]["consequences"] == [] or "BudgetExhausted" not in [c["type"] for c in nodes[0]["consequences"]]
    # Filtering by causation id lists the same consequences.
    by_cause = (await api.ok("query($c: String) { events(filter: {causationId: $c}) { nodes { type } } }",
                             {"c": chain[0]["eventId"]}, role="auditor"))["events"]["nodes"]
    assert "FreezeStarted" in [n["type"] for n in by_cause]
    assert OID in freeze["streamId"]
