"""The app end to end over ASGI: auth, error shape, limits, health, metrics, request ids."""

from __future__ import annotations

import logging
import re
import uuid

import httpx
import pytest

from api.auth import create_token, revoke_token
from api.http import create_app

from .conftest import NOW, TEST_SETTINGS, FakeContainer, codes, make_schema

VIEWER = "{ viewer { actor roles correlationId } }"


# --- authentication -----------------------------------------------------------


async def test_no_token_is_401_unauthenticated(env):
    r = await env.client.post("/graphql", json={"query": VIEWER})
    assert r.status_code == 401
    assert codes(r) == ["UNAUTHENTICATED"]
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert r.headers["content-type"].startswith("application/json")


@pytest.mark.parametrize(
    "header",
    [
        "Bearer slg_" + "A" * 43,  # well formed, unknown
        "Bearer not-a-token",
        "Basic dXNlcjpwYXNz",
        "Bearer",
    ],
)
async def test_bad_token_is_401(env, header):
    r = await env.client.post("/graphql", json={"query": VIEWER}, headers={"Authorization": header})
    assert r.status_code == 401
    assert codes(r) == ["UNAUTHENTICATED"]
    assert "data" not in r.json()


async def test_revoked_token_is_refused_after_cache_expiry(env):
    # env's verifier has ttl 0: revocation is visible on the next request.
    assert (await env.gql(VIEWER)).status_code == 200
    assert await revoke_token(env.engine, env.token_id, NOW) is True
    r = await env.gql(VIEWER)
    assert r.status_code == 401
    assert codes(r) == ["UNAUTHENTICATED"]
    assert 'error="invalid_token"' in r.headers["www-authenticate"]


async def test_viewer_returns_actor_and_roles(env):
    r = await env.gql(VIEWER)
    assert r.status_code == 200
    body = r.json()
    assert "errors" not in body
    assert body["data"]["viewer"]["actor"] == "alice@example.com"
    assert body["data"]["viewer"]["roles"] == ["product", "sre"]


async def test_another_token_is_another_principal(env):
    _, ci_token = await create_token(env.engine, "deploy-bot", ["ci"], NOW)
    r = await env.gql(VIEWER, token=ci_token)
    assert r.json()["data"]["viewer"] == {
        "actor": "deploy-bot",
        "roles": ["ci"],
        "correlationId": r.headers["x-request-id"],
    }


async def test_lowercase_bearer_scheme_is_accepted(env):
    r = await env.client.post(
        "/graphql", json={"query": VIEWER}, headers={"Authorization": f"bearer {env.token}"}
    )
    assert r.status_code == 200


# --- error shape ----------------------------------------------------------------


async def test_not_found_surfaces_with_code_and_details(env):
    r = await env.gql("{ missing }")
    assert r.status_code == 200
    (error,) = r.json()["errors"]
    assert error["message"] == "Journey j-1 not found"
    assert error["extensions"] == {"code": "NOT_FOUND", "journey_id": "j-1"}
    assert error["path"] == ["missing"]


async def test_conflict_and_policy_violation_codes(env):
    r = await env.gql("{ stale }")
    (error,) = r.json()["errors"]
    assert error["extensions"] == {"code": "CONFLICT", "expected_version": 3, "actual_version": 4}
    r = await env.gql("{ gated }")
    (error,) = r.json()["errors"]
    assert error["extensions"]["code"] == "POLICY_VIOLATION"
    assert error["extensions"]["at"] == NOW.isoformat()


async def test_forbidden_from_require_roles(env):
    r = await env.gql("{ adminOnly }")
    (error,) = r.json()["errors"]
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert error["extensions"]["required_roles"] == ["admin"]


async def test_unexpected_exception_is_masked_and_logged(env, caplog):
    caplog.set_level(logging.ERROR, logger="slogov.api.errors")
    r = await env.gql("{ boom viewer { actor } }")
    assert r.status_code == 200
    body = r.json()
    (error,) = body["errors"]
    assert error["message"] == "Internal server error"
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR"}
    assert "secret detail" not in r.text
    assert "Traceback" not in r.text
    assert "RuntimeError" not in r.text
    # the rest of the query still resolves
    assert body["data"]["viewer"]["actor"] == "alice@example.com"
    # ...and the server log has the real exception, with the correlation id
    records = [rec for rec in caplog.records if rec.name == "slogov.api.errors"]
    assert records and records[0].exc_info[1].args == ("secret detail",)
    assert r.headers["x-request-id"] in records[0].getMessage()


