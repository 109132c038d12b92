"""Calendar windows of a zone and rolling durations through GraphQL, on both databases:
drafted, shown on the objective and its budget, judged in local periods; refusals name
the field and append nothing."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from .conftest import objective_input, prioritized_journey
from .test_budgets import obs, record

UTC = timezone.utc
WINDOW = "window { kind days duration start timeZone }"


async def draft(api, oid: str, window: dict) -> dict:
    return await api.ok(
        f"mutation($input: DraftObjectiveInput!) {{ draftObjective(input: $input) {{ objective {{ {WINDOW} }} }} }}",
        {"input": {**objective_input(oid, "pay"), "window": window}})


async def test_a_calendar_month_of_a_zone_is_the_budget_window(api):
    await prioritized_journey(api, "pay")
    month = {"kind": "CALENDAR", "duration": "1M", "start": "2026-01-01T00:00", "timeZone": "Europe/Berlin"}
    got = await draft(api, "pay-month", month)
    assert got["draftObjective"]["objective"]["window"] == {
        "kind": "CALENDAR", "days": None, "duration": "1M", "start": "2026-01-01T00:00:00", "timeZone": "Europe/Berlin"}
    await api.mutate("proposeTarget", {"objectiveId": "pay-month", "proposalId": "p1", "target": 0.99,
                                       "rationale": "r", "requiredParties": ["SRE"]})
    await api.mutate("endorseProposal", {"objectiveId": "pay-month", "proposalId": "p1", "party": "SRE"})
    # Data in the last local hour of March (Berlin is UTC+2 from March 29th).
    start = datetime(2026, 3, 31, 21, 0, tzinfo=UTC)
    [b] = (await record(api, [obs("pay-month", start, 90, 100, timedelta(minutes=30))]))["budgets"]
    assert (b["windowStart"], b["windowEnd"]) == ("2026-02-28T23:00:00+00:00", "2026-03-31T22:00:00+00:00")
    assert b["window"] == {"kind": "CALENDAR", "days": None}
    assert b["exhausted"] is True
    # The first half hour of April (local): a new period, judged on its own data only.
    [b] = (await record(api, [obs("pay-month", datetime(2026, 3, 31, 22, tzinfo=UTC), 100, 100,
                                  timedelta(minutes=30))]))["budgets"]
    assert b["windowStart"] == "2026-03-31T22:00:00+00:00" and b["exhausted"] is False and b["total"] == 100

    got = await draft(api, "pay-4w", {"kind": "ROLLING", "duration": "4w"})
    assert got["draftObjective"]["objective"]["window"]["duration"] == "4w"


async def test_windows_out_of_range_are_refused_naming_the_field(api):
    await prioritized_journey(api, "pay")
    for window, field in (
        ({"kind": "CALENDAR", "duration": "1M", "start": "2026-01-01T00:00"}, "window.time_zone"),
        ({"kind": "CALENDAR", "duration": "1M", "start": "2026-01-01T00:00", "timeZone": "Nowhere/Atlantis"},
         "window.time_zone"),
        ({"kind": "ROLLING", "duration": "1M"}, "window.duration"),
        ({"kind": "CALENDAR_MONTH", "duration": "1M"}, "window.duration"),
    ):
        code, error = await api.fail("draftObjective", {**objective_input("o", "pay"), "window": window})
        assert code == "BAD_USER_INPUT" and field in error["message"], error


async def test_ratio_timeslices_budgeting_is_drafted_and_judged(api):
    await prioritized_journey(api, "pay")
    ratio = {"method": "RATIO_TIMESLICES", "sliceMinutes": 5}
    await api.mutate("draftObjective", {**objective_input("pay-ratio", "pay"), "budgeting": ratio})
    await api.mutate("proposeTarget", {"objectiveId": "pay-ratio", "proposalId": "p1", "target": 0.99,
                                       "rationale": "r", "requiredParties": ["SRE"]})
    await api.mutate("endorseProposal", {"objectiveId": "pay-ratio", "proposalId": "p1", "party": "SRE"})
    start = datetime(2026, 3, 2, tzinfo=UTC)
    [b] = (await record(api, [obs("pay-ratio", start, 90, 100), obs("pay-ratio", start + timedelta(minutes=5), 50, 100)]))[
        "budgets"]
    assert b["method"] == "RATIO_TIMESLICES" and b["spent"] == 0.6  # 0.1 + 0.5 of a slice
    code, error = await api.fail("draftObjective", {**objective_input("o", "pay"), "budgeting": {**ratio, "sliceThreshold": 0.9}})
    assert code == "BAD_USER_INPUT" and "slice_threshold" in error["message"]
