"""graphql-transport-ws: the token comes in connection_init (or the header)."""

from __future__ import annotations

import asyncio
import warnings

import pytest
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

with warnings.catch_warnings():
    # Starlette 1.x prefers httpx2 for its TestClient; httpx still works.
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from api.auth import TokenVerifier, auth_metadata, create_token
from api.http import create_app

from .conftest import NOW, TEST_SETTINGS, FakeContainer, make_schema

PROTOCOL = "graphql-transport-ws"
SUBSCRIBE = {
    "id": "1",
    "type": "subscribe",
    "payload": {"query": "subscription { ticks(count: 2) }"},
}


@pytest.fixture
def ws_env(tmp_path):
    # NullPool: the app runs on TestClient's own event loop, not this one.
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path}/ws.db", poolclass=NullPool)

    async def setup():
        async with engine.begin() as conn:
            await conn.run_sync(auth_metadata.create_all)
        return await create_token(engine, "carol", ["engineering"], NOW)

    _, token = asyncio.run(setup())
    container = FakeContainer(TEST_SETTINGS, engine, TokenVerifier(engine, ttl_seconds=0))
    app = create_app(make_schema(TEST_SETTINGS), container)
    with TestClient(app) as client:
        yield client, token, container
    asyncio.run(engine.dispose())


def _run_subscription(ws) -> list:
    ws.send_json(SUBSCRIBE)
    messages = []
    while True:
        message = ws.receive_json()
        messages.append(message)
        if message["type"] in ("complete", "error"):
            return messages


@pytest.mark.parametrize(
    "payload_key, value",
    [("Authorization", "Bearer {token}"), ("authorization", "Bearer {token}"), ("token", "{token}")],
)
def test_token_in_connection_init(ws_env, payload_key, value):
    client, token, container = ws_env
    with client.websocket_connect("/graphql", subprotocols=[PROTOCOL]) as ws:
        ws.send_json({"type": "connection_init", "payload": {payload_key: value.format(token=token)}})
        assert ws.receive_json()["type"] == "connection_ack"
        messages = _run_subscription(ws)
    assert [m["payload"]["data"]["ticks"] for m in messages if m["type"] == "next"] == [
        "carol:0",
        "carol:1",
    ]
    assert container.metrics.websocket_connections._value.get() == 0


def test_token_in_header(ws_env):
    client, token, _ = ws_env
    with client.websocket_connect(
        "/graphql", subprotocols=[PROTOCOL], headers={"Authorization": f"Bearer {token}"}
    ) as ws:
        ws.send_json({"type": "connection_init"})
        assert ws.receive_json()["type"] == "connection_ack"
        assert _run_subscription(ws)[-1]["type"] == "complete"


@pytest.mark.parametrize(
    "payload",
    [{}, {"token": "slg_" + "z" * 43}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer nope"}],
)
def test_connection_without_a_valid_token_is_closed_as_unauthorized(ws_env, payload):
    """4401, which graphql-transport-ws clients take as "authenticate"; 4403 would say "not allowed"."""
    client, _, _ = ws_env
    with client.websocket_connect("/graphql", subprotocols=[PROTOCOL]) as ws:
        ws.send_json({"type": "connection_init", "payload": payload})
        with pytest.raises(WebSocketDisconnect) as exc:
            ws.receive_json()
    assert (exc.value.code, exc.value.reason) == (4401, "Unauthorized")


def test_a_token_that_cannot_be_checked_closes_with_an_internal_error(ws_env, monkeypatch):
    client, token, container = ws_env

    async def unavailable(token):
        raise OSError("database down")

    monkeypatch.setattr(container.verifier, "verify", unavailable)
    for headers, payload in (({}, {"token": token}), ({"Authorization": f"Bearer {token}"}, {})):
        with client.websocket_connect("/graphql", subprotocols=[PROTOCOL], headers=headers) as ws:
            ws.send_json({"type": "connection_init", "payload": payload})
            with pytest.raises(WebSocketDisconnect) as exc:
                ws.receive_json()
        assert exc.value.code == 4500


def test_bad_payload_token_is_refused_even_with_good_header(ws_env):
    client, token, _ = ws_env
    with client.websocket_connect(
        "/graphql", subprotocols=[PROTOCOL], headers={"Authorization": f"Bearer {token}"}
    ) as ws:
        ws.send_json({"type": "connection_init", "payload": {"token": "slg_" + "z" * 43}})
        with pytest.raises(WebSocketDisconnect) as exc:
            ws.receive_json()
    assert exc.value.code == 4401


def test_subscribe_before_init_is_refused(ws_env):
    client, _, _ = ws_env
    with client.websocket_connect("/graphql", subprotocols=[PROTOCOL]) as ws:
        ws.send_json(SUBSCRIBE)
        with pytest.raises(WebSocketDisconnect) as exc:
            ws.receive_json()
    assert exc.value.code == 4401


def test_errors_over_websocket_have_codes(ws_env):
    client, token, _ = ws_env
    with client.websocket_connect("/graphql", subprotocols=[PROTOCOL]) as ws:
        ws.send_json({"type": "connection_init", "payload": {"token": token}})
        assert ws.receive_json()["type"] == "connection_ack"
        ws.send_json({"id": "q", "type": "subscribe", "payload": {"query": "{ boom missing }"}})
        message = ws.receive_json()
        assert message["type"] == "next"
        errors = message["payload"]["errors"]
        assert sorted(e["extensions"]["code"] for e in errors) == ["INTERNAL_SERVER_ERROR", "NOT_FOUND"]
        assert "secret detail" not in str(message)
        ws.send_json({"id": "v", "type": "subscribe", "payload": {"query": "subscription { ticks(count: \"x\") }"}})
        message = ws.receive_json()
        while message.get("id") != "v":
            message = ws.receive_json()
        assert message["type"] == "error"
        assert [e["extensions"]["code"] for e in message["payload"]] == ["BAD_USER_INPUT"]


def test_a_lone_surrogate_in_a_subscription_is_refused_before_anything_runs(ws_env):
    """No transport lets an unpaired surrogate through: a websocket message holding one is
    not valid JSON to strawberry (4400), as an HTTP body is not to orjson."""
    client, token, container = ws_env
    with client.websocket_connect("/graphql", subprotocols=[PROTOCOL]) as ws:
        ws.send_json({"type": "connection_init", "payload": {"token": token}})
        assert ws.receive_json()["type"] == "connection_ack"
        ws.send_text('{"id": "1", "type": "subscribe", "payload": {"query": "subscription { ticks(count: 2) }", '
                     '"variables": {"note": "x\\ud800"}}}')
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
    assert closed.value.code == 4400
