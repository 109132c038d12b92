"""One rule for text on both databases: a control character other than tab and newline,
or a lone surrogate, in any string a request carries is BAD_USER_INPUT naming where it
was, with the same message on SQLite and PostgreSQL, and nothing is appended.

One table, every kind of text input: names, ids, list items, idempotency keys, reasons,
policy documents, filters and lookups, as GraphQL variables and as literals in the
document, and the fields of the JSON gate route. (Before the rule, PostgreSQL answered
INTERNAL_SERVER_ERROR / HTTP 500 and SQLite stored the text as it came.)
"""

from __future__ import annotations

import json

import pytest

from .conftest import journey_input, prioritized_journey

NUL, ESC, CR, DEL, C1, SURROGATE = "\x00", "\x1b", "\r", "\x7f", "\x85", "\ud800"


def _why(char: str, index: int) -> str:
    kind = "a lone surrogate" if char == SURROGATE else "a control character"
    return f"contains {kind} (U+{ord(char):04X} at index {index}); only tab and newline are allowed"


def _mutation(name: str, payload: str = "replayed") -> str:
    return f"mutation($input: {name[0].upper()}{name[1:]}Input!) {{ {name}(input: $input) {{ {payload} }} }}"


async def _post(api, path: str, body: dict, role: str):
    # JSON with \u escapes (a lone surrogate has no UTF-8 form), as any client may send it
    return await api.client.post(path, content=json.dumps(body).encode(), headers={
        "Authorization": f"Bearer {api.tokens[role]}", "Content-Type": "application/json"})


JOURNEY = "id"
# (case id, GraphQL query, variables, where the message says the text was, bad character, its index)
GRAPHQL_CASES = [
    ("journey name", _mutation("proposeJourney", f"journey {{ {JOURNEY} }}"),
     {"input": journey_input("j-new", name=f"Check{NUL}out")}, "input.name", NUL, 5),
    ("journey id", _mutation("proposeJourney", f"journey {{ {JOURNEY} }}"),
     {"input": journey_input(f"j{NUL}")}, "input.journeyId", NUL, 1),
    ("list item", _mutation("proposeJourney", f"journey {{ {JOURNEY} }}"),
     {"input": journey_input("j-new", steps=["cart", f"pay{CR}"])}, "input.steps[1]", CR, 3),
    ("idempotency key", _mutation("proposeJourney", f"journey {{ {JOURNEY} }}"),
     {"input": {**journey_input("j-new"), "idempotencyKey": f"k{NUL}1"}}, "input.idempotencyKey", NUL, 1),
    ("reason", _mutation("retireJourney", f"journey {{ {JOURNEY} }}"),
     {"input": {"journeyId": "j1", "reason": f"done{ESC}[2J"}}, "input.reason", ESC, 4),
    ("C1 control", _mutation("proposeJourney", f"journey {{ {JOURNEY} }}"),
     {"input": journey_input("j-new", description=f"caf\u00e9{C1}")}, "input.description", C1, 4),
    ("policy document", _mutation("adoptPolicy", "replayed"),
     {"input": {"document": f"id: p1{NUL}\nrules: []\n"}}, "input.document", NUL, 6),
    ("observation objective id", _mutation("recordObservations", "events { position }"),
     {"input": {"observations": [{"objectiveId": f"o{DEL}", "start": "2026-01-01T00:00:00Z",
                                  "end": "2026-01-01T00:05:00Z", "good": 1, "total": 1}]}},
     "input.observations[0].objectiveId", DEL, 1),
    ("filter", "query($f: EventFilter) { events(filter: $f) { edges { cursor } } }",
     {"f": {"streamId": f"journey-j1{NUL}"}}, "f.streamId", NUL, 10),
    ("journey filter", "query($f: JourneyFilter) { journeys(filter: $f) { edges { cursor } } }",
     {"f": {"owner": f"x{NUL}"}}, "f.owner", NUL, 1),
    ("lookup id", "query($id: ID!) { journey(id: $id) { id } }", {"id": f"j1{NUL}"}, "id", NUL, 2),
    ("literal lookup id", '{ objective(id: "o1\\u0000") { id } }', {}, "objective.id", NUL, 2),
    ("literal input", 'mutation { retireJourney(input: {journeyId: "j1", reason: "x\\u0007"}) { replayed } }', {},
     "retireJourney.input.reason", "\x07", 1),
    ("literal list item", '{ events(filter: {types: ["JourneyProposed", "\\u0000"]}) { edges { cursor } } }', {},
     "events.filter.types[1]", NUL, 0),
]


@pytest.mark.parametrize("case", GRAPHQL_CASES, ids=[c[0] for c in GRAPHQL_CASES])
async def test_graphql_refuses_control_characters_in_any_text(api, case):
    _, query, variables, where, char, index = case
    await prioritized_journey(api, "j1")
    before = await api.head()
    response = await _post(api, "/graphql", {"query": query, "variables": variables}, "admin")
    body = response.json()
    assert body.get("errors"), body
    error = body["errors"][0]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": where}
    assert error["message"] == f"{where} {_why(char, index)}"
    assert await api.head() == before


GATE = {"service": "payments", "changeType": "FEATURE", "version": "v1", "pipelineRunId": "run-1"}
# (case id, JSON body, the field named, bad character, its index)
JSON_CASES = [
    ("service", {**GATE, "service": f"pay{NUL}"}, "service", NUL, 3),
    ("change type", {**GATE, "changeType": f"FEATURE{NUL}"}, "changeType", NUL, 7),
    ("version", {**GATE, "version": f"v1{ESC}"}, "version", ESC, 2),
    ("pipeline run id", {**GATE, "pipelineRunId": f"run{CR}1"}, "pipelineRunId", CR, 3),
    ("unknown field's name", {**GATE, f"x{NUL}": "1"}, "unknown field[0]", NUL, 1),
]


@pytest.mark.parametrize("case", JSON_CASES, ids=[c[0] for c in JSON_CASES])
async def test_the_json_gate_route_refuses_them_the_same_way(api, case):
    _, body, where, char, index = case
    await prioritized_journey(api, "j1")
    before = await api.head()
    response = await _post(api, "/gate/evaluate", body, "ci")
    assert response.status_code == 400, response.text
    error = response.json()["errors"][0]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": where}
    assert error["message"] == f"{where} {_why(char, index)}"
    assert await api.head() == before


async def test_a_lone_surrogate_is_refused_as_json_already(api):
    """JSON with an unpaired surrogate escape is not text: both routes' parser (orjson)
    refuses the body before anything reads it (and so does the websocket's, see
    tests/api/test_websocket.py); the rule refuses one wherever a parser lets it through."""
    await prioritized_journey(api, "j1")
    before = await api.head()
    graphql = await _post(api, "/graphql", {"query": _mutation("proposeJourney", "replayed"),
                                            "variables": {"input": journey_input("j2", owner=f"x{SURROGATE}")}}, "admin")
    assert graphql.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    gate = await _post(api, "/gate/evaluate", {**GATE, "service": f"pay{SURROGATE}"}, "ci")
    assert gate.status_code == 400 and gate.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert await api.head() == before


async def test_tab_and_newline_are_text(api):
    """The rule refuses only what it names: tab and newline go through, as before."""
    payload = await api.mutate("proposeJourney", journey_input("j-tab", description="line one\n\tline two"),
                               role="product")
    assert payload["journey"]["id"] == "j-tab"
