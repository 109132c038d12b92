"""Recurring exclusions through the bus, on SQLite and PostgreSQL: recorded on the
objective's budget stream with who and why, applied to the data recorded before and after,
idempotent, ended from a data time on; bad input and the wrong role append nothing; as-of
reads, the target what-if and a rebuild agree with the live budget."""

from __future__ import annotations

import pytest

from domain.budget.decider import EndRecurringExclusion, ExcludeRecurring, RecordObservations
from domain.budget.whatif import recorded, target_whatif
from domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from service import budget_queries as bq
from service.as_of import AsOfReads
from tests.budgets.support import do, journey, minute, minutes, objective
from tests.service.test_rebuild import snapshot

OID = "checkout-availability"
DAY = 1440
# Every day 01:00-01:30 in Berlin: 00:00-00:30 UTC in winter (the data's January).
NIGHTLY = ("FREQ=DAILY;BYHOUR=1;BYMINUTE=0", "2025-01-01T01:00", "Europe/Berlin", "30m")


async def head(container) -> int:
    return (await container.store.head())[0]


def nightly(exclusion_id: str = "backup", **changes) -> ExcludeRecurring:
    rrule, start, zone, duration = NIGHTLY
    fields = {"rrule": rrule, "start": start, "zone": zone, "duration": duration, **changes}
    return ExcludeRecurring(OID, exclusion_id, fields["rrule"], fields["start"], fields["zone"], fields["duration"],
                            "nightly backup window, agreed with product")


async def test_a_recurring_exclusion_is_recorded_applied_and_ended(container):
    await journey(container)
    await objective(container, OID, days=1)  # 99.9% over a rolling day
    # The first half hour is the nightly backup: every request fails. Exhausted.
    await do(container, "sre", RecordObservations(OID, minutes(0, 30, 0, 1000) + minutes(30, 120, 1000, 1000)))
    assert (await bq.budget_of(container, OID)).exhausted

    added = await do(container, "leadership", nightly())
    assert [e.type for e in added.events][:2] == ["RecurringExclusionAdded", "BudgetRecovered"]
    s = await bq.budget_of(container, OID)
    assert s.bad == 0 and s.total == 90 * 1000 and not s.exhausted
    stream = await container.store.read_stream(f"budget-{OID}")
    event = next(e for e in stream if e.type == "RecurringExclusionAdded")
    assert event.data == {"objective_id": OID, "id": "backup", "rrule": "FREQ=DAILY;BYHOUR=1;BYMINUTE=0",
                          "start": "2025-01-01T01:00:00", "zone": "Europe/Berlin", "duration": "30m",
                          "reason": "nightly backup window, agreed with product", "ended_from": None,
                          "approver": "leadership-person"}
    assert event.metadata["actor"] == "leadership-person"
    # the derived recovery names the exclusion as its cause
    recovered = next(e for e in stream if e.type == "BudgetRecovered")
    assert recovered.metadata["causation_id"] == event.event_id

    # The same command again appends nothing; another definition under the id is a conflict.
    before = await head(container)
    assert (await do(container, "sre", nightly())).events == ()
    with pytest.raises(Conflict):
        await do(container, "sre", nightly(duration="1h"))
    assert await head(container) == before

    # Later data falls into the next night's occurrence as it arrives.
    await do(container, "sre", RecordObservations(OID, minutes(DAY, DAY + 60, 0, 1000)))
    chart = await bq.ledger_chart(container, OID, since=minute(DAY))
    assert [p.excluded for p in chart] == [True] * 30 + [False] * 30

    # Ended from 00:15 UTC on the second night: its last quarter hour counts again.
    ended = await do(container, "sre", EndRecurringExclusion(OID, "backup", minute(DAY + 15), "backups moved off peak"))
    assert ended.events[0].type == "RecurringExclusionEnded"
    chart = await bq.ledger_chart(container, OID, since=minute(DAY))
    assert [p.excluded for p in chart] == [True] * 15 + [False] * 45
    (listed,) = await bq.recurring_exclusions(container, OID)
    assert listed.id == "backup" and listed.ended_from == minute(DAY + 15)
    before = await head(container)
    assert (await do(container, "sre", EndRecurringExclusion(OID, "backup", minute(DAY + 15), "again"))).events == ()
    with pytest.raises(Conflict):
        await do(container, "sre", EndRecurringExclusion(OID, "backup", minute(DAY), "earlier"))
    with pytest.raises(NotFound):
        await do(container, "sre", EndRecurringExclusion(OID, "nope", minute(DAY), "x"))
    with pytest.raises(Conflict):  # an ended id is not reused
        await do(container, "sre", nightly())
    assert await head(container) == before

    # As of the position before the exclusion, the budget was exhausted; after it, not.
    added_at = added.events[0].position
    assert (await AsOfReads(container, added_at - 1).budget_status(OID)).exhausted
    as_of = await AsOfReads(container, added_at).budget_status(OID)
    assert not as_of.exhausted and as_of.bad == 0

    # The target what-if folds the same stream through the same ledger: with nothing
    # changed it derives the recorded transitions and counts what the live budget counts.
    stream = await container.store.read_stream(f"budget-{OID}")
    outcome = target_whatif(stream, None, minute(0), minute(2 * DAY))
    assert outcome.transitions == recorded(stream, minute(0), minute(2 * DAY))
    assert outcome.status == await bq.budget_of(container, OID)
    assert (outcome.good, outcome.total) == (90_000, 90_000 + 45_000)  # the first night, then 45 bad minutes

    # A rebuild gives the live rows.
    live = await snapshot(container)
    await container.projections.rebuild()
    assert await snapshot(container) == live


