"""State as of a log position or a time, folded from snapshots."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select

import projections.snapshots as audit_projection
from domain import objective as objective_domain
from projections.tables import snapshots
from service import audit
from service.aggregates import fold
from tests.graphql.conftest import negotiating_objective

OBJECTIVE = """query($id: ID!, $asOf: AsOf) { objective(id: $id, asOf: $asOf) {
  id version status agreedTarget proposals { target revision status } } }"""
JOURNEY = """query($id: ID!, $asOf: AsOf) { journey(id: $id, asOf: $asOf) { id version status tier } }"""


async def objective_at(api, as_of, oid="lat"):
    return (await api.ok(OBJECTIVE, {"id": oid, "asOf": as_of}, role="auditor"))["objective"]


async def endorse_all(api, oid="lat"):
    for party in ("product", "sre", "engineering", "leadership"):
        await api.mutate("endorseProposal", {"objectiveId": oid, "proposalId": "p1", "party": party.upper()},
                         role=party)


async def test_objective_and_journey_as_of_a_position_and_a_time(api):
    await negotiating_objective(api, "lat", "checkout")
    negotiating = await api.head()
    then = await objective_at(api, None)
    assert then["status"] == "NEGOTIATING"
    await asyncio.sleep(0.01)  # distinct recorded_at for the time-based reads
    await endorse_all(api)
    now = await objective_at(api, None)
    assert now["status"] == "AGREED" and now["agreedTarget"] == 0.999

    # The old status after later changes, exactly as the live read showed it then.
    assert await objective_at(api, {"position": negotiating}) == then
    assert await objective_at(api, {"position": await api.head()}) == now
    assert await objective_at(api, {"position": 10_000}) == now  # beyond the head: the head

    # Before it was drafted: null. Its journey existed already.
    drafted = (await api.ok('{ events(filter: {types: ["ObjectiveDrafted"]}) { nodes { position recordedAt } } }',
                            role="auditor"))["events"]["nodes"][0]
    assert await objective_at(api, {"position": drafted["position"] - 1}) is None
    assert await objective_at(api, {"position": 0}) is None
    journey = (await api.ok(JOURNEY, {"id": "checkout", "asOf": {"position": drafted["position"] - 1}}))["journey"]
    assert journey["status"] == "PRIORITIZED"
    assert (await api.ok(JOURNEY, {"id": "checkout", "asOf": {"position": 1}}))["journey"]["status"] == "PROPOSED"
    assert (await api.ok(JOURNEY, {"id": "checkout", "asOf": {"position": 0}}))["journey"] is None

    # Time: the last event recorded at or before it.
    at_negotiating = (await api.ok("query($p: Int!) { event(position: $p) { recordedAt } }",
                                   {"p": negotiating}))["event"]["recordedAt"]
    assert await objective_at(api, {"time": at_negotiating}) == then
    assert await objective_at(api, {"time": drafted["recordedAt"]}) is not None
    from datetime import datetime
    before_all = (datetime.fromisoformat(drafted["recordedAt"]) - timedelta(days=1)).isoformat()
    assert await objective_at(api, {"time": before_all}) is None

    # Lists as of a moment: what existed then, as it stood then.
    listed = (await api.ok("""query($p: Int!) { objectives(asOf: {position: $p}) { totalCount nodes { id status } }
        journeys(asOf: {position: $p}) { totalCount nodes { id status } } }""", {"p": negotiating}))
    assert listed["objectives"] == {"totalCount": 1, "nodes": [{"id": "lat", "status": "NEGOTIATING"}]}
    assert listed["journeys"]["nodes"] == [{"id": "checkout", "status": "PRIORITIZED"}]
    filtered = (await api.ok("""query($p: Int!) { a: objectives(asOf: {position: $p}, filter: {status: AGREED}) {
        totalCount } b: objectives(filter: {status: AGREED}) { totalCount }
        c: objectives(asOf: {position: 1}) { totalCount } }""", {"p": negotiating}))
    assert filtered == {"a": {"totalCount": 0}, "b": {"totalCount": 1}, "c": {"totalCount": 0}}


async def test_as_of_input_errors(api):
    for as_of in ({}, {"position": 1, "time": "2026-01-01T00:00:00+00:00"}, {"position": -1},
                  {"time": "2026-01-01T00:00:00"}):
        body = await api.post(OBJECTIVE, {"id": "lat", "asOf": as_of})
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", (as_of, body)


async def test_snapshots_keep_the_fold_short_and_rebuild_equals_live(api, monkeypatch):
    monkeypatch.setattr(audit_projection, "SNAPSHOT_EVERY", 3)
    monkeypatch.setattr(audit_projection, "BYTES_PER_EVENT", 10**6)  # small states: every N (test_snapshots: sizes)
    container = api.container
    await negotiating_objective(api, "lat", "checkout")
    for i in range(7):
        await api.mutate("reviseProposal", {"objectiveId": "lat", "proposalId": "p1", "target": 0.99 + i / 1000,
                                            "rationale": f"round {i}"}, role="product")
    await endorse_all(api)
    stream = await container.store.read_stream("objective-lat")
    assert len(stream) >= 12

    async with container.read_engine.connect() as conn:
        live = sorted(tuple(r) for r in (await conn.execute(select(snapshots))).all())
    versions = [r[1] for r in live if r[0] == "objective-lat"]
    assert versions == [v for v in range(3, len(stream) + 1, 3)]
    # Each snapshot is the state folded from the start.
    for stream_id, version, position, state in live:
        if stream_id == "objective-lat":
            folded = fold(objective_domain.evolve, None, stream[:version])
            assert state == audit_projection.encode(objective_domain.to_dict(folded))
            assert position == stream[version - 1].position

    # As of every position, from a snapshot or not, the same as folding from the start.
    head = await api.head()
    for position in range(0, head + 1):
        expected = fold(objective_domain.evolve, None, [e for e in stream if e.position <= position])
        got = await audit.state_as_of(container, "objective-lat", position)
        assert objective_domain.to_dict(got) == objective_domain.to_dict(expected), position

    # A snapshot read at the head skips the events below it.
    async with container.read_engine.connect() as conn:
        latest = await audit_projection.latest_snapshot(conn, "objective-lat", head)
    assert latest is not None and latest[0] == versions[-1]

    await container.projections.rebuild(["snapshots", "event_index"])
    async with container.read_engine.connect() as conn:
        assert sorted(tuple(r) for r in (await conn.execute(select(snapshots))).all()) == live