@pytest.mark.parametrize("query", ["{ viewer { actor ", "query {", "}}}", "{ viewer(: 1) }"])
async def test_malformed_query_is_bad_user_input(env, query):
    r = await env.gql(query)
    assert r.status_code == 200
    assert codes(r) == ["BAD_USER_INPUT"]
    assert "Syntax Error" in r.json()["errors"][0]["message"]


async def test_unknown_field_is_bad_user_input(env):
    r = await env.gql("{ viewer { actor password } }")
    assert codes(r) == ["BAD_USER_INPUT"]
    assert "password" in r.json()["errors"][0]["message"]


async def test_wrong_argument_type_is_bad_user_input(env):
    r = await env.gql('{ item(id: "abc") }')
    assert codes(r) == ["BAD_USER_INPUT"]
    assert r.json()["data"] is None


async def test_wrong_variable_type_is_bad_user_input(env):
    r = await env.gql("query Q($id: Int!) { item(id: $id) }", variables={"id": "abc"})
    assert codes(r) == ["BAD_USER_INPUT"]
    r = await env.gql("query Q($id: Int!) { item(id: $id) }", variables={})
    assert codes(r) == ["BAD_USER_INPUT"]
    r = await env.gql("query Q($id: Int!) { item(id: $id) }", variables={"id": 7})
    assert r.json() == {"data": {"item": "item-7"}}


async def test_malformed_http_requests_keep_the_error_shape(env):
    r = await env.client.post(
        "/graphql", content=b"{not json", headers={**env.auth, "content-type": "application/json"}
    )
    assert r.status_code == 400
    assert codes(r) == ["BAD_USER_INPUT"]
    r = await env.client.post("/graphql", json={}, headers=env.auth)
    assert r.status_code == 400
    assert codes(r) == ["BAD_USER_INPUT"]
    r = await env.client.put("/graphql", json={"query": VIEWER}, headers=env.auth)
    assert r.status_code == 405
    assert codes(r) == ["BAD_USER_INPUT"]
    r = await env.client.get("/nowhere", headers=env.auth)
    assert r.status_code == 404
    assert codes(r) == ["NOT_FOUND"]


async def test_oversized_body_is_refused(env):
    r = await env.client.post(
        "/graphql",
        content=b"{" + b" " * (5 * 1024 * 1024) + b"}",
        headers={**env.auth, "content-type": "application/json"},
    )
    assert r.status_code == 413


async def test_query_via_get_with_token(env):
    r = await env.client.get("/graphql", params={"query": "{ item(id: 2) }"}, headers=env.auth)
    assert r.json() == {"data": {"item": "item-2"}}


# --- cost limits ------------------------------------------------------------------


async def test_query_deeper_than_limit_is_refused(env):
    assert TEST_SETTINGS.max_query_depth == 4
    ok = await env.gql("{ node { child { child { name } } } }")
    assert ok.json() == {"data": {"node": {"child": {"child": {"name": "n"}}}}}
    r = await env.gql("{ node { child { child { child { child { name } } } } } }")
    assert codes(r) == ["BAD_USER_INPUT"]
    assert "exceeds maximum operation depth" in r.json()["errors"][0]["message"]
    assert r.json()["data"] is None


async def test_depth_limit_sees_through_fragments(env):
    r = await env.gql(
        "query { node { ...F } } fragment F on Node { child { child { child { child { name } } } } }"
    )
    assert codes(r) == ["BAD_USER_INPUT"]


async def test_too_many_aliases_is_refused(env):
    ok = await env.gql("{ a: item(id: 1) b: item(id: 2) c: item(id: 3) }")
    assert "errors" not in ok.json()
    r = await env.gql("{ a: item(id: 1) b: item(id: 2) c: item(id: 3) d: item(id: 4) }")
    assert codes(r) == ["BAD_USER_INPUT"]
    assert "aliases" in r.json()["errors"][0]["message"]


