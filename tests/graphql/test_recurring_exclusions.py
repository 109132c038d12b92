"""Recurring exclusions over GraphQL: excludeRecurring and endRecurringExclusion, the
objective's listing with its next occurrences (live and as of a position), the audit trail
(who excluded what and why), and refusals that append nothing (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

from .test_budgets import EVENTS, FIVE, agreed_objective, aligned_now, budget, obs, record, refuse

BUDGET = "bad total"
PAYLOAD = f"objectiveId version replayed budget {{ {BUDGET} }} {EVENTS}"
LISTING = """query($asOf: AsOf) { objective(id: "o1", asOf: $asOf) { budget { bad }
  recurringExclusions { id rrule start zone duration reason active endedFrom nextOccurrences(count: 2) { start end } }
} }"""


async def send(api, name: str, input: dict, role: str = "sre") -> dict:
    query = f"mutation($input: {name[0].upper()}{name[1:]}Input!) {{ {name}(input: $input) {{ {PAYLOAD} }} }}"
    return (await api.ok(query, {"input": input}, role))[name]


async def test_a_recurring_window_is_excluded_listed_audited_and_ended(api):
    t = aligned_now()
    window = t - timedelta(hours=2)  # half an hour from here, every day, fails every request
    await agreed_objective(api, "o1", "j1", 0.99)
    await record(api, [obs("o1", t - timedelta(hours=3) + k * FIVE, 0 if 12 <= k < 18 else 1000, 1000)
                       for k in range(36)])
    assert (await budget(api, "o1"))["bad"] == 6000
    before = await api.head()

    daily = {"objectiveId": "o1", "exclusionId": "batch", "rrule": f"FREQ=DAILY;BYHOUR={window.hour};BYMINUTE={window.minute}",
             "start": "2025-01-01T00:00", "zone": "UTC", "duration": "30m", "reason": "nightly batch, agreed in review",
             "approver": "lee.lead"}
    added = await send(api, "excludeRecurring", daily, role="leadership")
    assert added["budget"]["bad"] == 0 and added["events"][0]["type"] == "RecurringExclusionAdded"
    assert added["events"][0]["streamId"] == "budget-o1"
    again = await send(api, "excludeRecurring", daily)  # the same again: nothing appended
    assert again["events"] == []
    # a retry under the idempotency key of a recorded command is answered from the record
    keyed = {**daily, "exclusionId": "keyed", "rrule": "FREQ=WEEKLY;BYDAY=SA", "idempotencyKey": "k-1"}
    first = await send(api, "excludeRecurring", keyed)
    retry = await send(api, "excludeRecurring", keyed)
    assert retry["replayed"] and retry["version"] == first["version"] and await api.head() == first["events"][-1]["position"]
    await send(api, "endRecurringExclusion", {"objectiveId": "o1", "exclusionId": "keyed", "from": t.isoformat(),
                                              "reason": "not needed"})

    listing = (await api.ok(LISTING, role="auditor"))["objective"]
    assert listing["budget"]["bad"] == 0
    assert [x["id"] for x in listing["recurringExclusions"]] == ["batch", "keyed"]
    assert listing["recurringExclusions"][1]["active"] is False
    assert listing["recurringExclusions"][:1] == [{
        "id": "batch", "rrule": daily["rrule"], "start": "2025-01-01T00:00:00", "zone": "UTC", "duration": "30m",
        "reason": "nightly batch, agreed in review", "active": True, "endedFrom": None,
        "nextOccurrences": [{"start": (window + timedelta(days=d)).isoformat(),
                             "end": (window + timedelta(days=d, minutes=30)).isoformat()} for d in (1, 2)]}]
    # as of the position before it: no such exclusion, the failures counted
    then = (await api.ok(LISTING, {"asOf": {"position": before}}, role="auditor"))["objective"]
    assert then["recurringExclusions"] == [] and then["budget"]["bad"] == 6000

    # the audit trail: who excluded what, and why
    trail = await api.ok("""{ events(filter: {types: ["RecurringExclusionAdded"], streamId: "budget-o1"}) {
        edges { node { actor role data } } } }""", role="auditor")
    node, _keyed = [e["node"] for e in trail["events"]["edges"]]
    assert node["actor"] == "leadership-person" and node["role"] == "leadership"
    assert node["data"]["reason"] == "nightly batch, agreed in review" and node["data"]["approver"] == "lee.lead"
    assert node["data"]["rrule"] == daily["rrule"] and node["data"]["duration"] == "30m"

    # ended a quarter hour into the window: its second half counts again
    ended = await send(api, "endRecurringExclusion", {"objectiveId": "o1", "exclusionId": "batch",
                                                      "from": (window + timedelta(minutes=15)).isoformat(),
                                                      "reason": "the batch moved"})
    assert ended["events"][0]["type"] == "RecurringExclusionEnded" and ended["budget"]["bad"] == 3000
    listing = (await api.ok(LISTING, role="auditor"))["objective"]["recurringExclusions"][0]
    assert listing["id"] == "batch" and listing["active"] is False and listing["endedFrom"] == (window + timedelta(minutes=15)).isoformat()
    assert listing["nextOccurrences"] == []


async def test_refusals_name_the_field_and_append_nothing(api):
    await agreed_objective(api, "o1", "j1", 0.99)
    good = {"objectiveId": "o1", "exclusionId": "m", "rrule": "FREQ=WEEKLY;BYDAY=SU;BYHOUR=2", "start": "2026-01-04T02:00",
            "zone": "Europe/Berlin", "duration": "2h", "reason": "maintenance"}
    for change, field in (({"rrule": "FREQ=MINUTELY"}, "rrule"), ({"zone": "Berlin"}, "zone"),
                          ({"duration": "2 hours"}, "duration"), ({"start": "2026-01-04T02:00Z"}, "start")):
        code, error = await refuse(api, "excludeRecurring", {**good, **change})
        assert code == "BAD_USER_INPUT" and error["extensions"]["field"] == field, error
    code, _ = await refuse(api, "excludeRecurring", good, role="engineering")
    assert code == "FORBIDDEN"
    code, _ = await refuse(api, "endRecurringExclusion", {"objectiveId": "o1", "exclusionId": "m",
                                                          "from": "2026-01-01T00:00:00+00:00", "reason": "x"})
    assert code == "NOT_FOUND"
    code, error = await refuse(api, "excludeRecurring", {**good, "objectiveId": "nope"})
    assert code == "NOT_FOUND"
