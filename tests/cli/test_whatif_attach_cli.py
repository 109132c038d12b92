"""`slogov whatif target|policy ... --attach PROPOSAL`: the run shown is recorded as the
proposal's evidence by the command attachWhatIfEvidence uses; a retry with the same key
is answered from the record; bad requests exit 2 and append nothing (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

from typer.testing import CliRunner

from api.cli import app
from domain import objective as o
from service.bootstrap import build
from service.config import Settings
from tests.budgets.support import T0, do
from tests.budgets.test_batching import adopt_one_day, fixed_clock, governed_objective, send
from tests.policies.support import OID, minute
from tests.whatif.support import APPROVAL_ONLY, burn_out

runner = CliRunner()


def _on(url: str, work):
    async def run():
        container = build(Settings(database_url=url), auto_migrate=False)
        await container.startup()
        try:
            return await work(container)
        finally:
            await container.shutdown()
    return asyncio.run(run())


async def _evidence(container, oid: str) -> list:
    events = await container.store.read_stream(o.stream_id(oid))
    return [e for e in events if e.type == "WhatIfEvidenceAttached"]


async def _head(container) -> int:
    return (await container.store.head())[0]


def test_whatif_target_attaches_to_a_review_proposal(database_url):
    async def history(container):
        fixed_clock(container)
        await adopt_one_day(container)
        oid = await governed_objective(container, "a-", target=0.99, days=1, policy_id="one-day")
        await send(container, oid, [(m, m + 1, 995 if 60 <= m < 120 else 1000, 1000) for m in range(240)], [120])
        # A tighten review opens proposal "tight" at 99.9%: it takes evidence like any proposal.
        await do(container, "sre", o.RecordReview(oid, "2025-Q1", "tighten", "errors are rare", ("pat",),
                                                  proposal_id="tight", proposed_target=0.999))
        return oid

    oid = _on(database_url, history)
    db = ["--database-url", database_url]
    span = ["--from", T0.isoformat(), "--to", (T0 + timedelta(hours=4)).isoformat()]
    attach = ["--attach", "tight", "--actor", "pat", "--role", "sre", "--reason", "for the review",
              "--idempotency-key", "tight-1"]
    result = runner.invoke(app, ["whatif", "target", oid, *span, *attach, "--json", *db])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["candidate"]["target"] == 0.999  # the proposal's target
    assert body["what_if"]["exhaustions"] == [minute(75).isoformat()]
    assert body["attached"]["replayed"] is False
    [event] = _on(database_url, lambda c: _evidence(c, oid))
    assert [e["position"] for e in body["attached"]["events"]] == [event.position]
    assert event.data["proposal_id"] == "tight" and event.data["kind"] == "target"
    assert event.data["summary"]["what_if"]["exhaustions"] == body["what_if"]["exhaustions"]
    assert event.data["position"] == body["position"] and event.metadata["actor"] == "pat"
    assert event.metadata["reason"] == "for the review"

    # More data, then the retry: answered from the record, nothing appended.
    _on(database_url, lambda c: send(c, oid, [(m, m + 1, 1000, 1000) for m in range(240, 250)], []))
    head = _on(database_url, _head)
    again = runner.invoke(app, ["whatif", "target", oid, *span, *attach, *db])
    assert again.exit_code == 0, again.output
    assert "already attached to proposal tight" in again.stdout and f"log position {event.position}" in again.stdout
    assert _on(database_url, _head) == head

    # The table names what was appended.
    table = runner.invoke(app, ["whatif", "target", oid, *span, "--attach", "tight", "--actor", "pat", "--role", "sre",
                                "--target", "0.995", *db])
    assert table.exit_code == 0, table.output
    assert "evidence: attached to proposal tight: WhatIfEvidenceAttached at log position" in table.stdout
    assert "99.5000%" in table.stdout

    head = _on(database_url, _head)
    for args, says in ((["--attach", "tight"], "--actor"),
                       (["--attach", "nobody", "--actor", "pat"], "NOT_FOUND"),
                       (["--attach", "tight", "--actor", "pat", "--role", "ci"], "FORBIDDEN"),
                       (["--attach", "tight", "--proposal", "other", "--actor", "pat"], "--proposal"),
                       ([*attach, "--target", "0.995"], "CONFLICT")):
        refused = runner.invoke(app, ["whatif", "target", oid, *span, *args, *db])
        assert refused.exit_code == 2, (args, refused.output)
        assert says in refused.output, (args, refused.output)
    assert _on(database_url, _head) == head


def test_whatif_policy_attaches_for_its_one_objective(database_url, tmp_path):
    async def history(container):
        clock = await burn_out(container)
        await do(container, "product", o.ProposeTarget(OID, "p2", 0.9995, "customers ask for more"))
        return clock.now.isoformat()

    end = _on(database_url, history)
    candidate = tmp_path / "approval.yaml"
    candidate.write_text(APPROVAL_ONLY)
    db = ["--database-url", database_url]
    span = ["--from", minute(0).isoformat(), "--to", end]
    result = runner.invoke(app, ["whatif", "policy", str(candidate), *span, "--objective", OID, "--attach", "p2",
                                 "--actor", "lee", "--role", "leadership", *db])
    assert result.exit_code == 0, result.output
    assert "run-1" in result.stdout and "DENY -> REQUIRE_APPROVAL" in result.stdout
    assert "evidence: attached to proposal p2" in result.stdout
    [event] = _on(database_url, lambda c: _evidence(c, OID))
    assert event.data["kind"] == "policy" and event.data["summary"]["changed"] == 1
    assert event.data["inputs"]["document"]["rules"][0]["id"] == "approve-when-exhausted"

    head = _on(database_url, _head)
    for args, says in ((["--attach", "p2", "--actor", "lee"], "--objective"),
                       (["--objective", OID, "--objective", "x", "--attach", "p2", "--actor", "lee"], "--objective"),
                       (["--objective", OID, "--attach", "p1", "--actor", "lee"], "CONFLICT")):  # p1 is agreed
        refused = runner.invoke(app, ["whatif", "policy", str(candidate), *span, *args, *db])
        assert refused.exit_code == 2, (args, refused.output)
        assert says in refused.output, (args, refused.output)
    assert _on(database_url, _head) == head
