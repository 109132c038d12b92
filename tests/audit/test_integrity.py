"""auditIntegrity and `slogov audit verify`: the hash chain recomputed, tampering found."""

from __future__ import annotations

import asyncio
import json

import pytest
from sqlalchemy import text

from eventstore.verify import verify_chain

from tests.graphql.conftest import negotiating_objective

from .support import tamper

INTEGRITY = "{ auditIntegrity { ok eventsChecked headPosition headHash firstBrokenPosition problem } }"


async def test_an_untouched_log_verifies(api):
    await negotiating_objective(api, "lat", "checkout")
    head, head_hash = await api.container.store.head()
    for role in ("auditor", "admin", "sre", "leadership"):
        report = (await api.ok(INTEGRITY, role=role))["auditIntegrity"]
        assert report == {"ok": True, "eventsChecked": head, "headPosition": head, "headHash": head_hash,
                          "firstBrokenPosition": None, "problem": None}
    for role in ("ci", "product", "engineering"):
        body = await api.post(INTEGRITY, role=role)
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (await api.post(INTEGRITY, role=None))["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_the_application_cannot_alter_the_log(api):
    await negotiating_objective(api, "lat", "checkout")
    with pytest.raises(Exception, match="append-only"):
        async with api.container.engines.write.begin() as conn:
            await conn.execute(text("UPDATE events SET data = '{}' WHERE position = 2"))


@pytest.mark.parametrize("change", ["data", "metadata", "recorded_at", "delete"])
async def test_an_altered_event_is_found(api, change):
    await negotiating_objective(api, "lat", "checkout")
    head = await api.head()
    if change == "data":
        # A quiet edit: the rationale of the prioritization (position 2), valid canonical JSON.
        row = (await api.ok("{ event(position: 2) { data } }"))["event"]["data"]
        row["rationale"] = "cost"
        await tamper(api.container, "UPDATE events SET data = :d WHERE position = 2",
                     {"d": json.dumps(row, sort_keys=True, separators=(",", ":"))})
        broken = 2
    elif change == "metadata":
        await tamper(api.container, "UPDATE events SET metadata = replace(metadata, 'leadership-person', "
                                    "'someone-else') WHERE position = 2")
        broken = 2
    elif change == "recorded_at":
        await tamper(api.container, "UPDATE events SET recorded_at = '2020-01-01 00:00:00.000000' WHERE position = 3")
        broken = 3
    else:
        await tamper(api.container, "DELETE FROM events WHERE position = 4")
        broken = 4
    report = (await api.ok(INTEGRITY, role="auditor"))["auditIntegrity"]
    assert report["ok"] is False
    assert report["firstBrokenPosition"] == broken, report
    assert report["eventsChecked"] == broken - 1
    assert report["headPosition"] == head
    assert report["problem"]


@pytest.mark.parametrize("removed", [1, 2])
async def test_removing_the_newest_events_is_found_by_the_head(api, removed):
    # The newest events leave no gap behind them: only the log_head row, which still
    # names the old head, shows that they are gone.
    await negotiating_objective(api, "lat", "checkout")
    head, head_hash = await api.container.store.head()
    await tamper(api.container, "DELETE FROM events WHERE position > :p", {"p": head - removed})
    report = (await api.ok(INTEGRITY, role="auditor"))["auditIntegrity"]
    assert report == {"ok": False, "eventsChecked": head - removed, "headPosition": head, "headHash": head_hash,
                      "firstBrokenPosition": head - removed + 1,
                      "problem": "the log head does not match the last event"}


async def test_a_head_row_set_back_over_remaining_events_is_found(api):
    await negotiating_objective(api, "lat", "checkout")
    head, _ = await api.container.store.head()
    async with api.container.engines.read.connect() as conn:
        earlier = await conn.scalar(text("SELECT hash FROM events WHERE position = :p"), {"p": head - 1})
    async with api.container.engines.write.begin() as conn:
        await conn.execute(text("UPDATE log_head SET position = :p, hash = :h"), {"p": head - 1, "h": earlier})
    report = (await api.ok(INTEGRITY, role="auditor"))["auditIntegrity"]
    assert report == {"ok": False, "eventsChecked": head - 1, "headPosition": head - 1, "headHash": earlier,
                      "firstBrokenPosition": head, "problem": "the log head does not match the last event"}


async def test_verifying_while_events_are_appended_finds_nothing_wrong(api):
    # The walk stops at the head it read first: events committed meanwhile are not a head that lags.
    await negotiating_objective(api, "lat", "checkout")
    done = asyncio.Event()

    async def append() -> None:
        for i in range(30):
            await api.mutate("endorseProposal", {"objectiveId": "lat", "proposalId": "p1", "party": "SRE",
                                                 "comment": f"round {i}"}, role="sre")
        done.set()

    writer = asyncio.create_task(append())
    reports = []
    while not done.is_set():
        reports.append(await verify_chain(api.container.engines, batch=2))
    await writer
    assert len(reports) > 1 and all(r.ok for r in reports), [r for r in reports if not r.ok][:1]
