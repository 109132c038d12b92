"""An ObservationsRecorded stored by an earlier release (schema version 2: an object per
interval) beside today's (version 3: runs), through the real container on SQLite and
PostgreSQL. Read back it is version 3, runs and all, while the log keeps its stored text
(the export, the hash chain, the auditor's GraphQL log); and an objective whose first
hours were stored so budgets exactly as one whose whole history came today: the same
derived events, read models, gate answer and report, live and after a rebuild, and the
same ledger folded from the export."""

from __future__ import annotations

import json
from datetime import datetime

from domain.budget import decider
from domain.budget.instants import to_us
from domain.events import NewEvent, RecordedEvent
from eventstore.export import export_lines
from eventstore.upcasting import Upcasters
from eventstore.verify import verify_chain
from service.upcasters import register_upcasters
from tests.budgets.support import minute
from tests.budgets.test_batching import _same_names, adopt_default, derived_view, fixed_clock, governed_objective, send
from tests.service.test_rebuild import snapshot

# (start minute, end minute, good, total): three healthy hours, then an hour that burns.
EARLY = [(m, m + 1, 1000, 1000) for m in range(180)]
LATER = [(m, m + 1, 1000 if m % 3 else 980, 1000) for m in range(180, 240)]


def version_two(oid: str, history) -> NewEvent:
    """What an earlier release appended for `history`: an object per interval."""
    return NewEvent("ObservationsRecorded", {"objective_id": oid, "backfill": False, "intervals": [
        {"start": minute(s).isoformat(), "end": minute(e).isoformat(), "good": g, "total": t} for s, e, g, t in history]}, 2)


async def append_as_stored_before(container, oid: str, history) -> int:
    """Append the version 2 event with no decider, then project it (as its release did)."""
    stream = f"budget-{oid}"
    async with container.store.transaction([stream]) as tx:
        await tx.load_versions([stream])
        [recorded] = tx.append(stream, [version_two(oid, history)], {"actor": "monitoring-person", "role": "sre"})
    await container.projections.rebuild()
    return recorded.position


async def test_a_version_two_batch_reads_as_runs_and_budgets_as_if_written_today(api):
    container = api.container
    fixed_clock(container)
    await adopt_default(container)
    views, positions = {}, {}
    for name in ("stored", "today"):
        oid = await governed_objective(container, f"{name}-")
        await send(container, oid, EARLY[:1], [])  # the budget's config, by the decider
        if name == "stored":
            positions[name] = await append_as_stored_before(container, oid, EARLY[1:])
        else:
            await send(container, oid, EARLY[1:], [])
        await send(container, oid, LATER, [0, 30])
        views[name] = await derived_view(container, oid, f"{name}-")
    assert views["stored"] == views["today"]
    assert [t for t, *_ in views["today"]["derived"]][-1] == "BurnRateAlertRaised"  # the later hour burns

    # Read back: version 3 with runs, the same as written today; the export keeps the stored text.
    position = positions["stored"]
    [event] = await container.store.read_all(position - 1, 1)
    runs = [{"start": minute(1).isoformat(), "step_us": 60_000_000, "good": [1000] * 179, "total": [1000] * 179}]
    assert (event.type, event.schema_version, event.data) == \
        ("ObservationsRecorded", 3, {"objective_id": "stored-obj", "backfill": False, "runs": runs})
    lines = [json.loads(line) async for line in export_lines(container.engines)]
    stored = lines[position - 1]
    assert stored["schema_version"] == 2 and stored["data"] == json.loads(json.dumps(version_two("stored-obj", EARLY[1:]).data))
    assert all(e["schema_version"] == 3 and "runs" in e["data"] for e in lines
               if e["type"] == "ObservationsRecorded" and e["position"] != position)
    assert (await verify_chain(container.engines)).ok

    # The auditor's GraphQL log shows each event as stored (the bytes its hash covers):
    # today's as runs, the earlier release's as it wrote it.
    query = """query($f: EventFilter) { events(filter: $f) { nodes { position schemaVersion data } } }"""
    nodes = (await api.ok(query, {"f": {"types": ["ObservationsRecorded"], "streamId": "budget-stored-obj"}},
                          role="auditor"))["events"]["nodes"]
    assert [(n["position"], n["schemaVersion"], n["data"]) for n in nodes] == \
        [(e["position"], e["schema_version"], e["data"]) for e in lines
         if e["type"] == "ObservationsRecorded" and e["stream_id"] == "budget-stored-obj"]
    assert [n["schemaVersion"] for n in nodes] == [3, 2, 3, 3] and nodes[0]["data"]["runs"] == [
        {"start": minute(0).isoformat(), "step_us": 60_000_000, "good": [1000], "total": [1000]}]

    # The export, upcast and folded by the decider, is the ledger each stream holds.
    registry = Upcasters()
    register_upcasters(registry)
    folded = {}
    for name in ("stored", "today"):
        state = None
        for e in (e for e in lines if e["stream_id"] == f"budget-{name}-obj"):
            version, data = registry.upcast(e["type"], e["schema_version"], e["data"])
            state = decider.evolve(state, _recorded(e, version, data))
        folded[name] = _same_names((state.ledger.to_dict(), str(state.status())), f"{name}-")
        assert state.ledger.to_dict()["intervals"][0][0] == to_us(minute(0)) and len(state.ledger) == 240
    assert folded["stored"] == folded["today"]

    # Rebuilt read models are the live ones.
    live = await snapshot(container)
    await container.projections.rebuild()
    assert await snapshot(container) == live


def _recorded(line: dict, version: int, data: dict) -> RecordedEvent:
    return RecordedEvent(line["position"], line["event_id"], line["stream_id"], line["stream_version"], line["type"],
                         version, data, line["metadata"], datetime.fromisoformat(line["recorded_at"]), line["hash"])
