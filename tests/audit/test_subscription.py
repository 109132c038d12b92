"""The live `events` subscription over graphql-transport-ws, with the same authentication."""

from __future__ import annotations

import asyncio
import time
import warnings
from datetime import datetime, timezone

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from api.auth import create_token
from api.http import create_app
from api.schema import build_schema
from eventstore.engine import create_engines
from service.bootstrap import build
from tests.graphql.conftest import journey_input

PROTOCOL = "graphql-transport-ws"
PROPOSE = """mutation($input: ProposeJourneyInput!) { proposeJourney(input: $input) { events { position } } }"""
SUBSCRIBE = """subscription($filter: EventFilter, $after: Int) { events(filter: $filter, after: $after) {
  position type streamId actor role correlationId hash prevHash causes { type } } }"""


@pytest.fixture
def live(settings):
    async def tokens():
        engines = create_engines(settings.database_url)
        try:
            now = datetime.now(timezone.utc)
            return {role: (await create_token(engines.write, f"{role}-person", [role], now))[1]
                    for role in ("product", "auditor")}
        finally:
            await engines.dispose()

    issued = asyncio.run(tokens())
    # The container is built here but started, used and stopped on the TestClient's loop.
    container = build(settings, auto_migrate=False)
    with TestClient(create_app(build_schema(settings), container)) as client:
        yield client, issued


def post(client, token, query, variables=None, request_id=None):
    headers = {"Authorization": f"Bearer {token}"}
    if request_id:
        headers["X-Request-Id"] = request_id
    body = client.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers).json()
    assert not body.get("errors"), body
    return body["data"]


def test_a_mutations_event_arrives(live):
    client, tokens = live
    first = post(client, tokens["product"], PROPOSE, {"input": journey_input("search")})
    head = first["proposeJourney"]["events"][-1]["position"]
    with client.websocket_connect("/graphql", subprotocols=[PROTOCOL]) as ws:
        ws.send_json({"type": "connection_init", "payload": {"Authorization": f"Bearer {tokens['auditor']}"}})
        assert ws.receive_json()["type"] == "connection_ack"
        ws.send_json({"id": "1", "type": "subscribe", "payload": {
            "query": SUBSCRIBE, "variables": {"filter": {"streamId": "journey-checkout"}, "after": head}}})
        post(client, tokens["product"], PROPOSE, {"input": journey_input("other")})  # filtered out
        appended = post(client, tokens["product"], PROPOSE, {"input": journey_input("checkout")},
                        request_id="req-live-1")
        message = ws.receive_json()
        assert message["type"] == "next", message
        event = message["payload"]["data"]["events"]
        assert event["position"] == appended["proposeJourney"]["events"][0]["position"]
        assert event["type"] == "JourneyProposed" and event["streamId"] == "journey-checkout"
        assert event["actor"] == "product-person" and event["role"] == "product"
        assert event["correlationId"] == "req-live-1" and event["causes"] == []
        ws.send_json({"id": "1", "type": "complete"})

        # Without `after`: from the head at subscription time, every stream.
        ws.send_json({"id": "2", "type": "subscribe", "payload": {"query": SUBSCRIBE}})
        # The subscription reads the head when it starts: let it start (a query sent after it
        # is answered once the server has taken the subscribe message), then give it a moment.
        ws.send_json({"id": "q", "type": "subscribe", "payload": {"query": "{ viewer { actor } }"}})
        while True:
            message = ws.receive_json()
            if message.get("id") == "q" and message["type"] == "complete":
                break
        time.sleep(0.3)
        post(client, tokens["product"], PROPOSE, {"input": journey_input("later")})
        message = ws.receive_json()
        assert message["id"] == "2" and message["payload"]["data"]["events"]["streamId"] == "journey-later"
        ws.send_json({"id": "2", "type": "complete"})


@pytest.mark.parametrize("payload", [{}, {"token": "slg_" + "z" * 43}, {"Authorization": "Bearer nope"}])
def test_no_token_is_rejected(live, payload):
    client, _ = live
    with client.websocket_connect("/graphql", subprotocols=[PROTOCOL]) as ws:
        ws.send_json({"type": "connection_init", "payload": payload})
        with pytest.raises(WebSocketDisconnect) as exc:
            ws.receive_json()
    assert exc.value.code == 4401


def test_not_over_plain_http(live):
    client, tokens = live
    body = client.post("/graphql", json={"query": SUBSCRIBE},
                       headers={"Authorization": f"Bearer {tokens['auditor']}"}).json()
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