async def test_too_many_tokens_is_refused(env):
    query = "{ " + " ".join(f"f{i}: __typename" for i in range(100)) + " }"
    r = await env.gql(query)
    assert codes(r) == ["BAD_USER_INPUT"]
    assert "tokens" in r.json()["errors"][0]["message"]


async def test_deep_nesting_does_not_crash_the_parser(env):
    query = "{" * 150 + "}" * 150
    r = await env.gql(query)
    assert r.status_code == 200
    assert codes(r) == ["BAD_USER_INPUT"]


INTROSPECTION = "{ __schema { queryType { name } } }"


async def test_introspection_allowed_when_enabled(env_open):
    r = await env_open.gql(INTROSPECTION)
    assert r.json() == {"data": {"__schema": {"queryType": {"name": "Query"}}}}


async def test_introspection_refused_when_disabled(env_closed):
    r = await env_closed.gql(INTROSPECTION)
    assert set(codes(r)) == {"BAD_USER_INPUT"}
    assert r.json()["data"] is None
    assert "introspection" in r.json()["errors"][0]["message"].lower()
    r = await env_closed.gql("{ __type(name: \"Query\") { name } }")
    assert set(codes(r)) == {"BAD_USER_INPUT"}
    assert r.json()["data"] is None
    # __typename is not introspection
    r = await env_closed.gql("{ __typename }")
    assert r.json() == {"data": {"__typename": "Query"}}


async def test_field_suggestions_hidden_when_introspection_disabled(env_closed, env_open):
    closed = await env_closed.gql("{ viewr { actor } }")
    assert "Did you mean" not in closed.text
    opened = await env_open.gql("{ viewr { actor } }")
    assert "Did you mean" in opened.text


# --- GraphiQL -----------------------------------------------------------------------


async def test_graphiql_page_needs_no_token_when_enabled(env_open):
    r = await env_open.client.get("/graphql", headers={"Accept": "text/html"})
    assert r.status_code == 200
    assert "graphiql" in r.text.lower()


async def test_graphiql_page_loads_every_asset_from_this_server(env_open):
    """No CDN: every script and stylesheet the page names is served here, without a token.
    (tests/api/test_graphiql_browser.py renders it in Chromium with the network cut off.)"""
    page = (await env_open.client.get("/graphql", headers={"Accept": "text/html"})).text
    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert assets and all(a.startswith("graphiql/") for a in assets), assets
    for asset in assets:
        r = await env_open.client.get("/" + asset)
        assert r.status_code == 200 and len(r.content) > 500, asset
    assert (await env_open.client.get("/graphiql/nothing-here.js")).status_code == 404


async def test_graphiql_disabled_needs_token_and_is_not_found(env_closed):
    r = await env_closed.client.get("/graphql", headers={"Accept": "text/html"})
    assert r.status_code == 401
    r = await env_closed.client.get("/graphql", headers={"Accept": "text/html", **env_closed.auth})
    assert r.status_code == 404
    assert codes(r) == ["NOT_FOUND"]
    assert (await env_closed.client.get("/graphiql/graphiql.min.js")).status_code == 401
    assert (await env_closed.client.get("/graphiql/graphiql.min.js", headers=env_closed.auth)).status_code == 404


async def test_get_with_query_and_html_accept_still_needs_token(env_open):
    r = await env_open.client.get(
        "/graphql", params={"query": VIEWER}, headers={"Accept": "text/html"}
    )
    assert r.status_code == 401


# --- health, readiness, metrics -------------------------------------------------------


async def test_healthz_and_readyz_need_no_token(env):
    r = await env.client.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}
    r = await env.client.get("/readyz")
    assert r.status_code == 200
    assert r.json() == {"status": "ready"}


class _DownEngine:
    """Stands in for an AsyncEngine whose database is unreachable.

    (A real aiosqlite engine on a missing directory works too, but aiosqlite's
    failed-connect cleanup races the test loop's shutdown.)
    """

    def connect(self):
        raise OSError("unable to open database file /secret/path/slogov.db")


class _DownVerifier:
    async def verify(self, token):
        raise OSError("unable to open database file /secret/path/slogov.db")


