"""Labels through GraphQL on both databases: set on journeys and objectives, filtered in
the list queries (the read model's side tables, and as of a past position), objectives
grouped by SLO, and a refused label that appends nothing."""

from __future__ import annotations

from .conftest import objective_input, prioritized_journey

LIST_JOURNEYS = """query($f: JourneyFilter, $asOf: AsOf) { journeys(filter: $f, asOf: $asOf) {
  totalCount edges { node { id labels { key value } } } } }"""
LIST_OBJECTIVES = """query($f: ObjectiveFilter) { objectives(filter: $f) {
  edges { node { id slo name labels { key value } annotations { key value } } } } }"""


def ids(data: dict, field: str) -> list[str]:
    return [e["node"]["id"] for e in data[field]["edges"]]


async def test_labels_set_replaced_and_filtered(api):
    await prioritized_journey(api, "pay", labels=[{"key": "team", "value": "payments"}, {"key": "env", "value": "prod"}])
    await prioritized_journey(api, "search", labels=[{"key": "team", "value": "search"}])
    await prioritized_journey(api, "bare")
    head = await api.head()
    got = await api.ok(LIST_JOURNEYS, {"f": {"labels": [{"key": "team", "value": "payments"}]}})
    assert ids(got, "journeys") == ["pay"]
    assert got["journeys"]["edges"][0]["node"]["labels"] == [
        {"key": "env", "value": "prod"}, {"key": "team", "value": "payments"}]
    assert ids(await api.ok(LIST_JOURNEYS, {"f": {"labels": [{"key": "team"}]}}), "journeys") == ["pay", "search"]
    assert ids(await api.ok(LIST_JOURNEYS, {"f": {"labels": [{"key": "team"}, {"key": "env"}]}}), "journeys") == ["pay"]

    await api.mutate("labelJourney", {"journeyId": "search", "labels": [{"key": "team", "value": "payments"}]},
                     role="engineering")
    assert ids(await api.ok(LIST_JOURNEYS, {"f": {"labels": [{"key": "team", "value": "payments"}]}}),
               "journeys") == ["pay", "search"]
    # As of before the relabel: the state then, filtered the same way.
    past = await api.ok(LIST_JOURNEYS, {"f": {"labels": [{"key": "team", "value": "payments"}]},
                                        "asOf": {"position": head}})
    assert ids(past, "journeys") == ["pay"]
    # The same labels again append nothing.
    again = await api.mutate("labelJourney", {"journeyId": "search", "labels": [{"key": "team", "value": "payments"}]},
                             role="engineering")
    assert again["events"] == []


async def test_objectives_of_one_slo_with_labels_and_annotations(api):
    await prioritized_journey(api, "pay")
    for oid, name in (("pay-sla", "SLA"), ("pay-internal", "internal")):
        await api.mutate("draftObjective", {
            **objective_input(oid, "pay"), "name": name, "slo": "pay-availability",
            "labels": [{"key": "team", "value": "payments"}],
            "annotations": [{"key": "openslo.com/source", "value": "git:slos/pay.yaml\nline 3"}],
        })
    await api.mutate("draftObjective", objective_input("pay-latency", "pay"))
    await api.mutate("labelObjective", {"objectiveId": "pay-internal", "labels": [{"key": "team", "value": "core"}]})
    got = await api.ok(LIST_OBJECTIVES, {"f": {"slo": "pay-availability"}})
    nodes = {e["node"]["id"]: e["node"] for e in got["objectives"]["edges"]}
    assert set(nodes) == {"pay-sla", "pay-internal"}
    assert nodes["pay-sla"]["annotations"] == [{"key": "openslo.com/source", "value": "git:slos/pay.yaml\nline 3"}]
    assert nodes["pay-internal"]["annotations"] == []  # labelObjective replaces both
    got = await api.ok(LIST_OBJECTIVES, {"f": {"labels": [{"key": "team", "value": "payments"}]}})
    assert ids(got, "objectives") == ["pay-sla"]


async def test_a_refused_label_appends_nothing(api):
    await prioritized_journey(api, "pay")
    code, error = await api.fail("labelJourney", {"journeyId": "pay", "labels": [{"key": "bad key", "value": "x"}]})
    assert code == "BAD_USER_INPUT" and "labels[0].key" in error["message"]
    code, _ = await api.fail("labelJourney", {"journeyId": "pay", "labels": [{"key": "team", "value": "a\u0085b"}]})
    assert code == "BAD_USER_INPUT"