@pytest.mark.parametrize(("changes", "field"), [
    ({"rrule": "FREQ=MINUTELY"}, "rrule"),
    ({"rrule": "FREQ=DAILY;BYHOUR=0,1,2,3,4;BYMINUTE=0,10,20,30,40"}, "rrule"),
    ({"rrule": "FREQ=DAILY;BYSECOND=5"}, "rrule"),
    ({"zone": "Europe/Atlantis"}, "zone"),
    ({"start": "2025-01-01T01:00:00+01:00"}, "start"),
    ({"duration": "0m"}, "duration"),
    ({"duration": "45d"}, "duration"),
])
async def test_bad_input_names_the_field_and_appends_nothing(container, changes, field):
    await journey(container)
    await objective(container, OID, days=1)
    before = await head(container)
    with pytest.raises(InvalidInput) as refused:
        await do(container, "sre", nightly(**changes))
    assert refused.value.details["field"] == field
    with pytest.raises(Forbidden):
        await do(container, "engineering", nightly())
    assert await head(container) == before


async def test_the_gate_and_the_policy_follow_a_recurring_exclusion(container):
    """Errors inside a nightly window exhaust the budget and the default policy freezes the
    journey's service; recording the window as a recurring exclusion recovers the budget,
    the policy lifts the freeze, and the gate lets a feature deploy through."""
    from service import gate
    from tests.budgets.test_batching import adopt_default, fixed_clock, governed_objective, send

    fixed_clock(container)
    await adopt_default(container)
    oid = await governed_objective(container, "g-")
    # 00:00-00:30 UTC every request fails (the nightly window: 01:00 Berlin in January)
    await send(container, oid, [(m, m + 1, 0 if m < 30 else 10_000, 10_000) for m in range(60)], [30])
    frozen = await gate.deploy_preview(container, "dev", frozenset({"ci"}), "g-svc", "feature", "v1")
    assert frozen.outcome == "DENY"

    rrule, start, zone, duration = NIGHTLY
    await bq.exclude_recurring(container, "sre", frozenset({"sre"}), oid, "backup", rrule, start, zone, duration,
                               "nightly backup window")
    types = [e.type for e in await container.store.read_stream(f"actions-{oid}")]
    assert "FreezeLifted" in types
    allowed = await gate.deploy_preview(container, "dev", frozenset({"ci"}), "g-svc", "feature", "v2")
    assert allowed.outcome == "ALLOW", allowed.reasons