async def test_readyz_is_503_when_the_database_is_unreachable():
    container = FakeContainer(TEST_SETTINGS, _DownEngine(), _DownVerifier())  # type: ignore[arg-type]
    app = create_app(make_schema(TEST_SETTINGS), container)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        r = await c.get("/readyz")
        assert r.status_code == 503
        assert r.json() == {"status": "unavailable", "reason": "database unavailable (OSError)"}
        assert (await c.get("/healthz")).status_code == 200
        # the verifier's database is down too: no token gets in, and nothing leaks
        r = await c.get("/metrics", headers={"Authorization": "Bearer slg_" + "x" * 43})
        assert r.status_code == 503
        assert codes(r) == ["INTERNAL_SERVER_ERROR"]
        assert "secret" not in r.text


async def test_readyz_is_503_while_shutting_down(env):
    env.app.state.shutting_down = True
    r = await env.client.get("/readyz")
    assert r.status_code == 503
    assert r.json()["reason"] == "shutting down"


async def test_lifespan_runs_container_startup_and_shutdown(tmp_path):
    from .conftest import build_env

    gen = build_env(tmp_path)
    e = await gen.__anext__()
    assert e.container.started == 1 and e.container.stopped == 0
    await gen.aclose()
    assert e.container.stopped == 1


async def test_metrics_needs_a_token(env):
    r = await env.client.get("/metrics")
    assert r.status_code == 401
    assert codes(r) == ["UNAUTHENTICATED"]


async def test_metrics_with_token_shows_request_counters(env):
    _, auditor = await create_token(env.engine, "auditor-1", ["auditor"], NOW)
    await env.gql(VIEWER)
    await env.gql("{ missing }")
    await env.client.post("/graphql", json={"query": VIEWER})  # 401
    r = await env.client.get("/metrics", headers={"Authorization": f"Bearer {auditor}"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    text = r.text
    assert "slogov_http_requests_total" in text
    assert (
        'slogov_http_requests_total{operation_type="query",outcome="ok",route="/graphql"} 1.0'
        in text
    )
    assert (
        'slogov_http_requests_total{operation_type="query",outcome="NOT_FOUND",route="/graphql"} 1.0'
        in text
    )
    assert (
        'slogov_http_requests_total{operation_type="none",outcome="UNAUTHENTICATED",route="/graphql"} 1.0'
        in text
    )
    assert "slogov_http_request_duration_seconds_bucket" in text
    assert "slogov_commands_total" in text or "# HELP slogov_commands" in text
    assert "slogov_group_commit_batch_size" in text


# --- request ids ------------------------------------------------------------------------


async def test_request_id_is_echoed_and_reaches_the_context(env):
    r = await env.gql(VIEWER, headers={"X-Request-Id": "deploy-42.abc"})
    assert r.headers["x-request-id"] == "deploy-42.abc"
    assert r.json()["data"]["viewer"]["correlationId"] == "deploy-42.abc"


async def test_request_id_generated_when_missing_or_unsafe(env):
    r = await env.client.get("/healthz")
    uuid.UUID(r.headers["x-request-id"])
    r = await env.client.get("/healthz", headers={"X-Request-Id": "bad id\twith spaces"})
    assert r.headers["x-request-id"] != "bad id\twith spaces"
    uuid.UUID(r.headers["x-request-id"])
    r = await env.client.get("/healthz", headers={"X-Request-Id": "x" * 101})
    uuid.UUID(r.headers["x-request-id"])
    # also on refusals
    r = await env.client.post("/graphql", json={"query": VIEWER}, headers={"X-Request-Id": "r-1"})
    assert r.status_code == 401
    assert r.headers["x-request-id"] == "r-1"


async def test_subscriptions_over_plain_http_are_refused(env):
    r = await env.gql("subscription { ticks }")
    assert r.status_code == 400
    assert codes(r) == ["BAD_USER_INPUT"]
    assert "websocket" in r.json()["errors"][0]["message"]


async def test_mutation_over_get_is_refused(env):
    r = await env.client.get("/graphql", params={"query": "mutation { x }"}, headers=env.auth)
    assert r.status_code == 400
    assert codes(r) == ["BAD_USER_INPUT"]
